"""Banking services: bank accounts, statement import, matching lines to any target, payees'
bank details. They flush, never commit; refusals are ``BankingError`` with French messages.
"""
import re
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from backoffice.audit.services import current_actor_id
from backoffice.banking import parsers
from backoffice.banking.errors import AlreadyImported, BankingError, MappingNeeded
from backoffice.banking.models import (DEFAULT_JOURNAL, DEFAULT_LEDGER_ACCOUNT, BankAccount, BankCsvLayout,
                                       BankLineMatch, BankStatement, BankStatementLine, LineStatus, PayeeBankDetails)
from backoffice.extensions import db
from backoffice.lifecycle import move
from backoffice.models import ZERO, utcnow
from backoffice.validation import ValidationError, clean_bic, clean_iban

L = LineStatus
OPEN_STATUSES = (L.SUGGESTED, L.UNMATCHED)
DEFAULT_ACCOUNT_NAME = "Compte courant"


# --------------------------------------------------------------------------------------------
# Bank accounts
# --------------------------------------------------------------------------------------------

def clean_ledger_account(value):
    """A bank ledger account of the chart: ``512`` or a sub-account (``5121``, ``51201``)."""
    number = re.sub(r"\s", "", value or "")
    if not re.fullmatch(r"512\d{0,7}", number):
        raise BankingError("Le compte comptable d'une banque commence par 512 (par exemple 512 ou 5121).",
                           field="ledger_account")
    return number


def clean_journal_code(value):
    code = re.sub(r"\s", "", value or "").upper()
    if not re.fullmatch(r"[A-Z0-9]{1,10}", code):
        raise BankingError("Le code journal compte de 1 à 10 lettres ou chiffres (par exemple BQ).",
                           field="journal_code")
    return code


def _clean(field, cleaner, value):
    try:
        return cleaner(value)
    except ValidationError as exc:
        raise BankingError(str(exc), field=field) from None


def accounts(organisation, active_only=False):
    """The organisation's bank accounts, the default one first."""
    query = select(BankAccount).where(BankAccount.organisation_id == organisation.id)
    if active_only:
        query = query.where(BankAccount.active.is_(True))
    return list(db.session.scalars(query.order_by(BankAccount.is_default.desc(), BankAccount.name)))


def default_account(organisation):
    """The account members pay to (``None`` when the organisation has none yet)."""
    return organisation.default_bank_account


def default_account_for_update(organisation):
    """The default account, created (« Compte courant », journal BQ, account 512) when there is none."""
    account = organisation.default_bank_account
    if account is None:
        account = BankAccount(name=DEFAULT_ACCOUNT_NAME, journal_code=DEFAULT_JOURNAL,
                              ledger_account=DEFAULT_LEDGER_ACCOUNT, is_default=True, active=True)
        organisation.bank_accounts.append(account)
    return account


def set_default_account_details(organisation, iban, bic):
    """The IBAN and BIC of the organisation (settings page): those of its default account."""
    iban = _clean("iban", clean_iban, iban) if iban else None
    bic = _clean("bic", clean_bic, bic) if bic else None
    if iban or bic or organisation.default_bank_account:
        account = default_account_for_update(organisation)
        _refuse_duplicate_iban(organisation, iban, account)
        account.iban, account.bic = iban, bic
    db.session.flush()
    return organisation.default_bank_account


def _refuse_duplicate_iban(organisation, iban, account):
    if iban and any(a.iban == iban and a is not account for a in organisation.bank_accounts):
        raise BankingError("Un autre compte de l'organisation a déjà cet IBAN.", field="iban")


def _account_values(organisation, account, name, iban, bic, journal_code, ledger_account):
    name = " ".join((name or "").split())
    if not name:
        raise BankingError("Donnez un nom au compte (par exemple « Compte courant Crédit Mutuel »).", field="name")
    if len(name) > 100:
        raise BankingError("Le nom du compte compte 100 caractères au plus.", field="name")
    if any(a.name == name and a is not account for a in organisation.bank_accounts):
        raise BankingError(f"Un compte s'appelle déjà « {name} ».", field="name")
    if not iban:
        raise BankingError("Indiquez l'IBAN du compte.", field="iban")
    iban = _clean("iban", clean_iban, iban)
    _refuse_duplicate_iban(organisation, iban, account)
    return {"name": name, "iban": iban, "bic": _clean("bic", clean_bic, bic) if bic else None,
            "journal_code": clean_journal_code(journal_code), "ledger_account": clean_ledger_account(ledger_account)}


