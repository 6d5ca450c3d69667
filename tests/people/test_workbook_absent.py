"""A later version of the member workbook that no longer has someone at all: the preview says
who of the earlier import of the period has no row any more, what they have, and that nothing
is deleted or reversed for them; the commit leaves their membership and payments as they were."""
import re
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.membership import services as membership
from backoffice.membership.models import Membership, MembershipPayment
from backoffice.people import memberships as people_memberships
from backoffice.people import services
from tests.people.helpers import csv_bytes, rpps, xlsx_bytes
from tests.people.test_import import token_of, upload
from tests.people.test_workbook_memberships import confirm, period, preview, state  # noqa: F401 - fixture

HEADER = ["N° adhérent", "Civ.", "NOM", "Prénom", "Profession", "N° RPPS", "Courriel", "Cotisation",
          "Date de règlement", "Mode de règlement"]
LE_GOFF = ["A-001", "M.", "Le Goff", "Yann", "Médecin généraliste", rpps(2), "yann.legoff@example.fr", "50,00 €",
           datetime(2026, 1, 15), "Chèque"]
MORVAN = ["A-002", "Mme", "Morvan", "Claire", "IDE", rpps(1), "claire.morvan@example.fr", "30,00 €", "15/01/2026",
          "Virement"]
MARTIN = ["A-003", "M.", "Martin", "Paul", "MK", rpps(10), "paul.martin@example.fr", "30 €", "", ""]
RIOU = ["A-004", "Mme", "Riou", "Anne", "Chir. dentiste", rpps(4), "anne.riou@example.fr", "30", "3/2/26",
        "HelloAsso"]
BLEAS = ["A-005", "Mme", "Bléas", "Soizic", "SF", rpps(5), "soizic.bleas@example.fr", "30,00 €", "", "Chèque"]
KERJEAN = ["A-006", "M.", "Kerjean", "Loïc", "Maïeuticien", rpps(6), "loic.kerjean@example.fr", "30,00 €",
           "02/03/2026", "Espèces"]


def sheet(*people, total="170,00 €"):
    """The treasurer's sheet: a title, the header, a sub-heading, her members, a total."""
    return [["Adhérents 2026 — CPTS de la Presqu'île"], [], HEADER, ["Médecins et paramédicaux"],
            *[list(person) for person in people], [], ["", "", "TOTAL", "", "", "", "", total]]


V1 = sheet(LE_GOFF, MORVAN, MARTIN, RIOU, BLEAS)


def v2_rows():
    """April: Claire Morvan and Paul Martin have left the sheet, Loïc Kerjean has joined; the
    « Courriel » column moved to the end, so the file's layout is not January's."""
    rows = sheet(LE_GOFF, RIOU, BLEAS, KERJEAN, total="140,00 €")
    return [row if len(row) < len(HEADER) else [row[i] for i in (0, 1, 2, 3, 4, 5, 7, 8, 9, 6)] for row in rows]


def absent_list(html):
    section = re.search(r'<section class="alert alert-warning" id="import-absent".*?</section>', html, re.S)
    return section.group(0) if section else ""


@pytest.fixture
def treasurer(login_as):
    return login_as("treasurer")


@pytest.fixture
def january(client, treasurer, period):
    """January's sheet imported: five members, three of them paid."""
    confirm(client, token_of(upload(client, xlsx_bytes(V1), "adherents-2026.xlsx")), period)
    return state(period)


def test_the_preview_lists_the_people_the_later_version_no_longer_has(client, period, january):
    later = token_of(upload(client, xlsx_bytes(v2_rows()), "adherents-2026-avril.xlsx"))
    html = preview(client, later, period)
    section = absent_list(html)
    assert "2 adhérents 2026 d'un import précédent sans ligne dans ce fichier" in section
    assert section.count("<li data-absent-membership") == 2
    assert ("Paul MARTIN (n° d&#39;adhérent A-003) ne figure plus dans le fichier : son adhésion et ses paiements "
            "sont conservés ; l&#39;import ne supprime ni ne contre-passe rien") in section
    assert "Claire MORVAN (n° d&#39;adhérent A-002) ne figure plus dans le fichier" in section
    assert "Payée, 30,00\xa0€ payés sur 30,00\xa0€ : virement du 15/01/2026 (30,00\xa0€)" in section  # Claire
    assert "En attente de paiement, 0,00\xa0€ payés sur 30,00\xa0€, aucun paiement" in section         # Paul
    assert section.index("MARTIN") < section.index("MORVAN")  # by name
    for name in ("LE GOFF", "RIOU", "BLÉAS", "Bléas", "KERJEAN", "Kerjean"):
        assert name not in section
    assert "1 adhésion(s) à créer, 1 paiement(s) à enregistrer, 3 déjà enregistrée(s), " \
           "2 absente(s) du fichier (conservée(s), voir ci-dessous)." in html
    assert 'id="import-absent-more"' not in html
    assert state(period) == january  # a preview writes nothing


