"""Events shared among many parties (one line per party, through the posting rules) and the
namespaced ``source`` of automatic entries."""
from datetime import date
from decimal import Decimal

import pytest

from backoffice.accounting import services
from backoffice.accounting.services import AccountingError, EventShare, post_event, posting_source, reverse_entry
from backoffice.money import allocate

DAY = date(2025, 12, 31)
D = Decimal

SURNAMES = ["Le Floch", "Guégan", "N'Diaye", "Ménard", "Øster", "Chaumont-Brière", "Pélissier", "Rœsch",
            "Lefèvre", "Da Silva"]


@pytest.fixture
def associates(db):
    from tests.factories import ProfessionalFactory

    return [ProfessionalFactory(first_name=first, last_name=SURNAMES[n % len(SURNAMES)])
            for n, first in enumerate(["Anne", "Éloïse", "Gaëlle", "Hervé", "Ines", "Joël", "Loïc", "Maëlys",
                                       "Noé", "Océane"] * 3)]


def _distribute(sisa, shares, **kwargs):
    options = dict(entry_date=DAY, piece_ref="REP-2025-1", label="Répartition ACI 2025",
                   source="sisa_distributions:1")
    options.update(kwargs)
    return post_event(sisa, "sisa_distribution", shares=shares, **options)


def _rows(entry):
    return [(line.account.number, line.debit, line.credit, line.auxiliary.party_id if line.auxiliary else None)
            for line in entry.lines]


def test_a_distribution_to_thirty_associates_is_one_entry_through_the_rules(sisa, associates):
    amounts = allocate(D("45678.91"), {a.id: n % 4 + 1 for n, a in enumerate(associates)})
    shares = [EventShare(a, amounts[a.id], label=f"Part de {a.display_name}") for a in associates]
    entry = _distribute(sisa, shares)
    rows = _rows(entry)
    assert entry.journal.code == "OD" and entry.event == "sisa_distribution" and len(rows) == 31
    assert rows[0] == ("62261", D("45678.91"), 0, None)  # the charge: one line for the total
    assert rows[1:] == [("4551", 0, amounts[a.id], a.id) for a in associates]  # each associate's account
    assert sum(line.credit for line in entry.lines) == sum(line.debit for line in entry.lines) == D("45678.91")
    assert entry.lines[1].label == f"Part de {associates[0].display_name}" and entry.lines[0].label is None
    numbers = {line.auxiliary.number for line in entry.lines[1:]}
    assert len(numbers) == 30 and all(number.startswith("S") for number in numbers)


def test_the_accounts_come_from_the_organisations_rule(sisa, associates):
    services.add_account(sisa, "4552", "Associés – comptes de répartition", collective=True)
    services.update_posting_rule(sisa, "sisa_distribution", debit_account="6226", credit_account="4552",
                                 journal="OD")
    entry = _distribute(sisa, [EventShare(associates[0], D("10.00")), EventShare(associates[1], D("5.00"))])
    assert [row[0] for row in _rows(entry)] == ["6226", "4552", "4552"]


def test_a_payment_to_many_puts_the_parties_on_the_debit_side(sisa, associates):
    entry = post_event(sisa, "sisa_distribution_paid", entry_date=DAY, piece_ref="VIR-2026-01",
                       label="Virement des parts", payment_method="transfer",
                       shares=[EventShare(associates[0], D("1.50")), EventShare(associates[1], D("2.25"))])
    assert entry.journal.code == "BQ"
    assert _rows(entry) == [("4551", D("1.50"), 0, associates[0].id), ("4551", D("2.25"), 0, associates[1].id),
                            ("512", 0, D("3.75"), None)]


def test_zero_shares_get_no_line_and_a_given_amount_must_be_their_sum(sisa, associates):
    shares = [EventShare(associates[0], D("0.00")), EventShare(associates[1], D("7.00"))]
    assert [row[3] for row in _rows(_distribute(sisa, shares, amount="7,00"))] == [None, associates[1].id]
    with pytest.raises(AccountingError, match=r"le montant \(8,00\xa0€\) n'est pas la somme des parts \(7,00\xa0€\)"):
        _distribute(sisa, shares, amount=D("8.00"), source="sisa_distributions:2")


