"""Jobs that issue durable documents, for the tests (each also writes a task result file)."""
from backoffice.documents import generated
from jobs import TaskFailed, task_job


def _issue(task):
    document = generated.issue_document(task.organisation, "membership_receipt", ("memberships", 4242),
                                        "Attestation d'adhésion de Léa Le Goff".encode(),
                                        filename="attestation-adhésion.docx", task=task, year=2026)
    with task.result_file("attestation-adhésion.docx") as handle:
        handle.write(document.abspath().read_bytes())
    return document


@task_job(queue="default", timeout=60)
def issue_a_receipt(task):
    _issue(task)


@task_job(queue="default", timeout=60)
def issue_then_fail(task):
    _issue(task)
    raise TaskFailed("Le courriel n'est pas parti.")
