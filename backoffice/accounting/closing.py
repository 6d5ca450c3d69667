"""Closing a fiscal year (*clôture de l'exercice*): the checklist, then the closing itself.

The checklist (``closing_checklist``) is a list of ``ClosingCheck``: each check is a small
function of ``(organisation, year)`` that counts what is left to do and says it in French, with
the page where to do it. Some checks **block** the closing, the others **warn**:

* blocking — an earlier fiscal year with entries still open (its closing would replace this
  year's opening balances, in a year already frozen); entries left as drafts (they hold no
  number and would vanish from the final numbering); entries whose date is outside the year
  they are numbered in (the FEC of the year would be refused);
* warning — what another feature declares (``Feature.closing_checks``, e.g. a grants programme
  whose unspent funding is not carried in fonds dédiés), bank statement lines dated in the year that are matched to nothing; member lines
  (auxiliary accounts of 411) dated in the year and not lettered; members' cheques received in
  the year and not deposited. Each is a real situation at a year end (a fee still due, a cheque
  in the drawer on 31 December, a statement line not yet reconciled): they are carried forward
  by the opening balances, and the treasurer decides with the accountant.

``close_fiscal_year(organisation, year, user=None)`` then, in this order, in the caller's
transaction (it flushes, never commits):

1. refuses in French (``AccountingError``, nothing written) a year already closed or a year
   whose blocking checks fail;
1b. posts, dated the year's last day, the reclassification of the members' accounts in credit
   (411 → 419 *adhérents créditeurs*, per auxiliary account: ``reclassify_member_credits``),
   so that the closed year's bilan and AN show them among the debts; a closed December does
   not refuse it (it is the closing's own entry);
2. validates every posted entry of the year not yet validated (``validated_on`` = today);
3. gives every posted entry of the year its **definitive number** (``final_number``): 1, 2,
   3… in the order of the entry dates, then of the posting numbers — so that the FEC of the
   closed year lists its entries in date order with continuous numbers, whatever order they
   were posted in (an entry back-dated in March after April's were posted). The posting number
   (``number``, ``2026-00042`` on the screens) stays as it was: it is the entry's reference,
   given at posting with no gap, and the screens show both;
4. keeps the labels of the accounts, journals and auxiliary accounts used in the year
   (``ClosedPeriod.labels``): renaming an account later does not change the closed year's FEC;
5. computes the SHA-256 of the year's definitive FEC in UTF-8 (``ClosedPeriod.fec_sha256``):
   every later export of it must give the same bytes (``exporting`` checks it);
6. inserts the ``ClosedPeriod`` row (``kind="year"``): from then on the database refuses any
   insert, update (lettering included) or delete of an entry or line dated in the year, and any
   change to that row (``db_guards``); the services refuse the same in French before (posting:
   ``books.check_open``; lettering: ``lettering.letter_lines``/``unletter``).

7. posts the definitive opening balances (*à-nouveaux*) of the next year, which stays open
   (``opening.open_next_year``: the provisional AN, if any, is reversed and replaced, or kept
   when it already carries the frozen balances). It letters no line of the closed year: the AN
   line of an auxiliary account stands for the year's open items, which stay open in their year.
   Then the 411 → 419 reclassification is reversed on the next year's first day
   (``reverse_member_credits``): the credits are back on the members' 411 for the new year's fees.

Irreversible: there is no reopening. An error found after the closing is corrected by an entry
in the next year.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import joinedload

from backoffice.accounting.books import batch_closed_periods, ensure_ledger
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.exports import ExportLine
from backoffice.accounting.models import (
    Account,
    AuxiliaryAccount,
    ClosedPeriod,
    EntryStatus,
    Journal,
    JournalEntry,
    JournalLine,
)
from backoffice.audit.services import current_actor_id
from backoffice.extensions import db

log = logging.getLogger(__name__)

POSTED = EntryStatus.POSTED.value
YEAR = "year"


# --------------------------------------------------------------------------------------------
# Which years are closed
# --------------------------------------------------------------------------------------------

def year_closing(organisation, year):
    """The ``ClosedPeriod`` that closed the fiscal year starting in ``year``, or ``None``."""
    start, end = organisation.fiscal_year_bounds(int(year))
    return db.session.scalar(select(ClosedPeriod).where(
        ClosedPeriod.organisation_id == organisation.id, ClosedPeriod.kind == YEAR,
        ClosedPeriod.start_date <= start, ClosedPeriod.end_date >= end))


def is_year_closed(organisation, year):
    return year_closing(organisation, year) is not None


def closed_year_containing(organisation, day):
    """The closed fiscal year containing ``day`` (a ``ClosedPeriod``), or ``None``."""
    return db.session.scalar(select(ClosedPeriod).where(
        ClosedPeriod.organisation_id == organisation.id, ClosedPeriod.kind == YEAR,
        ClosedPeriod.start_date <= day, ClosedPeriod.end_date >= day).limit(1))


def last_closed_day(organisation_id):
    """The last day of the latest closed fiscal year (``None`` if none is closed): earlier
    years with entries are closed too (a closing requires it), so every line dated on or
    before it is frozen."""
    periods = batch_closed_periods(organisation_id)
    if periods is not None:  # a posting batch has read them
        return max((period.end_date for period in periods if period.kind == YEAR), default=None)
    return db.session.scalar(select(func.max(ClosedPeriod.end_date)).where(
        ClosedPeriod.organisation_id == organisation_id, ClosedPeriod.kind == YEAR))


def paris_date(moment):
    """The date in Europe/Paris of a stored instant (naive ones, from SQLite, are UTC)."""
    from datetime import timezone
    from zoneinfo import ZoneInfo

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo("Europe/Paris")).date()


def refuse_if_in_closed_year(organisation, lines, action="lettrée"):
    """``AccountingError`` in French if one of ``lines`` is dated in a closed fiscal year."""
    periods = batch_closed_periods(organisation)
    years = [period for period in periods if period.kind == YEAR] if periods is not None else list(
        db.session.scalars(select(ClosedPeriod).where(ClosedPeriod.organisation_id == organisation.id,
                                                      ClosedPeriod.kind == YEAR)))
    if not years:
        return
    for line in lines:
        period = next((p for p in years if p.start_date <= line.entry.entry_date <= p.end_date), None)
        if period is not None:
            raise AccountingError(
                f"L'écriture {line.entry.reference} est datée du {line.entry.entry_date:%d/%m/%Y}, dans "
                f"l'exercice clôturé du {period.start_date:%d/%m/%Y} au {period.end_date:%d/%m/%Y} : sa ligne "
                f"ne peut plus être {action}.", "lines")


# --------------------------------------------------------------------------------------------
# The checklist
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClosingCheck:
    """One item of the closing checklist: ``label`` (French title), ``count`` of what is left,
    ``message`` (a French sentence saying it), whether it ``blocking``-ly refuses the closing,
    and where to act (``endpoint`` and its ``args``, for ``url_for``; ``None`` for none)."""

    key: str
    label: str
    count: int
    message: str
    blocking: bool
    endpoint: str | None = None
    args: dict = field(default_factory=dict)

    @property
    def ok(self):
        return self.count == 0

    @property
    def refuses(self):
        return self.blocking and self.count > 0


def _plural(count, one, many):
    return f"{count} {one if count == 1 else many}"


def check_previous_years(organisation, year):
    """Blocking: every earlier fiscal year that has posted entries must be closed first."""
    start, _ = organisation.fiscal_year_bounds(int(year))
    years = sorted(set(db.session.scalars(select(JournalEntry.fiscal_year).distinct().where(
        JournalEntry.organisation_id == organisation.id, JournalEntry.status == POSTED,
        JournalEntry.entry_date < start))))
    open_years = [y for y in years if not is_year_closed(organisation, y)]
    if open_years:
        message = (f"Exercice(s) antérieur(s) non clôturé(s) : {', '.join(map(str, open_years))}. "
                   "Clôturez-les d'abord, dans l'ordre.")
    else:
        message = "Les exercices antérieurs sont clôturés."
    return ClosingCheck("previous_years", "Exercices précédents", len(open_years), message, True,
                        "accounting.closing", {"year": open_years[0]} if open_years else {"year": year})


def check_drafts(organisation, year):
    """Blocking: entries left as drafts in the year (numbered nowhere, they would be lost)."""
    start, end = organisation.fiscal_year_bounds(int(year))
    count = db.session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.organisation_id == organisation.id, JournalEntry.status != POSTED,
        or_(JournalEntry.fiscal_year == int(year), and_(JournalEntry.entry_date >= start,
                                                        JournalEntry.entry_date <= end))))
    message = (f"{_plural(count, 'écriture en brouillard', 'écritures en brouillard')} : comptabilisez-les "
               "ou supprimez-les avant la clôture." if count else "Aucune écriture en brouillard.")
    return ClosingCheck("drafts", "Écritures en brouillard", count, message, True, "accounting.journal",
                        {"year": year})


def check_dates_outside_year(organisation, year):
    """Blocking: entries numbered in this fiscal year but dated outside it, or the reverse
    (after a change of the first month of the fiscal year)."""
    start, end = organisation.fiscal_year_bounds(int(year))
    inside = and_(JournalEntry.entry_date >= start, JournalEntry.entry_date <= end)
    count = db.session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.organisation_id == organisation.id, JournalEntry.status == POSTED,
        or_(and_(JournalEntry.fiscal_year == int(year), ~inside),
            and_(JournalEntry.fiscal_year != int(year), inside))))
    message = (f"{_plural(count, 'écriture datée', 'écritures datées')} hors des bornes de l'exercice "
               f"({start:%d/%m/%Y} – {end:%d/%m/%Y}) où elles sont numérotées : le FEC serait refusé. "
               "Contre-passez-les et passez-les à nouveau." if count
               else f"Toutes les écritures de l'exercice sont datées du {start:%d/%m/%Y} au {end:%d/%m/%Y}.")
    return ClosingCheck("dates", "Dates hors exercice", count, message, True, "accounting.journal",
                        {"year": year, "sort": "date"})


def check_unreconciled_bank_lines(organisation, year):
    """Warning: bank statement lines dated in the year that the books do not account for in
    full (``banking.reconciliation.unreconciled_lines``), linked to the first one's account."""
    from backoffice.banking.reconciliation import unreconciled_lines

    start, end = organisation.fiscal_year_bounds(int(year))
    lines = unreconciled_lines(organisation, start, end)
    count = len(lines)
    message = (f"{_plural(count, 'ligne de relevé bancaire', 'lignes de relevé bancaire')} de l'exercice "
               f"{'n’est pas rapprochée' if count == 1 else 'ne sont pas rapprochées'} des écritures." if count
               else "Toutes les lignes des relevés bancaires de l'exercice sont rapprochées.")
    if lines:
        return ClosingCheck("bank_lines", "Rapprochement bancaire", count, message, False,
                            "banking.reconciliation_page", {"account_id": lines[0].bank_account_id})
    return ClosingCheck("bank_lines", "Rapprochement bancaire", count, message, False, "banking.accounts")


