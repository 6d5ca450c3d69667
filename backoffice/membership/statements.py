"""Bank statements, membership's side: which membership each credit pays, and the payments
the treasurer confirms. Reading files, storing lines and recording matches belong to
``backoffice.banking``; this module only adds membership's rules (``matching``).

Statements are imported into the bank account chosen, else the one the file names (IBAN, RIB,
account number) or whose CSV layout it has, else the default one (``banking.guess_account``). A line's suggestion is
``suggested_kind="memberships"``/``suggested_id`` (``BankStatementLine.membership``); a
confirmed line is matched to the ``membership_payments`` row it recorded.
"""
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from backoffice.banking import services as banking
# Re-exported: the views and the demo know them from here.
from backoffice.banking.errors import (AlreadyImported, MappingNeeded, StatementFormatError,  # noqa: F401
                                      StatementLinesError)
from backoffice.banking.models import BankStatementLine, LineStatus
from backoffice.banking import parsers
from backoffice.banking.parsers import MAPPING_FIELDS, csv_columns, csv_rows, decode  # noqa: F401
from backoffice.extensions import db
from backoffice.membership import matching, services
from backoffice.membership.models import (OPEN_STATUSES, Membership, MembershipSettings, MembershipStatus,
                                          PaymentMethod)
from backoffice.membership.services import MembershipError
from backoffice.people.models import Professional

L = LineStatus
# What a line suggests and what a confirmed line is matched to (banking's target kinds).
SUGGESTED_KIND, PAYMENT_KIND = "memberships", "membership_payments"


def _account(organisation, account=None, content=None):
    """The bank account a statement goes to: the one chosen, else the one the file names (or
    whose CSV layout it has), else the default one."""
    if account is not None:
        if account.organisation_id != organisation.id or not account.active:
            raise MembershipError("Choisissez un compte bancaire utilisé de l'organisation.")
        return account
    account = banking.guess_account(organisation, content) if content else banking.default_account(organisation)
    if account is None:
        raise MembershipError("Renseignez d'abord l'IBAN de l'organisation (compte bancaire) avant d'importer "
                              "un relevé.")
    return account


def detect_format(content):
    return parsers.detect_format(content)


def guess_account(organisation, content):
    return banking.guess_account(organisation, content)


def mapping_proposal(organisation, columns, account=None):
    """What the column-mapping screen proposes for a CSV header on ``account`` (default: the
    default account): its latest columns when the file has them, else the usual French names."""
    account = account or banking.default_account(organisation)
    return banking.mapping_proposal(account, columns) if account else parsers.guess_mapping(columns)


def preview_rows(content, count=12):
    """The first rows of a CSV file, for the column-mapping screen."""
    return csv_rows(decode(content))[:count]


def recent_statements(organisation):
    return banking.statements(organisation)


def save_csv_mapping(organisation, mapping, columns, account=None):
    """Remember the columns of this CSV layout for ``account`` (default: the default account)."""
    return banking.save_csv_mapping(_account(organisation, account), mapping, columns)


def import_statement(organisation, filename, content, user=None, account=None):
    """Import a statement into ``account`` (default: the account the file names, else the
    default one, see ``banking.guess_account``) and suggest a membership for each credit.

    Returns the ``BankStatement``; raises banking's ``StatementFormatError``, ``MappingNeeded``
    or ``AlreadyImported`` (see ``banking.services.import_statement``).
    """
    statement = banking.import_statement(_account(organisation, account, content), filename, content, user=user)
    suggest_matches(organisation, [line for line in statement.lines if line.is_credit])
    return statement


def _candidate(membership):
    party = membership.party
    if isinstance(party, Professional):
        last, first = party.last_name or "", party.first_name or ""
    else:
        last, first = party.display_name, ""
    return matching.Candidate(membership.id, membership.payment_reference, last, first, membership.amount_due,
                              membership.balance, membership.status in OPEN_STATUSES)


