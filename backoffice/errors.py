"""The application's own errors: French messages, ready for the user."""


class ServiceError(Exception):
    """A business rule refused an action. ``message`` is French; ``field`` names the form field it is about."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field
