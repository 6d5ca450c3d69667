"""Money of grants: the accounting entries, the payment on the invoice, the SEPA transfers, the
funding received.

Entries go through the accounting module's posting rules (``post_event``), each with its own
``posting_source`` so that a retried job or a double click posts once:

* approval: ``grant_committed`` D 6571 / C 467 (the beneficiary's auxiliary account), source
  ``grant_applications:<id>:commitment``; a cancellation reverses it;
* payment: ``grant_paid`` D 467 / C 512, source ``grant_applications:<id>:payment`` (lettered
  against the commitment on 467 by the accounting module);
* an invoice lower than expected: the programme pays what it covers for that invoice
  (:func:`covered_amount`) and the rest of the commitment is released — the commitment's accounts
  the other way round for the difference, D 467 / C 6571, source
  ``grant_applications:<id>:release`` (nothing is deleted) — and goes back to the envelope;
* a funder's money received: ``subsidy_received`` D 512 / C 741, source ``grant_funders:<id>:received``;
* at the year-end, the unspent funding: ``dedicated_funds_carried`` D 6894 / C 194, source
  ``grant_programmes:<id>:dedicated:<year>``, taken back the next year as the grants use it,
  ``dedicated_funds_used`` D 194 / C 7894, source ``grant_programmes:<id>:dedicated-use:<year>``
  (the accounts are the organisation's posting rules; the accounting's closing checklist warns of
  a programme whose unspent funding is not carried: ``closing_checks``).
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

from backoffice.accounting import services as accounting
from backoffice.accounting.errors import AccountingError
from backoffice.extensions import db
from backoffice.formatting import format_money
from backoffice.grants.models import AttachmentKind, GrantApplication, GrantFunder, GrantStatus
from backoffice.grants.services import GrantError, _notify, _require_documents, ceiling_for
from backoffice.lifecycle import move
from backoffice.money import clean_amount

S = GrantStatus


def _post(organisation, event, **kwargs):
    try:
        return accounting.post_event(organisation, event, **kwargs)
    except AccountingError as exc:
        raise GrantError(f"Écriture comptable impossible : {exc}") from exc


def _label(application, what):
    return f"{what} {application.reference} — {application.applicant.display_name}"[:200]


def post_commitment(application):
    """The commitment of an approved application (D 6571 / C 467 beneficiary)."""
    return _post(application.programme.organisation, "grant_committed", amount=application.amount_granted,
                 party=application.applicant, entry_date=application.decided_on or date.today(),
                 piece_ref=application.reference, label=_label(application, "Aide attribuée"),
                 source=accounting.posting_source(GrantApplication, application.id, "commitment"))


def reverse_commitment(application):
    """A cancelled grant: its commitment is reversed (when it was posted)."""
    entry = _posted(application.programme.organisation,
                    accounting.posting_source(GrantApplication, application.id, "commitment"))
    if entry is not None:
        try:
            accounting.reverse_entry(entry, label=_label(application, "Annulation de l'aide"))
        except AccountingError as exc:
            raise GrantError(f"Écriture comptable impossible : {exc}") from exc


def covered_amount(application, invoice_amount) -> Decimal:
    """What the programme pays for an invoice of ``invoice_amount``: the amount granted, or less
    when the invoice is lower than the quote — the programme's ceiling and share applied to the
    invoice (``ceiling_for``), and never more than the invoice itself."""
    limits = [application.amount_granted, invoice_amount]
    ceiling = ceiling_for(application.programme, invoice_amount)
    if ceiling is not None:
        limits.append(ceiling)
    return min(limits)


def record_payment(application, *, paid_on=None, amount=None, invoice_reference=None, invoice_amount=None,
                   by=None):
    """The grant paid on the invoice: only after the convention is signed, for the amount granted,
    or, given ``invoice_amount``, for what the programme covers of that invoice
    (:func:`covered_amount`). ``amount``, if given, must be that amount (a check of what the user saw).

    Posts D 467 / C 512 and moves the application to « Versée ». When less than granted is paid,
    the difference is released: D 467 / C 6571 (:func:`release_commitment`), back to the envelope."""
    if application.status is not S.AGREEMENT_SIGNED:
        raise GrantError("Le versement suit la signature de la convention : la demande est "
                         f"« {application.status.label} ».")
    if invoice_amount in (None, ""):
        due = application.amount_granted
        refusal = f"Le versement est du montant accordé ({format_money(application.amount_granted)})."
    else:
        invoice_amount = clean_amount(invoice_amount, field="invoice_amount")
        due = covered_amount(application, invoice_amount)
        refusal = (f"Pour une facture de {format_money(invoice_amount)}, le programme verse {format_money(due)} "
                   f"(accordé : {format_money(application.amount_granted)}).")
    amount = due if amount in (None, "") else clean_amount(amount, field="amount")
    if amount != due:
        raise GrantError(refusal, field="amount")
    _require_documents(application, S.PAID)
    paid_on = paid_on or date.today()
    if amount < application.amount_granted:
        # The programme's row before the books' counter, as an approval takes them: two requests
        # taking them the other way round would deadlock on PostgreSQL.
        from backoffice.grants.services import lock_programme

        lock_programme(application.programme_id)
    _post(application.programme.organisation, "grant_paid", amount=amount, party=application.applicant,
          entry_date=paid_on, piece_ref=(invoice_reference or application.reference)[:60],
          label=_label(application, "Aide versée"),
          source=accounting.posting_source(GrantApplication, application.id, "payment"))
    if amount < application.amount_granted:
        release_commitment(application, application.amount_granted - amount, on=paid_on,
                           piece_ref=(invoice_reference or application.reference)[:60])
    move(application, S.PAID, by=by)
    application.amount_paid, application.paid_on = amount, paid_on
    application.invoice_reference = (invoice_reference or "").strip() or None
    db.session.flush()
    _notify(application, S.PAID)
    return application


def release_commitment(application, amount, *, on, piece_ref):
    """The part ``amount`` of a commitment that will not be paid: the commitment's entry the other
    way round for that amount (D 467 beneficiary / C 6571, under the organisation's own rule for
    ``grant_committed``), and the amount back to the programme's envelope (under its lock)."""
    from backoffice.accounting.posting import EntryLineSpec
    from backoffice.grants.services import lock_programme

    organisation = application.programme.organisation
    try:
        journal, charge, beneficiary = accounting.event_accounts(organisation, "grant_committed")
        accounting.post_entry(
            organisation, journal, on, piece_ref, _label(application, "Reliquat d'aide libéré"),
            [EntryLineSpec(beneficiary, debit=amount, party=application.applicant),
             EntryLineSpec(charge, credit=amount)],
            source=accounting.posting_source(GrantApplication, application.id, "release"))
    except AccountingError as exc:
        raise GrantError(f"Écriture comptable impossible : {exc}") from exc
    programme = lock_programme(application.programme_id)
    programme.granted_total -= amount