def check_unlettered_member_lines(organisation, year):
    """Warning: lines of members' auxiliary accounts (411) dated in the year, not lettered."""
    start, end = organisation.fiscal_year_bounds(int(year))
    count = db.session.scalar(
        select(func.count()).select_from(JournalLine)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .join(Account, JournalLine.account_id == Account.id)
        .where(JournalLine.organisation_id == organisation.id, JournalLine.auxiliary_id.is_not(None),
               JournalLine.lettering_code.is_(None), Account.number.startswith("411"),
               JournalEntry.status == POSTED, JournalEntry.entry_date >= start, JournalEntry.entry_date <= end))
    message = (f"{_plural(count, 'ligne de compte adhérent (411) non lettrée', 'lignes de comptes adhérents (411) non lettrées')} : "
               "cotisations dues ou règlements non rapprochés, repris dans les à-nouveaux." if count
               else "Les comptes des adhérents sont lettrés.")
    return ClosingCheck("lettering", "Lettrage des comptes adhérents", count, message, False,
                        "accounting.lettering")


def check_undeposited_cheques(organisation, year):
    """Warning: members' cheques received by the end of the year and not yet deposited
    (membership's own list; one cheque paying several memberships counts once)."""
    from backoffice.membership.deposits import group_cheques
    from backoffice.membership.services import undeposited_cheques

    _, end = organisation.fiscal_year_bounds(int(year))
    count = len(group_cheques([p for p in undeposited_cheques(organisation) if p.paid_on <= end]))
    message = (f"{_plural(count, 'chèque reçu non remis', 'chèques reçus non remis')} en banque au "
               f"{end:%d/%m/%Y} (compte de chèques à encaisser)." if count
               else "Aucun chèque en attente de remise.")
    return ClosingCheck("cheques", "Chèques à remettre", count, message, False, "membership.cheques")


