"""The embedded SQLite default holds under load: the web process and a real worker write at the
same time and nobody fails with « database is locked ».

The test builds its own application on a fresh SQLite file (the settings production would use on
the embedded default, not the suite's shared transaction), starts a real ``flask worker`` on it,
and has several threads post payments through the test client while the worker produces the
receipts that those payments ask for.
"""
import os
import sqlite3
import subprocess
import threading
import time
import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from backoffice import create_app
from backoffice.extensions import db
from config import Testing
from tests.tasks.conftest import ROOT, worker_command, worker_env

pytestmark = pytest.mark.no_db_transaction

THREADS = 4
MEMBERS_PER_THREAD = 6


@pytest.fixture
def sqlite_app(tmp_path):
    if os.environ.get("TEST_DATABASE", "sqlite") == "postgresql":
        pytest.skip("the embedded default is SQLite")
    from tests.conftest import REDIS_URL

    app = create_app(Testing, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'maillage.sqlite'}",
                     STORAGE_DIR=str(tmp_path / "storage"), REDIS_URL=REDIS_URL, RQ_CONNECTION=REDIS_URL,
                     RQ_QUEUE_PREFIX=f"maillage-wal-{uuid.uuid4().hex[:8]}", JOBS_INLINE=False)
    with app.app_context():
        db.create_all()
        db.session.remove()
    yield app
    with app.app_context():
        from backoffice.extensions import rq

        for queue in rq.queues.values():
            queue.empty()
        db.session.remove()
        db.engine.dispose()


def test_every_connection_is_in_wal_mode_with_a_busy_timeout(sqlite_app):
    with sqlite_app.app_context():
        connection = db.session.connection()
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == \
            int(sqlite_app.config["SQLITE_BUSY_TIMEOUT"] * 1000)
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.session.rollback()


def _other_connection(tmp_path):
    other = sqlite3.connect(str(tmp_path / "maillage.sqlite"), timeout=0, isolation_level=None,
                            check_same_thread=False)
    other.execute("CREATE TABLE IF NOT EXISTS scratch (label TEXT)")
    return other


def test_a_reader_never_blocks_a_writer_and_a_writer_waits_for_another(sqlite_app, tmp_path):
    """WAL: a transaction reading (a page being drawn) does not stop a commit; two writers
    queue instead of failing (the second waits for the first)."""
    other = _other_connection(tmp_path)
    with sqlite_app.test_request_context("/", method="GET"):
        db.session.execute(text("SELECT count(*) FROM scratch")).scalar()  # a page's read transaction, open
        other.execute("BEGIN IMMEDIATE")  # would fail at once (timeout 0) if the reader held the database
        other.execute("INSERT INTO scratch VALUES ('écrit pendant une lecture')")
        other.execute("COMMIT")
        assert db.session.execute(text("SELECT count(*) FROM scratch")).scalar() == 0  # its snapshot
        db.session.rollback()

    with sqlite_app.app_context():
        other.execute("BEGIN IMMEDIATE")
        releaser = threading.Timer(0.5, lambda: other.execute("COMMIT"))
        releaser.start()
        started = time.monotonic()
        db.session.execute(text("INSERT INTO scratch VALUES ('après attente')"))
        db.session.commit()  # waited for the other writer instead of « database is locked »
        assert time.monotonic() - started >= 0.4
        releaser.join()
        assert db.session.execute(text("SELECT count(*) FROM scratch")).scalar() == 2
        db.session.rollback()
    other.close()


@pytest.mark.parametrize("method, holds_write_lock", [("POST", True), ("GET", False)])
def test_a_request_that_may_write_takes_the_write_lock_when_it_begins(sqlite_app, tmp_path, method,
                                                                      holds_write_lock):
    """A POST's transaction is BEGIN IMMEDIATE (reading first, then writing after another process
    committed, would fail at once whatever the busy timeout); a GET's reads without locking."""
    other = _other_connection(tmp_path)
    with sqlite_app.test_request_context("/", method=method):
        db.session.execute(text("SELECT count(*) FROM scratch")).scalar()
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            locked = False
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            locked = True
        db.session.rollback()
    other.close()
    assert locked is holds_write_lock


