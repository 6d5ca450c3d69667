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
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import flag_modified

from backoffice.banking import services as banking
# Re-exported: the views and the demo know them from here.
from backoffice.banking.errors import (AlreadyImported, MappingNeeded, StatementFormatError,  # noqa: F401
                                      StatementLinesError)
from backoffice.banking.models import BankLineMatch, BankStatementLine, LineStatus
from backoffice.banking import parsers
from backoffice.banking.parsers import MAPPING_FIELDS, csv_columns, csv_rows, decode  # noqa: F401
from backoffice.extensions import db
from backoffice.membership import matching, services
from backoffice.membership.models import (OPEN_STATUSES, ChequeDeposit, Membership, MembershipPeriod,
                                          MembershipSettings, MembershipStatus, PaymentMethod)
from backoffice.membership.services import MembershipError
from backoffice.people.models import Party, PartyKind

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


# Any payment reference as ``services.new_payment_reference`` builds them (a prefix of letters, at
# most as long as the setting's column, two digits of the year, a code), compacted. Not only the
# current prefix: references issued before the treasurer changed it are still being paid. The
# lookahead finds every start, so "VIRSEPAADH267KQ4M" gives "PAADH267KQ4M", "AADH267KQ4M",
# "ADH267KQ4M"… down to "H267KQ4M": only those that are some membership's reference count.
ANY_REFERENCE = re.compile(
    rf"(?=([A-Z]{{1,{MembershipSettings.__table__.c.reference_prefix.type.length}}}\d{{2}}"
    rf"[{services.REFERENCE_ALPHABET}]{{{services.REFERENCE_LENGTH}}}))")
DEPOSIT_KIND = "membership_cheque_deposits"   # banking's target kind for a deposit slip
DEPOSIT_DAYS = (45, 5)   # a slip is on the statement up to 45 days after it was made (or 5 before)


def _stored_reference(compacted):
    return compacted[:-services.REFERENCE_LENGTH] + "-" + compacted[-services.REFERENCE_LENGTH:]


def _candidates(organisation, references, with_numbers):
    """``matching.Candidate`` of the memberships matching may propose, in one query (columns
    only: 10,000 open memberships are read in a fraction of a second): those expecting money,
    those whose generated reference is in ``references``, and, with the association's own
    scheme, those with a member number (every year: a reference of another year)."""
    parties = Party.__table__
    wanted = Membership.status.in_(OPEN_STATUSES)
    if references:
        wanted = wanted | Membership.payment_reference.in_(sorted(references))
    if with_numbers:
        wanted = wanted | Membership.member_number.is_not(None)
    rows = db.session.execute(
        select(Membership.id, Membership.payment_reference, Membership.amount_due, Membership.amount_paid,
               Membership.status, Membership.party_id, Membership.member_number, MembershipPeriod.year,
               parties.c.kind, parties.c.first_name, parties.c.last_name, parties.c.name)
        .join(MembershipPeriod, MembershipPeriod.id == Membership.period_id)
        .join(parties, parties.c.id == Membership.party_id)
        .where(Membership.organisation_id == organisation.id,
               Membership.status.not_in([MembershipStatus.CANCELLED, MembershipStatus.EXEMPT]), wanted))
    found, structure_kind, zero, waiting = [], PartyKind.STRUCTURE.value, services.ZERO, set(OPEN_STATUSES)
    for (membership_id, reference, due, paid, status, party_id, number, year, kind, first, last, name) in rows:
        structure = kind == structure_kind
        left = due - paid
        found.append(matching.Candidate(
            membership_id, reference, (name if structure else last) or "", "" if structure else first or "", due,
            left if left > zero else zero, status in waiting, party_id, year, number, structure))
    return found


