"""Closing a fiscal year through its job, with real workers on the real Redis and committed
books: the confirmation starts a task (not the closing), the worker closes the year and posts
the next year's definitive AN with a progress bar, and a refusal found by the job (an entry
posted into the open year before, after the confirmation) fails the task in French with
nothing written; once that year is closed, « Réessayer » closes this one."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from backoffice.accounting import closing, db_guards, opening, services
from backoffice.accounting.models import ClosedPeriod, JournalEntry
from backoffice.auth.services import grant_role
from backoffice.extensions import db, rq
from backoffice.tasks.models import Task, TaskStatus
from jobs import queue_name
from tests.factories import OrganisationFactory, ProfessionalFactory, UserFactory
from tests.tasks.conftest import real_jobs, run_worker, simple_worker  # noqa: F401  (fixtures)

pytestmark = pytest.mark.no_db_transaction


@pytest.fixture
def committed_everything(app):
    """Every row committed during the test is deleted afterwards, in every table (ids past the
    start), the closed-year guards lifted for it: a closed year is undeletable by design."""
    db.session.rollback()
    tables = [t for t in reversed(db.metadata.sorted_tables) if "id" in t.c]
    marks = {t.name: db.session.scalar(select(func.coalesce(func.max(t.c.id), 0))) for t in tables}
    db.session.rollback()
    yield
    db.session.rollback()
    # Tables keyed by their organisation (the ledger, the counters, the totals) have no id: their
    # rows go with the organisations created meanwhile — the guards' suspension also suspends
    # PostgreSQL's ON DELETE CASCADE, which would otherwise leave an orphan ledger behind.
    by_organisation = [t for t in db.metadata.sorted_tables if "id" not in t.c and "organisation_id" in t.c]
    with db.engine.begin() as connection, db_guards.suspended(connection):
        for table in by_organisation:
            connection.execute(table.delete().where(table.c.organisation_id > marks["organisations"]))
        for table in tables:
            connection.execute(table.delete().where(table.c.id > marks[table.name]))


@pytest.fixture
def books(committed_everything):
    """A CPTS with a year of fees (one still due), a subsidy and bank fees in 2026, and its
    treasurer, all committed."""
    organisation = OrganisationFactory(slug="cpts-cloture", name="CPTS de la Clôture", siren="812345676")
    services.ensure_ledger(organisation)
    members = [ProfessionalFactory(first_name=first, last_name=last)
               for first, last in (("Anne", "Guérin"), ("Loïc", "Le Bihan"), ("Zoé", "Hérault"))]
    for n, member in enumerate(members):
        services.post_event(organisation, "fee_due", amount=Decimal("50.00"), entry_date=date(2026, 1, 10 + n),
                            party=member, piece_ref=f"ADH-2026-{n + 1:04d}", label=f"Cotisation 2026 – {member}")
        if n < 2:  # the third one is still due at the year end (a warning, carried by the AN)
            services.post_event(organisation, "fee_paid", amount=Decimal("50.00"), entry_date=date(2026, 2, 3 + n),
                                party=member, piece_ref=f"VIR-{n + 1}", label=f"Règlement – {member}",
                                payment_method="transfer")
    services.post_event(organisation, "subsidy_received", amount=Decimal("12000.00"), entry_date=date(2026, 3, 12),
                        piece_ref="ARS-FIR-2026", label="ARS – FIR 2026")
    services.post_event(organisation, "bank_fees", amount=Decimal("8.90"), entry_date=date(2026, 4, 28),
                        piece_ref="REL-04", label="Frais de tenue de compte")
    treasurer = UserFactory()
    grant_role(treasurer, organisation, "treasurer")
    db.session.commit()
    return organisation, treasurer, members


def sign_in(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)


def _task(organisation):
    db.session.rollback()
    return db.session.scalar(select(Task).where(Task.organisation_id == organisation.id, Task.kind == "accounting.close"))


def test_the_confirmed_closing_runs_in_a_real_worker(books, run_worker, client):
    organisation, treasurer, members = books
    sign_in(client, treasurer)
    base = f"/o/{organisation.slug}/accounting"
    first = client.post(base + "/closing/2026", data={"confirm": "y"})
    second = client.post(base + "/closing/2026", data={"confirm": "y"})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]  # two clicks, one task
    task = _task(organisation)
    assert first.headers["Location"].endswith(f"/tasks/{task.id}")
    assert task.status is TaskStatus.QUEUED and task.label == "Clôture de l'exercice du 01/01/2026 au 31/12/2026"
    assert rq.get_queue(queue_name("default")).count == 1
    # The request closed nothing: the year is open until the worker runs.
    assert not closing.is_year_closed(organisation, 2026)
    page = client.get(base + "/closing?year=2026").text
    assert "Clôture en cours" in page and f"/tasks/{task.id}" in page
    assert "Avancement" in client.get(first.headers["Location"]).text

    run_worker(timeout=240)  # a closing and a worker's start-up, on a machine that may be busy
    task = _task(organisation)
    assert task.status is TaskStatus.DONE, task.message
    assert (task.progress_done, task.progress_total) == (closing.CLOSING_STEPS, closing.CLOSING_STEPS)
    period = closing.year_closing(organisation, 2026)
    assert period is not None and period.closed_by_id == treasurer.id and period.fec_sha256
    entries = db.session.scalars(select(JournalEntry).where(JournalEntry.organisation_id == organisation.id,
                                                            JournalEntry.fiscal_year == 2026)).all()
    assert sorted(e.final_number for e in entries) == list(range(1, len(entries) + 1))
    assert all(e.validated_on for e in entries)
    status = opening.opening_status(organisation, 2027)
    assert status.definitive and status.entry.reference in task.message
    assert task.message.startswith(f"{period} : clôture définitive enregistrée ({len(entries)} écritures")
    # The AN carries the closed year's balances: the member still due on his own account.
    assert opening.closing_balances(organisation, 2026).carried() == {
        (line.account.number, line.auxiliary_id): line.debit - line.credit for line in status.entry.lines}
    page = client.get(f"/o/{organisation.slug}/tasks/{task.id}").text
    assert "clôture définitive enregistrée" in page and "La tâche a échoué" not in page
    assert "Exercice clôturé le" in client.get(base + "/closing?year=2026").text


def test_a_refusal_found_by_the_job_fails_the_task_in_french_and_retry_closes(books, simple_worker, client):
    organisation, treasurer, members = books
    sign_in(client, treasurer)
    base = f"/o/{organisation.slug}/accounting"
    assert client.post(base + "/closing/2026", data={"confirm": "y"}).status_code == 302
    # Between the confirmation and the worker, the accountant books a 2025 invoice: 2025 now has
    # entries and is open, so 2026 may not be closed before it.
    db.session.rollback()
    organisation = db.session.merge(organisation)
    services.post_entry(organisation, "OD", date(2025, 12, 31), "FNP-2025", "Honoraires 2025 (facture non parvenue)",
                        [services.EntryLineSpec("6226", debit=Decimal("600.00")),
                         services.EntryLineSpec("408", credit=Decimal("600.00"))])
    db.session.commit()

    simple_worker()
    task = _task(organisation)
    assert task.status is TaskStatus.FAILED
    assert task.message == ("Clôture de l'exercice du 01/01/2026 au 31/12/2026 refusée : Exercice(s) antérieur(s) "
                            "non clôturé(s) : 2025. Clôturez-les d'abord, dans l'ordre. Rien n'a été modifié.")
    assert db.session.scalar(select(func.count()).select_from(ClosedPeriod).where(
        ClosedPeriod.organisation_id == organisation.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.organisation_id == organisation.id, JournalEntry.final_number.is_not(None))) == 0
    page = client.get(f"/o/{organisation.slug}/tasks/{task.id}").text
    assert "La tâche a échoué" in page and "Exercice(s) antérieur(s) non clôturé(s) : 2025" in page
    assert "Réessayer" in page

    # 2025 closed first (its own task), then « Réessayer » on 2026's closes it.
    assert client.post(base + "/closing/2025", data={"confirm": "y"}).status_code == 302
    simple_worker()
    assert closing.is_year_closed(organisation, 2025)
    assert client.post(f"/o/{organisation.slug}/tasks/{task.id}/retry").status_code == 302
    simple_worker()
    task = _task(organisation)
    assert task.status is TaskStatus.DONE, task.message
    assert closing.is_year_closed(organisation, 2026) and opening.opening_status(organisation, 2027).definitive
    # The 2025 accrual is carried into 2026, and from 2026 into 2027 (nothing paid it).
    assert db.session.execute(text(
        "SELECT COUNT(*) FROM accounting_entries WHERE organisation_id = :org AND event = 'opening' "
        "AND reversal_of_id IS NULL"), {"org": organisation.id}).scalar() >= 2
