"""Affiliations: offices, boards and associates as dated data; the directory each organisation sees."""
from datetime import date

import pytest
from sqlalchemy import select

from backoffice.audit.models import AuditEntry
from backoffice.extensions import db
from backoffice.organisations.affiliations import (AffiliationError, Role, affiliate, affiliations, affiliations_of,
                                                   current_holder, end_affiliation, holders, set_office)
from tests.factories import ProfessionalFactory, StructureFactory


@pytest.fixture
def anne(db):
    return ProfessionalFactory(first_name="Anne", last_name="Le Bihan", profession="medecin_generaliste")


@pytest.fixture
def loic(db):
    return ProfessionalFactory(first_name="Loïc", last_name="d'Arvor-Ménard", profession="infirmier")


def test_holders_on_dates(organisation, anne, loic):
    associate = affiliate(anne, organisation, Role.ASSOCIATE, starts_on=date(2025, 6, 16))
    affiliate(loic, organisation, Role.ASSOCIATE, starts_on=date(2012, 12, 1), ends_on=date(2025, 9, 30))
    assert [a.party for a in holders(organisation, Role.ASSOCIATE, date(2025, 6, 15))] == [loic]
    assert [a.party for a in holders(organisation, Role.ASSOCIATE, date(2025, 6, 16))] == [loic, anne]
    assert [a.party for a in holders(organisation, Role.ASSOCIATE, date(2025, 9, 30))] == [loic, anne]
    assert [a.party for a in holders(organisation, Role.ASSOCIATE, date(2025, 10, 1))] == [anne]
    assert holders(organisation, Role.BOARD_MEMBER, date(2025, 10, 1)) == []
    assert [(a.starts_on, a.ends_on) for a in affiliations(organisation, roles=[Role.ASSOCIATE], since=date(2025, 1, 1))] \
        == [(date(2012, 12, 1), date(2025, 9, 30)), (date(2025, 6, 16), None)]
    assert affiliations(organisation, since=date(2026, 1, 1)) == [associate]
    assert str(associate) == "Associé(e) de CPTS de Test : Anne LE BIHAN, du 16/06/2025"


def test_one_president_at_a_time_hands_over(organisation, anne, loic):
    first = affiliate(anne, organisation, Role.PRESIDENT, starts_on=date(2024, 9, 14))
    second = affiliate(loic, organisation, Role.PRESIDENT, starts_on=date(2026, 6, 8))
    assert first.ends_on == date(2026, 6, 7)
    assert current_holder(organisation, Role.PRESIDENT, date(2026, 6, 7)) == anne
    assert current_holder(organisation, Role.PRESIDENT, date(2026, 6, 8)) == loic
    assert current_holder(organisation, Role.PRESIDENT, date(2020, 1, 1)) is None
    with pytest.raises(AffiliationError, match="déjà président"):
        affiliate(anne, organisation, Role.PRESIDENT, starts_on=date(2026, 6, 1))  # her own term
    with pytest.raises(AffiliationError, match=r"Loïc D'ARVOR-MÉNARD est président\(e\) à partir du 08/06/2026"):
        affiliate(ProfessionalFactory(), organisation, Role.PRESIDENT, starts_on=date(2026, 6, 8))
    with pytest.raises(AffiliationError, match="déjà président"):
        affiliate(loic, organisation, Role.PRESIDENT, starts_on=date(2026, 7, 1))
    end_affiliation(second, date(2026, 12, 31))
    assert current_holder(organisation, Role.PRESIDENT, date(2027, 1, 1)) is None


def test_board_holds_several_and_refuses_bad_dates(organisation, anne, loic):
    affiliate(anne, organisation, Role.BOARD_MEMBER, starts_on=date(2024, 9, 14))
    affiliate(loic, organisation, Role.BOARD_MEMBER, starts_on=date(2024, 9, 14))
    assert len(holders(organisation, Role.BOARD_MEMBER, date(2025, 1, 1))) == 2
    with pytest.raises(AffiliationError, match="date de fin précède"):
        affiliate(anne, organisation, Role.SECRETARY, starts_on=date(2025, 1, 2), ends_on=date(2025, 1, 1))
    board = holders(organisation, Role.BOARD_MEMBER, date(2025, 1, 1))[0]
    with pytest.raises(AffiliationError, match="précéder le début"):
        end_affiliation(board, date(2024, 1, 1))
    end_affiliation(board, date(2025, 3, 1))
    with pytest.raises(AffiliationError, match="déjà terminé"):
        end_affiliation(board, date(2025, 4, 1))


def test_affiliations_of_a_party_across_organisations(organisation, other_organisation, anne):
    affiliate(anne, other_organisation, Role.TREASURER, starts_on=date(2025, 1, 1))
    affiliate(anne, organisation, Role.ASSOCIATE, starts_on=date(2020, 1, 1), ends_on=date(2024, 12, 31))
    assert [(a.organisation.name, a.role) for a in affiliations_of(anne)] == [
        ("CPTS Autre", Role.TREASURER), ("CPTS de Test", Role.ASSOCIATE)]
    assert [a.role for a in affiliations_of(anne, on=date(2026, 1, 1))] == [Role.TREASURER]