def payable(organisation, programme=None):
    """Signed applications waiting for their payment, with the beneficiary's bank details (or None)."""
    from sqlalchemy import select

    from backoffice.banking import services as banking

    query = select(GrantApplication).where(GrantApplication.organisation_id == organisation.id,
                                           GrantApplication.status == S.AGREEMENT_SIGNED)
    if programme is not None:
        query = query.where(GrantApplication.programme_id == programme.id)
    rows = list(db.session.scalars(query.order_by(GrantApplication.id)))
    details = banking.payee_details_for(organisation, {a.applicant_id for a in rows})
    return [(a, details.get(a.applicant_id)) for a in rows]


def transfer_file(organisation, application_ids, execution_date) -> tuple[bytes, list[GrantApplication]]:
    """The pain.001 paying the signed applications ``application_ids`` on ``execution_date``, and
    those applications recorded as paid on that date (inside a job: file and payments commit
    together). Refused, naming him, when a beneficiary has no valid bank details."""
    from backoffice.banking import sepa
    from backoffice.banking import services as banking
    from backoffice.banking.errors import BankingError

    wanted = set(application_ids)
    rows = [(a, d) for a, d in payable(organisation) if a.id in wanted]
    if not rows:
        raise GrantError("Aucune aide signée à verser parmi celles choisies.")
    missing = [a.applicant.display_name for a, d in rows if d is None]
    if missing:
        raise GrantError("Coordonnées bancaires manquantes : " + ", ".join(missing) + ".")
    account = banking.default_account(organisation)
    if account is None:
        raise GrantError("L'organisation n'a pas de compte bancaire : renseignez-le dans les paramètres.")
    try:
        xml = sepa.credit_transfer_file(account, [
            (details, application.amount_granted, application.reference,
             f"{application.programme.name} - aide {application.reference}")
            for application, details in rows], execution_date)
    except BankingError as exc:
        raise GrantError(str(exc)) from exc
    for application, _ in rows:
        record_payment(application, paid_on=execution_date, invoice_reference=application.reference)
    return xml, [a for a, _ in rows]


