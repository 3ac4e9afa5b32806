"""The one settings module. Everything that differs between machines comes from the environment.

See README.md for the variables and docs/operations.md for production values.
"""

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from core import languages
from ncii_portal import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / ".data"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
# manage.py sets this for commands that need neither secrets nor a database (manage.OFFLINE_COMMANDS): they get
# a throwaway key and no database at all, so one that tried to use either would fail loudly.
OFFLINE_COMMAND = env_bool("NCII_OFFLINE_COMMAND")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if OFFLINE_COMMAND:
    SECRET_KEY = secrets.token_urlsafe(50)
elif not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a development machine).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
# Old keys keep sessions and signed links valid while a new key is rolled out.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

# The header the reverse proxy sets to the client's address (e.g. X-Real-IP); unset: REMOTE_ADDR, headers ignored.
# core.clientip reads it for audit rows and every rate limit.
TRUSTED_CLIENT_IP_HEADER = os.environ.get("TRUSTED_CLIENT_IP_HEADER", "").strip()


def derived_secret(key, purpose):
    return hmac.new(key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


# Partner API keys are stored as HMAC-SHA256 digests under a server secret (partners.models.ApiKey). The first is
# current; the others still verify keys made under them, so the secret can be rotated without breaking keys.
API_KEY_SECRETS = env_list("API_KEY_SECRET") + env_list("API_KEY_SECRET_FALLBACKS") or [
    derived_secret(key, "partner-api-keys") for key in [SECRET_KEY, *SECRET_KEY_FALLBACKS]]

# Per-partner case pseudonyms in the StopNCII API (partners.stopncii). Never rotate it: partners key their
# records on these names.
CASE_PSEUDONYM_SECRET = os.environ.get("CASE_PSEUDONYM_SECRET") or derived_secret(SECRET_KEY, "case-pseudonyms")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_NAME = os.environ.get("SITE_NAME", "Helpline portal")

INSTALLED_APPS = [
    "core",
    "staff",
    "audit",
    "hashing",
    "cases",
    "partners",
    "takedowns",
    "stats",
    "ncii_portal.admin.PortalAdminConfig",  # django.contrib.admin, read-only (ncii_portal/admin.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "csp",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.RefuseBrokenTextMiddleware",  # before anything reads the session or the body
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "staff.middleware.SessionLifetimeMiddleware",
    "staff.middleware.StaffAccessMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ncii_portal.urls"
WSGI_APPLICATION = "ncii_portal.wsgi.application"
ASGI_APPLICATION = "ncii_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "staff.context_processors.navigation",
                "cases.context_processors.caller",
            ],
        },
    },
]


# Database: DATABASE_URL, or an embedded PostgreSQL under .data/ so that development runs the same engine.
if OFFLINE_COMMAND:
    DATABASE_URL, DATABASES = "", {}
