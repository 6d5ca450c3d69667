"""Money on a membership through the treasurer's forms: refund, credit carried over, bad amounts,
the grid, periods, settings and collèges, and the journal entries of reversals and SEPA runs.

Every test goes through HTTP (test client signed in as treasurer) and then reads the database:
the flash message alone proves nothing.
"""
import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.accounting.models import JournalEntry, JournalLine
from backoffice.extensions import db as _db
from backoffice.membership import sepa, services
from backoffice.membership.models import (College, FeeCategory, Membership, MembershipPayment, MembershipPeriod,
                                          MembershipSettings, MembershipStatus, PaymentKind, PaymentMethod,
                                          PaymentStatus, SepaMandate)

BASE = "/o/cpts-test/membership"
IBAN_MEMBER = "FR1420041010050500013M02606"
BIC_MEMBER = "PSSTFRPPLIL"


@pytest.fixture
def treasurer(login_as):
    return login_as("treasurer")


def page_text(response):
    return html.unescape(response.get_data(as_text=True))


def flashes(response):
    """[(category, message)] of the flash messages shown on the page."""
    found = re.findall(r'<div class="alert alert-(\w+) alert-dismissible[^>]*>\s*(.*?)\s*<button',
                       response.get_data(as_text=True), re.S)
    return [(category, html.unescape(message)) for category, message in found]


def field_errors(response, field_id):
    """The error messages shown under the form field ``field_id``."""
    found = re.search(rf'<div class="invalid-feedback" id="{field_id}-err">(.*?)</div>',
                      response.get_data(as_text=True), re.S)
    return [html.unescape(message) for message in re.findall(r'<p class="mb-0">(.*?)</p>', found.group(1))] if found else []


def entry_lines(entry_id):
    """{account number: (debit, credit, party id of the auxiliary account or None)}, checked balanced."""
    lines = list(_db.session.scalars(select(JournalLine).where(JournalLine.entry_id == entry_id)))
    assert lines and sum(l.debit for l in lines) == sum(l.credit for l in lines) > 0
    return {l.account.number: (l.debit, l.credit, l.auxiliary.party_id if l.auxiliary else None) for l in lines}


def payments_of(membership):
    _db.session.expire_all()
    return list(_db.session.scalars(select(MembershipPayment).where(MembershipPayment.membership_id == membership.id)
                                    .order_by(MembershipPayment.id)))


def count(model, *conditions):
    return _db.session.scalar(select(func.count()).select_from(model).where(*conditions))


@pytest.fixture
def overpaid(membership):
    """Anne's 2026 membership (50 € due) paid 80 € by transfer: 30 € of credit."""
    services.record_payment(membership, "80", "transfer", date(2026, 2, 1), reference="VIR-80")
    assert membership.credit == Decimal("30.00")
    return membership


@pytest.fixture
def next_year(organisation, period, physician):
    """Anne's 2027 membership (physician rate, 50 €), nothing paid yet."""
    services.ensure_grid(services.period_for_year(organisation, 2027), previous=period)
    nxt = services.period_for_year(organisation, 2027)
    return services.create_membership(organisation, physician, nxt, joined_on=date(2026, 11, 20))


# --------------------------------------------------------------------------------------------
# Refund and credit carried over
# --------------------------------------------------------------------------------------------

def test_refund_of_an_overpayment_through_the_form(client, treasurer, overpaid, physician):
    page = client.get(f"{BASE}/members/{overpaid.id}").get_data(as_text=True)
    # The refund form offers the credit by default.
    assert re.search(r'<input[^>]* id="refund-amount" name="amount"[^>]* value="30,00">', page.split('id="h-refund"')[1])
    response = client.post(f"{BASE}/members/{overpaid.id}/refund", data={
        "amount": "30,00", "method": "transfer", "paid_on": "2026-03-02", "reference": "REMB-1",
        "form_key": "refund-once"}, follow_redirects=True)
    assert ("success", "Remboursement enregistré.") in flashes(response)
    rows = payments_of(overpaid)
    assert [(p.kind, p.amount, p.method) for p in rows] == [
        (PaymentKind.PAYMENT, Decimal("80.00"), PaymentMethod.TRANSFER),
        (PaymentKind.REFUND, Decimal("-30.00"), PaymentMethod.TRANSFER)]
    refund = rows[1]
    assert refund.paid_on == date(2026, 3, 2) and refund.reference == "REMB-1" and refund.created_by_id == treasurer.id
    # Money goes back out of the bank, from the member's own auxiliary account.
    assert entry_lines(refund.accounting_entry_id) == {"411": (Decimal("30.00"), 0, physician.id),
                                                       "512": (0, Decimal("30.00"), None)}
    entry = _db.session.get(JournalEntry, refund.accounting_entry_id)
    assert entry.entry_date == date(2026, 3, 2) and entry.event == "fee_refund"
    assert (overpaid.credit, overpaid.amount_paid, overpaid.status) == (0, Decimal("50.00"), MembershipStatus.PAID)
    # The same form sent again records nothing more.
    again = client.post(f"{BASE}/members/{overpaid.id}/refund", data={
        "amount": "30,00", "method": "transfer", "paid_on": "2026-03-02", "form_key": "refund-once"},
        follow_redirects=True)
    assert ("warning", "Ce remboursement a déjà été enregistré.") in flashes(again)
    assert len(payments_of(overpaid)) == 2 and overpaid.amount_paid == Decimal("50.00")


