"""The documents of banking, found by ``backoffice.documents.kinds`` (``DOCUMENT_KINDS``).

* ``bank_reconciliation``: the *état de rapprochement* of a statement, in Word — the summary
  (ledger balance, what is to be deducted and added, the bank balance they give, the statement's,
  the difference) and the two lists that explain it. Context: ``document_context``; made by the
  job ``jobs.banking.reconciliation_statement`` with ``format="docx"`` (the XLSX is the default).
  A working document, so it is the task's file, not a numbered durable document.
"""
from datetime import date
from decimal import Decimal

from backoffice.documents.kinds import DocumentKind
from backoffice.formatting import format_date_short, format_money

BANK_RECONCILIATION_KIND = "bank_reconciliation"

VARIABLES = frozenset({"organisation", "logo", "account", "as_of", "summary", "message", "ledger_lines",
                       "bank_lines", "today"})


def _money(amount):
    return "" if amount is None else format_money(amount)


def document_context(result, organisation, today=None):
    """The template's context from a ``reconciliation.ReconciliationStatement``."""
    account = result.bank_account
    return {
        "organisation": organisation,
        "account": {"name": account.name, "iban": account.grouped_iban or "IBAN non renseigné",
                    "ledger_account": account.ledger_account, "journal_code": account.journal_code},
        "as_of": result.as_of,
        "summary": [{"label": label, "amount": _money(amount)} for label, amount in result.summary()],
        "message": result.message,
        "ledger_lines": [{"date": format_date_short(l.entry_date), "reference": l.reference, "piece": l.piece_ref,
                          "label": l.label, "debit": _money(l.amount) if l.amount > 0 else "",
                          "credit": _money(-l.amount) if l.amount < 0 else ""} for l in result.ledger_not_in_bank],
        "bank_lines": [{"date": format_date_short(o.line.booked_on), "label": o.line.label,
                        "credit": _money(o.left) if o.left > 0 else "", "debit": _money(-o.left) if o.left < 0 else ""}
                       for o in result.bank_not_in_ledger],
        "today": today or date.today(),
    }


def sample_context():
    """A CPTS's March statement, for the template checker (no database)."""
    from types import SimpleNamespace

    m = format_money
    return {
        "organisation": SimpleNamespace(name="CPTS du Pays Blanc"), "logo": None,
        "account": {"name": "Compte courant", "iban": "FR76 1027 8060 3100 0202 0600 117", "ledger_account": "512",
                    "journal_code": "BQ"},
        "as_of": date(2026, 3, 31),
        "summary": [{"label": "Solde comptable du 512 au 31/03/2026", "amount": m(Decimal("16316.42"))},
                    {"label": "Solde du relevé au 31/03/2026", "amount": m(Decimal("16586.42"))}],
        "message": "Le compte est rapproché.",
        "ledger_lines": [{"date": "28/03/2026", "reference": "2026-00007", "piece": "CHQ-4521",
                          "label": "Chèque n° 4521 – expert-comptable", "debit": "", "credit": m(Decimal("300"))}],
        "bank_lines": [{"date": "31/03/2026", "label": "COMMISSION D'INTERVENTION", "credit": "",
                        "debit": m(Decimal("8"))}],
        "today": date(2026, 4, 2),
    }


DOCUMENT_KINDS = [
    DocumentKind(key=BANK_RECONCILIATION_KIND, label="État de rapprochement bancaire",
                 description="Solde comptable, écritures non passées en banque, opérations du relevé non "
                             "comptabilisées et solde bancaire, au jour du relevé.",
                 variables=VARIABLES, sample_context=sample_context, download_permission="banking.manage"),
]
