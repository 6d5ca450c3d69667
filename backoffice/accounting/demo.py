"""Demo books: three consecutive fiscal years (2024, 2025, 2026) of the CPTS du Pays Blanc and of
the SISA du Pays de Mayenne, the first two **closed** with their opening balances (AN) and the
allocation of their result voted at the next AG, the third open — what a treasurer and her
accountant find after two years of real use.

The CPTS (plan comptable des associations), besides the fees that membership posts: the ARS's
FIR subsidy, whose part not spent at the year end is carried in *fonds dédiés* (D 6894 / C 194 at
31 December, used the next year: D 194 / C 7894); the ACI CPTS, an advance in the year and the
balance paid in April of the next (income of its year: D 4687 / C 706 at 31 December, the
cut-off of ``accounting.cutoff``); the coordinator's salary and its social charges (URSSAF paid
on the 15th of the next month, December's in January); the rent of the office; the insurance;
the bank fees; the accountant, whose fees for closing a year are accrued at its end (D 6226 /
C 408, *facture non parvenue*) and paid in June; the grants paid to professionals (committed on
467, then paid); the mission indemnities of the professionals who run the *soins non
programmés* mission (on their 467 accounts, paid after the quarter: the last quarter's are still
due at the year end and carried per auxiliary account by the AN); the AG's reception.

The SISA (plan comptable général): the ACI MSP of 2024 (advance, balance received in April 2025
on 4687) and its distribution to the associates (4551, paid in June 2025), the software, the
insurance, the bank fees and the accountant with its accrual. 2025's ACI (advance, and balance
received in April 2026: income of 2025 through 4687), its ETP programme, its deductions
(coordinator, software, accountant: D charge / C 408 at 31/12/2025) and its distribution
(version 1, corrected by a version 2) are the SISA's own demo's (``sisa.demo``, through its
services), posted once, there only: this module adds to 2025 what that demo does not post — the
insurance and the bank fees — and, in 2026, pays the invoices behind its deductions (D 408 /
C 512, ``settle_sisa_deductions``, a final step since that demo runs after this one). The 2025
distribution is paid in May 2026 by its transfer file (``sisa.demo.pay_correction``).

The closings (``close_years``, run after every feature's demo: fees, grants and the SISA's
distribution post into these years) go through the real services: ``close_fiscal_year`` (the
checklist, definitive numbers, the FEC's fingerprint, the definitive AN of the next year), then
``allocate_result`` after the AG of June (the result to 110 *report à nouveau*, some of it to
1068 reserves).

The demo's "today" is the beginning of December 2026: nothing is dated later (December's
salary, the 2026 accrual and fonds dédiés are the treasurer's work to come).

Idempotent: every entry is posted with a ``source`` (``demo:…``), so a second seed finds it and
changes nothing; a closed year is not posted into again.
"""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

import backoffice.people.demo  # noqa: F401  (the directory's step must run before this one)
from backoffice.accounting import closing, opening, services
from backoffice.demo import DEMO_STEPS, FINAL_STEPS
from backoffice.extensions import db
from backoffice.people.models import Professional

CPTS, SISA = "cpts-pays-blanc", "sisa-pays-de-mayenne"
YEARS = (2024, 2025, 2026)
CLOSED_YEARS = (2024, 2025)
TODAY = date(2026, 12, 1)
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")

# The CPTS's figures per year (euros).
FIR = {2024: "40000.00", 2025: "45000.00", 2026: "48000.00"}
FIR_RECEIVED = {2024: date(2024, 1, 25), 2025: date(2025, 3, 12), 2026: date(2026, 3, 12)}
FIR_NOT_SPENT = {2024: "6500.00", 2025: "8200.00"}        # carried in fonds dédiés, used the next year
ACI_ADVANCE = {2024: "22000.00", 2025: "24000.00", 2026: "25500.00"}
ACI_BALANCE = {2024: "14600.00", 2025: "15900.00"}        # paid in April of the next year
GROSS_SALARY = {2024: "2850.00", 2025: "2900.00", 2026: "2980.00"}
EMPLOYEE_RATE, EMPLOYER_RATE = Decimal("0.22"), Decimal("0.41")
RENT = {2024: "460.00", 2025: "470.00", 2026: "480.00"}
INSURANCE = {2024: "148.90", 2025: "151.30"}              # 2026's waits on the bank statement
ACCOUNTANT = {2024: "1380.00", 2025: "1440.00"}
GRANTS = {2024: ("Aide au matériel de télé-expertise", "700.00"), 2025: ("Aide à la formation ETP", "450.00")}
MISSION_RATE = Decimal("75.00")                            # per meeting of the mission
AG_RECEPTION = {2024: "540.00", 2025: "585.00", 2026: "612.50"}
ALLOCATION_DAY = {2024: date(2025, 6, 14), 2025: date(2026, 6, 13)}
RESERVE_SHARE = Decimal("0.5")                             # half of a surplus to reserves (1068)

