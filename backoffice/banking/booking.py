"""Booking a statement line that is no feature's (bank fees, insurance, a subsidy, salaries, a
transfer between the organisation's own accounts) straight from the statement: one entry in the
bank account's journal, D/C its ledger account (``512…``) against the account the treasurer
chose, reconciled with the line at once.

Rules remembered by label (``BankLabelRule``, per organisation): « MAIF » → 616. The next
statements *propose* the account of the rule whose keyword the line's label contains (the
longest keyword wins; two of the same length naming different accounts propose nothing); the
treasurer confirms each booking.

Undoing such a reconciliation (``reconciliation.unreconcile``) reverses the entry booked (a
*contre-passation*: money is never deleted); booking the line again posts a new entry.

Services flush, never commit; refusals are ``ReconciliationError`` in French, raised before
anything is written, or by ``post_entry`` — the caller rolls back (the views use a savepoint).
"""
from __future__ import annotations

import re

from sqlalchemy import func, or_, select

from backoffice.audit.services import current_actor_id
from backoffice.banking import reconciliation, services as banking
from backoffice.banking.models import BankLabelRule, BankStatementLine
from backoffice.banking.parsers import fold_words
from backoffice.banking.reconciliation import ReconciliationError
from backoffice.extensions import db

# Words of bank labels that say how money moved, not who it is: never a rule's keyword on their own.
BANK_WORDS = {"prlv", "prelevement", "prelev", "sepa", "vir", "virement", "virt", "recu", "emis", "de", "du", "des",
              "la", "le", "les", "en", "votre", "faveur", "cb", "carte", "paiement", "ech", "echeance", "ref", "n",
              "no", "sct", "sdd", "inst", "instantane", "pour", "par", "a", "au", "aux", "et", "fr", "mandat",
              "ics", "rum", "mme", "m", "mr", "dr", "ste"}


def fold_keyword(text):
    return " ".join(fold_words(text))


# --------------------------------------------------------------------------------------------
# The account a line is booked to
# --------------------------------------------------------------------------------------------

def bookable_account(organisation, number, bank_account=None):
    """The ``Account`` ``number`` of the organisation's chart a statement line may be booked to:
    it exists and is active, names no third party (a member's or beneficiary's payment is
    reconciled with that payment), and is not the bank's own ledger account."""
    from backoffice.accounting.errors import AccountingError
    from backoffice.accounting.services import ensure_ledger, get_account

    number = re.sub(r"\s", "", str(number or ""))
    if not number:
        raise ReconciliationError("Indiquez le compte (par exemple 616 pour une assurance).", field="account_number")
    ensure_ledger(organisation)
    try:
        account = get_account(organisation, number)
    except AccountingError as exc:
        raise ReconciliationError(f"{exc} Choisissez un compte du plan comptable.", field="account_number") from None
    if account.collective:
        raise ReconciliationError(
            f"Le compte {account.number} « {account.label} » est un compte de tiers : rapprochez l'opération du "
            "paiement de l'adhérent, du bénéficiaire ou de l'associé au lieu de la comptabiliser ici.",
            field="account_number")
    if bank_account is not None and account.number == bank_account.ledger_account:
        raise ReconciliationError(
            f"Le compte {account.number} est celui de la banque elle-même : pour un virement entre vos comptes, "
            "choisissez 580 (virements internes) ou le compte 512 de l'autre compte bancaire.",
            field="account_number")
    return account


def _source(line):
    """``bank_statement_lines:<id>``, qualified by a number when the line was booked before
    (booked, then that reconciliation undone, then booked again to another account)."""
    from backoffice.accounting.models import JournalEntry
    from backoffice.accounting.services import posting_source

    base = posting_source(BankStatementLine, line.id)
    earlier = db.session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.organisation_id == line.organisation_id,
        or_(JournalEntry.source == base, JournalEntry.source.like(base + ":%"))))
    return base if not earlier else posting_source(BankStatementLine, line.id, earlier + 1)


def booked_entry(match):
    """The entry booked from the statement (``book_line``) that ``match`` reconciles its line
    with — its source is the line's — or None (a line of the books posted by anything else)."""
    from backoffice.accounting.models import JournalEntry, JournalLine
    from backoffice.accounting.services import posting_source

    if match.target_kind != reconciliation.TARGET:
        return None
    journal_line = db.session.get(JournalLine, match.target_id)
    if journal_line is None:
        return None
    entry = db.session.get(JournalEntry, journal_line.entry_id)
    base = posting_source(BankStatementLine, match.line_id)
    source = entry.source or ""
    return entry if source == base or source.startswith(base + ":") else None