def refund_too_much(client, membership):
    return client.post(f"{BASE}/members/{membership.id}/refund", data={
        "amount": "80,01", "method": "cash", "paid_on": "2026-03-02", "form_key": "too-much"}, follow_redirects=True)


def test_refund_above_what_was_paid_is_refused(client, treasurer, overpaid):
    [(category, message)] = flashes(refund_too_much(client, overpaid))
    assert category == "danger" and message.startswith("Impossible de rembourser plus que ce qui a été payé (80,00 €)")
    assert len(payments_of(overpaid)) == 1 and overpaid.credit == Decimal("30.00")


def test_refund_above_what_was_paid_message_ends_with_a_full_stop(client, treasurer, overpaid):
    assert flashes(refund_too_much(client, overpaid)) == [
        ("danger", "Impossible de rembourser plus que ce qui a été payé (80,00 €).")]


def test_credit_carried_to_the_next_membership(client, treasurer, overpaid, next_year, physician):
    page = page_text(client.get(f"{BASE}/members/{overpaid.id}"))
    assert f'<option value="{next_year.id}">2027 (reste 50,00' in page
    response = client.post(f"{BASE}/members/{overpaid.id}/carry-credit", data={"target_id": next_year.id},
                           follow_redirects=True)
    assert ("success", "Avoir reporté sur l'adhésion 2027.") in flashes(response)
    source_rows, target_rows = payments_of(overpaid), payments_of(next_year)
    assert [(p.kind, p.amount, p.method, p.related_membership_id) for p in source_rows[1:]] == [
        (PaymentKind.CREDIT_OUT, Decimal("-30.00"), PaymentMethod.CREDIT, next_year.id)]
    assert [(p.kind, p.amount, p.method, p.related_membership_id) for p in target_rows] == [
        (PaymentKind.PAYMENT, Decimal("30.00"), PaymentMethod.CREDIT, overpaid.id)]
    assert (overpaid.credit, overpaid.amount_paid, overpaid.status) == (0, Decimal("50.00"), MembershipStatus.PAID)
    assert (next_year.amount_paid, next_year.balance, next_year.status) == (
        Decimal("30.00"), Decimal("20.00"), MembershipStatus.PARTIALLY_PAID)
    # No money moved: no entry; the member's account shows 100 € due, 80 € paid.
    assert source_rows[1].accounting_entry_id is None and target_rows[0].accounting_entry_id is None
    member_balance = _db.session.scalar(
        select(func.sum(JournalLine.debit - JournalLine.credit)).join(JournalLine.auxiliary)
        .where(JournalLine.organisation_id == overpaid.organisation_id)
        .where(JournalLine.auxiliary.has(party_id=physician.id)))
    assert member_balance == Decimal("20.00")


def test_credit_larger_than_the_target_balance_leaves_the_rest(client, treasurer, membership, next_year):
    services.record_payment(membership, "120", "transfer", date(2026, 2, 1))
    client.post(f"{BASE}/members/{membership.id}/carry-credit", data={"target_id": next_year.id})
    _db.session.expire_all()
    assert next_year.status is MembershipStatus.PAID and next_year.amount_paid == Decimal("50.00")
    assert membership.credit == Decimal("20.00")  # 70 of credit, 50 carried


def carry_form_key(client, membership):
    page = client.get(f"{BASE}/members/{membership.id}").get_data(as_text=True)
    form = page[page.index("/carry-credit"):]
    return re.search(r'name="form_key" value="([^"]+)"', form).group(1)