#: The checks, in the order the screen shows them.
CHECKS = (check_previous_years, check_drafts, check_dates_outside_year, check_unreconciled_bank_lines,
          check_unlettered_member_lines, check_undeposited_cheques)


def closing_checklist(organisation, year):
    """Every check of ``CHECKS`` for the fiscal year starting in ``year``, then those the other
    features declare (``Feature.closing_checks``: e.g. grants' fonds dédiés) (reads only)."""
    from backoffice.features import closing_checks

    return [check(organisation, int(year)) for check in CHECKS] + closing_checks(organisation, int(year))


# --------------------------------------------------------------------------------------------
# The closing
# --------------------------------------------------------------------------------------------

#: The closing's steps as its job reports them (``progress(done, CLOSING_STEPS, message)``).
CLOSING_STEPS = 6


def refuse_closing(organisation, year):
    """``AccountingError`` in French when the fiscal year starting in ``year`` cannot be closed
    now (already closed, or a blocking check fails); reads only, so a request may ask it
    before starting the closing's job."""
    start, end = organisation.fiscal_year_bounds(int(year))
    if is_year_closed(organisation, year):
        raise AccountingError(f"L'exercice du {start:%d/%m/%Y} au {end:%d/%m/%Y} est déjà clôturé.", "year")
    refusals = [check for check in closing_checklist(organisation, year) if check.refuses]
    if refusals:
        raise AccountingError(
            f"Clôture de l'exercice du {start:%d/%m/%Y} au {end:%d/%m/%Y} refusée : "
            + " ".join(check.message for check in refusals) + " Rien n'a été modifié.", "year")


