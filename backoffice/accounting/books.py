"""Setting up an organisation's books (ledger, chart, journals, rules), looking up its accounts,
journals, auxiliary accounts and closed periods, and cleaning typed amounts and texts.
Part of the accounting services (``backoffice.accounting.services`` re-exports it)."""
from __future__ import annotations

import logging
from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice import money
from backoffice.accounting import rules
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.models import (
    Account,
    AuxiliaryAccount,
    ClosedPeriod,
    Journal,
    Ledger,
    PaymentMethodRule,
    PostingRule,
)
from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.models import ZERO, insert_objects

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Posting batches: the lookups of a run of postings, made once
# --------------------------------------------------------------------------------------------

_BATCHES = "accounting.posting_batches"
# A flush that writes one of these may change what a lookup returns: the batch forgets them all.
_SETTINGS = (Account, ClosedPeriod, Journal, Ledger, PaymentMethodRule, PostingRule)


class _Books:
    """What the postings of one organisation looked up during a batch: its ledger, accounts by
    number, journals by code, posting rules by event, payment methods, auxiliary accounts by
    (party, account), closed periods, and the last entry number of each fiscal year whose
    counter this transaction holds locked."""

    def __init__(self):
        self.forget()

    def forget(self):
        self.ledger = None
        self.accounts, self.journals, self.rules, self.methods, self.auxiliaries = {}, {}, {}, {}, {}
        self.closed_periods = None
        self.sequences = {}


@contextmanager
def posting_batch(organisation):
    """Post a run of entries of ``organisation`` with each lookup made once: ``with
    posting_batch(organisation): post_event(...) …`` (a workbook import posts thousands).

    The postings are exactly those made one by one — same lines, numbers, idempotence by
    ``source``, closed periods refused, balance checked by the database — only the lookups are
    kept: the ledger, accounts, journals, posting rules and payment methods, auxiliary accounts,
    closed periods, and the counter of a fiscal year once this transaction has locked it (the
    lock is held until the transaction ends). They are forgotten when the session commits or
    rolls back (a savepoint too: what it created is gone) and when a flush writes an account, a
    journal, a rule, a payment method, a closed period or the ledger (the settings pages and
    ``close_period`` flush). Re-entrant; ``post_event``, ``post_entry`` and ``reverse_entry``
    open one for themselves. Something that changes those tables or ``accounting_sequences``
    with raw SQL inside a batch must call ``forget_lookups()``."""
    batches = db.session.info.setdefault(_BATCHES, {})
    outer = organisation.id not in batches
    if outer:
        batches[organisation.id] = _Books()
    try:
        yield
    finally:
        if outer:
            batches.pop(organisation.id, None)


def forget_lookups(session=None):
    """Make the open posting batches of ``session`` (the current one by default) look up again."""
    session = session if session is not None else db.session()
    for books in session.info.get(_BATCHES, {}).values():
        books.forget()


def _books(organisation):
    """The lookups of the open batch of ``organisation`` (or its id), or None outside a batch."""
    batches = db.session.info.get(_BATCHES)
    return batches.get(getattr(organisation, "id", organisation)) if batches else None


def batch_closed_periods(organisation):
    """In a batch of ``organisation`` (or its id), its closed periods (months and years), latest
    end first, read once; None outside a batch (the caller queries what it needs)."""
    books = _books(organisation)
    if books is None:
        return None
    if books.closed_periods is None:
        books.closed_periods = list(db.session.scalars(select(ClosedPeriod).where(
            ClosedPeriod.organisation_id == getattr(organisation, "id", organisation))
            .order_by(ClosedPeriod.end_date.desc())))
    return books.closed_periods


def _looked_up(organisation, kind, key, load):
    """``load()``, or in a batch what it gave the first time for ``key`` (``kind`` names the
    batch's dictionary: ``"accounts"``, ``"rules"``…); None (not found) is not kept."""
    books = _books(organisation)
    found = getattr(books, kind).get(key) if books is not None else None
    if found is None:
        found = load()
        if found is not None and books is not None:
            getattr(books, kind)[key] = found
    return found


