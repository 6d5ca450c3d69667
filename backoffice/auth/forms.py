from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from backoffice.auth.models import ROLE_LABELS, STAFF_ROLES, Role
from backoffice.auth.services import MIN_PASSWORD_LENGTH
from backoffice.validation import Cleaned, clean_email

EMAIL_REQUIRED = DataRequired("Indiquez votre adresse e-mail.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value




def role_choices(roles=tuple(Role)):
    """Options of a role ``SelectField``, in the order of ``Role``."""
    return [SelectChoice(role.value, ROLE_LABELS[role]) for role in Role if role in roles]



class LoginForm(FlaskForm):
    email = EmailField("Adresse e-mail", filters=[_strip], validators=[EMAIL_REQUIRED, Email("Adresse e-mail invalide.")],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Mot de passe", validators=[DataRequired("Indiquez votre mot de passe.")],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField("Se connecter")


class LinkRequestForm(FlaskForm):
    email = EmailField("Adresse e-mail", filters=[_strip], validators=[EMAIL_REQUIRED, Email("Adresse e-mail invalide.")],
                       render_kw={"autocomplete": "email", "autofocus": True})
    submit = SubmitField("Recevoir le lien")


class ConfirmForm(FlaskForm):
    """A form with only a button (and the CSRF token)."""

    submit = SubmitField("Se connecter")


def _new_password_fields(label="Nouveau mot de passe"):
    password = PasswordField(
        label,
        validators=[DataRequired("Choisissez un mot de passe."), Length(
            min=MIN_PASSWORD_LENGTH, message=f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.")],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH},
    )
    confirm = PasswordField(
        "Confirmez le mot de passe",
        validators=[DataRequired("Saisissez le mot de passe une seconde fois."),
                    EqualTo("password", "Les deux mots de passe ne sont pas identiques.")],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class SetPasswordForm(FlaskForm):
    password, confirm = _new_password_fields("Mot de passe")
    submit = SubmitField("Enregistrer le mot de passe")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Mot de passe actuel", render_kw={"autocomplete": "current-password"})
    password, confirm = _new_password_fields()
    submit = SubmitField("Changer le mot de passe")


class InviteForm(FlaskForm):
    email = EmailField("Adresse e-mail", filters=[_strip],
                       validators=[DataRequired("Indiquez l'adresse e-mail."), Cleaned(clean_email)])
    full_name = StringField("Nom et prénom", validators=[
        DataRequired("Indiquez le nom de la personne."), Length(max=200, message="200 caractères au plus.")])
    role = SelectField("Rôle", choices=role_choices(STAFF_ROLES), default=Role.BOARD.value)
    submit = SubmitField("Inviter")


class GrantRoleForm(FlaskForm):
    role = SelectField("Rôle à attribuer", choices=role_choices())
    submit = SubmitField("Attribuer le rôle")