def test_set_office_from_the_settings(organisation, anne, loic):
    set_office(organisation, Role.TREASURER, anne, on=date(2026, 1, 5))
    assert set_office(organisation, Role.TREASURER, anne, on=date(2026, 2, 1)) is None  # unchanged: nothing
    set_office(organisation, Role.TREASURER, loic, on=date(2026, 3, 1))
    assert [(a.party, a.ends_on) for a in affiliations(organisation, roles=[Role.TREASURER])] == [
        (loic, None), (anne, date(2026, 2, 28))]
    set_office(organisation, Role.TREASURER, anne, on=date(2026, 3, 1))  # a slip corrected the same day
    assert [(a.party, a.starts_on, a.ends_on) for a in affiliations(organisation, roles=[Role.TREASURER])] == [
        (anne, date(2026, 1, 5), date(2026, 2, 28)), (anne, date(2026, 3, 1), None)]
    set_office(organisation, Role.TREASURER, None, on=date(2026, 4, 1))
    assert current_holder(organisation, Role.TREASURER, date(2026, 4, 1)) is None


def test_affiliations_are_audited_in_french(client, login_as, organisation, anne):
    user = login_as("admin")
    client.post("/o/cpts-test/settings/", data={
        "name": organisation.name, "kind": "cpts", "fiscal_year_start_month": "1", "president_id": "0",
        "treasurer_id": "0", "secretary_id": str(anne.id)})
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.table_name == "affiliations"))
    assert entry.user_id == user.id and entry.organisation_id == organisation.id
    html = client.get("/o/cpts-test/audit/?table=affiliations").get_data(as_text=True)
    assert "Secrétaire de CPTS de Test : Anne LE BIHAN" in html
    assert "Rôles en cours" in client.get("/o/cpts-test/settings/").get_data(as_text=True)


def test_holders_query_count_does_not_grow(organisation, count_queries):
    for n in range(12):
        affiliate(ProfessionalFactory(), organisation, Role.ASSOCIATE, starts_on=date(2020, 1, 1))
    affiliate(StructureFactory(name="SELARL « Les Tilleuls » & associés"), organisation, Role.ASSOCIATE,
              starts_on=date(2020, 1, 1))
    db.session.expire_all()
    with count_queries() as queries:
        names = [a.party.display_name for a in holders(organisation, Role.ASSOCIATE, date(2026, 1, 1))]
    assert len(names) == 13 and queries.count <= 2  # the organisation's reload and the holders


# ---------------------------------------------------------------- the directory of an organisation

@pytest.fixture
def two_directories(organisation, other_organisation):
    """Anne is a member of the test CPTS; Loïc is only the other CPTS's treasurer; Zoé has no relation."""
    from decimal import Decimal

    from backoffice.membership import services as membership

    anne = ProfessionalFactory(first_name="Anne", last_name="Abgrall", email="anne@cabinet-guerande.fr",
                               phone="+33240112233")
    loic = ProfessionalFactory(first_name="Loïc", last_name="Ménard", email="loic.menard@orange.fr",
                               phone="+33612345678")
    zoe = ProfessionalFactory(first_name="Zoé", last_name="Quéré", email="zoe@exemple.fr")
    period = membership.period_for_year(organisation, 2026)
    membership.set_fee_category(period, "Médecin", Decimal("50"))
    membership.create_membership(organisation, anne, period, joined_on=date(2026, 1, 5))
    affiliate(loic, other_organisation, Role.TREASURER, starts_on=date(2025, 1, 1))
    return anne, loic, zoe


def test_the_directory_lists_the_organisations_people_only(client, login_as, two_directories):
    anne, loic, zoe = two_directories
    login_as("treasurer")
    html = client.get("/o/cpts-test/people/").get_data(as_text=True)
    assert "ABGRALL Anne" in html and "anne@cabinet-guerande.fr" in html
    assert "MÉNARD Loïc" not in html and "QUÉRÉ Zoé" not in html
    shared = client.get("/o/cpts-test/people/?annuaire=partage").get_data(as_text=True)
    assert "MÉNARD Loïc" in shared and "QUÉRÉ Zoé" in shared and "anne@cabinet-guerande.fr" in shared
    assert "loic.menard@orange.fr" not in shared and "06 12 34 56 78" not in shared
    # An e-mail address does not say whose it is.
    assert "MÉNARD Loïc" not in client.get("/o/cpts-test/people/?annuaire=partage&q=loic.menard@").get_data(as_text=True)
    assert "ABGRALL Anne" in client.get("/o/cpts-test/people/?annuaire=partage&q=anne@cabinet").get_data(as_text=True)


