"""Late regularisation: a member who paid by the cut-off, whose payment the treasurer recorded
after the roll froze, joins the frozen roll (audited, convocation mail sent); refused in French
for a payment after the cut-off and once the session is open."""
from datetime import date

import pytest
from sqlalchemy import select

from backoffice.assemblies import services
from backoffice.assemblies.models import AssemblyError, AssemblyExclusion
from backoffice.audit.models import AuditEntry
from backoffice.extensions import db
from backoffice.membership import services as membership
from tests.assemblies import factories as f


@pytest.fixture
def world(organisation, period):
    return f.roll_world(organisation, period)


def _exclusion(assembly, name):
    return next(e for e in assembly.exclusions if name in e.party.display_name)


def test_a_payment_made_by_the_cut_off_and_recorded_late_puts_the_member_on_the_roll(organisation, world):
    a = f.assembly(organisation)
    services.convene(a, on=date(2026, 5, 21))
    assert len(a.voters) == 8
    # the cheque of 12 May was found in the mail on the 25th: recorded at its date
    membership.record_payment(world["unpaid"], "50,00", "cheque", date(2026, 5, 12))
    voter = services.regularise(a, _exclusion(a, "NGÔ"))
    assert voter.party.display_name == "Thị NGÔ" and voter.weight == 1 and voter.convoked_at is None
    assert len(a.voters) == 9 and not any("NGÔ" in e.party.display_name for e in a.exclusions)
    assert services.roll(a).frozen and "Thị NGÔ" in [line.party.display_name for line in services.roll(a).voters]
    actions = {(e.table_name, e.action) for e in db.session.scalars(select(AuditEntry))}
    assert {("assembly_voters", "create"), ("assembly_exclusions", "delete")} <= actions


def test_a_payment_after_the_cut_off_does_not_regularise(organisation, world):
    a = f.assembly(organisation)
    services.convene(a, on=date(2026, 5, 21))
    late = _exclusion(a, "D'ARVOR")
    with pytest.raises(AssemblyError, match=r"Loïc D'ARVOR n'était pas à jour de sa cotisation au 20 mai 2026 : "
                                            r"cotisation payée après la date limite \(Payée le 21/05/2026\)\. Seul "
                                            r"un paiement fait au plus tard le 20 mai 2026"):
        services.regularise(a, late)
    unpaid = _exclusion(a, "NGÔ")
    with pytest.raises(AssemblyError, match="cotisation non payée"):
        services.regularise(a, unpaid)
    assert len(a.voters) == 8


def test_no_regularisation_once_the_session_is_open(organisation, world):
    a = f.assembly(organisation)
    services.convene(a, on=date(2026, 5, 21))
    membership.record_payment(world["unpaid"], "50,00", "cheque", date(2026, 5, 12))
    services.open_session(a)
    with pytest.raises(AssemblyError, match="La séance est ouverte : la liste des votants ne change plus"):
        services.regularise(a, _exclusion(a, "NGÔ"))
    assert len(a.voters) == 8


def test_the_treasurer_regularises_from_the_roll_page(client, login_as, organisation, world, outbox):
    a = f.assembly(organisation)
    services.convene(a, on=date(2026, 5, 21))
    services.send_convocations(a, "https://…")
    membership.record_payment(world["unpaid"], "50,00", "cheque", date(2026, 5, 12))
    exclusion = _exclusion(a, "NGÔ")
    late = _exclusion(a, "D'ARVOR")
    db.session.commit()
    login_as("treasurer")
    page = client.get(f"/o/cpts-test/assemblies/{a.id}/roll").get_data(as_text=True)
    assert f"/assemblies/{a.id}/roll/{exclusion.id}/regularise" in page
    response = client.post(f"/o/cpts-test/assemblies/{a.id}/roll/{exclusion.id}/regularise", follow_redirects=True)
    assert "Thị NGÔ est ajouté(e) à la liste des votants" in response.get_data(as_text=True)
    refused = client.post(f"/o/cpts-test/assemblies/{a.id}/roll/{late.id}/regularise", follow_redirects=True)
    assert "payée après la date limite" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert len(a.voters) == 9
    assert db.session.get(AssemblyExclusion, late.id) is not None
    # his convocation mail went (the others' did not go twice)
    mails = [m for m in outbox() if m.subject.startswith("Convocation")]
    assert len(mails) == 9 and mails[-1].recipient == world["unpaid"].party.email

