"""Opening balances (*à-nouveaux*), the result carried, and its allocation after the AG's vote.

A fiscal year's books open with **one AN entry** dated its first day, in the AN journal (kind
``opening``): every balance-sheet account (classes 1 to 5) with the previous year's closing
balance, the collective accounts (members' 411, beneficiaries' 467, associates' 4551…) **one
line per auxiliary account** with a balance, and the previous year's result (classes 6 and 7)
carried to 120 (surplus) or 129 (deficit). Nothing else: classes 6 and 7 start from zero, and
an AN that does not balance (class 8 not netting to zero) is refused in French, nothing written.

    from backoffice.accounting import opening

    entry = opening.generate_opening(cpts, 2027)          # provisional while 2026 is open
    status = opening.opening_status(cpts, 2027)           # .entry, .definitive, .up_to_date, .result
    entry = opening.allocate_result(cpts, 2026, {"110": Decimal("800.00"), "1068": Decimal("434.56")},
                                    decided_on=date(2027, 6, 12), resolution=resolution)

**Provisional, then definitive.** While the previous year is open, its balances still move, so
the AN is *provisional*: a posted entry like any other (the new year's trial balance, member
accounts and lettering need it), regenerated on demand. Replacing it never deletes it: the
provisional entry is **reversed** (a *contre-passation* dated the same day, in the AN journal)
and the new one posted — "never delete money", and the immutability triggers stay untouched
(a draft that would be rewritten in place was the alternative; it would have kept the AN out of
every report, since reports read posted entries only). Regenerating when nothing changed posts
nothing. The AN becomes *definitive* when the previous year is closed and the AN in force
carries its (now frozen) balances: ``close_fiscal_year`` regenerates it then, so it is the last
replacement. There is no status column: "definitive" is read from the closed period and the
comparison of the AN in force with the closing balances, which cannot drift once the year is
closed.

**Closing balances of a year** are the sum of its posted entries (its own AN included). A year
that has no AN in force while earlier years have entries (books kept before the AN existed)
starts, for this computation, from the carried closing balances of the year before — so an
opening is right even when an intermediate year was never given one.

**Lettering stays inside each year.** The AN line of an auxiliary account stands for the old
year's open items of that account (their net, on the same side): the new year's payments are
lettered against the AN line, never against the old items. A balanced lettering code cannot
join the old items and the AN line (they are on the same side and would need a closing line
in the old year, which would empty its balance sheet), so the separation is kept by the
lettering itself: ``lettering.auto_letter`` never letters together lines on either side of a
year that has an AN in force (see ``lettering.lettering_segments``).

**Affectation du résultat**: after the AG's vote, an OD entry moves the result from 120 (or
129) to 110/119 *report à nouveau* and/or reserves (106x), the amounts summing to the result.
The resolution voted, if given, is named on the entry's piece reference.

Services flush, never commit.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from backoffice.accounting.books import (
    _fr,
    chart_account,
    clean_amount,
    closed_period_containing,
    ensure_ledger,
)
from backoffice.accounting.errors import AccountingError
from backoffice.accounting.rules import ALLOCATION_EVENT, OPENING_EVENT
from backoffice.accounting.models import (
    Account,
    AccountTotal,
    AuxiliaryAccount,
    EntryStatus,
    Journal,
    JournalEntry,
    JournalKind,
    Ledger,
)
from backoffice.accounting.lettering import unletter
from backoffice.accounting.posting import EntryLineSpec, post_entry, reversal_of, reverse_entry
from backoffice.accounting.settings import add_journal
from backoffice.accounting.sources import opening_source, posting_source
from backoffice.extensions import db
from backoffice.models import ZERO

log = logging.getLogger(__name__)

BALANCE_SHEET_CLASSES = frozenset("12345")
RESULT_CLASSES = frozenset("67")
SURPLUS_ACCOUNT = "120"
DEFICIT_ACCOUNT = "129"
#: Where a result may go: reserves (106x), report à nouveau créditeur / débiteur.
ALLOCATION_PREFIXES = ("106", "110", "119")
#: A SISA's result may also go to its associates' current accounts, by their shares.
ASSOCIATES_ACCOUNT = "4551"


def _year_label(organisation, year):
    return f"{year}" if organisation.fiscal_year_start_month == 1 else f"{year}-{year + 1}"


# --------------------------------------------------------------------------------------------
# Balances
# --------------------------------------------------------------------------------------------

@dataclass
class YearBalances:
    """What a fiscal year ends with: ``balances`` per ``(account number, auxiliary id)`` of the
    balance-sheet accounts (debit minus credit, zero balances left out), the result (income
    minus expenses), and the net of the other classes (8: should be zero)."""

    year: int
    balances: dict = field(default_factory=dict)
    result: Decimal = ZERO
    other: Decimal = ZERO

    def carried(self):
        """The opening balances of the next year: the balance-sheet balances, the result added
        to 120 (a surplus, on the credit side) or 129 (a deficit, on the debit side)."""
        opening = dict(self.balances)
        if self.result:
            key = (SURPLUS_ACCOUNT if self.result > 0 else DEFICIT_ACCOUNT, None)
            opening[key] = opening.get(key, ZERO) - self.result
            if not opening[key]:
                del opening[key]
        return opening


def _movements(organisation, year):
    """``{(account number, auxiliary id): debit - credit}`` of the posted entries of ``year``,
    read from the totals kept at posting (``AccountTotal``), not summed from the year's lines."""
    rows = db.session.execute(
        select(Account.number, AccountTotal.auxiliary_key,
               func.sum(AccountTotal.debit) - func.sum(AccountTotal.credit))
        .select_from(AccountTotal)
        .join(Account, AccountTotal.account_id == Account.id)
        .where(AccountTotal.organisation_id == organisation.id, AccountTotal.fiscal_year == year)
        .group_by(Account.number, AccountTotal.auxiliary_key))
    return {(number, aux_key or None): Decimal(amount).quantize(Decimal("0.01")) for number, aux_key, amount in rows
            if amount is not None}