def test_double_submitted_carry_credit_records_once_and_says_so(client, treasurer, overpaid, next_year):
    url = f"{BASE}/members/{overpaid.id}/carry-credit"
    data = {"target_id": next_year.id, "form_key": carry_form_key(client, overpaid)}
    client.post(url, data=data, follow_redirects=True)
    second = client.post(url, data=data, follow_redirects=True)
    assert flashes(second) == [("warning", "Cet avoir a déjà été reporté (formulaire envoyé deux fois).")]
    assert len(payments_of(overpaid)) == 2 and len(payments_of(next_year)) == 1
    assert next_year.amount_paid == Decimal("30.00") and overpaid.amount_paid == Decimal("50.00")


def test_carry_credit_twice_without_credit_left_is_refused(client, treasurer, overpaid, next_year):
    url = f"{BASE}/members/{overpaid.id}/carry-credit"
    client.post(url, data={"target_id": next_year.id, "form_key": "first"}, follow_redirects=True)
    second = client.post(url, data={"target_id": next_year.id, "form_key": "second"}, follow_redirects=True)
    assert [c for c, _ in flashes(second)] == ["danger"]
    assert len(payments_of(overpaid)) == 2 and len(payments_of(next_year)) == 1


def test_credit_cannot_pay_someone_elses_membership(client, treasurer, organisation, period, overpaid, nurse):
    other = services.create_membership(organisation, nurse, period)
    response = client.post(f"{BASE}/members/{overpaid.id}/carry-credit", data={"target_id": other.id},
                           follow_redirects=True)
    assert ("danger", "Un avoir ne peut servir qu'à une autre adhésion du même membre.") in flashes(response)
    assert payments_of(other) == [] and overpaid.credit == Decimal("30.00")


def test_carry_credit_without_target(client, treasurer, overpaid):
    response = client.post(f"{BASE}/members/{overpaid.id}/carry-credit", data={}, follow_redirects=True)
    assert ("danger", "Choisissez l'adhésion à régler avec l'avoir.") in flashes(response)
    assert len(payments_of(overpaid)) == 1


# --------------------------------------------------------------------------------------------
# Negative or zero amounts: a French message and nothing recorded
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount, message", [("-10", "Le montant doit être positif."),
                                             ("-0,01", "Le montant doit être positif."),
                                             ("10,555", "Le montant a au plus deux décimales (« 10,555 »)."),
                                             ("dix", "Le montant est invalide : « dix » (exemple : 1 234,56)."),
                                             ("", "Ce champ est obligatoire.")])
def test_grid_refuses_bad_amounts(client, treasurer, period, amount, message):
    response = client.post(f"{BASE}/grid?period={period.id}", data={
        "label": "Infirmier", "kind": "other_professional", "amount": amount, "position": "5", "active": "y"})
    assert response.status_code == 200
    assert field_errors(response, "amount") == [message]
    assert count(FeeCategory, FeeCategory.period_id == period.id) == 4


def test_grid_accepts_a_free_category(client, treasurer, period):
    """Zero is allowed by design in the grid (a free category, e.g. patients' representatives)."""
    response = client.post(f"{BASE}/grid?period={period.id}", data={
        "label": "Usager", "kind": "other", "amount": "0", "active": "y"})
    assert response.status_code == 302
    assert _db.session.scalar(select(FeeCategory.amount).where(FeeCategory.label == "Usager")) == Decimal("0.00")


@pytest.mark.parametrize("amount, message", [("-50", "Le montant doit être positif."),
                                             ("50,001", "Le montant a au plus deux décimales (« 50,001 »).")])
def test_membership_creation_refuses_bad_amount_due(client, treasurer, period, physician, amount, message):
    response = client.post(f"{BASE}/new", data={
        "party_id": physician.id, "period_id": period.id, "category_id": 0, "college_id": 0, "amount_due": amount,
        "joined_on": "2026-01-15"})
    assert response.status_code == 200
    assert field_errors(response, "amount_due") == [message]
    assert count(Membership, Membership.party_id == physician.id) == 0


def test_membership_creation_with_zero_due_is_paid_at_once(client, treasurer, period, physician):
    """Zero is allowed by design for the amount due (an honorary member): nothing is posted."""
    response = client.post(f"{BASE}/new", data={
        "party_id": physician.id, "period_id": period.id, "category_id": 0, "college_id": 0, "amount_due": "0",
        "joined_on": "2026-01-15"})
    assert response.status_code == 302
    membership = _db.session.scalar(select(Membership).where(Membership.party_id == physician.id))
    assert membership.amount_due == 0 and membership.status is MembershipStatus.PAID
    assert membership.fee_due_entry_id is None


@pytest.mark.parametrize("amount, message", [("-5", "Le montant doit être positif."),
                                             ("0", "Le montant doit être supérieur à zéro."),
                                             ("0,00", "Le montant doit être supérieur à zéro.")])
