"""SocialDesk settings, read from the environment (see the table in README.md).

The embedded default (no DATABASE_URL, no REDIS_URL) runs on SQLite and Celery's filesystem
transport inside ``var/``; production points both at PostgreSQL and Redis.
"""

import ipaddress
import re
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from socialdesk.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SOCIALDESK_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (or give SECRET_KEY_FILE).")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105
# Earlier keys, while rotating: sessions signed with them stay valid, and erased citizens' ids
# hashed with them are still recognised (inbox.privacy).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "socialdesk.apps.SocialDeskAdminConfig",  # django.contrib.admin on a site only administrators reach
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "socialdesk",
    "networks",
    "curation",
    "scheduling",
    "inbox",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "socialdesk.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lock-out into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "socialdesk.urls"
WSGI_APPLICATION = "socialdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "socialdesk.context_processors.desk",
                "scheduling.context_processors.publishing_pause",
            ],
        },
    },
]

# --- Data -----------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'socialdesk.sqlite3'}")
# django-environ accepts any scheme, and only warns (printing the password) on garbage: check the
# scheme first, and don't repeat the value in the message.
if environ.Env.DB_SCHEMES.get(DATABASE_URL.partition("://")[0]) not in {
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
}:
    raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:/// URL.")
try:
    DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
