"""Distribution versions: frozen with their inputs, posted once, corrected by a new version that
posts only the difference, paid by one pain.001 whose total equals what is due."""
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from backoffice.lifecycle import all_transitions, forbidden_transitions, history
from backoffice.sisa import services
from backoffice.sisa.models import DISTRIBUTION_LIFECYCLE, DistributionStatus, FrozenDistributionChanged
from backoffice.sisa.services import KeyRow, SisaError

D = Decimal
IBANS = ["FR7630004000031234567890143", "FR7617906000320003312345605", "FR1420041010050500013M02606",
         "FR7630006000011234567890189"]


@pytest.fixture
def year_2025(sisa, associates):
    services.record_income(sisa, 2025, "advance", "Avance ACI 2025", date(2025, 4, 30), D("10000.00"))
    services.add_mission_points(sisa, 2025, associates.paul, "Référent protocole AVK", "3")
    scenario = services.create_scenario(sisa, 2025, "Règlement intérieur")
    services.set_keys(scenario, [KeyRow("Part égale", "80", "equal", True), KeyRow("Missions", "20", "points")])
    for party, iban in zip(vars(associates).values(), IBANS):
        services.save_associate(sisa, party, iban=iban)
    return scenario


def _lines(entry):
    return sorted((line.account.number, line.debit, line.credit, line.auxiliary.party_id if line.auxiliary else None)
                  for line in entry.lines)


@pytest.mark.parametrize("source, target", forbidden_transitions(DISTRIBUTION_LIFECYCLE))
def test_forbidden_moves_are_refused(source, target):
    assert not DISTRIBUTION_LIFECYCLE.allows(source, target)


@pytest.mark.parametrize("source, target", all_transitions(DISTRIBUTION_LIFECYCLE))
def test_allowed_moves(source, target):
    assert DISTRIBUTION_LIFECYCLE.allows(source, target)


def test_a_frozen_version_is_posted_recomputed_identically_and_immutable(sisa, associates, year_2025, db):
    draft = services.prepare_version(sisa, 2025, year_2025)
    assert draft.status == "draft" and sum(s.amount for s in draft.shares) == D("10000.00")
    frozen = services.freeze(draft, date(2025, 12, 31))
    assert frozen.status == DistributionStatus.FROZEN and frozen.frozen_at is not None
    assert [c.to_status for c in history(frozen)] == ["frozen"]
    lines = _lines(frozen.entry)
    assert ("62261", D("10000.00"), D("0.00"), None) in lines
    assert sum(line[2] for line in lines if line[0] == "4551") == D("10000.00")
    assert services.recomputes_identically(frozen)
    share = frozen.shares[0]
    share.amount += 1
    with pytest.raises(FrozenDistributionChanged):
        db.session.flush()
    db.session.rollback()


def test_a_correction_posts_only_the_difference_and_supersedes(sisa, associates, year_2025):
    first = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2025, 12, 31))
    before = {s.party_id: s.amount for s in first.shares}
    services.add_mission_points(sisa, 2025, associates.helene, "Protocole plaies chroniques", "3")
    second = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2026, 1, 15))
    assert first.status == "superseded" and second.supersedes_id == first.id and second.version == 2
    diffs = {pid: diff for pid, _, _, _, diff in services.differences(second)}
    assert diffs[associates.helene.id] == D("1000.00") and diffs[associates.paul.id] == D("-1000.00")
    assert sum(diffs.values()) == 0
    assert ("4551", D("0.00"), D("1000.00"), associates.helene.id) in _lines(second.entry)
    assert ("4551", D("1000.00"), D("0.00"), associates.paul.id) in _lines(second.entry)
    assert not [line for line in _lines(second.entry) if line[0] == "62261"]  # net zero
    assert before[associates.paul.id] - 1000 == {s.party_id: s.amount for s in second.shares}[associates.paul.id]
    with pytest.raises(SisaError, match="déjà validée"):
        services.freeze(second, date(2026, 1, 15))


def test_the_transfer_file_validates_and_pays_exactly_the_distribution(sisa, associates, year_2025):
    frozen = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2025, 12, 31))
    xml = services.transfer_file(frozen, date(2026, 1, 20))
    tree = etree.fromstring(xml)
    ns = {"p": tree.nsmap[None]}
    amounts = [D(a.text) for a in tree.findall(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", ns)]
    assert sum(amounts) == D("10000.00") and len(amounts) == 4
    assert D(tree.find(".//p:GrpHdr/p:CtrlSum", ns).text) == D("10000.00")
    services.mark_paid(frozen, date(2026, 1, 22))
    assert frozen.status == "paid"
    # A correction after payment pays only what is still due; the overpaid owes it back.
    services.add_mission_points(sisa, 2025, associates.helene, "Protocole plaies chroniques", "3")
    second = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2026, 2, 1))
    due = services.payable(second)
    assert due[associates.helene.id] == D("1000.00") and due[associates.paul.id] == D("-1000.00")
    assert [(p.id, a) for p, _, a in services.transfers(second)] == [(associates.helene.id, D("1000.00"))]


def test_an_associate_without_iban_blocks_the_transfer_file_by_name(sisa, associates, year_2025):
    from backoffice.banking.models import PayeeBankDetails
    from backoffice.extensions import db

    db.session.delete(db.session.query(PayeeBankDetails).filter_by(party_id=associates.erwan.id).one())
    frozen = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2025, 12, 31))
    with pytest.raises(SisaError, match="Coordonnées bancaires manquantes pour 1 associé\\(s\\) : Erwan FOUQUET"):
        services.transfer_file(frozen, date(2026, 1, 20))


def test_one_draft_at_a_time_and_a_draft_can_be_discarded(sisa, associates, year_2025):
    draft = services.prepare_version(sisa, 2025, year_2025)
    with pytest.raises(SisaError, match="brouillon de la répartition 2025 existe déjà"):
        services.prepare_version(sisa, 2025, year_2025)
    services.discard_draft(draft)
    assert services.distributions(sisa, 2025) == []


def test_a_distribution_frozen_the_next_year_is_a_charge_of_its_aci_year(sisa, associates, year_2025):
    """Cut-off: the shares of the ACI 2025 (and its deductions) frozen in May 2026 are dated
    31/12/2025 while 2025 is open, like the 2025 income; once 2025 is closed, the day frozen."""
    from backoffice.accounting import services as accounting

    services.add_deduction(sisa, 2025, "software", "Logiciel", amount=D("500.00"))
    (deduction,) = services.post_deductions(sisa, 2025, date(2026, 5, 20))
    assert deduction.entry_date == date(2025, 12, 31)
    frozen = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2026, 5, 31))
    assert (frozen.entry.entry_date, frozen.entry.fiscal_year) == (date(2025, 12, 31), 2025)
    accounting.close_period(sisa, "year", 2025)
    services.add_mission_points(sisa, 2025, associates.helene, "Protocole plaies chroniques", "3")
    second = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2026, 6, 2))
    assert second.entry.entry_date == date(2026, 6, 2)
