from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from backoffice.people.professions import CIVILITIES, PROFESSIONS, SITE_KINDS, STRUCTURE_TYPES
from backoffice.validation import (
    Cleaned,
    clean_adeli,
    clean_email,
    clean_phone,
    clean_postcode,
    clean_rpps,
    clean_siren,
    clean_siret,
)


def _optional_int(value):
    try:
        return int(value) or None
    except (TypeError, ValueError):
        return None


def site_choices():
    from backoffice.people.services import all_sites

    choices = {"": "— aucun —"}
    for site in all_sites():
        choices[site.id] = f"{site.name} ({site.commune})" if site.commune else site.name
    return choices


class _ContactMixin:
    email = StringField("E-mail", validators=[Optional(), Cleaned(clean_email)])
    phone = StringField("Téléphone", validators=[Optional(), Cleaned(clean_phone)])
    address = StringField("Adresse", validators=[Optional(), Length(max=200)])
    postcode = StringField("Code postal", validators=[Optional(), Cleaned(clean_postcode)])
    commune = StringField("Commune", validators=[Optional(), Length(max=100)])
    site_id = SelectField("Lieu d'exercice", coerce=_optional_int, validate_choice=False)


class _SaveMixin:
    def values(self):
        return {name: getattr(self, name).data for name in self.FIELDS}


class ProfessionalForm(_SaveMixin, _ContactMixin, FlaskForm):
    FIELDS = ("civility", "first_name", "last_name", "profession", "rpps", "adeli", "email", "phone", "address",
              "postcode", "commune", "site_id")

    civility = SelectField("Civilité", choices={"": "—", **dict(CIVILITIES)}, validate_choice=False)
    first_name = StringField("Prénom", validators=[DataRequired("Indiquez le prénom."), Length(max=100)])
    last_name = StringField("Nom", validators=[DataRequired("Indiquez le nom."), Length(max=100)])
    profession = SelectField("Profession", choices={"": "— choisir —", **{p.code: p.label for p in PROFESSIONS}},
                             validators=[DataRequired("Choisissez la profession.")])
    rpps = StringField("N° RPPS", validators=[Optional(), Cleaned(clean_rpps)])
    adeli = StringField("N° ADELI", validators=[Optional(), Cleaned(clean_adeli)])
    submit = SubmitField("Enregistrer")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.site_id.choices = site_choices()


class StructureForm(_SaveMixin, _ContactMixin, FlaskForm):
    FIELDS = ("name", "structure_type", "siren", "siret", "email", "phone", "address", "postcode", "commune", "site_id")

    name = StringField("Raison sociale", validators=[DataRequired("Indiquez le nom de la structure."), Length(max=200)])
    structure_type = SelectField("Type de structure", choices=dict(STRUCTURE_TYPES))
    siren = StringField("SIREN", validators=[Optional(), Cleaned(clean_siren)])
    siret = StringField("SIRET", validators=[Optional(), Cleaned(clean_siret)])
    submit = SubmitField("Enregistrer")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.site_id.choices = site_choices()


class SiteForm(_SaveMixin, FlaskForm):
    FIELDS = ("name", "kind", "address", "postcode", "commune")

    name = StringField("Nom", validators=[DataRequired("Indiquez le nom du lieu d'exercice."), Length(max=200)])
    kind = SelectField("Type", choices=dict(SITE_KINDS))
    address = StringField("Adresse", validators=[Optional(), Length(max=200)])
    postcode = StringField("Code postal", validators=[Optional(), Cleaned(clean_postcode)])
    commune = StringField("Commune", validators=[Optional(), Length(max=100)])
    submit = SubmitField("Enregistrer")


class ImportForm(FlaskForm):
    file = FileField("Fichier CSV ou XLSX", validators=[FileRequired("Choisissez un fichier.")])
    submit = SubmitField("Vérifier le fichier")
