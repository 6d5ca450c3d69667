"""The ledger's rules: setting up the books, posting, reversing, lettering, closing periods.

The rules live in modules along their seams — ``books`` (setting up, lookups, amounts),
``posting`` (entries, events, reversals), ``lettering``, ``periods`` (validation, closing a
month), ``closing`` (closing a fiscal year: checklist, definitive numbers, freeze) and
``settings`` (chart of accounts, journals, posting rules); this module gathers their public
names, so that callers import them from here.

The public API other modules call::

    from backoffice.accounting.services import (
        post_event, post_entry, reverse_entry, posting_source, EntryLineSpec, EventShare, AccountingError)

    entry = post_event(organisation, "fee_due", amount=Decimal("50.00"), entry_date=date(2026, 1, 15),
                       party=professional, piece_ref="ADH-2026-0042",
                       label="Cotisation 2026 – Marie DUPONT", source=posting_source(Membership, 42))
    entry = post_event(organisation, "fee_paid", amount=..., entry_date=..., party=...,
                       piece_ref=..., label=..., payment_method="cheque",
                       source=posting_source(MembershipPayment, 17))
    # One line per party on the party's side, one line for the total on the other (D 62261 / C 4551 × 30):
    entry = post_event(organisation, "sisa_distribution", entry_date=..., piece_ref=..., label=...,
                       shares=[EventShare(associate, Decimal("1523.40")), ...],
                       source=posting_source("sisa_distributions", 3, "v2"))
    entry = post_entry(organisation, journal="OD", entry_date=..., piece_ref=..., label=...,
                       lines=[EntryLineSpec("411", debit=Decimal("50.00"), party=p), ...])
    reversal = reverse_entry(entry)
    # An operation of a period (a fee, the ACI of a year) is booked in the fiscal year of its
    # period (``cutoff``: dated the period's first day when made before it…):
    when = attach(organisation, period.starts_on, period.ends_on, date.today())   # .entry_date, .advance
    receipt, when = post_period_income(organisation, "aci_income", amount=..., received_on=...,
                                       period_start=..., period_end=..., piece_ref=..., label=..., source=...)
    with posting_batch(organisation):  # an import's thousands of postings: lookups made once
        for payment in payments:
            post_event(organisation, "fee_paid", ...)
    entries = post_events(organisation, [dict(event="fee_due", amount=..., ...), ...])

Every function flushes and never commits: the view, job or command that called it commits once.
Errors are ``AccountingError`` with a French message (``field`` names the form field when one
is to blame); nothing is written when one is raised *before* the flush, and the caller rolls
back otherwise.

Idempotency (``source``): posting again with a ``source`` already posted in the organisation
returns the entry already posted when it is the same operation (same event, amount and party;
for ``post_entry`` same journal and total) — a retried job or a double click posts once — and
raises ``AccountingError`` when it differs or when that entry has since been reversed (post the
new operation under a new source, e.g. ``posting_source(Membership, 42, 2)``). A database unique
index on (organisation, source) backs it. Sources start with the table of the row they book
(``backoffice.accounting.sources``), so two features never collide.

Numbering: entries are numbered per organisation and fiscal year, 1, 2, 3… with no gap. The
number is taken from ``accounting_sequences`` under a row lock (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite serialises writers, and the ``INSERT … ON CONFLICT DO NOTHING`` that creates
the counter row takes the write lock first) in the same transaction as the entry: a rollback
gives the number back, and two concurrent postings wait for each other.
"""
from backoffice.accounting import rules
from backoffice.accounting.books import (
    auxiliary_account_for,
    check_open,
    clean_amount,
    closed_period_containing,
    ensure_ledger,
    forget_lookups,
    get_account,
    get_journal,
    posting_batch,
)
from backoffice.accounting.closing import ClosingCheck, close_fiscal_year, closing_checklist, is_year_closed
from backoffice.accounting.cutoff import Attachment, advances_received, attach, post_period_income
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.lettering import auto_letter, letter_lines, lettering_code, unletter
from backoffice.accounting.periods import (
    close_period,
    has_entries,
    month_bounds,
    period_overview,
    validate_entries,
)
from backoffice.accounting.posting import (
    EntryLineSpec,
    EventShare,
    entry_is_locked,
    event_accounts,
    post_entry,
    post_event,
    post_events,
    post_events_at_once,
    reversal_of,
    reverse_entry,
)
from backoffice.accounting.settings import (
    add_account,
    add_journal,
    collective_numbers,
    delete_account,
    payment_method_rules,
    posting_rules,
    update_account,
    update_journal,
    update_payment_method,
    update_posting_rule,
)
from backoffice.accounting.sources import posting_source
from backoffice.models import ZERO

__all__ = [
    "rules",
    "auxiliary_account_for",
    "check_open",
    "clean_amount",
    "closed_period_containing",
    "ensure_ledger",
    "get_account",
    "get_journal",
    "Attachment",
    "advances_received",
    "attach",
    "post_period_income",
    "forget_lookups",
    "posting_batch",
    "ClosingCheck",
    "close_fiscal_year",
    "closing_checklist",
    "is_year_closed",
    "AccountingError",
    "auto_letter",
    "letter_lines",
    "lettering_code",
    "unletter",
    "close_period",
    "has_entries",
    "month_bounds",
    "period_overview",
    "validate_entries",
    "EntryLineSpec",
    "EventShare",
    "entry_is_locked",
    "event_accounts",
    "post_entry",
    "post_event",
    "post_events",
    "post_events_at_once",
    "reversal_of",
    "reverse_entry",
    "add_account",
    "add_journal",
    "collective_numbers",
    "delete_account",
    "payment_method_rules",
    "posting_rules",
    "update_account",
    "update_journal",
    "update_payment_method",
    "update_posting_rule",
    "posting_source",
    "ZERO",
]
