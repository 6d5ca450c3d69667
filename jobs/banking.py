"""Banking jobs: the reconciliation statement (*état de rapprochement*) of a bank statement.

The figures are ``backoffice.banking.reconciliation.reconciliation_statement``'s; this job only
writes them as a workbook (``backoffice.spreadsheets``) or a Word document (the kind
``bank_reconciliation``): the summary, the lines of the books not on the bank, the bank lines
not in the books. A reconciliation that does not add up produces no
file: the task fails with the French message giving both balances and the difference.
"""
from jobs import TaskFailed, task_job

SUMMARY_HEADER = ("Rubrique", "Montant")
LEDGER_HEADER = ("Date", "Écriture", "Pièce", "Libellé", "Débit", "Crédit")
BANK_HEADER = ("Date", "Libellé", "Référence", "Crédit", "Débit")
FORMATS = ("xlsx", "docx")


def statement_sheets(result):
    """The three ``Sheet`` of an état de rapprochement (``ReconciliationStatement``)."""
    from backoffice.spreadsheets import Sheet

    account = result.bank_account
    summary = [(f"Compte bancaire : {account.name} ({account.grouped_iban or 'IBAN non renseigné'})", None),
               *result.summary()]
    ledger = [(l.entry_date, l.reference, l.piece_ref, l.label, l.amount if l.amount > 0 else None,
               -l.amount if l.amount < 0 else None) for l in result.ledger_not_in_bank]
    bank = [(o.line.booked_on, o.line.label, o.line.reference, o.left if o.left > 0 else None,
             -o.left if o.left < 0 else None) for o in result.bank_not_in_ledger]
    return [Sheet("État de rapprochement", SUMMARY_HEADER, summary),
            Sheet("Écritures non en banque", LEDGER_HEADER, ledger),
            Sheet("Opérations non en compta", BANK_HEADER, bank)]


@task_job(queue="default", timeout=600)
def reconciliation_statement(task):
    """Params: ``statement_id``, ``format`` (xlsx, the default, or docx: the Word document
    ``bank_reconciliation``). Result: ``etat-rapprochement-<account>-<date>.<format>``, built
    from scratch on every run."""
    from backoffice.banking import reconciliation
    from backoffice.banking.models import BankStatement
    from backoffice.extensions import db
    from backoffice.spreadsheets import write_xlsx

    statement = db.session.get(BankStatement, int(task.params["statement_id"]))
    if statement is None or statement.organisation_id != task.organisation_id:
        raise TaskFailed("Ce relevé n'existe plus.")
    try:
        result = reconciliation.check(statement)
    except reconciliation.ReconciliationError as error:
        raise TaskFailed(str(error)) from None
    fmt = task.params.get("format", "xlsx")
    if fmt not in FORMATS:
        raise TaskFailed(f"Format inconnu : {fmt}.")
    slug = "".join(c if c.isalnum() else "-" for c in statement.bank_account.name.lower()).strip("-")[:40]
    filename = f"etat-rapprochement-{slug}-{result.as_of:%Y-%m-%d}.{fmt}"
    if fmt == "xlsx":
        with task.result_file(filename) as target:
            write_xlsx(statement_sheets(result), target)
    else:
        from backoffice.banking.documents import BANK_RECONCILIATION_KIND, document_context
        from backoffice.documents.errors import DocumentError
        from backoffice.documents.services import render_document

        try:
            data = render_document(task.organisation, BANK_RECONCILIATION_KIND,
                                   document_context(result, task.organisation))
        except DocumentError as error:  # a broken uploaded template: say so
            raise TaskFailed(str(error)) from None
        with task.result_file(filename) as target:
            target.write(data)
    task.report_progress(1, 1, "État de rapprochement écrit")
    task.message = (f"État de rapprochement au {result.as_of:%d/%m/%Y} : {len(result.ledger_not_in_bank)} écriture(s) "
                    f"non passée(s) en banque, {len(result.bank_not_in_ledger)} opération(s) non comptabilisée(s).")
