"""The association's own reference scheme, issued: once the organisation writes its references
``COT{year}/{number:05}``, every new membership (on screen, by renewal, by the workbook import)
gets one built from the member number — or from the next number of the organisation's counter
for a member who has none —, and that is the reference members and staff are shown. References
already given never change. Unique per organisation and period, backed by the database."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backoffice.extensions import db
from backoffice.membership import memberships as membership_rules
from backoffice.membership import services
from backoffice.membership.models import CategoryKind, Membership
from backoffice.membership.services import MembershipError

SCHEME = "COT{year}/{number:05}"


def person(first, last, profession="infirmier"):
    from tests.factories import ProfessionalFactory

    return ProfessionalFactory(first_name=first, last_name=last, profession=profession)


@pytest.fixture
def scheme(organisation):
    services.set_reference_scheme(organisation, SCHEME)


def test_without_a_scheme_memberships_keep_our_generated_reference(organisation, period):
    membership = services.create_membership(organisation, person("Marie", "Dupont"), period, member_number="42")
    assert membership.payment_reference.startswith("ADH26-") and len(membership.payment_reference) == 11
    assert membership.member_number == "42"


def test_the_reference_is_built_from_the_member_number(organisation, period, scheme):
    membership = services.create_membership(organisation, person("Marie", "Dupont"), period, member_number=" 42 ")
    assert (membership.payment_reference, membership.member_number) == ("COT2026/00042", "42")
    lettered = services.create_membership(organisation, person("Paul", "Martin"), period, member_number="A-004")
    assert lettered.payment_reference == "COT2026/A-004"


def test_a_member_without_number_gets_the_next_one_of_the_counter(organisation, period, scheme):
    services.create_membership(organisation, person("Marie", "Dupont"), period, member_number="0042")
    services.create_membership(organisation, person("Paul", "Martin"), period, member_number="A-7")  # not a number
    first = services.create_membership(organisation, person("Julie", "Martin"), period)
    second = services.create_membership(organisation, person("Luc", "Leroy"), period)
    assert [(m.payment_reference, m.member_number) for m in (first, second)] == [
        ("COT2026/00043", "43"), ("COT2026/00044", "44")]
    assert services.get_settings(organisation).member_counter == 44


def test_the_counter_never_goes_back_below_a_number_it_gave(organisation, period, scheme):
    given = services.create_membership(organisation, person("Julie", "Martin"), period)
    assert given.payment_reference == "COT2026/00001"
    # The member was cancelled and is gone from the list of numbers in use: 1 is not given again.
    given.member_number = None
    db.session.flush()
    assert services.create_membership(organisation, person("Luc", "Leroy"), period).payment_reference == "COT2026/00002"


def test_renewals_keep_the_member_number_and_take_the_new_year(organisation, period, scheme):
    marie = services.create_membership(organisation, person("Marie", "Dupont"), period, member_number="42")
    julie = services.create_membership(organisation, person("Julie", "Martin"), period)  # counter: 43
    services.record_payment(marie, marie.amount_due, "transfer", date(2026, 2, 1))
    next_year = services.period_for_year(organisation, 2027)
    services.set_fee_category(next_year, "Autre professionnel de santé", Decimal("30.00"),
                              CategoryKind.OTHER_PROFESSIONAL)
    renewed = services.renew_memberships(next_year, [marie.party_id])
    assert [(m.payment_reference, m.member_number) for m in renewed] == [("COT2027/00042", "42")]
    # Created on screen or by the member himself (no number given): he keeps his.
    again = services.create_membership(organisation, julie.party, next_year)
    assert (again.payment_reference, again.member_number) == ("COT2027/00043", "43")


def test_references_given_before_the_scheme_never_change(organisation, period):
    before = services.create_membership(organisation, person("Marie", "Dupont"), period, member_number="42")
    reference = before.payment_reference
    services.set_reference_scheme(organisation, SCHEME)
    services.cancel_membership(before, "erreur de saisie")
    reinstated = services.create_membership(organisation, before.party, period, member_number="42")
    assert reinstated.id == before.id and reinstated.payment_reference == reference
    assert reference.startswith("ADH26-")


def test_a_member_number_of_someone_else_is_refused_in_french(organisation, period, scheme):
    services.create_membership(organisation, person("Marie", "Dupont"), period, member_number="42")
    with pytest.raises(MembershipError, match=r"La référence COT2026/00042 \(numéro d'adhérent 042\) est déjà celle "
                                              r"d'une autre adhésion 2026"):
        services.create_membership(organisation, person("Julie", "Martin"), period, member_number="042")


def test_the_same_number_twice_in_one_import_is_refused(organisation, period, scheme):
    items = [services.NewMembership(person("Marie", "Dupont"), member_number="42", label="Ligne 6"),
             services.NewMembership(person("Julie", "Martin"), member_number="00042", label="Ligne 9")]
    with pytest.raises(MembershipError, match="Les numéros d'adhérent 42 et 00042 donnent la même référence "
                                              "COT2026/00042"):
        services.create_memberships(organisation, period, items)
    assert db.session.scalar(select(Membership.id)) is None


def test_an_import_numbers_the_members_without_number_above_every_number(organisation, period, scheme):
    services.create_membership(organisation, person("Marie", "Dupont"), period, member_number="40")
    items = [services.NewMembership(person("Julie", "Martin")),
             services.NewMembership(person("Luc", "Leroy"), member_number="41"),
             services.NewMembership(person("Anne", "Caradec"))]
    created = services.create_memberships(organisation, period, items)
    assert [m.payment_reference for m in created] == ["COT2026/00042", "COT2026/00041", "COT2026/00043"]


def test_the_database_refuses_a_reference_twice_in_an_organisation_period(organisation, other_organisation, period):
    from tests.factories import MembershipFactory

    MembershipFactory(period=period, payment_reference="COT2026/00042")
    elsewhere = services.period_for_year(other_organisation, 2026)
    MembershipFactory(period=elsewhere, payment_reference="COT2026/00042")  # another association's: fine
    MembershipFactory(period=services.period_for_year(organisation, 2027), payment_reference="COT2026/00042")
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        MembershipFactory(period=period, payment_reference="COT2026/00042")
        db.session.flush()


def test_a_number_taken_meanwhile_is_skipped(organisation, period, scheme, monkeypatch):
    """Another treasurer's membership took the counter's next reference between our look and
    our insert: the unique constraint refuses ours, and the next number is drawn."""
    from tests.factories import MembershipFactory

    services.create_membership(organisation, person("Marie", "Dupont"), period, member_number="6")
    MembershipFactory(period=period, payment_reference="COT2026/00007")  # committed by the other one, no number
    db.session.flush()
    looks = []
    real = membership_rules._taken_references

    def blind_first(organisation, period, references):
        looks.append(list(references))
        return set() if len(looks) <= 2 else real(organisation, period, references)

    monkeypatch.setattr(membership_rules, "_taken_references", blind_first)
    late = services.create_membership(organisation, person("Julie", "Martin"), period)
    assert (late.payment_reference, late.member_number) == ("COT2026/00008", "8")
    # Without the monkeypatch the look itself skips it.
    monkeypatch.undo()
    MembershipFactory(period=period, payment_reference="COT2026/00009")
    db.session.flush()
    assert services.create_membership(organisation, person("Luc", "Leroy"), period).payment_reference == "COT2026/00010"


def test_staff_and_members_are_shown_the_association_reference(client, login_as, organisation, period, scheme):
    membership = services.create_membership(organisation, person("Marie", "Dupont"), period, member_number="42")
    login_as("treasurer")
    page = client.get(f"/o/cpts-test/membership/members/{membership.id}").get_data(as_text=True)
    assert "<code>COT2026/00042</code>" in page
    listing = client.get(f"/o/cpts-test/membership/?period={period.id}").get_data(as_text=True)
    assert "COT2026/00042" in listing and "ADH26-" not in listing


def test_a_typed_association_reference_confirms_a_statement_line(organisation, period, scheme):
    from backoffice.membership import statements
    from tests.membership.test_statements import simple_csv

    membership = services.create_membership(organisation, person("Marie", "Dupont"), period)
    assert membership.payment_reference == "COT2026/00001"
    statement = statements.import_statement(organisation, "releve.csv", simple_csv(
        organisation, ("02/02/2026", "VIR SEPA RECU /DE DUPONT MARIE", "30,00"),
        ("03/02/2026", "VIR SEPA RECU /DE D MARIE", "30,00")))
    first, second = statement.lines
    found = statements.resolve_typed_memberships(organisation, {first.id: "cot 2026 1",
                                                                second.id: "Marie DUPONT — COT2026/00001 (reste 30,00 €)"})
    assert found == {first.id: membership.id, second.id: membership.id}