# The SISA's figures (2024 here; 2025's ACI, deductions and distribution come from the SISA's
# demo: its software and accountant are deductions there, not posted here a second time).
SISA_ACI_2024 = ("68000.00", "45300.00")
SISA_SOFTWARE = {2024: "2300.00", 2026: "2400.00"}
SISA_INSURANCE = {2024: "420.00", 2025: "432.00", 2026: "444.00"}
SISA_ACCOUNTANT = {2024: "1800.00"}
# When the invoices behind the SISA demo's 2025 deductions, accrued on 408, are paid (by kind).
SISA_DEDUCTIONS_PAID = {"coordinator": (date(2026, 1, 12), "FAC-2026-004"),
                        "software": (date(2026, 1, 30), "FAC-LOG-2025"),
                        "accountant": (date(2026, 5, 20), "FAC-2026-052")}


def _professionals(postcode_prefix, count):
    return list(db.session.scalars(select(Professional).where(Professional.postcode.startswith(postcode_prefix))
                                   .order_by(Professional.id).limit(count)))


def _lines(*specs):
    """``EntryLineSpec`` of ``(account, debit, credit[, party])``."""
    return [services.EntryLineSpec(spec[0], debit=Decimal(spec[1]), credit=Decimal(spec[2]),
                                   party=spec[3] if len(spec) > 3 else None) for spec in specs]


def _entry(organisation, journal, day, piece_ref, label, specs, source):
    """Post a demo entry unless it is dated after the demo's today."""
    if day > TODAY:
        return None
    return services.post_entry(organisation, journal, day, piece_ref, label, _lines(*specs), source=source)


def _event(organisation, event, day, **kwargs):
    if day > TODAY:
        return None
    return services.post_event(organisation, event, entry_date=day, **kwargs)


def _month_end(year, month):
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _cents(amount):
    return amount.quantize(Decimal("0.01"))


# --------------------------------------------------------------------------------------------
# CPTS
# --------------------------------------------------------------------------------------------

