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

A view that runs a service call and goes on afterwards runs it through :func:`attempt` (a
savepoint: a refusal undoes that call and nothing else, the request may still redirect and
commit) or, when its answer is simply « the page again » or « a redirect », through
:func:`act_or_refuse`::

    return act_or_refuse(lambda: services.close_session(assembly, current_user), "Séance close.",
                         target=url_for(".show", assembly_id=assembly.id))
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


class DuplicateSubmission(ServiceError):
    """The same form (its idempotency key) was already recorded: nothing new was done. Views
    that pass a ``duplicate`` warning to :func:`attempt` count it as done."""


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


def attempt(action, success=None, *, form=None, on_error=None, duplicate=None):
    """Run the service call ``action()`` in a savepoint and say how it went: ``(done, result)``.

    Refused (a :class:`ServiceError`, the lifecycle's included): the savepoint undoes what
    ``action`` did — and only that, so a view may go on and redirect (the boundary commits the
    rest) — and every object of the session is read again when next used
    (``backoffice.transactions``); the refusal is shown (``show_refusal(error, form)``, or
    ``on_error(error)`` instead) and the answer is ``(False, what showing it returned)``: 422 from
    ``show_refusal``. A :class:`DuplicateSubmission`, when ``duplicate`` is given (the warning:
    a message, or a function of the error), is a form already recorded: the warning is flashed
    and it counts as done, ``(True, None)``. Else ``success`` (a message, a function of the
    result, or None for no message) is flashed and the answer is ``(True, result)``."""
    from backoffice.extensions import db

    try:
        with db.session.begin_nested():
            result = action()
    except ServiceError as error:
        if duplicate is not None and isinstance(error, DuplicateSubmission):
            flash(duplicate(error) if callable(duplicate) else duplicate, "warning")
            return True, None
        return False, (on_error(error) if on_error is not None else show_refusal(error, form))
    if success is not None:
        flash(success(result) if callable(success) else success, "success")
    return True, result


def act_or_refuse(action, success, *, target, render=None, row=None, form=None, duplicate=None):
    """The answer of a view that runs one service call (:func:`attempt`): done, a redirect to
    ``target`` (an address, or a function of the result); refused, ``render(422)`` — the page
    again, which the boundary rolls back; ``render(row, 422)`` for the page of ``row`` — or,
    without ``render`` (a button without a form), a redirect to ``target`` (then an address):
    the savepoint keeps nothing of the refused call behind what the boundary commits. What the
    page shows needs no refresh: the savepoint that rolled back expired the session's objects."""
    done, result = attempt(action, success, form=form, duplicate=duplicate)
    if not done and render is not None:
        return render(result) if row is None else render(row, result)
    return redirect(target(result) if done and callable(target) else target)