def test_committing_the_later_version_keeps_their_memberships_and_payments(client, period, january):
    payments = db.session.scalar(select(func.count()).select_from(MembershipPayment))
    confirm(client, token_of(upload(client, xlsx_bytes(v2_rows()), "adherents-2026-avril.xlsx")), period)
    after = state(period)
    kerjean = f"Kerjean Loïc {rpps(6)[-3:]}"
    assert {key: value for key, value in after.items() if key != kerjean} == january
    assert after[kerjean][2] and db.session.scalar(select(func.count()).select_from(MembershipPayment)) == payments + 1

    # The same April version again (saved as CSV): they are still absent, and still said so.
    again = token_of(upload(client, csv_bytes([[f"{c:%d/%m/%Y}" if isinstance(c, datetime) else c for c in row]
                                               for row in v2_rows()], encoding="cp1252"), "adherents-2026-avril.csv"))
    html = preview(client, again, period)
    section = absent_list(html)
    assert "Claire MORVAN" in section and "Paul MARTIN" in section and "KERJEAN" not in section
    assert "0 adhésion(s) à créer, 0 paiement(s) à enregistrer, 4 déjà enregistrée(s), 2 absente(s)" in html
    confirm(client, again, period)
    assert state(period) == after


def test_a_person_whose_row_is_in_error_is_not_absent(client, period, january):
    """Claire's row is still there, with an e-mail mistyped: her row says so, not the absent list."""
    rows = sheet(LE_GOFF, MORVAN, MARTIN, RIOU, BLEAS)
    rows[5][6] = "claire.morvan@@example.fr"
    html = preview(client, token_of(upload(client, xlsx_bytes(rows), "adherents-2026.xlsx")), period)
    assert 'data-line="6" data-status="error"' in html
    assert 'id="import-absent"' not in html


def test_only_the_imported_memberships_of_the_period_count(client, organisation, period, january):
    """Jean Dupont's membership was made by hand, Paul Martin's was cancelled since, and 2025 is
    another period: none of them is the sheet's to miss."""
    from tests.factories import ProfessionalFactory

    jean = ProfessionalFactory(first_name="Jean", last_name="Dupont", profession="infirmier")
    membership.create_membership(organisation, jean, period)
    paul = db.session.scalar(select(Membership).where(Membership.member_number == "A-003"))
    membership.cancel_membership(paul, "A quitté le territoire")
    last_year = membership.period_for_year(organisation, 2025)
    membership.create_membership(organisation, jean, last_year, source="import", amount_due=Decimal("30.00"))
    html = preview(client, token_of(upload(client, xlsx_bytes(v2_rows()), "adherents-2026-avril.xlsx")), period)
    section = absent_list(html)
    assert "1 adhérent 2026 d'un import précédent" in section
    assert "Claire MORVAN" in section and "MARTIN" not in section and "DUPONT" not in section


def test_a_long_list_names_the_first_ones_and_counts_the_others(client, period, january, monkeypatch):
    monkeypatch.setattr(people_memberships, "ABSENT_SHOWN", 1)
    html = preview(client, token_of(upload(client, xlsx_bytes(sheet(LE_GOFF, RIOU)), "adherents-2026.xlsx")), period)
    section = absent_list(html)
    assert "3 adhérents 2026 d'un import précédent" in section
    assert "Soizic BLÉAS" in section and "MARTIN" not in section and "MORVAN" not in section  # the first by name
    assert "… et 2 autres, dans la liste des adhésions 2026." in section


def test_a_file_without_membership_columns_lists_no_one(organisation, period, client, january):
    rows = [[cell for i, cell in enumerate(row) if 1 <= i < 7] for row in sheet(LE_GOFF)]
    plan = services.plan_people_import(xlsx_bytes(rows), "annuaire.xlsx", organisation, period)
    assert not plan.has_memberships
    assert (plan.membership_counts.get("absent", 0), plan.absent_members) == (0, [])
