"""The shared form fields (``backoffice.forms``): French amounts and dates."""
from datetime import date
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.validators import InputRequired, Optional

from backoffice.forms import DATE_ERROR, REQUIRED, AmountField, FrenchDateField


class PaymentForm(Form):
    amount = AmountField("Montant", validators=[InputRequired(REQUIRED)])
    discount = AmountField("Remise", allow_zero=True, validators=[Optional()])
    paid_on = FrenchDateField("Date du paiement", validators=[InputRequired(REQUIRED)])


def _form(**data):
    return PaymentForm(MultiDict(data))


@pytest.mark.parametrize("typed, amount", [("1 234,56", "1234.56"), ("1234.56", "1234.56"), ("30,00 €", "30.00"),
                                           ("1\u202f000", "1000.00")])
def test_amount_field_reads_french_input_and_keeps_the_text(typed, amount):
    form = _form(amount=typed, paid_on="2026-03-02")
    assert form.validate(), form.errors
    assert form.amount.amount == Decimal(amount) and form.amount.data == typed
    assert form.discount.amount is None


@pytest.mark.parametrize("typed, message", [
    ("douze", "Le montant est invalide : « douze » (exemple : 1 234,56)."),
    ("12,345", "Le montant a au plus deux décimales (« 12,345 »)."),
    ("-5", "Le montant doit être positif."),
    ("0", "Le montant doit être supérieur à zéro."),
    ("", REQUIRED),
])
def test_amount_field_errors_are_french_and_under_the_field(typed, message):
    form = _form(amount=typed, paid_on="02/03/2026")
    assert not form.validate()
    assert form.errors == {"amount": [message]}


def test_amount_field_allows_zero_when_asked():
    form = _form(amount="10", discount="0,00", paid_on="2026-03-02")
    assert form.validate(), form.errors
    assert form.discount.amount == Decimal("0.00")


@pytest.mark.parametrize("typed", ["2026-03-02", "02/03/2026", " 02/03/2026 "])
def test_french_date_field_accepts_iso_and_dd_mm_yyyy(typed):
    form = _form(amount="10", paid_on=typed)
    assert form.validate(), form.errors
    assert form.paid_on.data == date(2026, 3, 2)


@pytest.mark.parametrize("typed", ["31/02/2026", "2 mars 2026", "03/02/26x"])
def test_french_date_field_refuses_other_text_in_french(typed):
    form = _form(amount="10", paid_on=typed)
    assert not form.validate()
    assert form.errors == {"paid_on": [DATE_ERROR]}
