"""Forms of the bank accounts screens (French labels; the rules are the services')."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from backoffice.forms import DATE_ERROR, FrenchDateField
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


class ReconcileForm(FlaskForm):
    """The line(s) of the books the treasurer picks for a statement line — several when it was
    paid over several entries (the service checks them, and that they add up)."""
    journal_line_id = SelectMultipleField("Écritures", coerce=int, validate_choice=False, validators=[Optional()])


class BookLineForm(FlaskForm):
    account_number = StringField("Compte", validators=[Optional(), Length(max=20)])
    label = StringField("Libellé de l'écriture", validators=[Optional(), Length(max=200)])
    remember = BooleanField("Retenir pour les prochains relevés")
    keyword = StringField("Quand le libellé contient", validators=[Optional(), Length(max=100)])


class ClosingBalanceForm(FlaskForm):
    closing_date = FrenchDateField("Date du solde", validators=[DataRequired(DATE_ERROR)])
    closing_balance = StringField("Solde du relevé", validators=[DataRequired("Indiquez le solde du relevé.")])


class LabelRuleForm(FlaskForm):
    keyword = StringField("Quand le libellé contient", validators=[DataRequired("Indiquez un mot du libellé."),
                                                                    Length(max=100)])
    account_number = StringField("Comptabiliser au compte", validators=[DataRequired("Indiquez le compte."),
                                                                         Length(max=20)])
