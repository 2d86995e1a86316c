"""Expediter's one settings module, driven by environment variables.

See the table in the contract: ``EXPEDITER_DATA_DIR``, ``DATABASE_URL``,
``EXPEDITER_SECRET_KEY``, ``EXPEDITER_SECRETS_KEY`` (read by ``core.secrets``),
``EXPEDITER_BASE_URL``, ``EXPEDITER_SMTP_URL``, ``EXPEDITER_MAIL_FROM``,
``EXPEDITER_TIME_ZONE``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

from expediter.config.env import env, env_bool, env_int, load_dotenv, secret_key

load_dotenv(Path.cwd() / ".env")

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env("EXPEDITER_DATA_DIR", "./var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = secret_key(DATA_DIR)
DEBUG = env_bool("EXPEDITER_DEBUG", False)
ALLOWED_HOSTS = [h for h in env("EXPEDITER_ALLOWED_HOSTS", "*").split(",") if h]

BASE_URL = env("EXPEDITER_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
MAIL_FROM = env("EXPEDITER_MAIL_FROM", "helpdesk@example.com")
SMTP_URL = env("EXPEDITER_SMTP_URL", "")
DESK_TIME_ZONE = env("EXPEDITER_TIME_ZONE", "Europe/Paris")
ATTACHMENT_MAX_BYTES = env_int("EXPEDITER_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
MAIL_MAX_BYTES = env_int("EXPEDITER_MAIL_MAX_BYTES", 25 * 1024 * 1024)
MAIL_AUTO_REPLY_LIMIT = env_int("EXPEDITER_MAIL_AUTO_REPLY_LIMIT", 5)  # per address per hour
# the files an outbound reply may carry in all; beyond it they are named, not attached
MAIL_OUTBOUND_ATTACHMENTS_MAX_BYTES = env_int(
    "EXPEDITER_MAIL_OUTBOUND_ATTACHMENTS_MAX_BYTES", 10 * 1024 * 1024
)
CSRF_TRUSTED_ORIGINS = [BASE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "template_partials",
    "expediter.core",
    "expediter.staff",
    "expediter.schedules",
    "expediter.tickets",
    "expediter.mail",
    "expediter.sla",
    "expediter.routing",
    "expediter.appointments",
    "expediter.telephony",
    "expediter.demo",
    "expediter.web",
    "expediter.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "expediter.web.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "expediter.web.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "expediter.config.urls"
WSGI_APPLICATION = "expediter.config.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    }
]


def _database() -> dict[str, Any]:
    url = env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'expediter.sqlite3'}"
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=600))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["ENGINE"] = "expediter.core.sqlite"  # writers queue on a file lock
        config["OPTIONS"] = {
            # Several processes (server, workers, an MTA pipe) write at once:
            # WAL lets readers go on, IMMEDIATE takes the write lock up front
            # so transactions queue on busy_timeout instead of failing.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;"
            ),
        }
    else:
        config.setdefault("OPTIONS", {})
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "staff.User"
AUTHENTICATION_BACKENDS = ["expediter.staff.auth.EmailBackend"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
if env_bool("EXPEDITER_FAST_HASHER"):
    # Test runs and benchmarks only: a real desk keeps PBKDF2.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = DESK_TIME_ZONE
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Shared by every server and worker process (rate limits must count across them).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

EMAIL_BACKEND = env("EXPEDITER_EMAIL_BACKEND", "expediter.core.mailbackend.SmtpUrlBackend")
DEFAULT_FROM_EMAIL = MAIL_FROM

TASKS = {
    "default": {
        "BACKEND": env("EXPEDITER_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "expediter": {"handlers": ["console"], "level": env("EXPEDITER_LOG_LEVEL", "INFO")},
        "django_tasks": {"handlers": ["console"], "level": "WARNING"},
    },
}
