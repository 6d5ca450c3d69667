"""A mail's status through backoffice.lifecycle: queued → sent or given up, never back."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.lifecycle import (DirectStatusWrite, LifecycleError, StatusChange, all_transitions,
                                  forbidden_transitions, history, move)
from backoffice.mail import services
from backoffice.mail.models import MAIL_LIFECYCLE, MailStatus, OutgoingMail
from backoffice.models import utcnow


def _mail(status=MailStatus.QUEUED, **values):
    mail = OutgoingMail(recipient="anne.lefloch@example.org", subject="Votre lien de connexion",
                        body="https://maillage.example/login/abc", status=status, attempts=0, **values)
    db.session.add(mail)
    db.session.flush()
    return mail


@pytest.mark.parametrize("source, target", all_transitions(MAIL_LIFECYCLE))
def test_allowed_moves_are_made_and_recorded(db, source, target):
    mail = _mail(source)
    move(mail, target)
    assert mail.status is target
    assert [(c.from_status, c.to_status) for c in history(mail)] == [(source.value, target.value)]


@pytest.mark.parametrize("source, target", forbidden_transitions(MAIL_LIFECYCLE))
def test_forbidden_moves_are_refused_in_french(db, source, target):
    mail = _mail(source)
    with pytest.raises(LifecycleError, match="Impossible de passer le message"):
        move(mail, target)
    assert mail.status is source and history(mail) == []


def test_a_saved_mails_status_is_not_written_directly(db):
    mail = _mail()
    with pytest.raises(DirectStatusWrite):
        mail.status = MailStatus.SENT


def test_giving_up_records_why(db):
    mail = _mail()
    services.give_up(mail, "Boîte pleine")
    assert mail.status is MailStatus.FAILED and mail.body == "" and mail.last_error == "Boîte pleine"
    assert [(c.to_status, c.reason) for c in history(mail)] == [("failed", "Boîte pleine")]


def test_purge_takes_the_history_of_purged_mails_with_them(db):
    old = _mail(created_at=utcnow() - timedelta(days=40))
    recent = _mail()
    services.give_up(old, "Adresse inconnue")
    services.give_up(recent, "Adresse inconnue")
    db.session.flush()
    assert services.purge_finished_mails() == 1
    remaining = db.session.scalars(select(StatusChange.subject_id).where(
        StatusChange.subject_table == "outgoing_mails")).all()
    assert remaining == [recent.id]
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 1