# Any payment reference as ``services.new_payment_reference`` builds them (a prefix of letters, at
# most as long as the setting's column, two digits of the year, a code), compacted. Not only the
# current prefix: references issued before the treasurer changed it are still being paid. The
# lookahead finds every start, so "VIRSEPAADH267KQ4M" gives "PAADH267KQ4M", "AADH267KQ4M",
# "ADH267KQ4M"… down to "H267KQ4M": only those that are some membership's reference count.
ANY_REFERENCE = re.compile(
    rf"(?=([A-Z]{{1,{MembershipSettings.__table__.c.reference_prefix.type.length}}}\d{{2}}"
    rf"[{services.REFERENCE_ALPHABET}]{{{services.REFERENCE_LENGTH}}}))")


def suggest_matches(organisation, lines):
    """Suggest a membership (banking's ``suggested_kind``/``suggested_id``, ``match_rule``) for
    unmatched credit ``lines``, or leave them unmatched.

    At most two queries whatever the number of lines: the memberships whose reference appears in
    some line (whatever prefix it was issued under), and the open memberships (name and amount).
    """
    if not lines:
        return
    found_refs = set()
    for line in lines:
        found_refs |= matching.references_in(line.text, ANY_REFERENCE)
    by_reference = {}
    if found_refs:
        wanted = [r[:-services.REFERENCE_LENGTH] + "-" + r[-services.REFERENCE_LENGTH:] for r in found_refs]
        for membership in db.session.scalars(select(Membership).options(joinedload(Membership.party)).where(
                Membership.organisation_id == organisation.id, Membership.payment_reference.in_(wanted),
                Membership.status.not_in([MembershipStatus.CANCELLED, MembershipStatus.EXEMPT]))):
            by_reference[matching.compact(membership.payment_reference)] = _candidate(membership)
    amounts = {line.amount for line in lines}
    by_amount = defaultdict(list)
    for membership in db.session.scalars(select(Membership).options(joinedload(Membership.party)).where(
            Membership.organisation_id == organisation.id, Membership.status.in_(OPEN_STATUSES))):
        candidate = _candidate(membership)
        for amount in {candidate.balance, candidate.amount_due} & amounts:
            by_amount[amount].append(candidate)
    for line in lines:
        result = matching.match_line(line.text, line.amount, by_reference, by_amount.get(line.amount, []),
                                     ANY_REFERENCE)
        if result.found:
            banking.suggest(line, SUGGESTED_KIND, result.membership_id, result.rule)
        else:
            banking.clear_suggestion(line)
    db.session.flush()


def lines_to_review(organisation):
    """Credits waiting for the treasurer: suggestions first, then unmatched, oldest first
    (debits are no membership's: they wait for other features, e.g. accounting)."""
    return list(db.session.scalars(
        banking.open_lines_query(organisation, credits=True)
        .options(joinedload(BankStatementLine.membership).joinedload(Membership.party),
                 joinedload(BankStatementLine.membership).joinedload(Membership.period))
        .order_by(case((BankStatementLine.status == L.SUGGESTED, 0), (BankStatementLine.status == L.UNMATCHED, 1),
                       else_=2),
                  BankStatementLine.booked_on, BankStatementLine.id)))


@dataclass(frozen=True)
class OpenMembershipChoice:
    id: int
    reference: str
    name: str
    balance: Decimal


def open_membership_choices(organisation, limit=2000):
    """Memberships still expecting money, for the review screen's pickers: the member's name
    as written everywhere else (« François BRIÈRE »), sorted by the folded name."""
    from backoffice.membership.stats import party_entity

    party = party_entity()
    rows = db.session.execute(
        select(Membership.id, Membership.payment_reference, Membership.amount_due, Membership.amount_paid, party)
        .join(party, Membership.party_id == party.id)
        .where(Membership.organisation_id == organisation.id, Membership.status.in_(OPEN_STATUSES))
        .order_by(party.sort_name, Membership.id).limit(limit))
    return [OpenMembershipChoice(row.id, row.payment_reference, row[4].display_name, row.amount_due - row.amount_paid)
            for row in rows]


def typed_reference(text):
    """The payment reference in what the treasurer typed in a line's « Adhésion » field, compacted
    (``ADH267KQ4M``), or ``""``: the reference itself in any case, spaces around it or in place of
    its hyphen tolerated, or the whole text of a suggestion, « Anne LE FLOCH — ADH26-7KQ4M (reste
    50,00 €) » (the reference is what follows the last dash, before the parenthesis)."""
    text = (text or "").strip()
    if "—" in text:
        text = text.rsplit("—", 1)[1].split("(", 1)[0]
    return matching.compact(text)


