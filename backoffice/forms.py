"""Form fields every feature shares (French input, French messages).

* ``AmountField``: an amount typed the French way (``30``, ``30,50``, ``1 234,56 €``) read by
  ``backoffice.money.clean_amount``; ``field.amount`` is the ``Decimal`` (``None`` when blank),
  ``field.data`` stays the text as typed, so a refused form comes back as the user wrote it.
  ``allow_zero=True`` accepts ``0``. Make it required with ``InputRequired(REQUIRED)``.
* ``FrenchDateField``: a date input (``type=date`` sends ISO) that also accepts ``jj/mm/aaaa``
  typed by hand (spaces around it ignored); an unreadable date is refused with ``DATE_ERROR``.
* ``REQUIRED`` and ``DATE_ERROR``: the messages of an empty field and of an unreadable date.
* ``EXPIRED`` and ``csrf_refused(form)``: a form refused for its CSRF token (expired, missing)
  has that error under a field no page shows, in English (Flask-WTF's): the page says ``EXPIRED``.
"""
from wtforms import DateField, StringField

from backoffice import money
from backoffice.errors import ServiceError

REQUIRED = "Ce champ est obligatoire."
DATE_ERROR = "Date invalide (jj/mm/aaaa)."
EXPIRED = "Le formulaire a expiré : rechargez la page et recommencez."


def csrf_refused(form) -> bool:
    """Whether the validation of ``form`` refused its CSRF token."""
    return "csrf_token" in form and bool(form["csrf_token"].errors)


class AmountField(StringField):
    """An amount typed the French way → ``self.amount`` (``Decimal``), positive (or zero if
    ``allow_zero``); a French error under the field otherwise."""

    def __init__(self, label=None, validators=None, allow_zero=False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.allow_zero = allow_zero
        self.amount = None

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.amount = None
        if self.data and self.data.strip():
            try:
                self.amount = money.clean_amount(self.data, allow_zero=self.allow_zero, field=self.name)
            except ServiceError as exc:
                raise ValueError(str(exc)) from None


class FrenchDateField(DateField):
    """A date input (``type=date`` sends ISO) that also accepts ``jj/mm/aaaa`` typed by hand."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%d", "%d/%m/%Y"], **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata([value.strip() for value in valuelist])
        except ValueError:
            raise ValueError(DATE_ERROR) from None
