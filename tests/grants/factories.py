"""Grants test data: the Pays Blanc's dermatoscope programme and its applicants."""
from datetime import date
from decimal import Decimal

from backoffice.grants import services
from backoffice.grants.models import GrantStatus
from backoffice.membership import services as membership
from backoffice.membership.models import CategoryKind
from tests.factories import ProfessionalFactory, SiteFactory


def dermatoscope_programme(organisation, **overrides):
    """FIR 5 000 € + CPTS 1 000 €, ceiling 600 € or 80 % of the quote, training required."""
    values = dict(name="Dermatoscopes 2026", equipment_kind="Dermatoscope", envelope=Decimal("6000.00"),
                  ceiling_amount=Decimal("600.00"), ceiling_rate=Decimal("80"), opens_on=date(2026, 1, 1),
                  closes_on=date(2026, 12, 31), requires_membership=True, requires_training=True,
                  training_label="Formation au dépistage du mélanome", required_documents={},
                  professions=["medecin_generaliste", "infirmier", "pharmacien"],
                  funders=[("ARS Pays de la Loire — FIR", "5 000,00", "FIR 2026-044"),
                           ("CPAM de Loire-Atlantique", "1 000,00", None)])
    values.update(overrides)
    return services.create_programme(organisation, **values)


def paid_member(organisation, professional=None, *, paid_on=date(2026, 1, 15), **fields):
    """A professional whose 2026 membership of ``organisation`` is paid on ``paid_on``."""
    professional = professional or ProfessionalFactory(**({"profession": "medecin_generaliste"} | fields))
    period = membership.period_for_year(organisation, 2026)
    category = next((c for c in period.categories if c.kind is CategoryKind.PHYSICIAN), None) \
        or membership.set_fee_category(period, "Médecin", "50", CategoryKind.PHYSICIAN)
    row = membership.create_membership(organisation, professional, period, category=category,
                                       joined_on=date(2026, 1, 10))
    membership.record_payment(row, "50", "transfer", paid_on=paid_on)
    return professional


def application(organisation, programme, applicant=None, *, quote="750,00", requested="600,00",
                training_on=date(2026, 2, 3), site=None, **values):
    applicant = applicant or paid_member(organisation)
    return services.create_application(
        organisation, programme, applicant, site=site or SiteFactory(name="Cabinet médical du Croisic", commune="Le Croisic"),
        equipment_kind="Dermatoscope", equipment_model="HEINE DELTA 30", supplier="Medisafe",
        quoted_price=Decimal(quote.replace(",", ".").replace(" ", "")),
        amount_requested=Decimal(requested.replace(",", ".").replace(" ", "")), training_on=training_on, **values)


def submitted(organisation, programme, **kwargs):
    row = application(organisation, programme, **kwargs)
    services.submit(row, on=date(2026, 3, 2))
    assert row.status is GrantStatus.SUBMITTED
    return row