@pytest.mark.parametrize("shares, kwargs, message", [
    (lambda a: [EventShare(a[0], D("1.00")), EventShare(a[0], D("2.00"))], {}, "a deux parts"),
    (lambda a: [EventShare(a[0], D("-1.00")), EventShare(a[1], D("2.00"))], {}, "La part de .* doit être positif"),
    (lambda a: [EventShare(a[0], "un euro")], {}, "La part de Anne LE FLOCH est invalide"),
    (lambda a: [EventShare(a[0], D("0.00"))], {}, "aucune part à comptabiliser"),
    (lambda a: [EventShare(None, D("1.00"))], {}, "chaque part indique son tiers"),
    (lambda a: [EventShare(a[0], D("1.00"))], {"party": "a[1]"}, "soit un tiers, soit des parts"),
])
def test_bad_shares_are_refused_in_french_and_nothing_is_written(sisa, associates, shares, kwargs, message):
    from backoffice.accounting.models import JournalEntry
    from backoffice.extensions import db

    if kwargs.get("party") == "a[1]":
        kwargs = {"party": associates[1]}
    with pytest.raises(AccountingError, match=message):
        _distribute(sisa, shares(associates), **kwargs)
    assert db.session.query(JournalEntry).filter_by(organisation_id=sisa.id).count() == 0


def test_an_event_without_a_party_side_cannot_be_shared(sisa, associates):
    with pytest.raises(AccountingError, match="ne se répartit pas entre des tiers"):
        post_event(sisa, "aci_income", entry_date=DAY, piece_ref="ACI", label="ACI",
                   shares=[EventShare(associates[0], D("10.00"))])


def test_a_shared_event_is_idempotent_by_source_whatever_the_order_of_the_shares(sisa, associates):
    shares = [EventShare(a, D(f"{n + 1}.00")) for n, a in enumerate(associates[:5])]
    first = _distribute(sisa, shares)
    assert _distribute(sisa, list(reversed(shares))).id == first.id  # a retried job posts once
    moved = [EventShare(shares[0].party, D("2.00")), EventShare(shares[1].party, D("1.00")), *shares[2:]]
    with pytest.raises(AccountingError, match="déjà comptabilisée .* avec d'autres montants"):
        _distribute(sisa, moved)  # same total, another associate gets the cent: another operation
    reversal = reverse_entry(first)
    assert [line.credit for line in reversal.lines[1:]] == [0] * 5 and reversal.lines[0].credit == D("15.00")


def test_two_line_events_keep_their_shape(books, member):
    entry = post_event(books, "fee_due", amount=D("50.00"), entry_date=DAY, party=member, piece_ref="ADH",
                       label="Cotisation")
    assert _rows(entry) == [("411", D("50.00"), 0, member.id), ("756", 0, D("50.00"), None)]


# --------------------------------------------------------------------------------------------
# posting_source
# --------------------------------------------------------------------------------------------

def test_posting_source_is_namespaced_by_table(db):
    from backoffice.membership.models import ChequeDeposit, Membership, MembershipPayment

    assert posting_source(MembershipPayment, 123) == "membership_payments:123"
    assert posting_source(Membership, 42, 7) == "memberships:42:7"
    assert posting_source(ChequeDeposit.__table__, 3) == "membership_cheque_deposits:3"
    assert posting_source("memberships", 5, "commitment", 2) == "memberships:5:commitment:2"
    # Two features' rows with the same id never share a source.
    assert posting_source(Membership, 1) != posting_source(MembershipPayment, 1)


@pytest.mark.parametrize("args", [
    ("payment", 1),              # not a table: a made-up namespace
    ("memberships", "1"),
    ("memberships", 0),
    ("memberships", True),
    ("memberships", 1, "a:b"),
    ("memberships", 1, ""),
    ("memberships", 1, "x" * 120),
])
def test_posting_source_refuses_what_could_collide(db, args):
    with pytest.raises(ValueError):
        posting_source(*args)


def test_membership_posts_under_namespaced_sources(organisation, db):
    from backoffice.accounting.models import JournalEntry
    from backoffice.membership import services as membership
    from tests.factories import ProfessionalFactory

    period = membership.period_for_year(organisation, 2026)
    membership.set_fee_category(period, "Médecin", D("50.00"))
    member = membership.create_membership(organisation, ProfessionalFactory(), period)
    payment = membership.record_payment(member, "50", "transfer")
    sources = {entry.event: entry.source for entry in db.session.query(JournalEntry).filter_by(
        organisation_id=organisation.id)}
    assert sources == {"fee_due": f"memberships:{member.id}", "fee_paid": f"membership_payments:{payment.id}"}
