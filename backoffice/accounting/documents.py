"""The documents of the accounting, found by ``backoffice.documents.kinds`` (``DOCUMENT_KINDS``).

* ``annual_accounts``: the annual accounts for the AG and the accountant — compte de résultat
  and bilan (ANC 2018-06 presentation, previous year beside), budget against actual, and the
  *rapport financier* skeleton: computed figures and « [À compléter : …] » placeholders the
  treasurer replaces. Context: ``accounting.annual_files.document_context``; made by the job
  ``jobs.accounting.annual_accounts_file`` (Word, or PDF through LibreOffice). A working
  document the treasurer edits, so it is the task's file, not a numbered durable document.
"""
from backoffice.accounting.annual_files import VARIABLES, sample_context
from backoffice.documents.kinds import DocumentKind

ANNUAL_ACCOUNTS_KIND = "annual_accounts"

DOCUMENT_KINDS = [
    DocumentKind(key=ANNUAL_ACCOUNTS_KIND, label="Comptes annuels et rapport financier",
                 description="Compte de résultat, bilan, budget et réalisé, et le rapport financier à compléter "
                             "par le trésorier, pour l'assemblée générale.",
                 variables=VARIABLES, sample_context=sample_context, download_permission="accounting.export"),
]
