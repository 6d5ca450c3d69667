"""Forms of the accounting screens (labels and messages in French)."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from backoffice.accounting.exporting import FORMATS, REPORTS
from backoffice.accounting.models import JOURNAL_KIND_LABELS
from backoffice.forms import DATE_ERROR, REQUIRED, AmountField, FrenchDateField


class EntryLineForm(Form):
    """One line of a manual entry (a sub-form: the CSRF token is the parent's)."""

    account = StringField("Compte", validators=[Optional(), Length(max=20)],
                          render_kw={"list": "accounts-list", "autocomplete": "off", "inputmode": "numeric"})
    party = SelectField("Tiers", coerce=str, validators=[Optional()], validate_choice=False)
    label = StringField("Libellé de la ligne", validators=[Optional(), Length(max=200)])
    debit = StringField("Débit", validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})
    credit = StringField("Crédit", validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})

    def is_blank(self):
        return not any((field.data or "").strip() for field in (self.account, self.debit, self.credit, self.label))


class ManualEntryForm(FlaskForm):
    journal = SelectField("Journal", validators=[DataRequired(REQUIRED)])
    entry_date = FrenchDateField("Date de l'écriture", validators=[DataRequired(DATE_ERROR)])
    piece_ref = StringField("Pièce justificative", validators=[DataRequired(REQUIRED), Length(max=60)])
    piece_date = FrenchDateField("Date de la pièce", validators=[Optional()])
    label = StringField("Libellé", validators=[DataRequired(REQUIRED), Length(max=200)])
    lines = FieldList(FormField(EntryLineForm), min_entries=4, max_entries=50)
    submit = SubmitField("Enregistrer l'écriture")


class ReverseForm(FlaskForm):
    entry_date = FrenchDateField("Date de la contre-passation", validators=[Optional()])
    label = StringField("Libellé", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Contre-passer")


class ClosePeriodForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    year = HiddenField(validators=[DataRequired()])
    month = HiddenField()


class CloseYearForm(FlaskForm):
    """The confirmation of a fiscal year's closing: the box must be ticked."""

    confirm = BooleanField("Je confirme la clôture définitive de l'exercice : ses écritures seront validées et "
                           "numérotées définitivement, et plus aucune écriture ne pourra y être passée, modifiée "
                           "ou lettrée.", validators=[DataRequired("Cochez la case pour confirmer la clôture.")])
    submit = SubmitField("Clôturer définitivement l'exercice")


class ExportForm(FlaskForm):
    year = SelectField("Exercice", coerce=int)
    fmt = SelectField("Format", choices=dict(FORMATS))
    report = SelectField("État (CSV et XLSX)", choices={**REPORTS, "all": "Les trois états (XLSX)"},
                         default="journal")
    encoding = SelectField("Encodage", choices={
        "utf-8": "UTF-8 (recommandé ; avec BOM pour le CSV)",
        "cp1252": "Windows-1252 (CSV pour anciens logiciels)",
        "iso-8859-15": "ISO-8859-15 (FEC)",
    })
    start = FrenchDateField("Du (CSV et XLSX)", validators=[Optional()])
    end = FrenchDateField("Au (CSV et XLSX)", validators=[Optional()])
    submit = SubmitField("Lancer l'export")


class AccountForm(FlaskForm):
    number = StringField("Numéro", validators=[DataRequired(REQUIRED), Length(max=12)],
                         render_kw={"inputmode": "numeric"})
    label = StringField("Libellé", validators=[DataRequired(REQUIRED), Length(max=200)])
    collective = BooleanField("Compte collectif (un compte auxiliaire par tiers)")
    submit = SubmitField("Ajouter le compte")


class AccountEditForm(FlaskForm):
    label = StringField("Libellé", validators=[DataRequired(REQUIRED), Length(max=200)])
    collective = BooleanField("Compte collectif (un compte auxiliaire par tiers)")
    active = BooleanField("Actif (utilisable dans les écritures)")
    submit = SubmitField("Enregistrer")


class JournalForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(REQUIRED), Length(max=8)])
    label = StringField("Libellé", validators=[DataRequired(REQUIRED), Length(max=100)])
    kind = SelectField("Type", choices={kind.value: label for kind, label in JOURNAL_KIND_LABELS.items()})
    submit = SubmitField("Ajouter le journal")


class JournalEditForm(FlaskForm):
    label = StringField("Libellé", validators=[DataRequired(REQUIRED), Length(max=100)])
    active = BooleanField("Actif")
    submit = SubmitField("Enregistrer")


class PlainForm(FlaskForm):
    """Only the CSRF token: for forms whose fields are built by the template."""


class BudgetLineForm(FlaskForm):
    """A line of the budget prévisionnel: an account or a group (prefix), an amount."""

    account = StringField("Compte ou groupe de comptes", validators=[DataRequired(REQUIRED), Length(max=20)],
                          render_kw={"list": "accounts-list", "autocomplete": "off", "inputmode": "numeric"})
    label = StringField("Libellé (facultatif)", validators=[Optional(), Length(max=200)])
    amount = AmountField("Montant budgété", allow_zero=True, validators=[InputRequired(REQUIRED)],
                         render_kw={"inputmode": "decimal"})
    submit = SubmitField("Enregistrer la ligne")


class AnnualExportForm(FlaskForm):
    """Which file of the annual accounts to build (a task)."""

    year = HiddenField(validators=[DataRequired()])
    fmt = SelectField("Fichier", choices={"xlsx": "Classeur XLSX (comptes annuels et budget)",
                                          "docx": "Document Word (comptes annuels et rapport financier)",
                                          "pdf": "PDF (comptes annuels et rapport financier)"})
    submit = SubmitField("Préparer le fichier")


class AllocationLineForm(Form):
    """One line of the allocation of the result (a sub-form: the CSRF token is the parent's)."""

    account = SelectField("Compte", coerce=str, validators=[Optional()], validate_choice=False)
    amount = StringField("Montant", validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})

    def is_blank(self):
        return not (self.amount.data or "").strip()


class ResultAllocationForm(FlaskForm):
    """The AG's decision on the previous year's result (*affectation du résultat*): several
    lines (report à nouveau, reserves, for a SISA the associates' share), summing to the result."""

    decided_on = FrenchDateField("Date de l'assemblée", validators=[DataRequired(DATE_ERROR)])
    resolution = SelectField("Résolution votée", coerce=str, validators=[Optional()], validate_choice=False)
    lines = FieldList(FormField(AllocationLineForm), min_entries=4, max_entries=12)
    submit = SubmitField("Enregistrer l'affectation")
