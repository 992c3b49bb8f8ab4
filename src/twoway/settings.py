"""Django settings, every one of them read from the environment (listed in docs/settings.md)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("TWOWAY_DATA_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data dir."""
    if key := env("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o.strip()]
# The public base URL carriers call (https://texts.example.com). Carrier signatures are computed
# over the URL the carrier used, which a proxy in front of Twoway may hide from us.
TWOWAY_PUBLIC_URL = env("TWOWAY_PUBLIC_URL").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "twoway.core",
    "twoway.jobs",
    "twoway.accounts",
    "twoway.carrier_accounts",
    "twoway.numbers",
    "twoway.contacts",
    "twoway.conversations",
    "twoway.canned",
    "twoway.media",
    "twoway.compliance",
    "twoway.billing",
    "twoway.answering",
    "twoway.carrier_events",
    "twoway.drips",
    "twoway.simulator",
    "twoway.realtime",
    "twoway.notifications",
    "twoway.webhooks.apps.WebhooksConfig",
    "twoway.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "twoway.urls"
ASGI_APPLICATION = "twoway.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "twoway.web.context.sms_balance",
                "twoway.web.context.notifications",
            ],
        },
    },
]

# Empty (`DATABASE_URL=` in an env file) means the default too.
DATABASE_URL = env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'twoway.sqlite3'}"
# PostgreSQL connections one web server process keeps in its pool (0: no pool).
DB_POOL_SIZE = int(env("TWOWAY_DB_POOL_SIZE", "10"))
# A kept connection serves the worker loop, which reuses it; asgi.py sets 0 for the web server.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(env("TWOWAY_CONN_MAX_AGE", "60"))
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
    # workers never deadlock upgrading a read lock; the timeout waits out a busy writer.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
else:
    # Django's backend, except that pooled connections a restart broke are replaced at once.
    DATABASES["default"]["ENGINE"] = "twoway.core.postgresql"
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The web server keeps no connection (asgi.py: each request runs in a thread of its own, so
    # a kept one would never be reused). A pool hands connections from request to request
    # instead: without it every webhook opened one, and PostgreSQL forked a backend for it.
    if DATABASES["default"]["CONN_MAX_AGE"] == 0 and DB_POOL_SIZE > 0:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, DB_POOL_SIZE),
            "max_size": DB_POOL_SIZE,
            "timeout": 10,  # seconds a request waits for a free connection before it fails
        }
        # The backend checks each connection the pool hands out; the pool's own check would
        # sleep a second and more after each broken one (twoway/core/postgresql/base.py).
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "login"

