"""Bank statements: CSV and CAMT.053 reading, matching rules, idempotent imports, confirmation."""
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db as _db
from backoffice.membership import matching, services, statements
from backoffice.banking.models import BankStatement, BankStatementLine, LineStatus as L
from backoffice.membership.models import CategoryKind, MembershipStatus, PaymentMethod

DATA = Path(__file__).parent / "data"
MAPPING = {"date": "Date", "label": "Libellé", "debit": "Débit euros", "credit": "Crédit euros",
           "reference": "Référence"}


def sample(name, membership):
    content = (DATA / name).read_bytes()
    encoding = "cp1252" if name.endswith(".csv") else "utf-8"
    return content.decode(encoding).replace("{REF_PHYSICIAN}", membership.payment_reference).encode(encoding)


@pytest.fixture
def nurse_membership(organisation, period, nurse):
    category = next(c for c in period.categories if c.kind is CategoryKind.OTHER_PROFESSIONAL)
    return services.create_membership(organisation, nurse, period, category=category, joined_on=date(2026, 1, 12))


def import_count(organisation):
    return _db.session.scalar(select(func.count()).select_from(BankStatement)
                              .where(BankStatement.organisation_id == organisation.id))


def simple_csv(organisation, *rows):
    """A CSV statement of ``(dd/mm/yyyy, label, amount)`` rows, its columns already mapped."""
    statements.save_csv_mapping(organisation, SIMPLE_MAPPING, list(SIMPLE_MAPPING.values()))
    return ("date;libelle;montant\n" + "".join(f"{d};{label};{amount}\n" for d, label, amount in rows)).encode()


SIMPLE_MAPPING = {"date": "date", "label": "libelle", "amount": "montant"}


def line_count(organisation):
    return _db.session.scalar(select(func.count()).select_from(BankStatementLine)
                              .where(BankStatementLine.organisation_id == organisation.id))


# --- pure matching rules --------------------------------------------------------------------

PATTERN = matching.reference_pattern({"ADH"})
ANNE = matching.Candidate(1, "ADH26-7KQ4M", "Le Floch", "Anne", Decimal("50.00"), Decimal("50.00"))
JEAN = matching.Candidate(2, "ADH26-3CDEF", "Dupont", "Jean", Decimal("30.00"), Decimal("30.00"))
JEANNE = matching.Candidate(3, "ADH26-4GHJK", "Dupont", "Jeanne", Decimal("30.00"), Decimal("30.00"))
MSP = matching.Candidate(4, "ADH26-6MNPQ", "MSP des Marais", "", Decimal("100.00"), Decimal("100.00"))
BY_REF = {matching.compact(c.reference): c for c in (ANNE, JEAN, JEANNE, MSP)}


@pytest.mark.parametrize("text, amount, expected, rule", [
    ("VIR COTISATION ADH26-7KQ4M", "50.00", 1, "reference"),
    ("vir cotisation adh26 7kq4m", "50.00", 1, "reference"),
    ("VIR ADH267KQ4M PARTIEL", "20.00", 1, "reference"),               # reference wins whatever the amount
    ("VIR DE JEAN DUPONT ADHESION", "30.00", 2, "name_amount"),       # first name narrows the Duponts
    ("VIR MSP DES MARAIS", "100.00", 4, "name_amount"),
    ("VIR DE ANNE LE FLOCH", "45.00", 1, "name"),                     # her name: a partial payment
    ("VIR DON", "30.00", None, None),
    ("ADH26-7KQ4M", "-50.00", None, None),                            # debits never match
])
def test_match_line(text, amount, expected, rule):
    result = matching.match_line(text, Decimal(amount), BY_REF, [ANNE, JEAN, JEANNE, MSP], PATTERN)
    assert (result.membership_id, result.rule) == (expected, rule)


def test_ambiguous_name_and_amount():
    result = matching.match_line("VIR M DUPONT COTISATION", Decimal("30.00"), BY_REF, [ANNE, JEAN, JEANNE], PATTERN)
    assert result.membership_id is None and result.ambiguous == (2, 3)


def test_two_references_are_ambiguous():
    result = matching.match_line("ADH26-7KQ4M ADH26-3CDEF", Decimal("70.00"), BY_REF, [], PATTERN)
    assert result.ambiguous == (1, 2) and not result.found


# --- reading files --------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b"%PDF-1.7 binary", "pas un PDF"),
    (b"", "vide"),
    (b"<?xml version='1.0'?><Document><CstmrCdtTrfInitn/></Document>", "pas un relevé CAMT.053"),
    (b"OFXHEADER:100\nDATA:OFXSGML", "OFX"),
])
def test_unknown_format_records_nothing(organisation, content, message):
    with pytest.raises(statements.StatementFormatError, match=message):
        statements.import_statement(organisation, "releve.bin", content)
    assert line_count(organisation) == 0


