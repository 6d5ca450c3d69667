"""The directory pages: list, search, sort, filters, detail with history, forms."""
import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.people.models import Professional, Structure
from tests.factories import ProfessionalFactory, SiteFactory, StructureFactory
from tests.people.helpers import rpps


def names(response):
    """Names shown in the list, in order."""
    return names_in(response.get_data(as_text=True))


def names_in(html):
    import re

    return re.findall(r'<a href="/o/cpts-test/people/\d+">([^<]+)</a>', html)


@pytest.fixture
def directory(organisation):
    """Three professionals and a structure in the test organisation's directory (contacts)."""
    from backoffice.people.services import add_contacts

    site = SiteFactory(name="MSP de Lassay-les-Châteaux", commune="Lassay-les-Châteaux", postcode="53110")
    people = [
        ProfessionalFactory(first_name="Élodie", last_name="Zébulon", profession="infirmier", commune="Guérande", rpps=rpps(1)),
        ProfessionalFactory(first_name="Anne", last_name="Abgrall", profession="medecin_generaliste", commune="Le Croisic",
                            email="anne.abgrall@example.org", site=site),
        ProfessionalFactory(first_name="Marc", last_name="Émeriau", profession="pharmacien", commune="Batz-sur-Mer"),
    ]
    structure = StructureFactory(name="EHPAD Les Ajoncs", structure_type="ehpad", commune="Guérande", siret="81234567600017")
    add_contacts(organisation, [p.id for p in people] + [structure.id])
    return people, structure, site


def test_list_is_sorted_by_folded_name(client, login_as, directory):
    login_as("board")
    response = client.get("/o/cpts-test/people/")
    assert response.status_code == 200
    assert names(response) == ["ABGRALL Anne", "EHPAD Les Ajoncs", "ÉMERIAU Marc", "ZÉBULON Élodie"]


@pytest.mark.parametrize("sort, expected", [
    ("-name", ["ZÉBULON Élodie", "ÉMERIAU Marc", "EHPAD Les Ajoncs", "ABGRALL Anne"]),
    ("profession", ["ZÉBULON Élodie", "ABGRALL Anne", "ÉMERIAU Marc", "EHPAD Les Ajoncs"]),
    ("commune", ["ÉMERIAU Marc", "EHPAD Les Ajoncs", "ZÉBULON Élodie", "ABGRALL Anne"]),
])
def test_sorts(client, login_as, directory, sort, expected):
    login_as("admin")
    assert names(client.get(f"/o/cpts-test/people/?sort={sort}")) == expected


@pytest.mark.parametrize("query, expected", [
    ("q=zebulon", ["ZÉBULON Élodie"]),
    ("q=ELODIE+zeb", ["ZÉBULON Élodie"]),
    ("q=guerande", ["EHPAD Les Ajoncs", "ZÉBULON Élodie"]),
    (f"q={rpps(1)[:6]}", ["ZÉBULON Élodie"]),
    ("q=anne.abgrall@", ["ABGRALL Anne"]),
    ("q=lassay", ["ABGRALL Anne"]),
    ("q=100%25", []),
    ("kind=structure", ["EHPAD Les Ajoncs"]),
    ("profession=pharmacien", ["ÉMERIAU Marc"]),
    ("commune=Le+Croisic", ["ABGRALL Anne"]),
])
def test_search_and_filters(client, login_as, directory, query, expected):
    login_as("treasurer")
    assert names(client.get(f"/o/cpts-test/people/?{query}")) == expected


def test_filter_by_site(client, login_as, directory):
    login_as("treasurer")
    site = directory[2]
    assert names(client.get(f"/o/cpts-test/people/?site={site.id}")) == ["ABGRALL Anne"]


def test_empty_states(client, login_as):
    login_as("admin")
    assert "L'annuaire est vide." in client.get("/o/cpts-test/people/").get_data(as_text=True)
    assert "Aucune fiche ne correspond" in client.get("/o/cpts-test/people/?q=personne").get_data(as_text=True)


