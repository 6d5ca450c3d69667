from flask_wtf import FlaskForm


class RetryForm(FlaskForm):
    """The "Réessayer" button: a POST carrying only the CSRF token."""


class CancelForm(FlaskForm):
    """The "Annuler" button: a POST carrying only the CSRF token."""