else:
    DATABASE_URL = os.environ.get("DATABASE_URL") or embedded_db.start()
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", 60)), conn_health_checks=True
        )
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: shared Redis in production so rate limits hold across processes.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith("redis"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif not DEBUG and not CACHE_URL and not OFFLINE_COMMAND:
    raise ImproperlyConfigured("Set CACHE_URL=redis://… in production: rate limits must hold across processes.")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: CELERY_BROKER_URL, or kombu's filesystem transport so a real worker and beat run with no server.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem") and not OFFLINE_COMMAND:
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # default: ./control, in whatever folder we run from
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = os.environ.get("TIME_ZONE", "Europe/London")
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_IMPORTS = ["ncii_portal.tasks"]  # the project's own jobs (autodiscovery looks only in the apps)
CELERY_BEAT_SCHEDULE = {
    "apply-retention": {"task": "ncii_portal.tasks.apply_retention", "schedule": 24 * 3600},
    "clear-expired-sessions": {"task": "ncii_portal.tasks.clear_expired_sessions", "schedule": 24 * 3600},
}
# Purging audit rows needs DELETE, which only the owner role has in production (docs/operations.md): there the
# operator schedules `manage.py purge_audit` as the owner, and beat would only fail. In development one role owns
# everything, so beat may do it.
if env_bool("AUDIT_PURGE_IN_BEAT", DEBUG):
    CELERY_BEAT_SCHEDULE["purge-expired-audit-events"] = {
        "task": "audit.tasks.purge_expired_events", "schedule": 24 * 3600,
    }

# Accounts: staff only, email login, no public signup, MFA mandatory (enforced by staff.middleware).
AUTH_USER_MODEL = "staff.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_ADAPTER = "staff.adapter.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
# allauth reads the client IP through StaffAccountAdapter.get_client_ip (core.clientip); this keeps its
# own helpers in agreement.
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = TRUSTED_CLIENT_IP_HEADER or None
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# A code typed as its 30 s step ends still counts (RFC 6238 5.2: one step of delay); each code works once.
MFA_TOTP_TOLERANCE = 1
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
USERSESSIONS_TRACK_ACTIVITY = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions: 30 minutes idle, 12 hours at most (staff.middleware.SessionLifetimeMiddleware).
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", 30 * 60))
SESSION_MAX_AGE = int(os.environ.get("SESSION_MAX_AGE", 12 * 3600))
SESSION_COOKIE_AGE = SESSION_MAX_AGE
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# The call (cases/): the caller's one-time link, quotas against abuse (design rule 9), PIN guessing.
CALLER_LINK_MINUTES = int(os.environ.get("CALLER_LINK_MINUTES", 60))
CALLER_MAX_ITEMS_PER_SUBMISSION = int(os.environ.get("CALLER_MAX_ITEMS_PER_SUBMISSION", 50))
CALLER_MAX_ITEMS_PER_CASE = int(os.environ.get("CALLER_MAX_ITEMS_PER_CASE", 200))
CALLER_SUBMISSIONS_PER_IP_PER_HOUR = int(os.environ.get("CALLER_SUBMISSIONS_PER_IP_PER_HOUR", 20))
CALLER_CASES_PER_IP_PER_DAY = int(os.environ.get("CALLER_CASES_PER_IP_PER_DAY", 5))
CALLER_STATUS_CHECKS_PER_IP_PER_HOUR = int(os.environ.get("CALLER_STATUS_CHECKS_PER_IP_PER_HOUR", 30))
CALLER_CODE_TRIES_PER_IP_PER_HOUR = int(os.environ.get("CALLER_CODE_TRIES_PER_IP_PER_HOUR", 30))
# An IPv6 client is its /64 (one home or phone holds one); wider prefixes get several times each quota, so a
# holder of a /56 or /48 cannot multiply it. "prefix:times", comma-separated (docs/caller.md).
try:
    QUOTA_IPV6_TIERS = sorted(((int(prefix), int(times)) for prefix, times in (
        tier.split(":") for tier in env_list("QUOTA_IPV6_TIERS", "64:1,56:4,48:16"))), reverse=True)
except ValueError:
    QUOTA_IPV6_TIERS = []
if not QUOTA_IPV6_TIERS or any(not 0 < prefix <= 128 or times < 1 for prefix, times in QUOTA_IPV6_TIERS):
    raise ImproperlyConfigured("QUOTA_IPV6_TIERS is prefix:times pairs, e.g. 64:1,56:4,48:16.")
# The flood quarantine (cases/flood.py, docs/caller.md): self-service hashes are held for review when more
# self-service submissions than the limit, or than FACTOR times the usual number (over BASELINE_DAYS, once above
# FLOOR), arrive in the sliding window. HOLD_ALL holds every self-service hash for a person to look at first.
SELF_SERVICE_FLOOD_WINDOW_MINUTES = int(os.environ.get("SELF_SERVICE_FLOOD_WINDOW_MINUTES", 60))
SELF_SERVICE_FLOOD_LIMIT = int(os.environ.get("SELF_SERVICE_FLOOD_LIMIT", 30))
SELF_SERVICE_FLOOD_FACTOR = float(os.environ.get("SELF_SERVICE_FLOOD_FACTOR", 5))
SELF_SERVICE_FLOOD_FLOOR = int(os.environ.get("SELF_SERVICE_FLOOD_FLOOR", 5))
SELF_SERVICE_FLOOD_BASELINE_DAYS = int(os.environ.get("SELF_SERVICE_FLOOD_BASELINE_DAYS", 28))
SELF_SERVICE_HOLD_ALL = env_bool("SELF_SERVICE_HOLD_ALL")
# Hashes only: 50 images are about 10 kB; a video's vPDQ is about 80 bytes a frame, 580 kB for the longest (two
# hours, signal_types.VPDQ_MAX_FRAMES): room for several long videos in one go.
CALLER_SUBMIT_MAX_BYTES = 4 * 1024 * 1024
PIN_LOCK_AFTER = 5  # wrong PINs for one reference, then it is locked for PIN_LOCK_MINUTES
PIN_LOCK_MINUTES = 60
# The partner API: requests a minute per key (shared cache), then 429 with Retry-After.
PARTNER_API_REQUESTS_PER_MINUTE = int(os.environ.get("PARTNER_API_REQUESTS_PER_MINUTE", 600))
# Wrong or unknown keys a client address (an IPv6 /64) may send in an hour before every request from it gets 429.
PARTNER_API_AUTH_FAILURES_PER_IP_PER_HOUR = int(os.environ.get("PARTNER_API_AUTH_FAILURES_PER_IP_PER_HOUR", 60))

# Push delivery to partners' webhooks (partners/push.py, docs/api.md "Push").
PUSH_BATCH_SIZE = int(os.environ.get("PUSH_BATCH_SIZE", 1000))  # records per webhook call
PUSH_BATCH_WAIT = float(os.environ.get("PUSH_BATCH_WAIT", 2))  # seconds to gather changes after a commit
PUSH_TIMEOUT = float(os.environ.get("PUSH_TIMEOUT", 10))  # seconds to connect, and to answer
PUSH_LEASE_SECONDS = float(os.environ.get("PUSH_LEASE_SECONDS", 120))  # a worker that dies frees its partner then
if PUSH_LEASE_SECONDS <= 2 * PUSH_TIMEOUT + 1:
    raise ImproperlyConfigured("PUSH_LEASE_SECONDS must outlast one webhook call: more than 2 × PUSH_TIMEOUT + 1.")
PUSH_REDRIVE_SECONDS = float(os.environ.get("PUSH_REDRIVE_SECONDS", 30))  # beat: deliveries a lost message missed
# Seconds before each retry of a failed batch (each with ±20 % jitter); after the last the batch is parked.
PUSH_RETRY_SCHEDULE = [float(s) for s in env_list(
    "PUSH_RETRY_SCHEDULE", "30,60,120,300,600,1800,3600,7200,14400,28800,43200,86400")]
CELERY_BEAT_SCHEDULE["push-due"] = {"task": "partners.tasks.push_due", "schedule": PUSH_REDRIVE_SECONDS}
# Statistics (docs/statistics.md): what happened since the last minute, and every night the last two days again.
CELERY_BEAT_SCHEDULE["update-statistics"] = {"task": "stats.tasks.update_statistics", "schedule": 60}
CELERY_BEAT_SCHEDULE["catch-up-statistics"] = {"task": "stats.tasks.catch_up_statistics", "schedule": 24 * 3600}
# Takedown requests to sites (takedowns/, docs/caller.md "Web addresses and takedowns"): when a request falls due,
# seconds before each retry of a mail that could not be sent (then it shows as failed), and the optional "is it
# still up?" check of open addresses (HTTP status only, through the webhooks' address guard), how often.
TAKEDOWN_FOLLOW_UP_HOURS = float(os.environ.get("TAKEDOWN_FOLLOW_UP_HOURS", 48))
TAKEDOWN_MAIL_RETRY_SCHEDULE = [float(s) for s in env_list("TAKEDOWN_MAIL_RETRY_SCHEDULE", "60,300,1800,7200,21600")]
TAKEDOWN_CHECK_ADDRESSES = env_bool("TAKEDOWN_CHECK_ADDRESSES")
TAKEDOWN_CHECK_HOURS = float(os.environ.get("TAKEDOWN_CHECK_HOURS", 24))
TAKEDOWN_CHECK_TIMEOUT = float(os.environ.get("TAKEDOWN_CHECK_TIMEOUT", 10))
CELERY_BEAT_SCHEDULE["send-takedown-requests"] = {"task": "takedowns.tasks.send_due", "schedule": 60}
CELERY_BEAT_SCHEDULE["takedowns-overdue"] = {"task": "takedowns.tasks.mark_overdue", "schedule": 300}
if TAKEDOWN_CHECK_ADDRESSES:
    CELERY_BEAT_SCHEDULE["check-web-addresses"] = {"task": "takedowns.tasks.check_addresses", "schedule": 3600}
# Webhook signing secrets are kept encrypted under this key (and its fallbacks, for rotation).
WEBHOOK_ENCRYPTION_KEYS = env_list("WEBHOOK_ENCRYPTION_KEY") + env_list("WEBHOOK_ENCRYPTION_KEY_FALLBACKS") or [
    derived_secret(key, "webhook-secrets") for key in [SECRET_KEY, *SECRET_KEY_FALLBACKS]]
# Loopback webhook URLs (and plain http to them) for tests and development; a deployment refuses it.
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", DEBUG)
# Where the caller pages' quick-exit button leaves to: a neutral, everyday site.
QUICK_EXIT_URL = os.environ.get("QUICK_EXIT_URL", "https://www.bbc.co.uk/weather")

# Retention per data class (docs/privacy.md), carried out daily by ncii_portal.tasks.apply_retention.
RETENTION_NOTES_DAYS = int(os.environ.get("RETENTION_NOTES_DAYS", 365))  # free text, after the case ends
RETENTION_CONTACT_ANSWERS_DAYS = int(os.environ.get("RETENTION_CONTACT_ANSWERS_DAYS", 730))
# A withdrawn case's items, and bank hashes no case holds: long enough for every partner to hear of it.
RETENTION_WITHDRAWN_DAYS = int(os.environ.get("RETENTION_WITHDRAWN_DAYS", 90))
AUDIT_IP_RETENTION_DAYS = int(os.environ.get("AUDIT_IP_RETENTION_DAYS", 90))
RETENTION_DELIVERY_DAYS = int(os.environ.get("RETENTION_DELIVERY_DAYS", 30))  # pushed batches' bodies and log
# Web addresses of a case's images, after the case ends (a withdrawn case's go with its items, sooner).
RETENTION_WEB_ADDRESSES_DAYS = int(os.environ.get("RETENTION_WEB_ADDRESSES_DAYS", 180))

AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", 6 * 365 + 2))

LANGUAGE_CODE = "en-gb"
# Caller pages are translated (locale/; core/languages.py names each language in itself and records who reviewed
# it); staff pages are English. CALLER_LANGUAGES lists those this helpline offers (comma-separated codes; empty:
# all shipped), e.g. to leave out one not yet reviewed by a native speaker before going live.
LANGUAGES = languages.native_names()
CALLER_LANGUAGES = languages.offered(os.environ.get("CALLER_LANGUAGES", ""), LANGUAGE_CODE)
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True
# The helpline's own formats: 24-hour times and one date-time shape ("7 Mar 2026 15:04"), not Django's "3:04 p.m."
FORMAT_MODULE_PATH = ["ncii_portal.formats"]

# No upload handlers: a file sent to any endpoint is read past and dropped, never kept, not even in a temporary
# file (design rule 1: the portal never receives caller media).
FILE_UPLOAD_HANDLERS = []

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # The video demuxer the browser hasher's worker imports (hashing/static/hashing/video.js), served from the
    # pinned npm package (package-lock.json; `make` runs npm ci), never copied into the repository.
    ("vendor/mediabunny", BASE_DIR / "node_modules" / "mediabunny" / "dist" / "bundles"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # No manifest: the browser hasher's module worker imports its siblings by relative URL.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# Email: console in development; SMTP settings from the environment in production.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", "")  # for the file-based backend (tests' worker)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "portal@localhost")
# Seconds to connect to the mail server and for each answer: a worker sending a takedown request holds its row
# meanwhile (takedowns.actions.deliver), and Django's default is to wait for ever.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", 30))

# Security headers. Production values are the defaults; DEBUG relaxes only what plain http needs.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
if WEBHOOK_ALLOW_LOOPBACK and SECURE_SSL_REDIRECT:  # HTTPS-only means deployed: never let push reach this machine
    raise ImproperlyConfigured("WEBHOOK_ALLOW_LOOPBACK is for tests and development, never a deployment.")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Not "no-referrer": with it Chromium sends "Origin: null" on form posts, which CSRF refuses. With same-origin
# no referrer leaves the site (caller pages set it too, in cases.caller.caller_page; docs/caller.md).
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "worker-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "ncii_portal.logging.RedactSecrets"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"], "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"handlers": ["console"], "propagate": False, "filters": ["redact"]},
        # Never below WARNING: at DEBUG urllib3 logs each request's path (a caller's web address, when the
        # takedown check asks a site) and Django each SQL statement with its values (design rule 11).
        "urllib3": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
    },
}
