from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from backoffice.extensions import db
from backoffice.formatting import MONTH_NAMES
from backoffice.organisations.models import AffiliationRole, OrganisationKind
from backoffice.validation import (
    Cleaned,
    clean_bic,
    clean_email,
    clean_iban,
    clean_phone,
    clean_postcode,
    clean_siren,
    clean_siret,
)

MONTHS = MONTH_NAMES  # « janvier » … « décembre », from the formatting helpers (Babel)
KIND_CHOICES = {kind.value: kind.label for kind in OrganisationKind}
# The settings form's office pickers and the affiliation role each one writes.
OFFICE_FIELDS = {"president_id": AffiliationRole.PRESIDENT, "treasurer_id": AffiliationRole.TREASURER,
                 "secretary_id": AffiliationRole.SECRETARY}


def directory_choices():
    """Professionals of the directory, by name, for the offices (a shorthand choices dict)."""
    from backoffice.people.models import Professional

    rows = db.session.execute(
        select(Professional.id, Professional.first_name, Professional.last_name, Professional.commune)
        .order_by(Professional.sort_name, Professional.id)
    )
    choices = {0: "— non renseigné —"}
    for row in rows:
        choices[row.id] = f"{(row.last_name or '').upper()} {row.first_name or ''}" + (f" ({row.commune})" if row.commune else "")
    return choices


def _optional_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class OrganisationSettingsForm(FlaskForm):
    name = StringField("Nom", validators=[DataRequired("Indiquez le nom de l'organisation."), Length(max=200)])
    kind = SelectField("Type d'organisation", choices=KIND_CHOICES)
    siren = StringField("SIREN", validators=[Optional(), Cleaned(clean_siren)])
    siret = StringField("SIRET du siège", validators=[Optional(), Cleaned(clean_siret)])
    rna = StringField("N° RNA (associations)", validators=[Optional(), Length(max=10, message="10 caractères au plus (ex. W442012345).")])
    address = StringField("Adresse", validators=[Optional(), Length(max=200)])
    postcode = StringField("Code postal", validators=[Optional(), Cleaned(clean_postcode)])
    city = StringField("Commune", validators=[Optional(), Length(max=100)])
    email = StringField("E-mail de contact", validators=[Optional(), Cleaned(clean_email)])
    phone = StringField("Téléphone", validators=[Optional(), Cleaned(clean_phone)])
    iban = StringField("IBAN", validators=[Optional(), Cleaned(clean_iban)])
    bic = StringField("BIC", validators=[Optional(), Cleaned(clean_bic)])
    president_id = SelectField("Président(e)", coerce=_optional_int, validate_choice=True)
    treasurer_id = SelectField("Trésorier(ère)", coerce=_optional_int, validate_choice=True)
    secretary_id = SelectField("Secrétaire", coerce=_optional_int, validate_choice=True)
    fiscal_year_start_month = SelectField(
        "Début de l'exercice comptable", coerce=int, choices={i + 1: f"1er {m}" for i, m in enumerate(MONTHS)}
    )
    submit = SubmitField("Enregistrer")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = directory_choices()
        for office in OFFICE_FIELDS:
            getattr(self, office).choices = choices

    def validate_siret(self, field):
        if field.data and self.siren.data and not self.siren.errors and not str(field.data).startswith(str(self.siren.data)):
            from wtforms.validators import ValidationError

            raise ValidationError("Le SIRET doit commencer par le SIREN de l'organisation.")

    def values(self):
        """The submitted details, as ``update_settings`` takes them."""
        values = {name: getattr(self, name).data for name in (
            "name", "kind", "siren", "siret", "rna", "address", "postcode", "city", "email", "phone", "iban", "bic",
            "fiscal_year_start_month")}
        for office in OFFICE_FIELDS:
            values[office] = getattr(self, office).data or None
        return values

    def fill_offices(self, organisation):
        """Pre-select today's holder of each office (they live in affiliations, not on the organisation)."""
        from backoffice.organisations.affiliations import current_holder

        for office, role in OFFICE_FIELDS.items():
            holder = current_holder(organisation, role)
            getattr(self, office).data = holder.id if holder is not None else 0


class LogoForm(FlaskForm):
    logo = FileField("Logo (PNG ou JPEG, 1 Mo au plus)", validators=[FileRequired("Choisissez une image.")])
    submit_logo = SubmitField("Envoyer le logo")


class NewOrganisationForm(FlaskForm):
    name = StringField("Nom de la nouvelle organisation", validators=[DataRequired("Indiquez le nom de l'organisation."), Length(max=200)])
    kind = SelectField("Type d'organisation", choices=KIND_CHOICES)
    submit = SubmitField("Créer l'organisation")
