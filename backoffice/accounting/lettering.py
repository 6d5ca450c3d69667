"""Lettering (*lettrage*): matching the lines of an auxiliary account that settle each other,
by hand or automatically. Part of the accounting services (``backoffice.accounting.services``
re-exports it)."""
from __future__ import annotations

import bisect
import collections
from datetime import date
from typing import Iterable

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from backoffice.accounting.books import ensure_ledger, _fr
from backoffice.accounting.closing import last_closed_day, refuse_if_in_closed_year
from backoffice.accounting.rules import OPENING_EVENT
from backoffice.accounting.sources import opening_source
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.models import (
    Account,
    AuxiliaryAccount,
    EntryStatus,
    JournalEntry,
    JournalLine,
    Ledger,
    line_summary,
)
from backoffice.extensions import db
from backoffice.models import ZERO


# --------------------------------------------------------------------------------------------
# Lettering
# --------------------------------------------------------------------------------------------

def lettering_code(n):
    """The ``n``-th lettering code (0-based): AA, AB … AZ, BA … ZZ, AAA, AAB…"""
    width, size = 2, 26 ** 2
    while n >= size:
        n -= size
        width += 1
        size = 26 ** width
    letters = []
    for _ in range(width):
        n, rest = divmod(n, 26)
        letters.append(chr(65 + rest))
    return "".join(reversed(letters))


def _next_lettering_code(organisation):
    ensure_ledger(organisation)
    table = Ledger.__table__
    counter = db.session.execute(
        update(table).where(table.c.organisation_id == organisation.id)
        .values(lettering_counter=table.c.lettering_counter + 1).returning(table.c.lettering_counter)
    ).scalar_one()
    return lettering_code(counter - 1)


def letter_lines(organisation, lines: Iterable[JournalLine], on=None):
    """Letter ``lines`` together (manual lettering): posted lines of the same account and
    auxiliary account, none lettered yet, none in a closed fiscal year, whose debits equal their
    credits. Returns the code. The lettering date is ``on`` (today by default), or the latest
    date of the lettered lines if later (a lettering cannot precede the line that completes it)."""
    lines = list(lines)
    if len(lines) < 2:
        raise AccountingError("Sélectionnez au moins deux lignes à lettrer.", "lines")
    for line in lines:
        if line.organisation_id != organisation.id:
            raise AccountingError("Ligne d'une autre organisation.", "lines")
        if line.entry.status != EntryStatus.POSTED.value:
            raise AccountingError("Seules des lignes comptabilisées peuvent être lettrées.", "lines")
        if line.lettering_code:
            raise AccountingError(f"La ligne de l'écriture {line.entry.reference} est déjà lettrée "
                                  f"({line.lettering_code}).", "lines")
    if len({(line.account_id, line.auxiliary_id) for line in lines}) != 1:
        raise AccountingError("Les lignes à lettrer doivent porter sur le même compte et le même tiers.", "lines")
    debit = sum((line.debit for line in lines), ZERO)
    credit = sum((line.credit for line in lines), ZERO)
    if debit != credit:
        raise AccountingError(
            f"Lettrage impossible : les lignes ne s'équilibrent pas (débits {_fr(debit)}, crédits "
            f"{_fr(credit)}).", "lines")
    refuse_if_in_closed_year(organisation, lines)
    code = _next_lettering_code(organisation)
    # Never before the latest line it letters: a payment received in December for next year's fee
    # (dated the period's first day, ``cutoff``) is lettered in the fee's year.
    when = max([on or date.today()] + [line.entry.entry_date for line in lines])
    for line in lines:
        line.lettering_code = code
        line.lettering_date = when
    db.session.flush()
    return code


def unletter(organisation, code):
    """Remove the lettering ``code`` from its lines; returns how many lines were unlettered."""
    lines = list(db.session.scalars(select(JournalLine).where(
        JournalLine.organisation_id == organisation.id, JournalLine.lettering_code == code)))
    if not lines:
        raise AccountingError(f"Aucune ligne lettrée « {code} ».", "code")
    refuse_if_in_closed_year(organisation, lines, action="délettrée")
    for line in lines:
        line.lettering_code = None
        line.lettering_date = None
    db.session.flush()
    return len(lines)


def _unlettered(organisation, auxiliary_id, since=None):
    """The unlettered posted lines of an auxiliary account, locked (PostgreSQL) so that two
    transactions lettering the same account do not letter the same line twice: the second
    waits, then no longer sees what the first lettered. Lines of closed fiscal years are left
    out: they are frozen (their open items are carried by the opening balances). Their entries
    come in the same query (the fiscal year and status are read for each line). ``since``: from
    that fiscal year on."""
    return _unlettered_where(organisation, JournalLine.auxiliary_id == auxiliary_id, since)


