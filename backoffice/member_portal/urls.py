"""Absolute links for mails, also from jobs (no request): ``PUBLIC_BASE_URL`` or ``SERVER_NAME``."""
import os

from flask import current_app, has_request_context, render_template, url_for


def external_url(endpoint, **values):
    """``url_for(endpoint, _external=True)`` that works in a request, a job or a command.

    Outside a request, the base is ``PUBLIC_BASE_URL`` (setting or environment, e.g.
    ``https://maillage.example.org``), else ``SERVER_NAME``, else ``http://localhost``.
    """
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = current_app.config.get("PUBLIC_BASE_URL") or os.environ.get("PUBLIC_BASE_URL")
    if not base and current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=base or "http://localhost"):
        return url_for(endpoint, _external=True, **values)


def render_mail(template, **context):
    """(subject, body) of a plain-text mail template whose first line is the subject."""
    subject, _, body = render_template(template, **context).partition("\n")
    return subject.strip(), body.lstrip("\n")