def test_csv_without_mapping_asks_for_columns(organisation, membership):
    with pytest.raises(statements.MappingNeeded) as caught:
        statements.import_statement(organisation, "releve.csv", sample("statement_cp1252.csv", membership))
    assert "Crédit euros" in caught.value.columns
    assert line_count(organisation) == 0


def test_bad_date_in_csv(organisation, membership):
    statements.save_csv_mapping(organisation, {"date": "date", "label": "libelle", "amount": "montant"},
                                ["date", "libelle", "montant"])
    with pytest.raises(statements.StatementFormatError, match="Ligne 2 : date illisible"):
        statements.import_statement(organisation, "x.csv", b"date;libelle;montant\n2026/31/12;VIR;10,00\n")
    assert line_count(organisation) == 0


# --- import, matching, confirmation ---------------------------------------------------------

def test_csv_import_is_idempotent_and_matches(organisation, membership, nurse_membership):
    content = sample("statement_cp1252.csv", membership)
    statements.save_csv_mapping(organisation, MAPPING, statements.csv_columns(content))
    first = statements.import_statement(organisation, "releve.csv", content)
    assert (first.line_count, first.new_line_count) == (6, 6)
    by_label = {l.label[:28]: l for l in first.lines}
    assert len(by_label) == 5  # the two identical cheque deposits are two lines
    physician_line = next(l for l in first.lines if "LE FLOCH" in l.label)
    assert (physician_line.status, physician_line.suggested_id, physician_line.match_rule) == (
        L.SUGGESTED, membership.id, "reference")
    dupont = next(l for l in first.lines if "DUPONT" in l.label)
    assert (dupont.suggested_id, dupont.match_rule) == (nurse_membership.id, "name_amount")
    fees = next(l for l in first.lines if "FRAIS" in l.label)  # a debit: open for other features, not membership's
    assert fees.status is L.UNMATCHED and fees not in statements.lines_to_review(organisation)
    assert next(l for l in first.lines if "MARTIN" in l.label).status is L.UNMATCHED

    with pytest.raises(statements.AlreadyImported):
        statements.import_statement(organisation, "releve-copie.csv", content)
    assert line_count(organisation) == 6


def test_camt_import_is_idempotent_and_confirm_records_payments(organisation, membership, nurse_membership):
    content = sample("camt053_sample.xml", membership)
    statement = statements.import_statement(organisation, "camt.xml", content)
    # The batch entry of two transfers (JEAN DUPONT, a gift) is one line, as the bank booked it.
    assert statement.new_line_count == 3
    with pytest.raises(statements.AlreadyImported):
        statements.import_statement(organisation, "camt.xml", content)

    review = statements.lines_to_review(organisation)
    choices = {l.id: l.suggested_id for l in review if l.status is L.SUGGESTED}
    assert list(choices.values()) == [membership.id]
    payments = statements.confirm_lines(organisation, choices)
    assert len(payments) == 1
    assert membership.status is MembershipStatus.PAID
    assert payments[0].method is PaymentMethod.TRANSFER and payments[0].source == "statement"
    # Confirming the same screen again (double submit) records nothing more.
    assert statements.confirm_lines(organisation, choices) == []
    assert len(membership.payments) == 1
    [batch] = statements.lines_to_review(organisation)
    assert (batch.label, batch.amount) == ("Opération groupée de 2 mouvements", Decimal("60.00"))
    assert [(d["amount"], d["counterparty"], d["label"]) for d in batch.details] == [
        ("30.00", "JEAN DUPONT", "ADHESION CPTS JEAN DUPONT"), ("30.00", "M OU MME MARTIN", "DON ASSOCIATION")]


def test_manual_choice_for_unmatched_line(organisation, membership):
    content = simple_csv(organisation, ("05/02/2026", "DON ASSOCIATION", "30,00"),
                         ("06/02/2026", "VIR REMBOURSEMENT", "12,00"))
    statements.import_statement(organisation, "releve.csv", content)
    don = next(l for l in statements.lines_to_review(organisation) if l.label == "DON ASSOCIATION")
    statements.confirm_lines(organisation, {don.id: membership.id})
    assert don.status is L.MATCHED and membership.amount_paid == Decimal("30.00")
    statements.ignore_line(next(l for l in statements.lines_to_review(organisation) if l.status is L.UNMATCHED))


def test_review_lists_suggestions_first_then_unmatched_by_date(organisation, membership):
    content = simple_csv(organisation, ("01/02/2026", "VIR DON INCONNU", "15,00"),
                         ("03/02/2026", f"VIR COTISATION {membership.payment_reference}", "50,00"),
                         ("04/02/2026", "VIR REMBOURSEMENT", "12,00"),
                         ("02/02/2026", "VIR AUTRE", "7,00"))
    statements.import_statement(organisation, "releve.csv", content)
    review = statements.lines_to_review(organisation)
    assert [(l.status, l.booked_on.day) for l in review] == [
        (L.SUGGESTED, 3), (L.UNMATCHED, 1), (L.UNMATCHED, 2), (L.UNMATCHED, 4)]


