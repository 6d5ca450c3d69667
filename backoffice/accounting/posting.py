"""Posting: entries and their lines, business events through the posting rules (two lines, or
one per party), numbering, idempotent sources, reversals. Part of the accounting services
(``backoffice.accounting.services`` re-exports it; its docstring says the rules)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backoffice.accounting import rules
from backoffice.accounting.books import (
    _books,
    _looked_up,
    auxiliary_account_for,
    auxiliary_accounts_for,
    check_open,
    clean_amount,
    _clean_text,
    closed_period_containing,
    ensure_ledger,
    _fr,
    get_account,
    get_journal,
    posting_batch,
)
from backoffice.accounting.closing import last_closed_day
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.lettering import (
    _auto_letter_touched,
    _collector,
    _write_lettering,
    letter_at_once,
    unlettered_lines,
)
from backoffice.accounting.models import (
    Account,
    AuxiliaryAccount,
    EntrySequence,
    EntryStatus,
    JournalEntry,
    JournalLine,
    PaymentMethodRule,
    PostingRule,
)
from backoffice.accounting.settings import _default_rule
from backoffice.audit.services import current_actor_id
from backoffice.extensions import db
from backoffice.lifecycle import move
from backoffice.models import ZERO, insert_objects, insert_unless_present, update_objects


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
# Posting
# --------------------------------------------------------------------------------------------

def _in_batch(function):
    """Run a posting function inside a posting batch of its organisation (its own, unless the
    caller opened one): the books' lookups of one posting are made once."""
    @functools.wraps(function)
    def posting(organisation, *args, **kwargs):
        with posting_batch(organisation):
            return function(organisation, *args, **kwargs)

    return posting

@dataclass
class _Line:
    account: Account
    auxiliary: AuxiliaryAccount | None
    debit: Decimal
    credit: Decimal
    label: str | None


def _prefetch_auxiliaries(organisation, specs):
    """In a batch, the auxiliary accounts of an entry with several parties on one collective
    account read (or created) at once, not one query per line: the closing's reclassification
    of the members in credit has a line per member. Errors are left to the lines' own checks."""
    if _books(organisation) is None:
        return
    parties = {}
    for spec in specs:
        if spec.party is not None and getattr(spec.party, "id", None) is not None:
            try:
                account = get_account(organisation, spec.account)
            except AccountingError:
                continue
            if account.collective:
                parties.setdefault(account.id, (account, {}))[1][spec.party.id] = spec.party
    for account, by_id in parties.values():
        if len(by_id) > 1:
            auxiliary_accounts_for(organisation, list(by_id.values()), account)


def _resolve_lines(organisation, specs: Sequence[EntryLineSpec]):
    if len(specs) < 2:
        raise AccountingError("Une écriture compte au moins deux lignes (un débit et un crédit).", "lines")
    _prefetch_auxiliaries(organisation, specs)
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


def _lock_sequence(organisation, fiscal_year):
    """Lock the counter of the fiscal year (creating it) and return its last number. In a batch,
    once per transaction: the lock is held until the transaction ends, and ``_post`` keeps the
    batch's copy of the number up to date."""
    books = _books(organisation)
    if books is not None and fiscal_year in books.sequences:
        return books.sequences[fiscal_year]
    insert_unless_present(EntrySequence, organisation_id=organisation.id, fiscal_year=fiscal_year, last_number=0)
    last_number = db.session.execute(
        select(EntrySequence.last_number).where(EntrySequence.organisation_id == organisation.id,
                                                EntrySequence.fiscal_year == fiscal_year).with_for_update()
    ).scalar_one()
    if books is not None:
        books.sequences[fiscal_year] = last_number
    return last_number


def _entry_by_source(organisation, source):
    return db.session.scalar(select(JournalEntry).where(JournalEntry.organisation_id == organisation.id,
                                                        JournalEntry.source == source))


def reversal_of(entry):
    """The entry that reversed ``entry``, if any."""
    return db.session.scalar(select(JournalEntry).where(JournalEntry.reversal_of_id == entry.id))


