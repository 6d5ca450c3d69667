"""Forms of the grants screens (French labels and messages)."""
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, FieldList, Form, FormField, IntegerField, SelectField, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from backoffice.forms import REQUIRED, AmountField, FrenchDateField
from backoffice.grants.models import DEFAULT_DEPRECIATION_YEARS, DOCUMENT_STEPS, AttachmentKind, OnePer, ProgrammeMode
from backoffice.people.professions import PROFESSIONS

NOT_REQUIRED = ""
REQUIRABLE_DOCUMENTS = (AttachmentKind.QUOTE, AttachmentKind.TRAINING_CERTIFICATE, AttachmentKind.SIGNED_AGREEMENT,
                        AttachmentKind.INVOICE)
_STEP_CHOICES = {NOT_REQUIRED: "Non exigée"} | {s.value: f"Pour passer à « {s.label} »" for s in DOCUMENT_STEPS}


class PercentField(StringField):
    """A percentage typed the French way (``80``, ``80,5``) → ``self.rate`` (``Decimal``)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.rate = None
        text = (self.data or "").replace("%", "").replace(",", ".").strip()
        if text:
            try:
                self.rate = Decimal(text).quantize(Decimal("0.01"))
            except InvalidOperation:
                raise ValueError("Pourcentage invalide (par exemple 80).") from None
            if not (Decimal(0) < self.rate <= 100):
                raise ValueError("Un pourcentage entre 0 et 100.")


class FunderForm(Form):
    name = StringField("Financeur", validators=[Optional(), Length(max=200)])
    amount = AmountField("Montant engagé")
    reference = StringField("Référence de la décision", validators=[Optional(), Length(max=120)])


class ProgrammeForm(FlaskForm):
    name = StringField("Nom du programme", validators=[DataRequired(REQUIRED), Length(max=200)])
    description = TextAreaField("Objet", validators=[Optional(), Length(max=4000)])
    equipment_kind = StringField("Matériel financé", validators=[Optional(), Length(max=120)])
    envelope = AmountField("Enveloppe budgétaire", validators=[InputRequired(REQUIRED)])
    ceiling_amount = AmountField("Plafond par aide")
    ceiling_rate = PercentField("Part du devis prise en charge (%)")
    opens_on = FrenchDateField("Ouverture des demandes", validators=[Optional()])
    closes_on = FrenchDateField("Clôture des demandes", validators=[Optional()])
    requires_membership = BooleanField("Réservé aux adhérents à jour à la date de la demande", default=True)
    requires_training = BooleanField("Formation exigée")
    training_label = StringField("Formation exigée (intitulé)", validators=[Optional(), Length(max=200)])
    one_per = SelectField("Limite", choices={o.value: o.label for o in OnePer}, default=OnePer.PROFESSIONAL.value)
    professions = SelectMultipleField("Professions retenues (aucune : toutes)",
                                      choices={p.code: p.label for p in PROFESSIONS})
    mode = SelectField("Forme de l'aide", choices={m.value: m.label for m in ProgrammeMode},
                       default=ProgrammeMode.GRANT.value)
    depreciation_years = IntegerField("Durée d'amortissement du matériel (années, en nature)",
                                      default=DEFAULT_DEPRECIATION_YEARS,
                                      validators=[Optional(), NumberRange(1, 20, "Entre 1 et 20 ans.")])
    funders = FieldList(FormField(FunderForm), min_entries=3, max_entries=8)
    doc_quote = SelectField(AttachmentKind.QUOTE.label, choices=_STEP_CHOICES)
    doc_training_certificate = SelectField(AttachmentKind.TRAINING_CERTIFICATE.label, choices=_STEP_CHOICES)
    doc_signed_agreement = SelectField(AttachmentKind.SIGNED_AGREEMENT.label, choices=_STEP_CHOICES)
    doc_invoice = SelectField(AttachmentKind.INVOICE.label, choices=_STEP_CHOICES)

    def document_fields(self):
        return [getattr(self, f"doc_{kind.value}") for kind in REQUIRABLE_DOCUMENTS]

    def fill_from(self, programme):
        """Show ``programme``'s settings (on a GET)."""
        for name in ("name", "description", "equipment_kind", "opens_on", "closes_on", "requires_membership",
                     "requires_training", "training_label"):
            getattr(self, name).data = getattr(programme, name)
        self.envelope.data = amount_text(programme.envelope)
        self.ceiling_amount.data = amount_text(programme.ceiling_amount)
        self.ceiling_rate.data = amount_text(programme.ceiling_rate)
        self.one_per.data = programme.one_per.value
        self.mode.data = programme.mode.value
        self.depreciation_years.data = programme.depreciation_years
        self.professions.data = list(programme.professions or [])
        for kind in REQUIRABLE_DOCUMENTS:
            getattr(self, f"doc_{kind.value}").data = (programme.required_documents or {}).get(kind.value, NOT_REQUIRED)
        while len(self.funders.entries):
            self.funders.pop_entry()
        for funder in programme.funders:
            self.funders.append_entry({"name": funder.name, "amount": amount_text(funder.amount),
                                       "reference": funder.reference})
        while len(self.funders.entries) < 3:
            self.funders.append_entry()

    def values(self):
        """The programme's settings, for ``services.create_programme``/``update_programme``."""
        return {
            "name": self.name.data, "description": self.description.data or None,
            "equipment_kind": (self.equipment_kind.data or "").strip() or None,
            "envelope": self.envelope.amount, "ceiling_amount": self.ceiling_amount.amount,
            "ceiling_rate": self.ceiling_rate.rate, "opens_on": self.opens_on.data, "closes_on": self.closes_on.data,
            "requires_membership": self.requires_membership.data, "requires_training": self.requires_training.data,
            "training_label": (self.training_label.data or "").strip() or None, "one_per": OnePer(self.one_per.data),
            "professions": list(self.professions.data or []),
            "mode": ProgrammeMode(self.mode.data),
            "depreciation_years": self.depreciation_years.data or DEFAULT_DEPRECIATION_YEARS,
            "required_documents": {kind.value: getattr(self, f"doc_{kind.value}").data for kind in REQUIRABLE_DOCUMENTS
                                   if getattr(self, f"doc_{kind.value}").data != NOT_REQUIRED},
            "funders": [(entry.form.name.data, entry.form.amount.data, entry.form.reference.data)
                        for entry in self.funders.entries if (entry.form.name.data or "").strip()],
        }


