"""Demo memberships of the CPTS du Pays Blanc: grids 2024–2026, collèges, 85 members in 2026.

Deterministic (fixed seed) and idempotent: a membership is recognised by (party, period), and
payments are only recorded for memberships created by this run, so a second seed changes
nothing. Every membership and payment goes through the services, so the books get their
entries (``fee_due``, ``fee_paid``) exactly as in real use.

2026 (the current year): 85 members — most paid (transfer or cheque, a few cheques still to
deposit), some awaiting payment, a few partially paid, one exempt, one overpayment kept as
credit; 2025 and 2024: fewer members, all paid, some of whom did not renew in 2026 (the
"lapsed" list). A small bank statement waits in the matching screen. 2027: the first 12
renewals, called in November 2026 and mostly paid then — income of 2027, a credit on the
members' accounts at the end of 2026 (the cut-off, ``accounting.cutoff``).
"""
import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

import backoffice.people.demo  # noqa: F401  (the directory's step must run before this one)
from backoffice.demo import DEMO_STEPS
from backoffice.extensions import db
from backoffice.membership import deposits, services, statements
from backoffice.membership.models import CategoryKind
from backoffice.people.models import Party, Professional

SEED = 20260608
GRIDS = {
    2024: [("Médecin", "45.00", CategoryKind.PHYSICIAN), ("Autre professionnel de santé", "25.00",
           CategoryKind.OTHER_PROFESSIONAL), ("Structure", "90.00", CategoryKind.STRUCTURE),
           ("Première adhésion", "20.00", CategoryKind.FIRST_YEAR)],
    2025: [("Médecin", "50.00", CategoryKind.PHYSICIAN), ("Autre professionnel de santé", "30.00",
           CategoryKind.OTHER_PROFESSIONAL), ("Structure", "100.00", CategoryKind.STRUCTURE),
           ("Première adhésion", "20.00", CategoryKind.FIRST_YEAR)],
}
GRIDS[2026] = GRIDS[2025]
COLLEGES = [("Libéraux", "Professionnels de santé libéraux", "professional"),
            ("Structures", "MSP, EHPAD, SSIAD, pharmacies en société…", "structure"),
            ("Usagers", "Représentants des usagers", None)]
MEMBERS_2026 = 85
RENEWALS_2027 = 12
BANKS = ["Crédit Agricole", "Crédit Mutuel", "CIC", "Banque Populaire", "Caisse d'Épargne", "LCL", "BNP Paribas"]


def _parties():
    """The directory of the Pays Blanc (postcodes 44…), in a stable order."""
    return list(db.session.scalars(select(Party).where(Party.postcode.like("44%"))
                                   .order_by(Party.sort_name, Party.id)))


def _ensure_grid(organisation):
    periods = {}
    for year, lines in GRIDS.items():
        period = services.period_for_year(organisation, year)
        if not period.categories:
            for label, amount, kind in lines:
                services.set_fee_category(period, label, Decimal(amount), kind)
        period.renewal_open = year == 2026
        periods[year] = period
    # Renewals for next year open in the autumn: the 2027 period exists with its grid.
    services.ensure_grid(services.period_for_year(organisation, 2027), previous=periods[2026])
    existing = {c.name for c in services.colleges(organisation)}
    for name, description, kind in COLLEGES:
        if name not in existing:
            services.save_college(organisation, name, description, kind)
    db.session.flush()
    return periods


def _pay(rng, membership, amount, year, cheques):
    day = date(year, 1, 10) + timedelta(days=rng.randint(0, 110))
    if rng.random() < 0.35:
        payment = services.record_payment(membership, amount, "cheque", day,
                                          reference=f"{rng.randint(1000000, 9999999)}", cheque_bank=rng.choice(BANKS),
                                          source="demo")
        cheques.append(payment)
    else:
        services.record_payment(membership, amount, "transfer", day + timedelta(days=2),
                                reference=f"VIR {membership.payment_reference}", source="demo")


