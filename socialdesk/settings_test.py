"""Fast settings for the test suite: cheap password hashing, eager Celery (tests about Celery start
real processes instead), no HTTPS redirects. The database still comes from DATABASE_URL, so CI runs
the whole suite on PostgreSQL."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdefghijklmnop")
os.environ.setdefault("SOCIALDESK_ENCRYPTION_KEYS", "Qh3l5b2iJ0e0kqzC7m3u0F0s8kOa6mV1c5R2d9T4x8Y=")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from socialdesk.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CELERY_TASK_EAGER_PROPAGATES = True
AXES_ENABLED = False  # tests/socialdesk/test_login.py turns it back on where it is the subject
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Each test process gets its own cache; tests that need a shared one say so.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Static files straight from static/ (no collectstatic in tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
