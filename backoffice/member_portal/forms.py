"""Forms of the member pages and of the treasurer's reminder, HelloAsso and receipt screens."""
import secrets

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, ValidationError

from backoffice.membership.reminders import parse_overdue_days
from backoffice.membership.services import MembershipError
from backoffice.validation import Cleaned, clean_phone, clean_postcode


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def new_form_key():
    """A one-time key put in a form: a double submission is recognised and recorded once."""
    return secrets.token_urlsafe(24)


class RenewForm(FlaskForm):
    form_key = HiddenField()


class ButtonForm(FlaskForm):
    """A form with only a button (and the CSRF token)."""


class ContactForm(FlaskForm):
    phone = StringField("Téléphone", filters=[_strip], validators=[Optional(), Cleaned(clean_phone)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    address = StringField("Adresse", filters=[_strip], validators=[Optional(), Length(max=200)],
                          render_kw={"autocomplete": "street-address"})
    postcode = StringField("Code postal", filters=[_strip], validators=[Optional(), Cleaned(clean_postcode)],
                           render_kw={"autocomplete": "postal-code", "inputmode": "numeric"})
    commune = StringField("Commune", filters=[_strip], validators=[Optional(), Length(max=100)],
                          render_kw={"autocomplete": "address-level2"})


class EmailChangeForm(FlaskForm):
    email = EmailField("Nouvelle adresse e-mail", filters=[_strip],
                       validators=[DataRequired("Indiquez la nouvelle adresse."), Email("Adresse e-mail invalide."),
                                   Length(max=200)],
                       render_kw={"autocomplete": "email"})


class ReminderSettingsForm(FlaskForm):
    enabled = BooleanField("Envoyer les relances automatiquement (chaque matin)")
    renewal_notice_days = IntegerField(
        "Annonce du renouvellement : jours avant le début de la période",
        validators=[InputRequired("Ce champ est obligatoire."),
                    NumberRange(min=0, max=180, message="Entre 0 et 180 jours.")])
    overdue_days = StringField("Relances après l'échéance : jours (séparés par des virgules)", filters=[_strip],
                               validators=[Optional()])

    def validate_overdue_days(self, field):
        try:
            self.parsed_overdue_days = parse_overdue_days(field.data)
        except MembershipError as exc:
            raise ValidationError(str(exc)) from None


class HelloAssoForm(FlaskForm):
    organisation_slug = StringField("Nom court de l'association sur HelloAsso", filters=[_strip],
                                    validators=[Optional(), Length(max=150)])
    client_id = StringField("Identifiant du client API (Client ID)", filters=[_strip],
                            validators=[Optional(), Length(max=100)], render_kw={"autocomplete": "off"})
    client_secret = PasswordField("Secret du client API (Client Secret)", filters=[_strip],
                                  validators=[Optional(), Length(max=200)], render_kw={"autocomplete": "new-password"})
    sandbox = BooleanField("Compte de test (sandbox HelloAsso)")
    enabled = BooleanField("Proposer le paiement en ligne aux adhérents")


class ResolveForm(FlaskForm):
    membership_id = SelectField("Adhésion", coerce=int, validate_choice=False,
                                validators=[DataRequired("Choisissez l'adhésion que ce paiement règle.")])


class PeriodChoiceForm(FlaskForm):
    period_id = SelectField("Période", coerce=int, validators=[DataRequired("Choisissez une période.")])