# --- Guessing: failed logins, invitation links, API keys (accounts/throttling.py) ----------------
# django-axes checks a login before the password is: a pair of e-mail and address is refused
# after LOGIN_FAILURE_LIMIT failures, an address after LOGIN_ADDRESS_FAILURE_LIMIT failures on any
# accounts, for LOGIN_COOLOFF_MINUTES after the last failure. No limit is by account alone: that
# would let anyone lock a person out. The address is REMOTE_ADDR, which uvicorn takes from a
# proxy's X-Forwarded-For only when the proxy is one of FORWARDED_ALLOW_IPS (127.0.0.1 by default).
AUTHENTICATION_BACKENDS = [
    "twoway.accounts.throttling.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "10"))
LOGIN_ADDRESS_FAILURE_LIMIT = int(env("LOGIN_ADDRESS_FAILURE_LIMIT", "50"))
LOGIN_COOLOFF_MINUTES = int(env("LOGIN_COOLOFF_MINUTES", "15"))
AXES_HANDLER = "twoway.accounts.throttling.LoginAttempts"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_CLIENT_IP_CALLABLE = "twoway.accounts.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "twoway.accounts.throttling.lockout_response"
# Successful logins are not recorded (a table that only grows, and a write on every login).
AXES_DISABLE_ACCESS_LOG = True
# Axes would log its configuration at every start of every `twoway` command.
AXES_VERBOSE = False
# Wrong invitation links and API keys per address, for THROTTLE_WINDOW_MINUTES after the first.
INVITATION_FAILURE_LIMIT = int(env("INVITATION_FAILURE_LIMIT", "20"))
API_KEY_FAILURE_LIMIT = int(env("API_KEY_FAILURE_LIMIT", "30"))
THROTTLE_WINDOW_MINUTES = int(env("THROTTLE_WINDOW_MINUTES", "15"))
# Those counters live in the cache: by default files under the data dir, so that every process
# of `twoway web --processes N` on this machine counts together (a per-process memory cache would
# let N times as many guesses through). Several web machines share one through CACHE_BACKEND and
# CACHE_LOCATION (Django's database cache and its table, for one).
CACHES = {
    "default": {
        "BACKEND": env("CACHE_BACKEND", "django.core.cache.backends.filebased.FileBasedCache"),
        "LOCATION": env("CACHE_LOCATION", str(DATA_DIR / "cache")),
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
}

# --- HTTPS and the browser's protections ---------------------------------------------------------
# With an https TWOWAY_PUBLIC_URL (Twoway behind an HTTPS proxy) cookies travel over HTTPS only,
# browsers are told to use nothing else (HSTS) and plain-HTTP requests are redirected; each can
# be set on its own.
_HTTPS = TWOWAY_PUBLIC_URL.startswith("https://")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _HTTPS)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _HTTPS)
# Load balancers and uptime checks ask for the health page over plain HTTP from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000" if _HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading commits the whole domain to HTTPS in browsers' built-in lists: the operator's
# decision, so its absence is not a warning.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# The header the proxy sets to say the request came over HTTPS (it must overwrite, never pass on,
# a client's). uvicorn already honours X-Forwarded-Proto from FORWARDED_ALLOW_IPS; this covers a
# proxy elsewhere. Empty: none.
_PROXY_SSL_HEADER = env("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if _HTTPS else "").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https") if _PROXY_SSL_HEADER else None
)
# The pages load their scripts and styles from Twoway alone, with nothing inline (htmx's own
# indicator styles are off in base.html's htmx-config), so the policy allows nothing else.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # blob: for the composer's previews of the pictures and videos about to be sent.
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Files Twoway keeps (uploaded contact imports, until they are imported) go through the default
# storage: local files under the data directory, never served by URL.
MEDIA_ROOT = DATA_DIR / "files"
# How long the signed link to an outbound MMS's picture or video works for the carrier that
# fetches it (a retried send signs a fresh one). Carriers reach it under TWOWAY_PUBLIC_URL.
MMS_URL_MAX_AGE_SECONDS = env_float("MMS_URL_MAX_AGE_SECONDS", 24 * 3600.0)
# The largest CSV file of contacts an upload or `twoway contacts import` takes, in megabytes.
CONTACT_IMPORT_MAX_MB = env_float("CONTACT_IMPORT_MAX_MB", 50.0)
# Serve static files straight from the apps, so no collectstatic step is needed to run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "twoway@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Carriers -----------------------------------------------------------------------------------
TWOWAY_CARRIERS = {
    "simulator": "twoway.carriers.simulator.adapter.SimulatorCarrier",
    "twilio": "twoway.carriers.twilio.adapter.TwilioCarrier",
    "telnyx": "twoway.carriers.telnyx.adapter.TelnyxCarrier",
    "vonage": "twoway.carriers.vonage.adapter.VonageCarrier",
}
TWOWAY_DEFAULT_CARRIER = env("TWOWAY_DEFAULT_CARRIER", "simulator")
TWOWAY_CARRIER_CONFIG: dict[str, dict[str, object]] = {
    "simulator": {"network": "twoway.simulator.network"},
    "twilio": {
        "account_sid": env("TWILIO_ACCOUNT_SID"),
        "auth_token": env("TWILIO_AUTH_TOKEN"),
        "api_base_url": env("TWILIO_API_BASE_URL", "https://api.twilio.com"),
        "timeout": env_float("TWILIO_TIMEOUT", 10.0),
    },
    "telnyx": {
        "api_key": env("TELNYX_API_KEY"),
        "public_key": env("TELNYX_PUBLIC_KEY"),
        "messaging_profile_id": env("TELNYX_MESSAGING_PROFILE_ID"),
        "api_base_url": env("TELNYX_API_BASE_URL", "https://api.telnyx.com"),
        "timeout": env_float("TELNYX_TIMEOUT", 10.0),
    },
    "vonage": {
        "api_key": env("VONAGE_API_KEY"),
        "api_secret": env("VONAGE_API_SECRET"),
        "signature_secret": env("VONAGE_SIGNATURE_SECRET"),
        "application_id": env("VONAGE_APPLICATION_ID"),
        "api_base_url": env("VONAGE_API_BASE_URL", "https://api.nexmo.com"),
        "rest_base_url": env("VONAGE_REST_BASE_URL", "https://rest.nexmo.com"),
        "timeout": env_float("VONAGE_TIMEOUT", 10.0),
    },
}
# Keys that encrypt carrier accounts' credentials, comma-separated, newest first (the first
# encrypts, each decrypts); empty: a key derived from SECRET_KEY (carrier_accounts/crypto.py).
CARRIER_CREDENTIALS_KEY = [
    k.strip() for k in env("CARRIER_CREDENTIALS_KEY").split(",") if k.strip()
]
# Seconds the simulator waits before it reports a message delivered.
SIMULATOR_DELIVERY_DELAY = env_float("SIMULATOR_DELIVERY_DELAY", 1.0)

