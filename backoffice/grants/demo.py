"""Demo grants of the CPTS du Pays Blanc: the 2026 dermatoscope programme (ARS — FIR 5 000 € and
CPAM 1 000 €, ceiling 600 € or 80 % of the quote, training required) with a dozen applications in
every state: drafts, submitted, rejected, withdrawn, approved, convention issued, two conventions
signed (one online by the beneficiary, one by scan), paid, equipment delivered, closed; the FIR
received, two quarters of follow-up. And an in-kind programme, « Dermatoscopes prêtés 2026 »: one
device bought by the CPTS (paid to its supplier), lent to a member's practice under its custody
convention.

Idempotent (the programme is recognised by its name) and deterministic; everything goes through
the services, so the books get their entries as in real use.
"""
from datetime import date
from decimal import Decimal

import backoffice.membership.demo  # noqa: F401  (members and their fees must exist first)
from backoffice.demo import DEMO_PASSWORD, DEMO_STEPS
from backoffice.extensions import db

PROGRAMME = "Dermatoscopes 2026"
IN_KIND_PROGRAMME = "Dermatoscopes prêtés 2026"
PROFESSIONS = ["medecin_generaliste", "infirmier", "pharmacien", "sage_femme"]
SUBMITTED_ON, DECIDED_ON, TRAINING_ON = date(2026, 3, 2), date(2026, 4, 7), date(2026, 2, 5)
MEMBER_LOGIN = "beneficiaire@cpts-paysblanc.fr"
PDF = b"%PDF-1.4\n% Maillage demo\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# (final state, model, quote, amount granted or None)
PLAN = [
    ("draft", "HEINE DELTA 30", "749.00", None),
    ("draft", "DermLite DL5", "1090.00", None),
    ("submitted", "HEINE DELTA 30", "749.00", None),
    ("submitted", "Dermlite DL4", "890.00", None),
    ("rejected", "FotoFinder handyscope", "2400.00", None),
    ("withdrawn", "DermLite DL5", "1090.00", None),
    ("approved", "HEINE DELTA 30", "749.00", "599.20"),
    ("agreement_issued", "DermLite DL4", "890.00", "600.00"),
    ("signed_online", "HEINE DELTA 20 Plus", "690.00", "552.00"),
    ("signed_scan", "DermLite DL5", "1090.00", "600.00"),
    ("paid", "HEINE DELTA 30", "749.00", "599.20"),
    ("delivered", "DermLite DL4", "890.00", "600.00"),
    ("closed", "HEINE DELTA 30", "749.00", "599.20"),
]
IBANS = ["FR1420041010050500013M02606", "FR7630006000011234567890189", "FR7610107001011234567890129",
         "FR7611315000011234567890138"]


def seed_grants(organisations):
    from sqlalchemy import select

    from backoffice.banking import services as banking
    from backoffice.grants import agreements, attachments, payments, services
    from backoffice.grants.models import AttachmentKind, GrantFollowUp, GrantProgramme
    from backoffice.membership.roll import members_in_good_standing
    from backoffice.people.models import Professional

    organisation = organisations["cpts-pays-blanc"]
    seed_in_kind(organisation)
    if db.session.scalar(select(GrantProgramme).where(GrantProgramme.organisation_id == organisation.id,
                                                      GrantProgramme.name == PROGRAMME)):
        return
    programme = services.create_programme(
        organisation, name=PROGRAMME, equipment_kind="Dermatoscope", envelope=Decimal("6000.00"),
        description="Améliorer le dépistage des mélanomes en formant les professionnels de santé et en équipant "
                    "des cabinets médicaux de dermatoscopes.",
        ceiling_amount=Decimal("600.00"), ceiling_rate=Decimal("80"), opens_on=date(2026, 1, 15),
        closes_on=date(2026, 12, 31), requires_membership=True, requires_training=True,
        training_label="Formation au dépistage du mélanome (DPC)", professions=PROFESSIONS,
        required_documents={"quote": "submitted", "invoice": "paid"},
        funders=[("ARS Pays de la Loire — FIR", "5000", "FIR 2026-044"), ("CPAM de Loire-Atlantique", "1000", None)])
    candidates = [party for party, _ in members_in_good_standing(organisation, SUBMITTED_ON)
                  if isinstance(party, Professional) and party.profession in PROFESSIONS][:len(PLAN)]
    for index, ((state, model, quote, granted), party) in enumerate(zip(PLAN, candidates)):
        quote = Decimal(quote)
        requested = min(services.ceiling_for(programme, quote), quote)
        application = services.create_application(
            organisation, programme, party, equipment_kind="Dermatoscope", equipment_model=model,
            supplier="Medisafe" if "HEINE" in model else "Dermatologic", quoted_price=quote,
            amount_requested=requested, training_on=TRAINING_ON)
        attachments.add_attachment(application, AttachmentKind.QUOTE, f"devis-{model.split()[0].lower()}.pdf", PDF)
        if state == "draft":
            continue
        if state == "withdrawn":
            services.withdraw(application, "Le cabinet a déjà acheté un dermatoscope")
            continue
        services.submit(application, on=SUBMITTED_ON)
        if state == "submitted":
            continue
        if state == "rejected":
            services.reject(application, "Matériel hors programme (vidéodermatoscope)", on=DECIDED_ON)
            continue
        services.approve(application, Decimal(granted), on=DECIDED_ON)
        if state == "approved":
            continue
        # The beneficiaries to pay gave their bank details with the convention: the payments page
        # offers their SEPA transfer file.
        banking.set_payee_details(organisation, party, IBANS[index % len(IBANS)])
        agreements.issue_agreement(application)
        if state == "agreement_issued":
            continue
        if state == "signed_online":
            _sign_online(organisation, application, agreements)
            continue
        agreements.sign_by_scan(application, "convention-signee.pdf", PDF)
        if state == "signed_scan":
            continue
        attachments.add_attachment(application, AttachmentKind.INVOICE, "facture.pdf", PDF)
        payments.record_payment(application, paid_on=date(2026, 5, 12 + index), invoice_reference=f"FA-2026-{310 + index}")
        if state == "paid":
            continue
        services.record_delivery(application, f"DL4-{2026_0000 + index * 37}", delivered_on=date(2026, 5, 28))
        for quarter, screenings, referrals in ((2, 18 + index, 2), (3, 26 + index, 3)):
            db.session.add(GrantFollowUp(application=application, year=2026, quarter=quarter,
                                         screenings=screenings, referrals=referrals))
        if state == "closed":
            services.close(application, reason="Suivi de l'année transmis")
    payments.record_funding(programme.funders[0], date(2026, 2, 20))
    db.session.flush()


