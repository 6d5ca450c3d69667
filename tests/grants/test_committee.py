"""The committee meeting: the board decides a programme's submitted applications in one screen,
all or nothing — a refused decision (envelope or ceiling exceeded, missing reason, amount above
the request) applies none and says why on its row."""
import html
from datetime import date
from decimal import Decimal

import pytest
from flask import url_for
from sqlalchemy import select

from backoffice.accounting.models import JournalEntry
from backoffice.extensions import db
from backoffice.grants import committee, services
from backoffice.grants.committee import APPROVE, LATER, REJECT, Decision
from backoffice.grants.models import GrantApplication, GrantProgramme, GrantStatus, OnePer
from backoffice.grants.services import GrantError
from backoffice.mail.models import OutgoingMail
from tests.factories import ProfessionalFactory, SiteFactory
from tests.grants.factories import application, dermatoscope_programme, paid_member, submitted

S = GrantStatus


def _url(endpoint, **values):
    return url_for(endpoint, org="cpts-test", **values)


def _statuses(*rows):
    db.session.expire_all()
    return [db.session.get(GrantApplication, row.id).status for row in rows]


def _nothing_applied(programme, rows):
    assert _statuses(*rows) == [S.SUBMITTED] * len(rows)
    assert db.session.get(GrantProgramme, programme.id).granted_total == Decimal("0.00")
    assert db.session.scalar(select(JournalEntry).where(JournalEntry.source.like("grant_applications:%"))) is None
    assert db.session.scalar(select(OutgoingMail).where(OutgoingMail.subject.like("Votre demande d'aide est accord%"))) \
        is None


def test_agenda_lists_the_submitted_applications_with_their_ceiling_and_the_amount_proposed(organisation, programme):
    cheap = submitted(organisation, programme, quote="500,00", requested="400,00")   # 80 % of 500 = 400
    dear = submitted(organisation, programme, quote="1 200,00", requested="600,00")  # ceiling 600
    services.reject(submitted(organisation, programme), "Hors territoire")
    services.update_programme(programme, ceiling_amount=Decimal("550.00"))  # lowered since they applied
    rows = committee.agenda(programme)
    assert [r.application.id for r in rows] == [cheap.id, dear.id]
    assert [(r.ceiling, r.proposed) for r in rows] == [(Decimal("400.00"), Decimal("400.00")),
                                                       (Decimal("550.00"), Decimal("550.00"))]
    assert all(r.eligible for r in rows)


def test_a_batch_applies_approvals_and_refusals_and_leaves_the_others(organisation, programme, outbox):
    first, second, third, fourth = (submitted(organisation, programme) for _ in range(4))
    result = committee.decide_batch(programme, [
        Decision(first.id, APPROVE, "600,00"), Decision(second.id, APPROVE, Decimal("480.00")),
        Decision(third.id, REJECT, reason="Cabinet hors du territoire de la CPTS"), Decision(fourth.id, LATER)],
        on=date(2026, 4, 7))
    assert result.summary == "2 demandes accordées, 1 refusée, 1 laissée pour plus tard"
    assert _statuses(first, second, third, fourth) == [S.APPROVED, S.APPROVED, S.REJECTED, S.SUBMITTED]
    assert programme.granted_total == Decimal("1080.00") == services.budget(programme).granted
    assert db.session.get(GrantApplication, second.id).amount_granted == Decimal("480.00")
    commitments = db.session.scalars(select(JournalEntry).where(JournalEntry.source.like("%:commitment"))).all()
    assert sorted(e.total for e in commitments) == [Decimal("480.00"), Decimal("600.00")]


@pytest.mark.parametrize("bad, message", [
    (Decision(0, REJECT, reason="   "), "Indiquez le motif du refus."),
    (Decision(0, APPROVE, "650,00"), "Le montant accordé dépasse le montant demandé (600,00\u00a0€)."),
    (Decision(0, APPROVE, "six cents"), "six cents"),
    (Decision(0, APPROVE, ""), "Indiquez le montant accordé."),
])
def test_one_refused_decision_applies_none_and_its_row_says_why(organisation, programme, bad, message):
    good, faulty, other = (submitted(organisation, programme) for _ in range(3))
    with pytest.raises(committee.CommitteeRefused) as refused:
        committee.decide_batch(programme, [Decision(good.id, APPROVE, "600"),
                                           Decision(faulty.id, bad.action, bad.amount, bad.reason),
                                           Decision(other.id, REJECT, reason="Doublon")])
    assert list(refused.value.errors) == [faulty.id]
    assert message in refused.value.errors[faulty.id]
    assert str(refused.value) == "Rien n'a été appliqué : 1 décision à corriger (voir les lignes signalées)."
    _nothing_applied(programme, [good, faulty, other])