def create_account(organisation, name, iban, bic=None, journal_code=DEFAULT_JOURNAL,
                   ledger_account=DEFAULT_LEDGER_ACCOUNT, is_default=False):
    """A new bank account of ``organisation``; the first one becomes the default."""
    values = _account_values(organisation, None, name, iban, bic, journal_code, ledger_account)
    account = BankAccount(active=True, is_default=False, **values)
    organisation.bank_accounts.append(account)
    db.session.flush()
    if is_default or organisation.default_bank_account is None:
        make_default(account)
    return account


def update_account(account, name, iban, bic=None, journal_code=DEFAULT_JOURNAL, ledger_account=DEFAULT_LEDGER_ACCOUNT,
                   active=True):
    """Change an account's details; the default account cannot be deactivated."""
    values = _account_values(account.organisation, account, name, iban, bic, journal_code, ledger_account)
    if not active and account.is_default:
        raise BankingError("Le compte par défaut ne peut pas être désactivé : choisissez d'abord un autre compte "
                           "par défaut.", field="active")
    for key, value in values.items():
        setattr(account, key, value)
    account.active = bool(active)
    db.session.flush()
    return account


def make_default(account):
    """``account`` becomes the one members pay to (and direct debits collect into)."""
    if not account.active:
        raise BankingError("Un compte désactivé ne peut pas être le compte par défaut.")
    for other in account.organisation.bank_accounts:
        if other is not account and other.is_default:
            other.is_default = False
    db.session.flush()  # one default at a time: the unique index checks each row
    account.is_default = True
    db.session.flush()
    return account


# --------------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------------

def save_csv_mapping(account, mapping, columns):
    """Remember which columns of this layout of the bank's CSV export (``columns``: its header)
    hold what (see ``parsers.MAPPING_FIELDS``), for ``account`` only; the next files of the same
    layout are read with it. Refused (``BankingError``): a column missing, chosen twice…"""
    cleaned = parsers.validate_mapping(mapping, columns)
    signature = parsers.layout_signature(columns)
    layout = next((layout for layout in account.csv_layouts if layout.signature == signature), None)
    if layout is None:
        layout = BankCsvLayout(organisation_id=account.organisation_id, signature=signature)
        account.csv_layouts.append(layout)
    layout.columns, layout.mapping = [c for c in columns if c], cleaned
    account.statement_csv_mapping = cleaned  # the latest one: tried on a file of a layout not seen yet
    db.session.flush()
    return account


def csv_mapping(account, content):
    """The columns remembered for the layout of this CSV file on ``account``: the layout whose
    header the file has (wherever it sits below the account details), else the account's latest
    mapping when the file holds all its columns. Raises ``MappingNeeded`` (with the mapping the
    column names suggest) for a layout the account does not know."""
    signatures = set(parsers.row_signatures(content))
    for layout in account.csv_layouts:
        if layout.signature in signatures:
            return layout.mapping
    latest = account.statement_csv_mapping
    if latest and parsers.holds_columns(content, latest):
        return latest
    columns = parsers.csv_columns(content)
    raise MappingNeeded(columns, f"Présentation de fichier inconnue pour le compte « {account.name} » : vérifiez "
                                 "les colonnes proposées ; elles seront retenues pour les prochains relevés de ce "
                                 "compte.", guess=mapping_proposal(account, columns), account=account)


def mapping_proposal(account, columns):
    """What the mapping screen proposes for a header: the columns remembered for this layout,
    else the account's latest mapping when the file has all its columns, else the usual French
    names."""
    signature = parsers.layout_signature(columns)
    known = next((layout.mapping for layout in account.csv_layouts if layout.signature == signature), None)
    if known:
        return {key: known.get(key) for key in parsers.MAPPING_FIELDS}
    guess = parsers.guess_mapping(columns)
    latest = account.statement_csv_mapping or {}
    if latest and all(v in columns for v in latest.values() if v):
        return {key: latest.get(key) for key in parsers.MAPPING_FIELDS}
    return guess