def close_fiscal_year(organisation, year, user=None, progress=None):
    """Close the fiscal year starting in ``year``: irreversible (see the module docstring for
    the steps). Returns the ``ClosedPeriod`` (``kind="year"``, with ``fec_sha256``,
    ``entry_count`` and ``labels``). Raises ``AccountingError`` in French, with nothing
    written, when the year is already closed or a blocking check fails. Flushes, never commits.
    ``progress(done, total, message)``, if given, hears each step (the job's progress bar)."""
    def step(done, message):
        if progress is not None:
            progress(done, CLOSING_STEPS, message)

    ensure_ledger(organisation)
    year = int(year)
    start, end = organisation.fiscal_year_bounds(year)
    step(0, "Points de contrôle")
    refuse_closing(organisation, year)
    step(1, "Validation et numérotation définitive des écritures")
    reclassification = reclassify_member_credits(organisation, year, user=user)
    validated, entry_count = assign_final_numbers(organisation, year, start, end, validate_by=user)
    step(2, "Libellés conservés")
    labels = label_snapshot(organisation, start, end)
    step(3, "Empreinte du FEC définitif")
    # The labels were just read from the chart: the FEC's lines carry them as they are.
    sha256 = definitive_fec_sha256(organisation, start, end, None) if entry_count else None
    step(4, "Enregistrement de la clôture")
    closing = ClosedPeriod(organisation_id=organisation.id, kind=YEAR, start_date=start, end_date=end,
                           closed_by_id=current_actor_id(user), fiscal_year=year, entry_count=entry_count,
                           fec_sha256=sha256, labels=labels)
    db.session.add(closing)
    db.session.flush()
    # The definitive opening balances of the next year (still open) replace the provisional
    # ones, now that this year's balances are frozen; a refusal (an AN that does not balance)
    # refuses the closing with it (the caller rolls back).
    from backoffice.accounting.opening import open_next_year

    step(5, "À-nouveaux de l'exercice suivant")
    open_next_year(organisation, year, user=user)
    if reclassification is not None:
        reverse_member_credits(organisation, year, reclassification, user=user)
    step(6, "Exercice clôturé")
    log.info("organisation %s closed fiscal year %s (%d entries, %d validated now, FEC sha256 %s)",
             organisation.id, year, entry_count, validated, sha256)
    return closing


MEMBER_ACCOUNT = "411"
MEMBER_CREDITS_ACCOUNT = "419"


