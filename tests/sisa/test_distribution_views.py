"""A distribution through the screens: prepared, validated, statements issued by the job (durable
documents), the transfer file, payment; an associate downloads his own statement only."""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from backoffice.documents.models import GeneratedDocument
from backoffice.extensions import db
from backoffice.sisa import services
from backoffice.sisa.models import SisaDistribution
from backoffice.sisa.services import KeyRow
from backoffice.tasks.models import Task
from tests.factories import UserFactory
from tests.sisa.test_distributions import IBANS


def _prepared_year(sisa, associates):
    services.record_income(sisa, 2025, "advance", "Avance ACI 2025", date(2025, 4, 30), Decimal("10000.00"))
    scenario = services.create_scenario(sisa, 2025, "Règlement intérieur")
    services.set_keys(scenario, [KeyRow("Part égale", "100", "equal", True)])
    for party, iban in zip(vars(associates).values(), IBANS):
        services.save_associate(sisa, party, iban=iban)
    return scenario


def test_prepare_validate_statements_transfer_and_pay(client, login_as, sisa, associates):
    scenario = _prepared_year(sisa, associates)
    treasurer = login_as("treasurer", org=sisa)
    response = client.post("/o/sisa-test/sisa/2025/repartitions", data={"scenario": scenario.id})
    distribution = db.session.scalar(select(SisaDistribution))
    assert response.headers["Location"].endswith(f"/repartitions/{distribution.id}")
    page = client.get(f"/o/sisa-test/sisa/repartitions/{distribution.id}").get_data(as_text=True)
    assert "Brouillon" in page and "mêmes montants, au centime près" in page
    response = client.post(f"/o/sisa-test/sisa/repartitions/{distribution.id}/valider", data={"entry_date": "2025-12-31"})
    assert response.status_code == 302
    db.session.refresh(distribution)
    assert distribution.status == "frozen" and distribution.entry is not None

    response = client.post(f"/o/sisa-test/sisa/repartitions/{distribution.id}/releves")
    assert "/tasks/" in response.headers["Location"]
    task = db.session.scalar(select(Task).where(Task.kind == "sisa.statements"))
    assert task.status == "done", task.message
    documents = db.session.scalars(select(GeneratedDocument).where(GeneratedDocument.kind == "sisa_statement")).all()
    assert len(documents) == 4 and all(d.number.startswith("2025-") for d in documents)

    response = client.post(f"/o/sisa-test/sisa/repartitions/{distribution.id}/virements",
                           data={"execution_date": "2026-01-20"})
    transfer = db.session.scalar(select(Task).where(Task.kind == "sisa.transfer_file"))
    assert transfer.status == "done", transfer.message
    response = client.post(f"/o/sisa-test/sisa/repartitions/{distribution.id}/payee", data={"paid_on": "2026-01-22"})
    db.session.refresh(distribution)
    assert distribution.status == "paid"

    # The associate sees his own figures and statement, not anyone else's.
    share = next(s for s in distribution.shares if s.party_id == associates.helene.id)
    own = next(d for d in documents if d.subject_id == share.id)
    other = next(d for d in documents if d.subject_id != share.id)
    login_as("member", org=sisa, user=UserFactory(party=associates.helene))
    page = client.get("/o/sisa-test/sisa/mon-espace?annee=2025").get_data(as_text=True)
    assert "mon relevé" in page and f"/documents/files/{own.id}" in page
    assert client.get(f"/o/sisa-test/documents/files/{own.id}").status_code == 200
    assert client.get(f"/o/sisa-test/documents/files/{other.id}").status_code in (403, 404)
    assert client.get(f"/o/sisa-test/sisa/repartitions/{distribution.id}").status_code == 403
    assert treasurer is not None


def test_a_transfer_file_refused_names_the_associate_without_iban(client, login_as, sisa, associates):
    from backoffice.banking.models import PayeeBankDetails

    scenario = _prepared_year(sisa, associates)
    db.session.delete(db.session.query(PayeeBankDetails).filter_by(party_id=associates.soizic.id).one())
    distribution = services.freeze(services.prepare_version(sisa, 2025, scenario), date(2025, 12, 31))
    login_as("treasurer", org=sisa)
    response = client.post(f"/o/sisa-test/sisa/repartitions/{distribution.id}/virements",
                           data={"execution_date": "2026-01-20"}, follow_redirects=True)
    assert "Coordonnées bancaires manquantes pour 1 associé(s) : Soizic LE GOFF" in response.get_data(as_text=True)
    assert db.session.scalar(select(Task).where(Task.kind == "sisa.transfer_file")) is None


def test_the_summary_table_of_a_validated_version(client, login_as, sisa, associates):
    import openpyxl

    scenario = _prepared_year(sisa, associates)
    login_as("treasurer", org=sisa)
    distribution = services.prepare_version(sisa, 2025, scenario)
    refused = client.post(f"/o/sisa-test/sisa/repartitions/{distribution.id}/tableau", data={"format": "xlsx"},
                          follow_redirects=True)
    assert "Validez la répartition avant d&#39;en produire le tableau." in refused.text
    services.freeze(distribution, date(2025, 12, 31))
    client.post(f"/o/sisa-test/sisa/repartitions/{distribution.id}/tableau", data={"format": "xlsx"})
    task = db.session.scalar(select(Task).where(Task.kind == "sisa.summary"))
    assert task.status == "done", task.message
    sheet = openpyxl.load_workbook(task.result_abspath()).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:5] == ["Associé", "Profession", "Jours de présence", "Heures", "Points de mission"]
    assert rows[0][5:] == ["Part égale (100,00 %)", "Total", "Total 2024", "Écart avec 2024"]
    body, total = rows[1:-1], rows[-1]
    assert [r[0] for r in body] == ["Hélène BROCHARD", "Paul CHEVALIER", "Erwan FOUQUET", "Soizic LE GOFF"]  # by name
    assert body[2][1:3] == ["Pharmacien", 199]  # joined during the year: fewer days of presence
    assert sum(Decimal(str(r[6])) for r in body) == Decimal("10000.00") == Decimal(str(total[6]))
    assert total[0] == "Total" and {r[7] for r in rows[1:]} == {None}  # no version of 2024 to compare with