# --- Two-way texting ------------------------------------------------------------------------------
# Days a dedicated number is kept for an organization after it switches two-way texting off.
TWO_WAY_HOLD_DAYS = int(env("TWO_WAY_HOLD_DAYS", "90"))
# How often the housekeeping chores run (TWOWAY_PERIODIC_JOBS below): releasing numbers whose
# hold ran out, pruning old events and job results.
HOUSEKEEPING_INTERVAL_SECONDS = env_float("HOUSEKEEPING_INTERVAL_SECONDS", 3600.0)

# --- Sending and the worker ---------------------------------------------------------------------
# How long a worker owns a message it claimed; after that another worker may take it over.
SEND_LEASE_SECONDS = env_float("SEND_LEASE_SECONDS", 60.0)
SEND_MAX_ATTEMPTS = int(env("SEND_MAX_ATTEMPTS", "10"))
SEND_RETRY_BASE_SECONDS = env_float("SEND_RETRY_BASE_SECONDS", 5.0)
SEND_RETRY_MAX_SECONDS = env_float("SEND_RETRY_MAX_SECONDS", 900.0)
# Worker processes `twoway worker` runs and keeps running (worker/supervisor.py). One process
# is bound by its interpreter lock, so PostgreSQL gets two. SQLite lets one writer in at a time:
# two processes sent faster there too, but every webhook waits for that same write lock, so one
# stays the default until that is measured (docs/performance.md).
WORKER_PROCESSES = int(
    env("WORKER_PROCESSES", "1" if DATABASES["default"]["ENGINE"].endswith("sqlite3") else "2")
)
# How often an idle worker looks for work nobody woke it for (scheduled messages, lost wake-ups).
WORKER_POLL_SECONDS = env_float("WORKER_POLL_SECONDS", 1.0)
# UDP port on 127.0.0.1 the worker listens on to be woken at once after a webhook or a send.
WORKER_WAKE_PORT = int(env("WORKER_WAKE_PORT", "8765"))
# How often an open inbox checks for new realtime events.
REALTIME_POLL_SECONDS = env_float("REALTIME_POLL_SECONDS", 0.25)

