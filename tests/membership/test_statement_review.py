"""The statement review screen: one shared list of open memberships (a datalist), a text field
per line, and the server resolving what the treasurer typed to a membership of the organisation."""
import html
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db as _db
from backoffice.membership import services, statements
from backoffice.banking.models import LineStatus as L
from backoffice.membership.models import CategoryKind, MembershipPayment
from backoffice.membership.services import MembershipError
from tests.membership.test_statements import simple_csv

REVIEW = "/o/cpts-test/membership/statements/review"


@pytest.fixture
def nurse_membership(organisation, period, nurse):
    category = next(c for c in period.categories if c.kind is CategoryKind.OTHER_PROFESSIONAL)
    return services.create_membership(organisation, nurse, period, category=category, joined_on=date(2026, 1, 12))


@pytest.fixture
def foreign_membership(other_organisation):
    """A membership of another CPTS, with its own payment reference."""
    from tests.factories import ProfessionalFactory

    period = services.period_for_year(other_organisation, 2026)
    services.set_fee_category(period, "Médecin", Decimal("40.00"), CategoryKind.PHYSICIAN)
    party = ProfessionalFactory(first_name="Paul", last_name="Ailleurs", profession="medecin_generaliste")
    return services.create_membership(other_organisation, party, period, category=period.categories[0],
                                      joined_on=date(2026, 1, 10))


@pytest.fixture
def lines(organisation, membership, nurse_membership):
    """A transfer naming Anne's reference (suggested), and one naming nobody (unmatched)."""
    statements.import_statement(organisation, "releve.csv", simple_csv(
        organisation, ("02/03/2026", f"VIR COTISATION {membership.payment_reference}", "50,00"),
        ("03/03/2026", "VIR M DUPONT", "12,00")))
    suggested, unmatched = statements.lines_to_review(organisation)
    assert (suggested.status, suggested.suggested_id, unmatched.status) == (L.SUGGESTED, membership.id, L.UNMATCHED)
    return suggested, unmatched


def payment_count(organisation):
    from backoffice.membership.models import Membership

    return _db.session.scalar(select(func.count()).select_from(MembershipPayment)
                              .join(Membership, MembershipPayment.membership_id == Membership.id)
                              .where(Membership.organisation_id == organisation.id))


# --- what the treasurer typed -----------------------------------------------------------------

@pytest.mark.parametrize("typed, expected", [
    ("ADH26-7KQ4M", "ADH267KQ4M"),
    ("  adh26-7kq4m  ", "ADH267KQ4M"),
    ("adh26 7kq4m", "ADH267KQ4M"),
    ("Anne LE FLOCH — ADH26-7KQ4M (reste 50,00\u00a0€)", "ADH267KQ4M"),
    ("Maison de santé — Guérande — CPTS26-3CDEF (reste 100,00 €)", "CPTS263CDEF"),
    ("", ""),
    (None, ""),
    ("Anne LE FLOCH", "ANNELEFLOCH"),
])
def test_typed_reference(typed, expected):
    assert statements.typed_reference(typed) == expected


def test_typed_reference_in_any_form_resolves_to_the_membership(organisation, membership, nurse_membership, lines):
    suggested, unmatched = lines
    full = f"Jean DUPONT — {nurse_membership.payment_reference} (reste 30,00 €)"
    typed = {suggested.id: f"  {membership.payment_reference.lower()} ", str(unmatched.id): full}
    assert statements.resolve_typed_memberships(organisation, typed) == {
        suggested.id: membership.id, unmatched.id: nurse_membership.id}


