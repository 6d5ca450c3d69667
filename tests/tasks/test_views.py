"""Task pages, downloads, expiry and the job monitor (jobs inline, in the test transaction)."""
from datetime import timedelta

import pytest

from backoffice.extensions import db
from backoffice.models import utcnow
from backoffice.tasks import services
from backoffice.tasks.models import Task, TaskStatus
from tests.factories import OrganisationFactory
from tests.tasks import jobs_for_tests as jobs
from tests.tasks.conftest import start_and_commit


def _done(organisation, kind, user=None):
    return start_and_commit(organisation=organisation, user=user, kind=kind, label="Lignes de test",
                            job=jobs.write_lines, params={"lines": 2})


@pytest.fixture
def done_task(organisation):
    # A members' export: the membership feature lets its viewers (admin, treasurer, board) download it.
    return _done(organisation, "membership.export")


def download_url(task):
    return f"/o/{task.organisation.slug}/tasks/{task.id}/download/{task.download_token}"


@pytest.mark.parametrize("role", ["admin", "treasurer", "board"])
def test_download_for_the_roles_its_kind_allows(client, login_as, done_task, role):
    login_as(role)
    with client.get(download_url(done_task)) as response:
        assert response.status_code == 200
        assert response.data == b"ligne 1\nligne 2\n"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "lignes.txt" in response.headers["Content-Disposition"]
        assert response.mimetype == "text/plain"


# Who may download a result is its task kind's declaration (backoffice/*/feature.py), not "any role".
@pytest.mark.parametrize("kind, role, allowed", [
    ("accounting.export", "accountant", True),
    ("accounting.export", "treasurer", True),
    ("accounting.export", "board", False),   # sees the books, may not take the FEC away
    ("accounting.export", "member", False),  # even with the link and its token
    ("membership.export", "accountant", False),
    ("membership.export", "member", False),
    ("membership.direct_debit", "board", False),  # members' IBANs
    ("membership.direct_debit", "treasurer", True),
    ("documents.directory_sheets", "board", False),
    ("documents.directory_sheets", "admin", True),
    ("membership.receipt", "member", False),  # another member's receipt
    ("membership.receipt", "board", True),
    ("test.undeclared", "admin", False),  # a kind nobody declared: nobody
])
def test_download_follows_the_task_kind(client, login_as, organisation, kind, role, allowed):
    task = _done(organisation, kind)
    login_as(role)
    with client.get(download_url(task)) as response:
        assert response.status_code == (200 if allowed else 403)
    assert (download_url(task) in client.get(f"/o/{organisation.slug}/tasks/{task.id}").text) is (
        allowed and role != "member")  # members have no task pages


def test_a_member_downloads_the_receipt_he_asked_for(client, login_as, organisation):
    member = login_as("member")
    task = _done(organisation, "membership.receipt", user=member)
    with client.get(download_url(task)) as response:
        assert response.status_code == 200 and response.data == b"ligne 1\nligne 2\n"


def test_the_progress_of_a_result_one_may_not_download_has_no_link(client, login_as, organisation):
    task = _done(organisation, "accounting.export")
    login_as("board")
    data = client.get(f"/o/{organisation.slug}/tasks/{task.id}/progress").get_json()
    assert data["finished"] is True and "download_url" not in data
    listing = client.get(f"/o/{organisation.slug}/tasks/").text
    assert "Lignes de test" in listing and download_url(task) not in listing


def test_download_refused_to_anonymous(client, login_as, done_task):
    login_as(None)
    response = client.get(download_url(done_task))
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next=")
    assert b"ligne" not in response.data


def test_download_refused_to_another_organisation(client, login_as, done_task, other_organisation):
    login_as("admin", org=other_organisation)
    assert client.get(download_url(done_task)).status_code == 404
    # nor through the other organisation's URL
    url = f"/o/{other_organisation.slug}/tasks/{done_task.id}/download/{done_task.download_token}"
    assert client.get(url).status_code == 404


def test_download_refused_with_a_wrong_token_or_unfinished_task(client, login_as, done_task, organisation):
    login_as("treasurer")
    assert client.get(download_url(done_task) + "x").status_code == 404
    failed = start_and_commit(organisation=organisation, user=None, kind="t", label="t", job=jobs.crash)
    assert client.get(f"/o/{organisation.slug}/tasks/{failed.id}/download/anything").status_code == 404


