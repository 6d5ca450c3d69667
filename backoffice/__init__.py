"""Maillage: the back-office of coordinated-care organisations (CPTS, SISA, MSP)."""
import logging
import os

from flask import Flask, g, render_template, request
from flask_login import current_user

from config import get_config

from backoffice.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate, rq
from backoffice.sqlite import configure_sqlite

log = logging.getLogger(__name__)


def create_app(config=None, **overrides):
    """Build the application. ``config`` is a class from config.py or its name."""
    app = Flask(__name__, template_folder="../templates", instance_path=os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", "instance")))
    config_class = get_config(config) if config is None or isinstance(config, str) else config
    config_class.validate()
    app.config.update(config_class.settings())
    app.config.update(overrides)
    app.config.setdefault("RQ_CONNECTION", app.config["REDIS_URL"])
    app.config.setdefault("RQ_QUEUES", _rq_queue_names(app.config["RQ_QUEUE_PREFIX"]))
    os.makedirs(app.instance_path, exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    register_features(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_transaction_boundary(app)
    register_commands(app)
    register_proxy_fix(app, production=_is_production(config_class))
    return app


def _rq_queue_names(prefix):
    """Flask-RQ's ``RQ_QUEUES``: our queues (jobs.QUEUES) prefixed with ``RQ_QUEUE_PREFIX``."""
    from jobs import rq_queue_names

    return rq_queue_names(prefix)


def register_extensions(app):
    from backoffice.models import import_all_models

    import_all_models()
    import backoffice.audit.services  # noqa: F401  (registers the audit flush hook)
    db.init_app(app)
    configure_sqlite(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Veuillez vous connecter pour accéder à cette page."
    login_manager.login_message_category = "warning"
    csrf.init_app(app)
    babel.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    rq.init_app(app)


def register_blueprints(app):
    """Register ``bp`` of every feature package that has a ``views`` module."""
    for module in feature_modules("views"):
        app.register_blueprint(module.bp)


def register_features(app):
    """The feature registry (backoffice/features.py): checked now, the menu for the templates,
    and the pages of a feature refused to the kinds of organisation it does not serve."""
    from backoffice import features

    features.check(app)

    @app.before_request
    def refuse_features_not_served():
        organisation = g.get("organisation")
        feature = features.feature_of_blueprint(request.blueprint) if organisation is not None else None
        if feature is not None and not feature.serves(organisation):
            message = (f"Les pages « {feature.label} » ne servent pas aux organisations de type "
                       f"{organisation.kind.label}.")
            return render_template("errors/error.html", code=404, message=message), 404

    @app.context_processor
    def inject_menu():
        return {"organisation_menu": lambda: features.menu(g.get("organisation"), current_user)}


def feature_modules(name):
    """``backoffice.<feature>.<name>`` for every feature package that has one, by feature name."""
    import importlib
    import pkgutil

    modules = []
    for package in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if package.ispkg:
            try:
                modules.append(importlib.import_module(f"backoffice.{package.name}.{name}"))
            except ModuleNotFoundError as exc:
                if exc.name != f"backoffice.{package.name}.{name}":
                    raise
    return modules


def register_errorhandlers(app):
    def render_error(error):
        code = getattr(error, "code", 500)
        return render_template("errors/error.html", code=code), code

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.errorhandler(code)(render_error)


def register_template_helpers(app):
    from flask_babel import format_datetime

    from backoffice import formatting
    from backoffice.auth.permissions import can
    from backoffice.organisations.affiliations import treasurer_title
    from backoffice.validation import format_phone

    app.jinja_env.filters.update(
        money=formatting.format_money,
        thousands=formatting.format_whole_number,
        date_fr=formatting.format_date_fr,
        date_short=formatting.format_date_short,
        month_name=formatting.month_name,
        datetime_short=lambda value: format_datetime(value, "dd/MM/yyyy HH:mm") if value else "",
        phone=format_phone,
        of_name=formatting.of_name,
    )
    app.jinja_env.globals.update(by_civility=formatting.by_civility, treasurer_title=treasurer_title)

    @app.context_processor
    def inject_globals():
        return {"can": can, "organisation": g.get("organisation")}


def register_security_headers(app):
    @app.after_request
    def set_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("HSTS") and request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if current_user and getattr(current_user, "is_authenticated", False):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _is_production(config_class):
    from config import Production

    return issubclass(config_class, Production)


def proxy_hops(config, production):
    """How many reverse proxies sit in front of the app: ``PROXY_HOPS`` (setting or environment).

    Production defaults to 1 (the PaaS router), elsewhere to 0.
    """
    value = config.get("PROXY_HOPS", os.environ.get("PROXY_HOPS"))
    return int(value) if value not in (None, "") else (1 if production else 0)


def register_proxy_fix(app, production):
    """Trust X-Forwarded-For/-Proto/-Port from that many proxies.

    The client's address matters for rate limits, the scheme for secure cookies
    and HSTS. X-Forwarded-Host is not trusted: links sent by e-mail are built
    from the host, and a forged host would send them elsewhere.
    """
    hops = proxy_hops(app.config, production)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_port=hops, x_host=0, x_prefix=0)


def register_transaction_boundary(app):
    from backoffice.transactions import register_transaction_boundary as register

    register(app)


def register_commands(app):
    from backoffice.cli import register

    register(app)
