"""Membership jobs of the member side: receipts (one, or all of a period as a ZIP) and reminders.

Task jobs receive their ``Task`` row (ids in ``task.params``) and let errors propagate; the
periodic jobs commit their own work.
"""
import zipfile

from backoffice.extensions import db
from backoffice.member_portal.models import MembershipReceipt
from backoffice.membership import receipts, reminders
from backoffice.membership.models import MembershipPeriod
from backoffice.membership.services import MembershipError
from jobs import TaskFailed, periodic_job, task_job
from jobs.membership import own_row

RECEIPT_BATCH = 50


@task_job(queue="default", timeout=300)
def membership_receipt(task):
    """Produce receipt ``task.params['receipt_id']`` and e-mail it if that is still wanted.

    A retry after a mail failure renders again and mails again (the mail is what failed);
    once ``mailed_at`` is committed, it is never mailed twice.
    """
    receipt = own_row(task, MembershipReceipt, task.params["receipt_id"])
    try:
        data = receipts.generate(receipt, task=task)
    except MembershipError as exc:
        raise TaskFailed(str(exc)) from exc
    if receipt.mail_wanted:
        receipts.mail(receipt, data)
    task.report_progress(1, 1, f"Attestation n° {receipt.number} produite")


@task_job(queue="bulk", timeout=3600)
def regenerate_receipts(task):
    """Regenerate the receipts of every paid membership of period ``task.params['period_id']``
    (no mail, each with its PDF for the member) and hand the Word files over as one ZIP."""
    period = own_row(task, MembershipPeriod, task.params["period_id"])
    memberships = receipts.paid_memberships(period)
    if not memberships:
        raise TaskFailed(f"Aucune adhésion payée pour {period.label} : aucune attestation à produire.")
    total = len(memberships)
    with task.result_file(f"attestations-adhesion-{period.label}.zip") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            # By batches: one LibreOffice start-up (about 1.5 s) makes the PDFs of a whole batch.
            for start in range(0, total, RECEIPT_BATCH):
                batch = [receipts.ensure_receipt(m, mail_wanted=False) for m in memberships[start:start + RECEIPT_BATCH]]
                for receipt, data in zip(batch, receipts.generate_many(batch, task=task)):
                    archive.writestr(receipt.filename, data)
                task.report_progress(start + len(batch), total, "Attestations produites")
    task.log.info("regenerated %d receipts of period %s", total, period.id)


@task_job(queue="default", timeout=1800, retry=False)
def send_reminders(task):
    """Send today's due reminders of the organisation (the treasurer's "send them all").

    No automatic retry: a mail that failed stays due and the next run (or click) sends it.
    """
    sent, skipped = reminders.send_due_reminders(task.organisation, progress=task.report_progress)
    task.message = f"{len(sent)} relance(s) envoyée(s)" + (
        f", {len(skipped)} impossible(s) (adresse manquante ou erreur d'envoi)." if skipped else ".")
    task.report_progress(len(sent) + len(skipped), len(sent) + len(skipped), task.message)


@periodic_job(cron="0 7 * * *")
def send_membership_reminders():
    """Every morning: renewal openings and overdue reminders of every organisation."""
    return reminders.run_scheduled()


@periodic_job(interval=300)
def start_pending_receipts():
    """Receipts asked for outside a request (or whose start failed): start their task."""
    started = receipts.start_pending()
    db.session.commit()  # a job's own boundary: the tasks run once committed
    return [task.id for task in started]
