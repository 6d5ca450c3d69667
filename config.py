"""Settings: defaults per configuration, overridden by the environment when an app is created.

Development and Testing have safe local defaults; Production has none for what
matters and refuses to start without them (see ``Production.validate``).
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(value):
    return value.strip().lower() in {"1", "true", "yes", "on"}


def sqlalchemy_url(url):
    # Heroku-style URLs say postgres://; SQLAlchemy wants an explicit driver.
    if url and url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


DEVELOPMENT_SECRET_KEY = "dev-only-not-secret"

# Environment variable -> (setting, parser). Read when an application is created,
# never at import, so that a process sees the environment it was started with.
ENVIRONMENT = {
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", sqlalchemy_url),
    "REDIS_URL": ("REDIS_URL", str),
    "STORAGE_DIR": ("STORAGE_DIR", str),
    "RQ_QUEUE_PREFIX": ("RQ_QUEUE_PREFIX", str),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "MAIL_BACKEND": ("MAIL_BACKEND", str),
    "MAIL_SERVER": ("MAIL_SERVER", str),
    "MAIL_PORT": ("MAIL_PORT", int),
    "MAIL_USERNAME": ("MAIL_USERNAME", str),
    "MAIL_PASSWORD": ("MAIL_PASSWORD", str),
    "MAIL_USE_TLS": ("MAIL_USE_TLS", _bool),
    "MAIL_DEFAULT_SENDER": ("MAIL_DEFAULT_SENDER", str),
    "JOBS_INLINE": ("JOBS_INLINE", _bool),
    "JOB_HEARTBEAT_SECONDS": ("JOB_HEARTBEAT_SECONDS", float),
    "JOB_STALE_SECONDS": ("JOB_STALE_SECONDS", float),
    "JOB_RECONCILE_GRACE_SECONDS": ("JOB_RECONCILE_GRACE_SECONDS", float),
    "TASK_MAX_ATTEMPTS": ("TASK_MAX_ATTEMPTS", int),
    "TASK_RESULT_DAYS": ("TASK_RESULT_DAYS", int),
    "GRANTS_FOLLOW_UP_GRACE_DAYS": ("GRANTS_FOLLOW_UP_GRACE_DAYS", int),
    "PUBLIC_BASE_URL": ("PUBLIC_BASE_URL", str),
    "SQLITE_BUSY_TIMEOUT": ("SQLITE_BUSY_TIMEOUT", float),
    "DOCUMENTS_PDF": ("DOCUMENTS_PDF", _bool),
}


class Config:
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'maillage.sqlite'}"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # The embedded SQLite default (backoffice/sqlite.py): WAL, and a writer waits this many
    # seconds for another one (web process, worker) instead of failing « database is locked ».
    SQLITE_BUSY_TIMEOUT = 15.0
    # Outside a request and a job (commands, the demo seed), a transaction takes the write lock
    # when it begins, as a request that may write does.
    SQLITE_IMMEDIATE_OUTSIDE_REQUESTS = True
    REDIS_URL = "redis://127.0.0.1:6379/0"
    STORAGE_DIR = str(INSTANCE_DIR / "storage")
    # Queue names get this prefix so that tests (and several instances on one
    # Redis) never see each other's jobs.
    RQ_QUEUE_PREFIX = "maillage"

    MAIL_BACKEND = "smtp"  # smtp | outbox
    MAIL_SERVER = "localhost"
    MAIL_PORT = 587
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = True
    MAIL_DEFAULT_SENDER = "Maillage <ne-pas-repondre@maillage.local>"
    # The address of the site as members reach it (https://maillage.example.org), for the
    # links in mails sent by scheduled jobs, outside any request.
    PUBLIC_BASE_URL = None

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    BOOTSTRAP_SERVE_LOCAL = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    PREFERRED_URL_SCHEME = "https"
    HSTS = True

    # None: the rate limits live in REDIS_URL's Redis, shared by every gunicorn worker.
    RATELIMIT_STORAGE_URI = None
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"
    MAX_FAILED_LOGINS = 5
    LOCKOUT_MINUTES = 15
    SIGNIN_LINK_MAX_AGE = 15 * 60
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    PER_PAGE = 25
    # Without Redis, development runs jobs inside the web process (and says so).
    JOBS_INLINE = False
    # Jobs (see jobs/README.md). Queue names, timeouts and retries are declared in
    # jobs/__init__.py (QUEUES); these are the knobs an operator may turn.
    # Queues always go through Redis (Flask-RQ would run them synchronously when TESTING);
    # running without Redis is JOBS_INLINE's business.
    RQ_ASYNC = True
    JOB_HEARTBEAT_SECONDS = 10.0
    # A running task whose heartbeat is older than this is considered dead (worker killed).
    JOB_STALE_SECONDS = 120.0
    # A queued task younger than this is left alone by the reconciliation (being enqueued).
    JOB_RECONCILE_GRACE_SECONDS = 60.0
    # Runs of a task (first one included) before a dead worker fails it instead of re-queuing.
    TASK_MAX_ATTEMPTS = 3
    # Result files (exports, documents) are deleted after this many days.
    TASK_RESULT_DAYS = 30
    # A grant's quarterly follow-up report is late (and its beneficiary reminded) this many days
    # after the quarter's end.
    GRANTS_FOLLOW_UP_GRACE_DAYS = 30
    # The document jobs keep a PDF (LibreOffice, when installed) beside the Word receipts and
    # minutes, and members are handed the PDF; off, or without LibreOffice, they get the Word file.
    DOCUMENTS_PDF = True
    # Delays before the retries of a transient error; None: each queue's own (jobs.QUEUES).
    JOB_RETRY_INTERVALS = None
    # A mail delivery job in a worker goes on sending the other mails waiting, on its SMTP
    # connection, for at most this long (the mail queue's timeout is 120 s); 0: its own mail only.
    MAIL_BATCH_SECONDS = 60.0

    # Which environment variables this configuration listens to.
    ENVIRONMENT = ENVIRONMENT

    @classmethod
    def settings(cls, environ=None):
        """Every setting: the class's defaults, overridden by the environment now."""
        environ = os.environ if environ is None else environ
        values = {name: getattr(cls, name) for name in dir(cls) if name.isupper() and name != "ENVIRONMENT"}
        for variable, (setting, parse) in cls.ENVIRONMENT.items():
            if environ.get(variable) not in (None, ""):
                values[setting] = parse(environ[variable])
        if values.get("RATELIMIT_STORAGE_URI") is None:
            values["RATELIMIT_STORAGE_URI"] = values["REDIS_URL"]
        return values

    @classmethod
    def validate(cls):
        """Raise if a setting that production cannot live without is missing."""


