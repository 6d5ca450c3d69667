"""A refund an associate owes netted against a later payment to him — a later version of the same
year or the next year's distribution: the pain.001 pays the net amount (never a negative one), the
offset is posted D 4551 / C 467 and both of his accounts letter, to the cent."""
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from backoffice.sisa import services
from backoffice.sisa.services import KeyRow, SisaError
from tests.sisa.test_distributions import _lines, year_2025  # noqa: F401  (fixture)
from tests.sisa.test_refunds import _balance, _paid_then_corrected

D = Decimal


def _transfers(distribution):
    return {party.id: amount for party, _, amount in services.transfers(distribution)}


def test_a_refund_is_netted_against_a_later_version_of_the_year(sisa, associates, year_2025):  # noqa: F811
    first, second = _paid_then_corrected(sisa, associates, year_2025)  # Paul owes 1 000,00
    services.mark_paid(second, date(2026, 2, 10))
    (refund,) = services.refunds(sisa, 2025)
    # Paul's on-call duty is recognised: missions 2 000,00 now 6 points to his, 3 to Hélène's.
    services.add_mission_points(sisa, 2025, associates.paul, "Astreinte", "3")
    third = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2026, 3, 1))
    assert services.payable(third)[associates.paul.id] == D("333.33")
    (proposal,) = services.netting_proposals(third)
    assert (proposal.refund, proposal.amount, proposal.due) == (refund, D("333.33"), D("333.33"))

    (offset,) = services.net_refunds(third, date(2026, 3, 5))
    assert _lines(offset.entry) == [("4551", D("333.33"), D("0.00"), associates.paul.id),
                                    ("467", D("0.00"), D("333.33"), associates.paul.id)]
    # Nothing is left to transfer to him (never a negative transfer); he still owes the rest.
    assert associates.paul.id not in _transfers(third)
    assert (refund.status, refund.netted, refund.outstanding) == ("owed", D("333.33"), D("666.67"))
    balance, codes = _balance(sisa, "4551", associates.paul)
    assert balance == 0 and None not in codes
    assert _balance(sisa, "467", associates.paul)[0] == D("666.67")
    assert services.netting_proposals(third) == []  # once only
    with pytest.raises(SisaError, match="Aucun trop-perçu à compenser avec la version 3"):
        services.net_refunds(third, date(2026, 3, 5))

    # He pays the rest back by bank: only what is still owed, and 467 letters.
    services.settle_refund(refund, date(2026, 3, 20))
    assert _lines(refund.settlement_entry) == [("467", D("0.00"), D("666.67"), associates.paul.id),
                                               ("512", D("666.67"), D("0.00"), None)]
    balance, codes = _balance(sisa, "467", associates.paul)
    assert balance == 0 and None not in codes and len(codes) == 1