def unlettered_lines(organisation, aux_ids, since=None):
    """``{auxiliary id: its unlettered posted lines}`` (``_unlettered``) for many auxiliary
    accounts, in a query per 500 of them."""
    found = {aux_id: [] for aux_id in aux_ids}
    ids = sorted(aux_ids)
    for start in range(0, len(ids), 500):
        for line in _unlettered_where(organisation, JournalLine.auxiliary_id.in_(ids[start:start + 500]), since):
            found[line.auxiliary_id].append(line)
    return found


def _unlettered_where(organisation, condition, since=None):
    stmt = (
        select(JournalLine).join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .options(contains_eager(JournalLine.entry))  # letter_lines reads each line's entry
        .where(JournalLine.organisation_id == organisation.id, condition,
               JournalLine.lettering_code.is_(None), JournalEntry.status == EntryStatus.POSTED.value))
    frozen_until = last_closed_day(organisation.id)
    if frozen_until is not None:
        stmt = stmt.where(JournalEntry.entry_date > frozen_until)
    if since is not None:
        stmt = stmt.where(JournalEntry.fiscal_year >= since)
    return list(db.session.scalars(
        stmt.options(contains_eager(JournalLine.entry))
        .order_by(JournalEntry.entry_date, JournalEntry.fiscal_year, JournalEntry.number, JournalLine.id)
        .with_for_update(of=JournalLine)).unique())


class _OpenEntry:
    __slots__ = ("entry_date", "fiscal_year", "number")

    def __init__(self, entry_date, fiscal_year, number):
        self.entry_date, self.fiscal_year, self.number = entry_date, fiscal_year, number


class _OpenLine:
    """An unlettered line as ``_auto_letter_touched`` reads it: its columns, its entry's date,
    year and number, not an ORM object — the closing's reclassification touches every member
    in credit, tens of thousands of open lines on a large year, and building a line and an
    entry object for each cost more than lettering them. Audited as a line (``_write_lettering``)."""

    __slots__ = ("id", "organisation_id", "auxiliary_id", "account_number", "debit", "credit", "lettering_code",
                 "lettering_date", "entry")
    __tablename__ = JournalLine.__tablename__
    __audited__ = True

    def __init__(self, row):
        (self.id, self.organisation_id, self.auxiliary_id, self.account_number, self.debit, self.credit,
         entry_date, fiscal_year, number) = row
        self.lettering_code = self.lettering_date = None
        self.entry = _OpenEntry(entry_date, fiscal_year, number)

    def __str__(self):
        return line_summary(self.account_number, self.debit, self.credit)


def _open_lines(organisation, aux_ids, since=None):
    """``unlettered_lines`` as ``_OpenLine`` rows: the same lines, in the same order, locked the
    same way (PostgreSQL), in a query per 500 auxiliary accounts."""
    line, entry, account = JournalLine.__table__, JournalEntry.__table__, Account.__table__
    found = {aux_id: [] for aux_id in aux_ids}
    frozen_until = last_closed_day(organisation.id)
    ids = sorted(aux_ids)
    for start in range(0, len(ids), 500):
        stmt = (
            select(line.c.id, line.c.organisation_id, line.c.auxiliary_id, account.c.number, line.c.debit,
                   line.c.credit, entry.c.entry_date, entry.c.fiscal_year, entry.c.number)
            .select_from(line.join(entry, line.c.entry_id == entry.c.id)
                         .join(account, line.c.account_id == account.c.id))
            .where(line.c.organisation_id == organisation.id, line.c.auxiliary_id.in_(ids[start:start + 500]),
                   line.c.lettering_code.is_(None), entry.c.status == EntryStatus.POSTED.value))
        if frozen_until is not None:
            stmt = stmt.where(entry.c.entry_date > frozen_until)
        if since is not None:
            stmt = stmt.where(entry.c.fiscal_year >= since)
        stmt = stmt.order_by(entry.c.entry_date, entry.c.fiscal_year, entry.c.number, line.c.id) \
            .with_for_update(of=line)
        for row in db.session.execute(stmt):
            found[row[2]].append(_OpenLine(row))
    return found


def opening_years(organisation, years):
    """Those of the fiscal years ``years`` that have (or had: a replaced one counts) an AN entry
    (``backoffice.accounting.opening``), ascending: one lookup in the index of sources."""
    sources = {opening_source(organisation.id, year): year for year in years}
    if not sources:
        return []
    return sorted(sources[source] for source in db.session.scalars(select(JournalEntry.source).where(
        JournalEntry.organisation_id == organisation.id, JournalEntry.source.in_(list(sources)))))