def _draft(organisation, *, journal, fiscal_year, entry_date, piece_ref, piece_date, label, lines, source, event,
           reversal_of_entry=None, user=None, add=True):
    """A draft entry and its lines, added to the session (the guards refuse a posted insert);
    ``add`` False: left out of it, for ``_write_drafts``."""
    entry = JournalEntry(
        organisation_id=organisation.id, journal_id=journal.id, fiscal_year=fiscal_year,
        entry_date=entry_date, piece_ref=piece_ref, piece_date=piece_date or entry_date, label=label,
        status=EntryStatus.DRAFT.value, event=event, source=source,
        reversal_of_id=reversal_of_entry.id if reversal_of_entry is not None else None,
        created_by_id=current_actor_id(user),
    )
    entry.journal = journal
    if add:
        db.session.add(entry)
    for position, line in enumerate(lines, start=1):
        line = JournalLine(
            entry=entry, organisation_id=organisation.id, position=position, account_id=line.account.id,
            auxiliary_id=line.auxiliary.id if line.auxiliary else None, label=line.label,
            debit=line.debit, credit=line.credit,
        )
        if add:
            db.session.add(line)
    return entry


def _write_drafts(entries):
    """Insert the draft ``entries`` (``_draft(..., add=False)``) and their lines with a statement
    per table — a workbook import's thousands, which a flush builds an insert command and a
    state for one by one — audited as the flush would have audited them; they join the session
    as rows it had loaded."""
    from backoffice.audit.services import record_bulk_creates

    db.session.flush()  # what the lines refer to (the auxiliary accounts just created) first
    insert_objects(entries)
    lines = insert_objects([line for entry in entries for line in entry.lines])  # entry_id from line.entry
    db.session.add_all(entries)  # and their lines, by the cascade
    record_bulk_creates(entries + lines)


def _post(organisation, *, journal, entry_date, piece_ref, piece_date, label, lines, total, source,
          event, reversal_of_entry=None, user=None, same_operation=None, closing_entry=False):
    """Insert a draft, number it, post it. Returns ``(entry, created)``."""
    if not isinstance(entry_date, date):
        raise AccountingError("La date de l'écriture est obligatoire.", "entry_date")
    period = closed_period_containing(organisation, entry_date)
    # The closing of a fiscal year posts its own entries on its last day, which a closed month
    # (kind "month") only keeps from new everyday postings; a closed year refuses everything.
    if period is not None and not (closing_entry and period.kind == "month"):
        check_open(organisation, entry_date)
    fiscal_year = organisation.fiscal_year_of(entry_date)
    last_number = _lock_sequence(organisation, fiscal_year)
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
    entry = _draft(organisation, journal=journal, fiscal_year=fiscal_year, entry_date=entry_date,
                   piece_ref=piece_ref, piece_date=piece_date, label=label, lines=lines, source=source,
                   event=event, reversal_of_entry=reversal_of_entry, user=user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        if source is not None and _entry_by_source(organisation, source) is not None:
            raise AccountingError(f"L'opération « {source} » vient d'être comptabilisée par ailleurs.",
                                  "source") from None
        raise
    entry.number = last_number + 1
    move(entry, EntryStatus.POSTED)
    # No counter is ever loaded as an object: without synchronize_session=False the ORM UPDATE
    # scans the whole identity map for one to refresh, on every posting (an import's 7 000).
    db.session.execute(update(EntrySequence).where(
        EntrySequence.organisation_id == organisation.id, EntrySequence.fiscal_year == fiscal_year,
    ).values(last_number=entry.number).execution_options(synchronize_session=False))
    db.session.flush()  # the database trigger checks the balance here
    books = _books(organisation)
    if books is not None:
        books.sequences[fiscal_year] = entry.number
    return entry, True


@_in_batch
def post_entry(organisation, journal, entry_date, piece_ref, label, lines: Sequence[EntryLineSpec],
               source=None, piece_date=None, event=None, user=None, closing_entry=False):
    """Post a balanced entry (manual entries, or any other module's entry). ``journal`` is a
    code (``"OD"``) or a ``Journal``; ``lines`` are ``EntryLineSpec``. Raises ``AccountingError``:
    unknown or inactive account or journal, unbalanced entry, zero/negative amount, a line with
    both or neither debit and credit, a party missing on a collective account (or given on
    another), a date in a closed period (``closing_entry``: the closing of the fiscal year's own
    entry, which a closed month does not refuse). Letters the auxiliary accounts touched when
    what is due and what is paid balance."""
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
                           event=event, user=user, same_operation=same, closing_entry=closing_entry)
    if created:
        _auto_letter_touched(organisation, entry)
    return entry


