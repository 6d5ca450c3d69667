"""Demo books: the CPTS du Pays Blanc and the SISA du Pays de Mayenne get their chart of
accounts, and a year of operations that do not come from membership (which posts its own fees):
an ARS subsidy, the dermatoscope grants, bank fees and the accountant's fees for the CPTS; the
ACI remuneration, its distribution to associates and the running costs for the SISA.

Every operation is booked in the fiscal year it belongs to (``accounting.cutoff``): the SISA's
ACI 2025 balance and its distribution, received and decided in 2026, are income and charge of
2025; the accountant's fees for 2025 are accrued at 31/12/2025.

Idempotent: every entry is posted with a ``source`` (``demo:…``), so a second seed finds it
and changes nothing. No period is closed (the membership demo posts after this step).
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

import backoffice.people.demo  # noqa: F401  (the directory's step must run before this one)
from backoffice.accounting import services
from backoffice.demo import DEMO_STEPS
from backoffice.extensions import db
from backoffice.people.models import Professional

CPTS, SISA = "cpts-pays-blanc", "sisa-pays-de-mayenne"
YEAR = 2026


def _professionals(postcode_prefix, count):
    return list(db.session.scalars(select(Professional).where(Professional.postcode.startswith(postcode_prefix))
                                   .order_by(Professional.id).limit(count)))


def _lines(*specs):
    return [services.EntryLineSpec(account, debit=Decimal(debit), credit=Decimal(credit))
            for account, debit, credit in specs]


def cpts_books(organisation):
    post = services.post_event
    post(organisation, "subsidy_received", amount=Decimal("48000.00"), entry_date=date(YEAR, 3, 12),
         piece_ref="ARS-FIR-2026", label="ARS Pays de la Loire – FIR, mission d'accès aux soins",
         source="demo:cpts:ars-2026")
    post(organisation, "aci_income", amount=Decimal("25500.00"), entry_date=date(YEAR, 4, 30),
         piece_ref="CPAM44-ACI-2026-1", label="CPAM de Loire-Atlantique – ACI CPTS, avance 2026",
         source="demo:cpts:aci-2026-1")
    for n, doctor in enumerate(_professionals("44", 3), start=1):
        post(organisation, "grant_committed", amount=Decimal("850.00"), entry_date=date(YEAR, 5, 20),
             party=doctor, piece_ref=f"CONV-DERMATO-{n:02d}",
             label=f"Dermatoscope – convention {doctor.display_name}", source=f"demo:cpts:dermato-{n}")
        if n < 3:  # the third one waits for its proof of purchase
            post(organisation, "grant_paid", amount=Decimal("850.00"), entry_date=date(YEAR, 6, 15),
                 party=doctor, piece_ref=f"CONV-DERMATO-{n:02d}",
                 label=f"Dermatoscope – versement {doctor.display_name}", source=f"demo:cpts:dermato-{n}-paid")
    for month in range(1, 11):
        post(organisation, "bank_fees", amount=Decimal("8.90"), entry_date=date(YEAR, month, 28),
             piece_ref=f"REL-{YEAR}-{month:02d}", label="Frais de tenue de compte", source=f"demo:cpts:fees-{month}")
    # The accountant's fees for closing 2025 are a charge of 2025 (cut-off): an accrual at the
    # year end (D 6226 / C 408 factures non parvenues), the invoice paid in June against 408.
    services.post_entry(organisation, "OD", date(YEAR - 1, 12, 31), "FNP-2025-COMPTA",
                        "Cabinet Atlantique – honoraires 2025 (facture non parvenue)",
                        _lines(("6226", "1440.00", "0"), ("408", "0", "1440.00")), source="demo:cpts:accountant-accrual")
    services.post_entry(organisation, "BQ", date(YEAR, 6, 3), "FAC-2026-117", "Cabinet Atlantique – honoraires 2025",
                        _lines(("408", "1440.00", "0"), ("512", "0", "1440.00")), source="demo:cpts:accountant")
    services.post_entry(organisation, "BQ", date(YEAR, 6, 8), "FAC-TR-0608", "Traiteur – assemblée générale",
                        _lines(("6257", "612.50", "0"), ("512", "0", "612.50")), source="demo:cpts:ag")


def sisa_books(organisation):
    post = services.post_event
    # The balance of the ACI 2025, paid in April 2026, is turnover of 2025 (cut-off): D 4687 /
    # C 7061 at 31/12/2025, then the bank against 4687.
    aci_2025 = (date(YEAR - 1, 1, 1), date(YEAR - 1, 12, 31))
    services.post_period_income(organisation, "aci_income", amount=Decimal("62000.00"), received_on=date(YEAR, 4, 15),
                                period_start=aci_2025[0], period_end=aci_2025[1], piece_ref="CPAM53-ACI-2025-SOLDE",
                                label="CPAM de la Mayenne – ACI MSP, solde 2025", source="demo:sisa:aci-2025-solde")
    services.post_entry(organisation, "BQ", date(YEAR, 4, 30), "FAC-LOG-2026", "Logiciel pluriprofessionnel",
                        _lines(("651", "2400.00", "0"), ("512", "0", "2400.00")), source="demo:sisa:software")
    associates = _professionals("53", 6)
    for n, associate in enumerate(associates, start=1):
        share = Decimal("4500.00") + Decimal(250 * n)
        # The associates' shares of the ACI 2025 are a charge of 2025, like its income.
        post(organisation, "sisa_distribution", amount=share,
             entry_date=services.attach(organisation, *aci_2025, date(YEAR, 5, 31)).entry_date, party=associate,
             piece_ref="REPART-ACI-2025", label=f"Répartition ACI 2025 – {associate.display_name}",
             source=f"demo:sisa:share-{n}")
        if n <= 4:
            post(organisation, "sisa_distribution_paid", amount=share, entry_date=date(YEAR, 6, 10), party=associate,
                 piece_ref="REPART-ACI-2025", label=f"Virement répartition ACI – {associate.display_name}",
                 source=f"demo:sisa:share-{n}-paid")
    post(organisation, "bank_fees", amount=Decimal("15.00"), entry_date=date(YEAR, 6, 30), piece_ref="REL-06",
         label="Frais bancaires", source="demo:sisa:fees-06")


def step(organisations):
    for slug, fill in ((CPTS, cpts_books), (SISA, sisa_books)):
        organisation = organisations.get(slug)
        if organisation is not None:
            services.ensure_ledger(organisation)
            fill(organisation)
    db.session.flush()


DEMO_STEPS.append(step)