def test_another_organisations_member_shows_without_contact_details(client, login_as, other_organisation,
                                                                    two_directories):
    anne, loic, zoe = two_directories
    login_as("treasurer")
    html = client.get(f"/o/cpts-test/people/{loic.id}").get_data(as_text=True)
    assert "Loïc MÉNARD" in html and "loic.menard@orange.fr" not in html and "06 12 34 56 78" not in html
    assert "Historique des modifications" not in html and "ses coordonnées et son historique ne sont pas affichés" in html
    assert client.get(f"/o/cpts-test/people/{loic.id}/edit").status_code == 404
    mine = client.get(f"/o/cpts-test/people/{anne.id}").get_data(as_text=True)
    assert "anne@cabinet-guerande.fr" in mine and "02 40 11 22 33" in mine
    # The other CPTS's own staff still see them.
    login_as("treasurer", org=other_organisation)
    assert "loic.menard@orange.fr" in client.get(f"/o/cpts-autre/people/{loic.id}").get_data(as_text=True)


def test_adding_someone_of_the_shared_table_to_the_directory(client, login_as, two_directories):
    anne, loic, zoe = two_directories
    login_as("treasurer")
    response = client.post(f"/o/cpts-test/people/{zoe.id}/add-to-directory")
    assert response.status_code == 302
    assert "zoe@exemple.fr" in client.get(f"/o/cpts-test/people/{zoe.id}").get_data(as_text=True)
    assert "QUÉRÉ Zoé" in client.get("/o/cpts-test/people/").get_data(as_text=True)
    client.post(f"/o/cpts-test/people/{zoe.id}/add-to-directory")  # twice: one contact
    assert len(holders(two_directories_org(client), Role.CONTACT)) == 1


def two_directories_org(client):
    from backoffice.organisations.models import Organisation

    return db.session.scalar(select(Organisation).where(Organisation.slug == "cpts-test"))


def test_a_new_entry_is_in_the_organisations_directory(client, login_as):
    login_as("treasurer")
    response = client.post("/o/cpts-test/people/new/professional", data={
        "civility": "Mme", "first_name": "Gwenaëlle", "last_name": "Le Hénaff", "profession": "infirmier",
        "email": "gwen@exemple.fr", "phone": "", "commune": "Guérande", "site_id": ""})
    assert response.status_code == 302
    assert "LE HÉNAFF Gwenaëlle" in client.get("/o/cpts-test/people/").get_data(as_text=True)


@pytest.mark.no_db_transaction
def test_migration_moves_president_and_treasurer_into_affiliations(database_url, tmp_path):
    import sqlalchemy
    from flask_migrate import upgrade
    from sqlalchemy import text

    from tests.foundation.test_migrations import fresh_database_app

    with fresh_database_app(database_url, tmp_path) as app, app.app_context():
        upgrade(revision="0014")
        with db.engine.begin() as connection:
            for n, name in ((1, "Anne"), (2, "Claire")):
                connection.execute(text(
                    "INSERT INTO parties (id, kind, first_name, last_name, sort_name, created_at, updated_at) "
                    "VALUES (:id, 'professional', :name, 'Le Bihan', :name, :now, :now)"),
                    {"id": n, "name": name, "now": "2024-09-14 10:00:00+00:00"})
            connection.execute(text(
                "INSERT INTO organisations (id, slug, name, kind, president_id, treasurer_id, "
                "fiscal_year_start_month, created_at, updated_at) VALUES (1, 'cpts', 'CPTS « Côte d''Amour »', "
                "'cpts', 1, 2, 1, :created, :created)"), {"created": "2024-09-14 10:00:00+00:00"})
            connection.execute(text(
                "INSERT INTO membership_periods (id, organisation_id, year, starts_on, ends_on, renewal_open, "
                "created_at, updated_at) VALUES (1, 1, 2026, '2026-01-01', '2026-12-31', true, :now, :now)"),
                {"now": "2026-01-01 10:00:00+00:00"})
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT organisation_id, party_id, role, starts_on, ends_on FROM affiliations ORDER BY role")).all()
            columns = [c["name"] for c in sqlalchemy.inspect(connection).get_columns("organisations")]
            # Rebuilding the table on SQLite must not cascade to the rows that point to it.
            periods = connection.execute(text("SELECT count(*) FROM membership_periods")).scalar()
        db.engine.dispose()
    assert [(r[0], r[1], r[2], str(r[3]), r[4]) for r in rows] == [
        (1, 1, "president", "2024-09-14", None), (1, 2, "treasurer", "2024-09-14", None)]
    assert "president_id" not in columns and "treasurer_id" not in columns
    assert periods == 1


def test_the_audit_log_keeps_other_organisations_members_changes(client, login_as, organisation, two_directories):
    from backoffice.people.services import save_professional

    anne, loic, zoe = two_directories
    save_professional(loic, email="loic.nouveau@orange.fr")
    save_professional(anne, email="anne.nouvelle@cabinet-guerande.fr")
    login_as("admin")
    html = client.get("/o/cpts-test/audit/?table=parties").get_data(as_text=True)
    assert "Anne ABGRALL" in html and "anne.nouvelle@cabinet-guerande.fr" in html
    assert "Loïc MÉNARD" not in html and "loic.nouveau@orange.fr" not in html