def _line_name(line):
    return f"l'opération du {line.booked_on:%d/%m/%Y} « {line.label} »"


def resolve_typed_memberships(organisation, typed):
    """{line id: membership id} for what the treasurer typed in each confirmed line's field.

    ``typed``: {line id: text}. Each text must name a membership of ``organisation`` by its
    payment reference (see ``typed_reference``); names alone are not guessed. Lines no longer
    waiting for review keep their membership (``confirm_lines`` skips them: a double submission
    stays harmless). Raises ``MembershipError`` naming every line (date, label) whose text names
    no membership of the organisation, so the caller records nothing of the submission.
    Two queries whatever the number of lines.
    """
    typed = {int(line_id): text or "" for line_id, text in typed.items()}
    if not typed:
        return {}
    lines = list(db.session.scalars(select(BankStatementLine).where(
        BankStatementLine.organisation_id == organisation.id, BankStatementLine.id.in_(typed))
        .order_by(BankStatementLine.booked_on, BankStatementLine.id)))
    if len(lines) != len(typed):
        raise MembershipError("Ligne de relevé introuvable.")
    wanted = {line_id: typed_reference(text) for line_id, text in typed.items()}
    stored = {r[:-services.REFERENCE_LENGTH] + "-" + r[-services.REFERENCE_LENGTH:]
              for r in wanted.values() if len(r) > services.REFERENCE_LENGTH}
    by_reference = {}
    if stored:
        by_reference = {matching.compact(m.payment_reference): m.id for m in db.session.scalars(
            select(Membership).where(Membership.organisation_id == organisation.id,
                                     Membership.payment_reference.in_(stored)))}
    resolved, refused = {}, []
    for line in lines:
        if line.status not in (L.SUGGESTED, L.UNMATCHED):
            resolved[line.id] = line.suggested_id
        elif wanted[line.id] in by_reference:
            resolved[line.id] = by_reference[wanted[line.id]]
        elif not wanted[line.id]:
            refused.append(f"choisissez l'adhésion que paie {_line_name(line)}")
        else:
            shown = " ".join(typed[line.id].split())
            shown = shown if len(shown) <= 60 else shown[:59] + "…"
            refused.append(f"aucune adhésion n'a la référence « {shown} » ({_line_name(line)})")
    if refused:
        raise MembershipError("Rien n'a été enregistré : " + " ; ".join(refused)
                              + ". Choisissez l'adhésion dans la liste en tapant le nom ou la référence du membre.")
    return resolved


def confirm_lines(organisation, choices, user=None):
    """Record a transfer payment for each (line, membership) the treasurer confirmed.

    ``choices``: {line id: membership id}. Lines already matched are skipped (a double
    submission records nothing twice: each payment's idempotency key is the line's id).
    Returns the payments recorded.
    """
    payments = []
    for line_id, membership_id in choices.items():
        line = db.session.get(BankStatementLine, int(line_id))
        if line is None or line.organisation_id != organisation.id:
            raise MembershipError("Ligne de relevé introuvable.")
        if line.status not in (L.SUGGESTED, L.UNMATCHED) or not line.is_credit:
            continue
        membership = db.session.get(Membership, int(membership_id)) if membership_id else None
        if membership is None or membership.organisation_id != organisation.id:
            raise MembershipError(f"Choisissez l'adhésion que paie l'opération du {line.booked_on:%d/%m/%Y}.")
        try:
            payment = services.record_payment(
                membership, line.amount, PaymentMethod.TRANSFER, line.booked_on, reference=line.reference or None,
                payer_name=line.counterparty, note=line.label[:250], source="statement",
                idempotency_key=f"statement-line:{line.id}", user=user)
        except services.DuplicateSubmission:
            continue
        if line.suggested_id != membership.id:  # the treasurer chose another membership
            banking.suggest(line, SUGGESTED_KIND, membership.id, None)
        banking.match_line(line, PAYMENT_KIND, payment.id, line.amount, by=user)
        payments.append(payment)
    db.session.flush()
    return payments


def ignore_line(line):
    """The treasurer says a credit is not a membership fee (a grant, a refund from a supplier…)."""
    return banking.ignore_line(line)
