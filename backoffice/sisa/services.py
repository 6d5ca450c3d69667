"""SISA remuneration rules: associates, income, deductions, keys, mission points, simulation.

Every function flushes and never commits (the request, job or command commits). Refusals are
``SisaError`` (a ``ServiceError``) with French messages naming who or what is wrong.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import func, select

from backoffice.accounting.services import (AccountingError, EntryLineSpec, EventShare, attach, ensure_ledger,
                                            get_account, post_entry, post_event, post_period_income,
                                            posting_source)
from backoffice.banking import services as banking
from backoffice.errors import ServiceError
from backoffice.extensions import db
from backoffice.formatting import format_money
from backoffice.money import CENT, clean_amount
from backoffice.organisations.affiliations import Role, affiliations
from backoffice.people.professions import PROFESSIONS_BY_CODE, find_profession
from backoffice.sisa import calculation
from backoffice.sisa.calculation import AssociateInput, DistributionError, Inputs, KeyInput
from backoffice.sisa.models import (DeductionKind, IncomeKind, KeyBasis, SisaAssociate, SisaAttendance, SisaDeduction,
                                    SisaIncome, SisaKey, SisaMeeting, SisaMissionPoints, SisaScenario)

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
# Where a deduction is posted, by kind (D the charge / C 408 until the invoice comes); a reserve
# is result kept in the SISA, not a charge: it has no entry.
DEDUCTION_ACCOUNTS = {DeductionKind.COORDINATOR: "6226", DeductionKind.SOFTWARE: "651",
                      DeductionKind.ACCOUNTANT: "6226", DeductionKind.OTHER: "658", DeductionKind.RESERVE: None}
ACCRUED_ACCOUNT = "408"
# What an associate owes back after a correction: a receivable on his auxiliary account of 467
# *Autres comptes débiteurs*, moved out of his current account 4551 (an associate's current
# account is not left in debit).
REFUND_ACCOUNT = "467"
# The income events of the accounting module: the ACI is turnover (7061), other team funding a subsidy (74).
INCOME_EVENTS = {IncomeKind.ADVANCE: "aci_income", IncomeKind.BALANCE: "aci_income",
                 IncomeKind.OTHER: "subsidy_received"}


class SisaError(ServiceError):
    """A SISA remuneration rule is broken; French message, ``field`` the form field."""


def _refuse(error, field=None):
    return SisaError(str(error), getattr(error, "field", None) or field)


# --------------------------------------------------------------------------------------------
# Associates
# --------------------------------------------------------------------------------------------

@dataclass
class AssociateRow:
    party: object
    starts_on: date
    ends_on: date | None
    capital_share: Decimal | None
    payee: object  # banking's PayeeBankDetails or None

    @property
    def profession_label(self):
        return getattr(self.party, "profession_label", "")

    @property
    def site(self):
        return getattr(self.party, "site", None)


def year_bounds(year):
    return date(year, 1, 1), date(year, 12, 31)


def _associates_in_year(organisation, year):
    """(the WHERE clause of the associates' affiliations of ``year``, {party id: (first start,
    last end)}) — plain columns, one query (several affiliations of a party merged)."""
    from sqlalchemy import or_

    from backoffice.organisations.models import Affiliation

    first, last = year_bounds(year)
    in_year = (Affiliation.organisation_id == organisation.id, Affiliation.role == Role.ASSOCIATE,
               Affiliation.starts_on <= last, or_(Affiliation.ends_on.is_(None), Affiliation.ends_on >= first))
    periods = {}
    for party_id, starts_on, ends_on in db.session.execute(
            select(Affiliation.party_id, Affiliation.starts_on, Affiliation.ends_on).where(*in_year)):
        if party_id in periods:
            known_start, known_end = periods[party_id]
            starts_on = min(starts_on, known_start)
            ends_on = None if ends_on is None or known_end is None else max(ends_on, known_end)
        periods[party_id] = (starts_on, ends_on)
    return select(Affiliation.party_id).where(*in_year), periods


def associate_affiliations(organisation, year):
    """{party id: (party, first start, last end)} of the associates present during ``year``
    (several affiliations of one party are merged from the first start to the last end), by name."""
    from sqlalchemy.orm import with_polymorphic

    from backoffice.people.models import Party

    # Plain columns, then the parties in one query: loading the affiliations with their parties
    # eagerly joined costs several times more for a large SISA.
    party_ids, periods = _associates_in_year(organisation, year)
    party = with_polymorphic(Party, "*")  # every kind's columns at once, none loaded later
    parties = {p.id: p for p in db.session.scalars(select(party).where(party.id.in_(party_ids)))}
    ordered = sorted(periods, key=lambda pid: (parties[pid].sort_name, pid))
    return {pid: (parties[pid], *periods[pid]) for pid in ordered}


def _associate_names(organisation, year):
    """(periods as ``_associates_in_year``, {party id: (display name, profession)}) without
    building a Party per associate (the calculation of 10,000 associates spent a third of its
    time there): the name comes from the party class's own ``display_name`` applied to the row."""
    from backoffice.people.models import Party, PartyKind, Professional, Structure

    party_ids, periods = _associates_in_year(organisation, year)
    name_of = {PartyKind.PROFESSIONAL: Professional.display_name.fget, PartyKind.STRUCTURE: Structure.display_name.fget}
    rows = db.session.execute(select(Party.__table__).where(Party.__table__.c.id.in_(party_ids)))
    names = {row.id: (name_of[PartyKind(row.kind)](row), row.profession) for row in rows}
    return periods, names


def associates(organisation, year):
    """The associates of ``year`` by name with their dates, capital share and bank details (3 queries)."""
    found = associate_affiliations(organisation, year)
    details = {d.party_id: d for d in db.session.scalars(select(SisaAssociate).where(
        SisaAssociate.organisation_id == organisation.id, SisaAssociate.party_id.in_(list(found))))} if found else {}
    payees = banking.payee_details_for(organisation, list(found))
    return [AssociateRow(party, starts_on, ends_on,
                         details[pid].capital_share if pid in details else None, payees.get(pid))
            for pid, (party, starts_on, ends_on) in found.items()]


def is_associate(organisation, party):
    """True if ``party`` is or was an associate of ``organisation`` (an affiliation of the role)."""
    from backoffice.organisations.models import Affiliation

    return db.session.scalar(select(Affiliation.id).where(
        Affiliation.organisation_id == organisation.id, Affiliation.role == Role.ASSOCIATE,
        Affiliation.party_id == party.id).limit(1)) is not None


def clean_bank_details(iban, bic):
    """IBAN and BIC checked with schwifty (checksum, national format, the BIC's country matches
    the IBAN's); the BIC is taken from the IBAN's bank when left blank and schwifty knows it."""
    try:
        checked = IBAN(iban or "")
    except SchwiftyException:
        raise SisaError(f"L'IBAN « {(iban or '').strip()} » est invalide (clé ou format).", "iban") from None
    if bic and bic.strip():
        try:
            checked_bic = BIC(bic.strip())
        except SchwiftyException:
            raise SisaError(f"Le BIC « {bic.strip()} » est invalide (8 ou 11 caractères).", "bic") from None
        if checked_bic.country_code != checked.country_code:
            raise SisaError(f"Le BIC {checked_bic.compact} n'est pas d'une banque du pays de l'IBAN "
                            f"({checked.country_code}).", "bic")
        return checked.compact, checked_bic.compact
    return checked.compact, (checked.bic.compact if checked.bic is not None else None)


