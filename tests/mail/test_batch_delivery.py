"""Many mails at once: the first delivery job sends the others waiting, on one SMTP connection."""
import pytest
from sqlalchemy import select, text

from rq.job import Job
from rq.registry import FinishedJobRegistry

from backoffice.extensions import db, rq
from backoffice.mail import services
from backoffice.mail.models import MailStatus, OutgoingMail
from backoffice.mail.services import MailError, queue_mail
from jobs import mail as mail_jobs
from jobs import queue_name
from tests.mail.test_worker import mail_rows  # noqa: F401 - fixture
from tests.smtp_sink import SmtpSink
from tests.tasks.conftest import committed, real_jobs, simple_worker  # noqa: F401 - fixtures

pytestmark = pytest.mark.no_db_transaction


@pytest.fixture
def sink(app, monkeypatch):
    with SmtpSink() as server:
        for key, value in {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port,
                           "MAIL_USE_TLS": False, "MAIL_USERNAME": None}.items():
            monkeypatch.setitem(app.config, key, value)
        yield server


def queue_signin_links(count, start=0):
    mails = [queue_mail(f"adherent.{n}@cpts-lézardrieux.fr", "Votre lien de connexion à Maillage",
                        f"Bonjour Adhérent n° {n},\n\nVotre lien : https://maillage.test/connexion/{n}-jeton\n")
             for n in range(start, start + count)]
    db.session.commit()
    return [mail.id for mail in mails]


def statuses(ids):
    db.session.rollback()
    rows = db.session.execute(select(OutgoingMail.id, OutgoingMail.status, OutgoingMail.attempts)
                              .where(OutgoingMail.id.in_(ids)).order_by(OutgoingMail.id)).all()
    return {row.id: (row.status, row.attempts) for row in rows}


def test_forty_five_sign_in_links_go_on_one_connection_and_each_once(mail_rows, sink, simple_worker):
    ids = queue_signin_links(45)  # more than two commits' worth of the batch

    simple_worker()

    assert set(statuses(ids).values()) == {(MailStatus.SENT, 1)}
    assert sorted(sink.recipients()) == sorted(f"adherent.{n}@cpts-lézardrieux.fr" for n in range(45))
    assert sink.connections == 1
    # The 44 other jobs were taken off the queue: no fork to find a mail already sent.
    mail_queue = rq.get_queue(queue_name("mail"))
    assert FinishedJobRegistry(queue=mail_queue).get_job_ids() == [services.mail_job_id(ids[0])]
    assert mail_queue.count == 0 and not Job.exists(services.mail_job_id(ids[30]), connection=mail_queue.connection)
    assert "Adhérent n° 7" in next(m for m in sink.messages if m["To"].startswith("adherent.7@")).get_content()
    db.session.rollback()
    assert db.session.scalars(select(OutgoingMail.body).where(OutgoingMail.id.in_(ids))).all() == [""] * 45


def test_a_refusal_ends_the_batch_and_each_mail_keeps_its_own_retries(mail_rows, sink, simple_worker, monkeypatch):
    real, refused = services.send_mail, "adherent.2@cpts-lézardrieux.fr"

    def refusing(recipient, *args, **kwargs):
        if recipient == refused:
            raise MailError(f"Envoi du message à {recipient} impossible : 550 boîte pleine")
        return real(recipient, *args, **kwargs)

    monkeypatch.setattr(services, "send_mail", refusing)
    ids = queue_signin_links(5)

    simple_worker()

    result = statuses(ids)
    # Its own job tried it 1 + 3 times (retries without delay here); the batch's try did not count.
    assert result[ids[2]] == (MailStatus.FAILED, 4)
    assert [result[i] for i in ids if i != ids[2]] == [(MailStatus.SENT, 1)] * 4
    assert sorted(sink.recipients()) == sorted(f"adherent.{n}@cpts-lézardrieux.fr" for n in (0, 1, 3, 4))
    assert sink.connections == 1 + 4 + 1  # mail 0's batch; mail 2's four tries; mail 3's, with mail 4


def test_a_mail_waiting_for_its_retry_is_left_to_its_own_job(app, mail_rows, sink, real_jobs):
    [retried, fresh] = queue_signin_links(2)
    mail = db.session.get(OutgoingMail, retried)
    mail.attempts, mail.last_error = 1, "421 essayez plus tard"
    db.session.commit()

    with services.smtp_connection() as connection:
        assert mail_jobs.deliver_waiting_mails(connection) == 1

    assert statuses([retried, fresh]) == {retried: (MailStatus.QUEUED, 1), fresh: (MailStatus.SENT, 1)}
    assert sink.recipients() == ["adherent.1@cpts-lézardrieux.fr"]


def test_a_mail_whose_own_job_holds_it_is_skipped_not_waited_for(app, mail_rows, sink, real_jobs):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite has one writer at a time)")
    [held, other] = queue_signin_links(2)
    with db.engine.connect() as own_job:  # another worker, sending ``held`` right now
        own_job.execute(text("select id from outgoing_mails where id = :id for update"), {"id": held})
        with services.smtp_connection() as connection:
            assert mail_jobs.deliver_waiting_mails(connection) == 1
        own_job.rollback()
    assert statuses([held, other]) == {held: (MailStatus.QUEUED, 0), other: (MailStatus.SENT, 1)}


def test_inline_delivery_sends_only_its_own_mail(app, mail_rows, sink, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    monkeypatch.setattr(services, "enqueue_mail", lambda mail_id: False)  # Redis down: the row waits
    [waiting] = queue_signin_links(1)
    monkeypatch.setitem(app.config, "JOBS_INLINE", True)  # e.g. development without Redis
    [now] = queue_signin_links(1, start=1)
    assert statuses([waiting, now]) == {waiting: (MailStatus.QUEUED, 0), now: (MailStatus.SENT, 1)}
    assert sink.connections == 1
