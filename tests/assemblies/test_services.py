"""Assemblies without HTTP: settings, agenda, the roll at the cut-off and its freezing, the
convocation (notice, mails), the lifecycle."""
from datetime import date, datetime

import pytest

from backoffice.assemblies import services
from backoffice.assemblies.models import (ASSEMBLY_LIFECYCLE, AssemblyError, AssemblyLifecycleError,
                                          AssemblyStatus as S)
from backoffice.extensions import db
from backoffice.lifecycle import all_transitions, forbidden_transitions, history, move
from backoffice.membership import services as membership
from tests.assemblies import factories as f


@pytest.fixture
def world(organisation, period, colleges):
    return f.roll_world(organisation, period, colleges)


def test_create_keeps_the_statutes_settings(organisation):
    a = services.create_assembly(organisation, **f.settings(abstentions_count=True, chair_casting_vote=True,
                                                            max_proxies=3, notice_days=21))
    assert (a.status, a.convocation, a.quorum_label) == (S.DRAFT, 1, "1/4 des votants présents ou représentés")
    assert (a.abstentions_count, a.chair_casting_vote, a.max_proxies, a.notice_days) == (True, True, 3, 21)


@pytest.mark.parametrize("overrides, field", [
    (dict(place=None, video_link=None), "place"),
    (dict(cut_off=date(2026, 6, 9)), "cut_off"),
    (dict(quorum_numerator=1, quorum_denominator=None), "quorum_numerator"),
    (dict(quorum_numerator=3, quorum_denominator=2), "quorum_numerator"),
    (dict(college_weights={"1": 0}), "college_weights"),
])
def test_bad_settings_are_refused_in_french(organisation, overrides, field):
    with pytest.raises(AssemblyError) as refused:
        services.create_assembly(organisation, **f.settings(**overrides))
    assert refused.value.field == field


def test_video_only_and_no_quorum_are_fine(organisation):
    a = services.create_assembly(organisation, **f.settings(place=None, video_link="https://visio.example.org/ag",
                                                            quorum_numerator=None, quorum_denominator=None))
    assert a.quorum_label == "Sans quorum"


def test_agenda_positions_follow_additions_and_removals(organisation):
    a = f.assembly(organisation, resolutions=3)
    services.delete_resolution(a.resolutions[0])
    db.session.refresh(a)
    assert [(r.position, r.title) for r in a.resolutions] == [(1, "Rapport moral"), (2, "Grille des cotisations 2027")]


def test_roll_before_convocation_is_live_with_reasons(organisation, world):
    a = f.assembly(organisation)
    roll = services.roll(a)
    assert not roll.frozen
    assert len(roll.voters) == 8  # seven professionals and the EHPAD
    reasons = {line.party.display_name: line.reason_label for line in roll.exclusions}
    assert reasons == {"Loïc D'ARVOR": "Cotisation payée après la date limite", "Thị NGÔ": "Cotisation non payée"}


def test_roll_of_one_college_and_weights(organisation, world, colleges):
    liberaux, structures, _ = colleges
    a = f.assembly(organisation, college_weights={str(structures.id): 3})
    roll = services.roll(a)
    assert roll.total_weight == 7 + 3
    only = f.assembly(organisation, title="AG du collège libéral", college_id=liberaux.id)
    assert len(services.roll(only).voters) == 7
    assert "Autre collège" in {line.reason_label for line in services.roll(only).exclusions}


def test_convening_freezes_the_roll(organisation, world, period):
    a = f.assembly(organisation)
    services.convene(a, on=date(2026, 5, 21))
    assert a.status is S.CONVENED and a.convened_on == date(2026, 5, 21)
    assert len(a.voters) == 8 and len(a.exclusions) == 2
    # a payment recorded later, even dated before the cut-off, does not change the frozen roll
    membership.record_payment(world["unpaid"], "50", "transfer", date(2026, 5, 1))
    db.session.expire_all()
    assert len(services.roll(a).voters) == 8
    with pytest.raises(AssemblyError):
        services.update_assembly(a, title="Autre titre")
    with pytest.raises(AssemblyError):
        services.add_resolution(a, "Résolution ajoutée après la convocation")
    assert [(c.from_status, c.to_status) for c in history(a)] == [("draft", "convened")]


def test_late_convocation_needs_a_confirmation(organisation, world):
    a = f.assembly(organisation)
    warning = services.notice_warning(a, on=date(2026, 5, 30))
    assert warning == ("Convocation envoyée 9 jours avant l'assemblée du 8 juin 2026 : "
                       "les statuts demandent 15 jours.")
    with pytest.raises(AssemblyError) as refused:
        services.convene(a, on=date(2026, 5, 30))
    assert refused.value.field == "late_ok" and a.status is S.DRAFT and not a.voters
    assert services.convene(a, on=date(2026, 5, 30), late_ok=True) == warning
    assert history(a)[-1].reason == warning
    assert services.notice_warning(a, on=date(2026, 5, 24)) is None


def test_nothing_to_convene_without_agenda_or_voters(organisation, period):
    a = f.assembly(organisation, resolutions=0)
    with pytest.raises(AssemblyError, match="au moins une résolution"):
        services.convene(a, on=date(2026, 5, 1))
    services.add_resolution(a, "Approbation des comptes 2025")
    with pytest.raises(AssemblyError, match="Aucun membre à jour"):
        services.convene(a, on=date(2026, 5, 1))


def test_convocation_mails_go_once_and_name_the_agenda(organisation, world, outbox):
    a = f.assembly(organisation)
    services.convene(a, on=date(2026, 5, 21))
    missing_party = a.voters[0].party
    missing_party.email = None
    queued, missing = services.send_convocations(a, "https://maillage.example.org/o/cpts-test/espace-adherent/")
    assert (queued, [v.party for v in missing]) == (7, [missing_party])
    assert services.send_convocations(a, "https://…") == (0, missing)
    db.session.commit()
    mails = outbox()
    assert len(mails) == 7
    assert mails[0].subject == "Convocation : AGO du 8 juin 2026 — CPTS de Test"
    assert "le 8 juin 2026 à 18 h 30" in mails[0].body and "2. Rapport moral" in mails[0].body


@pytest.mark.parametrize("source, target", all_transitions(ASSEMBLY_LIFECYCLE))
def test_allowed_transitions(organisation, source, target):
    a = f.assembly(organisation)
    _force(a, source)
    move(a, target)
    assert a.status is target and history(a)[-1].to_status == target.value


@pytest.mark.parametrize("source, target", forbidden_transitions(ASSEMBLY_LIFECYCLE))
def test_forbidden_transitions(organisation, source, target):
    a = f.assembly(organisation)
    _force(a, source)
    with pytest.raises(AssemblyLifecycleError, match="Impossible de passer l'assemblée"):
        move(a, target)
    assert a.status is source


def _force(assembly, status):
    """Walk ``assembly`` along the machine to ``status``."""
    path = [S.DRAFT, S.CONVENED, S.IN_SESSION, S.CLOSED, S.MINUTES_ISSUED]
    for step in path[1:path.index(status) + 1]:
        move(assembly, step)


def test_session_opens_and_closes(organisation, world):
    a = f.assembly(organisation)
    services.convene(a, on=date(2026, 5, 21))
    services.open_session(a)
    assert a.status is S.IN_SESSION and a.opened_at is not None
    services.close_session(a)
    assert a.status is S.CLOSED and isinstance(a.closed_at, datetime)
