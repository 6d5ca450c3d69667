"""Organisation settings: legal details, officers from the directory, logo, creating another organisation."""
import io
import struct
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.auth.models import Role as UserRole
from backoffice.organisations.affiliations import Role, current_holder
from backoffice.extensions import db
from backoffice.organisations import services
from backoffice.organisations.models import Organisation, OrganisationKind
from tests.factories import ProfessionalFactory


def png_bytes(width=2, height=1):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# The smallest baseline JPEG (1x1), as written by common encoders.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c"
    "20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f00000105010101010101000000"
    "00000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1"
    "082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a7374"
    "75767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1"
    "e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)


def settings_data(organisation, **changes):
    data = {
        "name": organisation.name, "kind": "cpts", "siren": "812 345 676", "siret": "812 345 676 00017", "rna": "W442012345",
        "address": "12 rue de la Poste", "postcode": "44350", "city": "Guérande", "email": "contact@example.org",
        "phone": "02 40 00 00 00", "iban": "FR76 3000 4000 0312 3456 7890 143", "bic": "BNPAFRPPXXX",
        "president_id": "0", "treasurer_id": "0", "secretary_id": "0", "fiscal_year_start_month": "1",
    }
    data.update(changes)
    return data


def test_settings_are_normalised_and_saved(client, login_as, organisation):
    login_as("admin")
    president, treasurer = ProfessionalFactory(), ProfessionalFactory()
    response = client.post("/o/cpts-test/settings/", data=settings_data(
        organisation, president_id=str(president.id), treasurer_id=str(treasurer.id), fiscal_year_start_month="7"))
    assert response.status_code == 302
    assert (organisation.siren, organisation.siret, organisation.iban, organisation.phone) == (
        "812345676", "81234567600017", "FR7630004000031234567890143", "+33240000000")
    assert (current_holder(organisation, Role.PRESIDENT), current_holder(organisation, Role.TREASURER)) == (
        president, treasurer)
    assert current_holder(organisation, Role.SECRETARY) is None
    assert organisation.fiscal_year_bounds(2026)[1].isoformat() == "2027-06-30"
    html = client.get("/o/cpts-test/settings/").get_data(as_text=True)
    assert "Les informations de l&#39;organisation sont enregistrées." in html
    assert f'<option selected value="{president.id}">' in html or f'value="{president.id}" selected' in html


