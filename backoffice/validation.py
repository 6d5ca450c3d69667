"""Checks of French identifiers and contact details, with French messages.

Each ``clean_*`` function returns the normalised value or raises
``ValidationError``; forms and imports share them so that a value refused in
one is refused in the other with the same words.
"""
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import bic as std_bic
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as std_siren
from stdnum.fr import siret as std_siret
from wtforms.validators import ValidationError as FormValidationError

from backoffice.errors import ServiceError


class ValidationError(ServiceError, ValueError):
    """A value a person typed is wrong; the message is French and shown as is."""


def _digits(value):
    return re.sub(r"[\s.\-]", "", str(value or ""))


def clean_rpps(value):
    number = _digits(value)
    if not number.isdigit() or len(number) != 11:
        raise ValidationError("Le numéro RPPS doit comporter 11 chiffres.")
    if not luhn.is_valid(number):
        raise ValidationError("Le numéro RPPS est invalide (clé de contrôle incorrecte).")
    return number


def clean_adeli(value):
    number = _digits(value).upper()
    if not re.fullmatch(r"\d{2}[\dAB]\d{6}", number):
        raise ValidationError("Le numéro ADELI doit comporter 9 caractères (ex. 441234567).")
    return number


def clean_siren(value):
    try:
        return std_siren.validate(_digits(value))
    except StdnumError:
        raise ValidationError("Le SIREN est invalide (9 chiffres, clé de contrôle).") from None


def clean_siret(value):
    try:
        return std_siret.validate(_digits(value))
    except StdnumError:
        raise ValidationError("Le SIRET est invalide (14 chiffres, clé de contrôle).") from None


def clean_iban(value):
    try:
        return std_iban.validate(value or "")
    except StdnumError:
        raise ValidationError("L'IBAN est invalide.") from None


def clean_bic(value):
    try:
        return std_bic.validate(value or "")
    except StdnumError:
        raise ValidationError("Le BIC est invalide (8 ou 11 caractères).") from None


def clean_email(value):
    try:
        return validate_email(str(value or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError("L'adresse e-mail est invalide.") from None


def clean_phone(value):
    """A French or international number, stored in E.164 (+33612345678)."""
    try:
        number = phonenumbers.parse(str(value or ""), "FR")
    except phonenumbers.NumberParseException:
        raise ValidationError("Le numéro de téléphone est invalide.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Le numéro de téléphone est invalide.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_postcode(value):
    code = _digits(value)
    if not re.fullmatch(r"\d{5}", code):
        raise ValidationError("Le code postal doit comporter 5 chiffres.")
    return code


def format_phone(e164):
    """+33612345678 → 06 12 34 56 78 for French numbers; international format otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 33 else phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class Cleaned:
    """WTForms validator: runs a ``clean_*`` function and stores the normalised value.

    Empty values are left to ``Optional``/``DataRequired``.
    """

    def __init__(self, cleaner):
        self.cleaner = cleaner

    def __call__(self, form, field):
        if field.data in (None, ""):
            return
        try:
            field.data = self.cleaner(field.data)
        except ValidationError as exc:
            raise FormValidationError(str(exc)) from None
