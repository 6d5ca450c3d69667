"""Forms of the treasurer's membership screens (French labels and messages)."""
import secrets
from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from backoffice.forms import REQUIRED, AmountField, FrenchDateField
from backoffice.membership.models import TREASURER_METHODS, CategoryKind, PaymentMethod
from backoffice.membership.renewals import WHO as RENEWAL_WHO
from backoffice.spreadsheets import FORMATS as SPREADSHEET_FORMATS


def new_form_key():
    """A one-time key put in a form: the payment it records is stored once, however often sent."""
    return secrets.token_urlsafe(24)


class MembershipForm(FlaskForm):
    party_id = HiddenField(validators=[DataRequired("Choisissez la personne ou la structure dans l'annuaire.")])
    period_id = SelectField("Période", coerce=int, validators=[InputRequired(REQUIRED)])
    category_id = SelectField("Catégorie", coerce=int, validate_choice=False)
    college_id = SelectField("Collège", coerce=int, validate_choice=False)
    amount_due = AmountField("Montant dû (laisser vide : montant de la catégorie)", allow_zero=True)
    joined_on = FrenchDateField("Date d'adhésion", default=date.today, validators=[InputRequired(REQUIRED)])
    note = TextAreaField("Note interne", validators=[Optional(), Length(max=2000)])


class PaymentForm(FlaskForm):
    amount = AmountField("Montant", validators=[InputRequired(REQUIRED)])
    method = SelectField("Moyen de paiement", choices={m.value: m.label for m in TREASURER_METHODS},
                         default=PaymentMethod.TRANSFER.value)
    paid_on = FrenchDateField("Date du paiement", default=date.today, validators=[InputRequired(REQUIRED)])
    reference = StringField("Référence (virement) ou numéro du chèque", validators=[Optional(), Length(max=100)])
    cheque_bank = StringField("Banque du chèque", validators=[Optional(), Length(max=100)])
    payer_name = StringField("Payeur, s'il n'est pas le membre", validators=[Optional(), Length(max=200)])
    note = StringField("Note", validators=[Optional(), Length(max=250)])
    # Shown only when services.unusual_payment found something to confirm.
    confirmed = BooleanField("Je confirme ce paiement")
    form_key = HiddenField()


class RefundForm(FlaskForm):
    # Shown on the same page as PaymentForm: ids of their own, so that each label names its field.
    amount = AmountField("Montant à rembourser", id="refund-amount", validators=[InputRequired(REQUIRED)])
    method = SelectField("Moyen de remboursement", id="refund-method",
                         choices={m.value: m.label for m in TREASURER_METHODS if m is not PaymentMethod.DIRECT_DEBIT},
                         default=PaymentMethod.TRANSFER.value)
    paid_on = FrenchDateField("Date", id="refund-paid_on", default=date.today, validators=[InputRequired(REQUIRED)])
    reference = StringField("Référence", id="refund-reference", validators=[Optional(), Length(max=100)])
    note = StringField("Note", id="refund-note", validators=[Optional(), Length(max=250)])
    form_key = HiddenField()


class RenewalFilterForm(FlaskForm):
    """Who to renew (a GET filter: no CSRF token in the address)."""

    class Meta:
        csrf = False

    who = SelectField("Qui", choices=RENEWAL_WHO, default="all")
    college = SelectField("Collège", coerce=int, validate_choice=False, default=0)


class ReasonForm(FlaskForm):
    reason = StringField("Motif", validators=[DataRequired(REQUIRED), Length(max=250)])


class ReversalForm(FlaskForm):
    reason = StringField("Motif de la contre-passation", validators=[DataRequired(REQUIRED), Length(max=250)])
    # The day the bank returned the money, often weeks after the payment: the entry is dated so.
    reversed_on = FrenchDateField("Date de la contre-passation", default=date.today, validators=[Optional()])
    form_key = HiddenField()


