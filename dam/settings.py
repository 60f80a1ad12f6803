"""DAM settings: one module, driven by the environment.

With no environment at all DAM runs embedded: SQLite and a filesystem broker under ./var/ (DAM_DATA_DIR).
DATABASE_URL and CELERY_BROKER_URL switch it to PostgreSQL and Redis or RabbitMQ.
"""
import base64
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from dam import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Settings only read the environment and the data directory: the commands that start DAM make the directory and
# the secret-key file before loading them (dam/embedded.py).
DATA_DIR = embedded.data_dir()


def _secret_key() -> str:
    """Production passes DJANGO_SECRET_KEY; the embedded default keeps a random key in the data directory, made by
    the command that started this process (dam/embedded.py). A process started some other way on a fresh data
    directory (a test run, a script) signs with a random key of its own, for its lifetime only."""
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    if env_bool("DAM_PRODUCTION", False):
        raise ImproperlyConfigured("DAM_PRODUCTION=1 needs DJANGO_SECRET_KEY in the environment "
                                   "(50 or more random characters).")
    return embedded.read_secret_key() or secrets.token_urlsafe(50)


SECRET_KEY = _secret_key()
DEBUG = env_bool("DAM_DEBUG", False)
# Production (DAM_PRODUCTION=1): HTTPS only, secure cookies, HSTS, and the secret key from the environment; see the
# README's production section. `manage.py check --deploy` is clean with it. Without it DAM serves plain HTTP on
# 127.0.0.1 (the embedded `make run`).
PRODUCTION = env_bool("DAM_PRODUCTION", False)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DAM_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load balancers probe over plain HTTP
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DAM_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DAM_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DAM_HSTS_PRELOAD", True)
    if env_bool("DAM_BEHIND_TLS_PROXY", False):  # only behind a proxy that sets X-Forwarded-Proto itself
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
ALLOWED_HOSTS = env_list("DAM_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DAM_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # The staff console first: its templates theme the admin (admin/base_site.html).
    "console",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "assets",
    "repairs",
    "inspection",
    "reliability",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "reliability.limits.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # DAM_REQUIRE_2FA: a login that may act shows its second factor before anything else (console/two_factor.py).
    "console.two_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After authentication: the staff action log sees who, and wraps the idempotency replay too.
    "reliability.audit.StaffAuditMiddleware",
    "reliability.idempotency.IdempotencyMiddleware",
    # Last: turns a login refused by the lockout into the page that says when to try again (console/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dam.urls"
WSGI_APPLICATION = "dam.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],  # every template lives in an app (the console's, listed first, override the admin's)
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'dam.sqlite3'}"),
        conn_max_age=int(os.environ.get("DAM_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: WAL lets readers go on while one writes, the busy
    # timeout waits for the lock instead of failing, and IMMEDIATE transactions take the write lock up front so
    # two writers never deadlock upgrading a read lock ("database is locked").
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file too, so that a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that does not answer at all is reported (503) after a few seconds, not waited for forever.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(
        os.environ.get("DAM_DB_CONNECT_TIMEOUT", "5"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Jobs (Celery) --------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: the embedded broker, one file per message in the data directory. The Celery app
    # makes "filesystem://" mean DAM's own transport (dam/celery.py), which makes these folders when it connects.
    _queue_dir = DATA_DIR / "broker" / "queue"
    _processed_dir = DATA_DIR / "broker" / "processed"
    _control_dir = DATA_DIR / "broker" / "control"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
        "polling_interval": 0.2,
    }
# Separate queues let several DAM installations (or test runs) share one broker.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("DAM_QUEUE", "dam")
# Taking a failing machine out of service must not wait behind the slower paperwork (repair tickets, inspections):
# isolate jobs have a queue of their own. A worker started without -Q serves both; on a busy fleet one worker
# serves only this queue (`celery -A dam worker -Q dam-isolate`), so an isolation never queues behind the rest.
DAM_ISOLATE_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}-isolate"
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name)
                      for name in (CELERY_TASK_DEFAULT_QUEUE, DAM_ISOLATE_QUEUE)]