class Development(Config):
    DEBUG = True
    MAIL_BACKEND = "outbox"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    HSTS = False

    @classmethod
    def settings(cls, environ=None):
        """The links of mails sent by the worker point at the development server, on its ``PORT``
        (``make run`` starts it on 5000 unless told otherwise), when no PUBLIC_BASE_URL is given."""
        environ = os.environ if environ is None else environ
        values = super().settings(environ)
        if not values.get("PUBLIC_BASE_URL"):
            values["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{environ.get('PORT') or 5000}"
        return values


class Testing(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # Tests never read the real DATABASE_URL, secret or mail settings; worker processes
    # started by the tests get their database, queues and storage through these.
    ENVIRONMENT = {
        "TEST_DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", sqlalchemy_url),
        **{variable: ENVIRONMENT[variable] for variable in (
            "REDIS_URL", "STORAGE_DIR", "RQ_QUEUE_PREFIX", "JOBS_INLINE", "JOB_HEARTBEAT_SECONDS",
            "JOB_STALE_SECONDS", "JOB_RECONCILE_GRACE_SECONDS", "TASK_MAX_ATTEMPTS", "TASK_RESULT_DAYS")},
    }
    MAIL_BACKEND = "outbox"
    # The test's own transaction (tests/conftest.py) begins deferred: a test that reads while a
    # worker runs a long job does not wait for it.
    SQLITE_IMMEDIATE_OUTSIDE_REQUESTS = False
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    HSTS = False
    SERVER_NAME = "localhost"
    # Feature tests get their task done by the time start_task() returns; the tests of the
    # job machinery switch this off and run a real worker (tests/tasks/conftest.py).
    JOBS_INLINE = True
    # A LibreOffice conversion takes seconds: only the tests of the PDF renditions turn it on
    # (the ``pdf_renditions`` fixture), not every test that pays a membership.
    DOCUMENTS_PDF = False


class Production(Config):
    DEBUG = False

    @classmethod
    def validate(cls):
        missing = [name for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY") if not os.environ.get(name)]
        if missing:
            raise RuntimeError(
                "Production configuration refuses to start: missing environment variable(s) "
                + ", ".join(missing) + ". See .env.example."
            )
        if os.environ.get("MAIL_BACKEND") == "outbox":
            raise RuntimeError("Production configuration refuses MAIL_BACKEND=outbox: it would show every mail on a page.")
        if os.environ["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY or len(os.environ["SECRET_KEY"]) < 32:
            raise RuntimeError(
                "Production configuration refuses to start: SECRET_KEY must be a random value "
                "of at least 32 characters (python -c 'import secrets; print(secrets.token_hex(32))')."
            )


CONFIGS = {"development": Development, "testing": Testing, "production": Production}


def get_config(name=None):
    name = name or os.environ.get("MAILLAGE_ENV") or os.environ.get("FLASK_ENV") or "development"
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown configuration {name!r}; choose one of {', '.join(CONFIGS)}.") from None