def matcher_for(organisation, texts):
    """A ``matching.Matcher`` for statement lines of these ``texts`` (two queries at most)."""
    settings = services.get_settings(organisation)
    scheme = services.reference_scheme(settings)
    found_refs = set()
    for text in texts:
        found_refs |= matching.references_in(text, ANY_REFERENCE)
    candidates = _candidates(organisation, {_stored_reference(r) for r in found_refs}, scheme is not None)
    by_reference = {matching.compact(c.reference): c for c in candidates}
    by_number = defaultdict(list)
    for c in candidates:
        if c.member_number:
            by_number[matching.number_key(c.member_number)].append(c)
    return matching.Matcher([c for c in candidates if c.is_open], by_reference, by_number,
                            [scheme] if scheme else [], ANY_REFERENCE)


def suggest_matches(organisation, lines):
    """Suggest a membership (banking's ``suggested_kind``/``suggested_id``, ``match_rule``) for
    the open credit ``lines``, with what matching found in ``match_details`` (flags,
    candidates, the kind of a line that is no membership fee, pre-ticked or not); a cheque
    deposit is suggested the deposit slip of the same total (``DEPOSIT_KIND``).

    A few queries whatever the number of lines (settings, memberships, deposit slips)."""
    lines = [line for line in lines if line.is_credit and line.status in (L.SUGGESTED, L.UNMATCHED)]
    if not lines:
        return
    matcher = matcher_for(organisation, [line.text for line in lines])
    results = [(line, matcher.match(line.text, line.amount)) for line in lines]
    deposits = [line for line, result in results if result.kind == "cheque_deposit"]
    slips = _deposit_suggestions(organisation, deposits) if deposits else {}
    for line, result in results:
        details = result.details()
        if line.id in slips:
            slip_ids = slips[line.id]
            details.update(candidates=[], deposits=slip_ids, preticked=len(slip_ids) == 1)
            if len(slip_ids) == 1:
                banking.suggest(line, DEPOSIT_KIND, slip_ids[0], "deposit")
            else:
                banking.clear_suggestion(line)
        elif result.found:
            banking.suggest(line, SUGGESTED_KIND, result.membership_id or result.parts[0][0], result.rule)
        else:
            banking.clear_suggestion(line)
        line.match_details = details
        # Every line updated with the same columns: the flush sends them as one executemany
        # (mixed column sets would be one UPDATE per run of alike lines, growing with the lines).
        for column in _SUGGESTION_COLUMNS:
            flag_modified(line, column)
    db.session.flush()


_SUGGESTION_COLUMNS = ("status", "suggested_kind", "suggested_id", "match_rule", "match_details")


def _deposit_suggestions(organisation, lines):
    """{line id: [deposit slip ids]} of the slips of each line's total made within
    ``DEPOSIT_DAYS`` of it and not yet on the statement, nearest first (one query)."""
    from backoffice.accounting.models import JournalEntry, JournalLine
    from backoffice.banking.reconciliation import TARGET
    from backoffice.membership.deposits import deposit_source

    taken = select(BankLineMatch.target_id).where(BankLineMatch.target_kind == DEPOSIT_KIND)
    slips = list(db.session.scalars(select(ChequeDeposit).where(
        ChequeDeposit.organisation_id == organisation.id, ChequeDeposit.total.in_({line.amount for line in lines}),
        ChequeDeposit.id.not_in(taken))))
    if slips:   # a slip whose posting reconciliation already found on the statement is there already
        on_statement = set(db.session.scalars(
            select(JournalEntry.source).join(JournalLine, JournalLine.entry_id == JournalEntry.id)
            .join(BankLineMatch, (BankLineMatch.target_kind == TARGET) & (BankLineMatch.target_id == JournalLine.id))
            .where(JournalEntry.organisation_id == organisation.id,
                   JournalEntry.source.in_([deposit_source(d) for d in slips]))))
        slips = [d for d in slips if deposit_source(d) not in on_statement]
    found = {}
    for line in lines:
        fits = [d for d in slips if d.total == line.amount
                and -DEPOSIT_DAYS[1] <= (line.booked_on - d.deposited_on).days <= DEPOSIT_DAYS[0]]
        if fits:
            found[line.id] = [d.id for d in sorted(fits, key=lambda d: abs((line.booked_on - d.deposited_on).days))]
    return found


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