@pytest.mark.parametrize("field, value, message", [
    ("siren", "812345677", "Le SIREN est invalide (9 chiffres, clé de contrôle)."),
    ("siret", "81234567600018", "Le SIRET est invalide (14 chiffres, clé de contrôle)."),
    ("siret", "73282932000074", "Le SIRET doit commencer par le SIREN de l&#39;organisation."),
    ("iban", "FR7630004000031234567890144", "L&#39;IBAN est invalide."),
    ("bic", "BNP", "Le BIC est invalide (8 ou 11 caractères)."),
    ("postcode", "4435", "Le code postal doit comporter 5 chiffres."),
    ("name", "", "Indiquez le nom de l&#39;organisation."),
    ("president_id", "999999", "Not a valid choice"),
])
def test_wrong_details_are_refused_next_to_the_field(client, login_as, organisation, field, value, message):
    login_as("admin")
    before = organisation.siren, organisation.name
    response = client.post("/o/cpts-test/settings/", data=settings_data(organisation, **{field: value}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-err"' in html
    if message != "Not a valid choice":
        assert message in html
    assert (organisation.siren, organisation.name) == before


def test_service_rules_hold_without_the_form(organisation):
    with pytest.raises(services.SettingsError, match="commencer par le SIREN") as excinfo:
        services.update_settings(organisation, siren="812345676", siret="73282932000074")
    assert excinfo.value.field == "siret"
    structure_id = ProfessionalFactory().id
    services.update_settings(organisation, siret="73282932000074", siren=None, president_id=structure_id)
    assert organisation.siren == "732829320"  # deduced from the SIRET
    with pytest.raises(services.SettingsError, match="Choisissez une personne de l'annuaire"):
        services.update_settings(organisation, treasurer_id=123456)


def test_changes_are_in_the_audit_with_french_labels(client, login_as, organisation):
    login_as("admin")
    president = ProfessionalFactory(first_name="Anne", last_name="Le Bihan")
    client.post("/o/cpts-test/settings/", data=settings_data(organisation, president_id=str(president.id), city="La Baule"))
    html = client.get("/o/cpts-test/audit/?table=affiliations").get_data(as_text=True)
    assert "Président(e) de CPTS de Test : Anne LE BIHAN" in html
    html = client.get("/o/cpts-test/audit/?table=organisations").get_data(as_text=True)
    assert "Commune" in html and "La Baule" in html
    assert "Annuaire (personnes et structures)" in html  # offered in the table filter


@pytest.mark.parametrize("data, extension", [(png_bytes(), "png"), (JPEG, "jpg")])
def test_logo_upload_and_serving(client, login_as, organisation, app, data, extension):
    login_as("admin")
    response = client.post("/o/cpts-test/settings/logo", data={"logo": (io.BytesIO(data), "logo.bin")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    path = services.organisation_logo_path(organisation)
    assert path == Path(app.config["STORAGE_DIR"]) / str(organisation.id) / f"logo.{extension}"
    assert path.read_bytes() == data
    served = client.get(f"/o/cpts-test/settings/logo/logo.{extension}")
    assert served.status_code == 200 and served.data == data
    assert served.mimetype == {"png": "image/png", "jpg": "image/jpeg"}[extension]
    served.close()


def test_replacing_a_png_logo_by_a_jpeg_leaves_one_file(organisation):
    services.save_logo(organisation, png_bytes())
    services.save_logo(organisation, JPEG)
    folder = services.organisation_logo_path(organisation).parent
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("logo")) == ["logo.jpg"]
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]
    assert services.remove_logo(organisation) and services.organisation_logo_path(organisation) is None


@pytest.mark.parametrize("data, message", [
    (b"GIF89a" + b"\x00" * 20, "Le logo doit être une image PNG ou JPEG."),
    (b"<svg onload=alert(1)>", "Le logo doit être une image PNG ou JPEG."),
    (b"\x89PNG\r\n\x1a\n" + b"garbage", "L&#39;image est illisible ou endommagée."),
    (b"", "Le fichier est vide."),
])
def test_bad_logos_are_refused(client, login_as, organisation, data, message):
    login_as("admin")
    response = client.post("/o/cpts-test/settings/logo", data={"logo": (io.BytesIO(data), "logo.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert services.organisation_logo_path(organisation) is None


def test_logo_size_limit(organisation, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGO_MAX_BYTES", 50)
    with pytest.raises(services.LogoError, match="taille maximale"):
        services.save_logo(organisation, png_bytes(40, 40))


@pytest.mark.parametrize("role, status", [("admin", 200), ("treasurer", 200), ("board", 200), ("accountant", 200),
                                          ("member", 200), ("nobody", 403), (None, 302)])
def test_logo_is_served_to_anyone_with_a_role(client, login_as, organisation, role, status):
    services.save_logo(organisation, png_bytes())
    login_as(role)
    response = client.get("/o/cpts-test/settings/logo/logo.png")
    assert response.status_code == status
    response.close()


def test_no_logo_is_404(client, login_as):
    login_as("member")
    assert client.get("/o/cpts-test/settings/logo/logo.png").status_code == 404
    assert client.get("/o/cpts-test/settings/logo/..%2F..%2Fconfig.py").status_code == 404


@pytest.mark.parametrize("role, status", [("admin", 200), ("treasurer", 403), ("board", 403), ("accountant", 403),
                                          ("member", 403), (None, 302)])
def test_only_admins_edit_settings(client, login_as, role, status):
    login_as(role)
    assert client.get("/o/cpts-test/settings/").status_code == status
    assert client.get("/o/cpts-test/settings/new-organisation").status_code == status


def test_an_admin_creates_another_organisation_and_becomes_its_admin(client, login_as, organisation):
    user = login_as("admin")
    response = client.post("/o/cpts-test/settings/new-organisation", data={"name": "SISA des Marais", "kind": "sisa"})
    created = db.session.scalar(select(Organisation).where(Organisation.name == "SISA des Marais"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/o/{created.slug}/settings/")
    assert created.slug == "sisa-des-marais" and created.kind is OrganisationKind.SISA
    assert user.roles_in(created) == {UserRole.ADMIN}
    assert client.get(f"/o/{created.slug}/settings/").status_code == 200


def test_creating_needs_a_name(client, login_as):
    login_as("admin")
    response = client.post("/o/cpts-test/settings/new-organisation", data={"name": " ", "kind": "association"})
    assert response.status_code == 422
    assert "Indiquez le nom de l&#39;organisation." in response.get_data(as_text=True)


def test_the_logo_url_names_the_current_file(client, login_as, organisation):
    services.save_logo(organisation, png_bytes())
    login_as("treasurer")
    assert client.get("/o/cpts-test/settings/logo/logo.jpg").status_code == 404
    assert '<img src="/o/cpts-test/settings/logo/logo.png"' in client.get("/o/cpts-test/").get_data(as_text=True)