def test_pagination(client, login_as, app, organisation):
    from backoffice.people.services import add_contacts

    login_as("admin")
    add_contacts(organisation, [p.id for p in ProfessionalFactory.create_batch(app.config["PER_PAGE"] + 2)])
    first = client.get("/o/cpts-test/people/").get_data(as_text=True)
    assert f"{app.config['PER_PAGE'] + 2} résultats" in first
    assert len(names(client.get("/o/cpts-test/people/?page=2"))) == 2
    assert "Cette page n'existe pas." in client.get("/o/cpts-test/people/?page=9").get_data(as_text=True)


def test_list_has_no_n_plus_one(client, login_as, app, organisation, count_queries):
    from backoffice.people.services import add_contacts

    login_as("admin")
    sites = SiteFactory.create_batch(5)
    add_contacts(organisation, [ProfessionalFactory(site=sites[i % 5]).id for i in range(20)])
    with count_queries() as queries:
        html = client.get("/o/cpts-test/people/").get_data(as_text=True)
    assert sites[4].name in html and len(names_in(html)) == 20
    site_queries = [s for s in queries.statements if "FROM sites" in s]
    assert len(site_queries) <= 3, site_queries  # eager load + the filter's list of sites
    assert queries.count < 20


def test_detail_shows_history_of_changes(client, login_as, directory):
    user = login_as("treasurer")
    person = directory[0][0]
    response = client.post(f"/o/cpts-test/people/{person.id}/edit", data={
        "civility": "Mme", "first_name": "Élodie", "last_name": "Zébulon", "profession": "infirmier",
        "rpps": rpps(1), "email": "elodie@example.org", "phone": "06 12 34 56 78", "commune": "Guérande", "site_id": "",
    })
    assert response.status_code == 302
    html = client.get(f"/o/cpts-test/people/{person.id}").get_data(as_text=True)
    assert "Historique des modifications" in html
    assert "E-mail : " in html and "→ elodie@example.org" in html
    assert "Téléphone : — → 06 12 34 56 78" in html
    assert str(user) in html


def test_create_professional_with_errors_next_to_fields(client, login_as):
    login_as("admin")
    response = client.post("/o/cpts-test/people/new/professional", data={
        "first_name": "", "last_name": "Durand", "profession": "infirmier", "rpps": "12345678901", "email": "x@",
        "postcode": "443",
    })
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Indiquez le prénom." in html
    assert "Le numéro RPPS est invalide (clé de contrôle incorrecte)." in html
    assert "L&#39;adresse e-mail est invalide." in html
    assert "Le code postal doit comporter 5 chiffres." in html
    assert db.session.scalar(select(Professional).where(Professional.last_name == "Durand")) is None


def test_duplicate_rpps_is_a_form_error_not_a_500(client, login_as, directory):
    login_as("admin")
    response = client.post("/o/cpts-test/people/new/professional", data={
        "first_name": "Autre", "last_name": "Personne", "profession": "infirmier", "rpps": rpps(1)})
    assert response.status_code == 422
    assert "Ce numéro RPPS est déjà celui de Élodie ZÉBULON." in response.get_data(as_text=True)


def test_duplicate_siret_is_a_form_error(client, login_as, directory):
    login_as("admin")
    response = client.post("/o/cpts-test/people/new/structure", data={
        "name": "Autre EHPAD", "structure_type": "ehpad", "siret": "812 345 676 00017"})
    assert response.status_code == 422
    assert "Ce SIRET est déjà celui de EHPAD Les Ajoncs." in response.get_data(as_text=True)