def pays_blanc(organisation):
    rng = random.Random(SEED)
    periods = _ensure_grid(organisation)
    settings = services.get_settings(organisation, create=True)
    settings.creditor_identifier = settings.creditor_identifier or "FR72ZZZ123456"
    parties = _parties()
    if len(parties) < MEMBERS_2026:
        return  # the directory's demo did not run
    order = list(parties)
    rng.shuffle(order)
    colleges = services.colleges(organisation)
    members = {2026: order[:MEMBERS_2026]}
    # 2025: 70 of this year's members and 4 who did not renew; 2024: 55 of the 2025 ones.
    members[2025] = order[:70] + order[MEMBERS_2026:MEMBERS_2026 + 4]
    members[2024] = members[2025][:55]
    for year in (2024, 2025, 2026):
        period = periods[year]
        created = []
        for party in members[year]:
            if services.membership_of(organisation, party, period) is not None:
                continue
            membership = services.create_membership(
                organisation, party, period, college=services.suggest_college(party, colleges),
                joined_on=date(year - 1, 12, 1) + timedelta(days=rng.randint(0, 60)), source="demo")
            created.append(membership)
        cheques = []
        for index, membership in enumerate(created):
            if year < 2026:
                _pay(rng, membership, membership.amount_due, year, cheques)
                continue
            # 2026: about 70 paid, 9 awaiting, 4 partially paid, 1 exempt, 1 overpaid (credit).
            if index < 70:
                _pay(rng, membership, membership.amount_due, year, cheques)
            elif index < 79:
                pass
            elif index < 83:
                _pay(rng, membership, (membership.amount_due / 2).quantize(Decimal("0.01")), year, cheques)
            elif index == 83:
                services.exempt_membership(membership, "Membre fondateur, exonéré par décision du bureau",
                                           on=date(2026, 1, 20))
            else:
                _pay(rng, membership, membership.amount_due + Decimal("20.00"), year, cheques)
        # Cheques of past years went to the bank; in 2026 the last few are still to deposit.
        to_deposit = cheques if year < 2026 else cheques[:-4]
        if to_deposit:
            deposits.create_cheque_deposit(organisation, [c.id for c in to_deposit],
                                           max(c.paid_on for c in to_deposit) + timedelta(days=3))
        if year == 2026 and created:
            _statement(organisation, created[70:79])
    _renewals_2027(organisation, members[2026][:RENEWALS_2027])
    db.session.flush()


def _renewals_2027(organisation, parties):
    """November 2026: the first renewals for 2027, most already paid. The fees are income of 2027
    (dated 1 January 2027, ``accounting.cutoff``); the money received in 2026 is a credit on each
    member's account at the end of 2026, never income of 2026."""
    rng = random.Random(SEED + 2027)  # its own draw: the years above keep their figures
    period = services.period_for_year(organisation, 2027)
    colleges = services.colleges(organisation)
    for index, party in enumerate(parties):
        if services.membership_of(organisation, party, period) is not None:
            continue
        joined = date(2026, 11, 2) + timedelta(days=rng.randint(0, 12))
        membership = services.create_membership(organisation, party, period, joined_on=joined, source="demo",
                                                college=services.suggest_college(party, colleges))
        if index < RENEWALS_2027 - 4 and membership.amount_due > 0:  # the last four still to pay
            services.record_payment(membership, membership.amount_due, "transfer",
                                    joined + timedelta(days=rng.randint(1, 10)),
                                    reference=f"VIR {membership.payment_reference}", source="demo")


def _statement(organisation, awaiting):
    """A short CSV statement: a transfer with its reference, one by name and amount, an unknown."""
    if len(awaiting) < 2:
        return
    statements.save_csv_mapping(organisation, {"date": "Date", "label": "Libellé", "amount": "Montant"},
                                ["Date", "Libellé", "Montant"])
    first, second = awaiting[0], awaiting[1]
    name = second.party.last_name if isinstance(second.party, Professional) else second.party.display_name
    rows = [
        f"02/06/2026;VIR SEPA RECU /DE {first.party.display_name.upper()} /MOTIF {first.payment_reference};"
        f"{str(first.amount_due).replace('.', ',')}",
        f"04/06/2026;VIR SEPA RECU /DE M {name.upper()} /MOTIF COTISATION CPTS;{str(second.amount_due).replace('.', ',')}",
        "05/06/2026;VIR SEPA RECU /DE MAIRIE DE GUERANDE /MOTIF SUBVENTION FORUM SANTE;800,00",
        "08/06/2026;PRLV SEPA ASSURANCE MAIF;-154,20",
    ]
    content = ("Date;Libellé;Montant\n" + "\n".join(rows) + "\n").encode("utf-8")
    statements.import_statement(organisation, "releve-juin-2026.csv", content)


def step(organisations_by_slug):
    """Memberships of the CPTS du Pays Blanc (the SISA collects no membership fees)."""
    if "cpts-pays-blanc" in organisations_by_slug:
        pays_blanc(organisations_by_slug["cpts-pays-blanc"])


if step not in DEMO_STEPS:
    DEMO_STEPS.append(step)