def cpts_year(organisation, year):
    """One year of the CPTS's operations other than the fees (module docstring)."""
    src = f"demo:cpts:{year}"
    _event(organisation, "subsidy_received", FIR_RECEIVED[year], amount=Decimal(FIR[year]),
           piece_ref=f"ARS-FIR-{year}", label=f"ARS Pays de la Loire – FIR {year}, mission d'accès aux soins",
           source=f"{src}:fir")
    if year in FIR_NOT_SPENT:  # the part not spent stays owed to the mission: fonds dédiés
        amount = FIR_NOT_SPENT[year]
        _entry(organisation, "OD", date(year, 12, 31), f"FD-FIR-{year}",
               f"Report en fonds dédiés – FIR {year} non utilisé", (("6894", amount, "0"), ("194", "0", amount)),
               f"{src}:fir-dedicated")
        _entry(organisation, "OD", date(year + 1, 6, 30), f"FD-FIR-{year}",
               f"Utilisation des fonds dédiés – FIR {year}", (("194", amount, "0"), ("7894", "0", amount)),
               f"{src}:fir-dedicated-used")
    _event(organisation, "aci_income", date(year, 4, 30), amount=Decimal(ACI_ADVANCE[year]),
           piece_ref=f"CPAM44-ACI-{year}-1", label=f"CPAM de Loire-Atlantique – ACI CPTS, avance {year}",
           source=f"{src}:aci-advance")
    if year in ACI_BALANCE:  # received in April of the next year: income of its year (4687)
        services.post_period_income(
            organisation, "aci_income", amount=Decimal(ACI_BALANCE[year]), received_on=date(year + 1, 4, 28),
            period_start=date(year, 1, 1), period_end=date(year, 12, 31), piece_ref=f"CPAM44-ACI-{year}-SOLDE",
            label=f"CPAM de Loire-Atlantique – ACI CPTS, solde {year}", source=f"{src}:aci-balance")
    _payroll(organisation, year, src)
    for month in range(1, 13):
        _entry(organisation, "BQ", date(year, month, 5), f"LOYER-{year}-{month:02d}",
               f"Loyer du bureau, Maison des associations – {MONTHS[month - 1]} {year}",
               (("6132", RENT[year], "0"), ("512", "0", RENT[year])), f"{src}:rent-{month}")
        _event(organisation, "bank_fees", date(year, month, 28), amount=Decimal("8.90"),
               piece_ref=f"REL-{year}-{month:02d}", label="Frais de tenue de compte", source=f"{src}:fees-{month}")
    if year in INSURANCE:
        _entry(organisation, "BQ", date(year, 6, 8), f"MAIF-{year}", f"MAIF – multirisque et responsabilité civile {year}",
               (("616", INSURANCE[year], "0"), ("512", "0", INSURANCE[year])), f"{src}:insurance")
    _accountant(organisation, year, ACCOUNTANT.get(year), date(year + 1, 6, 3), f"FAC-{year + 1}-117", src)
    _grants(organisation, year, src)
    _missions(organisation, year, src)
    _entry(organisation, "BQ", date(year, 6, 8), f"FAC-TR-{year}", f"Traiteur – assemblée générale {year}",
           (("6257", AG_RECEPTION[year], "0"), ("512", "0", AG_RECEPTION[year])), f"{src}:ag")