class FeeCategoryForm(FlaskForm):
    label = StringField("Libellé", validators=[DataRequired(REQUIRED), Length(max=100)])
    kind = SelectField("Type (pour la suggestion)", choices={k.value: k.label for k in CategoryKind})
    amount = AmountField("Montant", allow_zero=True, validators=[InputRequired(REQUIRED)])
    position = IntegerField("Ordre", validators=[Optional(), NumberRange(min=0, max=999)])
    active = BooleanField("Proposée", default=True)


class PeriodForm(FlaskForm):
    year = IntegerField("Année de début", validators=[InputRequired(REQUIRED), NumberRange(min=2000, max=2100,
                                                                                        message="Année invalide.")])
    copy_grid = BooleanField("Reprendre la grille de la période précédente", default=True)


class CollegeForm(FlaskForm):
    name = StringField("Nom", validators=[DataRequired(REQUIRED), Length(max=100)])
    description = StringField("Description", validators=[Optional(), Length(max=250)])
    party_kind = SelectField("Suggéré pour", choices={"": "—", "professional": "Professionnels",
                                                      "structure": "Structures"})


class SettingsForm(FlaskForm):
    creditor_identifier = StringField("Identifiant créancier SEPA (ICS)", validators=[Optional(), Length(max=35)])
    reference_prefix = StringField("Préfixe des références de paiement",
                                   validators=[DataRequired(REQUIRED), Length(min=2, max=5)])
    reference_scheme = StringField("Référence propre à l'association (facultatif)",
                                   validators=[Optional(), Length(max=40)])
    due_days = IntegerField("Échéance (jours après le début de la période)",
                            validators=[InputRequired(REQUIRED), NumberRange(min=0, max=365)])

    def validate_reference_prefix(self, field):
        # Members copy the reference onto their transfers: letters only, in capitals.
        letters = "".join(ch for ch in field.data.upper() if ch.isalpha())
        if len(letters) < 2:
            raise ValidationError("Le préfixe compte 2 à 5 lettres.")
        field.data = letters


class ChequeDepositForm(FlaskForm):
    deposited_on = FrenchDateField("Date de remise", default=date.today, validators=[InputRequired(REQUIRED)])


class StatementUploadForm(FlaskForm):
    statement = FileField("Relevé (CSV de votre banque ou CAMT.053)", validators=[FileRequired("Choisissez un fichier.")])
    account = SelectField("Compte bancaire", validate_choice=False)
    remap = BooleanField("Revoir les colonnes de ce fichier avant l'import (export CSV)")

    def set_accounts(self, accounts):
        """The organisation's accounts in use; « reconnu d'après le fichier » (its IBAN or account
        number, else its columns, else the default account) first."""
        self.account.choices = {"": "Reconnu d'après le fichier", **{str(a.id): a.name for a in accounts}}


class MappingForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    account_id = HiddenField()
    filename = HiddenField()
    date = SelectField("Colonne de la date", validate_choice=False)
    label = SelectField("Colonne du libellé", validate_choice=False)
    amount = SelectField("Colonne du montant (signé)", validate_choice=False)
    debit = SelectField("ou colonne du débit", validate_choice=False)
    credit = SelectField("et colonne du crédit", validate_choice=False)
    reference = SelectField("Colonne de la référence (facultatif)", validate_choice=False)

    def set_columns(self, columns):
        for field in (self.date, self.label, self.amount, self.debit, self.credit, self.reference):
            field.choices = {"": "—", **{c: c for c in columns}}


class MandateForm(FlaskForm):
    iban = StringField("IBAN", validators=[DataRequired(REQUIRED), Length(max=42)])
    bic = StringField("BIC", validators=[DataRequired(REQUIRED), Length(max=11)])
    debtor_name = StringField("Titulaire du compte", validators=[Optional(), Length(max=70)])
    signed_on = FrenchDateField("Date de signature", default=date.today, validators=[InputRequired(REQUIRED)])
    reference = StringField("Référence unique de mandat (RUM) — vide : générée", id="mandate-reference",
                            validators=[Optional(), Length(max=35)])


class DirectDebitRunForm(FlaskForm):
    collection_date = FrenchDateField("Date de prélèvement", validators=[InputRequired(REQUIRED)])


class ExportForm(FlaskForm):
    file_format = SelectField("Format", choices=SPREADSHEET_FORMATS)