CELERY_TASK_ROUTES = {"lifecycle.tasks.isolate_asset": {"queue": DAM_ISOLATE_QUEUE}}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# A job whose worker dies mid-way is delivered again; every job is safe to run twice.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every job unless this is set; it then closes
# them every 2 × this many jobs. Broken or old connections are dropped before each job instead (dam/celery.py).
CELERY_DB_REUSE_MAX = int(os.environ.get("DAM_WORKER_DB_REUSE_MAX", "100000"))
CELERY_TASK_ALWAYS_EAGER = env_bool("DAM_TASKS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "end-probation": {
        "task": "lifecycle.tasks.end_probation_sweep",
        "schedule": float(os.environ.get("DAM_PROBATION_SWEEP_SECONDS", "60")),
    },
    "reconcile-stuck-assets": {
        "task": "lifecycle.tasks.reconcile_stuck_assets",
        "schedule": float(os.environ.get("DAM_RECONCILE_SECONDS", "60")),
    },
    "scheduled-inspections": {
        "task": "lifecycle.tasks.scheduled_inspections",
        "schedule": float(os.environ.get("DAM_SCHEDULED_INSPECTION_SECONDS", "3600")),
    },
    "relay-outbox": {
        "task": "reliability.tasks.relay_outbox",
        "schedule": float(os.environ.get("DAM_OUTBOX_RELAY_SECONDS", "10")),
    },
    "purge-expired": {"task": "reliability.tasks.purge_expired", "schedule": 3600.0},
    # The fleet dashboard's 30-day figures, kept computed so no page view waits for them (console/dashboard.py).
    "dashboard-refresh": {"task": "console.tasks.dashboard_refresh", "schedule": 60.0},
}

