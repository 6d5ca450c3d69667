"""SEPA direct debit (prélèvement SEPA): mandates, the creditor identifier, collection runs.

The file itself (pain.008, the ICS check) is banking's (``backoffice.banking.sepa``); this
module decides what is collected from whom.

A collection run takes awaiting memberships whose member has an active mandate, records one
*pending* direct-debit payment per membership (nothing counts nor is posted yet), and produces
a pain.008.001.02 file (sepaxml, validated against its XSD) that the treasurer uploads to the
bank. When the bank has collected, ``collect_run`` confirms every payment (``fee_paid`` posted,
memberships paid); a debit the bank rejected is marked with ``reject_payment``.
"""
import re
import secrets
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backoffice.audit.services import current_actor_id
from backoffice.banking import services as banking_services
from backoffice.banking.sepa import DirectDebit, clean_creditor_identifier, direct_debit_file
from backoffice.extensions import db
from backoffice.lifecycle import move
from backoffice.membership import services
from backoffice.membership.models import (DirectDebitRun, DirectDebitRunStatus, Membership, MembershipStatus,
                                          PaymentMethod, PaymentStatus, SepaMandate)
from backoffice.membership.services import MembershipError
from backoffice.validation import ValidationError, clean_bic, clean_iban

def set_creditor_identifier(organisation, value):
    settings = services.get_settings(organisation, create=True)
    settings.creditor_identifier = clean_creditor_identifier(value) if (value or "").strip() else None  # stdnum
    db.session.flush()
    return settings


RUM_PATTERN = re.compile(r"^[A-Za-z0-9+?/:().,' -]{1,35}$")


def new_mandate_reference(organisation, party):
    """A fresh RUM: ``<PREFIX>-<party id>-<6 random characters>``, unique in the organisation."""
    prefix = services.get_settings(organisation).reference_prefix
    for _ in range(20):
        reference = f"{prefix}-{party.id}-{''.join(secrets.choice(services.REFERENCE_ALPHABET) for _ in range(6))}"
        if not _mandate_by_reference(organisation, reference):
            return reference
    raise MembershipError("Impossible de générer une référence de mandat unique.")  # pragma: no cover


def _mandate_by_reference(organisation, reference):
    return db.session.scalar(select(SepaMandate).where(SepaMandate.organisation_id == organisation.id,
                                                       SepaMandate.reference == reference))


def create_mandate(organisation, party, iban, bic, signed_on, debtor_name=None, reference=None):
    """Record a mandate signed by ``party``; IBAN and BIC validated, RUM unique in the organisation.

    A member has one active mandate per organisation: the previous one is revoked.
    """
    try:
        iban, bic = clean_iban(iban), clean_bic(bic)
    except ValidationError as exc:
        raise MembershipError(str(exc)) from None
    if signed_on is None or signed_on > date.today():
        raise MembershipError("La date de signature du mandat est obligatoire et ne peut pas être dans le futur.")
    reference = (reference or "").strip() or new_mandate_reference(organisation, party)
    if not RUM_PATTERN.match(reference):
        raise MembershipError("Référence unique de mandat (RUM) invalide : 35 caractères au plus, lettres, chiffres, "
                              "espaces et + ? / - : ( ) . , '")
    if _mandate_by_reference(organisation, reference):
        raise MembershipError(f"La référence de mandat « {reference} » est déjà utilisée.")
    debtor_name = (debtor_name or party.display_name or "").strip()[:70]
    if not debtor_name:
        raise MembershipError("Le nom du titulaire du compte est obligatoire.")
    for previous in active_mandates(organisation, [party.id]).values():
        revoke_mandate(previous, signed_on)
    mandate = SepaMandate(organisation_id=organisation.id, party_id=party.id, reference=reference, signed_on=signed_on,
                          debtor_name=debtor_name, iban=iban, bic=bic, active=True)
    db.session.add(mandate)
    db.session.flush()
    return mandate


def revoke_mandate(mandate, on=None):
    mandate.active, mandate.revoked_on = False, on or date.today()
    db.session.flush()
    return mandate


def active_mandates(organisation, party_ids=None):
    """{party id: active mandate} of the organisation."""
    query = select(SepaMandate).where(SepaMandate.organisation_id == organisation.id, SepaMandate.active.is_(True))
    if party_ids is not None:
        query = query.where(SepaMandate.party_id.in_(list(party_ids)))
    return {m.party_id: m for m in db.session.scalars(query)}


def collectable_memberships(organisation, period=None):
    """Awaiting memberships whose member has an active mandate and no debit already pending."""
    from backoffice.membership.models import MembershipPayment

    pending = select(MembershipPayment.membership_id).where(
        MembershipPayment.organisation_id == organisation.id, MembershipPayment.status == PaymentStatus.PENDING)
    query = (select(Membership).join(SepaMandate, (SepaMandate.party_id == Membership.party_id)
                                     & (SepaMandate.organisation_id == Membership.organisation_id)
                                     & SepaMandate.active.is_(True))
             .where(Membership.organisation_id == organisation.id,
                    Membership.status.in_([MembershipStatus.AWAITING_PAYMENT, MembershipStatus.PARTIALLY_PAID]),
                    Membership.id.not_in(pending))
             .options(joinedload(Membership.party), joinedload(Membership.period))
             .order_by(Membership.id))
    if period is not None:
        query = query.where(Membership.period_id == period.id)
    return list(db.session.scalars(query).unique())