def _opening_entries(organisation, year):
    """The AN entries of ``year`` (replaced ones and their reversals not included), oldest first."""
    entries = db.session.scalars(select(JournalEntry).where(
        JournalEntry.organisation_id == organisation.id, JournalEntry.fiscal_year == year,
        JournalEntry.event == OPENING_EVENT, JournalEntry.status == EntryStatus.POSTED.value)
        .order_by(JournalEntry.number)).all()
    return [entry for entry in entries if reversal_of(entry) is None]


def current_opening(organisation, year):
    """The AN entry in force in ``year`` (None if there is none)."""
    entries = _opening_entries(organisation, year)
    return entries[-1] if entries else None


def years_in_force(organisation):
    """The fiscal years that have an AN entry in force (not reversed)."""
    reversed_ids = select(JournalEntry.reversal_of_id).where(
        JournalEntry.organisation_id == organisation.id, JournalEntry.reversal_of_id.is_not(None))
    return set(db.session.scalars(select(JournalEntry.fiscal_year).where(
        JournalEntry.organisation_id == organisation.id, JournalEntry.event == OPENING_EVENT,
        JournalEntry.status == EntryStatus.POSTED.value, JournalEntry.id.not_in(reversed_ids))))


def _first_year(organisation):
    return db.session.scalar(select(func.min(JournalEntry.fiscal_year)).where(
        JournalEntry.organisation_id == organisation.id, JournalEntry.status == EntryStatus.POSTED.value))


def closing_balances(organisation, year):
    """The ``YearBalances`` the fiscal year ``year`` closes with (see the module docstring)."""
    first = _first_year(organisation)
    if first is None or year < first:
        return YearBalances(year)
    opened = years_in_force(organisation)
    # Start from the latest year at or before ``year`` whose opening is in the books (or the first).
    start = max([y for y in opened if first <= y <= year] or [first])
    carried = {}
    for y in range(start, year + 1):
        balances = YearBalances(y)
        totals = _movements(organisation, y)
        if y != start and y not in opened:
            for key, amount in carried.items():
                totals[key] = totals.get(key, ZERO) + amount
        for (number, aux_id), amount in totals.items():
            if not amount:
                continue
            if number[:1] in BALANCE_SHEET_CLASSES:
                balances.balances[(number, aux_id)] = amount
            elif number[:1] in RESULT_CLASSES:
                balances.result -= amount
            else:
                balances.other += amount
        carried = balances.carried()
    return balances


def _entry_balances(entry):
    totals = {}
    if entry is None:
        return totals
    for line in entry.lines:
        key = (line.account.number, line.auxiliary_id)
        totals[key] = totals.get(key, ZERO) + line.debit - line.credit
    return {key: amount for key, amount in totals.items() if amount}


