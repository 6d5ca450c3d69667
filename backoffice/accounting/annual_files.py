"""The files of the annual accounts, made by the job ``jobs.accounting.annual_accounts_file``:

* the workbook (XLSX): « Compte de résultat », « Bilan actif », « Bilan passif » (both years
  side by side) and « Budget » (budget, réalisé, écart, écart %), amounts as numeric cells;
* the context of the Word document ``annual_accounts`` (``backoffice/accounting/documents.py``):
  the two statements, the budget, and the figures of the *rapport financier* skeleton the
  treasurer completes (computed sentences, and placeholders « [À compléter : …] » for what only
  she can write).

Both are built from the same ``annual.AnnualAccounts`` and ``budget.BudgetReport`` as the
screens: what the AG reads is what the treasurer saw.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from backoffice.accounting import annual, budget
from backoffice.formatting import format_money
from backoffice.models import ZERO
from backoffice.spreadsheets import Sheet, write_xlsx

HEADINGS = {"line": "", "total": "total", "result": "résultat", "heading": "rubrique"}


def _flatten(items, with_gross=False):
    """``[(kind, label, row or None)]`` of a statement's blocks and result rows, in order."""
    out = []
    for item in items:
        if isinstance(item, annual.Block):
            if not item.rows:
                continue
            out.append(("heading", item.label.upper(), None))
            out.extend(("line", row.label, row) for row in item.rows)
            out.append(("total", item.total.label, item.total))
        else:
            out.append(("result", item.label, item))
    return out


def statement_rows(accounts):
    """The compte de résultat as ``[(kind, label, row)]`` (contributions en nature last)."""
    rows = _flatten(accounts.income_statement)
    if any(block.rows for block in accounts.in_kind):
        rows += _flatten(accounts.in_kind)
    return rows


def assets_rows(accounts):
    return _flatten(accounts.assets) + [("result", accounts.total_assets.label, accounts.total_assets)]


def liabilities_rows(accounts):
    return _flatten(accounts.liabilities) + [("result", accounts.total_liabilities.label, accounts.total_liabilities)]


def budget_rows(report):
    """``[(kind, BudgetRow)]``: each side's lines and total, then the result."""
    rows = []
    for side in (report.charges, report.income):
        rows.append(("heading", side))
        rows.extend(("line", row) for row in side.rows)
        rows.append(("total", side.total))
    rows.append(("result", report.result))
    return rows


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------

def workbook_sheets(accounts, report):
    year, previous = accounts.year, accounts.previous_year

    def amounts(row):
        return (row.current, row.previous) if row is not None else (None, None)

    income = [(label, HEADINGS[kind], *amounts(row)) for kind, label, row in statement_rows(accounts)]
    assets = [(label, HEADINGS[kind],
               *((row.gross if kind != "heading" else None, row.depreciation if kind != "heading" else None)
                 if row is not None else (None, None)), *amounts(row))
              for kind, label, row in assets_rows(accounts)]
    liabilities = [(label, HEADINGS[kind], *amounts(row)) for kind, label, row in liabilities_rows(accounts)]
    budget_sheet = []
    for kind, item in budget_rows(report):
        if kind == "heading":
            budget_sheet.append(("", item.label.upper(), "rubrique", None, None, None, None))
            continue
        budget_sheet.append((item.prefix if kind == "line" else "", item.label, HEADINGS[kind], item.budget, item.actual,
                             item.gap if item.budget is not None else None,
                             item.gap_percent))
    return [
        Sheet("Compte de résultat", ("Poste", "Type", f"Exercice {year}", f"Exercice {previous}"), income),
        Sheet("Bilan actif", ("Poste", "Type", f"Brut {year}", f"Amortissements et dépréciations {year}",
                              f"Net {year}", f"Net {previous}"), assets),
        Sheet("Bilan passif", ("Poste", "Type", f"Exercice {year}", f"Exercice {previous}"), liabilities),
        Sheet(f"Budget {year}", ("Compte", "Libellé", "Type", "Budget", "Réalisé", "Écart", "Écart (%)"),
              budget_sheet),
    ]


def write_workbook(organisation, year, target):
    """The workbook of ``year`` into ``target`` (a path or a binary file); ``{sheet: rows}``."""
    accounts = annual.annual_accounts(organisation, year)
    report = budget.budget_report(organisation, year)
    return write_xlsx(workbook_sheets(accounts, report), target)


# --------------------------------------------------------------------------------------------
# Word: the context of ``annual_accounts``
# --------------------------------------------------------------------------------------------

def _money_or_blank(value):
    return "" if value is None else format_money(value)