def _payroll(organisation, year, src):
    """The coordinator's salary (net paid on the last day of the month), its charges, and the
    URSSAF paid on the 15th of the next month."""
    gross = Decimal(GROSS_SALARY[year])
    employee = _cents(gross * EMPLOYEE_RATE)
    employer = _cents(gross * EMPLOYER_RATE)
    for month in range(1, 13):
        day = _month_end(year, month)
        name = f"{MONTHS[month - 1]} {year}"
        _entry(organisation, "BQ", day, f"PAIE-{year}-{month:02d}", f"Salaire de la coordinatrice – {name}",
               (("6411", gross, "0"), ("431", "0", employee), ("512", "0", gross - employee)), f"{src}:salary-{month}")
        _entry(organisation, "OD", day, f"PAIE-{year}-{month:02d}", f"Charges sociales patronales – {name}",
               (("6451", employer, "0"), ("431", "0", employer)), f"{src}:charges-{month}")
        paid = date(year + month // 12, month % 12 + 1, 15)
        _entry(organisation, "BQ", paid, f"URSSAF-{year}-{month:02d}", f"URSSAF – cotisations {name}",
               (("431", employee + employer, "0"), ("512", "0", employee + employer)), f"{src}:urssaf-{month}")


def _accountant(organisation, year, amount, paid_on, invoice, src):
    """The accountant's fees for closing ``year``: accrued at its end (a charge of the year,
    D 6226 / C 408 *facture non parvenue*), the invoice paid ``paid_on`` against 408."""
    if amount is None:
        return
    _entry(organisation, "OD", date(year, 12, 31), f"FNP-{year}-COMPTA",
           f"Cabinet Atlantique – honoraires {year} (facture non parvenue)",
           (("6226", amount, "0"), ("408", "0", amount)), f"{src}:accountant-accrual")
    _entry(organisation, "BQ", paid_on, invoice, f"Cabinet Atlantique – honoraires {year}",
           (("408", amount, "0"), ("512", "0", amount)), f"{src}:accountant-paid")


def _grants(organisation, year, src):
    """Grants to professionals: committed (467), then paid. 2026's are the dermatoscopes."""
    if year == 2026:
        for n, doctor in enumerate(_professionals("44", 3), start=1):
            _event(organisation, "grant_committed", date(year, 5, 20), amount=Decimal("850.00"), party=doctor,
                   piece_ref=f"CONV-DERMATO-{n:02d}", label=f"Dermatoscope – convention {doctor.display_name}",
                   source=f"{src}:dermato-{n}")
            if n < 3:  # the third one waits for its proof of purchase
                _event(organisation, "grant_paid", date(year, 6, 15), amount=Decimal("850.00"), party=doctor,
                       piece_ref=f"CONV-DERMATO-{n:02d}", label=f"Dermatoscope – versement {doctor.display_name}",
                       source=f"{src}:dermato-{n}-paid")
        return
    what, amount = GRANTS[year]
    first = 8 if year == 2024 else 10
    for n, professional in enumerate(_professionals("44", first + 2)[first:], start=1):
        piece = f"CONV-{year}-{n:02d}"
        _event(organisation, "grant_committed", date(year, 4, 10), amount=Decimal(amount), party=professional,
               piece_ref=piece, label=f"{what} – convention {professional.display_name}", source=f"{src}:grant-{n}")
        _event(organisation, "grant_paid", date(year, 5, 12), amount=Decimal(amount), party=professional,
               piece_ref=piece, label=f"{what} – versement {professional.display_name}", source=f"{src}:grant-{n}-paid")


def _missions(organisation, year, src):
    """Each quarter, three professionals indemnified for the meetings of the soins non
    programmés mission (D 6256 / C 467), paid twenty days after the quarter."""
    team = _professionals("44", 20)[12:20]
    for quarter in range(1, 5):
        end = _month_end(year, 3 * quarter)
        for n in range(3):
            professional = team[(quarter + n) % len(team)]
            amount = MISSION_RATE * (2 + (quarter + n) % 2)
            piece = f"MISSION-SNP-{year}-T{quarter}-{n + 1}"
            _entry(organisation, "OD", end, piece,
                   f"Indemnités mission soins non programmés T{quarter} {year} – {professional.display_name}",
                   (("6256", amount, "0"), ("467", "0", amount, professional)), f"{src}:mission-{quarter}-{n}")
            _entry(organisation, "BQ", end + timedelta(days=20), piece,
                   f"Virement indemnités mission T{quarter} {year} – {professional.display_name}",
                   (("467", amount, "0", professional), ("512", "0", amount)), f"{src}:mission-{quarter}-{n}-paid")


# --------------------------------------------------------------------------------------------
# SISA
# --------------------------------------------------------------------------------------------

def sisa_year(organisation, year):
    """One year of the SISA's books besides what its own demo posts (module docstring)."""
    src = f"demo:sisa:{year}"
    if year == 2024:
        _sisa_aci_2024(organisation, src)
    if year in SISA_SOFTWARE:
        _entry(organisation, "BQ", date(year, 4, 30), f"FAC-LOG-{year}", f"Logiciel pluriprofessionnel {year}",
               (("651", SISA_SOFTWARE[year], "0"), ("512", "0", SISA_SOFTWARE[year])), f"{src}:software")
    _entry(organisation, "BQ", date(year, 2, 10), f"RCP-{year}", f"Assurance responsabilité civile de la SISA {year}",
           (("616", SISA_INSURANCE[year], "0"), ("512", "0", SISA_INSURANCE[year])), f"{src}:insurance")
    for month in range(1, 13):
        _event(organisation, "bank_fees", date(year, month, 30 if month != 2 else 28), amount=Decimal("15.00"),
               piece_ref=f"REL-{year}-{month:02d}", label="Frais bancaires", source=f"{src}:fees-{month}")
    _accountant(organisation, year, SISA_ACCOUNTANT.get(year), date(year + 1, 5, 20), f"FAC-{year + 1}-052", src)


def _sisa_aci_2024(organisation, src):
    """The ACI 2024: the advance in April, the balance in April 2025 (income of 2024, on 4687),
    shared between six associates at the year end and paid in June 2025."""
    advance, balance = SISA_ACI_2024
    _event(organisation, "aci_income", date(2024, 4, 26), amount=Decimal(advance), piece_ref="CPAM53-ACI-2024-1",
           label="CPAM de la Mayenne – ACI MSP, avance 2024", source=f"{src}:aci-advance")
    aci = (date(2024, 1, 1), date(2024, 12, 31))
    services.post_period_income(organisation, "aci_income", amount=Decimal(balance), received_on=date(2025, 4, 18),
                                period_start=aci[0], period_end=aci[1], piece_ref="CPAM53-ACI-2024-SOLDE",
                                label="CPAM de la Mayenne – ACI MSP, solde 2024", source=f"{src}:aci-balance")
    _shares(organisation, 2024, Decimal("4200.00"), aci, decided=date(2025, 5, 28), paid=date(2025, 6, 12), src=src)


def _shares(organisation, year, base, period, decided, paid, src):
    """Six associates' shares of the ACI ``year``, all paid ``paid`` (2024 only: from 2025 the
    distribution is the SISA's own, computed, validated and posted by ``sisa.demo``)."""
    for n, associate in enumerate(_professionals("53", 6), start=1):
        share = base + Decimal(250 * n)
        # The shares of an ACI year are a charge of that year, like its income (cut-off).
        _event(organisation, "sisa_distribution", services.attach(organisation, *period, decided).entry_date,
               amount=share, party=associate, piece_ref=f"REPART-ACI-{year}",
               label=f"Répartition ACI {year} – {associate.display_name}", source=f"{src}:share-{n}")
        _event(organisation, "sisa_distribution_paid", paid, amount=share, party=associate,
               piece_ref=f"REPART-ACI-{year}", label=f"Virement répartition ACI {year} – {associate.display_name}",
               source=f"{src}:share-{n}-paid")


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------

FILLS = ((CPTS, cpts_year), (SISA, sisa_year))


def step(organisations):
    for slug, fill in FILLS:
        organisation = organisations.get(slug)
        if organisation is None:
            continue
        services.ensure_ledger(organisation)
        with services.posting_batch(organisation):  # some 700 postings: the books' lookups made once
            for year in YEARS:
                if not closing.is_year_closed(organisation, year):  # a closed year is final
                    fill(organisation, year)
    db.session.flush()


def settle_sisa_deductions(organisations):
    """Pay in 2026 the invoices behind the deductions the SISA's demo posted for 2025 (accrued
    D charge / C 408 at 31/12/2025 "until the invoice comes"): D 408 / C 512, so that 408 is
    cleared in 2026 as an accountant expects. A final step: the SISA's demo runs after ``step``."""
    from backoffice.sisa import services as sisa

    organisation = organisations.get(SISA)
    if organisation is None:
        return
    for deduction in sisa.deductions(organisation, 2025):
        if deduction.entry_id is None or deduction.kind not in SISA_DEDUCTIONS_PAID:
            continue
        paid_on, invoice = SISA_DEDUCTIONS_PAID[deduction.kind]
        amount = deduction.posted_amount
        _entry(organisation, "BQ", paid_on, invoice, f"{deduction.label} – facture 2025"[:200],
               (("408", amount, "0"), ("512", "0", amount)), f"demo:sisa:2026:deduction-{deduction.kind}")
    db.session.flush()


def close_years(organisations):
    """Close 2024 and 2025 of both organisations through the real services, in order, each
    result allocated after the next June's AG; already closed years are left as they are."""
    for slug, _ in FILLS:
        organisation = organisations.get(slug)
        if organisation is None:
            continue
        for year in CLOSED_YEARS:
            if not closing.is_year_closed(organisation, year):
                closing.close_fiscal_year(organisation, year)
            if opening.current_allocation(organisation, year) is None:
                result = opening.opening_status(organisation, year + 1).result
                if result > 0:
                    reserves = _cents(result * RESERVE_SHARE)
                    allocations = {"1068": reserves, "110": result - reserves}
                else:
                    allocations = {"119": -result}
                if result:
                    opening.allocate_result(organisation, year, allocations, decided_on=ALLOCATION_DAY[year])
    db.session.flush()


DEMO_STEPS.append(step)
FINAL_STEPS.extend((settle_sisa_deductions, close_years))