def reclassify_member_credits(organisation, year, user=None):
    """Post, dated the last day of the fiscal year, the reclassification of the members'
    accounts in credit (411 — a fee of the next year paid in advance, an overpayment) to 419
    *adhérents créditeurs*, **per auxiliary account**: D 411 / C 419 of each such member, so the
    closed year's bilan shows them among the debts and its AN carries them on 419. Members in
    debit stay on 411. Returns the entry, or None when no member is in credit. The D 411 line is
    lettered with the member's open credit lines when they balance (the year's own items)."""
    from backoffice.accounting.books import chart_account
    from backoffice.accounting.models import Ledger
    from backoffice.accounting.opening import _year_label, closing_balances
    from backoffice.accounting.posting import EntryLineSpec, post_entry
    from backoffice.accounting.rules import MEMBER_CREDITS_EVENT
    from backoffice.accounting.sources import posting_source

    credits = sorted((aux_id, -amount) for (number, aux_id), amount in closing_balances(organisation, year).balances.items()
                     if number.startswith(MEMBER_ACCOUNT) and aux_id is not None and amount < 0)
    if not credits:
        return None
    # Their accounts and parties in the same query (a lazy load per member otherwise).
    auxiliaries = {aux.id: aux for aux in db.session.scalars(select(AuxiliaryAccount).where(
        AuxiliaryAccount.id.in_([aux_id for aux_id, _ in credits]))
        .options(joinedload(AuxiliaryAccount.account), joinedload(AuxiliaryAccount.party)))}
    target = chart_account(organisation, MEMBER_CREDITS_ACCOUNT)
    if not target.collective:
        raise AccountingError(f"Le compte {target.number} n'est pas un compte de tiers : les adhérents créditeurs ne "
                              "peuvent pas y être reclassés. Corrigez le plan comptable ; rien n'a été clôturé.",
                              "year")
    label = _year_label(organisation, year)
    _, end = organisation.fiscal_year_bounds(year)
    lines = []
    for aux_id, amount in sorted(credits, key=lambda item: auxiliaries[item[0]].number):
        aux = auxiliaries[aux_id]
        lines += [EntryLineSpec(aux.account, debit=amount, party=aux.party, label=f"Adhérent créditeur – {aux.label}"),
                  EntryLineSpec(target, credit=amount, party=aux.party, label=f"Adhérent créditeur – {aux.label}")]
    entry = post_entry(organisation, "OD", end, f"CLOT-{label}",
                       f"Clôture {label} : soldes créditeurs des adhérents reclassés en {target.number}", lines,
                       source=posting_source(Ledger, organisation.id, "member_credits", year), event=MEMBER_CREDITS_EVENT,
                       user=user, closing_entry=True)
    log.info("organisation %s: %d member credit balances of %s reclassified to %s (%s)", organisation.id,
             len(credits), year, target.number, entry.reference)
    return entry


def reverse_member_credits(organisation, year, reclassification, user=None):
    """At the opening of the next year, the reversal of ``reclassify_member_credits``' entry,
    dated its first day: the members' credits are back on 411, where the year's fees are
    lettered against them (the 419 lines letter with the AN's)."""
    from backoffice.accounting.opening import _year_label
    from backoffice.accounting.posting import reverse_entry

    start, _ = organisation.fiscal_year_bounds(year + 1)
    return reverse_entry(reclassification, entry_date=start, user=user,
                         label=f"Ouverture {_year_label(organisation, year + 1)} : adhérents créditeurs "
                               f"remis en {MEMBER_ACCOUNT}")


