"""Cut-off (*rattachement à l'exercice*): the fiscal year an operation with a period belongs to.

A fee, the ACI remuneration of a year, a programme's funding: each belongs to the fiscal year of
its period, whatever the day it is called, paid or received. One rule, ``attach``, compares the
fiscal year of the operation's day with the fiscal years of the period:

* **within** (the operation falls in a fiscal year the period covers): the entry is dated the day
  of the operation, as always;
* **advance** (the operation comes before the period's first fiscal year — a 2027 fee called in
  December 2026): the income entry is dated the period's first day, so it is income of that year
  and never of the year the money came in. Money received before the period is then:

  - for a party's event (a member's fee): a credit on the party's auxiliary account (411) in the
    earlier year — the payment entry keeps its day, the fee is posted dated the period's first
    day; at the year end such credit balances are *adhérents créditeurs* (``advances_received``
    lists them for the balance sheet), and the payment is lettered against the fee in the
    period's year (the lettering date is the latest of the lines);
  - for a treasury event without a party (``post_period_income``: ACI, a subsidy): D treasury /
    C 487 *Produits constatés d'avance* on the day received, then D 487 / C income dated the
    period's first day;

* **arrears** (the operation comes after the period's last fiscal year — the ACI balance of 2025
  paid in April 2026): the income is that of the period's year while that year is still open:
  D 4687 *Produits à recevoir* / C income dated the period's last day, then D treasury / C 4687 on
  the day received (``post_period_income``); a fee called late is dated the period's last day.
  Once the period's year is closed (or its last month), nothing can be dated in it any more: the
  entry keeps the day of the operation (income of the current year) — the accountant books the
  *produit à recevoir* at the closing.

A period is attached as a whole, to its fiscal years: a period that straddles two fiscal years
(a calendar-year ACI in a SISA whose year starts in July) is not prorated.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from backoffice.accounting import rules
from backoffice.accounting.books import closed_period_containing, get_account
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.models import EntryStatus, JournalEntry, JournalLine
from backoffice.accounting.posting import EntryLineSpec, event_accounts, post_entry, post_event
from backoffice.extensions import db
from backoffice.models import ZERO

WITHIN, ADVANCE, ARREARS = "within", "advance", "arrears"
#: Income received before its period, waiting for it (both charts).
DEFERRED_INCOME = "487"
#: Income of a past period still to be received (both charts).
ACCRUED_INCOME = "4687"
#: Suffix of the source of the second entry of a split posting.
CUTOFF_SOURCE_SUFFIX = "rattachement"


@dataclass(frozen=True)
class Attachment:
    """Where an operation of a period goes: the date of its income (or charge) entry, the fiscal
    year that date is in, and the timing (``within``, ``advance``, ``arrears``)."""

    entry_date: date
    fiscal_year: int
    timing: str

    @property
    def advance(self):
        return self.timing == ADVANCE

    @property
    def arrears(self):
        return self.timing == ARREARS


def attach(organisation, period_start, period_end, on):
    """The ``Attachment`` of an operation made ``on`` for the period ``period_start``–``period_end``
    (see the module docstring)."""
    if period_start is None or period_end is None or on is None:
        raise AccountingError("Période ou date de l'opération manquante.", "entry_date")
    if period_end < period_start:
        raise AccountingError(f"Période invalide : du {period_start:%d/%m/%Y} au {period_end:%d/%m/%Y}.",
                              "entry_date")
    year = organisation.fiscal_year_of(on)
    if year < organisation.fiscal_year_of(period_start):
        return Attachment(period_start, organisation.fiscal_year_of(period_start), ADVANCE)
    if year > organisation.fiscal_year_of(period_end) and closed_period_containing(organisation, period_end) is None:
        return Attachment(period_end, organisation.fiscal_year_of(period_end), ARREARS)
    return Attachment(on, year, WITHIN)


def post_period_income(organisation, event, *, amount, received_on, period_start, period_end, piece_ref, label,
                       source, payment_method=None, user=None):
    """Post money received for a period (``aci_income``, ``subsidy_received``: a treasury event
    without a party) in the fiscal year of its period. Returns ``(receipt entry, attachment)``.

    Within the period's year: the event's entry on the day received. Before it: D treasury /
    C 487 that day, then D 487 / C income dated the period's first day. After it, the period's
    year still open: D 4687 / C income dated the period's last day, then D treasury / C 4687 the
    day received. The second entry's source is ``source`` + ``:rattachement`` (idempotent too)."""
    attachment = attach(organisation, period_start, period_end, received_on)
    common = dict(piece_ref=piece_ref, label=label, user=user)
    if attachment.timing == WITHIN:
        return post_event(organisation, event, amount=amount, entry_date=received_on, source=source,
                          payment_method=payment_method, **common), attachment
    spec_side = _treasury_side(event)
    journal, debit, credit = event_accounts(organisation, event, payment_method)
    treasury, income = (debit, credit) if spec_side == "debit" else (credit, debit)
    waiting = get_account(organisation, DEFERRED_INCOME if attachment.advance else ACCRUED_INCOME)
    income_journal = "OD"
    second_source = None if source is None else f"{source}:{CUTOFF_SOURCE_SUFFIX}"[:120]

    def receipt():
        return post_entry(organisation, journal, received_on, lines=[
            EntryLineSpec(treasury, debit=amount), EntryLineSpec(waiting, credit=amount)],
            source=source, event=event, **common)

    def income_entry():
        return post_entry(organisation, income_journal, attachment.entry_date, lines=[
            EntryLineSpec(waiting, debit=amount), EntryLineSpec(income, credit=amount)],
            source=second_source, event=event, **common)

    if attachment.advance:
        entry = receipt()
        income_entry()
    else:
        income_entry()
        entry = receipt()
    return entry, attachment


def _treasury_side(event):
    spec = rules.EVENTS.get(event)
    if spec is None:
        raise AccountingError(f"Événement comptable inconnu : « {event} ».", "event")
    if spec.treasury_side is None or spec.needs_party:
        raise AccountingError(f"{spec.label} : seul un encaissement sans tiers se rattache ainsi à sa période.",
                              "event")
    return spec.treasury_side


def advances_received(organisation, account_number, on):
    """The auxiliary accounts of ``account_number`` (411) in credit at the end of ``on``: money
    received before what it pays was due (a fee of the next period paid in advance). ``[(auxiliary
    id, credit balance)]``: the balance sheet shows them among the debts (*adhérents créditeurs*),
    not as a smaller receivable."""
    account = get_account(organisation, account_number)
    balance = func.sum(JournalLine.credit - JournalLine.debit)
    rows = db.session.execute(
        select(JournalLine.auxiliary_id, balance)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .where(JournalLine.organisation_id == organisation.id, JournalLine.account_id == account.id,
               JournalLine.auxiliary_id.is_not(None), JournalEntry.status == EntryStatus.POSTED.value,
               JournalEntry.entry_date <= on)
        .group_by(JournalLine.auxiliary_id)
        .having(balance > 0)
        .order_by(JournalLine.auxiliary_id)).all()
    return [(aux_id, amount if amount is not None else ZERO) for aux_id, amount in rows]


__all__ = ["Attachment", "attach", "post_period_income", "advances_received", "WITHIN", "ADVANCE", "ARREARS",
           "DEFERRED_INCOME", "ACCRUED_INCOME"]