def amount_text(value):
    if value is None:
        return ""
    return f"{value:f}".replace(".", ",")


class ApplicationForm(FlaskForm):
    """An application: the practice, the equipment and its quote, the amount, the training."""

    site_id = SelectField("Cabinet (lieu d'exercice)", coerce=int, validate_choice=False)
    equipment_kind = StringField("Matériel", validators=[DataRequired(REQUIRED), Length(max=120)])
    equipment_model = StringField("Modèle", validators=[Optional(), Length(max=200)])
    supplier = StringField("Fournisseur", validators=[Optional(), Length(max=200)])
    quoted_price = AmountField("Prix du devis (TTC)", validators=[InputRequired(REQUIRED)])
    amount_requested = AmountField("Montant demandé", validators=[InputRequired(REQUIRED)])
    training_on = FrenchDateField("Date de la formation suivie", validators=[Optional()])
    note = TextAreaField("Commentaire", validators=[Optional(), Length(max=2000)])

    def fill_from(self, application):
        for name in ("equipment_kind", "equipment_model", "supplier", "training_on", "note"):
            getattr(self, name).data = getattr(application, name)
        self.site_id.data = application.site_id or 0
        self.quoted_price.data = amount_text(application.quoted_price)
        self.amount_requested.data = amount_text(application.amount_requested)

    def values(self, sites):
        """``sites``: {id: Site} the applicant may choose from."""
        return {"site": sites.get(self.site_id.data), "equipment_kind": self.equipment_kind.data.strip(),
                "equipment_model": (self.equipment_model.data or "").strip() or None,
                "supplier": (self.supplier.data or "").strip() or None,
                "quoted_price": self.quoted_price.amount, "amount_requested": self.amount_requested.amount,
                "training_on": self.training_on.data, "note": self.note.data or None}


class StaffApplicationForm(ApplicationForm):
    """By staff, on a member's behalf: the applicant is chosen too."""

    programme_id = SelectField("Programme", coerce=int, validators=[InputRequired(REQUIRED)])
    applicant_id = SelectField("Demandeur", coerce=int, validators=[InputRequired(REQUIRED)])


class ApproveForm(FlaskForm):
    amount = AmountField("Montant accordé", validators=[InputRequired(REQUIRED)])


class ReasonForm(FlaskForm):
    reason = StringField("Motif", validators=[DataRequired(REQUIRED), Length(max=500)])


class UploadForm(FlaskForm):
    kind = SelectField("Pièce", choices={k.value: k.label for k in AttachmentKind if k is not AttachmentKind.SIGNED_AGREEMENT})
    file = FileField("Fichier (PDF, JPEG ou PNG)", validators=[FileRequired("Choisissez un fichier.")])


class ScanForm(FlaskForm):
    file = FileField("Convention signée (scan PDF, JPEG ou PNG)", validators=[FileRequired("Choisissez un fichier.")])


class DeliveryForm(FlaskForm):
    serial_number = StringField("Numéro de série", validators=[DataRequired(REQUIRED), Length(max=120)])
    delivered_on = FrenchDateField("Livré le", validators=[Optional()])


class MemberApplicationForm(ApplicationForm):
    """The member's own application, with the quote (and the training certificate) at once."""

    quote = FileField("Devis (PDF, JPEG ou PNG — une photo suffit)")
    training_certificate = FileField("Attestation de formation")


class PaymentForm(FlaskForm):
    paid_on = FrenchDateField("Versée le", validators=[Optional()])
    invoice_reference = StringField("N° de la facture", validators=[Optional(), Length(max=120)])
    # Blank: the invoice is the quote's amount or more, the amount granted is paid.
    invoice_amount = AmountField("Montant de la facture (TTC)", validators=[Optional()])


