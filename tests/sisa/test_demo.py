"""The demo SISA's expected ACI: its grid gives the remuneration its advance and balance are
compared with, on screen."""
from decimal import Decimal

from sqlalchemy import select

from backoffice import demo
from backoffice.extensions import db
from backoffice.organisations.models import Organisation
from backoffice.sisa import aci


def test_the_demo_sisa_has_an_expected_aci_to_compare_with(monkeypatch, client, login_as):
    monkeypatch.setattr("backoffice.auth.services.hash_password", lambda password: "not-a-hash")
    demo.seed()
    sisa = db.session.scalar(select(Organisation).where(Organisation.slug == "sisa-pays-de-mayenne"))
    seen = aci.comparison(sisa, 2025)
    # (800 + 700×1,3 + 1700 + 1100×1,3 + 800×1,3×75 % + 1000×1,3 + 450 + 9400) × 7 € = 16 770 points × 7 €
    assert seen.expected.total == Decimal("117390.00")
    assert seen.received == Decimal("117600.00") and seen.gap == Decimal("210.00")
    # What the SISA received for 2025 is, alone, its ACI turnover of 2025 in the books (the
    # balance of April 2026 included, through 4687): no other module posts a second balance.
    from datetime import date

    from backoffice.accounting import reporting

    books = reporting.trial_balance(sisa, date(2025, 1, 1), date(2025, 12, 31)).by_account()
    assert -books["7061"].balance == seen.received
    demo.seed()  # idempotent
    assert len(aci.grid(sisa, 2025).indicators) == 7
    login_as("treasurer", org=sisa)
    page = client.get("/o/sisa-pays-de-mayenne/sisa/2025/aci").get_data(as_text=True)
    assert 'data-figure="expected">117\u202f390,00\u00a0€' in page


