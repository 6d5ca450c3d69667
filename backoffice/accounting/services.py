"""The ledger's rules: setting up the books, posting, reversing, lettering, closing periods.

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
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Iterable, Sequence

from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from backoffice import money
from backoffice.accounting import rules
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.models import (
    Account,
    AuxiliaryAccount,
    ClosedPeriod,
    EntrySequence,
    EntryStatus,
    Journal,
    JournalEntry,
    JournalKind,
    JournalLine,
    Ledger,
    PaymentMethodRule,
    PostingRule,
)
from backoffice.accounting.sources import posting_source  # noqa: F401 (public API, see the docstring)
from backoffice.errors import ServiceError
from backoffice.audit.services import current_actor_id
from backoffice.extensions import db
from backoffice.models import ZERO, insert_unless_present

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EntryLineSpec:
    """One line to post: an account number (or ``Account``), a debit *or* a credit, the party
    whose auxiliary account it is (required on collective accounts such as 411, refused
    elsewhere), and an optional label (the entry's label otherwise)."""

    account: object
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    party: object = None
    label: str | None = None


# --------------------------------------------------------------------------------------------
# Who is acting
# --------------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------------
# Setting up the books
# --------------------------------------------------------------------------------------------

def ensure_ledger(organisation):
    """The organisation's books, set up on first use: chart of accounts (associations: plan
    comptable des associations 2025; SISA: PCG), journals BQ, CA, OD, AN, default posting rules
    and payment methods. Idempotent; safe when two requests set up the same books at once."""
    ledger = db.session.get(Ledger, organisation.id)
    if ledger is not None:
        return ledger
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
        account = db.session.scalar(select(Account).where(Account.organisation_id == organisation.id,
                                                          Account.number == text))
        if account is None:
            raise AccountingError(f"Le compte {text or '(vide)'} n'existe pas dans le plan comptable de "
                                  f"{organisation.name}.", "account")
    if for_posting and not account.active:
        raise AccountingError(f"Le compte {account.number} « {account.label} » est désactivé.", "account")
    return account


def get_journal(organisation, code):
    if isinstance(code, Journal):
        journal = code
        if journal.organisation_id != organisation.id:
            raise AccountingError(f"Le journal {journal.code} n'appartient pas à {organisation.name}.")
    else:
        text = str(code or "").strip().upper()
        journal = db.session.scalar(select(Journal).where(Journal.organisation_id == organisation.id,
                                                          Journal.code == text))
        if journal is None:
            raise AccountingError(f"Le journal {text or '(vide)'} n'existe pas.", "journal")
    if not journal.active:
        raise AccountingError(f"Le journal {journal.code} est désactivé.", "journal")
    return journal


def auxiliary_account_for(organisation, party, account):
    """The party's auxiliary account on the collective ``account``, created on first use
    (number: a letter for the kind of third party and the party's number, e.g. ``A000042``)."""
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


# --------------------------------------------------------------------------------------------
# Posting
# --------------------------------------------------------------------------------------------

@dataclass
class _Line:
    account: Account
    auxiliary: AuxiliaryAccount | None
    debit: Decimal
    credit: Decimal
    label: str | None


def _resolve_lines(organisation, specs: Sequence[EntryLineSpec]):
    if len(specs) < 2:
        raise AccountingError("Une écriture compte au moins deux lignes (un débit et un crédit).", "lines")
    lines = []
    for position, spec in enumerate(specs, start=1):
        account = get_account(organisation, spec.account)
        debit = clean_amount(spec.debit, f"Ligne {position} : le débit", allow_zero=True)
        credit = clean_amount(spec.credit, f"Ligne {position} : le crédit", allow_zero=True)
        if (debit > 0) == (credit > 0):
            raise AccountingError(
                f"Ligne {position} (compte {account.number}) : saisissez soit un débit, soit un crédit"
                f"{'' if debit > 0 else ', non nul'}.", "lines")
        auxiliary = None
        if account.collective:
            if spec.party is None:
                raise AccountingError(
                    f"Ligne {position} : le compte {account.number} est un compte collectif ; "
                    "indiquez le tiers (adhérent, bénéficiaire, associé).", "lines")
            auxiliary = auxiliary_account_for(organisation, spec.party, account)
        elif spec.party is not None:
            raise AccountingError(
                f"Ligne {position} : le compte {account.number} n'est pas un compte de tiers ; "
                "un tiers ne peut y être indiqué.", "lines")
        label = " ".join(str(spec.label).split())[:200] if spec.label else None
        lines.append(_Line(account, auxiliary, debit, credit, label))
    total_debit = sum((line.debit for line in lines), ZERO)
    total_credit = sum((line.credit for line in lines), ZERO)
    if total_debit != total_credit:
        raise AccountingError(
            f"Écriture déséquilibrée : total des débits {_fr(total_debit)}, total des crédits "
            f"{_fr(total_credit)} (écart {_fr(abs(total_debit - total_credit))}). Rien n'a été "
            "enregistré.", "lines")
    return lines, total_debit


def _fr(amount):
    """``1 234,56 €`` for messages."""
    from backoffice.formatting import format_money

    return format_money(amount)


def _lock_sequence(organisation_id, fiscal_year):
    """Lock the counter of the fiscal year (creating it) and return its last number."""
    insert_unless_present(EntrySequence, organisation_id=organisation_id, fiscal_year=fiscal_year, last_number=0)
    return db.session.execute(
        select(EntrySequence.last_number).where(EntrySequence.organisation_id == organisation_id,
                                                EntrySequence.fiscal_year == fiscal_year).with_for_update()
    ).scalar_one()


def _entry_by_source(organisation, source):
    return db.session.scalar(select(JournalEntry).where(JournalEntry.organisation_id == organisation.id,
                                                        JournalEntry.source == source))


def reversal_of(entry):
    """The entry that reversed ``entry``, if any."""
    return db.session.scalar(select(JournalEntry).where(JournalEntry.reversal_of_id == entry.id))


def _post(organisation, *, journal, entry_date, piece_ref, piece_date, label, lines, total, source,
          event, reversal_of_entry=None, user=None, same_operation=None):
    """Insert a draft, number it, post it. Returns ``(entry, created)``."""
    if not isinstance(entry_date, date):
        raise AccountingError("La date de l'écriture est obligatoire.", "entry_date")
    check_open(organisation, entry_date)
    fiscal_year = organisation.fiscal_year_of(entry_date)
    last_number = _lock_sequence(organisation.id, fiscal_year)
    if source is not None:
        existing = _entry_by_source(organisation, source)
        if existing is not None:
            if reversal_of(existing) is not None:
                raise AccountingError(
                    f"L'opération « {source} » a déjà été comptabilisée (écriture {existing.reference}) puis "
                    "contre-passée : comptabilisez la nouvelle opération sous une autre référence.", "source")
            if same_operation is not None and not same_operation(existing):
                raise AccountingError(
                    f"L'opération « {source} » est déjà comptabilisée (écriture {existing.reference}) avec "
                    "d'autres montants ou comptes : contre-passez-la avant d'en passer une autre.", "source")
            return existing, False
    entry = JournalEntry(
        organisation_id=organisation.id, journal_id=journal.id, fiscal_year=fiscal_year,
        entry_date=entry_date, piece_ref=piece_ref, piece_date=piece_date or entry_date, label=label,
        status=EntryStatus.DRAFT.value, event=event, source=source,
        reversal_of_id=reversal_of_entry.id if reversal_of_entry is not None else None,
        created_by_id=current_actor_id(user),
    )
    entry.journal = journal
    db.session.add(entry)
    for position, line in enumerate(lines, start=1):
        db.session.add(JournalLine(
            entry=entry, organisation_id=organisation.id, position=position, account_id=line.account.id,
            auxiliary_id=line.auxiliary.id if line.auxiliary else None, label=line.label,
            debit=line.debit, credit=line.credit,
        ))
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        if source is not None and _entry_by_source(organisation, source) is not None:
            raise AccountingError(f"L'opération « {source} » vient d'être comptabilisée par ailleurs.",
                                  "source") from None
        raise
    entry.number = last_number + 1
    entry.status = EntryStatus.POSTED.value
    db.session.execute(update(EntrySequence).where(
        EntrySequence.organisation_id == organisation.id, EntrySequence.fiscal_year == fiscal_year,
    ).values(last_number=entry.number))
    db.session.flush()  # the database trigger checks the balance here
    return entry, True


def post_entry(organisation, journal, entry_date, piece_ref, label, lines: Sequence[EntryLineSpec],
               source=None, piece_date=None, event=None, user=None):
    """Post a balanced entry (manual entries, or any other module's entry). ``journal`` is a
    code (``"OD"``) or a ``Journal``; ``lines`` are ``EntryLineSpec``. Raises ``AccountingError``:
    unknown or inactive account or journal, unbalanced entry, zero/negative amount, a line with
    both or neither debit and credit, a party missing on a collective account (or given on
    another), a date in a closed period. Letters the auxiliary accounts touched when what is due
    and what is paid balance."""
    ensure_ledger(organisation)
    journal = get_journal(organisation, journal)
    piece_ref = _clean_text(piece_ref, "La référence de la pièce", 60, "piece_ref")
    label = _clean_text(label, "Le libellé", 200, "label")
    if source is not None:
        source = _clean_text(source, "La source", 120, "source")
    resolved, total = _resolve_lines(organisation, list(lines))

    def same(existing):
        return existing.journal_id == journal.id and existing.total == total

    entry, created = _post(organisation, journal=journal, entry_date=entry_date, piece_ref=piece_ref,
                           piece_date=piece_date, label=label, lines=resolved, total=total, source=source,
                           event=event, user=user, same_operation=same)
    if created:
        _auto_letter_touched(organisation, entry)
    return entry


def event_accounts(organisation, event, payment_method=None):
    """``(journal, debit_account, credit_account)`` the organisation's rules give ``event``."""
    spec = rules.EVENTS.get(event)
    if spec is None:
        raise AccountingError(f"Événement comptable inconnu : « {event} ».", "event")
    ensure_ledger(organisation)
    rule = db.session.scalar(select(PostingRule).where(PostingRule.organisation_id == organisation.id,
                                                       PostingRule.event == event))
    if rule is None:  # an event added after the books were set up
        rule = _default_rule(organisation, event)
    if rule is None:
        raise AccountingError(f"Aucune règle de comptabilisation pour « {spec.label} » : "
                              "complétez les paramètres comptables.", "event")
    treasury = None
    if spec.treasury_side is not None:
        method = payment_method or (None if spec.requires_payment_method else rules.DEFAULT_PAYMENT_METHOD)
        if method is None:
            raise AccountingError(f"{spec.label} : le moyen de paiement est obligatoire.", "payment_method")
        if method not in rules.PAYMENT_METHODS:
            raise AccountingError(f"Moyen de paiement inconnu : « {method} ».", "payment_method")
        treasury = db.session.scalar(select(PaymentMethodRule).where(
            PaymentMethodRule.organisation_id == organisation.id, PaymentMethodRule.method == method))
        if treasury is None:
            raise AccountingError(f"Aucun compte de trésorerie pour le moyen de paiement "
                                  f"« {rules.PAYMENT_METHODS[method]} ».", "payment_method")
    debit = treasury.account if spec.treasury_side == "debit" else rule.debit_account
    credit = treasury.account if spec.treasury_side == "credit" else rule.credit_account
    journal = treasury.journal if treasury is not None else rule.journal
    if debit is None or credit is None or journal is None:
        raise AccountingError(f"La règle de comptabilisation de « {spec.label} » est incomplète.", "event")
    return journal, debit, credit


@dataclass(frozen=True)
class EventShare:
    """One party's line of a business event shared among several parties (``post_event(...,
    shares=[...])``): the party, its amount and an optional line label."""

    party: object
    amount: Decimal
    label: str | None = None


def _clean_shares(spec, shares):
    cleaned, seen = [], set()
    for share in shares:
        if share.party is None:
            raise AccountingError(f"{spec.label} : chaque part indique son tiers.", "party")
        name = getattr(share.party, "display_name", None) or f"tiers {share.party.id}"
        if share.party.id in seen:
            raise AccountingError(f"{spec.label} : {name} a deux parts ; regroupez-les.", "party")
        seen.add(share.party.id)
        amount = clean_amount(share.amount, f"La part de {name}", allow_zero=True)
        if amount:  # a zero share (allocate() may give one) has no line
            cleaned.append(EventShare(share.party, amount, share.label))
    if not cleaned:
        raise AccountingError(f"{spec.label} : aucune part à comptabiliser (toutes sont nulles).", "amount")
    return cleaned


def post_event(organisation, event, *, amount=None, entry_date, party=None, shares=None, piece_ref, label,
               payment_method=None, source=None, piece_date=None, user=None):
    """Post the entry of a business event with the organisation's posting rules.

    Events (``rules.EVENTS``): ``fee_due``, ``fee_paid``, ``fee_refund``, ``cheques_deposited``,
    ``grant_committed``, ``grant_paid``, ``subsidy_received``, ``aci_income``,
    ``sisa_distribution``, ``sisa_distribution_paid``, ``bank_fees``. ``party`` is required for
    events that touch a third party's account (fees, grants, distribution); ``payment_method``
    (``transfer``, ``cheque``, ``cash``, ``card``, ``direct_debit``) for ``fee_paid`` and
    ``fee_refund``, and defaults to ``transfer`` for the other treasury events.

    Two lines (``amount`` and ``party``), or, for an event that touches a third party's account,
    one line per party: ``shares=[EventShare(party, amount, label=None), …]`` instead of
    ``party``, e.g. a SISA distribution to 30 associates is one entry D 62261 (the total) /
    C 4551 (each associate's auxiliary account, his share). The accounts and journal still come
    from the rule; ``amount``, if given, must equal the sum of the shares; zero shares get no
    line; a party may appear once. See the module docstring for ``source`` (idempotency: the
    same event, total and shares per party is the same operation)."""
    spec = rules.EVENTS.get(event)
    if spec is None:
        raise AccountingError(f"Événement comptable inconnu : « {event} ».", "event")
    if shares is not None:
        if party is not None:
            raise AccountingError(f"{spec.label} : indiquez soit un tiers, soit des parts, pas les deux.", "party")
        if not spec.needs_party:
            raise AccountingError(f"{spec.label} : cet événement ne se répartit pas entre des tiers.", "party")
        party_lines = _clean_shares(spec, shares)
        total = sum((share.amount for share in party_lines), ZERO)
        if amount is not None and clean_amount(amount) != total:
            raise AccountingError(f"{spec.label} : le montant ({_fr(clean_amount(amount))}) n'est pas la somme des "
                                  f"parts ({_fr(total)}).", "amount")
        amount = total
    else:
        amount = clean_amount(amount)
        if spec.needs_party and party is None:
            raise AccountingError(f"{spec.label} : le tiers (adhérent, bénéficiaire ou associé) est obligatoire.",
                                  "party")
        if not spec.needs_party and party is not None:
            raise AccountingError(f"{spec.label} : cet événement ne concerne pas un tiers.", "party")
        party_lines = [EventShare(party, amount)] if party is not None else []
    journal, debit_account, credit_account = event_accounts(organisation, event, payment_method)
    accounts = {"debit": debit_account, "credit": credit_account}

    def side_line(side, value, line_party=None, line_label=None):
        return EntryLineSpec(accounts[side], debit=value if side == "debit" else ZERO,
                             credit=value if side == "credit" else ZERO, party=line_party, label=line_label)

    if spec.party_side is None:
        specs = [side_line("debit", amount), side_line("credit", amount)]
    else:
        other_side = "credit" if spec.party_side == "debit" else "debit"
        by_party = [side_line(spec.party_side, share.amount, share.party, share.label) for share in party_lines]
        total_line = side_line(other_side, amount)
        specs = by_party + [total_line] if spec.party_side == "debit" else [total_line] + by_party
    for account, has_party in dict.fromkeys((spec_line.account, spec_line.party is not None) for spec_line in specs):
        if account.collective and not has_party:
            raise AccountingError(
                f"La règle de « {spec.label} » utilise le compte collectif {account.number} sans tiers : "
                "corrigez les paramètres comptables.", "event")
        if not account.collective and has_party:
            raise AccountingError(
                f"La règle de « {spec.label} » doit porter le tiers sur un compte collectif (411, 467…), "
                f"pas sur {account.number} : corrigez les paramètres comptables.", "event")
    piece_ref = _clean_text(piece_ref, "La référence de la pièce", 60, "piece_ref")
    label = _clean_text(label, "Le libellé", 200, "label")
    if source is not None:
        source = _clean_text(source, "La source", 120, "source")
    resolved, total = _resolve_lines(organisation, specs)
    expected_shares = sorted((share.party.id, share.amount) for share in party_lines)

    def same(existing):
        if existing.event != event or existing.total != amount:
            return False
        return expected_shares == sorted((line.auxiliary.party_id, line.debit + line.credit)
                                         for line in existing.lines if line.auxiliary is not None)

    entry, created = _post(organisation, journal=journal, entry_date=entry_date, piece_ref=piece_ref,
                           piece_date=piece_date, label=label, lines=resolved, total=total, source=source,
                           event=event, user=user, same_operation=same)
    if created:
        _auto_letter_touched(organisation, entry)
    return entry


def reverse_entry(entry, entry_date=None, label=None, user=None):
    """Post the reversal (*contre-passation*) of a posted entry: the same lines with debit and
    credit swapped, in the same journal, for the same piece. Dated ``entry_date``, by default
    the original date if its period is still open, otherwise today. The original is never
    modified; its auxiliary lines still unlettered are lettered with their mirror lines."""
    from backoffice.organisations.models import Organisation

    organisation = db.session.get(Organisation, entry.organisation_id)
    if entry.status != EntryStatus.POSTED.value:
        raise AccountingError("Seule une écriture comptabilisée peut être contre-passée.")
    if entry.reversal_of_id is not None:
        raise AccountingError(f"L'écriture {entry.reference} est elle-même une contre-passation : "
                              "passez une nouvelle écriture.")
    existing = reversal_of(entry)
    if existing is not None:
        raise AccountingError(f"L'écriture {entry.reference} a déjà été contre-passée "
                              f"(écriture {existing.reference}).")
    if entry_date is None:
        entry_date = entry.entry_date if closed_period_containing(organisation, entry.entry_date) is None \
            else date.today()
    label = _clean_text(label or f"Contre-passation {entry.reference} – {entry.label}"[:200],
                        "Le libellé", 200, "label")
    lines = [_Line(line.account, line.auxiliary, line.credit, line.debit, line.label) for line in entry.lines]
    reversal, _ = _post(organisation, journal=entry.journal, entry_date=entry_date, piece_ref=entry.piece_ref,
                        piece_date=entry.piece_date, label=label, lines=lines, total=entry.total, source=None,
                        event="reversal", reversal_of_entry=entry, user=user)
    pairs = [(original, mirror) for original, mirror in zip(entry.lines, reversal.lines)
             if original.auxiliary_id is not None and original.lettering_code is None]
    for original, mirror in pairs:
        letter_lines(organisation, [original, mirror], on=entry_date)
    _auto_letter_touched(organisation, reversal)
    return reversal


def entry_is_locked(entry):
    """True once validated (exported in a FEC, or its period closed)."""
    return entry.validated_on is not None


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
    auxiliary account, none lettered yet, whose debits equal their credits. Returns the code."""
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
    code = _next_lettering_code(organisation)
    when = on or date.today()
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
    for line in lines:
        line.lettering_code = None
        line.lettering_date = None
    db.session.flush()
    return len(lines)


def _unlettered(organisation, auxiliary_id):
    """The unlettered posted lines of an auxiliary account, locked (PostgreSQL) so that two
    transactions lettering the same account do not letter the same line twice: the second
    waits, then no longer sees what the first lettered."""
    return list(db.session.scalars(
        select(JournalLine).join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .where(JournalLine.organisation_id == organisation.id, JournalLine.auxiliary_id == auxiliary_id,
               JournalLine.lettering_code.is_(None), JournalEntry.status == EntryStatus.POSTED.value)
        .order_by(JournalEntry.entry_date, JournalEntry.fiscal_year, JournalEntry.number, JournalLine.id)
        .with_for_update(of=JournalLine)).unique())


def auto_letter(organisation, auxiliary, on=None):
    """Letter what balances on an auxiliary account: first each debit with the oldest credit of
    the same amount (a fee and its payment), then the shortest run of remaining lines, in date
    order, whose debits equal their credits (two fees paid at once). Returns the codes."""
    aux_id = auxiliary.id if isinstance(auxiliary, AuxiliaryAccount) else auxiliary
    lines = _unlettered(organisation, aux_id)
    codes = []
    credits = [line for line in lines if line.credit > 0]
    for debit in [line for line in lines if line.debit > 0]:
        match = next((credit for credit in credits if credit.credit == debit.debit), None)
        if match is not None:
            credits.remove(match)
            codes.append(letter_lines(organisation, [debit, match], on=on))
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
        codes.append(letter_lines(organisation, run, on=on))
        remaining = remaining[len(run):]
    return codes


def _auto_letter_touched(organisation, entry):
    for aux_id in sorted({line.auxiliary_id for line in entry.lines if line.auxiliary_id is not None}):
        auto_letter(organisation, aux_id, on=entry.entry_date)


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------

def month_bounds(year, month):
    start = date(year, month, 1)
    end = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    return start, end


def validate_entries(organisation, start, end, user=None):
    """Stamp the posted, not yet validated entries dated ``start``–``end`` as validated today
    (they are locked from then on); returns how many. A set-based UPDATE: a year of entries is
    one statement (the export or closing that calls it is recorded in the audit trail)."""
    result = db.session.execute(
        update(JournalEntry.__table__)
        .where(JournalEntry.__table__.c.organisation_id == organisation.id,
               JournalEntry.__table__.c.status == EntryStatus.POSTED.value,
               JournalEntry.__table__.c.validated_on.is_(None),
               JournalEntry.__table__.c.entry_date >= start, JournalEntry.__table__.c.entry_date <= end)
        .values(validated_on=date.today(), validated_by_id=current_actor_id(user))
    )
    # Objects already loaded must not keep a stale validated_on.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, JournalEntry) and obj.organisation_id == organisation.id and start <= obj.entry_date <= end:
            db.session.expire(obj, ["validated_on", "validated_by_id"])
    return result.rowcount


def close_period(organisation, kind, year, month=None, user=None):
    """Close a month (``kind="month"``, ``month`` 1–12 of calendar ``year``) or the fiscal year
    starting in ``year`` (``kind="year"``): nothing may be posted in it any more and its entries
    are validated (locked). Refuses a period already closed."""
    ensure_ledger(organisation)
    if kind == "month":
        if not month or not 1 <= int(month) <= 12:
            raise AccountingError("Mois invalide.", "month")
        start, end = month_bounds(int(year), int(month))
    elif kind == "year":
        start, end = organisation.fiscal_year_bounds(int(year))
    else:
        raise AccountingError("Type de période inconnu.", "kind")
    already = db.session.scalar(select(ClosedPeriod).where(
        ClosedPeriod.organisation_id == organisation.id, ClosedPeriod.start_date <= start,
        ClosedPeriod.end_date >= end))
    if already is not None:
        raise AccountingError(f"{already} : déjà clôturée.", "kind")
    validated = validate_entries(organisation, start, end, user=user)
    period = ClosedPeriod(organisation_id=organisation.id, kind=kind, start_date=start, end_date=end,
                          closed_by_id=current_actor_id(user))
    db.session.add(period)
    db.session.flush()
    log.info("organisation %s closed %s %s–%s (%d entries validated)", organisation.id, kind, start, end, validated)
    return period


def period_overview(organisation, year):
    """The months of the fiscal year starting in ``year``: ``(start, end, entry count, closed)``."""
    start, end = organisation.fiscal_year_bounds(year)
    counts = dict(db.session.execute(
        select(JournalEntry.entry_date, func.count()).where(
            JournalEntry.organisation_id == organisation.id, JournalEntry.status == EntryStatus.POSTED.value,
            JournalEntry.entry_date >= start, JournalEntry.entry_date <= end)
        .group_by(JournalEntry.entry_date)).all())
    closed = list(db.session.scalars(select(ClosedPeriod).where(
        ClosedPeriod.organisation_id == organisation.id, ClosedPeriod.end_date >= start,
        ClosedPeriod.start_date <= end)))
    months = []
    day = start
    while day <= end:
        first, last = month_bounds(day.year, day.month)
        count = sum(n for d, n in counts.items() if first <= d <= last)
        is_closed = any(p.start_date <= first and p.end_date >= last for p in closed)
        months.append((first, last, count, is_closed))
        day = last + timedelta(days=1)
    year_closed = any(p.kind == "year" and p.start_date <= start and p.end_date >= end for p in closed)
    return months, year_closed


# --------------------------------------------------------------------------------------------
# Chart of accounts, journals, posting rules (settings)
# --------------------------------------------------------------------------------------------

def _account_in_use(account):
    return db.session.scalar(select(exists().where(JournalLine.account_id == account.id)))


def _account_in_rules(account):
    return db.session.scalar(select(exists().where(
        (PostingRule.debit_account_id == account.id) | (PostingRule.credit_account_id == account.id)))) or \
        db.session.scalar(select(exists().where(PaymentMethodRule.account_id == account.id)))


def add_account(organisation, number, label, collective=False):
    ensure_ledger(organisation)
    number = str(number or "").strip()
    if not number.isdigit() or not 3 <= len(number) <= 12 or number[0] not in "12345678":
        raise AccountingError("Le numéro de compte compte de 3 à 12 chiffres et commence par la classe (1 à 8).",
                              "number")
    label = _clean_text(label, "Le libellé du compte", 200, "label")
    if db.session.scalar(select(Account.id).where(Account.organisation_id == organisation.id,
                                                  Account.number == number)):
        raise AccountingError(f"Le compte {number} existe déjà.", "number")
    account = Account(organisation_id=organisation.id, number=number, label=label, collective=bool(collective))
    db.session.add(account)
    db.session.flush()
    return account


def update_account(account, label, collective=None, active=None):
    """Rename an account; change whether it is collective (only while it has no line);
    (de)activate it (not while a posting rule uses it)."""
    account.label = _clean_text(label, "Le libellé du compte", 200, "label")
    if collective is not None and bool(collective) != account.collective:
        if _account_in_use(account):
            raise AccountingError(f"Le compte {account.number} a déjà des écritures : il ne peut pas changer "
                                  "de nature (collectif ou non).", "collective")
        account.collective = bool(collective)
    if active is not None and bool(active) != account.active:
        if not active and _account_in_rules(account):
            raise AccountingError(f"Le compte {account.number} est utilisé par une règle de comptabilisation : "
                                  "modifiez d'abord la règle.", "active")
        account.active = bool(active)
    db.session.flush()
    return account


def delete_account(account):
    """Delete an account that was never used; one with lines can only be deactivated."""
    if _account_in_use(account):
        raise AccountingError(f"Le compte {account.number} a des écritures : il ne peut pas être supprimé, "
                              "seulement désactivé.")
    if _account_in_rules(account):
        raise AccountingError(f"Le compte {account.number} est utilisé par une règle de comptabilisation.")
    db.session.execute(delete(AuxiliaryAccount).where(AuxiliaryAccount.account_id == account.id))
    db.session.delete(account)
    db.session.flush()


def add_journal(organisation, code, label, kind=JournalKind.MISC.value):
    ensure_ledger(organisation)
    code = str(code or "").strip().upper()
    if not code.isalnum() or not code.isascii() or not 1 <= len(code) <= 8:
        raise AccountingError("Le code journal compte de 1 à 8 lettres ou chiffres.", "code")
    if db.session.scalar(select(Journal.id).where(Journal.organisation_id == organisation.id, Journal.code == code)):
        raise AccountingError(f"Le journal {code} existe déjà.", "code")
    if kind not in {k.value for k in JournalKind}:
        raise AccountingError("Type de journal inconnu.", "kind")
    journal = Journal(organisation_id=organisation.id, code=code,
                      label=_clean_text(label, "Le libellé du journal", 100, "label"), kind=kind)
    db.session.add(journal)
    db.session.flush()
    return journal


def update_journal(journal, label, active=None):
    journal.label = _clean_text(label, "Le libellé du journal", 100, "label")
    if active is not None and bool(active) != journal.active:
        if not active and (
            db.session.scalar(select(exists().where(PostingRule.journal_id == journal.id)))
            or db.session.scalar(select(exists().where(PaymentMethodRule.journal_id == journal.id)))
        ):
            raise AccountingError(f"Le journal {journal.code} est utilisé par une règle de comptabilisation.",
                                  "active")
        journal.active = bool(active)
    db.session.flush()
    return journal


def _rules_by(organisation, model, key):
    """The organisation's rules of ``model`` by their ``key`` attribute (the books set up first)."""
    ensure_ledger(organisation)
    return {getattr(rule, key): rule for rule in db.session.scalars(
        select(model).where(model.organisation_id == organisation.id))}


def posting_rules(organisation):
    """``[(EventSpec, PostingRule)]`` in the order of ``rules.EVENTS``."""
    by_event = _rules_by(organisation, PostingRule, "event")
    result = []
    for name, spec in rules.EVENTS.items():
        rule = by_event.get(name) or _default_rule(organisation, name)
        result.append((spec, rule))
    return result


def _default_rule(organisation, event):
    """The rule of an event added to ``rules.EVENTS`` after the organisation's books were set
    up, from its chart's defaults; an account or journal it no longer has (or has deactivated)
    stays empty, for the settings page to complete. Safe when two transactions create it at once."""
    chart = ensure_ledger(organisation).chart
    debit, credit, journal_code = rules.DEFAULT_RULES.get(chart, {}).get(event, (None, None, None))

    def account_id(number):
        return number and db.session.scalar(select(Account.id).where(
            Account.organisation_id == organisation.id, Account.number == number, Account.active.is_(True)))

    journal_id = journal_code and db.session.scalar(select(Journal.id).where(
        Journal.organisation_id == organisation.id, Journal.code == journal_code, Journal.active.is_(True)))
    try:
        with db.session.begin_nested():
            rule = PostingRule(organisation_id=organisation.id, event=event, debit_account_id=account_id(debit),
                               credit_account_id=account_id(credit), journal_id=journal_id)
            db.session.add(rule)
    except IntegrityError:  # created meanwhile by a concurrent transaction
        rule = db.session.scalar(select(PostingRule).where(PostingRule.organisation_id == organisation.id,
                                                           PostingRule.event == event))
    return rule


def payment_method_rules(organisation):
    by_method = _rules_by(organisation, PaymentMethodRule, "method")
    return [(method, label, by_method.get(method)) for method, label in rules.PAYMENT_METHODS.items()]


def update_posting_rule(organisation, event, debit_account=None, credit_account=None, journal=None):
    """Set the accounts (numbers) and journal (code) of ``event``; the treasury side and the
    journal of treasury events come from the payment method and are ignored. The party's side
    must be a collective account, the other side must not."""
    spec = rules.EVENTS.get(event)
    if spec is None:
        raise AccountingError(f"Événement comptable inconnu : « {event} ».", "event")
    rule = dict((s.name, r) for s, r in posting_rules(organisation))[event]
    for side, number in (("debit", debit_account), ("credit", credit_account)):
        if spec.treasury_side == side:
            continue
        account = get_account(organisation, number)
        if spec.party_side == side and not account.collective:
            raise AccountingError(f"{spec.label} : le compte {'débité' if side == 'debit' else 'crédité'} porte le "
                                  f"tiers ; choisissez un compte collectif (411, 467…), pas {account.number}.",
                                  f"{event}-{side}")
        if spec.party_side != side and account.collective:
            raise AccountingError(f"{spec.label} : le compte {account.number} est collectif ; il demande un tiers "
                                  "que cet événement ne porte pas de ce côté.", f"{event}-{side}")
        setattr(rule, f"{side}_account_id", account.id)
    if spec.treasury_side is None:
        rule.journal_id = get_journal(organisation, journal).id
    db.session.flush()
    return rule


def update_payment_method(organisation, method, account_number, journal_code):
    if method not in rules.PAYMENT_METHODS:
        raise AccountingError(f"Moyen de paiement inconnu : « {method} ».", "method")
    account = get_account(organisation, account_number)
    if account.collective or account.account_class != "5":
        raise AccountingError(f"{rules.PAYMENT_METHODS[method]} : choisissez un compte financier de classe 5 "
                              f"(512, 5112, 530…), pas {account.number}.", f"method-{method}")
    journal = get_journal(organisation, journal_code)
    rule = db.session.scalar(select(PaymentMethodRule).where(
        PaymentMethodRule.organisation_id == organisation.id, PaymentMethodRule.method == method))
    if rule is None:
        rule = PaymentMethodRule(organisation_id=organisation.id, method=method, account_id=account.id,
                                 journal_id=journal.id)
        db.session.add(rule)
    else:
        rule.account_id, rule.journal_id = account.id, journal.id
    db.session.flush()
    return rule


def collective_numbers(organisation):
    return tuple(db.session.scalars(select(Account.number).where(
        Account.organisation_id == organisation.id, Account.collective.is_(True))))


def has_entries(organisation, start, end):
    return db.session.scalar(select(exists().where(and_(
        JournalEntry.organisation_id == organisation.id, JournalEntry.status == EntryStatus.POSTED.value,
        JournalEntry.entry_date >= start, JournalEntry.entry_date <= end))))