# --------------------------------------------------------------------------------------------
# Status (read only: the screen calls it on a GET)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpeningStatus:
    year: int
    previous: YearBalances
    entry: JournalEntry | None
    previous_closed: bool
    up_to_date: bool
    allocation: JournalEntry | None

    @property
    def definitive(self):
        return self.entry is not None and self.previous_closed and self.up_to_date

    @property
    def label(self):
        if self.entry is None:
            return "Aucun à-nouveau"
        if self.definitive:
            return "Définitifs"
        return "Provisoires" if self.up_to_date else "Provisoires, à régénérer"

    @property
    def result(self):
        """The result of the previous year, carried to 120 or 129."""
        return self.previous.result


def year_is_closed(organisation, year):
    from backoffice.accounting.closing import is_year_closed

    return is_year_closed(organisation, year)


def opening_status(organisation, year):
    """Where the opening of ``year`` stands: the AN in force, whether it still carries the
    previous year's balances, whether it is definitive, and the allocation of that year's result."""
    previous = closing_balances(organisation, year - 1)
    entry = current_opening(organisation, year)
    return OpeningStatus(year=year, previous=previous, entry=entry,
                         previous_closed=year_is_closed(organisation, year - 1),
                         up_to_date=entry is not None and _entry_balances(entry) == previous.carried(),
                         allocation=current_allocation(organisation, year - 1))


# --------------------------------------------------------------------------------------------
# Generating the AN
# --------------------------------------------------------------------------------------------

def _opening_journal(organisation):
    journal = db.session.scalar(select(Journal).where(
        Journal.organisation_id == organisation.id, Journal.kind == JournalKind.OPENING.value,
        Journal.active.is_(True)).order_by(Journal.id).limit(1))
    if journal is not None:
        return journal
    existing = db.session.scalar(select(Journal).where(Journal.organisation_id == organisation.id,
                                                       Journal.code == "AN"))
    if existing is not None:
        raise AccountingError("Le journal AN n'est pas un journal d'à-nouveaux actif : corrigez les journaux.",
                              "journal")
    return add_journal(organisation, "AN", "À-nouveaux", JournalKind.OPENING.value)


def _opening_lines(organisation, year, balances, auxiliaries):
    previous = _year_label(organisation, year - 1)
    accounts = {number: chart_account(organisation, number) for number in sorted({n for n, _ in balances})}
    lines = []
    for (number, aux_id), amount in sorted(balances.items(), key=lambda item: (
            item[0][0], auxiliaries[item[0][1]].number if item[0][1] else "")):
        account = accounts[number]
        aux = auxiliaries.get(aux_id)
        if number in (SURPLUS_ACCOUNT, DEFICIT_ACCOUNT) and aux is None:
            label = f"Résultat de l'exercice {previous} reporté"
        elif aux is not None:
            label = f"À-nouveau {previous} – {aux.label}"
        else:
            label = None
        if aux is not None and not account.collective:
            raise AccountingError(f"Le compte {number} porte des comptes auxiliaires mais n'est plus collectif : "
                                  "les à-nouveaux ne peuvent pas être générés.", "account")
        lines.append(EntryLineSpec(account, debit=amount if amount > 0 else ZERO,
                                   credit=-amount if amount < 0 else ZERO,
                                   party=aux.party if aux is not None else None, label=label))
    return lines


def _source(organisation, what, year, version):
    return posting_source(Ledger, organisation.id, what, year, version)