def test_refund_refuses_negative_or_zero(client, treasurer, overpaid, amount, message):
    response = client.post(f"{BASE}/members/{overpaid.id}/refund", data={
        "amount": amount, "method": "transfer", "paid_on": "2026-03-02", "reference": "VIR-RBT-7", "form_key": "r"})
    assert response.status_code == 422
    assert flashes(response) == [("danger", "Le remboursement n'a pas été enregistré : corrigez les champs signalés.")]
    assert field_errors(response, "refund-amount") == [message]
    # What was typed is still there, and the refund form is open to correct it.
    page = response.get_data(as_text=True)
    assert 'value="VIR-RBT-7"' in page and re.search(r'id="h-refund">[^<]*</h2>\s*<details open>', page)
    assert len(payments_of(overpaid)) == 1 and overpaid.credit == Decimal("30.00")


@pytest.mark.parametrize("amount, message", [("0", "Le montant doit être supérieur à zéro."),
                                             ("-0,50", "Le montant doit être positif.")])
def test_payment_refuses_negative_or_zero(client, treasurer, membership, amount, message):
    response = client.post(f"{BASE}/members/{membership.id}/payments", data={
        "amount": amount, "method": "transfer", "paid_on": "2026-02-01", "reference": "VIR 1234", "form_key": "p"})
    assert response.status_code == 422
    assert flashes(response) == [("danger", "Le paiement n'a pas été enregistré : corrigez les champs signalés.")]
    assert field_errors(response, "amount") == [message]
    assert 'value="VIR 1234"' in response.get_data(as_text=True)
    assert payments_of(membership) == [] and membership.status is MembershipStatus.AWAITING_PAYMENT
    assert count(JournalEntry, JournalEntry.source.like("membership_payments:%")) == 0


# --------------------------------------------------------------------------------------------
# Grid, periods, settings, collèges
# --------------------------------------------------------------------------------------------

def test_grid_adds_a_category(client, treasurer, period):
    response = client.post(f"{BASE}/grid?period={period.id}", data={
        "label": "Infirmier libéral", "kind": "other_professional", "amount": "35,50", "position": "7",
        "active": "y"}, follow_redirects=True)
    assert ("success", "Catégorie « Infirmier libéral » ajoutée à la grille 2026.") in flashes(response)
    category = _db.session.scalar(select(FeeCategory).where(FeeCategory.label == "Infirmier libéral"))
    assert (category.period_id, category.amount, category.kind.value, category.position, category.active) == (
        period.id, Decimal("35.50"), "other_professional", 7, True)


def test_grid_refuses_a_duplicate_label(client, treasurer, period):
    response = client.post(f"{BASE}/grid?period={period.id}", data={
        "label": "médecin", "kind": "physician", "amount": "60"})
    assert ("danger", "La catégorie « médecin » existe déjà pour 2026.") in flashes(response)
    assert count(FeeCategory, FeeCategory.period_id == period.id) == 4
    assert _db.session.scalar(select(FeeCategory.amount).where(FeeCategory.label == "Médecin")) == Decimal("50.00")


def test_grid_refuses_an_empty_label_and_a_bad_position(client, treasurer, period):
    response = client.post(f"{BASE}/grid?period={period.id}", data={
        "label": " ", "kind": "other", "amount": "10", "position": "-1"})
    assert field_errors(response, "label") == ["Ce champ est obligatoire."]
    assert count(FeeCategory, FeeCategory.period_id == period.id) == 4


@pytest.mark.parametrize("data, field, message", [
    ({"position": "-1"}, "position", "Le nombre doit être compris entre 0 et 999."),
    ({"position": "premier"}, "position", "N'est pas un entier valide."),
])
def test_grid_number_errors_are_in_french(client, treasurer, period, data, field, message):
    response = client.post(f"{BASE}/grid?period={period.id}", data={
        "label": "Infirmier", "kind": "other", "amount": "10", **data})
    assert message in field_errors(response, field)
    assert count(FeeCategory, FeeCategory.period_id == period.id) == 4


def test_edit_category_keeps_existing_memberships(client, treasurer, period, membership):
    category = membership.category
    response = client.post(f"{BASE}/grid/{category.id}", data={
        "label": "Médecin libéral", "kind": "physician", "amount": "55", "position": "1", "active": "y"})
    assert response.status_code == 302
    _db.session.expire_all()
    assert (category.label, category.amount) == ("Médecin libéral", Decimal("55.00"))
    assert membership.amount_due == Decimal("50.00")