@event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session, transaction):
    # The end of the transaction (commit or rollback) releases the counters' locks.
    if transaction.parent is None:
        forget_lookups(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_at_rollback(session, previous_transaction):
    # A rollback, of a savepoint too, takes back the rows it created and the counters it moved.
    forget_lookups(session)


@event.listens_for(Session, "after_flush")
def _forget_changed_settings(session, flush_context):
    if not session.info.get(_BATCHES):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _SETTINGS):
            forget_lookups(session)
            return


# --------------------------------------------------------------------------------------------
# Setting up the books
# --------------------------------------------------------------------------------------------

def ensure_ledger(organisation):
    """The organisation's books, set up on first use: chart of accounts (associations: plan
    comptable des associations 2025; SISA: PCG), journals BQ, CA, OD, AN, default posting rules
    and payment methods. Idempotent; safe when two requests set up the same books at once."""
    books = _books(organisation)
    if books is not None and books.ledger is not None:
        return books.ledger
    ledger = db.session.get(Ledger, organisation.id)
    if ledger is None:
        ledger = _set_up_ledger(organisation)
    if books is not None:
        books.ledger = ledger
    return ledger


def _set_up_ledger(organisation):
    try:
        with db.session.begin_nested():
            ledger = _create_ledger(organisation)
    except IntegrityError:  # set up meanwhile by a concurrent transaction
        ledger = db.session.get(Ledger, organisation.id)
        if ledger is None:
            raise
    return ledger


def _create_ledger(organisation):
    chart = rules.chart_for(organisation)
    ledger = Ledger(organisation_id=organisation.id, chart=chart, lettering_counter=0)
    db.session.add(ledger)
    db.session.flush()
    accounts = {}
    for number, label, collective in rules.chart_rows(chart):
        account = Account(organisation_id=organisation.id, number=number, label=label, collective=collective)
        db.session.add(account)
        accounts[number] = account
    journals = {}
    for code, label, kind in rules.DEFAULT_JOURNALS:
        journal = Journal(organisation_id=organisation.id, code=code, label=label, kind=kind)
        db.session.add(journal)
        journals[code] = journal
    db.session.flush()
    for method, (account_number, journal_code) in rules.DEFAULT_PAYMENT_RULES.items():
        db.session.add(PaymentMethodRule(organisation_id=organisation.id, method=method,
                                         account_id=accounts[account_number].id,
                                         journal_id=journals[journal_code].id))
    for event, (debit, credit, journal_code) in rules.DEFAULT_RULES[chart].items():
        db.session.add(PostingRule(
            organisation_id=organisation.id, event=event,
            debit_account_id=accounts[debit].id if debit else None,
            credit_account_id=accounts[credit].id if credit else None,
            journal_id=journals[journal_code].id if journal_code else None,
        ))
    db.session.flush()
    log.info("books of organisation %s set up from chart %s", organisation.id, chart)
    return ledger


# --------------------------------------------------------------------------------------------
# Lookups
# --------------------------------------------------------------------------------------------

def get_account(organisation, number, *, for_posting=True):
    """The account ``number`` of the organisation, or ``AccountingError``."""
    if isinstance(number, Account):
        account = number
        if account.organisation_id != organisation.id:
            raise AccountingError(f"Le compte {account.number} n'appartient pas à {organisation.name}.")
    else:
        text = str(number or "").strip()
        account = _looked_up(organisation, "accounts", text, lambda: db.session.scalar(select(Account).where(
            Account.organisation_id == organisation.id, Account.number == text)))
        if account is None:
            raise AccountingError(f"Le compte {text or '(vide)'} n'existe pas dans le plan comptable de "
                                  f"{organisation.name}.", "account")
    if for_posting and not account.active:
        raise AccountingError(f"Le compte {account.number} « {account.label} » est désactivé.", "account")
    return account