def lettering_segments(organisation, lines, openings=None):
    """``lines`` split into the runs of fiscal years that may be lettered together:
    ``[(first fiscal year of the run, lines)]``. A year with an AN entry starts a new run, since
    its AN line carries the older open items of the auxiliary account (lettering stays inside
    each year; the old items stay open in their year). Lines of a single fiscal year are one
    run, without a query."""
    years = {line.entry.fiscal_year for line in lines}
    if len(years) <= 1:
        return [(min(years), lines)] if lines else []
    if openings is None:
        openings = opening_years(organisation, sorted(years)[1:])
    runs = {}
    for line in lines:
        start = max((year for year in openings if year <= line.entry.fiscal_year), default=min(years))
        runs.setdefault(start, []).append(line)
    return sorted(runs.items())


def auto_letter(organisation, auxiliary, on=None, fiscal_year=None):
    """Letter what balances on an auxiliary account: first each debit with the oldest credit of
    the same amount (a fee and its payment), then the shortest run of remaining lines, in date
    order, whose debits equal their credits (two fees paid at once); never across the opening
    (AN) of a fiscal year (``lettering_segments``). ``fiscal_year``: only the run that holds
    that year (what an entry of that year can settle). Returns the codes."""
    aux_id = auxiliary.id if isinstance(auxiliary, AuxiliaryAccount) else auxiliary
    return _auto_letter(organisation, aux_id, on, fiscal_year, None)


def _auto_letter(organisation, aux_id, on, fiscal_year, since, unlettered=None):
    codes = []
    if unlettered is None:
        unlettered = _unlettered(organisation, aux_id, since)
    runs = lettering_segments(organisation, unlettered)
    if fiscal_year is not None:
        runs = _run_of_year(runs, fiscal_year)
    for _, lines in runs:
        codes += _auto_letter_run(organisation, lines, on)
    return codes


def _run_of_year(runs, fiscal_year):
    """The run of ``lettering_segments`` that holds ``fiscal_year`` (what an entry of that year settles)."""
    return [max(((start, lines) for start, lines in runs if start <= fiscal_year), default=(None, []),
                key=lambda run: run[0])]


def _auto_letter_run(organisation, lines, on, letter=letter_lines):
    codes = []
    # The credits by amount, oldest first: each debit takes the oldest credit of its amount (a
    # list scanned per debit was quadratic in a member's year of lines).
    credits = {}
    for line in lines:
        if line.credit > 0:
            credits.setdefault(line.credit, collections.deque()).append(line)
    for debit in [line for line in lines if line.debit > 0]:
        same = credits.get(debit.debit)
        if same:
            codes.append(letter(organisation, [debit, same.popleft()], on=on))
    remaining = [line for line in lines if line.lettering_code is None]
    while remaining:
        balance, run = ZERO, None
        for index, line in enumerate(remaining):
            balance += line.debit - line.credit
            if balance == 0:
                run = remaining[:index + 1]
                break
        if run is None:
            break
        codes.append(letter(organisation, run, on=on))
        remaining = remaining[len(run):]
    return codes


def _auto_letter_touched(organisation, entry):
    """Letter what ``entry`` may settle on each auxiliary account it touches, inside its year's run:
    the same lines, codes and dates as ``auto_letter`` account after account, written at once."""
    aux_ids = sorted({line.auxiliary_id for line in entry.lines if line.auxiliary_id is not None})
    if not aux_ids:
        return
    # An AN settles nothing before its own year: no older line is loaded (a year of members'
    # history). Other entries load them all; ``lettering_segments`` keeps each run apart, with a
    # query only when the unlettered lines span several years.
    since = entry.fiscal_year if entry.event == OPENING_EVENT else None
    # Read at once (an AN or a closing's reclassification touches every member): lettering one
    # auxiliary account changes no line of another.
    unlettered = _open_lines(organisation, aux_ids, since)
    # The codes are worked out in memory and written with one UPDATE of the lines and one audit
    # statement, not a flush per code: the closing's 411 -> 419 reclassification and its
    # reversal letter every member in credit, tens of thousands of lines on a large year.
    lettered, letter = _collector(in_session=False)
    for aux_id in aux_ids:
        runs = lettering_segments(organisation, unlettered[aux_id])
        for _, lines in _run_of_year(runs, entry.fiscal_year):
            _auto_letter_run(organisation, lines, entry.entry_date, letter)
    _write_lettering(organisation, lettered)


_PENDING = "?"  # a code to be taken from the counter (never flushed: no autoflush meanwhile)