def test_a_refund_is_netted_against_the_next_years_distribution_and_the_file_pays_the_net(
        sisa, associates, year_2025):  # noqa: F811
    _, second = _paid_then_corrected(sisa, associates, year_2025)
    (refund,) = services.refunds(sisa, 2025)
    services.record_income(sisa, 2026, "advance", "Avance ACI 2026", date(2026, 4, 30), D("10000.00"))
    scenario = services.create_scenario(sisa, 2026, "Règlement intérieur 2026")
    services.set_keys(scenario, [KeyRow("Part égale", "100", "equal")])
    year_2026 = services.freeze(services.prepare_version(sisa, 2026, scenario), date(2026, 12, 31))
    due = services.payable(year_2026)
    assert sum(due.values()) == D("10000.00") and len(due) == 3  # Soizic left in 2025

    (offset,) = services.net_refunds(year_2026, date(2027, 1, 5), {associates.paul.id})
    assert (offset.amount, refund.status, refund.settled_on, refund.outstanding) == (
        D("1000.00"), "settled", date(2027, 1, 5), D("0.00"))
    transfers = _transfers(year_2026)
    assert transfers[associates.paul.id] == due[associates.paul.id] - D("1000.00")
    assert sum(transfers.values()) == D("9000.00")

    xml = services.transfer_file(year_2026, date(2027, 1, 10))
    tree = etree.fromstring(xml)
    ns = {"p": tree.nsmap[None]}
    amounts = [D(a.text) for a in tree.findall(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", ns)]
    assert sorted(amounts) == sorted(transfers.values()) and all(a > 0 for a in amounts)
    assert D(tree.find(".//p:GrpHdr/p:CtrlSum", ns).text) == D("9000.00")

    services.mark_paid(year_2026, date(2027, 1, 12))
    for number in ("4551", "467"):
        balance, codes = _balance(sisa, number, associates.paul)
        assert balance == 0 and None not in codes, number
    # His certificate counts the netted part as paid to him: it paid his share by settling his debt.
    assert [amount for _, amount in services.paid_in(sisa, 2027)[associates.paul.id]] == [due[associates.paul.id]]


def test_a_netting_is_never_more_than_what_is_due_and_counts_as_paid_in_a_later_correction(
        sisa, associates, year_2025):  # noqa: F811
    _, second = _paid_then_corrected(sisa, associates, year_2025)
    services.mark_paid(second, date(2026, 2, 10))
    services.add_mission_points(sisa, 2025, associates.paul, "Astreinte", "3")
    third = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2026, 3, 1))
    with pytest.raises(SisaError, match="avant l'écriture qu'elle solde"):
        services.net_refunds(third, date(2025, 11, 30))
    services.net_refunds(third, date(2026, 3, 5))
    # Corrected again before any transfer: what was netted against version 3 was paid to him.
    services.add_mission_points(sisa, 2025, associates.paul, "Référent SI", "3")
    fourth = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2026, 3, 10))
    amounts = {s.party_id: s.amount for s in fourth.shares}
    paid_v1 = {s.party_id: D(s.detail["paid"]) for s in services.distributions(sisa, 2025)[-1].shares}
    # v1 paid him, v2 took 1 000 back, 333,33 came back to him by netting with v3.
    assert services.payable(fourth)[associates.paul.id] == (
        amounts[associates.paul.id] - (paid_v1[associates.paul.id] - D("1000.00") + D("333.33")))
    services.mark_paid(fourth, date(2026, 3, 12))
    with pytest.raises(SisaError, match="pas encore payée"):
        services.net_refunds(fourth, date(2026, 3, 12))


def test_the_treasurer_nets_a_refund_on_the_versions_page(client, login_as, sisa, associates, year_2025):  # noqa: F811
    _, second = _paid_then_corrected(sisa, associates, year_2025)
    services.mark_paid(second, date(2026, 2, 10))
    services.add_mission_points(sisa, 2025, associates.paul, "Astreinte", "3")
    third = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2026, 3, 1))
    login_as("treasurer", org=sisa)
    page = client.get(f"/o/sisa-test/sisa/repartitions/{third.id}").get_data(as_text=True)
    assert 'id="nettings"' in page and f'data-netting="{associates.paul.id}"' in page
    response = client.post(f"/o/sisa-test/sisa/repartitions/{third.id}/compenser",
                           data={"netted_on": "05/03/2026", "party_id": [str(associates.paul.id)]},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "1 trop-perçu(s) compensé(s) (333,33\u00a0€)" in page
    assert f'data-netted="{associates.paul.id}">trop-perçu compensé 333,33\u00a0€ · viré 0,00\u00a0€' in page
    assert 'id="nettings"' not in page
    page = client.get("/o/sisa-test/sisa/2025/remboursements").get_data(as_text=True)
    assert "dont compensé 333,33\u00a0€ (répartition 2025 v3" in page
    assert 'data-figure="owed">1\u202f000,00\u00a0€' in page  # 666,67 from Paul + Hélène's 333,33