@pytest.mark.parametrize("typed, message", [
    ("ADH26-ZZZZZ", "aucune adhésion n'a la référence « ADH26-ZZZZZ » (l'opération du 03/03/2026 « VIR M DUPONT »)"),
    ("Jean Dupont", "aucune adhésion n'a la référence « Jean Dupont » (l'opération du 03/03/2026 « VIR M DUPONT »)"),
    ("   ", "choisissez l'adhésion que paie l'opération du 03/03/2026 « VIR M DUPONT »"),
])
def test_unknown_typed_text_is_refused_naming_the_line(organisation, lines, typed, message):
    suggested, unmatched = lines
    with pytest.raises(MembershipError) as caught:
        statements.resolve_typed_memberships(organisation, {suggested.id: suggested.membership.payment_reference,
                                                            unmatched.id: typed})
    assert str(caught.value).startswith("Rien n'a été enregistré : ")
    assert message in str(caught.value)
    assert "02/03/2026" not in str(caught.value)  # the line that resolved is not blamed


def test_reference_of_another_organisation_is_refused(organisation, lines, foreign_membership):
    _, unmatched = lines
    with pytest.raises(MembershipError, match=re.escape(f"« {foreign_membership.payment_reference} »")):
        statements.resolve_typed_memberships(organisation, {unmatched.id: foreign_membership.payment_reference})


def test_line_of_another_organisation_is_refused(other_organisation, lines, membership):
    with pytest.raises(MembershipError, match="Ligne de relevé introuvable"):
        statements.resolve_typed_memberships(other_organisation, {lines[0].id: membership.payment_reference})


def test_resolution_queries_do_not_grow_with_lines(organisation, membership, nurse_membership, count_queries):
    statements.import_statement(organisation, "releve.csv", simple_csv(
        organisation, *[(f"{day:02d}/03/2026", f"VIR DON {day}", "5,00") for day in range(1, 13)]))
    ids = [l.id for l in statements.lines_to_review(organisation)]
    references = [membership.payment_reference, nurse_membership.payment_reference.lower()]
    _db.session.expire_all()  # nothing already in the session: count what a request would run
    assert organisation.id
    with count_queries() as few:
        statements.resolve_typed_memberships(organisation, {i: references[0] for i in ids[:2]})
    _db.session.expire_all()
    assert organisation.id
    with count_queries() as many:
        resolved = statements.resolve_typed_memberships(organisation, {i: references[n % 2] for n, i in enumerate(ids)})
    assert few.count == many.count == 3  # the lines, the settings (the scheme), the memberships
    assert sorted(set(resolved.values())) == sorted([membership.id, nurse_membership.id])


# --- the screen -------------------------------------------------------------------------------

def test_page_has_one_datalist_and_one_field_per_line(client, login_as, organisation, membership, nurse_membership,
                                                      lines):
    suggested, unmatched = lines
    login_as("treasurer")
    page = client.get(REVIEW).get_data(as_text=True)
    assert "<select" not in page
    assert page.count("<datalist") == 1 and 'id="open-memberships"' in page
    options = re.findall(r'<option value="([^"]+)">([^<]+)</option>', page)
    labels = {value: html.unescape(text) for value, text in options}
    assert len(options) == 2 and set(labels) == {membership.payment_reference, nurse_membership.payment_reference}
    anne = labels[membership.payment_reference]
    assert anne.startswith(f"Anne LE FLOCH — {membership.payment_reference} (reste 50,00")
    fields = re.findall(r'<input [^>]*list="open-memberships"[^>]*>', page)
    assert len(fields) == 2
    assert f'name="membership_reference_{suggested.id}"' in fields[0]
    assert f'value="{membership.payment_reference}"' in fields[0]  # the suggestion, prefilled
    assert f'name="membership_reference_{unmatched.id}"' in fields[1] and 'value=""' in fields[1]
    label = re.search(rf'<label [^>]*for="membership-reference-{unmatched.id}">([^<]+)</label>', page)
    assert "03/03/2026" in label.group(1) and "VIR M DUPONT" in label.group(1)


