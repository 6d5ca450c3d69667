"""Cheque deposit slips (*bordereaux de remise de chèques*) and the member list export."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from backoffice.accounting.sources import posting_source
from backoffice.audit.services import current_actor_id
from backoffice.documents import generated
from backoffice.documents.kinds import document_kind
from backoffice.extensions import db
from backoffice.membership import ledger, services
from backoffice.membership.documents import DEPOSIT_SLIP_KIND
from backoffice.membership.models import (ChequeDeposit, MembershipPayment, PaymentKind, PaymentMethod,
                                          PaymentStatus)
from backoffice.membership.services import MembershipError
from backoffice.people.models import Professional


@dataclass(frozen=True)
class Cheque:
    """One paper cheque: the payments it makes (one per membership it pays, e.g. a couple's or a
    practice's members paid with one cheque, recorded with the same number, bank and date)."""

    payments: tuple

    @property
    def ids(self):
        return [p.id for p in self.payments]

    @property
    def amount(self):
        return sum((p.amount for p in self.payments), services.ZERO)

    @property
    def first(self):
        return self.payments[0]

    @property
    def drawer(self):
        names = list(dict.fromkeys(p.membership.party.display_name for p in self.payments))
        return self.first.payer_name or " et ".join(names)

    @property
    def members(self):
        return [p.membership.party.display_name for p in self.payments]


def group_cheques(payments) -> list[Cheque]:
    """The cheques these cheque payments were made with, in the payments' order: payments with
    the same cheque number, bank and date are one cheque; a payment without a number is its own."""
    groups = {}
    for payment in payments:
        number = (payment.reference or "").replace(" ", "").upper()
        key = (number, (payment.cheque_bank or "").strip().lower(), payment.paid_on) if number else payment.id
        groups.setdefault(key, []).append(payment)
    return [Cheque(tuple(group)) for group in groups.values()]


def create_cheque_deposit(organisation, payment_ids, deposited_on=None, user=None):
    """Put the cheques ``payment_ids`` on a new deposit slip; they are marked deposited and the
    slip's total moves from 5112 *Chèques à encaisser* to the bank (``post_deposit``).

    Only confirmed, not reversed, not yet deposited cheque payments of the organisation. An
    accounting error raises ``MembershipError``: the caller rolls back, no slip is left.
    """
    ids = sorted({int(i) for i in payment_ids})
    if not ids:
        raise MembershipError("Sélectionnez au moins un chèque.")
    available = {p.id: p for p in services.undeposited_cheques(organisation)}
    missing = [i for i in ids if i not in available]
    if missing:
        raise MembershipError("Certains chèques sélectionnés ne sont plus à remettre (déjà remis ou annulés) : "
                              "rechargez la page.")
    cheques = [available[i] for i in ids]
    for cheque in group_cheques(available.values()):
        chosen = [i for i in cheque.ids if i in ids]
        if chosen and len(chosen) < len(cheque.ids):
            raise MembershipError(f"Le chèque n° {cheque.first.reference} paie plusieurs adhésions "
                                  f"({', '.join(cheque.members)}) : remettez-le en entier.")
    number = generated.allocate_number(organisation, DEPOSIT_SLIP_KIND).value  # locked: no duplicate, no gap
    deposit = ChequeDeposit(organisation_id=organisation.id, number=number, deposited_on=deposited_on or date.today(),
                            total=sum((c.amount for c in cheques), services.ZERO),
                            cheque_count=len(group_cheques(cheques)), created_by_id=current_actor_id(user))
    db.session.add(deposit)
    db.session.flush()
    for cheque in cheques:
        cheque.cheque_deposit_id = deposit.id
    db.session.flush()
    post_deposit(organisation, deposit, user=user)
    return deposit


def issue_slip(organisation, deposit, task=None):
    """Render the slip of ``deposit`` and keep it as a new version of its durable document
    (numbered as the deposit); returns the document."""
    from backoffice.documents.services import DOCX_MIMETYPE, render_document

    data = render_document(organisation, DEPOSIT_SLIP_KIND, deposit_context(organisation, deposit))
    number = document_kind(DEPOSIT_SLIP_KIND).numbering.label(None, deposit.number)
    if task is not None:
        deposit.task_id = task.id
    return generated.issue_document(organisation, DEPOSIT_SLIP_KIND, deposit, data, mimetype=DOCX_MIMETYPE,
                                    filename=f"bordereau-remise-cheques-{number}.docx", task=task, number=number)


def slip_documents(organisation, deposit_rows):
    """``{deposit id: its slip in force}`` (the deposits page links to them)."""
    return generated.current_documents(organisation, DEPOSIT_SLIP_KIND, deposit_rows)


def deposit_source(deposit):
    return posting_source(ChequeDeposit, deposit.id)


def post_deposit(organisation, deposit, user=None):
    """Post ``cheques_deposited`` (D 512 / C 5112 by default) for the slip's total, dated the
    deposit day: one entry per slip, the one line the bank statement shows. Idempotent (its
    ``source`` is the slip): calling it again returns the entry already posted. Returns the
    entry id."""
    return ledger.post(organisation, "cheques_deposited", amount=deposit.total, entry_date=deposit.deposited_on,
                       piece_ref=f"REM-{deposit.number:04d}",
                       label=f"Remise de chèques n° {deposit.number} ({deposit.cheque_count} chèque(s))",
                       source=deposit_source(deposit), user=user)


def deposits(organisation):
    return list(db.session.scalars(select(ChequeDeposit).where(ChequeDeposit.organisation_id == organisation.id)
                                   .order_by(ChequeDeposit.number.desc())))


def deposit_context(organisation, deposit, depositor=None):
    """Variables of the ``cheque_deposit_slip`` Word template (every key always present;
    amounts are ``Decimal`` and dates ``date``: the template formats them). The documents
    module adds ``logo``."""
    from backoffice.documents.services import organisation_context
    from backoffice.organisations.affiliations import Role, current_holder

    cheques = list(db.session.scalars(
        select(MembershipPayment).where(MembershipPayment.cheque_deposit_id == deposit.id)
        .order_by(MembershipPayment.id)))
    paper_cheques = group_cheques(cheques)
    treasurer = current_holder(organisation, Role.TREASURER, on=deposit.deposited_on)
    return {
        "organisation": organisation_context(organisation),
        "account": {"iban": _spaced(organisation.iban), "bic": organisation.bic or ""},
        "deposit": {"number": deposit.number, "date": deposit.deposited_on, "count": len(paper_cheques),
                    "total": deposit.total},
        "cheques": [{"position": n, "number": c.first.reference or "", "bank": c.first.cheque_bank or "",
                     "drawer": c.drawer, "date": c.first.paid_on, "amount": c.amount}
                    for n, c in enumerate(paper_cheques, 1)],
        "place": organisation.city or "",
        "depositor": depositor or (treasurer.display_name if treasurer is not None else organisation.name),
    }


def _spaced(iban):
    """``FR76 3000 4000 …``: how an IBAN is printed."""
    iban = iban or ""
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


EXPORT_HEADER = ["Période", "Nom", "Prénom", "Type", "Profession", "E-mail", "Téléphone", "Commune", "Catégorie",
                 "Collège", "Statut", "Montant dû", "Montant payé", "Avoir", "Date d'adhésion", "Date de paiement",
                 "Référence de paiement"]


def export_rows(memberships):
    """Rows of the member list export (Decimal amounts and dates: the writers format them)."""
    for m in memberships:
        party = m.party
        professional = isinstance(party, Professional)
        yield [m.period.label, party.last_name if professional else party.display_name,
               party.first_name if professional else None,
               "Professionnel" if professional else "Structure",
               party.profession_label if professional else party.structure_type_label,
               party.email, party.phone, party.commune, m.category.label if m.category else None,
               m.college.name if m.college else None, m.status.label, m.amount_due, m.amount_paid, m.credit,
               m.joined_on, m.paid_on, m.payment_reference]


def is_cheque(payment):
    return (payment.method is PaymentMethod.CHEQUE and payment.kind is PaymentKind.PAYMENT
            and payment.status is PaymentStatus.CONFIRMED)