def _table(rows, with_gross=False):
    out = []
    for kind, label, row in rows:
        item = {"kind": kind, "label": label, "current": "", "previous": "", "gross": "", "depreciation": ""}
        if row is not None:
            item.update(current=format_money(row.current), previous=format_money(row.previous))
            if with_gross and row.depreciation:
                item.update(gross=format_money(row.gross), depreciation=format_money(row.depreciation))
        out.append(item)
    return out


def _change_text(current, previous):
    """« en hausse de 12,5 % », « stable », or « sans exercice précédent à comparer »."""
    if not previous:
        return "sans montant l'exercice précédent à comparer"
    change = ((current - previous) * 100 / abs(previous)).quantize(Decimal("0.1"))
    if change == 0:
        return "stable par rapport à l'exercice précédent"
    word = "en hausse" if change > 0 else "en baisse"
    return f"{word} de {str(abs(change)).replace('.', ',')} % par rapport à l'exercice précédent"


def _share_text(part, whole):
    if not whole:
        return "—"
    return f"{str((part * 100 / whole).quantize(Decimal('0.1'))).replace('.', ',')} %"


def _main_lines(accounts, statement, total):
    lines = [row for key, row in accounts.lines.items()
             if annual.SECTION_BY_KEY[annual.LINE_BY_KEY[key].section].statement == statement and row.current]
    lines.sort(key=lambda row: -abs(row.current))
    return [{"label": row.label, "amount": format_money(row.current), "share": _share_text(row.current, total),
             "change": _change_text(row.current, row.previous)} for row in lines[:6]]


def placeholder(what):
    """The text the treasurer replaces: visible, in brackets, saying what to write."""
    return f"[À compléter : {what}]"


def report_figures(accounts, report):
    """The computed figures of the rapport financier (all text, ready to print)."""
    lines = accounts.lines
    result = accounts.result.current
    treasury = lines["cash"].current + lines["securities"].current - lines["bank_debts"].current
    own_funds = next(block.total for block in accounts.liabilities if block.key == "own_funds")
    return {
        "total_income": format_money(accounts.total_income.current),
        "total_income_change": _change_text(accounts.total_income.current, accounts.total_income.previous),
        "total_expense": format_money(accounts.total_expense.current),
        "total_expense_change": _change_text(accounts.total_expense.current, accounts.total_expense.previous),
        "result": format_money(abs(result)),
        "result_word": "excédent" if result >= 0 else "déficit",
        "result_the": "l'excédent" if result >= 0 else "le déficit",
        "previous_result": format_money(abs(accounts.result.previous)),
        "previous_result_word": "excédent" if accounts.result.previous >= 0 else "déficit",
        "fees": format_money(lines["fees"].current),
        "fees_change": _change_text(lines["fees"].current, lines["fees"].previous),
        "subsidies": format_money(lines["subsidies"].current),
        "subsidies_share": _share_text(lines["subsidies"].current, accounts.total_income.current),
        "payroll": format_money(lines["salaries"].current + lines["social_charges"].current),
        "payroll_share": _share_text(lines["salaries"].current + lines["social_charges"].current,
                                     accounts.total_expense.current),
        "dedicated_funds": format_money(lines["dedicated_funds"].current),
        "dedicated_funds_previous": format_money(lines["dedicated_funds"].previous),
        "dedicated_funds_set_aside": format_money(lines["dedicated_funds_set_aside"].current),
        "dedicated_funds_used": format_money(lines["dedicated_funds_used"].current),
        "own_funds": format_money(own_funds.current),
        "own_funds_previous": format_money(own_funds.previous),
        "treasury": format_money(treasury),
        "treasury_previous": format_money(lines["cash"].previous + lines["securities"].previous
                                          - lines["bank_debts"].previous),
        "receivables": format_money(lines["member_receivables"].current + lines["other_receivables"].current),
        "debts": format_money(next(block.total for block in accounts.liabilities if block.key == "debts").current),
        "total_balance_sheet": format_money(accounts.total_assets.current),
        "budget_result": format_money(report.result.budget),
        "budget_income": format_money(report.income.total.budget),
        "budget_expense": format_money(report.charges.total.budget),
        "budget_income_done": _share_text(report.income.total.actual, report.income.total.budget),
        "budget_expense_done": _share_text(report.charges.total.actual, report.charges.total.budget),
        "main_income": _main_lines(accounts, "income", accounts.total_income.current),
        "main_expense": _main_lines(accounts, "expense", accounts.total_expense.current),
    }


