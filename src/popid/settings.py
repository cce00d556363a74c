"""PopID settings: everything comes from environment variables with embedded defaults.

POPID_DATA_DIR      where the database, uploads, keys and demo-accounts.json live (default ./var)
POPID_DATABASE_URL  database URL (default: SQLite file in the data directory)
POPID_SECRET_KEY    Django secret key (default: generated once into the data directory)
POPID_DEBUG         1 for development tracebacks (default 0)
POPID_ALLOWED_HOSTS comma-separated host names (default localhost,127.0.0.1,[::1])
POPID_SECURE_COOKIES 0 only behind plain HTTP on a non-local host (default 1)
POPID_REDIS_URL     optional cache (sessions, rate limits) shared by several web workers
POPID_HSTS_SECONDS, POPID_HSTS_INCLUDE_SUBDOMAINS, POPID_HSTS_PRELOAD  HSTS (see the security section)
POPID_BASE_URL      the address this server answers on, for commands run outside a request
                    (default http://127.0.0.1:8000; `make run` sets it from HOST and PORT)
POPID_TRUSTED_PROXY number of trusted reverse proxies in front (default 0: trust no forwarded header)
"""

from __future__ import annotations

import os
import secrets
import warnings
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent

# pyhanko (PDF signatures) imports cryptography's DSA key type at import time; PopID signs with
# ECDSA only, and the line it printed on every command's stderr was noise in the JSON logs.
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"pyhanko\.")


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("POPID_DATA_DIR", "var")).resolve()
BASE_URL = os.environ.get("POPID_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Read the key from the environment, or create one file-backed key per data directory."""
    if key := os.environ.get("POPID_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("POPID_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("POPID_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # its bundled Swagger UI assets: /api/v1/docs works offline under the strict CSP (no CDN)
    "popid.core",
    "popid.ops",
    "popid.registry",
    "popid.web",
    "popid.identity",
    "popid.demo_rp",
    "popid.services.apps.ServicesConfig",
    "popid.exchange",
    "popid.documents",
    "popid.wallet",
    "popid.traffic",
    "popid.immigration",
    "popid.matching",
    "popid.records",  # before police: its `popid records` command supersedes police's OCR-only one
    "popid.police",
    "popid.analytics",
    "popid.notifications",
    "popid.ledger",  # last: its seed_demo commits the access records the other apps' demos made
]

MIDDLEWARE = [
    "popid.core.logs.RequestIdMiddleware",  # first: everything after logs with the request id
    "popid.ops.health.MetricsMiddleware",  # request rate, latency and queries per view; access log
    "popid.core.db_router.ReadYourWritesMiddleware",  # replica reads for GET unless this client just wrote
    "django.middleware.security.SecurityMiddleware",
    "popid.core.middleware.ContentSecurityPolicyMiddleware",
    "popid.core.middleware.ApiProblemMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "popid.web.middleware.ConsoleLanguageMiddleware",  # console: Vietnamese unless the officer switches
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "popid.urls"
WSGI_APPLICATION = "popid.wsgi.application"
ASGI_APPLICATION = "popid.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("POPID_DATABASE_URL", f"sqlite:///{DATA_DIR / 'popid.sqlite3'}"),
        conn_max_age=int(os.environ.get("POPID_DB_CONN_MAX_AGE", "60")),
    )
}
# Prepared statements: psycopg prepares a query shape after it has run this many times on a
# connection, so PostgreSQL parses and plans each hot path's statements once per connection
# instead of on every request. Django turns this off by default (for transaction-mode
# connection poolers such as PgBouncer < 1.21): set POPID_DB_PREPARE_THRESHOLD=off behind one.
# Measured: BENCHMARKS.md section 21.
_prepare = os.environ.get("POPID_DB_PREPARE_THRESHOLD", "5").strip().lower()
if _prepare not in ("", "off", "none", "0") and not _prepare.isdigit():
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"POPID_DB_PREPARE_THRESHOLD must be a whole number or 'off', not {_prepare!r}")
DB_PREPARE_THRESHOLD = None if _prepare in ("", "off", "none", "0") else int(_prepare)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side binding (parameters sent apart from the SQL text) is what lets psycopg prepare.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = DB_PREPARE_THRESHOLD
    # A connection the database dropped (restart, failover) is noticed at the next request, not
    # reused broken: the database restarting fails the requests of the outage only.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Scale-out (docs/scaling.md): a streaming replica serving the read-only selectors
