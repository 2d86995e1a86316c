"""Settings for the test suite: a throw-away data dir, fast hashing, tasks inline.

The real settings are imported unchanged otherwise, so tests exercise the
same configuration a desk runs with (DATABASE_URL selects PostgreSQL).
"""

import os
import tempfile

os.environ.setdefault("EXPEDITER_DATA_DIR", tempfile.mkdtemp(prefix="expediter-test-"))
os.environ["EXPEDITER_FAST_HASHER"] = "1"
os.environ.setdefault("EXPEDITER_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
os.environ.setdefault("EXPEDITER_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("EXPEDITER_BASE_URL", "http://desk.test")
os.environ.setdefault("EXPEDITER_SECRET_KEY", "test-secret-key-not-for-production")

from expediter.config.settings import *  # noqa: F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if DATABASES["default"]["ENGINE"] == "expediter.core.sqlite":  # noqa: F405
    # An in-memory database per test process, as for the stock SQLite engine
    # (pytest-xdist's per-worker naming only recognises the stock engine's name).
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}  # noqa: F405