def event_accounts(organisation, event, payment_method=None):
    """``(journal, debit_account, credit_account)`` the organisation's rules give ``event``."""
    spec = rules.EVENTS.get(event)
    if spec is None:
        raise AccountingError(f"Événement comptable inconnu : « {event} ».", "event")
    ensure_ledger(organisation)
    rule = _looked_up(organisation, "rules", event, lambda: db.session.scalar(select(PostingRule).where(
        PostingRule.organisation_id == organisation.id, PostingRule.event == event))
        or _default_rule(organisation, event))  # or: an event added after the books were set up
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
        treasury = _looked_up(organisation, "methods", method, lambda: db.session.scalar(
            select(PaymentMethodRule).where(PaymentMethodRule.organisation_id == organisation.id,
                                            PaymentMethodRule.method == method)))
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


@_in_batch
def post_event(organisation, event, *, amount=None, entry_date, party=None, shares=None, piece_ref, label,
               payment_method=None, source=None, piece_date=None, user=None):
    """Post the entry of a business event with the organisation's posting rules.

    Events (``rules.EVENTS``): ``fee_due``, ``fee_paid``, ``fee_refund``, ``cheques_deposited``,
    ``grant_committed``, ``grant_paid``, ``subsidy_received``, ``aci_income``,
    ``sisa_distribution``, ``sisa_distribution_paid``, ``bank_fees``, ``dedicated_funds_carried``,
    ``dedicated_funds_used``, ``device_purchased``, ``device_paid``, ``device_depreciation``. ``party`` is required for
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
    prepared = _event_entry(organisation, event, amount=amount, entry_date=entry_date, party=party, shares=shares,
                            piece_ref=piece_ref, label=label, payment_method=payment_method, source=source,
                            piece_date=piece_date, user=user)
    entry, created = _post(organisation, **prepared)
    if created:
        _auto_letter_touched(organisation, entry)
    return entry


def _event_entry(organisation, event, *, amount=None, entry_date, party=None, shares=None, piece_ref, label,
                 payment_method=None, source=None, piece_date=None, user=None):
    """What ``_post`` needs to post the entry of ``event`` (``post_event``'s checks, in French)."""
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

    return dict(journal=journal, entry_date=entry_date, piece_ref=piece_ref, piece_date=piece_date, label=label,
                lines=resolved, total=total, source=source, event=event, user=user, same_operation=same)


def post_events(organisation, events):
    """Post several business events of ``organisation`` in one batch (``posting_batch``) and
    return their entries in order; each item of ``events`` holds ``post_event``'s keyword
    arguments, ``event`` included. The entries are those ``post_event`` would post one by one."""
    with posting_batch(organisation):
        return [post_event(organisation, **arguments) for arguments in events]


def post_events_at_once(organisation, events):
    """Post new business events of ``organisation`` (``post_events``' items) with a number of
    statements that does not grow with them: the entries, lines, numbers and lettering are
    those ``post_event`` would make one by one, in this order (a workbook import's thousands).

    Every ``source`` must be new: an event already posted is refused (``AccountingError``),
    not returned — the caller posts only operations it has just created. Returns the entries."""
    with posting_batch(organisation):
        events = [dict(arguments) for arguments in events]
        collective = {}  # account -> the parties whose auxiliary accounts the events need on it
        for arguments in events:
            if arguments.get("party") is not None:
                _, debit, credit = event_accounts(organisation, arguments["event"], arguments.get("payment_method"))
                for account in (debit, credit):
                    if account.collective:
                        collective.setdefault(account, {})[arguments["party"].id] = arguments["party"]
        for account, parties in collective.items():
            auxiliary_accounts_for(organisation, list(parties.values()), account)
        prepared = [_event_entry(organisation, **arguments) for arguments in events]
        return _post_at_once(organisation, prepared)


def _post_at_once(organisation, prepared):
    sources = [item["source"] for item in prepared if item["source"] is not None]
    if len(set(sources)) != len(sources):
        raise AccountingError("Deux opérations portent la même référence d'origine : rien n'a été enregistré.",
                              "source")
    for start in range(0, len(sources), 500):
        existing = db.session.scalar(select(JournalEntry.source).where(
            JournalEntry.organisation_id == organisation.id,
            JournalEntry.source.in_(sources[start:start + 500])).limit(1))
        if existing is not None:
            raise AccountingError(f"L'opération « {existing} » est déjà comptabilisée.", "source")
    for item in prepared:
        if not isinstance(item["entry_date"], date):
            raise AccountingError("La date de l'écriture est obligatoire.", "entry_date")
        check_open(organisation, item["entry_date"])
    aux_ids = {line.auxiliary.id for item in prepared for line in item["lines"] if line.auxiliary is not None}
    # What the new entries may settle, read before they exist (one by one, an entry sees only
    # the lines posted before it: ``letter_at_once`` adds them in order).
    unlettered = unlettered_lines(organisation, aux_ids)
    years = {}
    for item in prepared:
        fiscal_year = organisation.fiscal_year_of(item["entry_date"])
        years.setdefault(fiscal_year, _lock_sequence(organisation, fiscal_year))
    entries = [_draft(organisation, fiscal_year=organisation.fiscal_year_of(item["entry_date"]), add=False,
                      **{key: item[key] for key in ("journal", "entry_date", "piece_ref", "piece_date", "label",
                                                   "lines", "source", "event", "user")})
               for item in prepared]
    _write_drafts(entries)
    for entry in entries:
        years[entry.fiscal_year] += 1
        entry.number = years[entry.fiscal_year]
        move(entry, EntryStatus.POSTED)
    update_objects(entries)  # the database trigger checks each balance here
    for fiscal_year, number in years.items():
        db.session.execute(update(EntrySequence).where(
            EntrySequence.organisation_id == organisation.id, EntrySequence.fiscal_year == fiscal_year,
        ).values(last_number=number).execution_options(synchronize_session=False))
    books = _books(organisation)
    books.sequences.update(years)
    letter_at_once(organisation, entries, unlettered)
    return entries


def reverse_entry(entry, entry_date=None, label=None, user=None):
    """Post the reversal (*contre-passation*) of a posted entry: the same lines with debit and
    credit swapped, in the same journal, for the same piece. Dated ``entry_date``, by default
    the original date if its period is still open, otherwise today. The original is never
    modified; its auxiliary lines still unlettered are lettered with their mirror lines."""
    from backoffice.organisations.models import Organisation

    organisation = db.session.get(Organisation, entry.organisation_id)
    with posting_batch(organisation):
        return _reverse(organisation, entry, entry_date, label, user)


def _reverse(organisation, entry, entry_date, label, user):
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
    _load_accounts_of(entry.lines)
    lines = [_Line(line.account, line.auxiliary, line.credit, line.debit, line.label) for line in entry.lines]
    reversal, _ = _post(organisation, journal=entry.journal, entry_date=entry_date, piece_ref=entry.piece_ref,
                        piece_date=entry.piece_date, label=label, lines=lines, total=entry.total, source=None,
                        event="reversal", reversal_of_entry=entry, user=user)
    # An original in a closed fiscal year is frozen, lettering included: its reversal stays open
    # in the new year (the opening balances carry the original's open item).
    frozen_until = last_closed_day(organisation.id)
    pairs = [(original, mirror) for original, mirror in zip(entry.lines, reversal.lines)
             if original.auxiliary_id is not None and original.lettering_code is None
             and (frozen_until is None or entry.entry_date > frozen_until)]
    # Each open line with its mirror, the codes written at once (the reversal of the closing's
    # reclassification has a pair per member in credit), then what the reversal settles.
    lettered, letter = _collector(in_session=False)
    for original, mirror in pairs:
        letter(organisation, [original, mirror], on=entry_date)
    _write_lettering(organisation, lettered)
    _auto_letter_touched(organisation, reversal)
    return reversal


def _load_accounts_of(lines):
    """The accounts and auxiliary accounts of ``lines`` read in two queries (into the session,
    where the lines' relationships find them), not a lazy load per line."""
    for model, ids in ((Account, {line.account_id for line in lines}),
                       (AuxiliaryAccount, {line.auxiliary_id for line in lines} - {None})):
        ids = sorted(ids)
        for start in range(0, len(ids), 500):
            db.session.scalars(select(model).where(model.id.in_(ids[start:start + 500]))).all()


def entry_is_locked(entry):
    """True once validated (exported in a FEC, or its period closed)."""
    return entry.validated_on is not None