FLAG_LABELS = matching.FLAG_LABELS
KIND_LABELS = matching.KIND_LABELS
SPLIT_PARTS = 4   # parts offered on the review screen


def named_memberships(organisation, lines):
    """{membership id: « Anne LE FLOCH — ADH26-7KQ4M (reste 50,00 €) »} of the memberships the
    lines' details name (candidates, parts of a split), and {"deposit:<id>": slip} (two queries)."""
    from backoffice.formatting import format_money
    from backoffice.membership.stats import party_entity

    ids, slips = set(), set()
    for line in lines:
        details = line.match_details or {}
        ids.update(details.get("candidates", []))
        ids.update(int(m) for m, _ in details.get("parts", []))
        slips.update(details.get("deposits", []))
    named = {}
    if ids:
        party = party_entity()
        for row in db.session.execute(
                select(Membership.id, Membership.payment_reference, Membership.amount_due, Membership.amount_paid,
                       party).join(party, Membership.party_id == party.id)
                .where(Membership.organisation_id == organisation.id, Membership.id.in_(ids))):
            left = max(row.amount_due - row.amount_paid, services.ZERO)
            named[row.id] = f"{row[4].display_name} — {row.payment_reference} (reste {format_money(left)})"
    if slips:
        for slip in db.session.scalars(select(ChequeDeposit).where(ChequeDeposit.organisation_id == organisation.id,
                                                                   ChequeDeposit.id.in_(slips))):
            named[f"deposit:{slip.id}"] = f"{slip} — {format_money(slip.total)}"
    return named


def _memberships_typed(organisation, typed):
    """{key: membership id or None} of the references typed in ``typed`` ({key: text}): ours
    (``ADH26-7KQ4M``, spaces and case tolerated) and the association's own, as written or with
    its usual variations (``cot 2026 60`` for ``COT2026/00060``). One query."""
    scheme = services.reference_scheme(services.get_settings(organisation))
    forms = {}
    for key, text in typed.items():
        wanted = typed_reference(text)
        shown = " ".join((text or "").split())
        if "—" in shown:
            shown = shown.rsplit("—", 1)[1].split("(", 1)[0].strip()
        stored = {shown} if shown else set()
        if len(wanted) > services.REFERENCE_LENGTH:
            stored.add(_stored_reference(wanted))
        if scheme is not None:
            stored |= {scheme.format(number, year) for year, number in scheme.find(shown) if year is not None}
        forms[key] = ({wanted} if wanted else set()) | {matching.compact(r) for r in stored}, stored
    every = sorted(set().union(*(stored for _, stored in forms.values()))) if forms else []
    by_reference = {}
    if every:
        by_reference = {matching.compact(m.payment_reference): m.id for m in db.session.scalars(
            select(Membership).where(Membership.organisation_id == organisation.id,
                                     Membership.payment_reference.in_(every)))}
    return {key: next((by_reference[c] for c in sorted(compacted) if c in by_reference), None)
            for key, (compacted, _) in forms.items()}


def resolve_parts(organisation, parts):
    """``[(membership id, amount)]`` of the split parts typed on the review screen (the member's
    reference, as in a line's field, and the amount as typed); refused like the lines' fields."""
    if not parts:
        return []
    found = _memberships_typed(organisation, {n: text for n, (text, _) in enumerate(parts)})
    resolved = []
    for n, (text, amount) in enumerate(parts):
        if found[n] is None:
            raise MembershipError(f"Rien n'a été enregistré : aucune adhésion n'a la référence « {text.strip()} » "
                                  f"(part {n + 1}).")
        resolved.append((found[n], amount))
    return resolved


def _line_name(line):
    return f"l'opération du {line.booked_on:%d/%m/%Y} « {line.label} »"