class PayeeForm(FlaskForm):
    iban = StringField("IBAN", validators=[DataRequired(REQUIRED), Length(max=42)])
    bic = StringField("BIC", validators=[Optional(), Length(max=11)])


class TransferForm(FlaskForm):
    execution_date = FrenchDateField("Date d'exécution", validators=[InputRequired(REQUIRED)])


class FundingForm(FlaskForm):
    received_on = FrenchDateField("Reçue le", validators=[InputRequired(REQUIRED)])


class ReportForm(FlaskForm):
    file_format = SelectField("Format", choices={"docx": "Word (rapport rédigé)", "xlsx": "Excel (XLSX)", "csv": "CSV"},
                              default="docx")


class FollowUpForm(FlaskForm):
    year = IntegerField("Année", validators=[InputRequired(REQUIRED), NumberRange(2000, 2100)])
    quarter = SelectField("Trimestre", coerce=int, choices={1: "T1", 2: "T2", 3: "T3", 4: "T4"})
    screenings = IntegerField("Dépistages réalisés", validators=[InputRequired(REQUIRED), NumberRange(0, 100000)])
    referrals = IntegerField("Orientations vers un dermatologue", validators=[InputRequired(REQUIRED),
                                                                              NumberRange(0, 100000)])
    comment = TextAreaField("Commentaire", validators=[Optional(), Length(max=1000)])


class CommitteeForm(FlaskForm):
    """The committee meeting's form: its rows are ``decision-<id>``, ``amount-<id>`` and
    ``reason-<id>`` for each application of the agenda (read by :func:`committee_decisions`)."""


def committee_decisions(formdata, application_ids):
    """The board's decisions as typed, for the applications ``application_ids`` of the agenda:
    ``[committee.Decision]`` (amounts left as text: the service reads and checks them) and
    ``{id: (action, amount text, reason)}`` to show the form again as it was sent."""
    from backoffice.grants.committee import ACTIONS, LATER, Decision

    decisions, typed = [], {}
    for application_id in application_ids:
        action = formdata.get(f"decision-{application_id}", LATER)
        action = action if action in ACTIONS else LATER
        amount = (formdata.get(f"amount-{application_id}") or "").strip()[:40]
        reason = (formdata.get(f"reason-{application_id}") or "").strip()[:500]
        typed[application_id] = (action, amount, reason)
        decisions.append(Decision(application_id, action, amount, reason))
    return decisions, typed


# --- In kind: devices -------------------------------------------------------------------------

class DeviceForm(FlaskForm):
    equipment_kind = StringField("Matériel", validators=[DataRequired(REQUIRED), Length(max=120)])
    equipment_model = StringField("Modèle", validators=[Optional(), Length(max=200)])
    serial_number = StringField("Numéro de série", validators=[DataRequired(REQUIRED), Length(max=80)])
    purchased_on = FrenchDateField("Acheté le", validators=[InputRequired(REQUIRED)])
    purchase_amount = AmountField("Prix d'achat (TTC)", validators=[InputRequired(REQUIRED)])
    supplier = StringField("Fournisseur", validators=[DataRequired(REQUIRED), Length(max=200)])
    invoice_reference = StringField("N° de la facture d'achat", validators=[Optional(), Length(max=60)])
    invoice = FileField("Facture d'achat (PDF, JPEG ou PNG)")


HOLDER_MISSING = "Choisissez le bénéficiaire ou le site."


class LendForm(FlaskForm):
    """To whom a device is lent or transferred: the beneficiary's approved application (its
    choices: the programme's, checked again by the service), the practice (default: the
    application's), from when (default: today)."""

    application_id = SelectField("Bénéficiaire (demande accordée)", coerce=int, validate_choice=False)
    site_id = SelectField("Cabinet (lieu d'exercice)", coerce=int)
    on = FrenchDateField("À partir du", validators=[Optional()])

    def validate_application_id(self, field):
        if not field.errors and not field.data:  # none chosen (an unreadable one already says so)
            raise ValidationError(HOLDER_MISSING)


class DeviceDateForm(FlaskForm):
    """The return of a device: the day (default: today) and why, if need be."""

    on = FrenchDateField("Rendu le", validators=[Optional()])
    reason = StringField("Motif (facultatif)", validators=[Optional(), Length(max=500)])


class RetireForm(FlaskForm):
    """A device leaves the inventory: the day (default: today) and why (required)."""

    on = FrenchDateField("Le", validators=[Optional()])
    reason = StringField("Motif", validators=[DataRequired(REQUIRED), Length(max=500)])


class DevicePaymentForm(FlaskForm):
    paid_on = FrenchDateField("Payé le", validators=[Optional()])


class DepreciationForm(FlaskForm):
    year = IntegerField("Exercice", validators=[InputRequired(REQUIRED), NumberRange(2000, 2100, "Exercice invalide.")])