def _collector(in_session=True):
    """``(lettered, letter)``: ``letter`` stands for ``letter_lines`` on lines already checked
    (unlettered, open, one auxiliary account, balanced): it marks them pending with
    ``letter_lines``' date and keeps them, in order, in ``lettered`` for ``_write_lettering``.
    ``in_session`` False: the marks are not changes for the session to flush (flushed lines
    that ``_write_lettering`` writes itself)."""
    lettered = []

    def letter(_organisation, lines, on=None):
        when = max([on or date.today()] + [line.entry.entry_date for line in lines])
        for line in lines:
            if in_session or isinstance(line, _OpenLine):
                line.lettering_code, line.lettering_date = _PENDING, when
            else:
                set_committed_value(line, "lettering_code", _PENDING)
                set_committed_value(line, "lettering_date", when)
        lettered.append(lines)
        return len(lettered) - 1

    return lettered, letter


def _take_codes(organisation, count):
    """``count`` consecutive codes from the organisation's counter, in one statement."""
    ensure_ledger(organisation)
    table = Ledger.__table__
    last = db.session.execute(
        update(table).where(table.c.organisation_id == organisation.id)
        .values(lettering_counter=table.c.lettering_counter + count).returning(table.c.lettering_counter)
    ).scalar_one()
    return [lettering_code(last - count + index) for index in range(count)]


def _write_lettering(organisation, lettered):
    """Give the groups of ``lettered`` (flushed lines marked by ``_collector(in_session=False)``)
    their codes and write them: one ``UPDATE`` of the lines (executemany), one statement of audit
    rows (those a flush would have recorded), the objects in the session left as written."""
    if not lettered:
        return []
    from backoffice.audit.services import record_bulk_updates

    codes = _take_codes(organisation, len(lettered))
    rows, changes = [], []
    in_session = db.session.identity_map
    for code, lines in zip(codes, lettered):
        for line in lines:
            if isinstance(line, _OpenLine):
                line.lettering_code = code
                # The session's own object of that line (the entry just posted), if loaded.
                obj = in_session.get(identity_key(JournalLine, line.id))
                if obj is not None:
                    set_committed_value(obj, "lettering_code", code)
                    set_committed_value(obj, "lettering_date", line.lettering_date)
            else:
                set_committed_value(line, "lettering_code", code)
            rows.append({"line_id": line.id, "code": code, "day": line.lettering_date})
            changes.append((line, {"lettering_code": None, "lettering_date": None},
                            {"lettering_code": code, "lettering_date": line.lettering_date}))
    table = JournalLine.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement for every line: an executemany is still a statement per row for the
        # server (a round trip each in psycopg's pipeline), some 1 ms per lettered line.
        db.session.execute(
            text(f"UPDATE {table.name} AS l SET lettering_code = v.code, lettering_date = v.day "
                 "FROM unnest(CAST(:ids AS bigint[]), CAST(:codes AS varchar[]), CAST(:days AS date[])) "
                 "AS v(id, code, day) WHERE l.id = v.id"),
            {"ids": [row["line_id"] for row in rows], "codes": [row["code"] for row in rows],
             "days": [row["day"] for row in rows]})
    else:
        db.session.execute(update(table).where(table.c.id == bindparam("line_id"))
                           .values(lettering_code=bindparam("code"), lettering_date=bindparam("day"))
                           .execution_options(synchronize_session=False), rows)
    record_bulk_updates(changes)
    return codes


def letter_at_once(organisation, entries, unlettered):
    """Letter what each of ``entries`` (just posted, in their order) settles, as
    ``_auto_letter_touched`` would entry after entry — same lines together, same codes, same
    dates — with the codes taken from the counter in one statement and the lines written in one
    (``_write_lettering``). ``unlettered``: ``unlettered_lines`` of their auxiliary accounts read
    before the entries existed; the entries are written (posted) already."""
    years = {line.entry.fiscal_year for lines in unlettered.values() for line in lines}
    years |= {entry.fiscal_year for entry in entries}
    openings = opening_years(organisation, sorted(years)[1:]) if len(years) > 1 else []
    # The lines of each code, in the order one by one would take them.
    lettered, letter = _collector(in_session=False)

    def order(line):
        return line.entry.entry_date, line.entry.fiscal_year, line.entry.number, line.id

    with db.session.no_autoflush:
        for entry in entries:
            aux_ids = sorted({line.auxiliary_id for line in entry.lines if line.auxiliary_id is not None})
            for line in entry.lines:
                if line.auxiliary_id is not None:
                    bisect.insort(unlettered.setdefault(line.auxiliary_id, []), line, key=order)
            since = entry.fiscal_year if entry.event == OPENING_EVENT else None
            for aux_id in aux_ids:
                lines = [line for line in unlettered[aux_id] if since is None or line.entry.fiscal_year >= since]
                for _, run in _run_of_year(lettering_segments(organisation, lines, openings), entry.fiscal_year):
                    _auto_letter_run(organisation, run, entry.entry_date, letter)
                unlettered[aux_id] = [line for line in unlettered[aux_id] if line.lettering_code is None]
        return _write_lettering(organisation, lettered)