def test_create_structure_and_professional(client, login_as, directory):
    login_as("admin")
    site = directory[2]
    response = client.post("/o/cpts-test/people/new/structure", data={
        "name": "SSIAD de la Presqu'île", "structure_type": "ssiad", "siret": "73282932000074", "commune": "Guérande"})
    assert response.status_code == 302
    structure = db.session.scalar(select(Structure).where(Structure.name == "SSIAD de la Presqu'île"))
    assert structure.siren == "732829320" and structure.siret == "73282932000074"
    response = client.post("/o/cpts-test/people/new/professional", data={
        "civility": "M.", "first_name": "Paul", "last_name": "Nouveau", "profession": "masseur_kinesitherapeute",
        "adeli": "44 123 456 7", "phone": "02 40 00 00 01", "site_id": str(site.id)})
    assert response.status_code == 302
    person = db.session.scalar(select(Professional).where(Professional.last_name == "Nouveau"))
    assert (person.adeli, person.phone, person.site_id, person.sort_name) == ("441234567", "+33240000001", site.id, "nouveau paul")


def test_sites_list_and_edit(client, login_as, directory):
    login_as("admin")
    site = directory[2]
    html = client.get("/o/cpts-test/people/sites").get_data(as_text=True)
    assert "MSP de Lassay-les-Châteaux" in html
    response = client.post(f"/o/cpts-test/people/sites/{site.id}/edit", data={
        "name": "MSP de Lassay", "kind": "msp", "postcode": "53110", "commune": "Lassay-les-Châteaux"})
    assert response.status_code == 302
    assert site.name == "MSP de Lassay"
    response = client.post("/o/cpts-test/people/sites/new", data={"name": "msp de LASSAY", "kind": "msp"})
    assert response.status_code == 422
    assert "Un lieu d&#39;exercice porte déjà ce nom" in response.get_data(as_text=True)


@pytest.mark.parametrize("role, status", [("admin", 200), ("treasurer", 200), ("board", 200), ("accountant", 403),
                                          ("member", 403), (None, 302)])
def test_who_sees_the_directory(client, login_as, role, status):
    login_as(role)
    assert client.get("/o/cpts-test/people/").status_code == status


@pytest.mark.parametrize("role, status", [("admin", 200), ("treasurer", 200), ("board", 403), ("accountant", 403)])
def test_who_edits_the_directory(client, login_as, role, status):
    login_as(role)
    assert client.get("/o/cpts-test/people/new/professional").status_code == status


def test_dashboard_shows_counts_recent_changes_and_shortcuts(client, login_as, directory):
    login_as("admin")
    html = client.get("/o/cpts-test/").get_data(as_text=True)
    assert "Dernières modifications" in html
    assert "EHPAD Les Ajoncs" in html  # a recent creation
    assert "Importer un tableur" in html
    assert "À compléter dans les" in html and "le logo" in html


def test_dashboard_shortcuts_follow_the_role(client, login_as, directory):
    login_as("accountant")
    html = client.get("/o/cpts-test/").get_data(as_text=True)
    assert "Dernières modifications" in html
    assert "Importer un tableur" not in html and "À compléter" not in html


def test_directory_changes_are_readable_in_the_audit(client, login_as, directory):
    login_as("admin")
    site = directory[2]
    client.post(f"/o/cpts-test/people/sites/{site.id}/edit", data={"name": "MSP de Lassay", "kind": "satellite"})
    html = client.get("/o/cpts-test/audit/?table=sites").get_data(as_text=True)
    assert "Lieux d&#39;exercice" in html
    assert "MSP de Lassay-les-Châteaux" in html and "Cabinet satellite" in html  # kind shown by its label
    assert "ZÉBULON" not in html  # filtered on sites only
    html = client.get("/o/cpts-test/audit/?table=parties").get_data(as_text=True)
    assert "Infirmier" in html and "Profession" in html and "ABGRALL" in html


def test_a_concurrent_duplicate_is_still_a_french_error(directory, monkeypatch):
    from backoffice.people import services

    monkeypatch.setattr(services, "_check_unique", lambda obj, values: None)  # as if another request saved first
    with pytest.raises(services.PeopleError, match="vient d'être enregistré pour une autre fiche"):
        services.save_professional(first_name="Autre", last_name="Personne", profession="infirmier", rpps=rpps(1))
    assert db.session.scalar(select(Professional).where(Professional.last_name == "Personne")) is None
    assert db.session.scalar(select(Professional).where(Professional.rpps == rpps(1))).last_name == "Zébulon"
