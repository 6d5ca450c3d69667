"""What the audit trail and the pages say of accounting rows: French words and amounts."""
from decimal import Decimal

from backoffice.accounting.models import Account, JournalLine, PaymentMethodRule, PostingRule


def test_a_line_reads_as_its_account_side_and_amount_in_french():
    account = Account(number="756", label="Cotisations")
    assert str(JournalLine(account=account, debit=Decimal("0"), credit=Decimal("1000.00"))) == \
        "Ligne 756 : crédit 1\u202f000,00\u00a0€"
    assert str(JournalLine(account=account, debit=Decimal("30.50"), credit=Decimal("0"))) == \
        "Ligne 756 : débit 30,50\u00a0€"


def test_rules_are_named_by_their_french_label():
    assert str(PostingRule(event="cheques_deposited")) == "Règle « Remise de chèques en banque »"
    assert str(PostingRule(event="no_such_event")) == "Règle « no_such_event »"
    assert str(PaymentMethodRule(method="direct_debit")) == "Moyen de paiement « Prélèvement SEPA »"