# --- Background jobs (twoway/jobs) ------------------------------------------------------------
# Django's tasks API, kept in the database by django-tasks-db and run by Twoway's job runner.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Job runner processes `twoway worker` (and `serve`) runs beside its worker processes and
# restarts when one dies (0: none here, for machines where `twoway jobs` runs elsewhere).
JOBS_RUNNERS = int(env("JOBS_RUNNERS", "1"))
# How often an idle runner looks for due jobs.
JOBS_POLL_SECONDS = env_float("JOBS_POLL_SECONDS", 1.0)
# A running job's lease, renewed every JOBS_HEARTBEAT_SECONDS: a runner that stopped renewing
# (killed) has its job taken over by another runner once the lease and one more heartbeat ran out.
JOBS_LEASE_SECONDS = env_float("JOBS_LEASE_SECONDS", 60.0)
JOBS_HEARTBEAT_SECONDS = env_float("JOBS_HEARTBEAT_SECONDS", 10.0)
# Tries of a failing job (a job may declare its own), waiting the base doubled after each try,
# up to the maximum; then it fails for good with its error kept.
JOBS_MAX_ATTEMPTS = int(env("JOBS_MAX_ATTEMPTS", "5"))
JOBS_RETRY_BASE_SECONDS = env_float("JOBS_RETRY_BASE_SECONDS", 10.0)
JOBS_RETRY_MAX_SECONDS = env_float("JOBS_RETRY_MAX_SECONDS", 3600.0)
# Days the results of finished jobs are kept: successful ones, failed ones (0: for ever).
JOBS_RESULTS_RETENTION_DAYS = int(env("JOBS_RESULTS_RETENTION_DAYS", "7"))
JOBS_FAILED_RETENTION_DAYS = int(env("JOBS_FAILED_RETENTION_DAYS", "30"))
# Processed carrier events are kept this long for audit and replay; failed ones until an
# operator retries them (0: for ever).
CARRIER_EVENTS_RETENTION_DAYS = int(env("CARRIER_EVENTS_RETENTION_DAYS", "30"))
# Realtime events only let an open inbox catch up after a reconnect (seconds to minutes), so a
# day is plenty (0: for ever).
REALTIME_EVENTS_RETENTION_HOURS = int(env("REALTIME_EVENTS_RETENTION_HOURS", "24"))
# Outgoing webhooks go only to public addresses unless this is on (a receiver on this machine or
# the office network); and wait this long for an endpoint's answer.
TWOWAY_WEBHOOKS_ALLOW_PRIVATE = env_bool("TWOWAY_WEBHOOKS_ALLOW_PRIVATE", False)
TWOWAY_WEBHOOKS_TIMEOUT_SECONDS = env_float("TWOWAY_WEBHOOKS_TIMEOUT_SECONDS", 5.0)
# Days a delivered or given-up webhook delivery stays in its endpoint's log (0: for ever).
WEBHOOK_DELIVERIES_RETENTION_DAYS = int(env("WEBHOOK_DELIVERIES_RETENTION_DAYS", "30"))
# Chores enqueued once per period, aligned on the clock, however many runners there are
# (jobs/schedule.py): {name: {"task": dotted path, "every_seconds": N, "kwargs": {...}}}.
TWOWAY_PERIODIC_JOBS: dict[str, dict[str, object]] = {
    "held_numbers_release": {
        "task": "twoway.numbers.tasks.held_numbers_release_due",
        "every_seconds": HOUSEKEEPING_INTERVAL_SECONDS,
    },
    "carrier_events_prune": {
        "task": "twoway.carrier_events.tasks.carrier_events_prune",
        "every_seconds": HOUSEKEEPING_INTERVAL_SECONDS,
    },
    "realtime_events_prune": {
        "task": "twoway.realtime.tasks.realtime_events_prune",
        "every_seconds": HOUSEKEEPING_INTERVAL_SECONDS,
    },
    "task_results_prune": {
        "task": "twoway.jobs.tasks.task_results_prune",
        "every_seconds": HOUSEKEEPING_INTERVAL_SECONDS,
    },
    "contact_imports_prune": {
        "task": "twoway.contacts.tasks.contact_imports_prune",
        "every_seconds": HOUSEKEEPING_INTERVAL_SECONDS,
    },
    "webhook_deliveries_prune": {
        "task": "twoway.webhooks.tasks.webhook_deliveries_prune",
        "every_seconds": HOUSEKEEPING_INTERVAL_SECONDS,
    },
    # A delivery whose try was lost (its runner killed mid-request) is tried again.
    "webhook_deliveries_sweep": {
        "task": "twoway.webhooks.tasks.webhook_deliveries_sweep",
        "every_seconds": HOUSEKEEPING_INTERVAL_SECONDS,
    },
}