def test_edit_category_refuses_a_negative_amount(client, treasurer, period, membership):
    category = membership.category
    response = client.post(f"{BASE}/grid/{category.id}", data={
        "label": "Médecin libéral", "kind": "physician", "amount": "-55", "position": "1", "active": "y"})
    assert response.status_code == 200
    assert field_errors(response, "amount") == ["Le montant doit être positif."]
    _db.session.expire_all()
    assert (category.label, category.amount) == ("Médecin", Decimal("50.00"))


def test_edit_category_of_another_organisation_is_404(client, login_as, period, other_organisation):
    login_as("treasurer", org=other_organisation)
    category = period.categories[0]
    assert client.post(f"/o/cpts-autre/membership/grid/{category.id}", data={
        "label": "Piraté", "kind": "other", "amount": "1"}).status_code == 404
    _db.session.expire_all()
    assert category.label == "Médecin"


def test_new_period_copies_the_grid(client, treasurer, organisation, period):
    response = client.post(f"{BASE}/periods", data={"year": "2027", "copy_grid": "y"})
    created = services.period_for_year(organisation, 2027, create=False)
    assert response.status_code == 302 and response.location.endswith(f"/grid?period={created.id}")
    assert [(c.label, c.amount) for c in created.categories] == [(c.label, c.amount) for c in period.categories]


def test_new_period_without_grid(client, treasurer, organisation, period):
    client.post(f"{BASE}/periods", data={"year": "2028"})
    created = services.period_for_year(organisation, 2028, create=False)
    assert created is not None and created.categories == []
    assert (created.starts_on, created.ends_on) == (date(2028, 1, 1), date(2028, 12, 31))


@pytest.mark.parametrize("year", ["1999", "2101", "deux mille"])
def test_new_period_refuses_a_bad_year(client, treasurer, organisation, period, year):
    response = client.post(f"{BASE}/periods", data={"year": year, "copy_grid": "y"}, follow_redirects=True)
    assert ("danger", "Année invalide.") in flashes(response)
    assert count(MembershipPeriod, MembershipPeriod.organisation_id == organisation.id) == 1


def test_existing_period_is_not_created_twice(client, treasurer, organisation, period):
    response = client.post(f"{BASE}/periods", data={"year": "2026", "copy_grid": "y"}, follow_redirects=True)
    assert ("warning", "La période 2026 existe déjà.") in flashes(response)
    assert count(MembershipPeriod, MembershipPeriod.organisation_id == organisation.id) == 1
    assert count(FeeCategory, FeeCategory.period_id == period.id) == 4


def settings_of(organisation):
    _db.session.expire_all()
    return _db.session.scalar(select(MembershipSettings).where(MembershipSettings.organisation_id == organisation.id))


def test_settings_saved(client, treasurer, organisation):
    response = client.post(f"{BASE}/settings", data={
        "creditor_identifier": "fr72 zzz 123456", "reference_prefix": "cpt", "due_days": "60"}, follow_redirects=True)
    assert ("success", "Paramètres des adhésions enregistrés.") in flashes(response)
    saved = settings_of(organisation)
    assert (saved.creditor_identifier, saved.reference_prefix, saved.due_days) == ("FR72ZZZ123456", "CPT", 60)


@pytest.mark.parametrize("ics, message", [
    ("FR73ZZZ123456", "Identifiant créancier SEPA (ICS) invalide : la clé de contrôle ne correspond pas."),
    ("123456", "Identifiant créancier SEPA (ICS) invalide : il ressemble à FR12ZZZ123456.")])
def test_settings_refuse_a_bad_creditor_identifier(client, treasurer, organisation, ics, message):
    sepa.set_creditor_identifier(organisation, "FR72ZZZ123456")
    response = client.post(f"{BASE}/settings", data={
        "creditor_identifier": ics, "reference_prefix": "CPT", "due_days": "30"})
    assert response.status_code == 200
    assert ("danger", message) in flashes(response)
    assert message in field_errors(response, "creditor_identifier")
    saved = settings_of(organisation)
    # Nothing saved, not even the valid fields of the same form.
    assert (saved.creditor_identifier, saved.reference_prefix, saved.due_days) == ("FR72ZZZ123456", "ADH", 90)


def test_settings_save_and_refuse_the_association_reference_scheme(client, treasurer, organisation):
    response = client.post(f"{BASE}/settings", data={
        "reference_prefix": "ADH", "due_days": "90", "reference_scheme": " COT{year}/{number:05} "},
        follow_redirects=True)
    assert ("success", "Paramètres des adhésions enregistrés.") in flashes(response)
    assert settings_of(organisation).reference_scheme == "COT{year}/{number:05}"
    response = client.post(f"{BASE}/settings", data={
        "reference_prefix": "ADH", "due_days": "90", "reference_scheme": "COT{year}"})
    message = ("Le modèle de référence contient une fois {number}, le numéro d'adhérent "
               "(par exemple COT{year}/{number:05}).")
    assert message in field_errors(response, "reference_scheme")
    assert settings_of(organisation).reference_scheme == "COT{year}/{number:05}"