def chart_account(organisation, number):
    """The account ``number`` of the organisation; one of its chart's accounts missing from books
    set up before the chart gained it (own funds such as 1062 or 115 were added later) is
    created now. For writing paths only: a page that reads never calls it."""
    account = db.session.scalar(select(Account).where(Account.organisation_id == organisation.id,
                                                      Account.number == str(number)))
    if account is not None:
        return get_account(organisation, account)
    ledger = ensure_ledger(organisation)
    row = next((row for row in rules.chart_rows(ledger.chart) if row[0] == str(number)), None)
    if row is None:
        return get_account(organisation, number)  # the French refusal of an unknown account
    account = Account(organisation_id=organisation.id, number=row[0], label=row[1], collective=row[2])
    db.session.add(account)
    db.session.flush()
    log.info("account %s of chart %s added to the books of organisation %s", row[0], ledger.chart,
             organisation.id)
    return account


def get_journal(organisation, code):
    if isinstance(code, Journal):
        journal = code
        if journal.organisation_id != organisation.id:
            raise AccountingError(f"Le journal {journal.code} n'appartient pas à {organisation.name}.")
    else:
        text = str(code or "").strip().upper()
        journal = _looked_up(organisation, "journals", text, lambda: db.session.scalar(select(Journal).where(
            Journal.organisation_id == organisation.id, Journal.code == text)))
        if journal is None:
            raise AccountingError(f"Le journal {text or '(vide)'} n'existe pas.", "journal")
    if not journal.active:
        raise AccountingError(f"Le journal {journal.code} est désactivé.", "journal")
    return journal


def auxiliary_account_for(organisation, party, account):
    """The party's auxiliary account on the collective ``account``, created on first use
    (number: a letter for the kind of third party and the party's number, e.g. ``A000042``)."""
    return _looked_up(organisation, "auxiliaries", (party.id, account.id),
                      lambda: _auxiliary_account(organisation, party, account))


def auxiliary_accounts_for(organisation, parties, account):
    """``auxiliary_account_for`` for many parties at once, in a posting batch (whose lookups it
    fills): the existing accounts read and the missing ones created with a few statements, numbered
    as one by one (``A000042``, or ``A000042-2`` when that number is taken)."""
    books = _books(organisation)
    wanted = {party.id: party for party in parties if (party.id, account.id) not in books.auxiliaries}
    ids = sorted(wanted)
    for start in range(0, len(ids), 500):
        for aux in db.session.scalars(select(AuxiliaryAccount).where(
                AuxiliaryAccount.organisation_id == organisation.id, AuxiliaryAccount.account_id == account.id,
                AuxiliaryAccount.party_id.in_(ids[start:start + 500]))):
            books.auxiliaries[(aux.party_id, account.id)] = aux
            del wanted[aux.party_id]
    if not wanted:
        return
    prefix = rules.AUX_PREFIXES.get(account.number[:3], "X")
    bases = {party_id: f"{prefix}{party_id:06d}" for party_id in wanted}
    numbers, taken = sorted(bases.values()), set()
    for start in range(0, len(numbers), 500):
        taken.update(db.session.scalars(select(AuxiliaryAccount.number).where(
            AuxiliaryAccount.organisation_id == organisation.id,
            AuxiliaryAccount.number.in_(numbers[start:start + 500]))))
    chosen = dict(bases)
    if taken:
        # The party's number is taken (by its account on another collective account — a member's
        # 411 when his 419 is opened at the closing — or by hand): the next free ``-2``, ``-3``…
        # as one by one, from the organisation's numbers read once.
        used = set(db.session.scalars(select(AuxiliaryAccount.number).where(
            AuxiliaryAccount.organisation_id == organisation.id)))
        for party_id, base in sorted(bases.items()):
            if base in taken:
                n = 2
                while f"{base}-{n}" in used:
                    n += 1
                chosen[party_id] = f"{base}-{n}"
                used.add(chosen[party_id])
    created = []
    for party_id, party in wanted.items():
        label = (getattr(party, "display_name", None) or str(party))[:200] or f"Tiers {party_id}"
        aux = AuxiliaryAccount(organisation_id=organisation.id, party_id=party_id, account_id=account.id,
                               number=chosen[party_id], label=label)
        created.append(aux)
        books.auxiliaries[(party_id, account.id)] = aux
    # One statement for them all (a workbook import opens a thousand), audited as a flush would.
    from backoffice.audit.services import record_bulk_creates

    db.session.add_all(insert_objects(created))
    record_bulk_creates(created)


