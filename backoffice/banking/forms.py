"""Forms of the bank accounts screens (French labels; the rules are the services')."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional

from backoffice.banking.models import DEFAULT_JOURNAL, DEFAULT_LEDGER_ACCOUNT


class BankAccountForm(FlaskForm):
    name = StringField("Nom du compte", validators=[DataRequired("Donnez un nom au compte."), Length(max=100)])
    iban = StringField("IBAN", validators=[DataRequired("Indiquez l'IBAN du compte.")])
    bic = StringField("BIC", validators=[Optional(), Length(max=11, message="Le BIC est invalide (8 ou 11 caractères).")])
    journal_code = StringField("Journal comptable", default=DEFAULT_JOURNAL,
                               validators=[DataRequired("Indiquez le code du journal (par exemple BQ).")])
    ledger_account = StringField("Compte comptable", default=DEFAULT_LEDGER_ACCOUNT,
                                 validators=[DataRequired("Indiquez le compte comptable (512…).")])
    active = BooleanField("Compte utilisé", default=True)

    def values(self):
        return {name: getattr(self, name).data for name in ("name", "iban", "bic", "journal_code", "ledger_account")}