def _funding_period(programme, received_on):
    """The period a programme's funding is for: the programme's dates (its opening to its
    closing), the day received for what the programme leaves open."""
    start = programme.opens_on or received_on
    return start, programme.closes_on or max(start, received_on)


def funding_year(programme, received_on):
    """The fiscal year a programme's funding received ``received_on`` is income of
    (``accounting.cutoff``): a subsidy for a programme that opens next year is income of next
    year (487 until then); one received after the programme's last year, of that year while it
    is open (4687)."""
    return accounting.attach(programme.organisation, *_funding_period(programme, received_on), received_on).fiscal_year


def record_funding(funder: GrantFunder, received_on, *, amount=None):
    """A funder's money received on the bank account (D 512 / C 741), once, as income of the
    programme's fiscal year (``funding_year``: through 487 or 4687 when received outside it)."""
    amount = funder.amount if amount in (None, "") else clean_amount(amount, field="amount")
    programme = funder.programme
    try:
        entry, _ = accounting.post_period_income(
            programme.organisation, "subsidy_received", amount=amount, received_on=received_on,
            period_start=_funding_period(programme, received_on)[0],
            period_end=_funding_period(programme, received_on)[1],
            piece_ref=(funder.reference or f"SUBV-{funder.id}")[:60],
            label=f"Subvention {funder.name} — {programme.name}"[:200],
            source=accounting.posting_source(GrantFunder, funder.id, "received"))
    except AccountingError as exc:
        raise GrantError(f"Écriture comptable impossible : {exc}") from exc
    funder.received_on, funder.accounting_entry_id = received_on, entry.id
    db.session.flush()
    return entry




# --- Fonds dédiés (ANC 2018-06): the unspent funding carried at year-end, used the next year ---

def _spent_in(programme, year):
    """What the programme spent in fiscal ``year``: the grants decided that year (a grant is a
    charge of the year it is decided) or, for an in-kind programme, the devices bought that
    year — it pays no one, it buys the equipment it lends, and an in-kind approval commits
    nothing (its approved amounts would count a spending that never happens)."""
    from sqlalchemy import func, select

    from backoffice.grants.models import GRANTED_STATUSES, GrantDevice
    from backoffice.grants.services import effective_grant

    start, end = programme.organisation.fiscal_year_bounds(year)
    if programme.in_kind:
        return db.session.scalar(select(func.coalesce(func.sum(GrantDevice.purchase_amount), 0)).where(
            GrantDevice.programme_id == programme.id, GrantDevice.purchased_on >= start,
            GrantDevice.purchased_on <= end)) or Decimal("0")
    return db.session.scalar(select(func.coalesce(func.sum(effective_grant()), 0)).where(
        GrantApplication.programme_id == programme.id, GrantApplication.status.in_(GRANTED_STATUSES),
        GrantApplication.decided_on >= start, GrantApplication.decided_on <= end)) or Decimal("0")