def test_list_shows_tasks_of_the_organisation_only(client, login_as, done_task, organisation, other_organisation):
    start_and_commit(organisation=other_organisation, user=None, kind="t", label="Tâche de l'autre", job=jobs.crash)
    login_as("board")
    page = client.get(f"/o/{organisation.slug}/tasks/")
    assert page.status_code == 200
    assert "Lignes de test" in page.text and "Terminée" in page.text
    assert download_url(done_task) in page.text
    assert "Tâche de l'autre" not in page.text
    assert "Lignes de test" not in client.get(f"/o/{organisation.slug}/tasks/?status=failed").text


def test_list_paginates(client, login_as, organisation, app, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    from tests.factories import TaskFactory

    for n in range(3):
        TaskFactory(organisation=organisation, label=f"Tâche {n}", status=TaskStatus.FAILED, attempts=1)
    login_as("admin")
    first = client.get(f"/o/{organisation.slug}/tasks/").text
    assert "Tâche 2" in first and "Tâche 0" not in first and "3 résultats" in first
    assert "Tâche 0" in client.get(f"/o/{organisation.slug}/tasks/?page=2").text


def test_empty_list(client, login_as, organisation):
    login_as("admin")
    assert "Aucune tâche" in client.get(f"/o/{organisation.slug}/tasks/").text


def test_member_cannot_list_tasks(client, login_as, organisation):
    login_as("member")
    assert client.get(f"/o/{organisation.slug}/tasks/").status_code == 403


def test_task_of_another_organisation_is_not_found(client, login_as, done_task, other_organisation):
    login_as("admin", org=other_organisation)
    assert client.get(f"/o/{other_organisation.slug}/tasks/{done_task.id}").status_code == 404
    assert client.get(f"/o/{other_organisation.slug}/tasks/{done_task.id}/progress").status_code == 404


def test_show_done_task_offers_the_download(client, login_as, done_task):
    login_as("treasurer")
    page = client.get(f"/o/{done_task.organisation.slug}/tasks/{done_task.id}")
    assert download_url(done_task) in page.text
    assert "2 lignes écrites." in page.text
    assert "processus web" in page.text  # it ran inline, and the page says so
    assert 'src="/static/tasks.js"' in page.text and "<script>" not in page.text


def test_show_active_task_has_the_progress_bar(client, login_as, organisation, app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    monkeypatch.setattr(services, "enqueue_task", lambda task: True)
    task = start_and_commit(organisation=organisation, user=None, kind="t", label="En attente", job=jobs.write_lines)
    task.move_to(TaskStatus.RUNNING)
    task.progress_done, task.progress_total, task.message = 2, 8, "Étape 2"
    db.session.flush()
    login_as("board")
    page = client.get(f"/o/{organisation.slug}/tasks/{task.id}").text
    assert '<progress class="task-progress" id="task-progress" max="100" value="25">' in page
    assert f'data-progress-url="/o/{organisation.slug}/tasks/{task.id}/progress"' in page
    data = client.get(f"/o/{organisation.slug}/tasks/{task.id}/progress").get_json()
    assert data == {"id": task.id, "status": "running", "status_label": "En cours", "done": 2, "total": 8,
                    "percent": 25, "message": "Étape 2", "finished": False}


def test_progress_of_a_done_task_gives_the_download(client, login_as, done_task):
    login_as("board")
    data = client.get(f"/o/{done_task.organisation.slug}/tasks/{done_task.id}/progress").get_json()
    assert data["finished"] is True and data["percent"] == 100
    assert data["download_url"] == download_url(done_task) and data["filename"] == "lignes.txt"


def test_failed_task_shows_the_french_message_and_retry_to_its_requester(client, login_as, organisation):
    user = login_as("board")
    task = start_and_commit(organisation=organisation, user=user, kind="t", label="t", job=jobs.fail_in_french)
    page = client.get(f"/o/{organisation.slug}/tasks/{task.id}").text
    assert "Aucune écriture pour l&#39;exercice 2026." in page and "Réessayer" in page


def test_retry_refused_to_someone_else_without_authority(client, login_as, organisation):
    task = start_and_commit(organisation=organisation, user=None, kind="t", label="t", job=jobs.fail_in_french)
    login_as("board")
    assert "Réessayer" not in client.get(f"/o/{organisation.slug}/tasks/{task.id}").text
    assert client.post(f"/o/{organisation.slug}/tasks/{task.id}/retry").status_code == 403
    login_as("treasurer")
    assert client.post(f"/o/{organisation.slug}/tasks/{task.id}/retry").status_code == 302
    assert db.session.get(Task, task.id).attempts == 2


def test_retry_needs_a_post(client, login_as, organisation):
    task = start_and_commit(organisation=organisation, user=None, kind="t", label="t", job=jobs.fail_in_french)
    login_as("admin")
    assert client.get(f"/o/{organisation.slug}/tasks/{task.id}/retry").status_code == 405


def test_expiry_deletes_old_files(client, login_as, done_task, organisation):
    path = done_task.result_abspath()
    recent = start_and_commit(organisation=organisation, user=None, kind="t", label="récent", job=jobs.write_lines)
    done_task.finished_at = utcnow() - timedelta(days=31)
    db.session.flush()
    token = done_task.download_token
    assert services.expire_results() == 1
    assert not path.exists() and recent.result_abspath().exists()
    assert done_task.status is TaskStatus.EXPIRED and done_task.download_token is None
    assert "30 jours" in done_task.message
    login_as("admin")
    assert client.get(f"/o/{organisation.slug}/tasks/{done_task.id}/download/{token}").status_code == 404
    assert "Expirée" in client.get(f"/o/{organisation.slug}/tasks/").text


def test_expiry_removes_stale_temporary_files(app, organisation):
    import os
    import time

    folder = services.task_files_dir(organisation.id)
    folder.mkdir(parents=True, exist_ok=True)
    old, new = folder / ".tmp-old.zip", folder / ".tmp-new.zip"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    services.expire_results()
    assert not old.exists() and new.exists()


def test_nav_has_the_tasks_entry(client, login_as, organisation):
    login_as("accountant")
    assert f'href="/o/{organisation.slug}/tasks/"' in client.get(f"/o/{organisation.slug}/tasks/").text


# --- job monitor -------------------------------------------------------------------------

def test_monitor_for_administrators(client, login_as, app):
    login_as("admin")
    page = client.get("/admin/jobs/")
    assert page.status_code == 200
    prefix = app.config["RQ_QUEUE_PREFIX"]
    for name in ("maintenance", "default", "bulk"):
        assert f"{prefix}-{name}" in page.text


@pytest.mark.parametrize("role", ["treasurer", "board", "accountant", "member"])
def test_monitor_refused_to_other_roles(client, login_as, role):
    login_as(role)
    assert client.get("/admin/jobs/").status_code == 403


def test_monitor_needs_a_sign_in(client, login_as):
    login_as(None)
    assert client.get("/admin/jobs/").status_code == 302


def test_monitor_hides_errors_of_other_organisations(app, organisation, real_jobs, simple_worker):
    from backoffice.tasks import monitor

    other = OrganisationFactory(slug="cpts-secrete", name="CPTS secrète")
    mine = start_and_commit(organisation=organisation, user=None, kind="t", label="t", job=jobs.crash)
    theirs = start_and_commit(organisation=other, user=None, kind="t", label="t", job=jobs.crash)
    simple_worker()
    overview = monitor.overview({organisation.id})
    errors = {f.task_id: f.error for f in overview.failed}
    assert "detail technique" in errors[mine.id]
    assert errors[theirs.id] is None
    assert sum(q.failed for q in overview.queues) == 2


def test_list_queries_do_not_grow_with_the_tasks(client, login_as, organisation, count_queries):
    from tests.factories import TaskFactory

    login_as("admin")

    def queries_for_list():
        with count_queries() as queries:
            assert client.get(f"/o/{organisation.slug}/tasks/").status_code == 200
        return queries.count

    def add_tasks(n):
        TaskFactory.create_batch(n, organisation=organisation, status=TaskStatus.FAILED, attempts=1)

    add_tasks(2)
    few = queries_for_list()
    add_tasks(10)
    assert queries_for_list() == few
