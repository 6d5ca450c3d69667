"""A correction that gives an associate less than he was already paid: the difference is a refund
he owes, posted as a receivable (D 467 / C 4551), listed, then settled (D 512 / C 467, lettered);
nothing is deleted."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.lifecycle import all_transitions, forbidden_transitions
from backoffice.sisa import services
from backoffice.sisa.models import REFUND_LIFECYCLE, SisaRefund
from backoffice.sisa.services import SisaError
from tests.sisa.test_distributions import _lines, year_2025  # noqa: F401  (fixture)

D = Decimal


@pytest.mark.parametrize("source, target", forbidden_transitions(REFUND_LIFECYCLE))
def test_forbidden_moves_are_refused(source, target):
    assert not REFUND_LIFECYCLE.allows(source, target)


@pytest.mark.parametrize("source, target", all_transitions(REFUND_LIFECYCLE))
def test_allowed_moves(source, target):
    assert REFUND_LIFECYCLE.allows(source, target)


def _balance(organisation, number, party):
    from backoffice.accounting.models import AuxiliaryAccount, JournalLine

    lines = db.session.scalars(select(JournalLine).join(AuxiliaryAccount, JournalLine.auxiliary_id == AuxiliaryAccount.id)
                               .where(JournalLine.organisation_id == organisation.id,
                                      AuxiliaryAccount.party_id == party.id)).all()
    lines = [line for line in lines if line.account.number == number]
    return sum((line.debit - line.credit for line in lines), D(0)), {line.lettering_code for line in lines}


def _paid_then_corrected(sisa, associates, scenario):
    first = services.freeze(services.prepare_version(sisa, 2025, scenario), date(2025, 12, 31))
    services.mark_paid(first, date(2026, 1, 22))
    # Hélène's protocol, forgotten: 1 000,00 € of the missions key move from Paul to her.
    services.add_mission_points(sisa, 2025, associates.helene, "Protocole plaies chroniques", "3")
    return first, services.freeze(services.prepare_version(sisa, 2025, scenario), date(2026, 2, 1))


def test_a_correction_after_payment_claims_the_overpaid_amount(sisa, associates, year_2025):  # noqa: F811
    first, second = _paid_then_corrected(sisa, associates, year_2025)
    (refund,) = services.refunds(sisa, 2025)
    assert (refund.party_id, refund.amount, refund.status) == (associates.paul.id, D("1000.00"), "owed")
    assert refund.distribution_id == second.id and services.refunds_of(second) == {associates.paul.id: refund}
    assert _lines(refund.entry) == [("4551", D("0.00"), D("1000.00"), associates.paul.id),
                                    ("467", D("1000.00"), D("0.00"), associates.paul.id)]
    # His current account is settled (and lettered); what he owes is followed on 467.
    balance, codes = _balance(sisa, "4551", associates.paul)
    assert balance == 0 and None not in codes
    assert _balance(sisa, "467", associates.paul)[0] == D("1000.00")
    # Only Hélène is paid by the correction; nobody is asked twice.
    assert [(p.id, a) for p, _, a in services.transfers(second)] == [(associates.helene.id, D("1000.00"))]


def test_the_refund_is_settled_and_lettered_never_deleted(sisa, associates, year_2025):  # noqa: F811
    _, second = _paid_then_corrected(sisa, associates, year_2025)
    (refund,) = services.refunds(sisa, 2025)
    with pytest.raises(SisaError, match="avant la correction"):
        services.settle_refund(refund, date(2025, 11, 30))  # the receivable is dated 31/12/2025
    services.settle_refund(refund, date(2026, 3, 2))
    assert refund.status == "settled" and refund.settled_on == date(2026, 3, 2)
    assert _lines(refund.settlement_entry) == [("467", D("0.00"), D("1000.00"), associates.paul.id),
                                               ("512", D("1000.00"), D("0.00"), None)]
    balance, codes = _balance(sisa, "467", associates.paul)
    assert balance == 0 and None not in codes and len(codes) == 1
    with pytest.raises(SisaError, match="déjà enregistré"):
        services.settle_refund(refund, date(2026, 3, 3))
    assert db.session.scalar(select(SisaRefund.id)) == refund.id


def test_a_third_version_counts_the_refund_already_claimed(sisa, associates, year_2025):  # noqa: F811
    first, second = _paid_then_corrected(sisa, associates, year_2025)
    services.mark_paid(second, date(2026, 2, 10))
    paid_v1 = {s.party_id: D(s.detail["paid"]) for s in first.shares}
    # Paul's referent role is recognised after all: part of the missions key comes back to him.
    services.add_mission_points(sisa, 2025, associates.paul, "Astreinte", "3")
    third = services.freeze(services.prepare_version(sisa, 2025, year_2025), date(2026, 3, 1))
    amounts = {s.party_id: s.amount for s in third.shares}
    due = services.payable(third)
    # v1 paid him, v2 claimed 1 000 back: what he has is paid_v1 − 1 000; the rest is due.
    assert due[associates.paul.id] == amounts[associates.paul.id] - (paid_v1[associates.paul.id] - D("1000.00"))
    assert due[associates.paul.id] > 0
    assert len(services.refunds(sisa, 2025)) == 2  # Hélène now owes part of what v2 paid her
    helene = next(r for r in services.refunds(sisa, 2025) if r.party_id == associates.helene.id)
    assert helene.amount == -due[associates.helene.id]


def test_refunds_are_listed_and_settled_on_screen(client, login_as, sisa, associates, year_2025):  # noqa: F811
    _, second = _paid_then_corrected(sisa, associates, year_2025)
    (refund,) = services.refunds(sisa, 2025)
    login_as("treasurer", org=sisa)
    page = client.get(f"/o/sisa-test/sisa/repartitions/{second.id}").get_data(as_text=True)
    assert "à rembourser 1\u202f000,00\u00a0€" in page and "/sisa/2025/remboursements" in page
    page = client.get("/o/sisa-test/sisa/2025/remboursements").get_data(as_text=True)
    assert "Paul CHEVALIER" in page and "À rembourser" in page
    assert 'data-figure="owed">1\u202f000,00\u00a0€' in page
    refused = client.post(f"/o/sisa-test/sisa/remboursements/{refund.id}/recu", data={"settled_on": "demain"})
    assert refused.status_code == 422 and refund.status == "owed"
    response = client.post(f"/o/sisa-test/sisa/remboursements/{refund.id}/recu", data={"settled_on": "02/03/2026"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Remboursement de Paul CHEVALIER enregistré et comptabilisé" in page
    assert 'data-figure="owed">0,00\u00a0€' in page and "Remboursé" in page
    db.session.refresh(refund)
    assert refund.status == "settled"