def unspent_funding(programme, year) -> Decimal:
    """The funding that is income of fiscal ``year`` (``funding_year``) that the grants decided in
    ``year`` (for an in-kind programme, the devices bought in ``year``) did not use."""
    received = sum((f.amount for f in programme.funders
                    if f.received_on and funding_year(programme, f.received_on) == year), Decimal("0"))
    return max(Decimal("0.00"), (received - Decimal(_spent_in(programme, year))).quantize(Decimal("0.01")))


def _dedicated_source(programme, year, used=False):
    return accounting.posting_source(programme, programme.id, "dedicated-use" if used else "dedicated", year)


def _posted(organisation, source):
    """The entry already posted under ``source`` in ``organisation``, or None."""
    from sqlalchemy import select

    from backoffice.accounting.models import JournalEntry as Entry

    return db.session.scalar(select(Entry).where(Entry.organisation_id == organisation.id, Entry.source == source))


def dedicated_funds_carried(programme, year):
    """The entry that carried ``year``'s unspent funding of ``programme``, or None."""
    return _posted(programme.organisation, _dedicated_source(programme, year))


def _post_dedicated(programme, event, amount, entry_date, piece_ref, label, source):
    # Once per programme and year, whatever posted it: entries carried before the fonds dédiés
    # were events of the posting rules have the same source but no event, and are that year's.
    existing = _posted(programme.organisation, source)
    if existing is not None:
        return existing
    return _post(programme.organisation, event, amount=amount, entry_date=entry_date, piece_ref=piece_ref,
                 label=label[:200], source=source)


def carry_dedicated_funds(programme, year):
    """At the close of ``year``: the unspent funding set aside (event ``dedicated_funds_carried``,
    by default D 6894 / C 194), once per year. Returns the entry, or None when everything was used."""
    amount = unspent_funding(programme, year)
    if not amount:
        return None
    return _post_dedicated(programme, "dedicated_funds_carried", amount,
                           programme.organisation.fiscal_year_bounds(year)[1], f"FD-{year}-{programme.id}",
                           f"Fonds dédiés {year} — {programme.name}", _dedicated_source(programme, year))


def use_dedicated_funds(programme, year, on=None):
    """In ``year``, the funds carried from ``year - 1`` taken back as far as the year's grants
    (in kind: purchases) used them (event ``dedicated_funds_used``, by default D 194 / C 7894),
    once per year. Returns the entry, or None."""
    carried = unspent_funding(programme, year - 1)
    amount = min(carried, Decimal(_spent_in(programme, year))).quantize(Decimal("0.01"))
    if amount <= 0:
        return None
    return _post_dedicated(programme, "dedicated_funds_used", amount,
                           on or programme.organisation.fiscal_year_bounds(year)[1], f"FD-{year - 1}-{programme.id}",
                           f"Utilisation des fonds dédiés {year - 1} — {programme.name}",
                           _dedicated_source(programme, year, used=True))


def closing_checks(organisation, year):
    """The accounting's year-end checklist item of grants (declared in ``FEATURE.closing_checks``):
    a warning naming the programmes whose unspent funding of ``year`` is not carried in fonds
    dédiés yet (once the year is closed, it can no longer be); nothing for an organisation
    without programmes."""
    from backoffice.accounting.services import ClosingCheck
    from backoffice.grants.services import programmes

    rows = programmes(organisation)
    if not rows:
        return []
    late = [p for p in rows if unspent_funding(p, year) and dedicated_funds_carried(p, year) is None]
    if late:
        names = ", ".join(f"« {p.name} » ({format_money(unspent_funding(p, year))})" for p in late)
        message = (f"{len(late)} programme(s) d'aides avec un financement non utilisé à reporter en fonds dédiés : "
                   f"{names}. Reportez-le depuis la page du programme avant la clôture.")
        return [ClosingCheck("grants_dedicated_funds", "Fonds dédiés des aides", len(late), message, False,
                             "grants.programme", {"programme_id": late[0].id})]
    return [ClosingCheck("grants_dedicated_funds", "Fonds dédiés des aides", 0,
                         "Les financements non utilisés des programmes d'aides sont reportés en fonds dédiés.",
                         False, "grants.index")]


