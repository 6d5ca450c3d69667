"""Forms of the SISA remuneration screens (French labels; the rules are the services')."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from backoffice.forms import REQUIRED, AmountField, FrenchDateField
from backoffice.sisa.models import DeductionKind, IncomeKind, KeyBasis, MeetingKind

KEY_ROWS = 6  # rows of the keys form (blank ones are skipped)


class AssociateForm(FlaskForm):
    capital_share = AmountField("Part de capital (€)", allow_zero=True)
    iban = StringField("IBAN", validators=[Optional(), Length(max=42)])
    bic = StringField("BIC", validators=[Optional(), Length(max=11, message="Le BIC est invalide (8 ou 11 caractères).")])
    holder_name = StringField("Titulaire du compte", validators=[Optional(), Length(max=70)])


class IncomeForm(FlaskForm):
    kind = SelectField("Nature", choices=IncomeKind.choices())
    label = StringField("Libellé", validators=[Optional(), Length(max=200)])
    received_on = FrenchDateField("Reçu le", validators=[InputRequired(REQUIRED)])
    amount = AmountField("Montant reçu", validators=[InputRequired(REQUIRED)])


class DeductionForm(FlaskForm):
    kind = SelectField("Nature", choices=DeductionKind.choices())
    label = StringField("Libellé", validators=[Optional(), Length(max=200)])
    amount = StringField("Montant (€)", validators=[Optional()])
    percentage = StringField("ou pourcentage des recettes (%)", validators=[Optional()])
    account_number = StringField("Compte de charge", validators=[Optional(), Length(max=20)])


class PostDeductionsForm(FlaskForm):
    entry_date = FrenchDateField("Date de l'écriture", validators=[InputRequired(REQUIRED)])


class ScenarioForm(FlaskForm):
    name = StringField("Nom du scénario", validators=[InputRequired(REQUIRED), Length(max=120)])
    copy_from = SelectField("Copier les clés de", choices=[], coerce=int, validate_choice=False)


class KeyRowForm(Form):
    label = StringField("Libellé", validators=[Optional(), Length(max=120)])
    percentage = StringField("%", validators=[Optional()])
    basis = SelectField("Base", choices=KeyBasis.choices(), validate_choice=False)  # checked by set_keys
    prorate_presence = BooleanField("Au prorata des jours de présence")
    weights = StringField("Poids par profession", validators=[Optional(), Length(max=500)])


class KeysForm(FlaskForm):
    keys = FieldList(FormField(KeyRowForm), min_entries=KEY_ROWS, max_entries=KEY_ROWS)


class PointsForm(FlaskForm):
    party_id = SelectField("Associé", choices=[], coerce=int, validate_choice=False)
    label = StringField("Mission", validators=[InputRequired(REQUIRED), Length(max=200)])
    points = StringField("Points", validators=[InputRequired(REQUIRED)])


class MeetingForm(FlaskForm):
    held_on = FrenchDateField("Date", validators=[InputRequired(REQUIRED)])
    duration = StringField("Durée", validators=[InputRequired(REQUIRED), Length(max=20)])
    kind = SelectField("Type", choices=MeetingKind.choices())
    theme = StringField("Thème", validators=[InputRequired(REQUIRED), Length(max=200)])


class IndicatorRowForm(Form):
    label = StringField("Indicateur", validators=[Optional(), Length(max=200)])
    fixed_points = StringField("Points fixes", validators=[Optional()])
    variable_points = StringField("Points variables", validators=[Optional()])
    achievement = StringField("Atteinte (%)", validators=[Optional()])


class AciGridForm(FlaskForm):
    """The ACI points grid of a contract year (the numbers are checked by ``aci.save_grid``)."""

    point_value = StringField("Valeur du point (€)", validators=[InputRequired(REQUIRED)])
    advance_percentage = StringField("Avance (% de la rémunération)", validators=[InputRequired(REQUIRED)])
    reference_patients = StringField("Patientèle de référence", validators=[InputRequired(REQUIRED)])
    patients = StringField("Patients dont le médecin traitant exerce dans la structure", validators=[Optional()])
    indicators = FieldList(FormField(IndicatorRowForm), min_entries=1, max_entries=40)


class SettleRefundForm(FlaskForm):
    settled_on = FrenchDateField("Reçu le", validators=[InputRequired(REQUIRED)])
