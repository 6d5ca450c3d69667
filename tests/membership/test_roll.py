"""The roll at a cut-off date: who is in good standing, and why the others are not."""
from datetime import date
from decimal import Decimal

import pytest

from backoffice.membership import services
from backoffice.membership.models import CategoryKind
from backoffice.membership.roll import ExclusionReason as R
from backoffice.membership.roll import members_in_good_standing, paid_since, roll_exclusions
from tests.factories import ProfessionalFactory, StructureFactory

CUT_OFF = date(2026, 5, 20)


def _category(period, kind=CategoryKind.PHYSICIAN):
    return next(c for c in period.categories if c.kind is kind)


def _member(organisation, period, last_name, first_name="Élise", college=None, joined_on=date(2026, 1, 5), **extra):
    party = ProfessionalFactory(last_name=last_name, first_name=first_name, profession="medecin_generaliste")
    return services.create_membership(organisation, party, period, category=_category(period), college=college,
                                      joined_on=joined_on, **extra)


@pytest.fixture
def roll(organisation, period, colleges):
    """A realistic roll: paid before and after the cut-off, exempt, partial, cancelled, unpaid, a structure."""
    liberaux, structures, _ = colleges
    members = {}
    members["paid_before"] = m = _member(organisation, period, "Le Floch", "Anne", college=liberaux)
    services.record_payment(m, "50", "transfer", date(2026, 3, 1))
    members["paid_on_cutoff"] = m = _member(organisation, period, "Ćwikła", "Zoé", college=liberaux)
    services.record_payment(m, "50,00", "cheque", CUT_OFF, reference="0012345", cheque_bank="Crédit Mutuel")
    members["paid_after"] = m = _member(organisation, period, "d'Arvor", "Loïc", college=liberaux)
    services.record_payment(m, "50", "transfer", date(2026, 5, 21))
    members["partial"] = m = _member(organisation, period, "Bérégovoy", "Marc", college=liberaux)
    services.record_payment(m, "20", "cash", date(2026, 2, 1))
    members["unpaid"] = _member(organisation, period, "Ngô", "Thị", college=liberaux)
    members["exempt"] = m = _member(organisation, period, "Édouard", "Jeanne", college=liberaux)
    services.exempt_membership(m, "Membre fondateur", on=date(2026, 2, 2))
    members["exempt_after"] = m = _member(organisation, period, "Oumarou", "Aïssatou", college=liberaux)
    services.exempt_membership(m, "Décision du bureau du 1er juin", on=date(2026, 6, 1))
    members["cancelled"] = m = _member(organisation, period, "Zimmermann", "Paul", college=liberaux)
    services.cancel_membership(m, "Départ en retraite", on=date(2026, 3, 3))
    ehpad = StructureFactory(name="EHPAD « Les Mimosas » & Cie")
    members["structure"] = m = services.create_membership(
        organisation, ehpad, period, category=_category(period, CategoryKind.STRUCTURE), college=structures,
        joined_on=date(2026, 1, 20))
    services.record_payment(m, "100", "transfer", date(2026, 4, 1))
    return members


def test_good_standing_at_cut_off(organisation, roll):
    standing = members_in_good_standing(organisation, CUT_OFF)
    assert [m for _, m in standing] == [roll["paid_on_cutoff"], roll["exempt"], roll["structure"], roll["paid_before"]]
    assert [p.display_name for p, _ in standing] == ["Zoé ĆWIKŁA", "Jeanne ÉDOUARD", "EHPAD « Les Mimosas » & Cie",
                                                     "Anne LE FLOCH"]


def test_later_date_takes_later_payments_and_exemptions(organisation, roll):
    later = {m for _, m in members_in_good_standing(organisation, date(2026, 6, 30))}
    assert later == {roll[k] for k in ("paid_before", "paid_on_cutoff", "paid_after", "exempt", "exempt_after",
                                      "structure")}
    assert [m for _, m in members_in_good_standing(organisation, date(2026, 2, 28))] == [roll["exempt"]]