# --- The bank statement: the debits of grants paid by transfer, matched with their payment ---

_REFERENCE = re.compile(r"AIDE[\s\-_/]*0*(\d{1,9})\b", re.IGNORECASE)


def _references_in(line) -> set[int]:
    """The application ids a statement line names (``AIDE-00012``, « AIDE 12 », « aide00012 »)."""
    text = " ".join(filter(None, [line.label, line.reference, line.counterparty, *(line.details or [])]))
    return {int(number) for number in _REFERENCE.findall(text)}


def match_bank_lines(bank_account, by=None) -> int:
    """Reconcile the statement's debit lines that pay grants with their payment's line on the
    bank's ledger account (C 512 of ``grant_paid``), before the generic amount-and-date pass:

    * a single transfer: the debit of the grant's amount, dated at most
      ``reconciliation.DATE_TOLERANCE`` days from the payment, that names the application
      (``AIDE-00012``) — or, naming none, is the only such debit for the only such payment;
    * a pain.001 batch: one debit for the whole file, reconciled with the payments of that file
      together (``reconciliation.reconcile_split``) — the grants paid on one execution date
      whose sum is exactly the debit, when only one such date is close to it.

    Anything ambiguous is left for the treasurer. Returns the number of statement lines
    reconciled. Called by banking's automatic reconciliation (the feature's ``bank_matchers``)."""
    from sqlalchemy import select

    from backoffice.accounting.models import JournalEntry
    from backoffice.banking import reconciliation

    state = reconciliation.position(bank_account)
    debits = [o.line for o in state.lines if o.reconciled == 0 and o.line.amount < 0]
    by_entry = {ledger.entry_id: ledger for ledger in state.ledger_open if ledger.amount < 0}
    if not debits or not by_entry:
        return 0
    # The payments' entries, by their source (``grant_applications:<id>:payment``, see record_payment).
    sources = db.session.execute(select(JournalEntry.id, JournalEntry.source).where(
        JournalEntry.id.in_(list(by_entry)), JournalEntry.source.like(f"{GrantApplication.__tablename__}:%:payment"))).all()
    payments = {int(source.split(":")[1]): by_entry[entry_id] for entry_id, source in sources}
    if not payments:
        return 0
    close = lambda a, b: abs((a - b).days) <= reconciliation.DATE_TOLERANCE  # noqa: E731
    done, used = 0, set()

    def reconcile(line, ledgers):
        nonlocal done
        if len(ledgers) == 1:
            reconciliation.reconcile(line, ledgers[0].id, by=by)
        else:
            reconciliation.reconcile_split(line, [ledger.id for ledger in ledgers], by=by)
        used.update(ledger.id for ledger in ledgers)
        done += 1

    # Single transfers: by the reference the line names, else the one candidate each way.
    rest = []
    for line in debits:
        fits = {app_id: ledger for app_id, ledger in payments.items()
                if ledger.amount == line.amount and close(ledger.entry_date, line.booked_on) and ledger.id not in used}
        named = [fits[app_id] for app_id in _references_in(line) if app_id in fits]
        if len(named) == 1:
            reconcile(line, named)
            continue
        rivals = [other for other in debits if other.amount == line.amount
                  and any(close(ledger.entry_date, other.booked_on) for ledger in fits.values())]
        if len(fits) == 1 and len(rivals) == 1 and not _references_in(line):
            reconcile(line, list(fits.values()))
            continue
        rest.append(line)
    # Batches: the grants of one execution date, together, for exactly the line's amount.
    by_date = defaultdict(list)
    for ledger in payments.values():
        if ledger.id not in used:
            by_date[ledger.entry_date].append(ledger)
    for line in rest:
        groups = [group for day, group in by_date.items() if len(group) > 1 and close(day, line.booked_on)
                  and sum((ledger.amount for ledger in group), Decimal("0")) == line.amount
                  and not used.intersection(ledger.id for ledger in group)]
        if len(groups) == 1:
            reconcile(line, groups[0])
    db.session.flush()
    return done
