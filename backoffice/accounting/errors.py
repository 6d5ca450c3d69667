"""The accounting module's error (its own module so that models and services share it)."""


from backoffice.errors import ServiceError


class AccountingError(ServiceError):
    """A rule of the books is broken; ``str()`` is a French message for the user, ``field``
    the form field to blame, if any."""