def resolve_typed_memberships(organisation, typed):
    """{line id: membership id} for what the treasurer typed in each confirmed line's field.

    ``typed``: {line id: text}. Each text must name a membership of ``organisation`` by its
    payment reference (see ``typed_reference``); names alone are not guessed. Lines no longer
    waiting for review keep their membership (``confirm_lines`` skips them: a double submission
    stays harmless). Raises ``MembershipError`` naming every line (date, label) whose text names
    no membership of the organisation, so the caller records nothing of the submission.
    Three queries whatever the number of lines (the settings say how the association writes references).
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
    found = _memberships_typed(organisation, typed)
    resolved, refused = {}, []
    for line in lines:
        if line.status not in (L.SUGGESTED, L.UNMATCHED):
            resolved[line.id] = line.suggested_id
        elif found[line.id] is not None:
            resolved[line.id] = found[line.id]
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


def _open_credit(organisation, line_id):
    line = db.session.get(BankStatementLine, int(line_id))
    if line is None or line.organisation_id != organisation.id:
        raise MembershipError("Ligne de relevé introuvable.")
    return line


def _pay(line, membership, amount, key, user):
    """Record ``amount`` of ``line`` as a transfer paying ``membership`` and match it (None when
    that part was already recorded: a double submission)."""
    try:
        payment = services.record_payment(
            membership, amount, PaymentMethod.TRANSFER, line.booked_on, reference=(line.reference or "")[:100] or None,
            payer_name=line.counterparty, note=line.label[:250], source="statement", idempotency_key=key, user=user)
    except services.DuplicateSubmission:
        return None
    banking.match_line(line, PAYMENT_KIND, payment.id, amount, by=user)
    return payment


def confirm_lines(organisation, choices, user=None):
    """Record a transfer payment for each (line, membership) the treasurer confirmed.

    ``choices``: {line id: membership id}. Lines already matched are skipped (a double
    submission records nothing twice: each payment's idempotency key is the line's id). A
    membership already paid takes the money as credit, an overpayment keeps its surplus as
    credit (``services.record_payment``). The lines still open are matched again afterwards
    (a member paid by one line is « already paid » for the next). Returns the payments recorded.
    """
    payments = []
    for line_id, membership_id in choices.items():
        line = _open_credit(organisation, line_id)
        if line.status not in (L.SUGGESTED, L.UNMATCHED) or not line.is_credit:
            continue
        membership = db.session.get(Membership, int(membership_id)) if membership_id else None
        if membership is None or membership.organisation_id != organisation.id:
            raise MembershipError(f"Choisissez l'adhésion que paie l'opération du {line.booked_on:%d/%m/%Y}.")
        if line.suggested_kind != SUGGESTED_KIND or line.suggested_id != membership.id:
            banking.suggest(line, SUGGESTED_KIND, membership.id, None)  # the treasurer chose another membership
        payment = _pay(line, membership, line.amount, f"statement-line:{line.id}", user)
        if payment is not None:
            payments.append(payment)
    db.session.flush()
    if payments:
        refresh_suggestions(organisation)
    return payments


def confirm_split(organisation, line_id, parts, user=None):
    """Record one credit ``line_id`` as several payments: ``parts`` is ``[(membership id,
    amount)]`` (amounts as ``Decimal`` or as typed, ``30,00``). The parts must add up to the
    credit exactly, each to a different membership of the organisation that takes payments;
    otherwise ``MembershipError`` names what is wrong and nothing is recorded. Returns the payments.
    """
    from backoffice import money
    from backoffice.errors import ServiceError
    from backoffice.formatting import format_money

    line = _open_credit(organisation, line_id)
    what = _line_name(line)
    if line.status not in (L.SUGGESTED, L.UNMATCHED) or not line.is_credit or line.matches:
        raise MembershipError(f"Rien n'a été enregistré : {what} est déjà rapprochée.")
    cleaned, seen = [], set()
    for position, (membership_id, amount) in enumerate(parts, start=1):
        if membership_id in (None, "") and amount in (None, ""):
            continue
        membership = db.session.get(Membership, int(membership_id)) if str(membership_id or "").isdigit() else None
        if membership is None or membership.organisation_id != organisation.id:
            raise MembershipError(f"Rien n'a été enregistré : choisissez l'adhésion de la part {position} de {what}.")
        if membership.id in seen:
            raise MembershipError(f"Rien n'a été enregistré : {membership.party.display_name} figure deux fois "
                                  f"dans la répartition de {what}.")
        seen.add(membership.id)
        try:
            value = amount if isinstance(amount, Decimal) else money.parse_amount(amount)
        except ServiceError as exc:
            raise MembershipError(f"Rien n'a été enregistré : part {position} de {what} : {exc}") from None
        if value is None or value <= 0:
            raise MembershipError(f"Rien n'a été enregistré : indiquez un montant positif pour la part {position} "
                                  f"de {what}.")
        cleaned.append((membership, value))
    if len(cleaned) < 2:
        raise MembershipError(f"Rien n'a été enregistré : une répartition de {what} compte au moins deux parts.")
    total = sum((value for _, value in cleaned), services.ZERO)
    if total != line.amount:
        gap = line.amount - total
        raise MembershipError(
            f"Rien n'a été enregistré : les parts font {format_money(total)} et {what} {format_money(line.amount)} "
            f"(il {'manque' if gap > 0 else 'y a'} {format_money(abs(gap))}{'' if gap > 0 else ' de trop'}). "
            "Les parts doivent faire exactement le montant reçu.")
    payments = []
    with db.session.begin_nested():   # every part or none
        for membership, value in cleaned:
            payment = _pay(line, membership, value, f"statement-line:{line.id}:{membership.id}", user)
            if payment is not None:
                payments.append(payment)
    db.session.flush()
    refresh_suggestions(organisation)
    return payments


def confirm_deposits(organisation, choices, user=None):
    """Reconcile each cheque deposit line with its deposit slip: ``choices`` {line id: slip id}.
    Refused (nothing recorded): a slip of another total, or already on the statement."""
    from backoffice.formatting import format_money

    done = []
    for line_id, deposit_id in choices.items():
        line = _open_credit(organisation, line_id)
        if line.status not in (L.SUGGESTED, L.UNMATCHED) or not line.is_credit:
            continue
        deposit = db.session.get(ChequeDeposit, int(deposit_id)) if str(deposit_id or "").isdigit() else None
        if deposit is None or deposit.organisation_id != organisation.id:
            raise MembershipError(f"Choisissez le bordereau de remise de {_line_name(line)}.")
        if deposit.total != line.amount:
            raise MembershipError(f"{deposit} fait {format_money(deposit.total)} et {_line_name(line)} "
                                  f"{format_money(line.amount)} : ce n'est pas cette remise.")
        if banking.matches_for(DEPOSIT_KIND, [deposit.id]):
            raise MembershipError(f"{deposit} est déjà rapprochée d'une opération du relevé.")
        done.append(banking.match_line(line, DEPOSIT_KIND, deposit.id, line.amount, by=user))
    db.session.flush()
    return done


def refresh_suggestions(organisation):
    """Match again the credits still waiting (after a confirmation: what is left to pay changed)."""
    suggest_matches(organisation, list(db.session.scalars(banking.open_lines_query(organisation, credits=True))))


def ignore_line(line):
    """The treasurer says a credit is not a membership fee (a grant, a refund from a supplier…)."""
    return banking.ignore_line(line)


def ignore_lines(organisation, line_ids):
    """Ignore the open lines ``line_ids`` of the organisation at once (those already matched are
    left alone); returns how many were ignored."""
    ids = [int(i) for i in line_ids]
    if not ids:
        return 0
    lines = db.session.scalars(banking.open_lines_query(organisation).where(BankStatementLine.id.in_(ids))
                               .options(selectinload(BankStatementLine.matches)))
    done = 0
    for line in lines:
        if not line.matches:
            banking.ignore_line(line)
            done += 1
    return done


def other_lines(lines):
    """The lines matching recognised as no membership fee (deposits, payouts, subsidies,
    internal transfers) and not suggested anything."""
    return [line for line in lines if (line.match_details or {}).get("kind") and line.suggested_id is None]