# (core.db_router). In tests it mirrors the primary's test database (same name on the standby).
if replica_url := os.environ.get("POPID_REPLICA_DATABASE_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        replica_url, conn_max_age=int(os.environ.get("POPID_DB_CONN_MAX_AGE", "60")))
    DATABASES["replica"].setdefault("OPTIONS", {})["server_side_binding"] = True
    DATABASES["replica"]["OPTIONS"]["prepare_threshold"] = DB_PREPARE_THRESHOLD
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["popid.core.db_router.ReplicaRouter"]
POPID_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("POPID_REPLICA_MAX_LAG_SECONDS", "5"))
POPID_READ_YOUR_WRITES_SECONDS = int(os.environ.get("POPID_READ_YOUR_WRITES_SECONDS", "10"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and a seed run share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not shared-cache memory: concurrent-writer tests need SQLite's real locking.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-popid.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if redis_url := os.environ.get("POPID_REDIS_URL"):
    # Redis down: the web tier serves on as if the cache were empty (core.redis_cache); /readyz shows it.
    CACHES = {"default": {"BACKEND": "popid.core.redis_cache.ResilientRedisCache", "LOCATION": redis_url,
                          "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}
else:
    # The database cache (table ``popid_cache``, created by core migration 0004), shared by every
    # web worker and kept across restarts, with an ``incr`` exact across processes
    # (``core.cache``). Culling only past a million entries, so nobody can flush live entries by
    # filling the cache. Login throttles have their own counters (``core.throttle``);
    # ``popid check --deploy`` refuses several workers with a per-process cache.
    CACHES = {"default": {"BACKEND": "popid.core.cache.DatabaseCache", "LOCATION": "popid_cache",
                          "OPTIONS": {"MAX_ENTRIES": 1_000_000}}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_HASHERS = [
    "popid.core.hashers.OwaspArgon2idHasher",  # argon2id; older hashes below still verify
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "registry:home"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Security defaults: secure cookies (browsers accept them on http://localhost), strict CSP.
SECURE_COOKIES = _env_bool("POPID_SECURE_COOKIES", True)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_FAILURE_VIEW = "popid.web.http_errors.csrf_failure"  # translated, with a way back
SESSION_COOKIE_AGE = 8 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Redirect plain HTTP to HTTPS when asked (behind the TLS proxy, with POPID_TRUSTED_PROXY set so
# X-Forwarded-Proto is believed); probes stay on HTTP. HSTS and the proxy switch: security section.
SECURE_SSL_REDIRECT = _env_bool("POPID_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def _misconfigured(message: str) -> Exception:
    from django.core.exceptions import ImproperlyConfigured

    return ImproperlyConfigured(message)


def _env_switch(name: str, default: bool) -> bool:
    """A security switch: a typo must stop the server, not silently turn a protection off."""
    value = os.environ.get(name, "").strip().lower() or ("1" if default else "0")
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise _misconfigured(f"{name}={value!r}: expected 1 or 0")


def _env_count(name: str, default: int, *, switch: bool = False) -> int:
    """A non-negative integer (``switch``: also on/off words, on meaning 1)."""
    value = os.environ.get(name, "").strip().lower() or str(default)
    if switch and value in {"true", "yes", "on", "false", "no", "off"}:
        return int(value in {"true", "yes", "on"})
    if not value.isdigit():
        raise _misconfigured(f"{name}={value!r}: expected a non-negative integer" + (" or on/off" if switch else ""))
    return int(value)


# HSTS (issue #10): SecurityMiddleware sends it only on https responses, so development over
# http://localhost is unaffected. Default one year with subdomains outside DEBUG; preload is an
# opt-in (it is hard to undo) and needs what the browsers' preload list requires.
SECURE_HSTS_SECONDS = _env_count("POPID_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_switch("POPID_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = _env_switch("POPID_HSTS_PRELOAD", False)
if SECURE_HSTS_PRELOAD and (SECURE_HSTS_SECONDS < 31536000 or not SECURE_HSTS_INCLUDE_SUBDOMAINS):
    raise _misconfigured("POPID_HSTS_PRELOAD=1 needs POPID_HSTS_SECONDS >= 31536000 and "
                         "POPID_HSTS_INCLUDE_SUBDOMAINS=1 (the browsers' preload list requires both)")

# Trusted reverse proxy (issue #10): POPID_TRUSTED_PROXY=N (0 = none, the default; 1 = one proxy
# such as nginx in front; N = a chain of N proxies that each append to X-Forwarded-For). Only then
# are X-Forwarded-Proto (https detection, secure cookies, HSTS), X-Forwarded-For (client IP for
# throttles and login records, popid.core.net.client_ip) and, when also asked,
# X-Forwarded-Host believed; without it they are whatever the client wrote.
POPID_TRUSTED_PROXY_HOPS = _env_count("POPID_TRUSTED_PROXY", 0, switch=True)
if POPID_TRUSTED_PROXY_HOPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = _env_switch("POPID_USE_X_FORWARDED_HOST", False)
if USE_X_FORWARDED_HOST and not POPID_TRUSTED_PROXY_HOPS:
    raise _misconfigured("POPID_USE_X_FORWARDED_HOST=1 needs POPID_TRUSTED_PROXY (a proxy that sets the header)")

# Oversized bodies are refused before parsing (problem JSON under /api/).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("POPID_MAX_BODY_BYTES", str(256 * 1024)))
# Multipart bodies (dossier attachments) may be larger; each procedure caps each file itself.
POPID_MAX_UPLOAD_BYTES = int(os.environ.get("POPID_MAX_UPLOAD_BYTES", str(25 * 1024 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# Logs: one JSON object per line (POPID_LOG_FORMAT=plain for a terminal), each with the request id
# (X-Request-ID) that tasks inherit; digit runs that could be ID or phone numbers are masked.
POPID_LOG_FORMAT = os.environ.get("POPID_LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "popid.core.logs.RequestIdFilter"},
        "personal_data": {"()": "popid.core.logs.PersonalDataFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter",
                 "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": POPID_LOG_FORMAT,
                             "filters": ["request_id", "personal_data"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("POPID_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"},
                # one line per request comes from popid.access (view name, never the path)
                "django.server": {"level": "WARNING"}},
}

# Health and metrics (ops.health): /metrics needs this bearer token (without one: loopback only).
POPID_METRICS_TOKEN = os.environ.get("POPID_METRICS_TOKEN", "")
POPID_READYZ_REQUIRE_WORKER = _env_bool("POPID_READYZ_REQUIRE_WORKER", True)

NINJA_PAGINATION_PER_PAGE = 20

# Background tasks (core.tasks): django-tasks with its database backend; rows are written in the
# caller's transaction. `popid worker` runs them, `popid scheduler` enqueues the periodic ones.
TASKS = {"default": {"BACKEND": "popid.core.task_backend.PopIdDatabaseBackend"},
         # runs a task at once in the caller (the test suite delivers SMS this way)
         "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
POPID_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("POPID_WORKER_HEARTBEAT_SECONDS", "5"))
POPID_WORKER_STALE_SECONDS = float(os.environ.get("POPID_WORKER_STALE_SECONDS", "30"))
POPID_TASK_RESULTS_KEEP_DAYS = int(os.environ.get("POPID_TASK_RESULTS_KEEP_DAYS", "7"))
POPID_WEBHOOK_TIMEOUT = float(os.environ.get("POPID_WEBHOOK_TIMEOUT", "10"))

# Identity accounts: SMS/e-mail gateway ("file" writes DATA_DIR/outbox/messages.jsonl, "console" logs).
POPID_MESSAGING_BACKEND = os.environ.get("POPID_MESSAGING_BACKEND", "file")
# Messages are delivered by the task core.messaging.deliver_message on this TASKS backend.
POPID_MESSAGING_TASK_BACKEND = os.environ.get("POPID_MESSAGING_TASK_BACKEND", "default")
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)

# OpenID Connect issuer: the https origin relying parties see (default: the request's origin,
# for development and tests only).
POPID_OIDC_ISSUER = os.environ.get("POPID_OIDC_ISSUER", "")

# The demo relying party at /demo-rp/ (issue #3): a public-service site logging in through PopID.
POPID_DEMO_RP = _env_bool("POPID_DEMO_RP", True)