PLACEHOLDERS = {
    "introduction": placeholder("le contexte de l'exercice (actions menées, évolution du nombre d'adhérents, "
                                "faits marquants)"),
    "income_comment": placeholder("les raisons des principales variations des produits"),
    "expense_comment": placeholder("les raisons des principales variations des charges"),
    "dedicated_funds_comment": placeholder("les financements concernés (ACI, FIR…), ce qui reste à réaliser et "
                                           "le calendrier d'utilisation"),
    "balance_sheet_comment": placeholder("la situation financière : trésorerie, créances à recouvrer, dettes"),
    "budget_comment": placeholder("les écarts au budget prévisionnel et leurs causes"),
    "next_budget": placeholder("les grandes lignes du budget prévisionnel de l'exercice suivant"),
    "allocation": placeholder("l'affectation proposée : report à nouveau, réserves (réserve pour projet "
                              "associatif…)"),
    "conclusion": placeholder("la conclusion du trésorier et les résolutions soumises à l'assemblée"),
}


def document_context_from(organisation_context, accounts, report, treasurer, place, today):
    """The variables of ``annual_accounts`` (pure: used for the sample context too)."""
    return {
        "organisation": organisation_context,
        "year": accounts.year, "previous_year": accounts.previous_year,
        "start": accounts.start, "end": accounts.end,
        "opening_missing": accounts.opening_missing,
        "income_statement": _table(statement_rows(accounts)),
        "assets": _table(assets_rows(accounts), with_gross=True),
        "liabilities": _table(liabilities_rows(accounts)),
        "budget": [{"kind": kind,
                    "prefix": item.prefix if kind == "line" else "",
                    "label": item.label.upper() if kind == "heading" else item.label,
                    "budget": "" if kind == "heading" else _money_or_blank(item.budget),
                    "actual": "" if kind == "heading" else format_money(item.actual),
                    "gap": "" if kind == "heading" or item.budget is None else format_money(item.gap),
                    "percent": "" if kind == "heading" or item.budget is None else item.gap_percent_text}
                   for kind, item in budget_rows(report)],
        "figures": report_figures(accounts, report),
        "text": dict(PLACEHOLDERS),
        "treasurer": treasurer or placeholder("nom du trésorier"),
        "place": place or placeholder("lieu"),
        "today": today,
    }


def document_context(organisation, year):
    from backoffice.documents.services import organisation_context
    from backoffice.organisations.affiliations import Role, current_holder

    accounts = annual.annual_accounts(organisation, year)
    report = budget.budget_report(organisation, year)
    holder = current_holder(organisation, Role.TREASURER)
    return document_context_from(organisation_context(organisation), accounts, report,
                                 holder.display_name if holder else None, organisation.city, date.today())


def sample_context():
    """A CPTS's year, for the template checker (no database)."""
    from types import SimpleNamespace

    B = annual.Balance
    d = Decimal
    current = [B("411", 1, d("30.00"), ZERO),
               B("411", 2, ZERO, d("50.00")), B("756", None, ZERO, d("4280.00")), B("745", None, ZERO, d("42000.00")),
               B("741", None, ZERO, d("15000.00")), B("441", None, d("5000.00"), ZERO),
               B("6411", None, d("33600.00"), ZERO), B("6451", None, d("13800.00"), ZERO),
               B("431", None, ZERO, d("1760.00")), B("6132", None, d("5400.00"), ZERO),
               B("6894", None, d("6000.00"), ZERO), B("194", None, ZERO, d("6000.00")),
               B("102", None, ZERO, d("10000.00")), B("110", None, ZERO, d("14000.00"))]
    current.append(B("512", None, -sum((b.balance for b in current), ZERO), ZERO))  # a balanced year
    previous = [B("512", None, d("24000.00"), ZERO), B("102", None, ZERO, d("10000.00")),
                B("110", None, ZERO, d("14000.00"))]
    fake = SimpleNamespace(id=0, fiscal_year_bounds=lambda y: (date(y, 1, 1), date(y, 12, 31)))
    accounts = annual.build(fake, 2026, current, previous)
    lines = [SimpleNamespace(account_prefix="64", label="Salaires et charges", amount=d("48000.00"), id=1),
             SimpleNamespace(account_prefix="74", label="Subventions", amount=d("55000.00"), id=2)]
    report = budget.build_budget_report(2026, lines, current)
    return document_context_from({"name": "CPTS du Pays Blanc", "address": "2 rue des Halles\n44350 Guérande",
                                  "city": "Guérande", "siren": "812 345 676"},
                                 accounts, report, "Claire MORVAN", "Guérande", date(2027, 5, 20))


VARIABLES = frozenset({"organisation", "logo", "year", "previous_year", "start", "end", "opening_missing",
                       "income_statement", "assets", "liabilities", "budget", "figures", "text", "treasurer",
                       "place", "today"})