def generate_opening(organisation, year, provisional=None, user=None, required=True):
    """Post (or replace) the AN entry of the fiscal year ``year`` from the previous year's
    closing balances; returns the AN entry in force.

    ``provisional`` None: provisional while the previous year is open, definitive once it is
    closed; True or False insist (refused when the previous year's state says otherwise). The AN
    in force is kept when it already carries those balances; otherwise it is reversed and the new
    one posted (module docstring). Refused in French, nothing written: the year itself closed,
    nothing to carry (``required=False``: None instead), an AN that does not balance, a
    definitive AN asked for while the previous year is open."""
    ensure_ledger(organisation)
    year = int(year)
    label_year, label_previous = _year_label(organisation, year), _year_label(organisation, year - 1)
    start, _ = organisation.fiscal_year_bounds(year)
    closed = year_is_closed(organisation, year - 1)
    if provisional is False and not closed:
        raise AccountingError(f"L'exercice {label_previous} n'est pas clôturé : ses à-nouveaux ne peuvent être "
                              "que provisoires.", "year")
    if provisional is True and closed:
        raise AccountingError(f"L'exercice {label_previous} est clôturé : ses à-nouveaux sont définitifs.", "year")
    period = closed_period_containing(organisation, start)
    if period is not None:
        raise AccountingError(f"L'exercice {label_year} est clôturé : ses à-nouveaux ne peuvent plus changer.",
                              "year")
    previous = closing_balances(organisation, year - 1)
    balances = previous.carried()
    total = sum(balances.values(), ZERO)
    if total or previous.other:
        raise AccountingError(
            f"Les à-nouveaux {label_year} ne s'équilibrent pas : les comptes hors bilan et hors résultat "
            f"(classe 8) de l'exercice {label_previous} laissent un solde de {_fr(abs(previous.other or total))}. "
            "Soldez-les avant de générer les à-nouveaux ; rien n'a été enregistré.", "year")
    current = current_opening(organisation, year)
    if current is not None and _entry_balances(current) == balances:
        return current
    if current is None and not balances:
        if not required:
            return None
        raise AccountingError(f"L'exercice {label_previous} ne laisse aucun solde à reporter.", "year")
    auxiliaries = {aux.id: aux for aux in db.session.scalars(select(AuxiliaryAccount).where(
        AuxiliaryAccount.id.in_({aux_id for _, aux_id in balances if aux_id is not None}))
        .options(joinedload(AuxiliaryAccount.party)))}  # not a lazy load per line
    lines = _opening_lines(organisation, year, balances, auxiliaries)
    version = len(db.session.scalars(select(JournalEntry.id).where(
        JournalEntry.organisation_id == organisation.id, JournalEntry.fiscal_year == year,
        JournalEntry.event == OPENING_EVENT)).all()) + 1
    if current is not None:
        # The new year's lettering against the replaced AN lines is undone; the reversal letters
        # them with their mirror lines, and the new AN lines are lettered with the new year's
        # lines when they are posted (post_entry letters what balances).
        for code in sorted({line.lettering_code for line in current.lines if line.lettering_code}):
            unletter(organisation, code)
        reverse_entry(current, entry_date=start, user=user,
                      label=f"Remplacement des à-nouveaux {label_year} (provisoires)")
    entry = None
    if lines:
        entry = post_entry(organisation, _opening_journal(organisation), start, f"AN-{label_year}",
                           f"À-nouveaux {label_year} ({'définitifs' if closed else 'provisoires'})", lines,
                           source=opening_source(organisation.id, year, version), event=OPENING_EVENT,
                           user=user)
    if entry is None:
        return None
    log.info("organisation %s: AN %s posted (%s, %d lines, version %d)", organisation.id, year,
             "definitive" if closed else "provisional", len(lines), version)
    return entry


def open_next_year(organisation, year, user=None):
    """At the closing of the fiscal year ``year`` (``closing.close_fiscal_year``, once the year
    is closed): the definitive AN of ``year + 1`` replaces the provisional one; None when the
    closed year leaves nothing to carry."""
    return generate_opening(organisation, int(year) + 1, provisional=False, user=user, required=False)


# --------------------------------------------------------------------------------------------
# Affectation du résultat
# --------------------------------------------------------------------------------------------

def _allocation_entries(organisation, year):
    prefix = _source(organisation, "allocation", year, 1).rsplit(":", 1)[0] + ":"
    return db.session.scalars(select(JournalEntry).where(and_(
        JournalEntry.organisation_id == organisation.id, JournalEntry.event == ALLOCATION_EVENT,
        JournalEntry.source.startswith(prefix, autoescape=True))).order_by(JournalEntry.id)).all()


def current_allocation(organisation, year):
    """The entry in force allocating the result of ``year`` (None before the AG's decision)."""
    entries = [entry for entry in _allocation_entries(organisation, year) if reversal_of(entry) is None]
    return entries[-1] if entries else None


