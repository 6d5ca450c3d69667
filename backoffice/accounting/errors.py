"""The accounting module's error (its own module so that models and services share it)."""


class AccountingError(Exception):
    """A rule of the books is broken; ``str()`` is a French message for the user, ``field``
    the form field to blame, if any."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field