def save_associate(organisation, party, *, capital_share=None, iban=None, bic=None, holder_name=None):
    """Record an associate's share of capital and, when an IBAN is given, his bank details
    (through banking's payee details)."""
    if not is_associate(organisation, party):
        raise SisaError(f"{party.display_name} n'est pas associé(e) de {organisation.name}.")
    details = associate_details(organisation, party)
    if details is None:
        details = SisaAssociate(organisation_id=organisation.id, party_id=party.id)
        db.session.add(details)
    details.capital_share = capital_share
    if iban and iban.strip():
        iban, bic = clean_bank_details(iban, bic)
        try:
            banking.set_payee_details(organisation, party, iban, bic, holder_name=holder_name or None)
        except ServiceError as error:
            raise _refuse(error) from None
    db.session.flush()
    return details


# --------------------------------------------------------------------------------------------
# Income
# --------------------------------------------------------------------------------------------

def income(organisation, year):
    return list(db.session.scalars(select(SisaIncome).where(
        SisaIncome.organisation_id == organisation.id, SisaIncome.year == year).order_by(
        SisaIncome.received_on, SisaIncome.id)))


def record_income(organisation, year, kind, label, received_on, amount):
    """Record a payment received for ``year`` and post its entry (ACI: D bank / C 7061; other
    team funding: D bank / C 74), once (source ``sisa_income:<id>``), in the fiscal year of the
    ACI year (calendar): received the next year while that year is open, through 4687 *produits
    à recevoir*; received before it, through 487 *produits constatés d'avance*."""
    kind = IncomeKind(kind)
    amount = clean_amount(amount, what="Le montant reçu")
    label = " ".join((label or "").split()) or f"{kind.label} {year}"
    if received_on is None:
        raise SisaError("Indiquez la date de réception.", "received_on")
    if not (year - 1 <= received_on.year <= year + 2):
        raise SisaError(f"Un versement au titre de {year} reçu le {received_on:%d/%m/%Y} ? Vérifiez l'année ou la date.",
                        "received_on")
    row = SisaIncome(organisation_id=organisation.id, year=year, kind=kind.value, label=label[:200],
                     received_on=received_on, amount=amount)
    db.session.add(row)
    db.session.flush()
    try:
        # Income of the ACI year whatever the day it comes (``accounting.cutoff``): the balance of
        # 2025 paid in April 2026 is income of 2025 (D 4687 at 31/12/2025, then the bank against 4687).
        row.entry, _ = post_period_income(
            organisation, INCOME_EVENTS[kind], amount=amount, received_on=received_on,
            period_start=aci_period(year)[0], period_end=aci_period(year)[1], piece_ref=f"SISA-{year}-R{row.id}",
            label=f"{label} (exercice {year})"[:200], source=posting_source(SisaIncome, row.id))
    except AccountingError as error:
        raise _refuse(error) from None
    db.session.flush()
    return row


def aci_period(year):
    """The period of the ACI of ``year``: the calendar year of the Assurance Maladie's contract."""
    return date(year, 1, 1), date(year, 12, 31)


def aci_entry_date(organisation, year, on):
    """The date of a charge of the ACI ``year`` (a deduction, the associates' shares) posted
    ``on``: in the ACI year's fiscal year like its income (``accounting.cutoff``) — the 2025
    distribution frozen in May 2026 is dated 31/12/2025 while 2025 is open."""
    return attach(organisation, *aci_period(year), on).entry_date


def total_income(organisation, year):
    return db.session.scalar(select(func.coalesce(func.sum(SisaIncome.amount), 0)).where(
        SisaIncome.organisation_id == organisation.id, SisaIncome.year == year)) or ZERO


# --------------------------------------------------------------------------------------------
# Deductions
# --------------------------------------------------------------------------------------------