def test_college_filter(organisation, roll, colleges):
    liberaux, structures, usagers = colleges
    assert [m for _, m in members_in_good_standing(organisation, CUT_OFF, college=structures)] == [roll["structure"]]
    assert roll["structure"] not in [m for _, m in members_in_good_standing(organisation, CUT_OFF, college=liberaux.id)]
    assert members_in_good_standing(organisation, CUT_OFF, college=usagers) == []


def test_other_period_does_not_count(organisation, period, roll):
    """A paid 2025 membership does not make a 2026 voter, and a date outside every period has no roll."""
    previous = services.period_for_year(organisation, 2025)
    services.ensure_grid(previous, period)
    old = _member(organisation, previous, "Ancien", "Yves", joined_on=date(2025, 1, 5))
    services.record_payment(old, "50", "transfer", date(2025, 2, 1))
    assert old not in [m for _, m in members_in_good_standing(organisation, CUT_OFF)]
    assert [m for _, m in members_in_good_standing(organisation, date(2025, 12, 31))] == [old]
    assert members_in_good_standing(organisation, date(2031, 1, 1)) == []
    assert roll_exclusions(organisation, date(2031, 1, 1)) == []


def test_other_organisation_is_not_on_the_roll(organisation, other_organisation, roll):
    other_period = services.period_for_year(other_organisation, 2026)
    services.set_fee_category(other_period, "Médecin", Decimal("40"), CategoryKind.PHYSICIAN)
    elsewhere = services.create_membership(other_organisation, roll["unpaid"].party, other_period,
                                           joined_on=date(2026, 1, 5))
    services.record_payment(elsewhere, "40", "transfer", date(2026, 1, 6))
    assert elsewhere not in [m for _, m in members_in_good_standing(organisation, CUT_OFF)]
    assert [m for _, m in members_in_good_standing(other_organisation, CUT_OFF)] == [elsewhere]


def test_reversed_payment_is_no_longer_paid_and_repayment_dates_from_repayment(organisation, period, roll):
    membership = roll["paid_before"]
    services.reverse_payment(membership.payments[0], on=date(2026, 3, 10), reason="Virement rejeté")
    assert membership not in [m for _, m in members_in_good_standing(organisation, CUT_OFF)]
    services.record_payment(membership, "50", "transfer", date(2026, 6, 2))
    assert membership.paid_on == date(2026, 6, 2)
    assert membership not in [m for _, m in members_in_good_standing(organisation, CUT_OFF)]


def test_late_regularisation_dated_before_cut_off_enters_the_roll(organisation, roll):
    membership = roll["partial"]
    services.record_payment(membership, "30", "cheque", date(2026, 5, 19), reference="998877", cheque_bank="LCL")
    assert membership.paid_on == date(2026, 5, 19)
    assert membership in [m for _, m in members_in_good_standing(organisation, CUT_OFF)]


def test_exclusions_say_why(organisation, period, roll):
    previous = services.period_for_year(organisation, 2025)
    services.ensure_grid(previous, period)
    lapsed = _member(organisation, previous, "Quéré", "Gwenaëlle", joined_on=date(2025, 3, 1))
    services.record_payment(lapsed, "50", "transfer", date(2025, 3, 2))
    never_paid_2025 = _member(organisation, previous, "Fantôme", "Jules", joined_on=date(2025, 3, 1))
    renewed = services.create_membership(organisation, roll["paid_before"].party, previous,
                                         category=_category(previous), joined_on=date(2025, 1, 3))
    services.record_payment(renewed, "50", "transfer", date(2025, 1, 4))

    exclusions = roll_exclusions(organisation, CUT_OFF)
    by_membership = {e.membership: e for e in exclusions}
    assert {k: by_membership[roll[k]].reason for k in ("paid_after", "partial", "unpaid", "exempt_after",
                                                       "cancelled")} == {
        "paid_after": R.PAID_AFTER, "partial": R.NOT_PAID, "unpaid": R.NOT_PAID, "exempt_after": R.EXEMPT_AFTER,
        "cancelled": R.CANCELLED}
    assert by_membership[lapsed].reason is R.LAPSED
    assert by_membership[lapsed].detail == "Membre en 2025, pas d'adhésion en 2026"
    assert never_paid_2025 not in by_membership and renewed not in by_membership
    assert by_membership[roll["paid_after"]].detail == "Payée le 21/05/2026"
    assert by_membership[roll["partial"]].detail == "20,00\u00a0€ payés sur 50,00\u00a0€"
    assert by_membership[roll["cancelled"]].detail == "Annulée le 03/03/2026 : Départ en retraite"
    assert by_membership[roll["exempt_after"]].detail == "Exonérée le 01/06/2026"
    assert R.CANCELLED.label == "Adhésion annulée"
    names = [e.party.sort_name for e in exclusions]
    assert names == sorted(names)
    standing = {m for _, m in members_in_good_standing(organisation, CUT_OFF)}
    assert standing.isdisjoint(by_membership)