def _seed(app):
    """An organisation, its treasurer, and members with a 30 € membership each, committed."""
    from backoffice.accounting.services import ensure_ledger
    from backoffice.auth.services import grant_role
    from backoffice.membership import services
    from backoffice.membership.models import CategoryKind
    from tests.factories import OrganisationFactory, ProfessionalFactory, UserFactory

    with app.app_context():
        organisation = OrganisationFactory(slug="cpts-presqu-ile", name="CPTS de la Presqu'île")
        ensure_ledger(organisation)
        period = services.period_for_year(organisation, 2026)
        category = services.set_fee_category(period, "Autre professionnel de santé", Decimal("30.00"),
                                             CategoryKind.OTHER_PROFESSIONAL)
        treasurer = UserFactory(email="tresoriere@cpts-presquile.fr", full_name="Maëlle Guillou")
        grant_role(treasurer, organisation, "treasurer")
        memberships = []
        for n in range(THREADS * MEMBERS_PER_THREAD):
            member = ProfessionalFactory(first_name="Soizic", last_name=f"Le Goff-{n}",
                                         email=f"soizic.legoff{n}@example.fr")
            memberships.append(services.create_membership(organisation, member, period, category=category,
                                                          joined_on=date(2026, 1, 5)))
        db.session.commit()
        result = organisation.slug, treasurer.id, [m.id for m in memberships]
        db.session.remove()
        return result


def test_payments_hammered_while_a_worker_produces_receipts_never_fail(sqlite_app):
    slug, treasurer_id, membership_ids = _seed(sqlite_app)
    env = worker_env(sqlite_app)
    worker = subprocess.Popen(worker_command(), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True)
    statuses, errors = [], []
    try:
        def pay(index):
            client = sqlite_app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = str(treasurer_id)
                session["_fresh"] = True
            mine = membership_ids[index * MEMBERS_PER_THREAD:(index + 1) * MEMBERS_PER_THREAD]
            for n, membership_id in enumerate(mine):
                # Two payments each (10 € then 20 €): the second makes it paid and asks for its receipt,
                # which the worker produces while the other threads go on paying.
                for amount in ("10,00", "20,00"):
                    response = client.post(f"/o/{slug}/membership/members/{membership_id}/payments", data={
                        "amount": amount, "method": "transfer", "paid_on": "15/01/2026",
                        "reference": f"VIR-{membership_id}-{amount}", "form_key": uuid.uuid4().hex})
                    statuses.append(response.status_code)
                client.get(f"/o/{slug}/membership/members/{membership_id}")  # a page read between writes

        threads = [threading.Thread(target=lambda i=i: _guard(errors, pay, i)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors, errors
        assert statuses and set(statuses) == {302}, sorted(set(statuses))

        from backoffice.tasks.models import Task, TaskStatus

        with sqlite_app.app_context():
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                tasks = db.session.execute(select(Task.status, Task.message)).all()
                db.session.rollback()
                if len(tasks) == len(membership_ids) and all(s in (TaskStatus.DONE, TaskStatus.FAILED)
                                                              for s, _ in tasks):
                    break
                time.sleep(0.2)
            assert [(s, m) for s, m in tasks if s is not TaskStatus.DONE] == []
            assert len(tasks) == len(membership_ids)
            from backoffice.membership.models import MembershipPayment

            assert db.session.scalar(select(func.count(MembershipPayment.id))) == 2 * len(membership_ids)
            db.session.remove()
    finally:
        worker.kill()
        output = worker.communicate(timeout=10)[0].decode(errors="replace")
    assert "database is locked" not in output, output[-3000:]


def _guard(errors, work, index):
    try:
        work(index)
    except Exception as error:  # noqa: BLE001  (reported by the test)
        errors.append(error)


def test_cancelling_a_long_job_holding_the_write_lock_answers_at_once(sqlite_app, tmp_path):
    """The job's transaction holds the write lock for as long as it runs: the « Annuler » POST
    begins by reading (``reads_first``), stops the work-horse, then takes the lock."""
    from backoffice.tasks.models import Task, TaskStatus
    from tests.tasks import jobs_for_tests as jobs
    from tests.tasks.conftest import start_and_commit

    slug, treasurer_id, _ = _seed(sqlite_app)
    pidfile = tmp_path / "horse.pid"
    with sqlite_app.app_context():
        from backoffice.auth.models import User
        from backoffice.organisations.models import Organisation

        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
        task_id = start_and_commit(organisation=organisation, user=db.session.get(User, treasurer_id), kind="test.zip",
                                   label="Archive des attestations", job=jobs.slow_zip,
                                   params={"steps": 600, "sleep": 0.1, "pidfile": str(pidfile)}).id
        db.session.remove()
    worker = subprocess.Popen(worker_command(), cwd=ROOT, env=worker_env(sqlite_app), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        client = sqlite_app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(treasurer_id)
            session["_fresh"] = True
        started = time.monotonic()
        response = client.post(f"/o/{slug}/tasks/{task_id}/cancel")
        assert response.status_code == 302
        assert time.monotonic() - started < sqlite_app.config["SQLITE_BUSY_TIMEOUT"] / 2
        with sqlite_app.app_context():
            assert db.session.get(Task, task_id).status is TaskStatus.CANCELLED
            db.session.remove()
    finally:
        worker.kill()
        worker.wait(timeout=10)