def parse_percentage(text, *, what="Le pourcentage", field="percentage", allow_hundred=False):
    """``"12,5"``, ``"12.5 %"`` → ``Decimal("12.50")``; French ``SisaError`` otherwise."""
    raw = str(text or "").replace("%", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise SisaError(f"{what} est invalide : « {text} » (exemple : 12,5).", field) from None
    if not value.is_finite() or value != value.quantize(CENT):
        raise SisaError(f"{what} a au plus deux décimales (« {text} »).", field)
    upper = HUNDRED if allow_hundred else HUNDRED - CENT
    if not (0 < value <= upper):
        raise SisaError(f"{what} doit être compris entre 0 et {'100' if allow_hundred else 'moins de 100'} %.", field)
    return value.quantize(CENT)


def deductions(organisation, year):
    return list(db.session.scalars(select(SisaDeduction).where(
        SisaDeduction.organisation_id == organisation.id, SisaDeduction.year == year).order_by(SisaDeduction.id)))


def add_deduction(organisation, year, kind, label, *, amount=None, percentage=None, account_number=None):
    """A deduction before distribution: ``amount`` (text or Decimal) or ``percentage`` of the
    year's income, one of the two; posted to ``account_number`` (default by kind)."""
    kind = DeductionKind(kind)
    has_amount = amount not in (None, "") and str(amount).strip() != ""
    has_percentage = percentage not in (None, "") and str(percentage).strip() != ""
    if has_amount == has_percentage:
        raise SisaError("Indiquez soit un montant, soit un pourcentage des recettes (l'un des deux).", "amount")
    label = " ".join((label or "").split()) or kind.label
    account_number = (account_number or "").strip() or DEDUCTION_ACCOUNTS[kind]
    if kind is DeductionKind.RESERVE:
        account_number = None
    elif account_number is not None:
        ensure_ledger(organisation)  # a POST: the books are set up on the first posting anyway
        try:
            get_account(organisation, account_number)
        except AccountingError as error:
            raise SisaError(str(error), "account_number") from None
    row = SisaDeduction(organisation_id=organisation.id, year=year, kind=kind.value, label=label[:200],
                        account_number=account_number,
                        amount=clean_amount(amount, what="Le montant de la retenue") if has_amount else None,
                        percentage=parse_percentage(percentage) if has_percentage else None)
    db.session.add(row)
    db.session.flush()
    return row


def remove_deduction(deduction):
    if deduction.entry_id is not None:
        raise SisaError(f"La retenue « {deduction.label} » est déjà comptabilisée : elle ne peut plus être supprimée.")
    db.session.delete(deduction)
    db.session.flush()


def deduction_amount(deduction, gross):
    """The euros of ``deduction`` given the year's income ``gross`` (a percentage to the cent, half up)."""
    if deduction.amount is not None:
        return deduction.amount
    return (gross * deduction.percentage / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class YearFigures:
    year: int
    gross: Decimal
    deductions: tuple  # ((SisaDeduction, Decimal), …)

    @property
    def deducted(self):
        return sum((amount for _, amount in self.deductions), ZERO)

    @property
    def distributable(self):
        return self.gross - self.deducted


def year_figures(organisation, year):
    gross = Decimal(total_income(organisation, year)).quantize(CENT)
    return YearFigures(year, gross, tuple((d, deduction_amount(d, gross)) for d in deductions(organisation, year)))


def post_deductions(organisation, year, entry_date):
    """Post each deduction of ``year`` not yet posted as what it is (D its charge account / C 408),
    once (source ``sisa_deductions:<id>``); a reserve has no entry. Returns the entries posted."""
    figures = year_figures(organisation, year)
    if figures.gross <= 0:
        raise SisaError(f"Aucune recette enregistrée pour {year} : rien à retenir.")
    posted = []
    for deduction, amount in figures.deductions:
        if deduction.entry_id is not None or deduction.account_number is None:
            continue
        try:
            entry = post_entry(organisation, "OD", aci_entry_date(organisation, year, entry_date),
                               f"SISA-{year}-D{deduction.id}",
                               f"{deduction.label} – retenue sur la rémunération d'équipe {year}"[:200],
                               [EntryLineSpec(deduction.account_number, debit=amount),
                                EntryLineSpec(ACCRUED_ACCOUNT, credit=amount)],
                               source=posting_source(SisaDeduction, deduction.id))
        except AccountingError as error:
            raise _refuse(error) from None
        deduction.entry, deduction.posted_amount = entry, amount
        posted.append(entry)
    db.session.flush()
    return posted


# --------------------------------------------------------------------------------------------
# Scenarios and keys
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyRow:
    """A key as typed on the form (text), before it is checked."""

    label: str
    percentage: str
    basis: str
    prorate_presence: bool = False
    weights: str = ""


def scenarios(organisation, year):
    return list(db.session.scalars(select(SisaScenario).where(
        SisaScenario.organisation_id == organisation.id, SisaScenario.year == year).order_by(SisaScenario.id)))


def create_scenario(organisation, year, name, copy_from=None):
    name = " ".join((name or "").split())
    if not name:
        raise SisaError("Donnez un nom au scénario.", "name")
    if db.session.scalar(select(SisaScenario.id).where(SisaScenario.organisation_id == organisation.id,
                                                       SisaScenario.year == year, SisaScenario.name == name)):
        raise SisaError(f"Un scénario « {name} » existe déjà pour {year}.", "name")
    scenario = SisaScenario(organisation_id=organisation.id, year=year, name=name[:120])
    db.session.add(scenario)
    for key in (copy_from.keys if copy_from is not None else ()):
        scenario.keys.append(SisaKey(position=key.position, label=key.label, percentage=key.percentage,
                                     basis=key.basis, prorate_presence=key.prorate_presence,
                                     profession_weights=dict(key.profession_weights or {})))
    db.session.flush()
    return scenario


def parse_weights(text, key_label):
    """``"Médecin généraliste = 1,5 ; infirmier=1"`` → ``{"medecin_generaliste": "1.5", "infirmier": "1"}``."""
    weights = {}
    for part in (p.strip() for p in (text or "").replace("\n", ";").split(";")):
        if not part:
            continue
        name, sep, value = part.rpartition("=")
        profession = find_profession(name.strip()) if sep else None
        if profession is None:
            raise SisaError(f"Clé « {key_label} » : profession inconnue dans « {part} » "
                            "(écrivez par exemple « Infirmier = 1,5 »).", "keys")
        try:
            weight = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise SisaError(f"Clé « {key_label} » : poids invalide dans « {part} ».", "keys") from None
        if not weight.is_finite() or weight < 0 or weight > 100:
            raise SisaError(f"Clé « {key_label} » : le poids de « {profession.label} » doit être entre 0 et 100.",
                            "keys")
        weights[profession.code] = str(weight)
    return weights


def format_weights(weights):
    return " ; ".join(f"{PROFESSIONS_BY_CODE[code].label if code in PROFESSIONS_BY_CODE else code} = "
                      f"{str(value).replace('.', ',')}" for code, value in sorted((weights or {}).items()))


def set_keys(scenario, rows):
    """Replace the keys of ``scenario`` by ``rows`` (``KeyRow``, in order; blank rows skipped).
    Refused unless they add up to exactly 100 %."""
    keys = []
    for row in rows:
        if not (row.label or "").strip() and not (row.percentage or "").strip():
            continue
        label = " ".join((row.label or "").split())
        if not label:
            raise SisaError("Chaque clé a un libellé.", "keys")
        try:
            basis = KeyBasis(row.basis)
        except ValueError:
            raise SisaError(f"Clé « {label} » : base de répartition inconnue.", "keys") from None
        percentage = parse_percentage(row.percentage, what=f"Le pourcentage de la clé « {label} »", field="keys",
                                      allow_hundred=True)
        keys.append(KeyInput(len(keys) + 1, label[:120], percentage, basis.value, bool(row.prorate_presence),
                             {p: Decimal(w) for p, w in parse_weights(row.weights, label).items()}))
    try:
        calculation.check_keys(keys)
    except DistributionError as error:
        raise SisaError(str(error), "keys") from None
    scenario.keys.clear()
    db.session.flush()  # the old positions go before the new ones come (unique per scenario)
    for key in keys:
        scenario.keys.append(SisaKey(position=key.position, label=key.label, percentage=key.percentage,
                                     basis=key.basis, prorate_presence=key.prorate_presence,
                                     profession_weights={p: str(w) for p, w in key.profession_weights.items()}))
    db.session.flush()
    return scenario


def key_inputs(scenario):
    return tuple(KeyInput(k.position, k.label, Decimal(k.percentage), k.basis, bool(k.prorate_presence),
                          {p: Decimal(w) for p, w in (k.profession_weights or {}).items()}) for k in scenario.keys)


# --------------------------------------------------------------------------------------------
# Mission points and hours
# --------------------------------------------------------------------------------------------

def mission_points(organisation, year):
    return list(db.session.scalars(select(SisaMissionPoints).where(
        SisaMissionPoints.organisation_id == organisation.id, SisaMissionPoints.year == year).order_by(
        SisaMissionPoints.party_id, SisaMissionPoints.id)))


def add_mission_points(organisation, year, party, label, points):
    if party is None or not is_associate(organisation, party):
        raise SisaError("Choisissez un associé de la SISA.", "party_id")
    label = " ".join((label or "").split())
    if not label:
        raise SisaError("Indiquez la mission (référent, protocole rédigé, astreinte…).", "label")
    try:
        value = Decimal(str(points or "").replace(",", ".").strip())
    except InvalidOperation:
        raise SisaError(f"Nombre de points invalide : « {points} ».", "points") from None
    if not value.is_finite() or value <= 0 or value != value.quantize(CENT) or value > 99999:
        raise SisaError("Le nombre de points est positif, avec au plus deux décimales.", "points")
    row = SisaMissionPoints(organisation_id=organisation.id, year=year, party_id=party.id, label=label[:200],
                            points=value)
    db.session.add(row)
    db.session.flush()
    return row


def remove_mission_points(row):
    db.session.delete(row)
    db.session.flush()


def points_by_party(organisation, year):
    """{party id: points} of ``year`` (one query)."""
    return {party_id: Decimal(total) for party_id, total in db.session.execute(
        select(SisaMissionPoints.party_id, func.sum(SisaMissionPoints.points)).where(
            SisaMissionPoints.organisation_id == organisation.id, SisaMissionPoints.year == year).group_by(
            SisaMissionPoints.party_id))}


def minutes_by_party(organisation, year, party_ids=None):
    """{party id: minutes of coordination meetings attended in ``year``} (one query)."""
    first, last = year_bounds(year)
    query = (select(SisaAttendance.party_id, func.sum(SisaMeeting.duration_minutes))
             .join(SisaMeeting, SisaAttendance.meeting_id == SisaMeeting.id)
             .where(SisaMeeting.organisation_id == organisation.id, SisaMeeting.held_on >= first,
                    SisaMeeting.held_on <= last).group_by(SisaAttendance.party_id))
    if party_ids is not None:
        query = query.where(SisaAttendance.party_id.in_(list(party_ids)))
    return {party_id: int(total) for party_id, total in db.session.execute(query)}


def hours(minutes):
    return (Decimal(minutes) / 60).quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------

def inputs_for(organisation, year, scenario):
    """The calculation's inputs for ``year`` with ``scenario``'s keys, read from the database in a
    constant number of queries (associates, hours, points, income, deductions)."""
    periods, names = _associate_names(organisation, year)
    minutes = minutes_by_party(organisation, year)
    points = points_by_party(organisation, year)
    figures = year_figures(organisation, year)
    associates_in = tuple(
        AssociateInput(party_id=pid, name=names[pid][0], profession=names[pid][1], starts_on=starts_on,
                       ends_on=ends_on, hours=hours(minutes.get(pid, 0)), points=points.get(pid, Decimal(0)))
        for pid, (starts_on, ends_on) in sorted(periods.items(), key=lambda item: (names[item[0]][0].casefold(),
                                                                                  item[0])))
    return Inputs(year=year, distributable=figures.distributable, associates=associates_in,
                  keys=key_inputs(scenario))


def simulate(organisation, year, scenario):
    """The result of ``scenario`` for ``year`` (nothing stored); ``SisaError`` when it cannot be computed."""
    try:
        return calculation.compute(inputs_for(organisation, year, scenario))
    except DistributionError as error:
        raise SisaError(str(error)) from None


def compare(result, other):
    """{party id: (amount, other amount or None, difference or None)} of two results."""
    others = other.by_party() if other is not None else {}
    rows = {}
    for row in result.associates:
        theirs = others.get(row.associate.party_id)
        rows[row.associate.party_id] = (row.total, theirs.total if theirs else None,
                                        row.total - theirs.total if theirs else None)
    return rows


def describe_amount(amount):
    return format_money(amount)


def format_plain(value):
    """``Decimal("12.50")`` → ``"12,50"`` for a form field (``""`` for None)."""
    return "" if value is None else f"{value:f}".replace(".", ",")


def associate_details(organisation, party):
    return db.session.scalar(select(SisaAssociate).where(SisaAssociate.organisation_id == organisation.id,
                                                         SisaAssociate.party_id == party.id))


def payee(organisation, party):
    return banking.payee_details(organisation, party)


def meetings_attended(organisation, party, year):
    """The meetings of ``year`` that ``party`` attended, by date."""
    first, last = year_bounds(year)
    return list(db.session.scalars(
        select(SisaMeeting).join(SisaAttendance, SisaAttendance.meeting_id == SisaMeeting.id).where(
            SisaMeeting.organisation_id == organisation.id, SisaAttendance.party_id == party.id,
            SisaMeeting.held_on >= first, SisaMeeting.held_on <= last).order_by(SisaMeeting.held_on, SisaMeeting.id)))


# --------------------------------------------------------------------------------------------
# Coordination meetings
# --------------------------------------------------------------------------------------------

def meetings(organisation, year):
    """The meetings of ``year`` by date with their number of attendees (one query)."""
    first, last = year_bounds(year)
    counts = (select(SisaAttendance.meeting_id, func.count().label("n")).group_by(SisaAttendance.meeting_id)
              .subquery())
    return list(db.session.execute(
        select(SisaMeeting, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.meeting_id == SisaMeeting.id)
        .where(SisaMeeting.organisation_id == organisation.id, SisaMeeting.held_on >= first,
               SisaMeeting.held_on <= last).order_by(SisaMeeting.held_on, SisaMeeting.id)))


def format_minutes(minutes):
    """``90`` → ``"1h30"``."""
    return f"{minutes // 60}h{minutes % 60:02d}" if minutes % 60 else f"{minutes // 60}h"


def parse_minutes(text):
    from backoffice.sisa.meetings import MAX_MINUTES, parse_duration

    minutes = parse_duration(text)
    if minutes is None or not 0 < minutes <= MAX_MINUTES:
        raise SisaError(f"Durée illisible « {text or ''} » (exemples : 1h30, 90 min, 1,5).", "duration")
    return minutes


def save_meeting(organisation, meeting, *, held_on, minutes, kind, theme, party_ids):
    """Create (``meeting`` None) or correct a meeting and its attendance: the attendees are
    associates of the SISA on that day."""
    from backoffice.sisa.models import MeetingKind

    if held_on is None:
        raise SisaError("Indiquez la date de la réunion.", "held_on")
    theme = " ".join((theme or "").split())
    if not theme:
        raise SisaError("Indiquez le thème de la réunion.", "theme")
    present = present_on(organisation, held_on)
    wanted = {int(pid) for pid in party_ids}
    strangers = wanted - set(present)
    if strangers:
        raise SisaError(f"{len(strangers)} participant(s) coché(s) ne sont pas associés de la SISA le "
                        f"{held_on:%d/%m/%Y}.", "attendees")
    if meeting is None:
        meeting = SisaMeeting(organisation_id=organisation.id)
        db.session.add(meeting)
    meeting.held_on, meeting.duration_minutes, meeting.kind = held_on, minutes, MeetingKind(kind).value
    meeting.theme = theme[:200]
    kept = {a.party_id for a in meeting.attendances if a.party_id in wanted}
    meeting.attendances = [a for a in meeting.attendances if a.party_id in wanted] + [
        SisaAttendance(party_id=pid) for pid in sorted(wanted - kept)]
    db.session.flush()
    return meeting


def present_on(organisation, day):
    """{party id: party} of the associates on ``day`` (the ticking list of a meeting), by name."""
    from backoffice.organisations.affiliations import holders

    return {a.party_id: a.party for a in holders(organisation, Role.ASSOCIATE, day)}


def delete_meeting(meeting):
    db.session.delete(meeting)
    db.session.flush()


def associate_index(organisation):
    """Every associate the SISA ever had, for matching a file's attendees (one query)."""
    from backoffice.sisa.meetings import AssociateIndex, KnownAssociate

    periods, parties = {}, {}
    for affiliation in affiliations(organisation, roles=[Role.ASSOCIATE]):
        periods.setdefault(affiliation.party_id, []).append((affiliation.starts_on, affiliation.ends_on))
        parties[affiliation.party_id] = affiliation.party
    return AssociateIndex(KnownAssociate(
        pid, party.display_name, getattr(party, "first_name", "") or "", getattr(party, "last_name", "") or
        getattr(party, "name", "") or "", getattr(party, "rpps", None), getattr(party, "adeli", None),
        tuple(periods[pid])) for pid, party in parties.items())


def plan_meeting_import(organisation, data, filename=""):
    """Read and check a spreadsheet of meetings (``backoffice.sisa.meetings``); nothing written.
    Raises a ``ServiceError`` when the file as a whole cannot be read."""
    from backoffice.people.importer import fold
    from backoffice.sisa.meetings import MeetingFileError, plan_meetings

    existing = {(held_on, fold(theme)) for held_on, theme in db.session.execute(
        select(SisaMeeting.held_on, SisaMeeting.theme).where(SisaMeeting.organisation_id == organisation.id))}
    try:
        return plan_meetings(data, filename, associate_index(organisation), existing)
    except MeetingFileError as error:
        raise SisaError(str(error)) from None


def apply_meeting_import(organisation, data, filename=""):
    """Import the file's meetings and attendance — all or nothing: ``SisaError`` (nothing
    written) when the file is unreadable or any line has an error. Returns the plan applied."""
    plan = plan_meeting_import(organisation, data, filename)
    if plan.has_errors:
        count = len(plan.error_lines)
        raise SisaError(f"Import refusé : {count} ligne{'s' if count > 1 else ''} en erreur "
                        f"(la première : {plan.error_lines[0].errors[0]}). Rien n'a été importé.")
    if not plan.meetings:
        raise SisaError("Le fichier ne contient aucune réunion.")
    for planned in plan.meetings:
        meeting = SisaMeeting(organisation_id=organisation.id, held_on=planned.held_on,
                              duration_minutes=planned.minutes, kind=planned.kind, theme=planned.theme[:200])
        meeting.attendances = [SisaAttendance(party_id=pid) for pid in planned.party_ids]
        db.session.add(meeting)
    db.session.flush()
    return plan


# --------------------------------------------------------------------------------------------
# Distributions: versions, validation, posting, payment
# --------------------------------------------------------------------------------------------

def distributions(organisation, year):
    from backoffice.sisa.models import SisaDistribution

    return list(db.session.scalars(select(SisaDistribution).where(
        SisaDistribution.organisation_id == organisation.id, SisaDistribution.year == year).order_by(
        SisaDistribution.version.desc())))


def current_version(organisation, year):
    """The validated version in force for ``year`` (frozen or paid, not superseded), or None."""
    from backoffice.sisa.models import DistributionStatus

    return next((d for d in distributions(organisation, year)
                 if d.status in (DistributionStatus.FROZEN.value, DistributionStatus.PAID.value)), None)


def prepare_version(organisation, year, scenario):
    """A draft version of ``year``'s distribution with ``scenario``'s keys: its inputs and
    amounts stored; it supersedes the version in force once validated."""
    from backoffice.audit.services import current_actor_id
    from backoffice.sisa.models import DistributionStatus, SisaDistribution, SisaDistributionShare

    existing = distributions(organisation, year)
    if any(d.status == DistributionStatus.DRAFT.value for d in existing):
        raise SisaError(f"Une version brouillon de la répartition {year} existe déjà : validez-la ou supprimez-la.")
    try:
        result = calculation.compute(inputs_for(organisation, year, scenario))
    except DistributionError as error:
        raise SisaError(str(error)) from None
    current = current_version(organisation, year)
    distribution = SisaDistribution(
        organisation_id=organisation.id, year=year, version=max((d.version for d in existing), default=0) + 1,
        status=DistributionStatus.DRAFT.value, scenario_name=scenario.name, distributable=result.inputs.distributable,
        inputs=result.inputs.to_json(), supersedes_id=current.id if current else None,
        created_by_id=current_actor_id())
    distribution.shares = [SisaDistributionShare(party_id=row.associate.party_id, amount=row.total,
                                                 detail=_share_detail(row)) for row in result.associates]
    db.session.add(distribution)
    db.session.flush()
    return distribution


def _share_detail(row):
    return {"days": row.days, "hours": str(row.associate.hours), "points": str(row.associate.points),
            "keys": {str(position): str(amount) for position, amount in row.by_key.items()}}


def discard_draft(distribution):
    from backoffice.sisa.models import DistributionStatus

    if distribution.status != DistributionStatus.DRAFT.value:
        raise SisaError("Seule une version brouillon peut être supprimée : une version validée est conservée.")
    db.session.delete(distribution)
    db.session.flush()


def recompute(distribution):
    """The distribution computed again from its stored inputs (years later: the same cents)."""
    return calculation.compute(Inputs.from_json(distribution.inputs))


def recomputes_identically(distribution):
    stored = {share.party_id: share.amount for share in distribution.shares}
    return {pid: row.total for pid, row in recompute(distribution).by_party().items()} == stored


def differences(distribution):
    """[(party id, name, previous amount or None, amount, difference)] against the version it
    supersedes (the whole amount for a first version), by name."""
    names = {a["party_id"]: a["name"] for a in distribution.inputs["associates"]}
    previous = {s.party_id: s.amount for s in distribution.supersedes.shares} if distribution.supersedes else {}
    if distribution.supersedes:
        names.update({a["party_id"]: a["name"] for a in distribution.supersedes.inputs["associates"]})
    new = {s.party_id: s.amount for s in distribution.shares}
    rows = []
    for pid in set(previous) | set(new):
        old, amount = previous.get(pid), new.get(pid, ZERO)
        rows.append((pid, names.get(pid, str(pid)), old, amount, amount - (old or ZERO)))
    return sorted(rows, key=lambda r: (r[1].casefold(), r[0]))


def parties_by_id(party_ids):
    from backoffice.people.models import Party

    return {p.id: p for p in db.session.scalars(select(Party).where(Party.id.in_(list(party_ids))))}


def paid_in(organisation, year):
    """``{party id: [(distribution version, amount)]}`` of what each associate was paid in
    calendar ``year`` (the transfers of every version marked paid that year, with the refunds he
    owed netted against them: that part of his share was paid by settling his debt), in payment
    order."""
    from backoffice.sisa.models import SisaDistribution

    paid = defaultdict(list)
    versions = db.session.scalars(select(SisaDistribution).where(
        SisaDistribution.organisation_id == organisation.id, SisaDistribution.paid_on >= date(year, 1, 1),
        SisaDistribution.paid_on <= date(year, 12, 31)).order_by(SisaDistribution.paid_on, SisaDistribution.id))
    versions = list(versions)
    netted = defaultdict(lambda: ZERO)
    if versions:
        from backoffice.sisa.models import SisaRefundOffset

        for distribution_id, party_id, amount in db.session.execute(select(
                SisaRefundOffset.distribution_id, SisaRefundOffset.party_id, SisaRefundOffset.amount).where(
                SisaRefundOffset.distribution_id.in_([v.id for v in versions]))):
            netted[distribution_id, party_id] += amount
    for version in versions:
        for share in version.shares:
            amount = Decimal(share.detail.get("paid", "0")) + netted[version.id, share.party_id]
            if amount > 0:
                paid[share.party_id].append((version, amount))
    return dict(paid)


@dataclass(frozen=True)
class LastYear:
    """The version in force of the year before (None if there is none) and its amounts by party."""

    year: int
    version: object
    amounts: dict

    @property
    def total(self):
        return sum(self.amounts.values(), ZERO) if self.version is not None else None

    def amount(self, party_id):
        """His amount last year (0 if he was not in it), or None when the year has no version."""
        return self.amounts.get(party_id, ZERO) if self.version is not None else None

    def difference(self, party_id, amount):
        last = self.amount(party_id)
        return None if last is None else amount - last


def last_year(organisation, year):
    """``LastYear`` of ``year``: what the version in force of ``year - 1`` gave each associate."""
    version = current_version(organisation, year - 1)
    return LastYear(year - 1, version, {s.party_id: s.amount for s in version.shares} if version else {})


def summary_table(distribution):
    """``(header, rows)`` of a distribution version's summary (every associate, by name: his days
    of presence, hours, mission points, each key's part, his total), and a total row; amounts as
    ``Decimal`` for the spreadsheet writers to format the French way."""
    keys = sorted(distribution.inputs["keys"], key=lambda k: k["position"])
    before = last_year(_organisation(distribution), distribution.year)
    header = (["Associé", "Profession", "Jours de présence", "Heures", "Points de mission"]
              + [f"{k['label']} ({k['percentage'].replace('.', ',')} %)" for k in keys] + ["Total"]
              + [f"Total {before.year}", f"Écart avec {before.year}"])
    parties = parties_by_id(s.party_id for s in distribution.shares)
    shares = sorted(distribution.shares, key=lambda s: (parties[s.party_id].sort_name, s.party_id))
    rows, totals = [], [Decimal(0)] * len(keys)
    for share in shares:
        party, detail = parties[share.party_id], share.detail
        parts = [Decimal(detail["keys"].get(str(k["position"]), "0")) for k in keys]
        totals = [t + p for t, p in zip(totals, parts)]
        rows.append([party.display_name, getattr(party, "profession_label", "") or "", detail["days"],
                     Decimal(detail["hours"]), Decimal(detail["points"]), *parts, share.amount,
                     before.amount(share.party_id), before.difference(share.party_id, share.amount)])
    total = sum((s.amount for s in shares), Decimal(0))
    # The associates of last year who are no longer there: their amount makes last year's total.
    gone = sorted((pid for pid in before.amounts if pid not in parties), key=lambda pid: pid)
    for party in sorted(parties_by_id(gone).values(), key=lambda p: (p.sort_name, p.id)):
        rows.append([party.display_name, getattr(party, "profession_label", "") or "", 0, None, None,
                     *[None] * len(keys), Decimal("0.00"), before.amount(party.id), -before.amount(party.id)])
    rows.append(["Total", "", None, None, None, *totals, total, before.total,
                 None if before.total is None else total - before.total])
    return header, rows


def freeze(distribution, entry_date):
    """Validate a draft: its amounts are checked against its stored inputs, it is posted (a first
    version: D 62261 the total / C 4551 per associate; a correction: only the differences) and
    the version it corrects is superseded."""
    from backoffice.lifecycle import move
    from backoffice.sisa.models import DistributionStatus, SisaDistribution

    if distribution.status != DistributionStatus.DRAFT.value:
        raise SisaError(f"La version {distribution.version} est déjà validée : elle ne peut plus changer.")
    if not recomputes_identically(distribution):
        raise SisaError("Les montants enregistrés ne correspondent plus au calcul : préparez une nouvelle version.")
    previous = distribution.supersedes
    organisation = _organisation(distribution)
    label = f"Répartition ACI {distribution.year} v{distribution.version} ({distribution.scenario_name})"[:200]
    piece = f"SISA-{distribution.year}-V{distribution.version}"
    source = posting_source(SisaDistribution, distribution.id)
    entry_date = aci_entry_date(organisation, distribution.year, entry_date)
    try:
        if previous is None:
            parties = parties_by_id(s.party_id for s in distribution.shares)
            distribution.entry = post_event(
                organisation, "sisa_distribution", entry_date=entry_date, piece_ref=piece, label=label, source=source,
                shares=[EventShare(parties[s.party_id], s.amount) for s in distribution.shares if s.amount > 0])
        else:
            distribution.entry = _post_differences(organisation, distribution, entry_date, piece, label, source)
    except AccountingError as error:
        raise _refuse(error) from None
    if previous is not None:
        _claim_refunds(organisation, distribution, entry_date)
        move(previous, DistributionStatus.SUPERSEDED, reason=f"Remplacée par la version {distribution.version}")
    move(distribution, DistributionStatus.FROZEN)
    db.session.flush()
    return distribution


def _organisation(distribution):
    from backoffice.organisations.models import Organisation

    return db.session.get(Organisation, distribution.organisation_id)


def _post_differences(organisation, distribution, entry_date, piece, label, source):
    from backoffice.accounting.services import event_accounts

    journal, charge, associates_account = event_accounts(organisation, "sisa_distribution")
    diffs = [(pid, diff) for pid, _, _, _, diff in differences(distribution) if diff]
    if not diffs:
        return None
    parties = parties_by_id(pid for pid, _ in diffs)
    lines = [EntryLineSpec(associates_account, credit=diff, party=parties[pid]) if diff > 0 else
             EntryLineSpec(associates_account, debit=-diff, party=parties[pid]) for pid, diff in diffs]
    net = sum((diff for _, diff in diffs), ZERO)
    if net > 0:
        lines.insert(0, EntryLineSpec(charge, debit=net))
    elif net < 0:
        lines.insert(0, EntryLineSpec(charge, credit=-net))
    return post_entry(organisation, journal, entry_date, piece, f"Correction : {label}"[:200], lines, source=source,
                      event="sisa_distribution")


def payable(distribution):
    """{party id: what is still to pay him}: his amount less what earlier versions paid him (by
    transfer, or by netting a refund he owed), net of the refunds they claimed back (negative: he
    was overpaid and owes it back). What is netted against ``distribution`` itself is not taken
    off here: ``transfers`` does."""
    from backoffice.sisa.models import SisaRefund

    paid = defaultdict(lambda: ZERO)
    earlier, earlier_ids = distribution.supersedes, []
    while earlier is not None:
        earlier_ids.append(earlier.id)
        for share in earlier.shares:
            paid[share.party_id] += Decimal(share.detail.get("paid", "0"))
        earlier = earlier.supersedes
    if earlier_ids:
        for party_id, amount in db.session.execute(select(SisaRefund.party_id, SisaRefund.amount).where(
                SisaRefund.distribution_id.in_(earlier_ids))):
            paid[party_id] -= amount
        # A refund netted against an earlier version paid that much of its share (version
        # superseded before its transfer went out, or paid for the rest).
        for party_id, amount in netted_against(earlier_ids).items():
            paid[party_id] += amount
    amounts = {s.party_id: s.amount for s in distribution.shares}
    return {pid: amounts.get(pid, ZERO) - paid[pid] for pid in set(amounts) | set(paid)}


def transfers(distribution):
    """[(party, PayeeBankDetails, amount)] of the positive amounts to pay — what is due less the
    refunds netted against this version (never negative: a netting never exceeds what is due);
    ``SisaError`` naming every associate without bank details."""
    from backoffice.sisa.models import DistributionStatus

    if distribution.status != DistributionStatus.FROZEN.value:
        raise SisaError("Seule une version validée et pas encore payée donne lieu à des virements.")
    netted = netted_against([distribution.id])
    due = {pid: amount - netted.get(pid, ZERO) for pid, amount in payable(distribution).items()}
    due = {pid: amount for pid, amount in due.items() if amount > 0}
    organisation = _organisation(distribution)
    details = banking.payee_details_for(organisation, list(due))
    parties = parties_by_id(due)
    missing = sorted(parties[pid].display_name for pid in due if pid not in details)
    if missing:
        raise SisaError(f"Coordonnées bancaires manquantes pour {len(missing)} associé(s) : {', '.join(missing)}. "
                        "Complétez leur IBAN avant de produire le fichier de virements.")
    return sorted(((parties[pid], details[pid], amount) for pid, amount in due.items()),
                  key=lambda t: (t[0].sort_name, t[0].id))


def transfer_file(distribution, execution_date):
    """The pain.001 paying every associate his amount in one upload (banking.sepa, schema-valid)."""
    from backoffice.banking import sepa

    rows = transfers(distribution)
    if not rows:
        raise SisaError("Aucun montant à virer pour cette version.")
    account = banking.default_account(_organisation(distribution))
    if account is None or not account.iban:
        raise SisaError("La SISA n'a pas de compte bancaire par défaut avec un IBAN : complétez-le.")
    try:
        return sepa.credit_transfer_file(account, [
            (details, amount, f"SISA{distribution.year}V{distribution.version}P{party.id}",
             f"Repartition ACI {distribution.year} v{distribution.version}") for party, details, amount in rows],
            execution_date)
    except ServiceError as error:
        raise _refuse(error) from None


def _start_job(distribution, user, job, kind, label, params=None):
    from backoffice.tasks.services import start_task

    return start_task(organisation=_organisation(distribution), user=user, kind=kind, label=label, job=job,
                      params={"distribution_id": distribution.id, **(params or {})},
                      dedupe_key=f"{kind}:{distribution.id}")


def start_statements(distribution, user):
    """The task issuing the statements of a validated version (job ``sisa.statements``, run
    once the transaction commits). Returns the task."""
    from jobs.sisa import statements

    if distribution.status == "draft":
        raise SisaError("Validez la répartition avant d'en produire les relevés.")
    return _start_job(distribution, user, statements, "sisa.statements",
                      f"Relevés {distribution.year} v{distribution.version}")


def start_summary(distribution, user, file_format="csv"):
    """The task writing the summary table of a validated version (CSV or XLSX)."""
    from jobs.sisa import summary

    if distribution.status == "draft":
        raise SisaError("Validez la répartition avant d'en produire le tableau.")
    return _start_job(distribution, user, summary, "sisa.summary",
                      f"Tableau de la répartition {distribution.year} v{distribution.version}",
                      {"format": "xlsx" if file_format == "xlsx" else "csv"})


def start_transfer_file(distribution, user, execution_date):
    """The task writing the pain.001 of a validated version; refused now, in French, when a
    transfer cannot be made (an associate without IBAN…), rather than in the job."""
    from jobs.sisa import transfer_file as job

    transfers(distribution)
    if execution_date is None:
        raise SisaError("Indiquez la date d'exécution des virements.", "execution_date")
    return _start_job(distribution, user, job, "sisa.transfer_file",
                      f"Virements {distribution.year} v{distribution.version}",
                      {"execution_date": execution_date.isoformat()})


def mark_paid(distribution, paid_on):
    """The transfers went out: D 4551 per associate / C bank (lettering his account), each
    share's paid amount kept, the version paid."""
    from backoffice.lifecycle import move
    from backoffice.sisa.models import DistributionStatus, SisaDistribution

    rows = transfers(distribution)
    if rows:
        try:
            post_event(
                _organisation(distribution), "sisa_distribution_paid", entry_date=paid_on,
                piece_ref=f"SISA-{distribution.year}-V{distribution.version}-VIR",
                label=f"Virement répartition ACI {distribution.year} v{distribution.version}",
                shares=[EventShare(party, amount) for party, _, amount in rows],
                source=posting_source(SisaDistribution, distribution.id, "paid"))
        except AccountingError as error:
            raise _refuse(error) from None
    paid = {party.id: amount for party, _, amount in rows}
    for share in distribution.shares:
        share.detail = {**share.detail, "paid": str(paid.get(share.party_id, ZERO))}
    distribution.paid_on = paid_on
    move(distribution, DistributionStatus.PAID)
    db.session.flush()
    return distribution


def shares_of(organisation, party):
    """The shares of ``party`` in the validated versions in force (his own figures), by year."""
    from backoffice.sisa.models import DistributionStatus, SisaDistribution, SisaDistributionShare

    return list(db.session.execute(
        select(SisaDistribution, SisaDistributionShare).join(SisaDistributionShare.distribution).where(
            SisaDistribution.organisation_id == organisation.id, SisaDistributionShare.party_id == party.id,
            SisaDistribution.status.in_([DistributionStatus.FROZEN.value, DistributionStatus.PAID.value]))
        .order_by(SisaDistribution.year.desc())))


# --------------------------------------------------------------------------------------------
# Refunds: a correction that gives an associate less than he was already paid
# --------------------------------------------------------------------------------------------

def _claim_refunds(organisation, distribution, entry_date):
    """For each associate the correction ``distribution`` leaves overpaid, a refund owed: posted
    D 467 / C 4551 on his auxiliary accounts (his current account, debited by the correction,
    is settled; the receivable is followed on 467), once (source ``sisa_refunds:<id>``)."""
    from backoffice.accounting.services import event_accounts
    from backoffice.sisa.models import SisaRefund

    owed = sorted((pid, -amount) for pid, amount in payable(distribution).items() if amount < 0)
    if not owed:
        return []
    journal, _, associates_account = event_accounts(organisation, "sisa_distribution")
    parties = parties_by_id(pid for pid, _ in owed)
    refunds = []
    for party_id, amount in owed:
        refund = SisaRefund(organisation_id=organisation.id, year=distribution.year, distribution_id=distribution.id,
                            party_id=party_id, amount=amount)
        db.session.add(refund)
        db.session.flush()
        party = parties[party_id]
        try:
            refund.entry = post_entry(
                organisation, journal, entry_date, f"SISA-{distribution.year}-V{distribution.version}-R{party_id}",
                f"Trop-perçu répartition ACI {distribution.year} v{distribution.version} – {party.display_name}"[:200],
                [EntryLineSpec(REFUND_ACCOUNT, debit=amount, party=party),
                 EntryLineSpec(associates_account, credit=amount, party=party)],
                source=posting_source(SisaRefund, refund.id))
        except AccountingError as error:
            raise _refuse(error) from None
        refunds.append(refund)
    db.session.flush()
    return refunds


def refunds(organisation, year=None):
    """The refunds owed by associates (of ``year``, or all), the ones still owed first."""
    from backoffice.sisa.models import RefundStatus, SisaRefund

    query = select(SisaRefund).where(SisaRefund.organisation_id == organisation.id)
    if year is not None:
        query = query.where(SisaRefund.year == year)
    rows = list(db.session.scalars(query.order_by(SisaRefund.year.desc(), SisaRefund.id)))
    return sorted(rows, key=lambda r: (r.status != RefundStatus.OWED.value, -r.year, r.id))


def refunds_of(distribution):
    """{party id: SisaRefund} claimed by ``distribution``."""
    from backoffice.sisa.models import SisaRefund

    return {r.party_id: r for r in db.session.scalars(select(SisaRefund).where(
        SisaRefund.distribution_id == distribution.id))}


def settle_refund(refund, settled_on):
    """The associate paid back what he still owed (the refund less what was netted): D bank /
    C 467 his auxiliary account (lettered with the receivable), the refund settled on ``settled_on``."""
    from backoffice.accounting.services import event_accounts
    from backoffice.lifecycle import move
    from backoffice.sisa.models import RefundStatus, SisaRefund

    if refund.status != RefundStatus.OWED.value:
        raise SisaError(f"Ce remboursement est déjà enregistré (le {refund.settled_on:%d/%m/%Y}).")
    if settled_on is None:
        raise SisaError("Indiquez la date de réception du remboursement.", "settled_on")
    if refund.entry is not None and settled_on < refund.entry.entry_date:
        raise SisaError(f"Un remboursement reçu le {settled_on:%d/%m/%Y}, avant la correction qui l'a demandé "
                        f"({refund.entry.entry_date:%d/%m/%Y}) ? Vérifiez la date.", "settled_on")
    organisation = _organisation(refund.distribution)
    journal, _, bank = event_accounts(organisation, "sisa_distribution_paid")
    try:
        refund.settlement_entry = post_entry(
            organisation, journal, settled_on, f"SISA-{refund.year}-RBT{refund.id}",
            f"Remboursement trop-perçu ACI {refund.year} – {refund.party.display_name}"[:200],
            [EntryLineSpec(bank, debit=refund.outstanding), EntryLineSpec(REFUND_ACCOUNT, credit=refund.outstanding,
                                                                          party=refund.party)],
            source=posting_source(SisaRefund, refund.id, "settled"))
    except AccountingError as error:
        raise _refuse(error) from None
    refund.settled_on = settled_on
    move(refund, RefundStatus.SETTLED)
    db.session.flush()
    return refund


# --------------------------------------------------------------------------------------------
# Netting a refund against a later payment to the same associate
# --------------------------------------------------------------------------------------------

def netted_against(distribution_ids):
    """{party id: the refunds netted against the versions ``distribution_ids``} (one query)."""
    from backoffice.sisa.models import SisaRefundOffset

    netted = defaultdict(lambda: ZERO)
    for party_id, amount in db.session.execute(select(SisaRefundOffset.party_id, SisaRefundOffset.amount).where(
            SisaRefundOffset.distribution_id.in_(list(distribution_ids)))):
        netted[party_id] += amount
    return dict(netted)


@dataclass(frozen=True)
class Netting:
    """A refund that can be netted against the transfer of a version: ``amount`` of it (what he
    still owes, at most what is left to transfer to him)."""

    refund: object
    amount: Decimal
    due: Decimal  # what the version still has to transfer to him before this netting


def netting_proposals(distribution):
    """[Netting] for a validated, unpaid version: each associate it owes money to who still owes
    a refund (of this year or another, the oldest first) — never more than he owes nor than
    what is left to transfer to him."""
    from backoffice.sisa.models import DistributionStatus, RefundStatus, SisaRefund

    if distribution.status != DistributionStatus.FROZEN.value:
        return []
    netted = netted_against([distribution.id])
    due = {pid: amount - netted.get(pid, ZERO) for pid, amount in payable(distribution).items()}
    due = {pid: amount for pid, amount in due.items() if amount > 0}
    if not due:
        return []
    owed = db.session.scalars(select(SisaRefund).where(
        SisaRefund.organisation_id == distribution.organisation_id, SisaRefund.status == RefundStatus.OWED.value,
        SisaRefund.party_id.in_(list(due)), SisaRefund.distribution_id != distribution.id)
        .order_by(SisaRefund.year, SisaRefund.id))
    proposals = []
    for refund in owed:
        if any(o.distribution_id == distribution.id for o in refund.offsets):
            continue
        amount = min(refund.outstanding, due[refund.party_id])
        if amount > 0:
            proposals.append(Netting(refund, amount, due[refund.party_id]))
            due[refund.party_id] -= amount
    return proposals


def net_refunds(distribution, netted_on, party_ids=None):
    """Net what the associates (``party_ids``, or all) still owe back against this version's
    transfer to them (``netting_proposals``): each offset posted D 4551 / C 467 on his auxiliary
    accounts on ``netted_on`` — his current account letters once the rest is transferred, his
    receivable once nothing is left of it; a refund netted in full is settled. The pain.001 then
    pays the net amounts. Returns the ``SisaRefundOffset`` rows."""
    from backoffice.accounting.services import event_accounts
    from backoffice.lifecycle import move
    from backoffice.sisa.models import DistributionStatus, RefundStatus, SisaRefundOffset

    if distribution.status != DistributionStatus.FROZEN.value:
        raise SisaError("Seule une version validée et pas encore payée peut compenser des trop-perçus.")
    if netted_on is None:
        raise SisaError("Indiquez la date de la compensation.", "netted_on")
    proposals = [p for p in netting_proposals(distribution) if party_ids is None or p.refund.party_id in party_ids]
    if not proposals:
        raise SisaError(f"Aucun trop-perçu à compenser avec la version {distribution.version} : aucun associé "
                        "qui doit un remboursement n'y reçoit d'argent.")
    organisation = _organisation(distribution)
    journal, _, associates_account = event_accounts(organisation, "sisa_distribution")
    offsets = []
    for proposal in proposals:
        refund, party = proposal.refund, proposal.refund.party
        earliest = max(e.entry_date for e in (refund.entry, distribution.entry) if e is not None)
        if netted_on < earliest:
            raise SisaError(f"Une compensation le {netted_on:%d/%m/%Y}, avant l'écriture qu'elle solde "
                            f"({earliest:%d/%m/%Y}) ? Vérifiez la date.", "netted_on")
        offset = SisaRefundOffset(organisation_id=organisation.id, refund=refund, distribution_id=distribution.id,
                                  party_id=refund.party_id, amount=proposal.amount, netted_on=netted_on)
        db.session.add(offset)
        db.session.flush()
        try:
            offset.entry = post_entry(
                organisation, journal, netted_on,
                f"SISA-{distribution.year}-V{distribution.version}-C{refund.id}",
                f"Compensation trop-perçu ACI {refund.year} / répartition {distribution.year} "
                f"v{distribution.version} – {party.display_name}"[:200],
                [EntryLineSpec(associates_account, debit=proposal.amount, party=party),
                 EntryLineSpec(REFUND_ACCOUNT, credit=proposal.amount, party=party)],
                source=posting_source(SisaRefundOffset, offset.id))
        except AccountingError as error:
            raise _refuse(error) from None
        if refund.outstanding == 0:
            refund.settled_on = netted_on
            move(refund, RefundStatus.SETTLED, reason=f"Compensé avec la répartition {distribution.year} "
                                                      f"v{distribution.version}")
        offsets.append(offset)
    db.session.flush()
    return offsets