def guess_account(organisation, content):
    """The active account a statement file is for: the one whose IBAN, RIB or account number the
    file names (CAMT's ``Acct``, a CSV's lines above its header), else the only one that knows
    the file's CSV layout, else the default account (None when the organisation has none)."""
    active = accounts(organisation, active_only=True)
    stated = parsers.stated_account(content)
    named = [a for a in active if parsers.names_account(stated, a.iban)]
    if len(named) == 1:
        return named[0]
    if parsers.detect_format(content) == "csv":
        signatures = set(parsers.row_signatures(content))
        knowing = [a for a in active if any(layout.signature in signatures for layout in a.csv_layouts)]
        if len(knowing) == 1:
            return knowing[0]
    return organisation.default_bank_account or (active[0] if active else None)


def import_statement(account, filename, content, user=None):
    """Store the new lines of a statement file of ``account`` (all ``unmatched``).

    The statement records its account, its file name, and what the import left out (account
    details, balance and total rows, pending CAMT entries) or cut (a reference longer than a line
    keeps: kept whole in ``notes``), in ``notes``. A CSV is read with the columns remembered for
    its layout on this account (``csv_mapping``). Lines the books already hold (same amount, close
    date, one candidate each way) are reconciled at once (``reconciliation.auto_reconcile``).
    Returns the ``BankStatement`` (at least one new line). Raises ``StatementFormatError``
    (nothing stored; ``StatementLinesError`` lists every unreadable row), ``MappingNeeded`` (a CSV
    layout unknown to this account) or ``AlreadyImported`` (every line already stored for this
    account: nothing recorded, not even a statement).
    Three queries and the inserts, whatever the number of lines, then reconciliation's.
    """
    mapping = csv_mapping(account, content) if parsers.detect_format(content) == "csv" else None
    parsed = parsers.read_statement(content, mapping)
    if parsed.columns and not any(layout.signature == parsers.layout_signature(parsed.columns)
                                  for layout in account.csv_layouts):
        save_csv_mapping(account, mapping, parsed.columns)  # read with the latest mapping: this layout is known now
    lines = parsed.lines
    prints = parsers.fingerprints(lines)
    imported_at = dict(db.session.execute(
        select(BankStatementLine.fingerprint, BankStatement.created_at)
        .join(BankStatementLine.statement)
        .where(BankStatementLine.bank_account_id == account.id, BankStatementLine.fingerprint.in_(prints))).all())
    known = set(imported_at)
    if known.issuperset(prints):
        raise AlreadyImported(len(lines), max(imported_at.values()))
    notes = list(parsed.notes)
    stated = parsers.stated_account(content)
    if account.iban and stated and not parsers.names_account(stated, account.iban) and any(
            parsers.names_account(stated, other.iban) for other in account.organisation.bank_accounts):
        notes.insert(0, f"Ce fichier indique un autre compte de l'organisation que « {account.name} » : "
                        "vérifiez le compte choisi.")
    statement = BankStatement(organisation_id=account.organisation_id, bank_account_id=account.id,
                              filename=_filename(filename), file_format=parsed.file_format, line_count=len(lines),
                              created_by_id=current_actor_id(user), notes=notes or None)
    db.session.add(statement)
    db.session.flush()
    new_lines = []
    for line, fingerprint in zip(lines, prints):
        if fingerprint in known:
            continue
        known.add(fingerprint)
        new_lines.append(BankStatementLine(
            organisation_id=account.organisation_id, bank_account_id=account.id, statement_id=statement.id,
            booked_on=line.booked_on, amount=line.amount, label=line.label, reference=line.reference,
            counterparty=line.counterparty, details=list(line.details) if line.details else None,
            fingerprint=fingerprint, status=L.UNMATCHED))
    db.session.add_all(new_lines)
    statement.new_line_count = len(new_lines)
    closing = parsers.closing_balance(content, mapping)
    if closing is not None:  # a file without a balance line: the treasurer types it on reconciliation
        statement.closing_date = closing[0] or max(line.booked_on for line in lines)
        statement.closing_balance = closing[1]
    db.session.flush()
    from backoffice.banking import reconciliation  # it builds on these services

    reconciliation.auto_reconcile(account, by=user)  # what the books already hold, sure matches only
    return statement


