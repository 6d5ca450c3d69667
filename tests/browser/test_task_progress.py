"""The task page in a real browser: tasks.js follows the progress, then offers the download."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import seed_user

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

PASSWORD = "une phrase assez longue"


def _running_task():
    from backoffice.extensions import db
    from backoffice.organisations.models import Organisation
    from backoffice.tasks.models import Task, TaskStatus

    organisation = db.session.query(Organisation).filter_by(slug="cpts-test").one()
    task = Task(organisation_id=organisation.id, kind="accounting.export", label="Export de test",
                job_name="tests.tasks.jobs_for_tests.write_lines", params={}, status=TaskStatus.QUEUED,
                progress_done=0, attempts=0)
    db.session.add(task)
    db.session.flush()
    task.move_to(TaskStatus.RUNNING)
    task.progress_done, task.progress_total, task.message = 1, 4, "Ligne 1"
    return task.id


def _progress(task_id, done, message):
    from backoffice.extensions import db
    from backoffice.tasks.models import Task

    task = db.session.get(Task, task_id)
    task.progress_done, task.message = done, message


def _finish(task_id):
    from backoffice.extensions import db
    from backoffice.tasks.models import Task, TaskStatus

    task = db.session.get(Task, task_id)
    with task.result_file("export.csv", mode="w", encoding="utf-8") as f:
        f.write("a;b\n")
    task.message = "4 lignes exportées."
    task.move_to(TaskStatus.DONE)


def test_progress_bar_then_download(live_app, signed_in_page):
    live_app.run(seed_user, "tresoriere@example.org", {"cpts-test": ["treasurer"]}, password=PASSWORD)
    task_id = live_app.run(_running_task)
    page = signed_in_page("tresoriere@example.org", PASSWORD)
    page.goto(f"/o/cpts-test/tasks/{task_id}")
    bar = page.locator("progress#task-progress")
    expect(bar).to_have_attribute("value", "25")
    expect(page.locator("#task-message")).to_contain_text("1 / 4 Ligne 1")

    live_app.run(_progress, task_id, 3, "Ligne 3")
    expect(bar).to_have_js_property("value", 75)  # updated by tasks.js, without reloading
    expect(page.locator("#task-message")).to_contain_text("3 / 4 Ligne 3")

    live_app.run(_finish, task_id)
    link = page.get_by_role("link", name="Télécharger export.csv")
    expect(link).to_be_visible()  # the page reloaded itself once the task was finished
    expect(page.get_by_text("4 lignes exportées.")).to_be_visible()
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "export.csv"
    expect(page).to_have_url(re.compile(rf"/o/cpts-test/tasks/{task_id}$"))