def test_settings_refuse_a_prefix_without_two_letters(client, treasurer, organisation):
    response = client.post(f"{BASE}/settings", data={
        "creditor_identifier": "FR72ZZZ123456", "reference_prefix": "A1", "due_days": "30"})
    assert field_errors(response, "reference_prefix") == ["Le préfixe compte 2 à 5 lettres."]
    # Nothing saved: the settings never written stay unsaved defaults.
    assert settings_of(organisation) is None


def test_settings_prefix_error_shows_next_to_the_prefix(client, treasurer, organisation):
    response = client.post(f"{BASE}/settings", data={
        "creditor_identifier": "", "reference_prefix": "A1", "due_days": "30"})
    assert field_errors(response, "creditor_identifier") == []
    assert field_errors(response, "reference_prefix") == ["Le préfixe compte 2 à 5 lettres."]


@pytest.mark.parametrize("data, field, message", [
    ({"reference_prefix": "", "due_days": "30"}, "reference_prefix", "Ce champ est obligatoire."),
    ({"reference_prefix": "ABCDEF", "due_days": "30"}, "reference_prefix",
     "La longueur du champ doit être comprise entre 2 et 5 caractères."),
    ({"reference_prefix": "CPT", "due_days": ""}, "due_days", "Ce champ est obligatoire."),
    ({"reference_prefix": "CPT", "due_days": "400"}, "due_days", "Le nombre doit être compris entre 0 et 365."),
])
def test_settings_refuse_bad_fields_in_french(client, treasurer, organisation, data, field, message):
    response = client.post(f"{BASE}/settings", data={"creditor_identifier": "FR72ZZZ123456", **data})
    assert response.status_code == 200 and field_errors(response, field) == [message]
    # Nothing saved: the settings never written stay unsaved defaults.
    assert settings_of(organisation) is None


def test_college_added(client, treasurer, organisation, colleges):
    response = client.post(f"{BASE}/colleges", data={
        "name": "Usagers et aidants", "description": "Associations de patients", "party_kind": ""},
        follow_redirects=True)
    assert ("success", "Collège « Usagers et aidants » ajouté.") in flashes(response)
    college = _db.session.scalar(select(College).where(College.name == "Usagers et aidants"))
    assert (college.organisation_id, college.description, college.party_kind, college.position) == (
        organisation.id, "Associations de patients", None, 4)


@pytest.mark.parametrize("name, error", [("libéraux", ("danger", "Le collège « libéraux » existe déjà.")),
                                         ("", "Ce champ est obligatoire.")])
def test_college_refused(client, treasurer, organisation, colleges, name, error):
    response = client.post(f"{BASE}/colleges", data={"name": name, "party_kind": "professional"})
    assert response.status_code == 200
    if isinstance(error, tuple):
        assert error in flashes(response)
    else:
        assert field_errors(response, "name") == [error]
    assert count(College, College.organisation_id == organisation.id) == 3


# --------------------------------------------------------------------------------------------
# Journal entries of a reversal and of a SEPA collection
# --------------------------------------------------------------------------------------------

def test_cancelled_payment_posts_the_opposite_entry(client, treasurer, membership, physician):
    payment = services.record_payment(membership, "50", "cheque", date(2026, 2, 1), reference="0012345")
    original = entry_lines(payment.accounting_entry_id)
    assert original == {"5112": (Decimal("50.00"), 0, None), "411": (0, Decimal("50.00"), physician.id)}
    response = client.post(f"{BASE}/payments/{payment.id}/reverse", data={"reason": "Chèque sans provision",
                                                                          "form_key": "rev"}, follow_redirects=True)
    assert ("success", "Paiement contre-passé : une écriture de contre-passation a été enregistrée.") in flashes(response)
    reversal = payments_of(membership)[1]
    assert (reversal.kind, reversal.amount, reversal.reverses_id) == (PaymentKind.REVERSAL, Decimal("-50.00"),
                                                                      payment.id)
    assert entry_lines(reversal.accounting_entry_id) == {
        number: (credit, debit, party) for number, (debit, credit, party) in original.items()}
    entry = _db.session.get(JournalEntry, reversal.accounting_entry_id)
    assert entry.reversal_of_id == payment.accounting_entry_id and entry.entry_date == date.today()
    assert membership.status is MembershipStatus.AWAITING_PAYMENT and membership.amount_paid == 0
    # Twice: refused, nothing more.
    again = client.post(f"{BASE}/payments/{payment.id}/reverse", data={"reason": "bis", "form_key": "rev-2"},
                        follow_redirects=True)
    assert ("danger", "Ce paiement est déjà annulé.") in flashes(again)
    assert count(JournalEntry, JournalEntry.reversal_of_id == payment.accounting_entry_id) == 1