def _filename(filename):
    """The uploaded file's name as the treasurer knows it (no folders a browser may send)."""
    name = " ".join((filename or "").replace("\\", "/").rsplit("/", 1)[-1].split())
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[:199 - len(extension) - 1] + "…" + dot + extension) if dot and len(extension) <= 10 \
            else name[:199] + "…"
    return name or "relevé"


def statements(organisation, limit=20):
    """The latest statements imported into any account of the organisation."""
    return list(db.session.scalars(select(BankStatement).options(joinedload(BankStatement.bank_account))
                                   .where(BankStatement.organisation_id == organisation.id)
                                   .order_by(BankStatement.id.desc()).limit(limit)))


def open_lines_query(organisation, credits=None):
    """A ``select`` of the lines waiting for someone (suggested or unmatched); ``credits=True``
    for money in only, ``False`` for money out only. Callers add their order and options."""
    query = select(BankStatementLine).where(BankStatementLine.organisation_id == organisation.id,
                                            BankStatementLine.status.in_(OPEN_STATUSES))
    if credits is True:
        query = query.where(BankStatementLine.amount > 0)
    elif credits is False:
        query = query.where(BankStatementLine.amount < 0)
    return query


# --------------------------------------------------------------------------------------------
# Matching a line to any target
# --------------------------------------------------------------------------------------------

def _check_kind(target_kind):
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", target_kind or ""):
        raise ValueError(f"target_kind must be a table name, not {target_kind!r}")
    return target_kind


def _set_status(line, status):
    """Move ``line`` through ``LINE_LIFECYCLE`` (recorded); nothing when it is there already."""
    if line.status is not status:
        move(line, status)


def suggest(line, target_kind, target_id, rule):
    """Record what a feature proposes for an open ``line`` (the treasurer confirms later)."""
    if line.status not in OPEN_STATUSES:
        return line
    line.suggested_kind, line.suggested_id, line.match_rule = _check_kind(target_kind), target_id, rule
    _set_status(line, L.SUGGESTED)
    return line


def clear_suggestion(line):
    if line.status in OPEN_STATUSES:
        line.suggested_kind = line.suggested_id = line.match_rule = None
        _set_status(line, L.UNMATCHED)
    return line


def matched_amount(line):
    """What the line's matches already account for (signed like the line)."""
    return sum((m.amount for m in line.matches), ZERO)


def remaining(line):
    return line.amount - matched_amount(line)


def match_line(line, target_kind, target_id, amount=None, by=None):
    """Record that ``line`` (or ``amount`` of it; default: what remains) is accounted for by the
    row ``target_id`` of the table ``target_kind`` — any feature's row: a membership payment, a
    grant payment, an ACI payment, an accounting entry. Credits and debits alike.

    The line is ``matched`` once its matches add up to its amount. Refused (``BankingError``):
    an amount of the other sign, more than what remains, or the same target twice.
    """
    _check_kind(target_kind)
    left = remaining(line)
    if left == 0:
        raise BankingError(f"L'opération du {line.booked_on:%d/%m/%Y} « {line.label} » est déjà entièrement "
                           "rapprochée.")
    amount = left if amount is None else Decimal(amount)
    if amount == 0 or (amount > 0) != (line.amount > 0):
        raise BankingError(f"Le montant rapproché doit avoir le signe de l'opération du {line.booked_on:%d/%m/%Y}.")
    if abs(amount) > abs(left):
        raise BankingError(f"L'opération du {line.booked_on:%d/%m/%Y} « {line.label} » n'a plus que "
                           f"{_money(abs(left))} à rapprocher.")
    if any(m.target_kind == target_kind and m.target_id == target_id for m in line.matches):
        raise BankingError(f"L'opération du {line.booked_on:%d/%m/%Y} est déjà rapprochée de cet élément.")
    match = BankLineMatch(organisation_id=line.organisation_id, line=line, target_kind=target_kind,
                          target_id=target_id, amount=amount, matched_by_id=getattr(by, "id", None),
                          matched_at=utcnow())
    db.session.add(match)
    if amount == left:
        _set_status(line, L.MATCHED)
    try:
        db.session.flush()
    except IntegrityError:  # pragma: no cover  (two requests matched the same target at once)
        raise BankingError("Cette opération vient d'être rapprochée par quelqu'un d'autre.") from None
    return match


