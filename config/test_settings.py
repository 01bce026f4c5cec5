"""Test override: the base settings with a fixed key, fast hashing and plain static storage."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests run tasks in-process unless a test starts a real worker (tests/test_worker.py).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://localhost/"
HINDSIGHT_PRICE_PROVIDER = "offline"
HINDSIGHT_LEADERBOARD_MIN_RESOLVED = 3
SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP
# Tests run inside transactions whose on-commit hooks (where the data version moves) never fire, so the
# whole-page cache is off except in tests/forecasts/site/test_pagecache.py, which turns it on and commits.
HINDSIGHT_PAGE_CACHE = False
HINDSIGHT_DATA_VERSION_MEMO = 0.0
# A write shows on the very next read (tests/forecasts/site/test_pagecache.py).
HINDSIGHT_PAGE_FRESH_SECONDS = 0.0