def test_above_the_ceiling_for_its_quote_is_refused(organisation, programme):
    row = submitted(organisation, programme, quote="500,00", requested="400,00")
    services.update_programme(programme, ceiling_amount=Decimal("350.00"))
    with pytest.raises(committee.CommitteeRefused) as refused:
        committee.decide_batch(programme, [Decision(row.id, APPROVE, "400")])
    assert refused.value.errors[row.id] == ("Le montant accordé dépasse le plafond de l'aide (350,00 € pour "
                                            "ce devis).")


def test_the_envelope_exhausted_by_the_batch_itself_refuses_the_rows_that_cross_it(organisation):
    programme = dermatoscope_programme(organisation, envelope=Decimal("1500.00"))
    rows = [submitted(organisation, programme) for _ in range(4)]
    with pytest.raises(committee.CommitteeRefused) as refused:
        committee.decide_batch(programme, [Decision(r.id, APPROVE, "600,00") for r in rows[:3]]
                               + [Decision(rows[3].id, APPROVE, "250,00")])
    # 600 + 600 fit, the third would make 1 800 > 1 500; the fourth (250) fits after the second.
    assert list(refused.value.errors) == [rows[2].id]
    assert "Enveloppe dépassée : il reste 300,00\u00a0€ sur 1\u202f500,00\u00a0€" in refused.value.errors[rows[2].id]
    _nothing_applied(programme, rows)
    result = committee.decide_batch(programme, [Decision(r.id, APPROVE, "600,00") for r in rows[:2]]
                                    + [Decision(rows[2].id, APPROVE, "300,00"), Decision(rows[3].id, LATER)])
    assert result.summary == "3 demandes accordées, 0 refusée, 1 laissée pour plus tard"
    assert programme.remaining == Decimal("0.00")


def test_a_batch_without_decision_and_an_application_of_another_programme_are_refused(organisation, programme):
    row = submitted(organisation, programme)
    with pytest.raises(GrantError, match="Aucune décision à appliquer"):
        committee.decide_batch(programme, [Decision(row.id, LATER)])
    other = dermatoscope_programme(organisation, name="Spiromètres 2026", equipment_kind="Spiromètre")
    with pytest.raises(committee.CommitteeRefused) as refused:
        committee.decide_batch(other, [Decision(row.id, APPROVE, "600")])
    assert refused.value.errors == {row.id: "Cette demande n'est pas dans ce programme."}
    assert _statuses(row) == [S.SUBMITTED]


def test_an_application_decided_meanwhile_is_refused_on_its_row(organisation, programme):
    row = submitted(organisation, programme)
    services.approve(row)  # another board member, from the application's own page
    with pytest.raises(committee.CommitteeRefused) as refused:
        committee.decide_batch(programme, [Decision(row.id, REJECT, reason="Doublon")])
    assert "Accordée" in refused.value.errors[row.id]


