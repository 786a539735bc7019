"""Django settings for Sportello, read from environment variables.

Development defaults are safe and need nothing: everything the embedded set-up
writes (SQLite database, Huey queue, attachments, raw mail) lives under
``SPORTELLO_DATA_DIR`` (default ``./var``). Production moves parts elsewhere with
``DATABASE_URL``, ``REDIS_URL`` and ``SPORTELLO_MEDIA_ROOT``; see docs/production.md.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from sportello.core.siteurl import site_url_for_bind

PACKAGE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("SPORTELLO_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in DATA_DIR.

    A generated key keeps sessions valid across restarts of a development set-up
    without anyone having to invent a key.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("SPORTELLO_DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Behind a TLS-terminating proxy in production: cookies marked secure, HSTS, redirects.
HTTPS = env_bool("SPORTELLO_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("SPORTELLO_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SPORTELLO_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SECURE_REDIRECT_EXEMPT = [r"^health$"]
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "csp",
    "sportello.core",
    "sportello.customers",
    "sportello.staff",
    "sportello.tickets",
    "sportello.billing",
    "sportello.mail",
    "sportello.search",
    "sportello.sla",
    "sportello.territory",
    "sportello.desk",
    "django_htmx",
    # Before allauth, so that its account/ and mfa/ templates override allauth's.
    "sportello.portal",
    "allauth",
    "allauth.account",
    "allauth.mfa",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # /desk/ in the agent's chosen language (staff.Agent.language): docs/desk.md.
    "sportello.desk.middleware.AgentLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Security headers and session rules: README.md, "Security".
    "csp.middleware.CSPMiddleware",
    "sportello.core.middleware.PrivatePagesMiddleware",
    "sportello.staff.middleware.StaffIdleTimeoutMiddleware",
    "sportello.core.auth.LoginThrottleMiddleware",
]

# Content-Security-Policy on every page (django-csp): our own scripts, styles, images
# and forms only. No inline script or style may run, so a script that slipped into a
# page (a mail's HTML, a name) stays text. img data: is for the TOTP QR code only.
# Pages that set their own policy keep it (downloads: "default-src 'none'; sandbox").
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Staff sessions end after this many seconds without a request; customers keep
# SESSION_COOKIE_AGE (two weeks). README.md, "Security".
SPORTELLO_STAFF_IDLE_TIMEOUT = int(os.environ.get("SPORTELLO_STAFF_IDLE_TIMEOUT", 30 * 60))
# Failed logins (every login form: admin, desk, portal) before a client address, then an
# account, is refused for the rest of the period: COUNT/PERIOD, units s m h d.
SPORTELLO_LOGIN_FAILURES_PER_ADDRESS = os.environ.get(
    "SPORTELLO_LOGIN_FAILURES_PER_ADDRESS", "10/5m"
)
SPORTELLO_LOGIN_FAILURES_PER_ACCOUNT = os.environ.get(
    "SPORTELLO_LOGIN_FAILURES_PER_ACCOUNT", "100/h"
)

ROOT_URLCONF = "sportello.urls"
WSGI_APPLICATION = "sportello.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite by default: WAL so readers never wait for the writer, IMMEDIATE transactions so
# two writers queue on the lock instead of failing with "database is locked" mid-way.
SQLITE_PATH = DATA_DIR / "sportello.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{SQLITE_PATH}",
        # Connections are reused for a minute (checked before reuse): opening one per
        # request or per received message costs more than the work on PostgreSQL.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", 60)),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(DATA_DIR / "test.sqlite3")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "it"
LANGUAGES = [("it", _("Italian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("SPORTELLO_TIME_ZONE", "Europe/Rome")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("SPORTELLO_STATIC_ROOT", DATA_DIR / "static"))
MEDIA_URL = "media/"
# Attachments and raw mail go through Django's storage API; production may point
# SPORTELLO_MEDIA_ROOT at a shared volume or swap the backend with SPORTELLO_STORAGE.
MEDIA_ROOT = Path(os.environ.get("SPORTELLO_MEDIA_ROOT", DATA_DIR / "media"))
STORAGES = {
    "default": {
        # Django's file system storage with every file written durably (temporary file,
        # fsync, rename, fsync of the folder: sportello/core/files.py, issue 17).
        "BACKEND": os.environ.get(
            "SPORTELLO_STORAGE", "sportello.core.files.DurableFileSystemStorage"
        ),
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on a missing root

# Background work: Huey, on SQLite next to the database unless REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL", "")
HUEY_IMMEDIATE = env_bool("SPORTELLO_HUEY_IMMEDIATE", False)

# Search: the index follows every write (docs/search.md). Off only for a huge import
# followed by `sportello search rebuild`, and to measure what the upkeep costs.
SPORTELLO_SEARCH_LIVE = env_bool("SPORTELLO_SEARCH_LIVE", True)
# Worker processes use every core (threads share one, the GIL); "thread" saves memory.
HUEY_CONSUMER = {
    "workers": int(os.environ.get("SPORTELLO_WORKERS", "2")),
    "worker_type": os.environ.get("SPORTELLO_WORKER_TYPE", "process"),
}
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": os.environ.get("SPORTELLO_QUEUE_NAME", "sportello"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        # Nothing reads task results: storing them would grow the queue store forever.
        "results": False,
        "consumer": HUEY_CONSUMER,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": os.environ.get("SPORTELLO_QUEUE_NAME", "sportello"),
        "filename": str(Path(os.environ.get("SPORTELLO_QUEUE_FILE", DATA_DIR / "huey.sqlite3"))),
        "immediate": HUEY_IMMEDIATE,
        # Nothing reads task results: storing them would grow the queue store forever.
        "results": False,
        "consumer": HUEY_CONSUMER,
    }

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
# Seconds before a silent SMTP server counts as a failed delivery (retried by the task);
# Django's default is to wait forever, which would hang a worker.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
# Where the file backend (`make run`) writes outgoing mail, one file per message.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(DATA_DIR / "sent-mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "assistenza@init-s.it")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# One JSON object per line on standard error, so journald or a log shipper can read it.
LOG_LEVEL = os.environ.get("SPORTELLO_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "sportello.core.logging.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "huey": {"level": "WARNING" if LOG_LEVEL != "DEBUG" else "DEBUG"},
        "tnefparse": {"level": "WARNING"},
        # WeasyPrint logs every layout step of every statement PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Sportello's own knobs.
SPORTELLO_TICKET_TAG = os.environ.get("SPORTELLO_TICKET_TAG", "Ticket#")
SPORTELLO_BIND = os.environ.get("SPORTELLO_BIND", "127.0.0.1:8000")


# The site's public address, in every link of every e-mail. Unset, it follows
# SPORTELLO_BIND (and `sportello serve --bind`), so a trial on another port links to it;
# `sportello check --deploy` insists on it in production.
SPORTELLO_SITE_URL_IS_SET = bool(os.environ.get("SPORTELLO_SITE_URL", "").strip())
SPORTELLO_SITE_URL = (
    os.environ.get("SPORTELLO_SITE_URL", "").strip() or site_url_for_bind(SPORTELLO_BIND)
).rstrip("/")


# Accounts and portal (django-allauth)
# Customers sign in with their e-mail address, which they must verify first; agents keep
# Django's own login for the admin. README.md, "Customer portal", tells the whole flow.
AUTHENTICATION_BACKENDS = [
    # ModelBackend that first refuses addresses and accounts with too many failed logins
    # (core/auth.py); first, so that it stops every login form, allauth's included.
    "sportello.core.auth.LoginThrottleBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    # The admin role holds every permission (staff.roles is the one source of truth).
    "sportello.staff.backends.RoleBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "sportello.portal.forms.SignupExtraForm"
# A known address costs the same password hash as a new one: no timing to tell them apart.
ACCOUNT_FORMS = {"signup": "sportello.portal.signup.PortalSignupForm"}
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "/assistenza/"
# E-mails in the company's name, every link on SPORTELLO_SITE_URL (portal/adapter.py).
ACCOUNT_ADAPTER = "sportello.portal.adapter.AccountAdapter"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"
ACCOUNT_PREVENT_ENUMERATION = True
# Behind N reverse proxies, rate limits take the client address N places from the right
# of X-Forwarded-For; 0 (no proxy) takes the socket address.
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("SPORTELLO_TRUSTED_PROXY_COUNT", "0"))
# "N/period/key": per client address (ip), per e-mail typed (key) or per account (user).
ACCOUNT_RATE_LIMITS = {
    "login": os.environ.get("SPORTELLO_RATE_LOGIN", "30/m/ip"),
    # Per address first; per account (key) only at a much higher count, so that a
    # stranger's wrong passwords cannot lock the owner out.
    "login_failed": os.environ.get("SPORTELLO_RATE_LOGIN_FAILED", "10/5m/ip,100/h/key"),
    "signup": os.environ.get("SPORTELLO_RATE_SIGNUP", "10/h/ip"),
    "reset_password": "20/m/ip,5/m/key",
    # Sportello's own actions, counted by the same machinery (portal/services.py).
    "portal_contact_form": os.environ.get("SPORTELLO_RATE_CONTACT_FORM", "5/h/ip"),
    "portal_ticket_open": os.environ.get("SPORTELLO_RATE_TICKET_OPEN", "30/h/user"),
    "portal_reply": os.environ.get("SPORTELLO_RATE_REPLY", "60/h/user"),
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:tickets"
# Where staff pages outside the desk app (the month close, search) send a visitor who is
# not signed in: the desk's own login, which every staff role can use.
SPORTELLO_STAFF_LOGIN_URL = "desk:login"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_TOLERANCE = 1  # one 30 s step either side: phones with a drifting clock
MFA_TOTP_ISSUER = os.environ.get("SPORTELLO_MFA_ISSUER", "Sportello")
# Rate limits and allauth's state live in the cache: shared by the web workers through
# Redis when there is one, else through files in the data directory (one machine).
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
# What customers may attach in the portal: at most this many bytes per file, and only
# these extensions (the stored type follows the extension, never the browser's claim).
SPORTELLO_UPLOAD_MAX_BYTES = int(os.environ.get("SPORTELLO_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))
# Longest message typed in a web form (portal ticket or reply, the agents' answer);
# longer text goes in an attachment. Mail is never cut.
SPORTELLO_REPLY_MAX_CHARS = int(os.environ.get("SPORTELLO_REPLY_MAX_CHARS", "20000"))
SPORTELLO_UPLOAD_MAX_FILES = int(os.environ.get("SPORTELLO_UPLOAD_MAX_FILES", "5"))
SPORTELLO_UPLOAD_TYPES = env_list(
    "SPORTELLO_UPLOAD_TYPES",
    ".pdf,.png,.jpg,.jpeg,.gif,.webp,.txt,.log,.csv,.zip,.eml,.msg,.doc,.docx,.xls,.xlsx,.odt,.ods",
)
# src/sportello/static (the site's CSS, vendored htmx) belongs to no app, so the app
# finder never saw it: name it, or WhiteNoise answers 404 for the stylesheet.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Files browsers ask for at the site's root (/favicon.ico), served by WhiteNoise as static.
WHITENOISE_ROOT = PACKAGE_DIR / "static" / "root"
# The privacy notice customers accept when they register; bump it when the text changes.
SPORTELLO_PRIVACY_VERSION = os.environ.get("SPORTELLO_PRIVACY_VERSION", "2025-01")
# Staff roles (agent, supervisor, billing, admin) e-mailed when a sign-up waits for approval;
# empty tells nobody.
SPORTELLO_SIGNUP_NOTIFY_ROLES = env_list("SPORTELLO_SIGNUP_NOTIFY_ROLES", "supervisor,admin")

# Mail receiver (sportello smtpd)
# host:port to listen on; empty means `sportello serve` does not start that receiver.
SPORTELLO_SMTP_BIND = os.environ.get("SPORTELLO_SMTP_BIND", "")  # e.g. 127.0.0.1:2525
SPORTELLO_LMTP_BIND = os.environ.get("SPORTELLO_LMTP_BIND", "")  # e.g. 127.0.0.1:2424
# Domains we accept mail for (never relayed); empty: the company domains and the domains
# of the support addresses, read from the support settings at runtime.
SPORTELLO_MAIL_DOMAINS = env_list("SPORTELLO_MAIL_DOMAINS")
SPORTELLO_SMTP_MAX_BYTES = int(os.environ.get("SPORTELLO_SMTP_MAX_BYTES", 35 * 1024 * 1024))
# STARTTLS for a direct MX: PEM certificate (with chain) and key; empty means plain SMTP.
SPORTELLO_SMTP_TLS_CERT = os.environ.get("SPORTELLO_SMTP_TLS_CERT", "")
SPORTELLO_SMTP_TLS_KEY = os.environ.get("SPORTELLO_SMTP_TLS_KEY", "")
