"""Mails of web requests: a row in the request's transaction, delivered by a job after its commit."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backoffice.auth.services import grant_role
from backoffice.extensions import rq
from backoffice.mail import services
from backoffice.mail.models import MailStatus, OutgoingMail
from backoffice.mail.services import MailError, queue_mail
from backoffice.models import utcnow
from jobs import queue_name
from jobs.mail import deliver_mail
from tests.factories import UserFactory
from tests.tasks.conftest import real_jobs  # noqa: F401 - fixture


@pytest.fixture
def enqueued(app, db, monkeypatch):
    """Worker mode, Redis left aside: (mail id, was a transaction still open?) per enqueue."""
    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    calls = []

    def record(mail_id):
        calls.append((mail_id, db.session().in_transaction()))
        return True

    monkeypatch.setattr(services, "enqueue_mail", record)
    return calls


def mails():
    return list(services.db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def test_queued_mail_is_a_row_sent_after_the_commit(db, outbox):
    user = UserFactory(email="anne@example.org")
    mail = queue_mail("anne@example.org", "Votre lien", "Cliquez ici : https://exemple/lien", user=user)
    assert (mail.status, mail.attempts, mail.user_id, mail.sent_at) == (MailStatus.QUEUED, 0, user.id, None)
    assert outbox() == []  # nothing leaves before the commit

    db.session.commit()

    db.session.refresh(mail)
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 1)
    assert mail.sent_at is not None
    assert mail.body == ""  # the link is not kept once delivered
    [message] = outbox("anne@example.org")
    assert (message.subject, message.body) == ("Votre lien", "Cliquez ici : https://exemple/lien")


def test_rolled_back_transaction_sends_nothing(db, outbox):
    queue_mail("anne@example.org", "Votre lien", "Corps")
    db.session.rollback()
    db.session.commit()  # a later commit of the same session does not send it either
    assert mails() == []
    assert outbox() == []


def test_rolled_back_transaction_enqueues_nothing(db, enqueued):
    queue_mail("anne@example.org", "Votre lien", "Corps")
    with db.session.begin_nested():  # a savepoint released, then the whole transaction rolled back
        queue_mail("bruno@example.org", "Votre lien", "Corps")
    db.session.rollback()
    db.session.commit()
    assert enqueued == []
    assert mails() == []


def test_job_is_enqueued_only_once_the_transaction_has_committed(db, enqueued):
    first = queue_mail("a@example.org", "Un", "Corps")
    with db.session.begin_nested():  # a released savepoint is not a commit
        second = queue_mail("b@example.org", "Deux", "Corps")
    db.session.flush()
    assert enqueued == []
    db.session.commit()
    assert enqueued == [(first.id, False), (second.id, False)]
    db.session.commit()
    assert len(enqueued) == 2  # handed over once


def test_delivery_is_idempotent(db, enqueued, outbox):
    mail = queue_mail("anne@example.org", "Votre lien", "Corps")
    db.session.commit()
    assert outbox() == []  # enqueued, not delivered here
    assert deliver_mail(mail.id) == "sent"
    assert deliver_mail(mail.id) == "sent"  # a second run of the job sends nothing more
    assert len(outbox("anne@example.org")) == 1
    assert deliver_mail(mail.id + 1000) == "gone"


def test_failed_inline_delivery_is_recorded_and_does_not_fail_the_commit(db, outbox, monkeypatch):
    def refuse(*args, **kwargs):
        raise MailError("Envoi du message à anne@example.org impossible : Connection refused")

    monkeypatch.setattr(services, "send_mail", refuse)
    mail = queue_mail("anne@example.org", "Votre lien", "Corps")
    db.session.commit()
    db.session.refresh(mail)
    assert (mail.status, mail.attempts, mail.body) == (MailStatus.FAILED, 1, "")
    assert mail.last_error == "Envoi du message à anne@example.org impossible : Connection refused"
    assert outbox() == []


def test_unknown_address_queues_no_mail(client, db):
    answer = client.post("/auth/link", data={"email": "inconnu@example.org"})
    assert answer.status_code == 302
    assert mails() == []


# --- reconciliation --------------------------------------------------------------------------

def _row(minutes_ago, recipient):
    mail = OutgoingMail(recipient=recipient, subject="Sujet", body="Corps", status=MailStatus.QUEUED, attempts=0,
                        created_at=utcnow() - timedelta(minutes=minutes_ago))
    services.db.session.add(mail)
    services.db.session.flush()
    return mail


def test_reconciliation_enqueues_mails_whose_job_vanished(db, real_jobs):  # noqa: F811
    lost = _row(5, "perdu@example.org")
    alive = _row(5, "vivant@example.org")
    fresh = _row(0, "recent@example.org")
    stale = _row(2 * 24 * 60, "ancien@example.org")
    assert services.enqueue_mail(alive.id)
    queue = rq.get_queue(queue_name("mail"))
    assert queue.count == 1

    assert services.reconcile_queued_mails() == [lost.id]

    assert sorted(queue.job_ids) == sorted([services.mail_job_id(alive.id), services.mail_job_id(lost.id)])
    assert {m.recipient: m.status for m in mails()} == {
        "perdu@example.org": MailStatus.QUEUED, "vivant@example.org": MailStatus.QUEUED,
        "recent@example.org": MailStatus.QUEUED, "ancien@example.org": MailStatus.FAILED}
    assert "plus d'un jour" in stale.last_error
    assert fresh.status is MailStatus.QUEUED


def test_enqueue_failure_leaves_the_mail_queued(db, app, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    class DeadQueue:
        def enqueue_call(self, *args, **kwargs):
            raise RedisConnectionError("Connection refused")

    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    monkeypatch.setattr(rq, "get_queue", lambda name: DeadQueue())
    mail = queue_mail("anne@example.org", "Votre lien", "Corps")
    db.session.commit()  # does not raise: the reconciliation will enqueue it
    db.session.refresh(mail)
    assert (mail.status, mail.attempts) == (MailStatus.QUEUED, 0)


# --- monitor -------------------------------------------------------------------------------------

def test_monitor_counts_mails_and_shows_failures_of_own_organisations(client, login_as, organisation,
                                                                     other_organisation, db):
    login_as("admin")
    ours, theirs = UserFactory(email="visible@example.org"), UserFactory(email="cachee@example.org")
    grant_role(ours, organisation, "member")
    grant_role(theirs, other_organisation, "member")
    for user, error in ((ours, "Connexion refusée par le serveur"), (theirs, "Boîte pleine")):
        db.session.add(OutgoingMail(recipient=user.email, subject="Votre lien de connexion", body="", user_id=user.id,
                                    status=MailStatus.FAILED, attempts=4, last_error=error))
    _row(1, "attente@example.org")
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 3

    page = client.get("/admin/jobs/").text

    assert "1 en attente d'envoi, 2 en échec au total" in page
    assert "visible@example.org" in page and "Connexion refusée par le serveur" in page
    assert "cachee@example.org" not in page and "Boîte pleine" not in page


def test_finished_mails_are_purged_after_a_month(db, enqueued):
    now = utcnow()
    rows = {}
    for name, status, age in [("old-sent", MailStatus.SENT, 31), ("old-failed", MailStatus.FAILED, 40),
                              ("recent-sent", MailStatus.SENT, 29), ("old-queued", MailStatus.QUEUED, 31)]:
        rows[name] = OutgoingMail(recipient=f"{name}@example.org", subject="s", body="", status=status, attempts=1,
                                  created_at=now - timedelta(days=age))
        db.session.add(rows[name])
    db.session.flush()
    assert services.purge_finished_mails(now=now) == 2
    assert [m.recipient for m in mails()] == ["recent-sent@example.org", "old-queued@example.org"]