def test_exclusions_with_a_college(organisation, roll, colleges):
    liberaux, structures, _ = colleges
    by_membership = {e.membership: e for e in roll_exclusions(organisation, CUT_OFF, college=structures)}
    assert by_membership[roll["paid_before"]].reason is R.OTHER_COLLEGE
    assert by_membership[roll["paid_before"]].detail == "Libéraux"
    assert by_membership[roll["cancelled"]].reason is R.CANCELLED
    assert roll["structure"] not in by_membership


def _read_roll(organisation, count_queries):
    """The roll and its exclusions read as a screen would, from a cold session; with the counter."""
    from backoffice.extensions import db

    db.session.expire_all()
    with count_queries() as counter:
        standing = members_in_good_standing(organisation, CUT_OFF)
        exclusions = roll_exclusions(organisation, CUT_OFF)
        [(s.party.display_name, s.membership.college and s.membership.college.name) for s in standing]
        [(e.party.display_name, e.membership.period.label, e.detail) for e in exclusions]
    return standing, exclusions, counter.count


def test_constant_number_of_queries(organisation, period, roll, count_queries):
    previous = services.ensure_grid(services.period_for_year(organisation, 2025), period)
    *_, few = _read_roll(organisation, count_queries)
    for n in range(15):
        m = _member(organisation, period, f"Supplémentaire {n}", college=roll["paid_before"].college)
        services.record_payment(m, "50", "transfer", date(2026, 4, n + 1))
        gone = _member(organisation, previous, f"Parti {n}", joined_on=date(2025, 1, 2))
        services.record_payment(gone, "50", "transfer", date(2025, 1, 3))
    standing, exclusions, many = _read_roll(organisation, count_queries)
    assert len(standing) == 19 and sum(e.reason is R.LAPSED for e in exclusions) == 15
    assert many == few <= 6


@pytest.mark.parametrize("amount_due, payments, expected", [
    ("50", [], None),
    ("0", [], date(2026, 1, 1)),
    ("50", [(date(2026, 2, 1), "20"), (date(2026, 2, 10), "30")], date(2026, 2, 10)),
    ("50", [(date(2026, 2, 10), "30"), (date(2026, 2, 1), "20")], date(2026, 2, 10)),
    ("50", [(date(2026, 2, 1), "80"), (date(2026, 3, 1), "-30")], date(2026, 2, 1)),
    ("50", [(date(2026, 2, 1), "50"), (date(2026, 3, 1), "-50"), (date(2026, 4, 1), "50")], date(2026, 4, 1)),
    ("50", [(date(2026, 2, 1), "50"), (date(2026, 2, 1), "-50"), (date(2026, 2, 1), "50")], date(2026, 2, 1)),
    ("50", [(date(2026, 2, 1), "50"), (date(2026, 3, 1), "-50")], None),
])
def test_paid_since(amount_due, payments, expected):
    rows = [(day, Decimal(amount)) for day, amount in payments]
    assert paid_since(Decimal(amount_due), rows, default=date(2026, 1, 1)) == expected
