"""Lead Workshop settings: configuration only, every value from the environment.

Defaults give the embedded set-up of `make run` (SQLite under var/, a Celery broker
on the file system). Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY,
ALLOWED_HOSTS and DEBUG=0; see README.md.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from leadworkshop.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# Without SECRET_KEY every process draws its own random key: safe (nothing signed
# survives a restart) but useless for several processes, so the deploy check
# `leadworkshop.E001` refuses it for production.
SECRET_KEY = env_str("SECRET_KEY", "")
SECRET_KEY_IS_EPHEMERAL = not SECRET_KEY
if SECRET_KEY_IS_EPHEMERAL:
    SECRET_KEY = secrets.token_urlsafe(64)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "guardian",
    # django-ninja: the API framework; listed so its Swagger page and assets are found.
    "ninja",
    "definitions",
    "feedback",
    "api",
    # Outbound webhooks and chat notifications (Slack, Microsoft Teams).
    "integrations",
    # The demo workshop of `make run` (manage.py seed_demo); no models.
    "demo",
    # Login throttling: counts failed log-ins and locks a username from an address.
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view opts out with @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it answers a locked-out log-in with its own page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadworkshop.urls"
WSGI_APPLICATION = "leadworkshop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "definitions.notifications.context_processors.inbox",
                "leadworkshop.sso.context_processors.accounts",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'leadworkshop.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
        # A kept connection is checked before each request reuses it, so a database
        # restart costs one reconnect, not one failed request per web process.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to one file: WAL lets readers go on during a
    # write, IMMEDIATE takes the write lock up front so transactions queue, not fail.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the same password work for unknown and known usernames.
    "leadworkshop.auth_backends.EqualWorkModelBackend",
    # Single sign-on: only for someone returning from the OpenID Connect provider.
    "leadworkshop.sso.backend.OIDCBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Argon2 for new and changed passwords; older hashes still verify and are upgraded at
# the next log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Five failed log-ins lock a username (from every address: spraying one account from
# many addresses gets nowhere) and, separately, an address (one address trying many
# usernames), for 15 minutes; a success resets the count. The lock-out page reads the
# same in both cases, so it tells nothing about which accounts exist.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The address comes from leadworkshop.client_ip: REMOTE_ADDR, or X-Forwarded-For read
# through exactly TRUSTED_PROXY_COUNT reverse proxies (0 = none, the default).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "leadworkshop.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Single sign-on with OpenID Connect (mozilla-django-oidc; README "Single sign-on").
# On when OIDC_RP_CLIENT_ID and the issuer (or the endpoints) are set. With an issuer
# the endpoints come from its discovery document, read at the first sign-in; an
# endpoint's own variable overrides it.
OIDC_ISSUER = env_str("OIDC_ISSUER", "").strip().rstrip("/")
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_OP_LOGOUT_ENDPOINT = env_str("OIDC_OP_LOGOUT_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "")
# Lower-case domains whose addresses may sign in; empty lets every verified address in.
OIDC_ALLOWED_EMAIL_DOMAINS = [
    d.lower().lstrip("@") for d in env_list("OIDC_ALLOWED_EMAIL_DOMAINS", [])
]
# A claim that makes someone staff: true, or (with values) containing one of them.
OIDC_STAFF_CLAIM = env_str("OIDC_STAFF_CLAIM", "")
OIDC_STAFF_VALUES = env_list("OIDC_STAFF_VALUES", [])
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10, minimum=1)
OIDC_AUTHENTICATION_CALLBACK_URL = "sso_callback"
OIDC_USE_PKCE = True
# Kept in the session for the provider's log-out (id_token_hint).
OIDC_STORE_ID_TOKEN = True
# Off: nobody signs in with a password here (every form), only through the provider.
LOCAL_PASSWORDS = env_bool("LOCAL_PASSWORDS", True)
_OIDC_ENDPOINTS = (
    OIDC_OP_AUTHORIZATION_ENDPOINT,
    OIDC_OP_TOKEN_ENDPOINT,
    OIDC_OP_USER_ENDPOINT,
    OIDC_OP_JWKS_ENDPOINT,
)
if OIDC_RP_CLIENT_ID and not OIDC_ISSUER and not all(_OIDC_ENDPOINTS):
    raise ImproperlyConfigured(
        "OIDC_RP_CLIENT_ID is set: set OIDC_ISSUER too (or all of OIDC_OP_AUTHORIZATION_"
        "ENDPOINT, OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT, OIDC_OP_JWKS_ENDPOINT)."
    )
if OIDC_RP_CLIENT_ID and not OIDC_RP_CLIENT_SECRET:
    raise ImproperlyConfigured("OIDC_RP_CLIENT_ID is set but OIDC_RP_CLIENT_SECRET is empty.")
if not LOCAL_PASSWORDS and not OIDC_RP_CLIENT_ID:
    raise ImproperlyConfigured(
        "LOCAL_PASSWORDS=0 leaves no way to sign in: configure single sign-on "
        "(OIDC_ISSUER, OIDC_RP_CLIENT_ID, OIDC_RP_CLIENT_SECRET)."
    )

# Guardian's database "anonymous user" is not needed: anonymous visitors never see a
# workshop, the login wall stops them first.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("it", _("Italian")),
    ("pt", _("Portuguese")),
    ("fr", _("French")),
    ("ja", _("Japanese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "leadworkshop.storage.ForgivingManifestStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# whitenoise serves files from STATIC_ROOT (built by collectstatic: hashed names,
# compressed) and, for any file not collected yet, from the source folders, so a
# deploy that skipped collectstatic is slower to cache but never broken.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

_mail_backend = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _mail_backend,
        "OPTIONS": (
            {
                "host": env_str("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25, minimum=1),
                "username": env_str("EMAIL_HOST_USER", ""),
                "password": env_str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
            }
            if _mail_backend.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Lead Workshop <noreply@localhost>")
# Absolute links in e-mails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# Security: strict in production, relaxed only where DEBUG (plain http on loopback).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Celery. The default broker keeps messages in files under var/ so `make run` needs
# no server; production points CELERY_BROKER_URL at Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    # kombu's filesystem transport needs its folders before the first message.
    _queue_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        # kombu's broadcast tables (worker control), by default ./control in the
        # current directory; they belong with the rest of the broker's files.
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# A benchmark gives its workers a queue of their own, so no other task reaches them.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "feedback.tasks.worker_heartbeat", "schedule": 30.0},
    "close-due-proposals": {"task": "definitions.tasks.close_due_proposals", "schedule": 60.0},
    "housekeeping": {"task": "feedback.tasks.housekeeping", "schedule": 60.0},
    "webhooks-sweep": {"task": "integrations.tasks.webhooks_sweep", "schedule": 60.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Largest file an import accepts (bytes); default 200 MB.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 200 * 1024 * 1024, minimum=1024)
# Without PostgreSQL's locks to tell, an import that reported no progress for this long
# is taken for one whose worker died (housekeeping fails it; it can be run again).
IMPORT_TIMEOUT_SECONDS = env_int("IMPORT_TIMEOUT_SECONDS", 1800, minimum=10)
# PostgreSQL: a workshop's first import of at least this many rows, into a lead table
# holding fewer leads than it brings, builds the table's secondary indexes after loading
# (locking the table for the build). 0 turns that off.
IMPORT_REBUILD_MIN_ROWS = env_int("IMPORT_REBUILD_MIN_ROWS", 100_000, minimum=0)
# Uploads above this size stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# The import mapping page posts five fields per column (a file has up to 500) plus a
# table of values for each choice or yes/no column; Django's default of 1,000 refused
# the mapping of a wide CRM export.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Per-account limits on the expensive actions (definitions.core.ratelimits): a sliding
# window, counted in the database so every process sees the same count.
RATE_LIMIT_UPLOADS_PER_HOUR = env_int("RATE_LIMIT_UPLOADS_PER_HOUR", 30, minimum=1)
RATE_LIMIT_WORKSHOPS_PER_DAY = env_int("RATE_LIMIT_WORKSHOPS_PER_DAY", 10, minimum=1)
RATE_LIMIT_BACKTESTS_PER_HOUR = env_int("RATE_LIMIT_BACKTESTS_PER_HOUR", 60, minimum=1)
RATE_LIMIT_INVITATIONS_PER_DAY = env_int("RATE_LIMIT_INVITATIONS_PER_DAY", 50, minimum=1)
# Discovery runs (the suggestions page's "Find improvements") read every labelled lead.
RATE_LIMIT_DISCOVERIES_PER_HOUR = env_int("RATE_LIMIT_DISCOVERIES_PER_HOUR", 30, minimum=1)

# Leads per backtest chunk: chunks run in parallel on every worker process there is.
BACKTEST_CHUNK_LEADS = env_int("BACKTEST_CHUNK_LEADS", 125_000, minimum=100)
# A backtest (each chunk, and a run without progress) fails after this many seconds.
BACKTEST_TIMEOUT_SECONDS = env_int("BACKTEST_TIMEOUT_SECONDS", 1800, minimum=10)

# A worker that has not reported for this long is shown as offline.
WORKER_HEARTBEAT_STALE_SECONDS = env_int("WORKER_HEARTBEAT_STALE_SECONDS", 90, minimum=10)

# Outbound webhooks and chat (integrations/, docs/webhooks.md). Webhook and chat URLs
# must be https:// on public addresses; these two open that up for tests and for
# receivers inside the company network.
INTEGRATIONS_ALLOW_HTTP = env_bool("INTEGRATIONS_ALLOW_HTTP", False)
INTEGRATIONS_ALLOW_PRIVATE_ADDRESSES = env_bool("INTEGRATIONS_ALLOW_PRIVATE_ADDRESSES", False)
# The key that encrypts webhook secrets and chat URLs at rest (Fernet); empty: derived
# from SECRET_KEY. Changing it makes the stored ones unreadable.
INTEGRATIONS_SECRET_KEY = env_str("INTEGRATIONS_SECRET_KEY", "")
INTEGRATIONS_TIMEOUT_SECONDS = env_int("INTEGRATIONS_TIMEOUT_SECONDS", 10, minimum=1)
# A failed delivery is tried again after 30 s, 60 s, 120 s, … (doubling, at most
# WEBHOOK_RETRY_MAX_SECONDS apart: a Redis broker re-sends a message held longer than
# its one-hour visibility timeout), WEBHOOK_MAX_ATTEMPTS times in all (30: a little
# over a day); an endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS is switched off and
# its admins told.
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30, minimum=1)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600, minimum=1)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 30, minimum=1)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 24, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