def test_page_queries_do_not_grow_with_lines(client, login_as, organisation, membership, nurse_membership,
                                             count_queries):
    login_as("treasurer")
    statements.import_statement(organisation, "mars.csv", simple_csv(
        organisation, ("02/03/2026", f"VIR {membership.payment_reference}", "50,00"), ("03/03/2026", "VIR X", "7,00")))
    with count_queries() as few:
        assert client.get(REVIEW).status_code == 200
    suggested = [(f"{day:02d}/04/2026", f"VIR {membership.payment_reference} {day}", "50,00") for day in range(1, 11)]
    unknown = [(f"{day:02d}/04/2026", f"VIR Y{day}", "7,00") for day in range(1, 11)]
    statements.import_statement(organisation, "avril.csv", simple_csv(organisation, *suggested, *unknown))
    with count_queries() as many:
        page = client.get(REVIEW).get_data(as_text=True)
    assert page.count('list="open-memberships"') == 22
    assert many.count == few.count


def test_typed_reference_records_the_payment(client, login_as, organisation, nurse_membership, lines):
    _, unmatched = lines
    login_as("treasurer")
    response = client.post(REVIEW, data={
        "confirm": [str(unmatched.id)],
        f"membership_reference_{unmatched.id}": f"  {nurse_membership.payment_reference.lower().replace('-', ' ')} "},
        follow_redirects=True)
    assert "1 paiement(s) enregistré(s) par virement" in response.get_data(as_text=True)
    _db.session.expire_all()
    assert unmatched.status is L.MATCHED and unmatched.suggested_id == nurse_membership.id
    assert nurse_membership.amount_paid == Decimal("12.00")


def test_unknown_reference_refuses_the_whole_submission(client, login_as, organisation, membership, lines):
    suggested, unmatched = lines
    login_as("treasurer")
    response = client.post(REVIEW, data={
        "confirm": [str(suggested.id), str(unmatched.id)],
        f"membership_reference_{suggested.id}": membership.payment_reference,
        f"membership_reference_{unmatched.id}": "ADH26-ZZZZZ"}, follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert "Rien n'a été enregistré" in page
    assert "aucune adhésion n'a la référence « ADH26-ZZZZZ » (l'opération du 03/03/2026 « VIR M DUPONT »)" in page
    assert "paiement(s) enregistré(s)" not in page
    _db.session.expire_all()
    assert payment_count(organisation) == 0
    assert (suggested.status, unmatched.status) == (L.SUGGESTED, L.UNMATCHED)


def test_a_refused_submission_keeps_what_was_ticked_and_typed(client, login_as, organisation, membership, lines):
    """Bad input loses nothing: the screen comes back as submitted, to correct the one line."""
    suggested, unmatched = lines
    login_as("treasurer")
    response = client.post(REVIEW, data={
        "confirm": [str(unmatched.id)],  # the suggestion unticked, the unknown line ticked
        f"membership_reference_{suggested.id}": membership.payment_reference,
        f"membership_reference_{unmatched.id}": "Dupont Jean ADH26-ZZZZZ"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Rien n&#39;a été enregistré" in page
    assert re.search(rf'id="line-{unmatched.id}"[^>]* checked', page)
    assert not re.search(rf'id="line-{suggested.id}"[^>]* checked', page)
    assert f'id="membership-reference-{unmatched.id}"' in page
    assert re.search(rf'id="membership-reference-{unmatched.id}"\s+value="Dupont Jean ADH26-ZZZZZ"', page)


def test_reference_of_another_organisation_is_refused_on_the_screen(client, login_as, organisation, lines,
                                                                   foreign_membership):
    _, unmatched = lines
    login_as("treasurer")
    response = client.post(REVIEW, data={"confirm": [str(unmatched.id)],
                                         f"membership_reference_{unmatched.id}": foreign_membership.payment_reference},
                           follow_redirects=True)
    assert "aucune adhésion n'a la référence" in html.unescape(response.get_data(as_text=True))
    _db.session.expire_all()
    assert payment_count(organisation) == 0 and foreign_membership.amount_paid == Decimal("0.00")
    assert unmatched.status is L.UNMATCHED