def test_collected_sepa_run_posts_one_entry_per_debit(client, treasurer, organisation, period, membership,
                                                      physician, nurse):
    second = services.create_membership(organisation, nurse, period)  # 20 € first-year rate
    services.record_payment(second, "5", "cash", date(2026, 2, 1))
    sepa.set_creditor_identifier(organisation, "FR72ZZZ123456")
    for party in (physician, nurse):
        sepa.create_mandate(organisation, party, IBAN_MEMBER, BIC_MEMBER, date(2025, 12, 1))
    collection_date = date.today() + timedelta(days=5)
    run = sepa.generate_file(sepa.create_run(organisation, [membership, second], collection_date))
    assert [p.accounting_entry_id for p in run.payments] == [None, None]  # pending: nothing posted yet
    response = client.post(f"{BASE}/sepa/runs/{run.id}/collect", follow_redirects=True)
    assert ("success", "Prélèvement encaissé : 2 adhésion(s) réglée(s).") in flashes(response)
    _db.session.expire_all()
    debits = sorted(run.payments, key=lambda p: p.membership_id)
    assert [(p.status, p.amount, p.paid_on) for p in debits] == [
        (PaymentStatus.CONFIRMED, Decimal("50.00"), collection_date),
        (PaymentStatus.CONFIRMED, Decimal("15.00"), collection_date)]
    assert len({p.accounting_entry_id for p in debits}) == 2
    for payment, party in zip(debits, (physician, nurse)):
        assert entry_lines(payment.accounting_entry_id) == {"512": (payment.amount, 0, None),
                                                            "411": (0, payment.amount, party.id)}
        entry = _db.session.get(JournalEntry, payment.accounting_entry_id)
        assert entry.entry_date == collection_date and entry.source == f"membership_payments:{payment.id}"
    assert membership.status is MembershipStatus.PAID and second.status is MembershipStatus.PAID
    # Collected twice: refused, no second entry.
    again = client.post(f"{BASE}/sepa/runs/{run.id}/collect", follow_redirects=True)
    assert ("danger", "Seul un prélèvement dont le fichier a été généré peut être marqué encaissé.") in flashes(again)
    assert count(JournalEntry, JournalEntry.source.in_([f"membership_payments:{p.id}" for p in debits])) == 2


# --------------------------------------------------------------------------------------------
# The member page unfolds the money forms the treasurer is likely to need
# --------------------------------------------------------------------------------------------

def folded_forms(client, membership):
    """{section heading id: whether its form is unfolded} on the membership page."""
    page = client.get(f"{BASE}/members/{membership.id}").get_data(as_text=True)
    return {section: bool(re.search(rf'id="{section}">[^<]*</h2>\s*<details open>', page))
            for section in ("h-pay", "h-refund") if f'id="{section}"' in page}


def test_money_forms_unfold_for_what_is_expected(client, treasurer, membership):
    assert folded_forms(client, membership) == {"h-pay": True}  # nothing paid: no refund section
    services.record_payment(membership, "50", "transfer", date(2026, 2, 1))
    assert folded_forms(client, membership) == {"h-pay": False, "h-refund": False}  # paid, no credit
    services.record_payment(membership, "10", "cash", date(2026, 2, 2))
    assert folded_forms(client, membership) == {"h-pay": False, "h-refund": True}  # 10 € to give back
    page = client.get(f"{BASE}/members/{membership.id}").get_data(as_text=True)
    assert "Rembourser le trop-perçu de 10,00" in html.unescape(page)


@pytest.mark.parametrize("path", ["members/{id}", "grid", "relances", "settings", "cheques"])
def test_no_two_elements_of_a_page_with_several_forms_share_an_id(client, treasurer, overpaid, next_year, path):
    """Forms sit side by side (payment and refund, grid and new period…): each label must point
    at its own field, and hidden fields (CSRF, one-time keys) carry no repeated id."""
    page = client.get(f"{BASE}/{path.format(id=overpaid.id)}").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert ids and len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for target in re.findall(r'<label[^>]*\sfor="([^"]+)"', page):
        assert f'id="{target}"' in page, target