# --- DAM's own knobs ------------------------------------------------------------------------------
# Where inspections run: "local" runs the checks in the worker (this machine stands in for the host, as in the
# embedded demo); "agent" leaves them pending for the host agent on the machine under test.
DAM_INSPECTION_RUNNER = os.environ.get(
    "DAM_INSPECTION_RUNNER", "agent" if "DATABASE_URL" in os.environ else "local"
)
DAM_SCRATCH_DIR = Path(os.environ.get("DAM_SCRATCH_DIR", DATA_DIR / "scratch"))
# Inspections measure seven curves (CPU, memory, four disk curves, fsync); each gets this many seconds in the quick
# profile (after a repair, on schedule) and in the full one (delivery).
DAM_CHECK_SECONDS = float(os.environ.get("DAM_CHECK_SECONDS", "0.5"))
DAM_FULL_CHECK_SECONDS = float(os.environ.get("DAM_FULL_CHECK_SECONDS", "4"))
DAM_DISK_SCRATCH_BYTES = int(os.environ.get("DAM_DISK_SCRATCH_BYTES", str(64 * 1024 * 1024)))
# Learned baselines (inspection/services.py): from the newest DAM_BASELINE_WINDOW passing inspections of a hardware
# model, once there are DAM_BASELINE_MIN_SAMPLES, again every DAM_BASELINE_RELEARN_EVERY passes. DAM_TOLERANCES
# overrides the bands' widths per curve prefix, as JSON: {"disk.rand_": {"sigmas": 5, "min_pct": 20}}.
DAM_BASELINE_MIN_SAMPLES = int(os.environ.get("DAM_BASELINE_MIN_SAMPLES", "10"))
DAM_BASELINE_WINDOW = int(os.environ.get("DAM_BASELINE_WINDOW", "50"))
DAM_BASELINE_RELEARN_EVERY = int(os.environ.get("DAM_BASELINE_RELEARN_EVERY", "5"))
DAM_TOLERANCES = json.loads(os.environ.get("DAM_TOLERANCES", "{}"))
# Verdicts you can trust (inspection/services.py): a curve measured while other work disturbed the machine beyond
# DAM_DISTURBANCE_LIMITS (JSON; null: inspection/measure.py's DISTURBANCE_LIMITS) is measured again up to
# DAM_DISTURBANCE_RETRIES times; a performance fail is measured again DAM_CONFIRM_REPEATS times before it counts.
# An `inconclusive` verification or delivery inspection is requested again after DAM_INCONCLUSIVE_BACKOFF_SECONDS
# (doubling each time), at most DAM_INCONCLUSIVE_RETRIES times; then staff get a note on the ticket.
DAM_DISTURBANCE_LIMITS = json.loads(os.environ.get("DAM_DISTURBANCE_LIMITS", "null"))
DAM_DISTURBANCE_RETRIES = int(os.environ.get("DAM_DISTURBANCE_RETRIES", "2"))
# Four: judged on each point's median of five runs, a healthy machine's one or two runs that the host slowed without
# the guest seeing it (no steal, no other process) no longer fail it; two left 0.5-1.4 % of quiet healthy machines
# failed in measure_detection, four none (README, "Detection power"). It costs time only when a first run fails.
DAM_CONFIRM_REPEATS = int(os.environ.get("DAM_CONFIRM_REPEATS", "4"))
DAM_INCONCLUSIVE_RETRIES = int(os.environ.get("DAM_INCONCLUSIVE_RETRIES", "3"))
DAM_INCONCLUSIVE_BACKOFF_SECONDS = float(os.environ.get("DAM_INCONCLUSIVE_BACKOFF_SECONDS", "900"))
DAM_DEFAULT_PROBATION_HOURS = float(os.environ.get("DAM_DEFAULT_PROBATION_HOURS", "24"))
# An inspection still pending or running after this long is given up and requested again.
DAM_INSPECTION_TIMEOUT_SECONDS = int(os.environ.get("DAM_INSPECTION_TIMEOUT_SECONDS", "900"))
# An isolated asset without a repair ticket after this long gets its ticket from the reconcile job.
DAM_RECONCILE_GRACE_SECONDS = int(os.environ.get("DAM_RECONCILE_GRACE_SECONDS", "120"))
DAM_SCHEDULED_INSPECTION_SAMPLE = int(os.environ.get("DAM_SCHEDULED_INSPECTION_SAMPLE", "2"))
DAM_MAX_FAULTS_PER_REQUEST = 1000
# Repair tickets older than this are overdue.
DAM_TICKET_SLA_HOURS = float(os.environ.get("DAM_TICKET_SLA_HOURS", "48"))
# Escalation looks this far back: a machine repaired within it that fails again gets a bigger repair.
DAM_ESCALATION_DAYS = int(os.environ.get("DAM_ESCALATION_DAYS", "30"))
# This many isolations within DAM_ESCALATION_DAYS flag a machine as flapping.
DAM_FLAPPING_ISOLATIONS = int(os.environ.get("DAM_FLAPPING_ISOLATIONS", "3"))
# This many hardware repairs within DAM_RETIRE_WINDOW_DAYS retire a machine at its next incident.
DAM_RETIRE_AFTER_HARDWARE_REPAIRS = int(os.environ.get("DAM_RETIRE_AFTER_HARDWARE_REPAIRS", "3"))
DAM_RETIRE_WINDOW_DAYS = int(os.environ.get("DAM_RETIRE_WINDOW_DAYS", "90"))

# --- BMC (Redfish): out-of-band power and automatic reboot (integrations/bmc.py, lifecycle/auto_repair.py) --------
# BMC passwords are stored encrypted under DAM_BMC_KEY (a Fernet key; several, comma separated, to rotate: the
# first encrypts). Production refuses to start without it; the embedded default keeps one in DAM_DATA_DIR
# (assets/bmc.py).
DAM_BMC_KEY = os.environ.get("DAM_BMC_KEY", "")
_MAKE_BMC_KEY = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
if PRODUCTION and not DAM_BMC_KEY:
    raise ImproperlyConfigured(
        f"DAM_PRODUCTION=1 needs DAM_BMC_KEY in the environment (a Fernet key: {_MAKE_BMC_KEY}).")


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.strip().encode())) == 32
    except ValueError:
        return False