except (ImproperlyConfigured, KeyError, ValueError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers and one writer work together, and
    # IMMEDIATE transactions make a writer wait for the lock instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # A file cache, not local memory: locks and rate-limit state must be shared by web and worker.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- People -----------------------------------------------------------------------------------

AUTH_USER_MODEL = "socialdesk.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed logins: five wrong passwords for one username from one address lock that pair out.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- Language, time -----------------------------------------------------------------------------

LANGUAGE_CODE = "es"
# English dates written day first with a 24-hour clock, as in Spanish and Valencian (socialdesk/formats).
FORMAT_MODULE_PATH = ["socialdesk.formats"]
LANGUAGES = [
    ("es", "Español"),
    ("ca", "Valencià"),
    ("en", "English"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Madrid"
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

# --- HTTPS and browser security -----------------------------------------------------------------

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Health probes talk plain HTTP to the process itself (docker-compose healthcheck, load balancer).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets this header itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# The language someone chose is remembered for a year, not only until the browser closes.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# --- Celery -------------------------------------------------------------------------------------

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A task not acknowledged within this time is delivered again: longer than any task runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # kombu's filesystem transport, with messages that appear only once written (socialdesk/broker.py).
    CELERY_BROKER_URL = "socialdesk-filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "broker" / "queue"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_IGNORE_RESULT = True
# A worker killed mid-task must not lose the task: acknowledge after running, requeue on loss.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "socialdesk.heartbeat:HeartbeatScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- SocialDesk -----------------------------------------------------------------------------------

SOCIALDESK_ORGANISATION_NAME = env_str("SOCIALDESK_ORGANISATION_NAME", "Servicio Público de Empleo")
SOCIALDESK_CONTACT_URL = env_str("SOCIALDESK_CONTACT_URL", "https://example.org/contacto")
# Fernet keys, newest first; older keys still decrypt until `manage.py reencrypt_credentials` runs.
SOCIALDESK_ENCRYPTION_KEYS = env_list("SOCIALDESK_ENCRYPTION_KEYS", [])
if not SOCIALDESK_ENCRYPTION_KEYS and not DEBUG:
    raise ImproperlyConfigured(
        "SOCIALDESK_ENCRYPTION_KEYS is required when DEBUG is off "
        '(make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
    )
SOCIALDESK_BUSINESS_TIME_ZONE = env_str("SOCIALDESK_BUSINESS_TIME_ZONE", "Europe/Madrid")
SOCIALDESK_HOLIDAYS_COUNTRY = env_str("SOCIALDESK_HOLIDAYS_COUNTRY", "ES")
SOCIALDESK_HOLIDAYS_SUBDIVISION = env_str("SOCIALDESK_HOLIDAYS_SUBDIVISION", "VC")
# How often worker and beat prove they are alive, and how old a heartbeat may be before /healthz fails.
SOCIALDESK_HEARTBEAT_SECONDS = env_int("SOCIALDESK_HEARTBEAT_SECONDS", 15, minimum=1)
SOCIALDESK_HEARTBEAT_STALE_SECONDS = env_int("SOCIALDESK_HEARTBEAT_STALE_SECONDS", 90, minimum=2)
# A delivery found due more than this late (the workers were stopped) waits for the manager
# instead of going out at an odd hour; anything less late is published at once.
SOCIALDESK_MAX_LATENESS_MINUTES = env_int("SOCIALDESK_MAX_LATENESS_MINUTES", 30, minimum=1)
# The sandbox network invents a citizen's message about this often on each sandbox channel.
SOCIALDESK_SANDBOX_MESSAGE_SECONDS = env_int("SOCIALDESK_SANDBOX_MESSAGE_SECONDS", 45, minimum=1)
# Storage limitation (GDPR): citizens' messages, names and the notes about them are anonymised this
# many days after their conversation was closed (inbox.privacy, daily by beat). 0 keeps them until
# erased by hand.
SOCIALDESK_CITIZEN_DATA_RETENTION_DAYS = env_int("SOCIALDESK_CITIZEN_DATA_RETENTION_DAYS", 730, minimum=0)
# Outbound fetches (feeds, pages, discovery) go through lib.safe_fetch: one deadline per fetch and a
# cap on the decoded body. Private and loopback networks are never fetched unless listed here — for
# tests and benchmarks only (e.g. "127.0.0.0/8,::1"), never in production.
SOCIALDESK_FETCH_TIMEOUT_SECONDS = env_int("SOCIALDESK_FETCH_TIMEOUT_SECONDS", 15, minimum=1)
SOCIALDESK_FETCH_MAX_BYTES = env_int("SOCIALDESK_FETCH_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
SOCIALDESK_FETCH_ALLOW_PRIVATE = env_list("SOCIALDESK_FETCH_ALLOW_PRIVATE", [])
for _network in SOCIALDESK_FETCH_ALLOW_PRIVATE:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"SOCIALDESK_FETCH_ALLOW_PRIVATE has {_network!r}: {exc}") from exc
# Graph API version for Facebook and Instagram, pinned here because facebook-sdk only knows
# v2.8–v3.1 (each Graph version lives about two years: move it forward before Meta retires it).
SOCIALDESK_GRAPH_API_VERSION = env_str("SOCIALDESK_GRAPH_API_VERSION", "v24.0")
if not re.fullmatch(r"v\d+\.\d+", SOCIALDESK_GRAPH_API_VERSION):
    raise ImproperlyConfigured(f"SOCIALDESK_GRAPH_API_VERSION={SOCIALDESK_GRAPH_API_VERSION!r} is not like v24.0.")
# LinkedIn REST API version (YYYYMM) sent as the LinkedIn-Version header; each lives about a year and
# a retired one makes every LinkedIn call fail with 426 until this is moved forward.
SOCIALDESK_LINKEDIN_VERSION = env_str("SOCIALDESK_LINKEDIN_VERSION", "202511")
if not re.fullmatch(r"20\d{2}(0[1-9]|1[0-2])", SOCIALDESK_LINKEDIN_VERSION):
    raise ImproperlyConfigured(f"SOCIALDESK_LINKEDIN_VERSION={SOCIALDESK_LINKEDIN_VERSION!r} is not like 202511 (YYYYMM).")
# Where people reach this site, e.g. https://desk.example.org: the OAuth redirect addresses
# registered with each network are built from it (empty: browser connect flows are off).
SOCIALDESK_PUBLIC_URL = env_str("SOCIALDESK_PUBLIC_URL").rstrip("/")
# Scheme and host only: the paths come from the URL configuration (reverse() adds any script prefix).
if SOCIALDESK_PUBLIC_URL and not re.fullmatch(r"https?://[^/\s?#@]+", SOCIALDESK_PUBLIC_URL):
    raise ImproperlyConfigured(f"SOCIALDESK_PUBLIC_URL={SOCIALDESK_PUBLIC_URL!r} is not like https://desk.example.org.")
# The apps SocialDesk is registered as on each network (browser connect flows and token refresh).
# A network whose pair is empty shows "not configured" instead of a connect button.
SOCIALDESK_X_CLIENT_ID = env_str("SOCIALDESK_X_CLIENT_ID")
SOCIALDESK_X_CLIENT_SECRET = env_str("SOCIALDESK_X_CLIENT_SECRET")
SOCIALDESK_META_APP_ID = env_str("SOCIALDESK_META_APP_ID")
# Meta's app secret also signs webhook deliveries (X-Hub-Signature-256); the verify token is the
# word Meta repeats when the webhook is subscribed. Both are needed for /webhooks/meta/.
META_APP_SECRET = env_str("META_APP_SECRET")
META_VERIFY_TOKEN = env_str("META_VERIFY_TOKEN")
SOCIALDESK_LINKEDIN_CLIENT_ID = env_str("SOCIALDESK_LINKEDIN_CLIENT_ID")
SOCIALDESK_LINKEDIN_CLIENT_SECRET = env_str("SOCIALDESK_LINKEDIN_CLIENT_SECRET")
SOCIALDESK_GOOGLE_CLIENT_ID = env_str("SOCIALDESK_GOOGLE_CLIENT_ID")
SOCIALDESK_GOOGLE_CLIENT_SECRET = env_str("SOCIALDESK_GOOGLE_CLIENT_SECRET")

# --- E-mail -------------------------------------------------------------------------------------

# How mail leaves: smtp+tls://user:password@mail.example.org:587 in production. Without it every
# message is written as a file in var/mail and nothing leaves the machine (the embedded default).
EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    try:
        _email = environ.Env.email_url_config(EMAIL_URL)
    except (ImproperlyConfigured, ValueError) as exc:
        # Not repeated in the message: the URL carries the password.
        raise ImproperlyConfigured(
            "EMAIL_URL cannot be read (e.g. smtp+tls://user:password@host:587)."
        ) from exc
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
    EMAIL_PORT = _email["EMAIL_PORT"] or 25
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
    EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
    if _email["EMAIL_FILE_PATH"]:
        EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "desk@example.org")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The desk's mailbox for colleagues' answers. Each question goes out with Reply-To desk+<token>@…,
# so the mail server must deliver plus-addresses to this mailbox (most do by default).
SOCIALDESK_REPLY_EMAIL = env_str("SOCIALDESK_REPLY_EMAIL", "desk@example.org")
if not re.fullmatch(r"[^@\s+]+@[^@\s]+\.[^@\s]+", SOCIALDESK_REPLY_EMAIL):
    raise ImproperlyConfigured(
        f"SOCIALDESK_REPLY_EMAIL={SOCIALDESK_REPLY_EMAIL!r} is not like desk@example.org (and has no '+')."
    )
# Optional: that mailbox read over IMAP (imaps://user:password@imap.example.org/INBOX) by beat, for
# servers that cannot pipe mail into `manage.py ingest_colleague_reply`. Empty: not polled.
SOCIALDESK_IMAP_URL = env_str("SOCIALDESK_IMAP_URL")
# TLS only: the password must not cross the network in clear.
if SOCIALDESK_IMAP_URL and not re.fullmatch(r"imaps://[^@/\s]+@[^/\s]+(/\S*)?", SOCIALDESK_IMAP_URL):
    raise ImproperlyConfigured(
        "SOCIALDESK_IMAP_URL is not like imaps://user:password@imap.example.org/INBOX."
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