def book_line(line, account_number, label=None, remember=None, by=None):
    """Book what is left of statement ``line`` to ``account_number`` and reconcile them: an
    entry in the bank account's journal dated like the line, D ledger account / C the account
    for money in, the other way for money out. ``remember``: a keyword of the label (« MAIF »)
    whose lines are to be proposed this account next time. Returns the entry."""
    from backoffice.accounting.errors import AccountingError
    from backoffice.accounting.services import EntryLineSpec, post_entry

    bank_account = line.bank_account
    organisation = bank_account.organisation
    open_line = next(o for o in reconciliation.position(bank_account).lines if o.line.id == line.id)
    left = open_line.left
    if left == 0:
        raise ReconciliationError(f"L'opération du {line.booked_on:%d/%m/%Y} « {line.label} » est déjà rapprochée.")
    if line.matches and open_line.reconciled == 0:
        raise ReconciliationError(f"L'opération du {line.booked_on:%d/%m/%Y} est déjà affectée à un paiement : "
                                  "défaites d'abord cette affectation.")
    account = bookable_account(organisation, account_number, bank_account)
    label = " ".join((label or line.label).split())[:200]
    amount = abs(left)
    bank, other = (EntryLineSpec(bank_account.ledger_account, debit=amount),
                   EntryLineSpec(account, credit=amount)) if left > 0 else \
        (EntryLineSpec(bank_account.ledger_account, credit=amount), EntryLineSpec(account, debit=amount))
    piece_ref = (line.reference or f"Relevé {line.statement_id} ligne {line.id}")[:60]
    try:
        entry = post_entry(organisation, bank_account.journal_code, line.booked_on, piece_ref, label,
                           [bank, other] if left > 0 else [other, bank], source=_source(line), user=by)
    except AccountingError as exc:
        raise ReconciliationError(str(exc), field=exc.field) from None
    ledger_line = next(jl for jl in entry.lines if jl.account.number == bank_account.ledger_account)
    banking.match_line(line, reconciliation.TARGET, ledger_line.id, left, by=by)
    if remember:
        save_rule(organisation, remember, account.number, by=by)
    return entry


def book_proposed(bank_account, line_ids, by=None):
    """Book each of ``line_ids`` (statement lines of ``bank_account``) to the account its rule
    proposes — the treasurer ticked them on the screen. Refused, naming the line, when one has no
    proposal any more; the caller rolls back the whole submission. Returns the entries."""
    all_rules = rules(bank_account.organisation)
    wanted = {int(line_id) for line_id in line_ids}
    lines = list(db.session.scalars(select(BankStatementLine).where(
        BankStatementLine.bank_account_id == bank_account.id, BankStatementLine.id.in_(wanted))
        .order_by(BankStatementLine.booked_on, BankStatementLine.id)))
    if len(lines) != len(wanted):
        raise ReconciliationError("Opération du relevé introuvable.")
    entries = []
    for line in lines:
        rule = proposed_rule(all_rules, line)
        if rule is None:
            raise ReconciliationError(f"Aucune règle ne propose de compte pour l'opération du "
                                      f"{line.booked_on:%d/%m/%Y} « {line.label} » : rien n'a été comptabilisé.")
        entries.append(book_line(line, rule.account_number, by=by))
    return entries


# --------------------------------------------------------------------------------------------
# Rules remembered by label
# --------------------------------------------------------------------------------------------

def rules(organisation):
    return list(db.session.scalars(select(BankLabelRule).where(BankLabelRule.organisation_id == organisation.id)
                                   .order_by(BankLabelRule.keyword)))


def save_rule(organisation, keyword, account_number, rule=None, by=None):
    """Create (or, with ``rule``, change) the rule « labels containing ``keyword`` → account ».
    A keyword already ruled is updated to the new account (the treasurer's latest choice)."""
    keyword = " ".join((keyword or "").split())
    folded = fold_keyword(keyword)
    if len(folded.replace(" ", "")) < 2:
        raise ReconciliationError("Indiquez un mot du libellé d'au moins deux lettres (par exemple MAIF).",
                                  field="keyword")
    if len(keyword) > 100:
        raise ReconciliationError("Le mot du libellé compte 100 caractères au plus.", field="keyword")
    if set(folded.split()) <= BANK_WORDS:
        raise ReconciliationError(f"« {keyword} » figure dans les libellés de toutes sortes d'opérations : choisissez "
                                  "un mot qui désigne le tiers (par exemple MAIF, URSSAF).", field="keyword")
    account = bookable_account(organisation, account_number)
    same = db.session.scalar(select(BankLabelRule).where(BankLabelRule.organisation_id == organisation.id,
                                                         BankLabelRule.folded_keyword == folded))
    if rule is not None and same is not None and same is not rule:
        raise ReconciliationError(f"Une règle existe déjà pour « {same.keyword} ».", field="keyword")
    rule = rule or same
    if rule is None:
        rule = BankLabelRule(organisation_id=organisation.id, created_by_id=current_actor_id(by))
        db.session.add(rule)
    rule.keyword, rule.folded_keyword, rule.account_number = keyword, folded, account.number
    db.session.flush()
    return rule


def delete_rule(rule):
    db.session.delete(rule)
    db.session.flush()


def proposed_rule(all_rules, line):
    """The rule whose keyword the line's text contains as whole words (None: no rule, or two
    equally long keywords naming different accounts)."""
    text = f" {fold_keyword(line.text)} "
    fits = [rule for rule in all_rules if f" {rule.folded_keyword} " in text]
    if not fits:
        return None
    longest = max(len(rule.folded_keyword) for rule in fits)
    best = [rule for rule in fits if len(rule.folded_keyword) == longest]
    return best[0] if len({rule.account_number for rule in best}) == 1 else None


def suggested_keyword(line):
    """A keyword to remember for the line: its counterparty, else the first word of its label
    that says who rather than how (« PRLV SEPA MAIF ASSURANCE » → « MAIF »)."""
    if line.counterparty:
        return " ".join(line.counterparty.split())[:100]
    for word in fold_words(line.label):
        if word not in BANK_WORDS and not word.isdigit() and len(word) > 1 and not re.fullmatch(r"x?\d+", word):
            return word.upper()
    return ""
