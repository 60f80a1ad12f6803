"""DAM settings: one module, driven by the environment.

With no environment at all DAM runs embedded: SQLite and a filesystem broker under ./var/ (DAM_DATA_DIR).
DATABASE_URL and CELERY_BROKER_URL switch it to PostgreSQL and Redis or RabbitMQ.
"""
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("DAM_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Production passes DJANGO_SECRET_KEY; the embedded default keeps a random key in the data directory."""
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DAM_DEBUG", False)
ALLOWED_HOSTS = env_list("DAM_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DAM_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "assets",
    "repairs",
    "inspection",
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
]

ROOT_URLCONF = "dam.urls"
WSGI_APPLICATION = "dam.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "dam" / "templates"],
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Jobs (Celery) --------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: the embedded broker, one file per message in the data directory.
    _queue_dir = DATA_DIR / "broker" / "queue"
    _processed_dir = DATA_DIR / "broker" / "processed"
    _control_dir = DATA_DIR / "broker" / "control"
    for _dir in (_queue_dir, _processed_dir, _control_dir):
        _dir.mkdir(parents=True, exist_ok=True)
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
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# A job whose worker dies mid-way is delivered again; every job is safe to run twice.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("DAM_TASKS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "end-probation": {
        "task": "dam.tasks.end_probation_sweep",
        "schedule": float(os.environ.get("DAM_PROBATION_SWEEP_SECONDS", "60")),
    },
    "reconcile-stuck-assets": {
        "task": "dam.tasks.reconcile_stuck_assets",
        "schedule": float(os.environ.get("DAM_RECONCILE_SECONDS", "60")),
    },
    "scheduled-inspections": {
        "task": "dam.tasks.scheduled_inspections",
        "schedule": float(os.environ.get("DAM_SCHEDULED_INSPECTION_SECONDS", "3600")),
    },
}

# --- DAM's own knobs ------------------------------------------------------------------------------
# Where inspections run: "local" runs the checks in the worker (this machine stands in for the host, as in the
# embedded demo); "agent" leaves them pending for the host agent on the machine under test.
DAM_INSPECTION_RUNNER = os.environ.get(
    "DAM_INSPECTION_RUNNER", "agent" if "DATABASE_URL" in os.environ else "local"
)
DAM_SCRATCH_DIR = Path(os.environ.get("DAM_SCRATCH_DIR", DATA_DIR / "scratch"))
DAM_CHECK_SECONDS = float(os.environ.get("DAM_CHECK_SECONDS", "0.5"))
DAM_DISK_SCRATCH_BYTES = int(os.environ.get("DAM_DISK_SCRATCH_BYTES", str(64 * 1024 * 1024)))
DAM_DEFAULT_PROBATION_HOURS = float(os.environ.get("DAM_DEFAULT_PROBATION_HOURS", "24"))
# An inspection still pending or running after this long is given up and requested again.
DAM_INSPECTION_TIMEOUT_SECONDS = int(os.environ.get("DAM_INSPECTION_TIMEOUT_SECONDS", "900"))
# An isolated asset without a repair ticket after this long gets its ticket from the reconcile job.
DAM_RECONCILE_GRACE_SECONDS = int(os.environ.get("DAM_RECONCILE_GRACE_SECONDS", "120"))
DAM_SCHEDULED_INSPECTION_SAMPLE = int(os.environ.get("DAM_SCHEDULED_INSPECTION_SAMPLE", "2"))
DAM_MAX_FAULTS_PER_REQUEST = 1000

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dam.permissions.ReadAnyWriteStaff"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "dam.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "dam.errors.json_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
REST_KNOX = {
    # Tokens from `issue_token` live until revoked; expiry arrives with the security issue.
    "TOKEN_TTL": None,
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DAM API",
    "DESCRIPTION": "Hardware asset lifecycle: faults, isolation, repair tickets, inspections.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's scripts are served by DAM itself: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
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
}