def assign_final_numbers(organisation, year, start, end, validate_by=False):
    """Number the posted entries of the year 1, 2, 3… by entry date, then posting number (one
    statement); returns how many. Numbers left by an earlier attempt are cleared first, so
    that the unique index never sees two entries with the same number mid-statement.

    ``validate_by`` (a user, or None for the current actor; False: no validation): the same
    statement also stamps the entries not yet validated as validated today — then returns
    ``(validated, numbered)``. One UPDATE instead of two: every updated row of a year goes
    through the entries' guard triggers, which is most of a large year's closing."""
    from datetime import date

    table = JournalEntry.__table__
    of_year = and_(table.c.organisation_id == organisation.id, table.c.status == POSTED,
                   table.c.fiscal_year == year, table.c.entry_date >= start, table.c.entry_date <= end)
    validated = None
    values = {}
    if validate_by is not False:
        validated = db.session.scalar(select(func.count()).select_from(table).where(
            of_year, table.c.validated_on.is_(None)))
        not_yet = table.c.validated_on.is_(None)
        values = dict(validated_on=func.coalesce(table.c.validated_on, date.today()),
                      validated_by_id=case((not_yet, current_actor_id(validate_by)), else_=table.c.validated_by_id))
    db.session.execute(update(table).where(of_year, table.c.final_number.is_not(None)).values(final_number=None))
    ranked = (select(table.c.id, func.row_number().over(order_by=(table.c.entry_date, table.c.number, table.c.id))
                     .label("rank")).where(of_year).subquery())
    result = db.session.execute(update(table).where(table.c.id == ranked.c.id)
                                .values(final_number=ranked.c.rank, **values))
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, JournalEntry) and obj.organisation_id == organisation.id and obj.fiscal_year == year:
            db.session.expire(obj, ["final_number", "validated_on", "validated_by_id"])
    if validate_by is False:
        return result.rowcount
    return validated, result.rowcount


def label_snapshot(organisation, start, end):
    """``{"accounts": {number: label}, "journals": {code: label}, "auxiliaries": {number:
    label}}`` of what the posted lines dated ``start``–``end`` use, as labelled today."""
    # One pass over the year's lines (a few hundred distinct triples), then the labels by id.
    used = db.session.execute(
        select(JournalLine.account_id, JournalLine.auxiliary_id, JournalEntry.journal_id)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .where(JournalEntry.organisation_id == organisation.id, JournalEntry.status == POSTED,
               JournalEntry.entry_date >= start, JournalEntry.entry_date <= end).distinct()).all()
    account_ids = {account_id for account_id, _, _ in used}
    aux_ids = {aux_id for _, aux_id, _ in used if aux_id is not None}
    journal_ids = {journal_id for _, _, journal_id in used}
    accounts = dict(db.session.execute(select(Account.number, Account.label).where(
        Account.id.in_(account_ids))).all()) if account_ids else {}
    journals = dict(db.session.execute(select(Journal.code, Journal.label).where(
        Journal.id.in_(journal_ids))).all()) if journal_ids else {}
    auxiliaries = dict(db.session.execute(select(AuxiliaryAccount.number, AuxiliaryAccount.label).where(
        AuxiliaryAccount.id.in_(aux_ids))).all()) if aux_ids else {}
    return {"accounts": accounts, "journals": journals, "auxiliaries": auxiliaries}


def definitive_lines(organisation, start, end, labels):
    """The lines of a closed year's FEC: definitive numbers, in their order, with the labels
    kept at the closing (``ExportLine``), streamed. ``labels`` None: as the chart names them
    now (at the closing itself, which has just kept them), the rows as the query gives them."""
    from backoffice.accounting.reporting import stream_export_lines

    if labels is None:
        yield from stream_export_lines(organisation, start, end, "entry", final=True)
        return
    accounts, journals, auxiliaries = labels["accounts"], labels["journals"], labels["auxiliaries"]
    for (journal_code, journal_label, number, entry_date, account, account_label, aux, aux_label, piece_ref,
         piece_date, label, debit, credit, lettering, lettering_date, validation_date, currency_amount,
         currency) in stream_export_lines(organisation, start, end, "entry", final=True):
        yield ExportLine(journal_code, journals.get(journal_code, journal_label), number, entry_date, account,
                         accounts.get(account, account_label), aux,
                         auxiliaries.get(aux, aux_label) if aux is not None else aux_label, piece_ref, piece_date,
                         label, debit, credit, lettering, lettering_date, validation_date, currency_amount,
                         currency)


class _Discard(io.RawIOBase):
    """A binary sink that keeps nothing (the FEC is only hashed at the closing)."""

    def writable(self):
        return True

    def write(self, data):
        return len(data)


def definitive_fec_sha256(organisation, start, end, labels, encoding="utf-8"):
    """The SHA-256 of the definitive FEC of ``start``–``end`` in ``encoding`` (not stored)."""
    from backoffice.accounting.fec import write_fec
    from backoffice.accounting.settings import collective_numbers

    summary = write_fec(definitive_lines(organisation, start, end, labels), _Discard(), encoding=encoding,
                        collective_prefixes=collective_numbers(organisation), first_number=1, period=(start, end))
    return summary.sha256
