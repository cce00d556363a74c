"""PopID settings: everything comes from environment variables with embedded defaults.

POPID_DATA_DIR      where the database, uploads, keys and demo-accounts.json live (default ./var)
POPID_DATABASE_URL  database URL (default: SQLite file in the data directory)
POPID_SECRET_KEY    Django secret key (default: generated once into the data directory)
POPID_DEBUG         1 for development tracebacks (default 0)
POPID_ALLOWED_HOSTS comma-separated host names (default localhost,127.0.0.1,[::1])
POPID_SECURE_COOKIES 0 only behind plain HTTP on a non-local host (default 1)
POPID_REDIS_URL     optional cache (sessions, rate limits) shared by several web workers
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("POPID_DATA_DIR", "var")).resolve()
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
    "popid.core",
    "popid.registry",
    "popid.web",
    "popid.identity",
    "popid.demo_rp",
    "popid.services.apps.ServicesConfig",
    "popid.exchange",
    "popid.documents",
    "popid.wallet",
    "popid.ledger",  # last: its seed_demo commits the access records the other apps' demos made
]

MIDDLEWARE = [
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side binding lets psycopg prepare repeated statements, so PostgreSQL plans each
    # query shape once per connection instead of on every request (measured: BENCHMARKS.md).
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
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
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

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
SESSION_COOKIE_AGE = 8 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

# Oversized bodies are refused before parsing (problem JSON under /api/).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("POPID_MAX_BODY_BYTES", str(256 * 1024)))
# Multipart bodies (dossier attachments) may be larger; each procedure caps each file itself.
POPID_MAX_UPLOAD_BYTES = int(os.environ.get("POPID_MAX_UPLOAD_BYTES", str(25 * 1024 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("POPID_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 20

# Identity accounts: SMS/e-mail gateway ("file" writes DATA_DIR/outbox/messages.jsonl, "console" logs).
POPID_MESSAGING_BACKEND = os.environ.get("POPID_MESSAGING_BACKEND", "file")
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)

# OpenID Connect issuer: the https origin relying parties see (default: the request's origin,
# for development and tests only).
POPID_OIDC_ISSUER = os.environ.get("POPID_OIDC_ISSUER", "")

# The demo relying party at /demo-rp/ (issue #3): a public-service site logging in through PopID.
POPID_DEMO_RP = _env_bool("POPID_DEMO_RP", True)