def test_reimport_records_no_import_and_says_when(organisation, membership):
    content = simple_csv(organisation, ("03/02/2026", "VIR DON", "15,00"), ("04/02/2026", "VIR DON", "15,00"))
    first = statements.import_statement(organisation, "releve.csv", content)
    with pytest.raises(statements.AlreadyImported) as caught:
        statements.import_statement(organisation, "releve-copie.csv", content)
    day = first.created_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y")
    assert f"Relevé déjà importé le {day}" in str(caught.value)
    assert (import_count(organisation), line_count(organisation)) == (1, 2)


def test_overlapping_statement_imports_only_its_new_lines(organisation, membership):
    statements.import_statement(organisation, "janvier.csv", simple_csv(
        organisation, ("30/01/2026", "VIR DON", "15,00"), ("03/02/2026", "VIR DUPUIS", "20,00")))
    second = statements.import_statement(organisation, "fevrier.csv", simple_csv(
        organisation, ("03/02/2026", "VIR DUPUIS", "20,00"), ("05/02/2026", "VIR MARTIN", "25,00")))
    assert (second.line_count, second.new_line_count) == (2, 1)
    assert [l.label for l in second.lines] == ["VIR MARTIN"]
    assert (import_count(organisation), line_count(organisation)) == (2, 3)


def test_reference_under_an_earlier_prefix_still_matches(organisation, period, physician, nurse):
    settings = services.get_settings(organisation, create=True)
    settings.reference_prefix = "RES"
    physician_category = next(c for c in period.categories if c.kind is CategoryKind.PHYSICIAN)
    old = services.create_membership(organisation, physician, period, category=physician_category,
                                     joined_on=date(2026, 1, 10))
    settings.reference_prefix = "CPTS"
    nurse_category = next(c for c in period.categories if c.kind is CategoryKind.OTHER_PROFESSIONAL)
    new = services.create_membership(organisation, nurse, period, category=nurse_category,
                                     joined_on=date(2026, 1, 10))
    assert old.payment_reference.startswith("RES26-") and new.payment_reference.startswith("CPTS26-")
    # Amounts matching neither membership's due: only the reference can find them.
    content = simple_csv(organisation,
                         ("03/02/2026", f"VIR SEPA {old.payment_reference.replace('-', ' ').lower()} PARTIEL", "20,00"),
                         ("04/02/2026", f"VIRSEPA{old.payment_reference.replace('-', '')}", "5,00"),
                         ("05/02/2026", f"VIR {new.payment_reference}", "10,00"))
    statement = statements.import_statement(organisation, "releve.csv", content)
    assert [(l.status, l.suggested_id, l.match_rule) for l in statement.lines] == [
        (L.SUGGESTED, old.id, "reference"), (L.SUGGESTED, old.id, "reference"), (L.SUGGESTED, new.id, "reference")]


def test_import_queries_do_not_grow_with_lines(organisation, membership, nurse_membership, count_queries):
    def statement(month, count):
        return simple_csv(organisation, *[(f"{day:02d}/{month:02d}/2026", f"VIR {membership.payment_reference} N{day}",
                                           "50,00") for day in range(1, count + 1)])

    small, large = statement(3, 2), statement(4, 20)
    with count_queries() as few:
        statements.import_statement(organisation, "mars.csv", small)
    with count_queries() as many:
        statements.import_statement(organisation, "avril.csv", large)
    # SQLite gets the new lines inserted one by one (the ORM batches them with RETURNING on
    # PostgreSQL only): reads and updates are what matching must keep flat.
    assert reads_and_updates(many) == reads_and_updates(few)
    if _db.engine.dialect.name == "postgresql":
        assert many.count == few.count


def reads_and_updates(counter):
    return len([s for s in counter.statements if not s.lstrip().upper().startswith("INSERT")])


def test_review_pickers_name_members_as_everywhere_else(client, login_as, organisation, membership,
                                                        nurse_membership):
    from backoffice.people.models import Structure

    clinic = Structure(name="Maison de santé de l'Étang", structure_type="msp")
    _db.session.add(clinic)
    _db.session.flush()
    services.create_membership(organisation, clinic, membership.period)
    services.record_payment(nurse_membership, nurse_membership.amount_due, "cash")  # paid: no longer offered
    choices = statements.open_membership_choices(organisation)
    assert [(c.name, c.reference, c.balance) for c in choices] == [
        ("Anne LE FLOCH", membership.payment_reference, membership.amount_due),
        ("Maison de santé de l'Étang", choices[1].reference, choices[1].balance)]
    statements.import_statement(organisation, "releve.csv",
                                simple_csv(organisation, ("02/03/2026", "VIR INCONNU", "12,00")))
    login_as("treasurer")
    page = client.get("/o/cpts-test/membership/statements/review").get_data(as_text=True)
    assert f">Anne LE FLOCH — {membership.payment_reference} (reste 50,00" in page