def test_mandate_refused_keeps_what_was_typed(client, treasurer, membership):
    url = f"{BASE}/members/{membership.id}/mandates"
    response = client.post(url, data={"iban": "FR76 3000 4000 0312 3456 7890 144", "bic": "BNPAFRPPXXX",
                                      "debtor_name": "Anne Le Floch", "signed_on": "2026-01-20"})
    assert response.status_code == 422
    [(category, message)] = flashes(response)
    assert category == "danger" and "IBAN" in message
    page = response.get_data(as_text=True)
    assert 'value="FR76 3000 4000 0312 3456 7890 144"' in page and 'value="Anne Le Floch"' in page
    assert '<details class="mt-2" open><summary>Enregistrer un mandat signé' in page
    assert count(SepaMandate) == 0

    response = client.post(url, data={"iban": "", "bic": "BNPAFRPPXXX", "signed_on": "2026-01-20"})
    assert response.status_code == 422 and field_errors(response, "iban") == ["Ce champ est obligatoire."]

    response = client.post(url, data={"iban": "FR76 3000 4000 0312 3456 7890 143", "bic": "BNPAFRPPXXX",
                                      "debtor_name": "Anne Le Floch", "signed_on": "2026-01-20"})
    assert response.status_code == 302 and count(SepaMandate) == 1


def test_a_reversal_is_dated_the_day_the_treasurer_gives(client, treasurer, membership):
    payment = services.record_payment(membership, "50", "transfer", date(2026, 2, 1))
    page = client.get(f"{BASE}/members/{membership.id}").text
    assert ">Contre-passer</summary>" in page and f'min="{date(2026, 2, 1).isoformat()}"' in page
    client.post(f"{BASE}/payments/{payment.id}/reverse",
                data={"reason": "Virement rejeté par la banque", "reversed_on": "2026-03-10", "form_key": "rev-date"})
    reversal = payments_of(membership)[1]
    assert reversal.paid_on == date(2026, 3, 10)
    assert _db.session.get(JournalEntry, reversal.accounting_entry_id).entry_date == date(2026, 3, 10)


def test_a_reversal_before_its_payment_is_refused(client, treasurer, membership):
    payment = services.record_payment(membership, "50", "transfer", date(2026, 2, 1))
    response = client.post(f"{BASE}/payments/{payment.id}/reverse", follow_redirects=True,
                           data={"reason": "Erreur", "reversed_on": "31/01/2026", "form_key": "rev-early"})
    assert ("danger", "La contre-passation ne peut pas précéder le paiement du 01/02/2026.") in flashes(response)
    assert len(payments_of(membership)) == 1


def _pay(client, membership, **values):
    data = {"amount": "50,00", "method": "cheque", "paid_on": "2026-02-01", "reference": "", "form_key": ""} | values
    return client.post(f"{BASE}/members/{membership.id}/payments", data=data, follow_redirects=True)


def test_a_payment_far_above_what_is_due_asks_for_confirmation(client, treasurer, membership):
    response = _pay(client, membership, amount="500,00")
    assert response.status_code == 422
    assert ("warning", "Ce paiement de 500,00 € dépasse de loin ce qui reste dû (50,00 €) : le surplus restera "
                       "en avoir sur le compte du membre.") in flashes(response)
    assert 'name="confirmed"' in response.text and 'value="500,00"' in response.text  # the form as typed
    assert payments_of(membership) == []
    confirmed = _pay(client, membership, amount="500,00", confirmed="y")
    assert confirmed.status_code == 200
    assert [p.amount for p in payments_of(membership)] == [Decimal("500.00")]


def test_the_same_payment_twice_asks_for_confirmation(client, treasurer, membership):
    services.record_payment(membership, "20", "cheque", date(2026, 2, 1), reference="0012345")
    response = _pay(client, membership, amount="20,00", reference="0012346")
    assert response.status_code == 422
    assert ("warning", "Un paiement identique (20,00 €, chèque, du 01/02/2026) est déjà enregistré pour ce membre : "
                       "est-ce bien un second paiement ?") in flashes(response)
    assert len(payments_of(membership)) == 1
    assert _pay(client, membership, amount="20,00", reference="0012346", confirmed="y").status_code == 200
    assert len(payments_of(membership)) == 2


def test_an_ordinary_payment_asks_nothing(client, treasurer, membership):
    assert services.unusual_payment(membership, "50", "transfer", date(2026, 2, 1)) == []
    response = _pay(client, membership, amount="30,00")
    assert response.status_code == 200 and not [m for m in flashes(response) if m[0] == "warning"]