def test_the_demo_distribution_is_corrected_by_a_second_version_with_its_statements_and_transfers(monkeypatch):
    """Item 9 of the issue: the 2025 distribution validated, corrected by a version 2 (an
    associate's forgotten meetings) that posts only the differences, its statements issued and
    its pain.001 written by their jobs — which ran once the seed committed (inline in tests)."""
    from pathlib import Path

    import sepaxml
    from lxml import etree

    from backoffice.documents.models import GeneratedDocument
    from backoffice.sisa import services
    from backoffice.tasks.models import Task

    monkeypatch.setattr("backoffice.auth.services.hash_password", lambda password: "not-a-hash")
    demo.seed()
    sisa = db.session.scalar(select(Organisation).where(Organisation.slug == "sisa-pays-de-mayenne"))
    second, first = services.distributions(sisa, 2025)
    assert (first.version, first.status, second.version, second.status) == (1, "superseded", 2, "paid")
    assert second.supersedes_id == first.id and services.recomputes_identically(second)
    diffs = {pid: diff for pid, _, _, _, diff in services.differences(second) if diff}
    # One associate's two RCP: his hours grow, so the time key moves a little money to him.
    hours = {s.party_id: Decimal(s.detail["hours"]) for s in second.shares}
    hours_before = {s.party_id: Decimal(s.detail["hours"]) for s in first.shares}
    (forgotten,) = [pid for pid in hours if hours[pid] != hours_before[pid]]
    assert hours[forgotten] > hours_before[forgotten] and diffs[forgotten] == max(diffs.values()) > 0
    assert sum(diffs.values()) == 0 and 0 < sum(abs(d) for d in diffs.values()) < Decimal("1000")
    # The correction's entry holds the differences only: one 4551 line per associate whose amount moved.
    lines = {line.auxiliary.party_id: line.credit - line.debit for line in second.entry.lines
             if line.account.number == "4551"}
    assert lines == diffs
    assert not [line for line in second.entry.lines if line.account.number == "62261"]  # net zero

    statements = db.session.scalar(select(Task).where(Task.kind == "sisa.statements"))
    assert statements.status == "done", statements.message
    assert statements.params["distribution_id"] == second.id
    documents = db.session.scalars(select(GeneratedDocument).where(GeneratedDocument.kind == "sisa_statement")).all()
    assert sorted(d.subject_id for d in documents) == sorted(s.id for s in second.shares)

    transfers = db.session.scalar(select(Task).where(Task.kind == "sisa.transfer_file"))
    assert transfers.status == "done", transfers.message
    tree = etree.parse(transfers.result_abspath())
    schema = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
    etree.XMLSchema(etree.parse(str(schema))).assertValid(tree)
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    amounts = [Decimal(a.text) for a in tree.findall(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", ns)]
    # Version 1 was never paid: the file pays every associate his whole amount of version 2.
    assert len(amounts) == len(second.shares) and sum(amounts) == second.distributable
    assert Decimal(tree.find(".//p:GrpHdr/p:CtrlSum", ns).text) == second.distributable

    # Then its transfers went out: version 2 paid on the file's execution date, D 4551 per
    # associate / C 512 for exactly what the file paid, each associate's 4551 lettered and settled.
    _assert_paid_by_its_transfer_file(sisa, second, transfers)

    demo.seed()  # idempotent: no third version, no second run of the jobs, no second payment
    assert len(services.distributions(sisa, 2025)) == 2
    assert len(db.session.scalars(select(Task).where(Task.kind.like("sisa.%"))).all()) == 2
    assert len(_payment_entries(sisa)) == 1


def _payment_entries(sisa):
    from backoffice.accounting.models import JournalEntry

    # 2024's distribution, paid in June 2025, is the accounting demo's: not this one.
    return db.session.scalars(select(JournalEntry).where(JournalEntry.organisation_id == sisa.id,
                                                         JournalEntry.event == "sisa_distribution_paid",
                                                         JournalEntry.piece_ref == "SISA-2025-V2-VIR")).all()


def _assert_paid_by_its_transfer_file(sisa, version, task):
    from datetime import date

    from lxml import etree

    from backoffice.accounting import reporting
    from backoffice.sisa.demo import EXECUTION_DATE

    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    # Each transfer's end-to-end id names the associate: SISA2025V2P<party id>.
    paid_by_file = {int(t.find("p:PmtId/p:EndToEndId", ns).text.rsplit("P", 1)[1]):
                    Decimal(t.find("p:Amt/p:InstdAmt", ns).text)
                    for t in etree.parse(task.result_abspath()).findall(".//p:CdtTrfTxInf", ns)}
    db.session.refresh(version)
    assert (version.status, version.paid_on) == ("paid", EXECUTION_DATE) == ("paid", date(2026, 5, 29))
    (entry,) = _payment_entries(sisa)
    assert entry.entry_date == EXECUTION_DATE
    debits = {line.auxiliary.party_id: line.debit for line in entry.lines if line.account.number == "4551"}
    assert debits == paid_by_file
    assert [line.credit for line in entry.lines if line.account.number == "512"] == [sum(paid_by_file.values())]
    assert all(line.lettering_code for line in entry.lines if line.account.number == "4551")
    assert {s.party_id: Decimal(s.detail["paid"]) for s in version.shares} == paid_by_file
    # Nothing is owed to an associate any more: 4551 is settled by the end of 2026.
    books = reporting.trial_balance(sisa, date(2026, 1, 1), date(2026, 12, 31)).by_account()
    assert books["4551"].balance == 0


def test_the_demo_pays_its_correction_when_the_jobs_wait_for_a_worker(monkeypatch):
    """With Redis, the seed's jobs go to a worker that is not running yet: the payment step runs
    the transfer file's job itself (the worker then finds it done), then marks the version paid."""
    from backoffice.sisa import services
    from backoffice.tasks.models import Task

    monkeypatch.setattr("backoffice.auth.services.hash_password", lambda password: "not-a-hash")
    monkeypatch.setattr("backoffice.tasks.services.dispatch", lambda task: None)  # left for a worker
    demo.seed()
    sisa = db.session.scalar(select(Organisation).where(Organisation.slug == "sisa-pays-de-mayenne"))
    tasks = {t.kind: t for t in db.session.scalars(select(Task).where(Task.kind.like("sisa.%")))}
    assert {kind: t.status for kind, t in tasks.items()} == {"sisa.statements": "queued", "sisa.transfer_file": "done"}
    _assert_paid_by_its_transfer_file(sisa, services.current_version(sisa, 2025), tasks["sisa.transfer_file"])