if DAM_BMC_KEY and not all(_is_fernet_key(key) for key in DAM_BMC_KEY.split(",")):
    # Refused here rather than at the first BMC call: a typo in the key must stop the start, not a repair.
    raise ImproperlyConfigured(f"DAM_BMC_KEY is not a Fernet key (32 url-safe base64 bytes; several comma "
                               f"separated to rotate): make one with {_MAKE_BMC_KEY}.")
# TLS: BMCs are verified like any HTTPS server unless this is off here (the whole fleet) or on the asset
# (bmc_verify_tls); DAM_BMC_CA_BUNDLE names the CA file that signed the BMCs' certificates.
DAM_BMC_VERIFY_TLS = env_bool("DAM_BMC_VERIFY_TLS", True)
DAM_BMC_CA_BUNDLE = os.environ.get("DAM_BMC_CA_BUNDLE", "")
DAM_BMC_CONNECT_TIMEOUT = float(os.environ.get("DAM_BMC_CONNECT_TIMEOUT", "5"))
DAM_BMC_READ_TIMEOUT = float(os.environ.get("DAM_BMC_READ_TIMEOUT", "30"))
# After a reset, the auto-repair job waits this long for PowerState On, asking every DAM_BMC_POLL_SECONDS.
DAM_BMC_POWER_ON_TIMEOUT = float(os.environ.get("DAM_BMC_POWER_ON_TIMEOUT", "300"))
DAM_BMC_POLL_SECONDS = float(os.environ.get("DAM_BMC_POLL_SECONDS", "5"))

# --- Reliability and security ---------------------------------------------------------------------
# Outbox (reliability/outbox.py): a job owed to Celery not sent within DAM_OUTBOX_GRACE_SECONDS of its commit is sent
# by the relay (every DAM_OUTBOX_RELAY_SECONDS); one sent but not finished within DAM_OUTBOX_REDELIVER_SECONDS
# (doubling each time, at most hourly) is sent again.
DAM_OUTBOX_GRACE_SECONDS = float(os.environ.get("DAM_OUTBOX_GRACE_SECONDS", "5"))
DAM_OUTBOX_REDELIVER_SECONDS = float(os.environ.get("DAM_OUTBOX_REDELIVER_SECONDS", "300"))
DAM_OUTBOX_KEEP_HOURS = float(os.environ.get("DAM_OUTBOX_KEEP_HOURS", "24"))
# Idempotency-Key: answers are kept this long; a request that claimed a key and never answered frees it after the lock.
DAM_IDEMPOTENCY_TTL_HOURS = float(os.environ.get("DAM_IDEMPOTENCY_TTL_HOURS", "24"))
DAM_IDEMPOTENCY_LOCK_SECONDS = float(os.environ.get("DAM_IDEMPOTENCY_LOCK_SECONDS", "60"))
# Limits on input: body size (413), JSON nesting (400). A batch of 1000 faults with details fits easily.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DAM_MAX_REQUEST_BYTES", str(4 * 1024 * 1024)))
DAM_MAX_JSON_DEPTH = int(os.environ.get("DAM_MAX_JSON_DEPTH", "20"))
# Requests per API token ("600/min"; "off" for none), counted in the shared cache below.
DAM_THROTTLE_RATE = "" if os.environ.get("DAM_THROTTLE_RATE", "").lower() == "off" else (
    os.environ.get("DAM_THROTTLE_RATE") or "600/min")