def _resolution_ref(organisation, resolution):
    if resolution is None:
        return None
    from backoffice.assemblies.models import ResolutionStatus

    assembly = resolution.assembly
    if assembly is None or assembly.organisation_id != organisation.id:
        raise AccountingError("Cette résolution n'est pas celle d'une assemblée de l'organisation.", "resolution")
    if resolution.status != ResolutionStatus.CLOSED:
        raise AccountingError(f"{resolution} : le vote n'est pas clos ; l'affectation suit le vote de l'assemblée.",
                              "resolution")
    return f"AG {assembly.held_at:%d/%m/%Y} – résolution {resolution.position}"


@dataclass(frozen=True)
class AllocationLine:
    """One line of the AG's allocation of a result: an account (``"110"``, ``"1068"``…; for a
    SISA ``"4551"``, the associates' share) and its amount (a ``Decimal`` or French text)."""

    account: str
    amount: object


def allocation_prefixes(organisation):
    """The accounts a result may go to in ``organisation``'s books: reserves (106…), report à
    nouveau (110, 119), and for a SISA its associates' current accounts (4551, shared among
    them by their shares)."""
    from backoffice.organisations.models import OrganisationKind

    if organisation.kind == OrganisationKind.SISA:
        return ALLOCATION_PREFIXES + (ASSOCIATES_ACCOUNT,)
    return ALLOCATION_PREFIXES


def allocation_accounts(organisation):
    """``[(number, label)]`` of the active accounts of the books that may receive a result
    (``allocation_prefixes``), by number: the choices of the allocation form (reads only)."""
    prefixes = allocation_prefixes(organisation)
    return [(number, label) for number, label in db.session.execute(
        select(Account.number, Account.label).where(Account.organisation_id == organisation.id,
                                                    Account.active.is_(True)).order_by(Account.number))
            if _takes_result(number, prefixes)]


def _takes_result(number, prefixes):
    # 4551 itself, not the other associates' accounts (4552…, 4558) the prefix would let through.
    return number.startswith(prefixes) and (not number.startswith("455") or number == ASSOCIATES_ACCOUNT)


def _allocation_lines(allocations):
    """``allocations`` (a mapping ``{number: amount}`` or a sequence of ``AllocationLine`` or
    ``(number, amount)`` pairs) as ``[(number, amount text or Decimal)]``, in their order."""
    if allocations is None:
        return []
    if hasattr(allocations, "items"):
        return [(number, amount) for number, amount in allocations.items()]
    lines = []
    for line in allocations:
        if isinstance(line, AllocationLine):
            lines.append((line.account, line.amount))
        else:
            number, amount = line
            lines.append((number, amount))
    return lines


def associates_shares(organisation, year, amount):
    """``[(party, share)]``: ``amount`` shared among the associates of the SISA present in
    ``year`` in proportion to their capital shares (``backoffice.money.allocate``: to the cent,
    summing exactly to ``amount``), by name; associates without shares take none. Refused in
    French when no associate has capital shares recorded."""
    from backoffice.money import allocate
    from backoffice.sisa.services import associates

    rows = [row for row in associates(organisation, year) if row.capital_share]
    if not rows:
        raise AccountingError(f"Aucun associé de l'exercice {_year_label(organisation, year)} n'a de parts sociales "
                              "enregistrées : renseignez-les (page des associés) avant de leur affecter le résultat. "
                              "Rien n'a été enregistré.", "allocations")
    shares = allocate(amount, {row.party.id: row.capital_share for row in rows})
    return [(row.party, shares[row.party.id]) for row in rows if shares[row.party.id]]