def _auxiliary_account(organisation, party, account):
    aux = db.session.scalar(select(AuxiliaryAccount).where(
        AuxiliaryAccount.organisation_id == organisation.id, AuxiliaryAccount.party_id == party.id,
        AuxiliaryAccount.account_id == account.id))
    if aux is not None:
        return aux
    prefix = rules.AUX_PREFIXES.get(account.number[:3], "X")
    base = f"{prefix}{party.id:06d}"
    number, n = base, 1
    while db.session.scalar(select(AuxiliaryAccount.id).where(
            AuxiliaryAccount.organisation_id == organisation.id, AuxiliaryAccount.number == number)):
        n += 1
        number = f"{base}-{n}"
    label = (getattr(party, "display_name", None) or str(party))[:200] or f"Tiers {party.id}"
    try:
        with db.session.begin_nested():
            aux = AuxiliaryAccount(organisation_id=organisation.id, party_id=party.id,
                                   account_id=account.id, number=number, label=label)
            db.session.add(aux)
            db.session.flush()
    except IntegrityError:
        aux = db.session.scalar(select(AuxiliaryAccount).where(
            AuxiliaryAccount.organisation_id == organisation.id, AuxiliaryAccount.party_id == party.id,
            AuxiliaryAccount.account_id == account.id))
        if aux is None:
            raise
    return aux


def closed_period_containing(organisation, day):
    periods = batch_closed_periods(organisation)
    if periods is not None:
        return next((period for period in periods if period.start_date <= day <= period.end_date), None)
    return db.session.scalar(select(ClosedPeriod).where(
        ClosedPeriod.organisation_id == organisation.id, ClosedPeriod.start_date <= day,
        ClosedPeriod.end_date >= day).order_by(ClosedPeriod.end_date.desc()).limit(1))


def check_open(organisation, day):
    """Raise ``AccountingError`` if ``day`` falls in a closed month or fiscal year."""
    period = closed_period_containing(organisation, day)
    if period is not None:
        what = "L'exercice" if period.kind == "year" else "La période"
        raise AccountingError(
            f"{what} du {period.start_date:%d/%m/%Y} au {period.end_date:%d/%m/%Y} est clôturé"
            f"{'' if period.kind == 'year' else 'e'} : aucune écriture ne peut y être passée "
            f"(date {day:%d/%m/%Y}).", "entry_date")


# --------------------------------------------------------------------------------------------
# Amounts
# --------------------------------------------------------------------------------------------

def clean_amount(value, what="Le montant", allow_zero=False):
    """A ``Decimal`` with at most two decimals, positive (or zero if allowed, blank then meaning
    zero); ``backoffice.money.clean_amount``'s rules, as ``AccountingError``."""
    if allow_zero and (value is None or value == ""):
        return ZERO
    try:
        return money.clean_amount(value, what=what, allow_zero=allow_zero)
    except ServiceError as exc:
        raise AccountingError(str(exc), exc.field) from None


def _clean_text(value, what, max_length, field):
    text = " ".join(str(value or "").split())
    if not text:
        raise AccountingError(f"{what} est obligatoire.", field)
    if len(text) > max_length:
        raise AccountingError(f"{what} dépasse {max_length} caractères.", field)
    return text


def _fr(amount):
    """``1 234,56 €`` for messages."""
    from backoffice.formatting import format_money

    return format_money(amount)