def seed_in_kind(organisation):
    """The in-kind programme: a dermatoscope the CPTS bought and lent to a practice (once)."""
    from sqlalchemy import select

    from backoffice.grants import custody, devices, services
    from backoffice.grants.models import GrantProgramme, ProgrammeMode
    from backoffice.membership.roll import members_in_good_standing
    from backoffice.people.models import Professional, Site

    if db.session.scalar(select(GrantProgramme).where(GrantProgramme.organisation_id == organisation.id,
                                                      GrantProgramme.name == IN_KIND_PROGRAMME)):
        return
    programme = services.create_programme(
        organisation, name=IN_KIND_PROGRAMME, equipment_kind="Dermatoscope", envelope=Decimal("1500.00"),
        description="Dermatoscopes achetés par la CPTS et prêtés aux cabinets qui n'en ont pas, sous convention "
                    "de mise à disposition.", mode=ProgrammeMode.IN_KIND, depreciation_years=3,
        opens_on=date(2026, 1, 15), closes_on=date(2026, 12, 31), requires_membership=True, professions=PROFESSIONS,
        required_documents={}, funders=[("ARS Pays de la Loire — FIR", "1500", "FIR 2026-045")])
    party = next((p for p, _ in reversed(members_in_good_standing(organisation, SUBMITTED_ON))
                  if isinstance(p, Professional) and p.profession in PROFESSIONS), None)
    site = (party.site if party is not None else None) or db.session.scalar(select(Site).order_by(Site.id))
    if party is None or site is None:
        return
    application = services.create_application(
        organisation, programme, party, site=site, equipment_kind="Dermatoscope", equipment_model="HEINE DELTA 30",
        supplier="Medisafe", quoted_price=Decimal("749.00"), amount_requested=Decimal("749.00"))
    services.submit(application, on=SUBMITTED_ON)
    services.approve(application, on=DECIDED_ON)
    device = devices.create_device(programme, equipment_kind="Dermatoscope", equipment_model="HEINE DELTA 30",
                                   serial_number="HD30-2026-0042", purchased_on=date(2026, 4, 14),
                                   purchase_amount=Decimal("749.00"), supplier="Medisafe",
                                   invoice_reference="MS-2026-1187", invoice=("facture-medisafe.pdf", PDF))
    devices.record_device_payment(device, paid_on=date(2026, 4, 30))
    lent = devices.lend(device, application, site=site, on=date(2026, 5, 4))
    custody.issue_custody_agreement(lent)


def _sign_online(organisation, application, agreements):
    from backoffice.auth.services import create_user, find_user_by_email, grant_role

    user = find_user_by_email(MEMBER_LOGIN) or create_user(MEMBER_LOGIN, application.applicant.display_name,
                                                           DEMO_PASSWORD, party=application.applicant)
    grant_role(user, organisation, "member")
    db.session.flush()  # the account's party_id
    agreements.sign_online(application, user, "192.0.2.44")


DEMO_STEPS.append(seed_grants)