def test_the_board_decides_from_the_screen(client, login_as, organisation, programme, outbox, count_queries):
    first = submitted(organisation, programme, quote="500,00", requested="400,00")
    second, third = submitted(organisation, programme), submitted(organisation, programme)
    services.update_programme(programme, ceiling_amount=Decimal("350.00"))
    login_as("board")
    db.session.commit()  # the setup's mails are delivered (inline in tests) before the page is opened
    with count_queries() as counter:
        page = client.get(_url("grants.committee_meeting", programme_id=programme.id))
    assert page.status_code == 200
    assert not [q for q in counter.statements if q.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    text = page.get_data(as_text=True)
    assert text.count("data-committee-row") == 3
    assert f'name="amount-{first.id}" value="350,00"' in text      # min(400 requested, the ceiling now)
    assert 'data-remaining="6000.00"' in text and "Recevable" in text
    assert f'id="d-{first.id}-later" value="later" checked' in text  # nothing decided until the board says so
    response = client.post(_url("grants.committee_meeting", programme_id=programme.id), data={
        f"decision-{first.id}": "approve", f"amount-{first.id}": "350,00",
        f"decision-{second.id}": "reject", f"reason-{second.id}": "Équipement déjà financé par l'URPS",
        f"decision-{third.id}": "later", f"amount-{third.id}": "600,00"})
    assert response.status_code == 302
    assert _statuses(first, second, third) == [S.APPROVED, S.REJECTED, S.SUBMITTED]
    after = client.get(response.location).get_data(as_text=True)
    assert "1 demande accordée, 1 refusée, 1 laissée pour plus tard." in after
    assert after.count("data-committee-row") == 1
    assert {m.recipient for m in outbox()} >= {first.applicant.email, second.applicant.email}


def test_a_refused_row_comes_back_with_its_message_and_nothing_applied(client, login_as, organisation):
    programme = dermatoscope_programme(organisation, envelope=Decimal("1000.00"))
    first, second, third = (submitted(organisation, programme) for _ in range(3))
    login_as("board")
    response = client.post(_url("grants.committee_meeting", programme_id=programme.id), data={
        f"decision-{first.id}": "approve", f"amount-{first.id}": "600,00",
        f"decision-{second.id}": "approve", f"amount-{second.id}": "600,00",
        f"decision-{third.id}": "reject", f"reason-{third.id}": ""})
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert "Rien n'a été appliqué : 2 décisions à corriger" in text
    assert f'id="err-{second.id}" role="alert">Enveloppe dépassée : il reste 400,00\u00a0€' in text
    assert f'id="err-{third.id}" role="alert">Indiquez le motif du refus.' in text
    assert f'id="err-{first.id}"' not in text
    assert f'id="d-{second.id}-approve" value="approve" checked' in text  # the board's choices, as sent
    _nothing_applied(programme, [first, second, third])


@pytest.mark.parametrize("role, status", [("accountant", 403), ("member", 403), (None, 302)])
def test_only_those_who_decide_hold_the_meeting(client, login_as, organisation, programme, role, status):
    row = submitted(organisation, programme)
    login_as(role)
    url = _url("grants.committee_meeting", programme_id=programme.id)
    assert client.get(url).status_code == status
    assert client.post(url, data={f"decision-{row.id}": "approve", f"amount-{row.id}": "600"}).status_code == status
    assert _statuses(row) == [S.SUBMITTED]


def test_another_organisations_programme_is_not_found(client, login_as, organisation, other_organisation):
    foreign = dermatoscope_programme(other_organisation)
    login_as("board")
    assert client.get(_url("grants.committee_meeting", programme_id=foreign.id)).status_code == 404


def _submitted_on(organisation, programme, day, **kwargs):
    row = application(organisation, programme, **kwargs)
    services.submit(row, on=date(2026, 3, day))
    return row


def _agenda_statements(programme, count_queries):
    """The statements the agenda runs from a cold session, its verdicts read as the screen reads them."""
    db.session.expire_all()
    with count_queries() as counter:
        rows = committee.agenda(programme)
        [(r.application.applicant.display_name, r.application.site.name, r.eligible, r.unmet) for r in rows]
    return len(rows), counter.count


def test_the_agenda_runs_as_many_statements_for_30_applications_as_for_3(organisation, count_queries):
    programme = dermatoscope_programme(organisation, requires_membership=False)
    # Applications made on different days, by members and by others: every lookup of the rules
    # (membership at the day, training, one grant per professional) for each of them.
    def apply_on(days):
        services.update_programme(programme, requires_membership=False)  # the others may apply too
        for day in days:
            _submitted_on(organisation, programme, day, applicant=paid_member(organisation) if day % 2
                          else ProfessionalFactory(profession="infirmier"))
        services.update_programme(programme, requires_membership=True)

    apply_on(range(1, 4))
    few = _agenda_statements(programme, count_queries)
    apply_on(range(4, 31))
    many = _agenda_statements(programme, count_queries)
    assert few[0] == 3 and many[0] == 30
    assert many[1] == few[1] <= 8


def test_the_agenda_gives_each_application_the_verdict_of_its_own_eligibility(organisation):
    """Rules the board tightened after the applications were submitted: the agenda's verdicts are
    those of ``services.eligibility`` for each application."""
    programme = dermatoscope_programme(organisation, requires_membership=False, requires_training=False,
                                       one_per=OnePer.PROFESSIONAL)
    practice = SiteFactory(name="Maison de santé de Guérande", commune="Guérande")
    eligible = _submitted_on(organisation, programme, 2)
    not_member = _submitted_on(organisation, programme, 3, applicant=ProfessionalFactory(profession="pharmacien"))
    untrained = _submitted_on(organisation, programme, 4, training_on=None)
    first_at_practice = _submitted_on(organisation, programme, 5, site=practice)
    second_at_practice = _submitted_on(organisation, programme, 6, site=practice)
    services.update_programme(programme, requires_membership=True, requires_training=True, one_per=OnePer.PRACTICE)
    rows = {row.application.id: row for row in committee.agenda(programme)}
    for app_row in (eligible, not_member, untrained, first_at_practice, second_at_practice):
        assert rows[app_row.id].checks == services.eligibility(
            programme, app_row.applicant, site=app_row.site, training_on=app_row.training_on,
            on=app_row.submitted_on, application=app_row)
    unmet = {row_id: {c.key for c in row.checks if not c.ok} for row_id, row in rows.items()}
    assert unmet == {eligible.id: set(), not_member.id: {"membership"}, untrained.id: {"training"},
                     first_at_practice.id: {"one_per"}, second_at_practice.id: {"one_per"}}
    assert "Aucune adhésion à CPTS de Test pour la période du 03/03/2026." in rows[not_member.id].unmet
    assert (f"Le cabinet Maison de santé de Guérande a déjà une demande ({second_at_practice.reference}, Déposée)."
            in rows[first_at_practice.id].unmet)
