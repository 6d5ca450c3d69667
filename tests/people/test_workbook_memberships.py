"""The workbook's memberships and payments for the chosen period: created through membership's
services, payments dated as the sheet says and posted, no receipt mail unless asked, and a
re-import that changes nothing (a later version only its differences)."""
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.member_portal.models import MembershipReceipt
from backoffice.membership import services as membership
from backoffice.membership.models import CategoryKind, Membership, MembershipPayment, MembershipStatus
from backoffice.people.models import Professional
from tests.people.helpers import rpps
from tests.people.test_import import token_of, upload
from tests.people.workbooks import workbook_csv, workbook_rows, workbook_xlsx


@pytest.fixture
def period(organisation):
    period = membership.period_for_year(organisation, 2026)
    membership.set_fee_category(period, "Médecin", Decimal("50.00"), CategoryKind.PHYSICIAN)
    membership.set_fee_category(period, "Autre professionnel de santé", Decimal("30.00"),
                                CategoryKind.OTHER_PROFESSIONAL)
    return period


@pytest.fixture
def treasurer(login_as):
    return login_as("treasurer")


def preview(client, token, period):
    response = client.get(f"/o/cpts-test/people/import/{token}?period={period.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def confirm(client, token, period, **data):
    response = client.post(f"/o/cpts-test/people/import/{token}", data={"period": period.id, **data})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def state(period):
    """{person's last name + first name: (status, amount due, [(paid on, amount, method)])}"""
    result = {}
    for m in db.session.scalars(select(Membership).where(Membership.period_id == period.id)):
        payments = db.session.scalars(select(MembershipPayment).where(MembershipPayment.membership_id == m.id)
                                      .order_by(MembershipPayment.paid_on)).all()
        key = f"{m.party.last_name} {m.party.first_name} {m.party.rpps[-3:]}"
        result[key] = (m.status, m.amount_due, [(p.paid_on, p.amount, p.method.value) for p in payments])
    return result


EXPECTED = {
    f"Le Goff Yann {rpps(2)[-3:]}": (MembershipStatus.PAID, Decimal("50.00"),
                                     [(date(2026, 1, 15), Decimal("50.00"), "cheque")]),
    f"Morvan Claire {rpps(1)[-3:]}": (MembershipStatus.PAID, Decimal("30.00"),
                                      [(date(2026, 1, 15), Decimal("30.00"), "transfer")]),
    f"Martin Paul {rpps(10)[-3:]}": (MembershipStatus.AWAITING_PAYMENT, Decimal("30.00"), []),
    f"Martin Paul {rpps(11)[-3:]}": (MembershipStatus.AWAITING_PAYMENT, Decimal("30.00"), []),
    f"Hérault Zoé {rpps(3)[-3:]}": (MembershipStatus.EXEMPT, Decimal("30.00"), []),
    f"Riou Anne {rpps(4)[-3:]}": (MembershipStatus.PAID, Decimal("30.00"), [(date(2026, 2, 3), Decimal("30.00"), "helloasso")]),
    f"Bléas Soizic {rpps(5)[-3:]}": (MembershipStatus.PAID, Decimal("30.00"),
                                     [(date(2026, 2, 2), Decimal("30.00"), "card")]),
    f"Kerjean Loïc {rpps(6)[-3:]}": (MembershipStatus.AWAITING_PAYMENT, Decimal("30.00"), []),
}


def test_the_workbook_creates_memberships_and_payments_for_the_period(client, treasurer, period, outbox):
    token = token_of(upload(client, workbook_xlsx(), "adherents-2026.xlsx"))
    html = preview(client, token, period)
    assert "8 adhésion(s) à créer, 4 paiement(s) à enregistrer, 1 déjà enregistrée(s)" in html
    assert "Adhésion 2026 à créer : payée 50,00\xa0€ le 15/01/2026 (chèque)" in html
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0  # the preview writes nothing

    done = confirm(client, token, period)
    assert "Adhésions 2026 : 8 créée(s), 4 paiement(s) enregistré(s)." in done
    assert state(period) == EXPECTED
    payments = db.session.scalars(select(MembershipPayment)).all()
    assert all(p.accounting_entry_id is not None and p.source == "import" for p in payments)
    paul = db.session.scalar(select(Membership).join(Professional, Membership.party_id == Professional.id)
                             .where(Professional.rpps == rpps(11)))
    assert paul.note == "N° d'adhérent A-004 · Règlement annoncé dans le tableau : Espèces"
    assert db.session.scalar(select(func.count()).select_from(MembershipReceipt)) == 0  # none asked for
    assert outbox() == []


def test_importing_the_same_workbook_again_changes_nothing(client, treasurer, period):
    confirm(client, token_of(upload(client, workbook_xlsx(), "adherents-2026.xlsx")), period)
    before = state(period), db.session.scalar(select(func.count()).select_from(MembershipPayment))
    again = token_of(upload(client, workbook_csv(), "adherents-2026.csv"))  # the same sheet saved as CSV
    html = preview(client, again, period)
    assert re.search(r'id="count-unchanged">8<', html) and re.search(r'id="count-create">0<', html)
    assert "0 adhésion(s) à créer, 0 paiement(s) à enregistrer, 9 déjà enregistrée(s)" in html
    confirm(client, again, period)
    assert (state(period), db.session.scalar(select(func.count()).select_from(MembershipPayment))) == before


def test_a_later_version_applies_only_its_differences(client, treasurer, period):
    confirm(client, token_of(upload(client, workbook_xlsx(), "adherents-2026.xlsx")), period)
    rows = workbook_rows()
    rows[7][11], rows[7][12] = "10/03/2026", "Virement"    # line 8: Paul Martin (A-003) has paid
    rows[14][11] = "12/03/26"                              # line 15: Loïc's announced cheque came in
    later = token_of(upload(client, workbook_xlsx(rows), "adherents-2026-mars.xlsx"))
    html = preview(client, later, period)
    assert "0 adhésion(s) à créer, 2 paiement(s) à enregistrer, 7 déjà enregistrée(s)" in html
    assert "Paiement à enregistrer : payée 30,00\xa0€ le 10/03/2026 (virement)" in html
    confirm(client, later, period)
    expected = dict(EXPECTED)
    expected[f"Martin Paul {rpps(10)[-3:]}"] = (MembershipStatus.PAID, Decimal("30.00"),
                                                [(date(2026, 3, 10), Decimal("30.00"), "transfer")])
    expected[f"Kerjean Loïc {rpps(6)[-3:]}"] = (MembershipStatus.PAID, Decimal("30.00"),
                                                [(date(2026, 3, 12), Decimal("30.00"), "cheque")])
    assert state(period) == expected


def test_receipts_are_sent_only_when_the_treasurer_asks(client, treasurer, period):
    confirm(client, token_of(upload(client, workbook_xlsx(), "adherents-2026.xlsx")), period, send_receipts="1")
    receipts = db.session.scalars(select(MembershipReceipt)).all()
    assert len(receipts) == 4


def test_a_refused_membership_imports_nothing(client, treasurer, organisation):
    """An empty fee grid and a row without an amount: the membership cannot be created, and
    neither the people nor the other memberships are kept."""
    empty = membership.period_for_year(organisation, 2025)
    rows = workbook_rows()
    rows[7][10] = ""  # line 8: no amount, and the 2025 grid is empty
    token = token_of(upload(client, workbook_xlsx(rows), "adherents-2025.xlsx"))
    response = client.post(f"/o/cpts-test/people/import/{token}", data={"period": empty.id}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Rien n&#39;a été importé. Ligne 8 (Paul MARTIN)" in html
    assert db.session.scalar(select(func.count()).select_from(Professional)) == 0
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0


def test_the_member_number_is_kept_and_searchable(client, treasurer, period):
    confirm(client, token_of(upload(client, workbook_xlsx(), "adherents-2026.xlsx")), period)
    numbers = {m.party.rpps: m.member_number for m in db.session.scalars(select(Membership))}
    assert numbers == {rpps(2): "A-001", rpps(1): "A-002", rpps(10): "A-003", rpps(11): "A-004", rpps(3): "A-005",
                       rpps(4): "A-006", rpps(5): "A-007", rpps(6): "A-008"}
    html = client.get(f"/o/cpts-test/membership/?period={period.id}&q=A-004").get_data(as_text=True)
    assert html.count("MARTIN") >= 1 and "MORVAN" not in html and "LE GOFF" not in html
    # Kept on the membership too: the association's own reference scheme is built from it.
    assert "A-004" in {m.member_number for m in db.session.scalars(select(Membership))}
    assert "N° d&#39;adhérent A-004" in html or "N° d'adhérent A-004" in html
    everyone = client.get(f"/o/cpts-test/membership/?period={period.id}&q=a-00").get_data(as_text=True)
    assert all(name in everyone for name in ("MORVAN", "LE GOFF", "KERJEAN"))  # case aside, a part of it


def test_the_same_person_twice_with_two_payments_has_both(client, treasurer, period):
    """Lines 7 and 11 are Claire Morvan: an identical payment is recorded once, a different one too."""
    rows = workbook_rows()
    rows[10][10], rows[10][11], rows[10][12] = "20", "20/02/2026", "Espèces"  # line 11: a second payment
    confirm(client, token_of(upload(client, workbook_xlsx(rows), "adherents-2026.xlsx")), period)
    claire = state(period)[f"Morvan Claire {rpps(1)[-3:]}"]
    assert claire[2] == [(date(2026, 1, 15), Decimal("30.00"), "transfer"),
                         (date(2026, 2, 20), Decimal("20.00"), "cash")]
    assert claire[0] is MembershipStatus.PAID


def test_a_later_version_applies_its_changed_details_payments_and_fees(client, treasurer, period):
    """March's version of the sheet, saved as CSV: Yann's e-mail and phone changed, Anne moved
    to Le Croisic, Claire's transfer was 35 € not 30 € (both her rows say so), Paul Martin's
    fee is 50 €, Loïc's cheque came in. Only that is applied, and listed before."""
    confirm(client, token_of(upload(client, workbook_xlsx(), "adherents-2026.xlsx")), period)
    rows = workbook_rows()
    rows[5][6], rows[5][7] = "y.legoff@cabinet-presquile.fr", "02 40 99 88 77"   # line 6: Yann
    rows[6][10] = rows[10][10] = "35,00 €"                                       # lines 7 and 11: Claire
    rows[7][10] = "50 €"                                                         # line 8: Paul (A-003)
    rows[12][8], rows[12][9] = "44490", "Le Croisic"                             # line 13: Anne
    rows[14][11] = "12/03/26"                                                    # line 15: Loïc
    later = token_of(upload(client, workbook_csv(rows), "adherents-2026-mars.csv"))
    html = preview(client, later, period)
    assert "0 adhésion(s) à créer, 1 paiement(s) à enregistrer, 2 modification(s) (paiement ou cotisation), " \
           "6 déjà enregistrée(s)" in html
    assert ("Paiement modifié : 30,00\xa0€ le 15/01/2026 (virement) → payée 35,00\xa0€ le 15/01/2026 (virement) "
            "(l&#39;ancien est contre-passé)") in html
    assert "Cotisation modifiée : 30,00\xa0€ → 50,00\xa0€" in html
    assert "Paiement à enregistrer : payée 30,00\xa0€ le 12/03/2026 (chèque)" in html
    assert re.search(r'id="count-update">2<', html)  # Yann and Anne; their changes listed on their rows
    assert "y.legoff@cabinet-presquile.fr" in html and "Le Croisic" in html
    done = confirm(client, later, period)
    assert "4 paiement(s) enregistré(s)" not in done and "2 modifiée(s)" in done

    yann = db.session.scalar(select(Professional).where(Professional.rpps == rpps(2)))
    anne = db.session.scalar(select(Professional).where(Professional.rpps == rpps(4)))
    assert (yann.email, yann.phone) == ("y.legoff@cabinet-presquile.fr", "+33240998877")
    assert (anne.postcode, anne.commune) == ("44490", "Le Croisic")
    expected = dict(EXPECTED)
    expected[f"Morvan Claire {rpps(1)[-3:]}"] = (MembershipStatus.PAID, Decimal("35.00"), [
        (date(2026, 1, 15), Decimal("30.00"), "transfer"), (date(2026, 1, 15), Decimal("35.00"), "transfer"),
        (date.today(), Decimal("-30.00"), "transfer")])
    expected[f"Martin Paul {rpps(10)[-3:]}"] = (MembershipStatus.AWAITING_PAYMENT, Decimal("50.00"), [])
    expected[f"Kerjean Loïc {rpps(6)[-3:]}"] = (MembershipStatus.PAID, Decimal("30.00"),
                                                [(date(2026, 3, 12), Decimal("30.00"), "cheque")])
    assert state(period) == expected
    reversal = db.session.scalar(select(MembershipPayment).where(MembershipPayment.amount < 0))
    assert reversal.accounting_entry_id is not None and reversal.reverses.amount == Decimal("30.00")

    # The same March version again: nothing more.
    before = db.session.scalar(select(func.count()).select_from(MembershipPayment))
    again = token_of(upload(client, workbook_xlsx(rows), "adherents-2026-mars.xlsx"))
    assert "0 adhésion(s) à créer, 0 paiement(s) à enregistrer, 9 déjà enregistrée(s)" in preview(client, again, period)
    confirm(client, again, period)
    assert state(period) == expected
    assert db.session.scalar(select(func.count()).select_from(MembershipPayment)) == before


def test_with_the_association_scheme_the_import_gives_its_own_references(client, treasurer, organisation, period):
    """The treasurer writes her references COT{year}/{number}: the imported memberships get them,
    from the sheet's member numbers, and the next free number for a row without one."""
    membership.set_reference_scheme(organisation, "COT{year}/{number:05}")
    rows = workbook_rows()
    rows[13][0] = ""  # line 14: Soizic Bléas has no member number yet
    confirm(client, token_of(upload(client, workbook_xlsx(rows), "adherents-2026.xlsx")), period)
    references = {m.party.last_name: (m.payment_reference, m.member_number)
                  for m in db.session.scalars(select(Membership).where(Membership.period_id == period.id))}
    assert references["Le Goff"] == ("COT2026/A-001", "A-001")
    assert references["Bléas"] == ("COT2026/00001", "1")
    assert not any(reference.startswith("ADH") for reference, _ in references.values())


def test_a_payment_the_later_version_no_longer_shows_is_kept_and_said(client, treasurer, period):
    """Loïc's cheque of 12/03/2026 was imported from the March version; the April version lost
    its date (a cell emptied by mistake): the preview says the payment is kept, on his row, and
    the import reverses nothing."""
    rows = workbook_rows()
    rows[14][11] = "12/03/26"                              # line 15: Loïc's cheque came in
    confirm(client, token_of(upload(client, workbook_xlsx(rows), "adherents-2026-mars.xlsx")), period)
    before = state(period)
    rows[14][11] = ""                                      # April: the date is gone
    later = token_of(upload(client, workbook_xlsx(rows), "adherents-2026-avril.xlsx"))
    html = preview(client, later, period)
    warning = "Le paiement du 12/03/2026 (30,00\xa0€) ne figure plus dans le fichier : il est conservé"
    assert html.count(warning) == 1
    row = html.split(warning, 1)[0].rsplit("<tr", 1)[1]
    assert "Kerjean" in row or "KERJEAN" in row   # on Loïc's row, not elsewhere
    assert "contre-passé" not in html
    assert "0 adhésion(s) à créer, 0 paiement(s) à enregistrer" in html
    confirm(client, later, period)
    assert state(period) == before                        # the cheque is still there, nothing reversed
    assert db.session.scalar(select(func.count()).select_from(MembershipPayment)
                             .where(MembershipPayment.kind == "reversal")) == 0


def test_a_member_number_already_someone_elses_is_refused_on_its_row_and_corrected_there(
        client, treasurer, organisation, period):
    """Under the association's scheme, Claire's number A-002 is already Jean Dupont's this year:
    the preview refuses her row (nothing would be half-imported), the treasurer corrects the
    number in place, and the import gives her the reference of her corrected number."""
    from tests.factories import ProfessionalFactory

    membership.set_reference_scheme(organisation, "COT{year}/{number:05}")
    jean = ProfessionalFactory(first_name="Jean", last_name="Dupont", profession="infirmier")
    membership.create_membership(organisation, jean, period, member_number="A-002")
    token = token_of(upload(client, workbook_xlsx(), "adherents-2026.xlsx"))
    html = preview(client, token, period)
    message = ("La référence COT2026/A-002 (numéro d&#39;adhérent A-002) est déjà celle d&#39;une autre adhésion 2026 : "
               "un numéro d&#39;adhérent sert à un seul membre.")
    assert message in html and 'data-line="7" data-status="error"' in html
    assert 'id="fix-7-0" name="value" value="A-002"' in html
    response = client.post(f"/o/cpts-test/people/import/{token}/cell",
                           data={"line": 7, "column": 0, "value": "A-020", "period": period.id})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message not in html and re.search(r'id="count-error">0<', html)
    confirm(client, token, period)
    claire = db.session.scalar(select(Membership).join(Professional, Membership.party_id == Professional.id)
                               .where(Professional.rpps == rpps(1), Membership.period_id == period.id))
    assert (claire.payment_reference, claire.member_number) == ("COT2026/A-020", "A-020")
