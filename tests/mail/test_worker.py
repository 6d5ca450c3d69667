"""Mails of web requests with real RQ workers on the real Redis and committed data."""
import socket

import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import delete, func, select

from backoffice.auth.services import grant_role
from backoffice.extensions import db, rq
from backoffice.mail import services
from backoffice.mail.models import MailStatus, OutboxMessage, OutgoingMail
from backoffice.mail.services import MailError, queue_mail
from jobs import queue_name
from tests.auth.conftest import link_in
from tests.factories import OrganisationFactory, UserFactory
from tests.tasks.conftest import committed, real_jobs, run_worker, simple_worker  # noqa: F401 - fixtures

pytestmark = pytest.mark.no_db_transaction


@pytest.fixture
def mail_rows(committed):  # noqa: F811
    """Also delete the mails and outbox messages committed during the test."""
    tables = [db.metadata.tables[name] for name in ("outbox_messages", "outgoing_mails")]
    marks = {t.name: db.session.scalar(select(func.coalesce(func.max(t.c.id), 0))) for t in tables}
    db.session.rollback()
    yield
    db.session.rollback()
    for table in tables:
        db.session.execute(delete(table).where(table.c.id > marks[table.name]))
    db.session.commit()


def reload(mail):
    db.session.rollback()
    return db.session.get(OutgoingMail, mail.id)


def failed_job_ids():
    return FailedJobRegistry(queue=rq.get_queue(queue_name("mail"))).get_job_ids()


def test_signin_link_request_does_not_touch_smtp_and_a_real_worker_delivers_it(app, client, mail_rows, run_worker,
                                                                               monkeypatch):
    member = UserFactory(email="adherente@example.org", full_name="Anne Adhérente")
    grant_role(member, OrganisationFactory(slug="cpts-courrier"), "member")
    db.session.commit()
    # The web process is given a mail server that accepts connections and never answers:
    # a request that waited for it would hold its worker for 30 s.
    with socket.socket() as silent_server:
        silent_server.bind(("127.0.0.1", 0))
        silent_server.listen(8)
        silent_server.setblocking(False)
        monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", silent_server.getsockname()[1])

        answer = client.post("/auth/link", data={"email": member.email})

        assert answer.status_code == 302
        with pytest.raises(BlockingIOError):
            silent_server.accept()  # nobody connected to it
    db.session.rollback()
    [mail] = db.session.scalars(select(OutgoingMail).where(OutgoingMail.recipient == member.email)).all()
    assert (mail.status, mail.attempts, mail.user_id) == (MailStatus.QUEUED, 0, member.id)
    assert Job.fetch(services.mail_job_id(mail.id), connection=rq.get_queue(queue_name("mail")).connection)

    run_worker()  # flask worker --burst; its Testing configuration keeps mails in the outbox

    mail = reload(mail)
    assert (mail.status, mail.attempts, mail.body) == (MailStatus.SENT, 1, "")
    [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == member.email)).all()
    assert message.subject == "Votre lien de connexion à Maillage"
    db.session.rollback()
    assert client.post(link_in(message)).status_code == 302  # the link signs in


def _send_failing(monkeypatch, times, error=MailError):
    """``send_mail`` fails ``times`` times with ``error``, then sends for real."""
    real, calls = services.send_mail, []

    def send(*args, **kwargs):
        calls.append(args[0])
        if len(calls) <= times:
            raise error("le serveur SMTP ne répond pas")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "send_mail", send)
    return calls


def _queue_and_commit(recipient="anne@example.org"):
    mail = queue_mail(recipient, "Votre lien", "Corps")
    db.session.commit()
    return mail


def test_mail_error_is_retried_by_rq_until_it_goes(mail_rows, simple_worker, monkeypatch):
    calls = _send_failing(monkeypatch, times=2)
    mail = _queue_and_commit()
    simple_worker()
    mail = reload(mail)
    assert (mail.status, mail.attempts, len(calls)) == (MailStatus.SENT, 3, 3)
    assert mail.last_error is None
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.recipient == "anne@example.org")) == 1


def test_mail_error_fails_the_mail_after_the_last_retry(mail_rows, simple_worker, monkeypatch):
    calls = _send_failing(monkeypatch, times=10)
    mail = _queue_and_commit()
    simple_worker()
    mail = reload(mail)
    assert (mail.status, mail.attempts, len(calls)) == (MailStatus.FAILED, 4, 4)  # 1 + the 3 retries
    assert mail.last_error == "le serveur SMTP ne répond pas"
    assert mail.body == ""
    assert services.mail_job_id(mail.id) in failed_job_ids()


def test_unexpected_error_fails_the_mail_at_once(mail_rows, simple_worker, monkeypatch):
    calls = _send_failing(monkeypatch, times=10, error=RuntimeError)
    mail = _queue_and_commit()
    simple_worker()
    mail = reload(mail)
    assert (mail.status, mail.attempts, len(calls)) == (MailStatus.FAILED, 1, 1)
    assert services.mail_job_id(mail.id) in failed_job_ids()


def test_job_run_again_after_delivery_sends_nothing(mail_rows, simple_worker, monkeypatch):
    calls = _send_failing(monkeypatch, times=0)
    mail = _queue_and_commit()
    simple_worker()
    assert services.enqueue_mail(mail.id)  # e.g. the reconciliation raced with the worker
    simple_worker()
    assert (reload(mail).status, len(calls)) == (MailStatus.SENT, 1)
