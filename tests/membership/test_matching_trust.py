"""Matching a treasurer can trust: the association's own reference scheme, pre-ticked lines,
names that the amount never overrides, conflicts, partial payments, overpayments, members
already paid, splits, references of another year, and the lines that are no membership fee.

The statement is written as a French bank exports transfers (« VIR SEPA RECU /DE … /MOTIF …
/REF … »); each line's expected outcome is asserted."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.banking.models import LineStatus as L
from backoffice.extensions import db as _db
from backoffice.membership import deposits, matching, services, statements
from backoffice.membership.models import CategoryKind, MembershipPayment
from backoffice.membership.services import MembershipError
from tests.membership.test_statements import reads_and_updates, simple_csv

SCHEME = "COT{year}/{number:05}"


def person(first, last, profession="infirmier"):
    from tests.factories import ProfessionalFactory

    return ProfessionalFactory(first_name=first, last_name=last, profession=profession)


@pytest.fixture
def members(organisation, period):
    """Members of 2026 by their member number (the association's own numbering)."""
    services.set_reference_scheme(organisation, SCHEME)
    nurse = next(c for c in period.categories if c.kind is CategoryKind.OTHER_PROFESSIONAL)   # 30 €
    physician = next(c for c in period.categories if c.kind is CategoryKind.PHYSICIAN)        # 50 €
    people = {}
    for number, first, last, category in [
            ("42", "Marie", "Dupont", nurse), ("7", "Julie", "Martin", nurse),
            ("108", "Hélène", "D'Aubigné", physician), ("15", "Luc", "Leroy", nurse),
            ("16", "Sophie", "Bernard", nurse), ("21", "Paul", "Girard", physician),
            ("30", "Claire", "Morvan", nurse), ("33", "Yves", "Le Goff", nurse),
            ("50", "Anne", "Caradec", nurse), ("60", "Léa", "Rolland", nurse), ("61", "Marc", "Rolland", nurse),
            ("70", "Alain", "Breton", nurse), ("71", "Brigitte", "Breton", nurse)]:
        party = person(first, last)
        people[number] = services.create_membership(organisation, party, period, category=category,
                                                    joined_on=date(2026, 1, 5), member_number=number)
    services.record_payment(people["33"], "30", "cash", date(2026, 1, 20))   # Yves paid at the meeting
    last_year = services.period_for_year(organisation, 2025)
    services.set_fee_category(last_year, "Autre professionnel de santé", Decimal("30.00"),
                              CategoryKind.OTHER_PROFESSIONAL)
    anne_2025 = services.create_membership(organisation, people["50"].party, last_year,
                                           category=last_year.categories[0], joined_on=date(2025, 1, 5),
                                           member_number="50")
    services.record_payment(anne_2025, "30", "transfer", date(2025, 2, 1))
    people["50/2025"] = anne_2025
    return people


STATEMENT = [
    ("02/02/2026", "VIR SEPA RECU /DE MME DUPONT MARIE /MOTIF COT2026/00042 /REF 2026020200042X", "30,00"),
    ("02/02/2026", "VIR SEPA RECU /DE MARTIN PAUL /MOTIF ADHESION CPTS", "30,00"),
    ("03/02/2026", "VIR INST RECU DAUBIGNE HELENE DR /MOTIF cot 2026 108", "50,00"),
    ("03/02/2026", "VIR SEPA RECU /DE M LEROY LUC /MOTIF COT2026/16", "30,00"),
    ("04/02/2026", "VIREMENT DE GIRARD PAUL COTISATION 2026", "20,00"),
    ("04/02/2026", "VIR SEPA RECU /DE MORVAN CLAIRE /MOTIF COT2026-00030", "50,00"),
    ("05/02/2026", "VIR SEPA RECU /DE LE GOFF YVES /MOTIF COT202600033", "30,00"),
    ("05/02/2026", "VIR SEPA RECU /DE CARADEC ANNE /MOTIF COT2025/00050", "30,00"),
    ("06/02/2026", "VIR SEPA RECU /DE ROLLAND LEA OU MARC /MOTIF COT2026/00060 COT2026/00061", "60,00"),
    ("06/02/2026", "VIR SEPA RECU /DE BRETON /MOTIF COTISATION", "30,00"),
    ("09/02/2026", "REMISE CHEQUES N 0001234 2 CHQ", "80,00"),
    ("10/02/2026", "VIR SEPA RECU /DE HELLOASSO /MOTIF VERSEMENT 4521", "125,00"),
    ("11/02/2026", "VIR SEPA RECU /DE ARS BRETAGNE /MOTIF SUBVENTION FIR 2026", "5000,00"),
    ("12/02/2026", "VIR INTERNE DEPUIS LIVRET A", "1000,00"),
]


@pytest.fixture
def slip(organisation, members, physician, period):
    """A deposit slip of two cheques (50 € + 30 €) made on 28/01/2026, on the statement of 09/02
    (too far for reconciliation's date tolerance: only the slip's total finds it)."""
    first = services.create_membership(organisation, physician, period)
    cheques = [services.record_payment(first, "50", "cheque", date(2026, 1, 25), reference="0012345"),
               services.record_payment(members["7"], "30", "cheque", date(2026, 1, 26), reference="7654321")]
    return deposits.create_cheque_deposit(organisation, [c.id for c in cheques], deposited_on=date(2026, 1, 28))


@pytest.fixture
def imported(organisation, members, slip):
    statement = statements.import_statement(organisation, "releve-fevrier.csv", simple_csv(organisation, *STATEMENT))
    return {line.label: line for line in statement.lines}


def outcome(line):
    details = line.match_details or {}
    return (line.suggested_id, line.match_rule, sorted(details.get("flags", [])), details.get("preticked"))


def test_each_line_gets_the_proposal_a_treasurer_expects(organisation, members, slip, imported):
    m = {k: v.id for k, v in members.items()}
    lines = [imported[label] for _, label, _ in STATEMENT]
    expected = [
        (m["42"], "reference", [], True),               # reference and payer agree: pre-ticked
        (None, None, [], False),                        # « MARTIN PAUL » is not Julie Martin
        (m["108"], "reference", [], True),              # lower case, spaces, no zeros; no accent, title, order
        (m["16"], "reference", ["conflict"], False),    # Luc Leroy pays with Sophie Bernard's reference
        (m["21"], "name", ["partial"], False),          # 20 € of 50 €
        (m["30"], "reference", ["overpayment"], True),  # 50 € for 30 €: 20 € of credit
        (m["33"], "reference", ["already_paid"], False),
        (m["50"], "reference", ["other_year"], False),  # last year's reference, last year already paid
        (m["60"], "split", [], True),                   # two references, 30 € each
        (None, None, [], False),                        # two Bretons: the treasurer chooses
        (slip.id, "deposit", [], True),                 # the slip of the same total
        (None, None, [], False), (None, None, [], False), (None, None, [], False),
    ]
    assert [outcome(line) for line in lines] == expected
    assert lines[3].match_details["candidates"] == [m["15"]]               # the payer, for the treasurer
    assert sorted(lines[9].match_details["candidates"]) == sorted([m["70"], m["71"]])
    assert lines[5].match_details["surplus"] == "20.00"
    assert lines[8].match_details["parts"] == [[m["60"], "30.00"], [m["61"], "30.00"]]
    assert [line.match_details.get("kind") for line in lines[10:]] == [
        "cheque_deposit", "payout", "subsidy", "internal_transfer"]
    assert lines[10].suggested_kind == statements.DEPOSIT_KIND


def test_the_review_screen_pre_ticks_and_shows_label_reference_and_flags(client, login_as, organisation, imported):
    login_as("treasurer")
    page = client.get("/o/cpts-test/membership/statements/review").get_data(as_text=True)
    for label, line in imported.items():
        if line.status is not L.SUGGESTED and line.status is not L.UNMATCHED:
            continue
        if line.match_details.get("parts"):   # a split is confirmed in its own form
            assert f'id="line-{line.id}"' not in page.split("<table", 1)[1].split("</table>", 1)[0]
            continue
        before, after = page.split(f'id="line-{line.id}"', 1)
        tag = before.rsplit("<input", 1)[1] + after.split(">", 1)[0]
        assert ("checked" in tag) == bool(line.match_details.get("preticked")), label
        assert label.split(" /")[0] in after.split("</tr>", 1)[0]
    conflict = next(line for label, line in imported.items() if "LEROY" in label)
    row = page.split(f'id="line-{conflict.id}"', 1)[1].split("</tr>", 1)[0]
    assert "La référence désigne un autre membre que le payeur" in row and "Luc LEROY" in row
    bretons = next(line for label, line in imported.items() if "BRETON" in label)
    row = page.split(f'id="line-{bretons.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Alain BRETON" in row and "Brigitte BRETON" in row


def test_confirming_turns_overpayment_and_double_payment_into_credit(organisation, members, imported):
    claire = next(line for label, line in imported.items() if "MORVAN" in label)
    yves = next(line for label, line in imported.items() if "LE GOFF" in label)
    statements.confirm_lines(organisation, {claire.id: claire.suggested_id, yves.id: yves.suggested_id})
    assert (members["30"].amount_paid, members["30"].credit) == (Decimal("50.00"), Decimal("20.00"))
    assert (members["33"].amount_paid, members["33"].credit) == (Decimal("60.00"), Decimal("30.00"))
    assert claire.status is L.MATCHED and yves.status is L.MATCHED


def test_a_second_transfer_of_a_member_already_paid_is_flagged(organisation, members):
    content = simple_csv(organisation,
                         ("02/03/2026", "VIR SEPA RECU /DE MME DUPONT MARIE /MOTIF COT2026/00042", "30,00"),
                         ("03/03/2026", "VIR SEPA RECU /DE MME DUPONT MARIE /MOTIF COT2026/00042", "30,00"))
    first, second = statements.import_statement(organisation, "mars.csv", content).lines
    assert outcome(first) == (members["42"].id, "reference", [], True)
    assert outcome(second) == (members["42"].id, "reference", ["already_paid"], False)


def test_a_split_records_every_part_or_nothing(organisation, members, imported):
    line = next(line for label, line in imported.items() if "ROLLAND" in label)
    lea, marc = members["60"], members["61"]
    with pytest.raises(MembershipError, match=r"les parts font 50,00\s€ .* 60,00\s€ \(il manque 10,00\s€\)"):
        statements.confirm_split(organisation, line.id, [(lea.id, "30,00"), (marc.id, "20,00")])
    with pytest.raises(MembershipError, match="figure deux fois"):
        statements.confirm_split(organisation, line.id, [(lea.id, "30"), (lea.id, "30")])
    assert _db.session.scalar(select(func.count()).select_from(MembershipPayment)
                              .where(MembershipPayment.source == "statement")) == 0
    assert line.status is not L.MATCHED and not line.matches
    payments = statements.confirm_split(organisation, line.id, [(lea.id, "30,00"), (marc.id, Decimal("30.00"))])
    assert sorted(p.amount for p in payments) == [Decimal("30.00"), Decimal("30.00")]
    assert line.status is L.MATCHED and sum(m.amount for m in line.matches) == Decimal("60.00")
    assert lea.status.value == marc.status.value == "paid"


def test_a_cheque_deposit_is_reconciled_with_its_slip(organisation, imported, slip):
    from backoffice.banking import reconciliation

    line = next(line for label, line in imported.items() if "REMISE" in label)
    statements.confirm_deposits(organisation, {line.id: slip.id})
    assert line.status is L.MATCHED
    linked = [link for link in reconciliation.links(line.bank_account) if link.statement_line_id == line.id]
    assert [link.amount for link in linked] == [Decimal("80.00")]   # through the slip's posting to 512
    with pytest.raises(MembershipError, match="déjà rapprochée"):
        other = simple_csv(organisation, ("20/02/2026", "REMISE CHEQUES N 0001299", "80,00"))
        again = statements.import_statement(organisation, "fin.csv", other).lines[0]
        assert again.suggested_id is None   # the slip is on the statement already
        statements.confirm_deposits(organisation, {again.id: slip.id})


def test_lines_that_are_no_fee_are_ignored_in_bulk(organisation, imported):
    review = statements.lines_to_review(organisation)
    others = statements.other_lines(review)
    assert sorted(line.match_details["kind"] for line in others) == ["internal_transfer", "payout", "subsidy"]
    assert statements.ignore_lines(organisation, [line.id for line in others]) == 3
    assert all(line.status is L.IGNORED for line in others)
    assert not statements.other_lines(statements.lines_to_review(organisation))


def test_a_reference_paid_by_someone_we_do_not_know_is_not_pre_ticked():
    anne = matching.Candidate(1, "ADH26-7KQ4M", "Le Floch", "Anne", Decimal("50.00"), Decimal("50.00"), party_id=1)
    def matcher():   # one per line: a batch remembers what its earlier lines paid
        return matching.Matcher([anne], {"ADH267KQ4M": anne}, pattern=matching.reference_pattern({"ADH"}))

    stranger = matcher().match("VIR SEPA RECU /DE SCI LES TILLEULS /MOTIF ADH26-7KQ4M", Decimal("50.00"))
    assert (stranger.membership_id, stranger.flags, stranger.preticked) == (1, ("payer_unknown",), False)
    bare = matcher().match("VIR SEPA RECU /MOTIF COTISATION ADH26 7KQ4M", Decimal("50.00"))
    assert (bare.membership_id, bare.flags, bare.preticked) == (1, (), False)   # no payer written: checked by hand


def test_a_compound_last_name_is_not_its_parts():
    simple = matching.Candidate(1, "ADH26-AAAAA", "Dupont", "Marie", Decimal("30.00"), Decimal("30.00"), party_id=1)
    compound = matching.Candidate(2, "ADH26-CCCCC", "Dupont-Le Goff", "Marie", Decimal("30.00"), Decimal("30.00"),
                                  party_id=2)
    other = matching.Candidate(3, "ADH26-DDDDD", "Le Goff", "Marie", Decimal("30.00"), Decimal("30.00"), party_id=3)
    matcher = matching.Matcher([simple, compound, other])
    assert matcher.match("VIR SEPA RECU /DE MME DUPONT-LE GOFF MARIE", Decimal("30.00")).membership_id == 2
    assert matcher.match("VIR SEPA RECU /DE MME DUPONT MARIE", Decimal("30.00")).membership_id == 1


@pytest.mark.parametrize("written, found", [
    ("COT2026/00042", {(2026, "42")}),
    ("cot2026/42", {(2026, "42")}),
    ("COT 2026 00042", {(2026, "42")}),
    ("COT202600042", {(2026, "42")}),
    ("cot-26-042", {(2026, "42")}),
    ("MOTIF COT2025/00050 /REF 20260115", {(2025, "50")}),
    ("COTISATION 2026", set()),
    ("COT2026/1234567", set()),       # longer than any member number
])
def test_the_association_scheme_is_recognised_with_usual_variations(written, found):
    assert matching.ReferenceScheme(SCHEME).find(written) == found


@pytest.mark.parametrize("pattern, message", [
    ("COT{year}", "une fois {number}"),
    ("{number}", "commence par des lettres"),
    ("COT{annee}/{number}", "ne connaît pas {annee}"),
    ("COT{year}{yy}{number}", "l'année une fois au plus"),
    ("COT{year/{number}", "Accolade isolée"),
])
def test_a_scheme_that_cannot_be_recognised_is_refused_in_french(organisation, pattern, message):
    with pytest.raises(MembershipError, match=message):
        services.set_reference_scheme(organisation, pattern)
    assert services.get_settings(organisation).reference_scheme is None


def test_the_scheme_formats_the_reference_members_write():
    assert matching.ReferenceScheme(SCHEME).format("42", 2026) == "COT2026/00042"
    assert matching.ReferenceScheme("ADH-{yy}-{number}").format("7", 2026) == "ADH-26-7"


def test_a_generated_reference_of_last_year_pays_this_year(organisation, period, nurse):
    category = next(c for c in period.categories if c.kind is CategoryKind.OTHER_PROFESSIONAL)
    last_year = services.period_for_year(organisation, 2025)
    services.set_fee_category(last_year, "Autre", Decimal("30.00"), CategoryKind.OTHER_PROFESSIONAL)
    old = services.create_membership(organisation, nurse, last_year, category=last_year.categories[0],
                                     joined_on=date(2025, 1, 5))
    services.record_payment(old, "30", "transfer", date(2025, 2, 1))
    new = services.create_membership(organisation, nurse, period, category=category, joined_on=date(2026, 1, 5))
    line = statements.import_statement(organisation, "r.csv", simple_csv(
        organisation, ("02/02/2026", f"VIR SEPA RECU /DE DUPONT JEAN /MOTIF {old.payment_reference}", "30,00"))).lines[0]
    assert outcome(line) == (new.id, "reference", ["other_year"], False)


def test_matching_queries_do_not_grow_with_the_lines(organisation, members, count_queries):
    def lines(month, count):
        rows = []
        for day in range(1, count + 1):
            number = ["42", "7", "108", "15"][day % 4]
            rows.append((f"{day:02d}/{month:02d}/2026", f"VIR SEPA RECU /DE X /MOTIF COT2026/{number} N{day}", "30,00"))
            rows.append((f"{day:02d}/{month:02d}/2026", f"VIR SEPA RECU /DE GIRARD PAUL N{day}", "10,00"))
        return lines_of(organisation, simple_csv(organisation, *rows), month)

    few, many = lines(3, 2), lines(4, 20)
    with count_queries() as small:
        statements.suggest_matches(organisation, few)
    with count_queries() as large:
        statements.suggest_matches(organisation, many)
    # SQLite gets the lines' status changes inserted one by one (the ORM batches them on
    # PostgreSQL only): reads and updates are what matching must keep flat.
    assert reads_and_updates(large) == reads_and_updates(small)
    if _db.engine.dialect.name == "postgresql":
        assert large.count == small.count


def lines_of(organisation, content, month):
    """Statement lines stored without matching (the banking import alone)."""
    from backoffice.banking import services as banking

    return list(banking.import_statement(banking.default_account(organisation), f"{month}.csv", content).lines)

def test_the_treasurer_splits_a_line_on_the_screen(client, login_as, organisation, members, imported):
    login_as("treasurer")
    line = next(line for label, line in imported.items() if "ROLLAND" in label)
    lea, marc = members["60"], members["61"]
    page = client.get("/o/cpts-test/membership/statements/review").get_data(as_text=True)
    form = page.split(f'id="split-{line.id}"', 1)[1].split("</form>", 1)[0]
    assert 'value="30,00"' in form and lea.payment_reference in form and marc.payment_reference in form
    response = client.post(f"/o/cpts-test/membership/statements/lines/{line.id}/split", data={
        "part_reference_1": lea.payment_reference, "part_amount_1": "30,00",
        "part_reference_2": marc.payment_reference, "part_amount_2": "25,00"}, follow_redirects=True)
    assert "il manque 5,00" in response.get_data(as_text=True) and not line.matches
    client.post(f"/o/cpts-test/membership/statements/lines/{line.id}/split", data={
        "part_reference_1": lea.payment_reference, "part_amount_1": "30,00",
        "part_reference_2": marc.payment_reference, "part_amount_2": "30,00"})
    _db.session.expire_all()
    assert (lea.amount_paid, marc.amount_paid) == (Decimal("30.00"), Decimal("30.00"))


def test_the_treasurer_confirms_pre_ticked_lines_and_ignores_the_others_in_bulk(client, login_as, organisation,
                                                                                members, imported, slip):
    login_as("treasurer")
    preticked = [line for line in imported.values() if (line.match_details or {}).get("preticked")
                 and not line.match_details.get("parts")]
    data = {"confirm": [str(line.id) for line in preticked]}
    for line in preticked:
        if line.suggested_kind == statements.DEPOSIT_KIND:
            data[f"deposit_{line.id}"] = str(slip.id)
        else:
            data[f"membership_reference_{line.id}"] = line.membership.payment_reference
    response = client.post("/o/cpts-test/membership/statements/review", data=data, follow_redirects=True)
    assert "3 paiement(s) enregistré(s) par virement, 1 remise(s) de chèques rapprochée(s)." in \
        response.get_data(as_text=True)
    others = statements.other_lines(statements.lines_to_review(organisation))
    client.post("/o/cpts-test/membership/statements/lines/ignore", data={"line": [str(l.id) for l in others]})
    _db.session.expire_all()
    assert all(line.status is L.IGNORED for line in others) and len(others) == 3
    assert members["42"].status.value == "paid" and members["30"].credit == Decimal("20.00")