# An API token, its owner and roles are kept this long in the shared cache (one cache read per request instead of
# two queries); revoking it, or changing its owner, drops the copy at once (dam/auth.py). 0: no cache.
DAM_TOKEN_CACHE_SECONDS = float(os.environ.get("DAM_TOKEN_CACHE_SECONDS", "60"))
# Behind this many reverse proxies, the client's address is taken from X-Forwarded-For (the staff action log).
DAM_TRUSTED_PROXY_HOPS = int(os.environ.get("DAM_TRUSTED_PROXY_HOPS", "0"))
# The shared cache (throttling): Redis when DAM_CACHE_URL or the broker says redis; the database with DATABASE_URL
# (run `manage.py createcachetable`); files under the data directory in the embedded default (one machine).
_cache_url = os.environ.get("DAM_CACHE_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "")
if _cache_url:
    CACHES = {"default": {"BACKEND": "dam.cache.SharedRedisCache", "LOCATION": _cache_url,
                          "KEY_PREFIX": "dam", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
elif "DATABASE_URL" in os.environ:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "dam_cache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(DATA_DIR / "cache")}}

# --- Browser security: headers and cookies --------------------------------------------------------
# Everything the console needs is served by DAM itself, and no page has an inline script or style="" attribute, so
# the policy allows only this origin. An inline <style> DAM writes itself carries the request's nonce
# (`<style nonce="{{ request.csp_nonce }}">`; the header names a nonce only on a page that used one). The one hash is
# Django admin's own <style> block of a change list without bulk actions (a viewer's lists;
# django/contrib/admin/templates/admin/change_list.html): re-check it when upgrading Django — the browser tests fail
# on any violation. DAM_CSP_REPORT_ONLY=1 sends the same policy report-only.
_CSP_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", NONCE, "'sha256-blvLUW3UscWqsXGByNOqdBboM+ShWAuugp2mC/wbafU='"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
if env_bool("DAM_CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY
else:
    CONTENT_SECURITY_POLICY = _CSP_POLICY
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = os.environ.get("DAM_REFERRER_POLICY", "same-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No script of the console or the admin reads either cookie (the API docs get the CSRF token in their script).
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"

# --- Logins: lockout ------------------------------------------------------------------------------
# django-axes counts failed logins in the database (so every web process sees them): DAM_LOGIN_FAILURES failures for
# one username, or from one address, refuse further logins for DAM_LOGIN_COOLOFF_MINUTES, counted from the last
# failure before the lock (attempts while locked do not extend it). API tokens never go through a login.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before any password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("DAM_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("DAM_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per user and per address
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "console.lockout.locked_out_response"
AXES_CLIENT_IP_CALLABLE = "console.lockout.client_ip"
AXES_VERBOSE = False
# A second factor (TOTP, django-otp) for console logins that may act on the fleet: hardware staff and superusers.
# Off by default; with it on, such a login without a device enrols at its first login.
DAM_REQUIRE_2FA = env_bool("DAM_REQUIRE_2FA", False)
OTP_TOTP_ISSUER = os.environ.get("DAM_2FA_ISSUER", "DAM")
# A single sign-on whose identity provider enforces its own second factor may skip DAM's (DAM_2FA_TRUST_SSO=1).
DAM_2FA_TRUST_SSO = env_bool("DAM_2FA_TRUST_SSO", False)

# --- Logins: single sign-on (OpenID Connect, mozilla-django-oidc; console/oidc.py) --------------------------------
# On when DAM_OIDC_CLIENT_ID is set. The provider: DAM_OIDC_ISSUER (its endpoints found by discovery at the first
# sign-in), or each endpoint given. The role comes from the claim DAM_OIDC_ROLE_CLAIM: a value in
# DAM_OIDC_STAFF_VALUES makes hardware staff, one in DAM_OIDC_VIEWER_VALUES a viewer, anything else
# DAM_OIDC_DEFAULT_ROLE ("" refuses the sign-in). The README has the values for Keycloak, Okta, Azure AD, Google.
DAM_OIDC_CLIENT_ID = os.environ.get("DAM_OIDC_CLIENT_ID", "")
DAM_OIDC_ENABLED = bool(DAM_OIDC_CLIENT_ID)
DAM_OIDC_ISSUER = os.environ.get("DAM_OIDC_ISSUER", "")
DAM_OIDC_PROVIDER_NAME = os.environ.get("DAM_OIDC_PROVIDER_NAME", "single sign-on")
DAM_OIDC_USERNAME_CLAIM = os.environ.get("DAM_OIDC_USERNAME_CLAIM", "preferred_username")
DAM_OIDC_ROLE_CLAIM = os.environ.get("DAM_OIDC_ROLE_CLAIM", "groups")
DAM_OIDC_STAFF_VALUES = env_list("DAM_OIDC_STAFF_VALUES", "dam-staff")
DAM_OIDC_VIEWER_VALUES = env_list("DAM_OIDC_VIEWER_VALUES", "dam-viewer")
DAM_OIDC_DEFAULT_ROLE = os.environ.get("DAM_OIDC_DEFAULT_ROLE", "")
OIDC_RP_CLIENT_ID = DAM_OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = os.environ.get("DAM_OIDC_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = os.environ.get("DAM_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("DAM_OIDC_SCOPES", "openid email profile")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("DAM_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("DAM_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("DAM_OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("DAM_OIDC_JWKS_ENDPOINT", "")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = float(os.environ.get("DAM_OIDC_TIMEOUT_SECONDS", "10"))
OIDC_AUTHENTICATION_CALLBACK_URL = "console:oidc-callback"
LOGIN_REDIRECT_URL = "/admin/"
if DAM_OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("console.oidc.SsoBackend")

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "dam.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dam.permissions.ReadAnyWriteStaff"],
    "DEFAULT_FILTER_BACKENDS": ["dam.permissions.AgentSeesOwnHost",
                                "dam.filters.StrictDjangoFilterBackend"],
    # JSON bodies only (the contract's "JSON only"): the schema then lists application/json alone, and a client
    # generated from it sends each body one way.
    "DEFAULT_PARSER_CLASSES": ["reliability.limits.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",  # DRF's test client: a body is JSON unless a test says otherwise
    "DEFAULT_THROTTLE_CLASSES": ["reliability.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "dam.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "dam.errors.json_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
REST_KNOX = {
    # Tokens are stored hashed; they live until revoked (`revoke_token`) or until the expiry given to
    # `issue_token --expires-in`.
    "TOKEN_TTL": None,
    "AUTO_REFRESH": False,
}
# `issue_token` without --expires-in: agent and detector tokens live this long ("90d"; "" for no limit), 90 days in
# production. They sit on machines and in detectors' configuration, where a forgotten one lasts forever otherwise.
DAM_MACHINE_TOKEN_EXPIRES_IN = os.environ.get("DAM_MACHINE_TOKEN_EXPIRES_IN", "90d" if PRODUCTION else "")
SPECTACULAR_SETTINGS = {
    "TITLE": "DAM API",
    "DESCRIPTION": "Hardware asset lifecycle: faults, isolation, repair tickets, inspections.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Operations are tagged by the word after /api/v1/ (assets, faults, tickets…), as generated clients group them;
    # without a fixed prefix, /metrics beside the API would make the common prefix "/" and every tag "api".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The schema and the docs need a token (or an admin login) like every other endpoint.
    "SERVE_PERMISSIONS": ["dam.permissions.ReadAnyWriteStaff"],
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's scripts are served by DAM itself: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"RepairActionEnum": "repairs.choices.RepairAction",
                            # A pool's isolation_action and reimage_action take the same values.
                            "IsolationActionEnum": "assets.choices.IsolationAction",
                            "MeasuredOrSkippedEnum": "inspection.choices.MeasuredOrSkipped"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "dam.docs.one_of_bodies_are_required"],
}

# --- Static files, time, logging ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DAM_LOG_LEVEL", "INFO")},
    # django-axes says "login failed, running handler" at INFO on every failure; its warnings (lockouts) stay.
    "loggers": {"axes": {"level": "WARNING"}},
}
