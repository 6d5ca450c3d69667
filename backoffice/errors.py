"""The application's own errors, and how a view shows them.

Every feature's errors derive from :class:`ServiceError`: a service refuses something with a
French sentence meant for the user (``str(error)``) and, when the refusal is about one field
of a form, that field's name (``error.field``). Anything else that escapes a view is a bug: the
user gets the generic French 500 page and the traceback goes to the logs; no English text of an
internal error reaches a user.

In a view, :func:`show_refusal` puts the message under its field (or flashes it when the field
is not on the form) and gives the status to answer with — 422, so that the request's boundary
rolls back what the refused call had done::

    try:
        services.save_settings(g.organisation, **form.values())
    except ServiceError as error:
        status = show_refusal(error, form)  # first: the page shows the message it attaches
        return render_template("…/settings.html", form=form), status
    flash("Paramètres enregistrés.", "success")
    return redirect(url_for(".settings"))

A view that redirects after a refusal instead (a button without a form to show again) commits
at the end of the request: the refused call must leave nothing behind (run it in a savepoint,
``with db.session.begin_nested():``, as ``membership.views.common._apply`` does).
"""
from __future__ import annotations

import logging

from flask import flash, redirect

log = logging.getLogger(__name__)

REFUSED = 422  # Unprocessable Content: the form is shown again, the transaction rolled back
GENERIC_REFUSAL = "L'opération n'a pas pu aboutir. Si cela se reproduit, signalez-le à l'équipe technique."


class ServiceError(Exception):
    """A refusal of the application: ``message`` in French for the user, ``field`` the name of
    the form field it belongs to (None: about the whole form or action)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


def show_refusal(error: ServiceError, form=None, default: str | None = None, category: str = "danger") -> int:
    """Show ``error`` to the user: under ``form[error.field]`` when the form has that field (else
    under ``form[default]``, if given), otherwise as a flash; returns the status to answer with (422).

    Only a :class:`ServiceError`'s own message is shown: anything else is a bug, and the user
    reads a generic French sentence while the error goes to the logs."""
    if not isinstance(error, ServiceError):
        log.error("not an application error, shown as a generic refusal", exc_info=error)
        error = ServiceError(GENERIC_REFUSAL)
    message = str(error)
    name = error.field if form is not None and error.field and error.field in form else default
    field = form[name] if form is not None and name and name in form else None
    if field is not None:
        field.errors = [*field.errors, message]  # a tuple until the form is validated
    else:
        flash(message, category)
    return REFUSED




def act_or_refuse(action, success: str, *, row, render, target: str, form=None):
    """Run the service call ``action()`` in a savepoint: refused (:class:`ServiceError`, the
    lifecycle's included), the refusal is shown (under its field of ``form``, if given and
    ``render`` shows that form), ``row`` is read again (the savepoint rolled back what ``action``
    changed on it) and ``render(row, 422)`` answers; else ``success`` is flashed and the answer
    redirects to ``target``. The request's boundary commits."""
    from backoffice.extensions import db

    try:
        with db.session.begin_nested():
            action()
    except ServiceError as error:
        show_refusal(error, form)
        db.session.refresh(row)
        return render(row, 422)
    flash(success, "success")
    return redirect(target)
