"""Exports for accountants, from the database to files, and their history.

``export_to_path`` is the one function the command line (``flask accounting export``) and the
export job (``jobs.accounting``) call. It streams the posted lines from the database
(``reporting.stream_export_lines``, ``yield_per``) into the pure writers of
``backoffice.accounting.exports`` (CSV, XLSX) and ``backoffice.accounting.fec`` (FEC): memory
stays bounded whatever the number of lines.

What an export does:

1. Refuses, with a French message and without writing anything, an unknown format, report or
   encoding, a period with no entries, and (FEC) an organisation without a valid SIREN.
2. FEC only — **never validates an entry**. The FEC of a *closed* fiscal year is
   **definitive**: definitive numbers (given at the closing in date order), the labels kept
   at the closing, its entries validated by the closing; the same bytes at every export (in
   UTF-8 its SHA-256 is checked against the one the closing kept). The FEC of an *open* year
   is **provisional**: posting numbers, today's labels, ValidDate empty for the entries not yet
   validated; its notice and its history row say so. The definitive FEC is the closing itself
   (``closing.close_fiscal_year``, behind its confirmation).
3. Writes the file under ``STORAGE_DIR/<organisation>/accounting/exports/<random>/`` through a
   temporary file renamed on success (the writers do it), and for the FEC its description
   notice next to it; then copies both to ``path`` if one is given (the command line: the
   notice beside the file, ``<name>_notice.txt``).
4. Records an ``ExportRecord`` (date, author, period, format, definitive or provisional,
   SHA-256, file).

It flushes and does not commit: the caller commits once. An error inside ``export_to_path`` removes what it wrote; a rollback
by the caller *after* it returned leaves the stored copy without a history row (never served,
since downloads go through the history).
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from backoffice.accounting import reporting
from backoffice.accounting.exports import (  # noqa: F401  (the headers, for callers and tests)
    AUX_BALANCE_HEADER,
    AUX_LEDGER_HEADER,
    JOURNAL_HEADER,
    LEDGER_HEADER,
    TRIAL_BALANCE_HEADER,
    ExportError,
    Sheet,
    atomic_binary_file,
    auxiliary_balance_rows,
    auxiliary_ledger_rows,
    general_ledger_rows,
    trial_balance_rows,
    write_csv,
    write_xlsx,
)
from backoffice.accounting import closing as closings, rules
from backoffice.accounting.fec import NoticeBooks, fec_filename, fec_notice, write_fec_file
from backoffice.accounting.models import ExportRecord, Journal, Ledger
from backoffice.accounting.services import (
    AccountingError,
    collective_numbers,
    has_entries,
)
from backoffice.audit.services import current_actor_id
from backoffice.extensions import db
from backoffice.models import utcnow
from backoffice.organisations.storage import file_sha256

FORMATS = {"fec": "FEC (fichier des écritures comptables)", "csv": "CSV (tableur)", "xlsx": "XLSX (Excel)"}
REPORTS = {"journal": "Journal", "ledger": "Grand livre", "balance": "Balance",
           "aux_balance": "Balance auxiliaire", "aux_ledger": "Grand livre auxiliaire"}
REPORT_SLUGS = {"journal": "journal", "ledger": "grand-livre", "balance": "balance",
                "aux_balance": "balance-auxiliaire", "aux_ledger": "grand-livre-auxiliaire"}
XLSX_ALL = "all"

#: Encodings offered per format → codec name given to the writer.
ENCODINGS = {
    "fec": {"utf-8": "utf-8", "iso-8859-15": "iso8859-15", "iso8859-15": "iso8859-15", "latin-9": "iso8859-15"},
    "csv": {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "utf-8-nobom": "utf-8", "cp1252": "cp1252",
            "windows-1252": "cp1252"},
    "xlsx": {"utf-8": "utf-8"},
}
DEFAULT_ENCODING = {"fec": "utf-8", "csv": "utf-8", "xlsx": "utf-8"}


def storage_root():
    return Path(current_app.config["STORAGE_DIR"])


def export_dir(organisation):
    return storage_root() / str(int(organisation.id)) / "accounting" / "exports"


def absolute(stored_path):
    """The absolute path of a stored file, refusing anything outside ``STORAGE_DIR``."""
    root = storage_root().resolve()
    path = (root / stored_path).resolve()
    if root not in path.parents:
        raise AccountingError("Chemin de fichier invalide.")
    return path


def _period(organisation, year, start, end, fmt):
    first, last = organisation.fiscal_year_bounds(int(year))
    if fmt == "fec":
        if (start and start != first) or (end and end != last):
            raise AccountingError("Le FEC porte toujours sur un exercice entier.", "period")
        return first, last
    start, end = start or first, end or last
    if start > end:
        raise AccountingError("La date de début de la période est postérieure à sa date de fin.", "period")
    return start, end


def export_filename(organisation, year, fmt, report, start, end):
    """``<SIREN>FEC<closing date>.txt`` for the FEC; ``<slug>-<report>-<start>-<end>.<ext>``
    otherwise."""
    if fmt == "fec":
        try:
            return fec_filename(organisation.siren or "", end)
        except ExportError:
            raise AccountingError(
                f"Le SIREN de {organisation.name} est absent ou invalide : il est obligatoire pour nommer le "
                "FEC. Renseignez-le dans les paramètres de l'organisation.", "siren") from None
    what = "comptabilite" if report == XLSX_ALL else REPORT_SLUGS[report]
    return f"{organisation.slug}-{what}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"


def _check_options(fmt, report, encoding):
    if fmt not in FORMATS:
        raise AccountingError(f"Format d'export inconnu : « {fmt} » (fec, csv ou xlsx).", "format")
    if fmt == "fec":
        report = None
    elif report is None:
        report = XLSX_ALL if fmt == "xlsx" else "journal"
    elif report not in REPORTS and not (fmt == "xlsx" and report == XLSX_ALL):
        raise AccountingError(f"État inconnu : « {report} » ({', '.join(REPORTS)}).", "report")
    encoding = (encoding or DEFAULT_ENCODING[fmt]).lower()
    codec = ENCODINGS[fmt].get(encoding)
    if codec is None:
        raise AccountingError(
            f"Encodage « {encoding} » impossible pour un export {fmt.upper()} "
            f"(choix : {', '.join(sorted(ENCODINGS[fmt]))}).", "encoding")
    return report, codec


def check_export(organisation, year, fmt, report=None, encoding=None, start=None, end=None):
    """Everything an export refuses before writing a byte (unknown format, report or encoding,
    a FEC not on a whole fiscal year, a period without entries, a FEC without a valid SIREN).
    Returns ``(report, codec, start, end, filename)``; raises ``AccountingError``. The export
    form calls it too, so that the user reads the refusal at once rather than in a failed task."""
    report, codec = _check_options(fmt, report, encoding)
    start, end = _period(organisation, year, start, end, fmt)
    if not has_entries(organisation, start, end):
        raise AccountingError(
            f"Aucune écriture du {start:%d/%m/%Y} au {end:%d/%m/%Y} : rien n'a été exporté.", "year")
    return report, codec, start, end, export_filename(organisation, year, fmt, report, start, end)


def _progress(rows, total, callback, every=2000):
    """``rows`` as they are without a callback; otherwise reporting every ``every`` rows."""
    if callback is None:
        return rows
    return _reporting(rows, total, callback, every)


def _reporting(rows, total, callback, every):
    done = 0
    for row in rows:
        done += 1
        if done % every == 0:
            callback(done, total, "Lignes exportées")
        yield row
    callback(done, total, "Lignes exportées")


def _report_table(organisation, report, start, end, progress, total):
    """``(title, header, rows)`` of a CSV/XLSX report (every one but the journal streams from
    ``reporting``; the ledgers carry the balances brought into a period that starts after the
    first day of its fiscal year)."""
    def lines(order):
        return _progress(reporting.stream_export_lines(organisation, start, end, order), total, progress)

    opening_label = f"Solde au {start:%d/%m/%Y}"
    if report == "journal":
        return REPORTS[report], JOURNAL_HEADER, lines("entry")
    if report == "ledger":
        return REPORTS[report], LEDGER_HEADER, general_ledger_rows(
            lines("account"), reporting.carried_balances(organisation, start), opening_label)
    if report == "aux_ledger":
        return REPORTS[report], AUX_LEDGER_HEADER, auxiliary_ledger_rows(
            lines("auxiliary"), reporting.carried_balances(organisation, start, by_auxiliary=True), opening_label)
    if report == "aux_balance":
        return REPORTS[report], AUX_BALANCE_HEADER, auxiliary_balance_rows(
            reporting.auxiliary_balance_rows(organisation, start, end))
    return REPORTS[report], TRIAL_BALANCE_HEADER, trial_balance_rows(
        reporting.balance_export_rows(organisation, start, end))


def _sheets(organisation, report, start, end, progress, total):
    wanted = ("journal", "ledger", "balance") if report == XLSX_ALL else (report,)
    for name in wanted:
        yield Sheet(*_report_table(organisation, name, start, end, progress, total))


def export_to_path(organisation, year, fmt, path=None, report=None, encoding=None, user=None, start=None,
                   end=None, origin="cli", task_id=None, progress=None):
    """Export the fiscal year starting in ``year`` (or ``start``–``end`` within it, CSV and
    XLSX) as ``fmt`` (``fec``, ``csv``, ``xlsx``); ``report`` is ``journal``, ``ledger`` or
    ``balance`` (XLSX also ``all``, its default: three sheets); ``encoding``: FEC ``utf-8``
    (default) or ``iso-8859-15``; CSV ``utf-8`` (with BOM, default) or ``cp1252``.

    ``path``: a file, or an existing directory (the standard file name is used inside it), that
    receives a copy; ``None`` keeps only the stored copy. ``progress(done, total, message)`` is
    called while lines are written. Returns the ``ExportRecord``; raises ``AccountingError``
    (French message) with nothing written. See the module docstring."""
    report, codec, start, end, filename = check_export(organisation, year, fmt, report, encoding, start, end)
    folder = export_dir(organisation) / secrets.token_urlsafe(12)
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / filename
    target = None
    if path is not None:
        target = Path(path)
        if target.is_dir():
            target = target / filename
    written = []
    try:
        record = _write(organisation, int(year), fmt, report, codec, start, end, stored, filename, user, progress,
                        written)
        if target is not None:
            _copy(stored, target, written)
            record.output_path = str(target.resolve())
            if record.notice_path:
                _copy(absolute(record.notice_path), notice_path_for(target), written)
        record.origin, record.task_id = origin, task_id
        db.session.add(record)
        db.session.flush()
    except ExportError as error:
        _remove(written, folder)
        raise AccountingError(str(error)) from None
    except BaseException:
        _remove(written, folder)
        raise
    return record


def _copy(source_path, target, written):
    with open(source_path, "rb") as source, atomic_binary_file(target) as copy:
        shutil.copyfileobj(source, copy, 1 << 20)
    written.append(target)


def notice_path_for(path):
    """The notice beside a FEC: ``<SIREN>FEC<date>_notice.txt``."""
    path = Path(path)
    return path.with_name(path.stem + "_notice.txt")


def software_version():
    """The version of Maillage (``pyproject.toml``), for the notice."""
    import tomllib

    try:
        with open(Path(__file__).resolve().parents[2] / "pyproject.toml", "rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, ValueError):
        return None


AUXILIARY_NUMBERING = (
    "un compte auxiliaire par tiers et par compte collectif, numéroté d'une lettre puis du numéro du tiers "
    "sur six chiffres (A000042 : adhérent sur 411 ; T : bénéficiaire d'une aide sur 467 ; S : associé sur 455 ; "
    "F : fournisseur sur 401 ; P : salarié sur 421), complété de -2, -3… si le tiers a plusieurs comptes ; "
    "CompAuxNum et CompAuxLib ne figurent que sur les comptes collectifs.")

VALIDATION_POLICY = (
    "une écriture est enregistrée équilibrée, numérotée sans rupture par exercice (numéro d'enregistrement) et "
    "aussitôt figée : la base de données refuse toute modification ou suppression, une erreur se corrige par une "
    "écriture de contre-passation. La clôture d'un mois interdit d'y enregistrer. La clôture de l'exercice, "
    "irréversible, valide toutes ses écritures (ValidDate), leur donne leur numéro définitif dans l'ordre "
    "chronologique des dates d'écriture (EcritureNum du FEC définitif), fige le lettrage et les libellés, et "
    "conserve l'empreinte SHA-256 du FEC définitif ; la base de données refuse ensuite toute écriture, "
    "modification ou lettrage dans l'exercice. Un FEC d'exercice ouvert est provisoire et ne valide rien.")


def notice_books(organisation, closing=None):
    """What the notice says of the books (``fec.NoticeBooks``)."""
    ledger = db.session.get(Ledger, organisation.id)
    journals = db.session.scalars(select(Journal).where(Journal.organisation_id == organisation.id)
                                  .order_by(Journal.code))
    labels = closing.labels["journals"] if closing is not None and closing.labels else {}
    return NoticeBooks(
        journals=[(j.code, labels.get(j.code, j.label), j.kind_label) for j in journals],
        chart=rules.CHARTS.get(ledger.chart, ledger.chart) if ledger is not None else "",
        auxiliary_numbering=AUXILIARY_NUMBERING, validation_policy=VALIDATION_POLICY,
        closed_on=closings.paris_date(closing.closed_at) if closing is not None else None,
        closed_sha256=closing.fec_sha256 if closing is not None else None)


def _write(organisation, year, fmt, report, codec, start, end, stored, filename, user, progress, written):
    total = reporting.export_line_count(organisation, start, end) if progress else None
    record = ExportRecord(
        organisation_id=organisation.id, user_id=current_actor_id(user), fiscal_year=year, start_date=start,
        end_date=end, fmt=fmt, report=report, encoding=codec, filename=filename, created_at=utcnow(),
    )
    if fmt == "fec":
        closing = closings.year_closing(organisation, year)
        if closing is not None:
            lines = closings.definitive_lines(organisation, start, end, closing.labels)
        else:
            lines = reporting.stream_export_lines(organisation, start, end, "entry")
        written.append(stored)
        summary = write_fec_file(_progress(lines, total, progress), stored, encoding=codec,
                                 collective_prefixes=collective_numbers(organisation), first_number=1,
                                 period=(start, end), provisional=closing is None)
        if closing is not None and codec == "utf-8" and closing.fec_sha256 \
                and summary.sha256 != closing.fec_sha256:
            raise AccountingError(
                f"Le FEC de l'exercice clôturé ne correspond plus à l'empreinte conservée à sa clôture "
                f"({closing.fec_sha256}) : rien n'a été exporté ; signalez-le à l'assistance.")
        notice = notice_path_for(stored)
        text = fec_notice(summary, producer=organisation.name, siren=organisation.siren, fiscal_year_start=start,
                          fiscal_year_end=end, filename=filename, generated_at=utcnow(),
                          software_version=software_version(), books=notice_books(organisation, closing))
        with atomic_binary_file(notice) as handle:
            handle.write(text.encode("utf-8"))
        written.append(notice)
        record.notice_path = str(notice.relative_to(storage_root()))
        record.definitive = closing is not None
        record.sha256, record.byte_count, record.line_count = summary.sha256, summary.byte_count, summary.line_count
        record.message = (f"FEC {'définitif' if closing is not None else 'provisoire (exercice non clôturé)'} : "
                          f"{summary.entry_count} écritures, {summary.line_count} lignes.")
        if summary.replaced_chars:
            record.message += (f" {summary.replaced_chars} caractère(s) écrit(s) sous leur équivalent "
                               "ISO-8859-15.")
    elif fmt == "csv":
        _, header, rows = _report_table(organisation, report, start, end, progress, total)
        written.append(stored)
        summary = write_csv(rows, header, stored, encoding=codec)
        record.sha256, record.byte_count, record.line_count = summary.sha256, stored.stat().st_size, summary.row_count
        if summary.replaced_chars:
            record.message = (f"{summary.replaced_chars} caractère(s) impossible(s) à écrire en Windows-1252 "
                              "remplacé(s) par « ? ».")
    else:
        written.append(stored)
        counts = write_xlsx(_sheets(organisation, report, start, end, progress, total), stored)
        record.sha256, record.byte_count = file_sha256(stored), stored.stat().st_size
        record.line_count = sum(counts.values())
        record.message = ", ".join(f"{title} : {count} lignes" for title, count in counts.items())
    record.stored_path = str(stored.relative_to(storage_root()))
    return record


def _remove(paths, folder):
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    try:
        folder.rmdir()
    except OSError:
        pass


def history(organisation, limit=50):
    return list(db.session.scalars(select(ExportRecord).where(ExportRecord.organisation_id == organisation.id)
                                   .order_by(ExportRecord.created_at.desc(), ExportRecord.id.desc()).limit(limit)))
