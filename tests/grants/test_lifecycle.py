"""The application's state machine: every allowed move works and is recorded, every other is refused."""
from decimal import Decimal

import pytest

from backoffice.grants.models import GRANT_LIFECYCLE, GrantApplication, GrantLifecycleError, GrantStatus
from backoffice.lifecycle import DirectStatusWrite, all_transitions, forbidden_transitions, history, move
from tests.factories import ProfessionalFactory


def _application_in(organisation, programme, status):
    row = GrantApplication(organisation_id=organisation.id, programme=programme, status=status,
                           applicant=ProfessionalFactory(last_name="Guého"), equipment_kind="Dermatoscope",
                           quoted_price=Decimal("750.00"), amount_requested=Decimal("600.00"))
    from backoffice.extensions import db

    db.session.add(row)
    db.session.flush()
    return row


@pytest.mark.parametrize("source, target", all_transitions(GRANT_LIFECYCLE))
def test_allowed_move_is_recorded(organisation, programme, login_as, source, target):
    row = _application_in(organisation, programme, source)
    move(row, target, reason="Motif saisi par le bureau")
    assert row.status is target
    [change] = history(row)
    assert (change.from_status, change.to_status) == (source.value, target.value)
    assert change.organisation_id == organisation.id


@pytest.mark.parametrize("source, target", forbidden_transitions(GRANT_LIFECYCLE))
def test_forbidden_move_is_refused_in_french(organisation, programme, source, target):
    row = _application_in(organisation, programme, source)
    with pytest.raises(GrantLifecycleError, match="Impossible de passer la demande de « "):
        move(row, target, reason="Motif")
    assert row.status is source and history(row) == []


@pytest.mark.parametrize("target", sorted(GRANT_LIFECYCLE.reason_required))
def test_reason_required(organisation, programme, target):
    source = next(s for s, t in all_transitions(GRANT_LIFECYCLE) if t is target)
    row = _application_in(organisation, programme, source)
    with pytest.raises(GrantLifecycleError, match="Indiquez un motif"):
        move(row, target)


def test_status_is_never_written_directly(organisation, programme):
    row = _application_in(organisation, programme, GrantStatus.SUBMITTED)
    with pytest.raises(DirectStatusWrite):
        row.status = GrantStatus.APPROVED


def test_terminal_states_have_no_way_out():
    assert {s for s in GrantStatus if not GRANT_LIFECYCLE.targets(s)} == {
        GrantStatus.REJECTED, GrantStatus.CLOSED, GrantStatus.WITHDRAWN, GrantStatus.CANCELLED}