def allocate_result(organisation, year, allocations, decided_on, resolution=None, user=None):
    """Post the *affectation du résultat* of the fiscal year ``year`` decided by the AG on
    ``decided_on``: an OD entry moving the result from 120 (surplus) or 129 (deficit) to the
    lines of ``allocations`` — ``{"110": amount, "1068": amount}`` or a sequence of
    ``AllocationLine`` (several lines, the same account twice is summed): reserves 106x, report
    à nouveau 110 or 119, and for a SISA 4551, split among the associates by their capital
    shares (``associates_shares``, one line per associate's auxiliary account). The amounts sum
    to the result exactly. ``resolution``, the assembly's resolution voted, is named on the
    entry. Refused in French, nothing written: the year not closed or its AN not definitive, a
    zero result, an account that takes no result or is not in the books (or is deactivated),
    amounts that do not sum to the result, an allocation already in force (reverse it first)."""
    ensure_ledger(organisation)
    year = int(year)
    label = _year_label(organisation, year)
    if not year_is_closed(organisation, year):
        raise AccountingError(f"L'exercice {label} n'est pas clôturé : son résultat s'affecte une fois les comptes "
                              "arrêtés et approuvés.", "year")
    status = opening_status(organisation, year + 1)
    if not status.definitive:
        raise AccountingError(f"Les à-nouveaux {_year_label(organisation, year + 1)} ne sont pas définitifs : "
                              "générez-les avant d'affecter le résultat.", "year")
    result = status.result
    if not result:
        raise AccountingError(f"Le résultat de l'exercice {label} est nul : il n'y a rien à affecter.", "year")
    if not isinstance(decided_on, date):
        raise AccountingError("La date de la décision de l'assemblée est obligatoire.", "decided_on")
    _, end = organisation.fiscal_year_bounds(year)
    if decided_on <= end:
        raise AccountingError(f"L'assemblée décide de l'affectation après la fin de l'exercice {label} "
                              f"({end:%d/%m/%Y}).", "decided_on")
    existing = current_allocation(organisation, year)
    if existing is not None:
        raise AccountingError(f"Le résultat {label} est déjà affecté (écriture {existing.reference}) : "
                              "contre-passez-la pour en passer une autre.", "allocations")
    prefixes = allocation_prefixes(organisation)
    cleaned = {}
    for number, amount in _allocation_lines(allocations):
        number = str(number or "").strip()
        value = clean_amount(amount, f"Le montant affecté au compte {number}" if number else "Le montant affecté",
                             allow_zero=True)
        if not value:
            continue
        if not number:
            raise AccountingError(f"Choisissez le compte auquel affecter {_fr(value)}.", "allocations")
        if not _takes_result(number, prefixes):
            where = "en réserves (106…) ou en report à nouveau (110, 119)"
            if ASSOCIATES_ACCOUNT in prefixes:
                where = "en réserves (106…), en report à nouveau (110, 119) ou aux associés (4551)"
            raise AccountingError(f"Le compte {number} ne reçoit pas de résultat : affectez-le {where}.",
                                  "allocations")
        cleaned[number] = cleaned.get(number, ZERO) + value
    allocated = sum(cleaned.values(), ZERO)
    if allocated != abs(result):
        what = "L'excédent" if result > 0 else "Le déficit"
        gap = allocated - abs(result)
        raise AccountingError(f"La répartition ({_fr(allocated)}) ne correspond pas au résultat de l'exercice "
                              f"{label} : {what.lower()} est de {_fr(abs(result))} "
                              f"({'excès' if gap > 0 else 'manque'} de {_fr(abs(gap))}). Rien n'a été enregistré.",
                              "allocations")
    reference = _resolution_ref(organisation, resolution)
    surplus = result > 0
    result_account = chart_account(organisation, SURPLUS_ACCOUNT if surplus else DEFICIT_ACCOUNT)
    lines = [EntryLineSpec(result_account, debit=result if surplus else ZERO, credit=ZERO if surplus else -result,
                           label=f"Résultat {label}")]

    def side(amount):
        return dict(debit=ZERO, credit=amount) if surplus else dict(debit=amount, credit=ZERO)

    for number, amount in sorted(cleaned.items()):
        account = chart_account(organisation, number)  # refused in French: not in the chart, deactivated
        if number == ASSOCIATES_ACCOUNT:
            if not account.collective:
                raise AccountingError(f"Le compte {number} n'est pas un compte de tiers : la part des associés ne peut "
                                      "pas y être affectée. Corrigez le plan comptable ; rien n'a été enregistré.",
                                      "allocations")
            for party, share in associates_shares(organisation, year, amount):
                lines.append(EntryLineSpec(account, party=party, label=f"Affectation du résultat {label} – "
                                                                       f"{party.display_name}"[:200], **side(share)))
        else:
            lines.append(EntryLineSpec(account, **side(amount)))
    version = len(_allocation_entries(organisation, year)) + 1
    entry = post_entry(organisation, "OD", decided_on, (reference or f"AG {decided_on:%d/%m/%Y}")[:60],
                       f"Affectation du résultat {label}" + (f" ({reference})" if reference else ""), lines,
                       source=_source(organisation, "allocation", year, version), event=ALLOCATION_EVENT, user=user)
    log.info("organisation %s: result %s allocated (%s)", organisation.id, year, entry.reference)
    return entry