def create_run(organisation, memberships, collection_date, user=None):
    """A collection run over ``memberships``: one pending direct-debit payment each (the balance).

    Refuses memberships without an active mandate or not awaiting money, and a collection date
    less than 2 days ahead (banks need the file before the due date).
    """
    settings = services.get_settings(organisation)
    if not settings.creditor_identifier:
        raise MembershipError("Renseignez d'abord l'identifiant créancier SEPA (ICS) de l'organisation.")
    if not (organisation.iban and organisation.bic):
        raise MembershipError("Renseignez d'abord l'IBAN et le BIC de l'organisation.")
    if collection_date < date.today() + timedelta(days=2):
        raise MembershipError("La date de prélèvement doit être au moins 2 jours après aujourd'hui.")
    if not memberships:
        raise MembershipError("Sélectionnez au moins une adhésion à prélever.")
    eligible = {m.id for m in collectable_memberships(organisation)}
    mandates = active_mandates(organisation, [m.party_id for m in memberships])
    refused = [m for m in memberships if m.id not in eligible or m.party_id not in mandates]
    if refused:
        names = ", ".join(m.party.display_name for m in refused[:5])
        raise MembershipError(f"Ces adhésions ne peuvent pas être prélevées (pas de mandat actif, déjà payées ou "
                              f"déjà en cours de prélèvement) : {names}.")
    total = sum((m.balance for m in memberships), services.ZERO)
    run = DirectDebitRun(organisation_id=organisation.id, collection_date=collection_date,
                         status=DirectDebitRunStatus.DRAFT, message_id=f"MAILLAGE-{secrets.token_hex(8).upper()}",
                         total=total, payment_count=len(memberships), created_by_id=current_actor_id(user))
    db.session.add(run)
    db.session.flush()
    for membership in memberships:
        services.record_payment(membership, membership.balance, PaymentMethod.DIRECT_DEBIT, collection_date,
                                reference=mandates[membership.party_id].reference, source="direct_debit",
                                user=user, pending=True, mandate=mandates[membership.party_id], direct_debit_run=run)
    db.session.flush()
    return run


def build_pain008(run):
    """The pain.008.001.02 XML of ``run`` (bytes), built and validated by banking's
    ``direct_debit_file`` (into the default bank account, ICS checked)."""
    from backoffice.organisations.models import Organisation

    organisation = db.session.get(Organisation, run.organisation_id)
    account = banking_services.default_account(organisation)
    if account is None:
        raise MembershipError("Renseignez d'abord l'IBAN et le BIC de l'organisation.")
    debits = []
    for payment in run.payments:
        if payment.status is PaymentStatus.FAILED:
            continue
        mandate, membership = payment.mandate, payment.membership
        debits.append(DirectDebit(
            debtor_name=mandate.debtor_name, iban=mandate.iban, bic=mandate.bic, amount=payment.amount,
            mandate_reference=mandate.reference, mandate_signed_on=mandate.signed_on,
            sequence="RCUR" if mandate.first_used_on and mandate.first_used_on < run.collection_date else "FRST",
            description=f"Cotisation {membership.period.label} {membership.payment_reference}",
            end_to_end_id=f"{membership.payment_reference}-{payment.id}".replace("-", "")[:35]))
    return direct_debit_file(account, services.get_settings(organisation).creditor_identifier, debits,
                             run.collection_date)


def generate_file(run):
    """Build and store the pain.008 file of ``run``; the run becomes ``generated``."""
    if run.status is DirectDebitRunStatus.COLLECTED:
        raise MembershipError("Ce prélèvement est déjà encaissé.")
    run.xml = build_pain008(run)
    for payment in run.payments:
        if payment.mandate.first_used_on is None:
            payment.mandate.first_used_on = run.collection_date
    if run.status is not DirectDebitRunStatus.GENERATED:  # built again: stays generated
        move(run, DirectDebitRunStatus.GENERATED)
    db.session.flush()
    return run


def collect_run(run, on=None):
    """The bank collected the run: every pending payment is confirmed (and posted)."""
    if run.status is not DirectDebitRunStatus.GENERATED:
        raise MembershipError("Seul un prélèvement dont le fichier a été généré peut être marqué encaissé.")
    on = on or run.collection_date
    for payment in run.payments:
        if payment.status is PaymentStatus.PENDING:
            services.confirm_payment(payment, on)
    move(run, DirectDebitRunStatus.COLLECTED)
    run.collected_on = on
    db.session.flush()
    return run


def reject_payment(payment, reason="Prélèvement rejeté par la banque"):
    """One debit of a run was rejected (before collection is recorded): it never counts."""
    if payment.method is not PaymentMethod.DIRECT_DEBIT:
        raise MembershipError("Ce paiement n'est pas un prélèvement.")
    return services.fail_payment(payment, reason)


def runs(organisation):
    return list(db.session.scalars(select(DirectDebitRun).where(DirectDebitRun.organisation_id == organisation.id)
                                   .order_by(DirectDebitRun.id.desc())))