def unmatch(match):
    """Undo a match (e.g. the payment it recorded was reversed): the line waits again."""
    line = match.line
    line.matches.remove(match)
    db.session.delete(match)
    if line.status is L.MATCHED:
        _set_status(line, L.SUGGESTED if line.suggested_id is not None else L.UNMATCHED)
    db.session.flush()
    return line


def ignore_line(line):
    """Nobody has to act on ``line`` for now (it leaves the suggestions; it can still be
    matched later, e.g. booked by accounting)."""
    if line.matches:
        raise BankingError("Cette opération est déjà rapprochée.")
    _set_status(line, L.IGNORED)
    line.suggested_kind = line.suggested_id = line.match_rule = None
    db.session.flush()
    return line


def matches_for(target_kind, target_ids):
    """{target id: [matches]} of the rows ``target_ids`` of ``target_kind`` (one query)."""
    found = {}
    if target_ids:
        for match in db.session.scalars(select(BankLineMatch).where(
                BankLineMatch.target_kind == _check_kind(target_kind), BankLineMatch.target_id.in_(list(target_ids)))
                .order_by(BankLineMatch.id)):
            found.setdefault(match.target_id, []).append(match)
    return found


def line_counts(organisation):
    """{status: number of lines} of the organisation (credits and debits)."""
    return dict(db.session.execute(select(BankStatementLine.status, func.count())
                                   .where(BankStatementLine.organisation_id == organisation.id)
                                   .group_by(BankStatementLine.status)).all())


def _money(amount):
    from backoffice.formatting import format_money

    return format_money(amount)


# --------------------------------------------------------------------------------------------
# Payees' bank details
# --------------------------------------------------------------------------------------------

def set_payee_details(organisation, party, iban, bic=None, holder_name=None):
    """Record (or replace) where ``organisation`` pays ``party``: IBAN and BIC validated, the
    holder's name (default: the party's name, 70 characters at most as SEPA allows)."""
    if not iban:
        raise BankingError("Indiquez l'IBAN du bénéficiaire.", field="iban")
    iban = _clean("iban", clean_iban, iban)
    bic = _clean("bic", clean_bic, bic) if bic else None
    holder_name = " ".join((holder_name or party.display_name or "").split())
    if not holder_name:
        raise BankingError("Indiquez le nom du titulaire du compte.", field="holder_name")
    if len(holder_name) > 70:
        raise BankingError("Le nom du titulaire compte 70 caractères au plus.", field="holder_name")
    details = payee_details(organisation, party)
    if details is None:
        details = PayeeBankDetails(organisation_id=organisation.id, party_id=party.id)
        db.session.add(details)
    details.iban, details.bic, details.holder_name = iban, bic, holder_name
    db.session.flush()
    return details


def payee_details(organisation, party):
    """Where ``organisation`` pays ``party`` (``None`` when not recorded)."""
    return db.session.scalar(select(PayeeBankDetails).where(PayeeBankDetails.organisation_id == organisation.id,
                                                            PayeeBankDetails.party_id == party.id))


def payee_details_for(organisation, party_ids):
    """{party id: ``PayeeBankDetails``} for the parties that have some (one query)."""
    if not party_ids:
        return {}
    return {d.party_id: d for d in db.session.scalars(select(PayeeBankDetails).where(
        PayeeBankDetails.organisation_id == organisation.id, PayeeBankDetails.party_id.in_(list(party_ids))))}
