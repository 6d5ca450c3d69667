"""A realistic CPTS year for the annual accounts tests: 2025 then 2026, posted through
``post_event`` / ``post_entry`` (fees called and paid, one paid in advance, ACI and FIR
subsidies with fonds dédiés, the coordinator's salary and social charges, rent, insurance,
bank fees, the accountant with an accrual, a grant committed and paid, equipment and its
depreciation); the AN of 2026 is ``accounting.opening.generate_opening``'s."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from backoffice.accounting import services
from backoffice.accounting.services import EntryLineSpec as L

D = Decimal


def _entry(org, day, piece, label, *lines, journal="OD"):
    return services.post_entry(org, journal=journal, entry_date=day, piece_ref=piece, label=label, lines=list(lines))


def post_year(org, year, members, supplier, *, advance_payer=None):
    """One year of the CPTS's books; figures differ a little between years."""
    k = D(1) if year == 2025 else D("1.1")
    if year == 2025:  # the books taken over from the spreadsheet: own funds and the bank balance
        _entry(org, date(year, 1, 1), "AN-2025", "À-nouveaux 2025 (reprise)", L("512", debit=D("24000.00")),
               L("102", credit=D("10000.00")), L("110", credit=D("14000.00")), journal="AN")
    for n, member in enumerate(members):
        fee = D("50.00") if n % 2 == 0 else D("30.00")
        services.post_event(org, "fee_due", amount=fee, entry_date=date(year, 1, 10 + n), party=member,
                            piece_ref=f"ADH-{year}-{n:04d}", label=f"Cotisation {year} – {member.display_name}")
        if n != 1:  # one member has not paid yet: a receivable at year-end
            services.post_event(org, "fee_paid", amount=fee, entry_date=date(year, 2, 1 + n), party=member,
                                piece_ref=f"VIR-{year}-{n:04d}", label=f"Règlement cotisation – {member.display_name}",
                                payment_method="transfer")
    if advance_payer is not None:  # next year's fee paid in December: a credit on his account, a debt
        services.post_event(org, "fee_paid", amount=D("50.00"), entry_date=date(year, 12, 15), party=advance_payer,
                            piece_ref=f"VIR-{year}-AV", label=f"Cotisation {year + 1} payée d'avance",
                            payment_method="transfer")
    # ACI CPTS (CPAM) and FIR (ARS) for the dermatoscopes: part unspent set aside in fonds dédiés.
    _entry(org, date(year, 3, 20), f"ACI-{year}", "ACI CPTS – avance CPAM", L("512", debit=(D("42000.00") * k).quantize(D("0.01"))),
           L("745", credit=(D("42000.00") * k).quantize(D("0.01"))), journal="BQ")
    _entry(org, date(year, 4, 2), f"FIR-{year}", "FIR ARS – dépistage mélanome", L("441", debit=D("15000.00")),
           L("741", credit=D("15000.00")))
    _entry(org, date(year, 6, 2), f"FIR-{year}-V", "FIR ARS – versement", L("512", debit=D("10000.00")),
           L("441", credit=D("10000.00")), journal="BQ")
    # Salaries of the coordinator, each month; URSSAF paid except December's.
    for month in range(1, 13):
        gross, employee, employer = (D("2800.00") * k).quantize(D("0.01")), D("610.00"), D("1150.00")
        _entry(org, date(year, month, 28), f"PAIE-{year}-{month:02d}", "Salaire coordinatrice",
               L("6411", debit=gross), L("6451", debit=employer), L("421", credit=gross - employee, party=members[0]),
               L("431", credit=employee + employer))
        _entry(org, date(year, month, 28), f"VIRSAL-{year}-{month:02d}", "Virement salaire",
               L("421", debit=gross - employee, party=members[0]), L("512", credit=gross - employee), journal="BQ")
        if month < 12:
            _entry(org, date(year, month, 28), f"URSSAF-{year}-{month:02d}", "URSSAF", L("431", debit=employee + employer),
                   L("512", credit=employee + employer), journal="BQ")
        _entry(org, date(year, month, 5), f"LOY-{year}-{month:02d}", "Loyer bureau MSP", L("6132", debit=D("450.00")),
               L("512", credit=D("450.00")), journal="BQ")
        services.post_event(org, "bank_fees", amount=D("8.40"), entry_date=date(year, month, 27),
                            piece_ref=f"FRAIS-{year}-{month:02d}", label="Frais de tenue de compte")
    _entry(org, date(year, 1, 15), f"MAIF-{year}", "Assurance MAIF", L("616", debit=D("612.35")),
           L("512", credit=D("612.35")), journal="BQ")
    # The accountant: invoice of the year not received at year-end (accrual 408).
    _entry(org, date(year, 12, 31), f"FNP-{year}", "Honoraires expert-comptable (à recevoir)",
           L("6226", debit=D("1800.00")), L("408", credit=D("1800.00")))
    _entry(org, date(year, 9, 10), f"FA-{year}-77", "Papeterie", L("6064", debit=D("123.45")),
           L("401", credit=D("123.45"), party=supplier))
    # A grant to a practice: committed and paid.
    services.post_event(org, "grant_committed", amount=D("1500.00"), entry_date=date(year, 5, 10), party=members[2],
                        piece_ref=f"AIDE-{year}-1", label="Aide dermatoscope")
    services.post_event(org, "grant_paid", amount=D("1500.00"), entry_date=date(year, 6, 10), party=members[2],
                        piece_ref=f"AIDE-{year}-1V", label="Versement aide dermatoscope", payment_method="transfer")
    # Mission indemnities and equipment kept by the association, depreciated.
    _entry(org, date(year, 10, 3), f"MIS-{year}", "Indemnités de mission", L("6256", debit=D("740.00")),
           L("512", credit=D("740.00")), journal="BQ")
    if year == 2025:
        _entry(org, date(year, 7, 1), "IMMO-2025", "Dermatoscope de démonstration", L("2154", debit=D("2400.00")),
               L("512", credit=D("2400.00")), journal="BQ")
    _entry(org, date(year, 12, 31), f"DOT-{year}", "Dotation aux amortissements", L("6811", debit=D("480.00")),
           L("28154", credit=D("480.00")))
    # Fonds dédiés: the FIR unspent at year-end (2025), used the next year (2026).
    if year == 2025:
        _entry(org, date(year, 12, 31), "FD-2025", "Fonds dédiés FIR non utilisés", L("6894", debit=D("6000.00")),
               L("194", credit=D("6000.00")))
    else:
        _entry(org, date(year, 12, 31), "FD-2026", "Utilisation des fonds dédiés FIR", L("194", debit=D("4000.00")),
               L("7894", credit=D("4000.00")))
    # Interest on the savings account.
    _entry(org, date(year, 12, 31), f"INT-{year}", "Intérêts livret", L("512", debit=D("37.12")),
           L("768", credit=D("37.12")), journal="BQ")