def test_yearly_certificates_of_what_each_associate_was_paid(client, login_as, sisa, associates):
    import io
    import zipfile

    from docx import Document

    scenario = _prepared_year(sisa, associates)
    distribution = services.prepare_version(sisa, 2025, scenario)
    services.freeze(distribution, date(2025, 12, 31))
    services.mark_paid(distribution, date(2026, 1, 22))
    login_as("treasurer", org=sisa)
    nothing = client.post("/o/sisa-test/sisa/attestations", data={"year": "2025"})
    failed = db.session.scalar(select(Task).where(Task.kind == "sisa.certificates"))
    assert nothing.status_code == 302 and failed.status == "failed"
    assert failed.message == "Aucun versement aux associés en 2025 : aucune attestation à produire."

    client.post("/o/sisa-test/sisa/attestations", data={"year": "2026"})
    task = db.session.scalars(select(Task).where(Task.kind == "sisa.certificates").order_by(Task.id.desc())).first()
    assert task.status == "done" and task.message == "4 attestation(s) 2026 produite(s)."
    archive = zipfile.ZipFile(task.result_abspath())
    assert len(archive.namelist()) == 4
    helene = next(name for name in archive.namelist() if "brochard" in name.lower())
    text = "\n".join(p.text for p in Document(io.BytesIO(archive.read(helene))).paragraphs)
    share = next(s for s in distribution.shares if s.party_id == associates.helene.id)
    amount = f"{share.amount:,.2f}".replace(",", "\u202f").replace(".", ",")
    assert "Attestation des sommes versées en 2026" in text and "Hélène BROCHARD" in text
    assert f"Total versé en 2026 : {amount}" in text.replace("\u00a0", "\u202f")
    documents = db.session.scalars(select(GeneratedDocument).where(GeneratedDocument.kind == "sisa_certificate")).all()
    assert len(documents) == 4 and all(d.number.startswith("2026-") for d in documents)

    own = next(d for d in documents if d.subject_id == associates.helene.id)
    other = next(d for d in documents if d.subject_id != associates.helene.id)
    login_as("member", org=sisa, user=UserFactory(party=associates.helene))
    assert client.get(f"/o/sisa-test/documents/files/{own.id}").status_code == 200
    assert client.get(f"/o/sisa-test/documents/files/{other.id}").status_code in (403, 404)


def test_last_year_is_compared_per_associate_and_in_total(client, login_as, sisa, associates):
    import csv
    import io

    # 2024: 9 000,00 € in equal parts among the three associates of the whole year (Erwan joined in 2025).
    services.record_income(sisa, 2024, "balance", "Solde ACI 2024", date(2025, 4, 15), Decimal("9000.00"))
    old = services.create_scenario(sisa, 2024, "Règlement intérieur")
    services.set_keys(old, [KeyRow("Part égale", "100", "equal")])
    services.freeze(services.prepare_version(sisa, 2024, old), date(2024, 12, 31))
    scenario = _prepared_year(sisa, associates)
    distribution = services.freeze(services.prepare_version(sisa, 2025, scenario), date(2025, 12, 31))
    amounts = {s.party_id: s.amount for s in distribution.shares}
    login_as("treasurer", org=sisa)
    page = client.get(f"/o/sisa-test/sisa/repartitions/{distribution.id}").get_data(as_text=True)

    def money(value):
        return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"

    assert "Écart avec 2024" in page and "Comparaison avec la version 1 de 2024" in page
    assert f'data-change>{money(amounts[associates.paul.id] - 3000)}' in page
    assert f'data-change>{money(amounts[associates.erwan.id])}' in page  # new in 2025: all of it is a change
    assert f'id="last-year-total">{money(Decimal("9000.00"))}' in page
    assert f'id="last-year-change">{money(Decimal("1000.00"))}' in page
    simulation = client.get(f"/o/sisa-test/sisa/2025/simulation?scenario={scenario.id}").get_data(as_text=True)
    assert "Écart avec 2024" in simulation

    client.post(f"/o/sisa-test/sisa/repartitions/{distribution.id}/tableau", data={"format": "csv"})
    task = db.session.scalar(select(Task).where(Task.kind == "sisa.summary"))
    with open(task.result_abspath(), encoding="utf-8-sig") as f:
        rows = list(csv.reader(io.StringIO(f.read()), delimiter=";"))
    assert rows[0][-3:] == ["Total", "Total 2024", "Écart avec 2024"]
    paul = next(r for r in rows if r[0] == "Paul CHEVALIER")
    assert paul[-2:] == ["3000,00", f"{amounts[associates.paul.id] - 3000:.2f}".replace(".", ",")]
    erwan = next(r for r in rows if r[0] == "Erwan FOUQUET")
    assert erwan[-2] == "0,00"
    assert rows[-1][0] == "Total" and rows[-1][-3:] == ["10000,00", "9000,00", "1000,00"]
