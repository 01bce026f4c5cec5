"""Hindsight settings: one module, every value read from the environment.

Defaults give the embedded setup (`make run`): SQLite in the project, tasks run
in-process, the offline price provider. Production sets DATABASE_URL, REDIS_URL,
DJANGO_SECRET_KEY, DJANGO_DEBUG=false and DJANGO_ALLOWED_HOSTS.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# A development key only when DEBUG is on; production must provide one or fail at start.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or (
    "insecure-dev-only-key-do-not-deploy" if DEBUG else ""
)
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# --- Security ----------------------------------------------------------------
# Production (DEBUG off) is HTTPS-only behind a proxy that sets X-Forwarded-Proto.
# `manage.py check --deploy` passes with these; tests/test_production.py proves it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Everything is served from this origin; chart data is inert JSON, so no inline scripts are needed.
HINDSIGHT_CONTENT_SECURITY_POLICY = env.str(
    "HINDSIGHT_CONTENT_SECURITY_POLICY",
    default="default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
)
# Failed logins allowed per client address and per user name before a 15-minute lock.
HINDSIGHT_LOGIN_ATTEMPTS = env.int("HINDSIGHT_LOGIN_ATTEMPTS", default=5)
HINDSIGHT_LOGIN_LOCKOUT_SECONDS = env.int("HINDSIGHT_LOGIN_LOCKOUT_SECONDS", default=900)
AUTHENTICATION_BACKENDS = ["config.auth.ThrottledModelBackend"]
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers poll over plain HTTP
ADMINS = [tuple(a.split(":", 1)) for a in env.list("DJANGO_ADMINS", default=[])]  # "Name:email"
SERVER_EMAIL = env.str("DJANGO_SERVER_EMAIL", default="hindsight@localhost")
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "corsheaders",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "simple_history",
    "marketdata",
    "forecasts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # A hit is answered here: the middlewares above still run (HTTPS, static files, CORS); the headers of
    # those below (CSP, X-Frame-Options, Content-Language …) were stored with the page.
    "forecasts.site.pagecache.PageCacheMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    # An API body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413 in the API's error format, before anything reads it.
    "forecasts.api.errors.BodyLimitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# SQLite cannot make NULLs equal in a unique constraint (forecast_unique_claim): there the recording
# service's identity check holds alone; PostgreSQL enforces the constraint too.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    SILENCED_SYSTEM_CHECKS = ["models.W047"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Languages are chosen by URL prefix (/zh-hant/…, /zh-hans/…; English unprefixed), never by cookie or
# Accept-Language, so a public page is the same for every anonymous reader and can be cached whole.
LANGUAGES = [("en", "English"), ("zh-hant", "繁體中文"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "forecasts" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "DJANGO_STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}

# With Redis configured, the cache (API throttle counts, page caches) is shared
# by every process; otherwise it is per process.
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": {
        "BACKEND": "config.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hindsight"}
}

# Whole public pages and anonymous API reads are cached under the data version (forecasts.site.pagecache,
# forecasts.services.dataversion); the version is re-read from the cache at most once per this many seconds.
HINDSIGHT_PAGE_CACHE = env.bool("HINDSIGHT_PAGE_CACHE", default=True)
HINDSIGHT_DATA_VERSION_MEMO = env.float("HINDSIGHT_DATA_VERSION_MEMO", default=1.0)
# A page rendered less than FRESH seconds ago is served to anonymous readers even if the data moved since
# (writes many times a second then cost one render per page per FRESH seconds, not one per write); while a
# changed page is re-rendered, other readers get the previous rendering if it is under STALE seconds old.
HINDSIGHT_PAGE_FRESH_SECONDS = env.float("HINDSIGHT_PAGE_FRESH_SECONDS", default=2.0)
HINDSIGHT_PAGE_STALE_SECONDS = env.float("HINDSIGHT_PAGE_STALE_SECONDS", default=30.0)

REST_FRAMEWORK = {
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "forecasts.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "forecasts.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env.str("HINDSIGHT_API_ANON_RATE", default="120/minute")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Hindsight API",
    "DESCRIPTION": "Analysts' market forecasts and how they turned out, scored by the published rules.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True  # reads are public; writes need a token, not cookies
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After"]

# --- Celery -------------------------------------------------------------------
# With no REDIS_URL the embedded default runs every task in-process (eager), so
# `make run` needs no broker. Production sets REDIS_URL.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None  # results live in our own models
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# Recordings on one instrument within this many seconds share one incremental rescore
# (forecasts.services.queueing); 0 sends each at once.
HINDSIGHT_SCORING_DEBOUNCE_SECONDS = env.float("HINDSIGHT_SCORING_DEBOUNCE_SECONDS", default=1.0)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # every task is idempotent, so redelivery after a crash is safe
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
# socket_timeout: a hung Redis (accepting connections, answering nothing) must not hang a web request that
# queues work; it must stay above kombu's 1 s BRPOP poll (issue 16, tests/test_faults_real.py).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": 3,
    "socket_connect_timeout": 2,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep the JSON logging above in workers
# A web request that queues work must not hang while Redis is down: fail fast, the sweep re-queues.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

# --- Hindsight ----------------------------------------------------------------
# Which provider `refresh_prices` uses: "offline" (bundled CSVs) or "yahoo" (live).
HINDSIGHT_PRICE_PROVIDER = env.str("HINDSIGHT_PRICE_PROVIDER", default="offline")
HINDSIGHT_OFFLINE_DATA_DIR = Path(
    env.str("HINDSIGHT_OFFLINE_DATA_DIR", default=str(BASE_DIR / "marketdata" / "data"))
)
# How far back a refresh reaches when an instrument has no bars yet (enough for
# the 252-return volatility estimate before the earliest baseline).
HINDSIGHT_BACKFILL_DAYS = env.int("HINDSIGHT_BACKFILL_DAYS", default=3 * 366)
# Re-fetch this many days before the newest stored bar, to pick up revisions.
HINDSIGHT_REFRESH_OVERLAP_DAYS = env.int("HINDSIGHT_REFRESH_OVERLAP_DAYS", default=7)

# One JSON object per line (DJANGO_LOG_FORMAT=json, the production default) or plain text.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"task": {"()": "config.logging.TaskContextFilter"}},
    "formatters": {
        "json": {"()": "config.logging.JSONFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(task_name)s %(task_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("DJANGO_LOG_FORMAT", default="plain" if DEBUG else "json"),
            "filters": ["task"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
# SCORING §4: directional calls are also measured against their market's benchmark index.
HINDSIGHT_BENCHMARKS = env.dict(
    "HINDSIGHT_BENCHMARKS", default={"XHKG": "HSI", "XNYS": "GSPC", "CMES": "GSPC", "24/5": "", "24/7": ""}
)
# Strategists need this many scored hits/misses to get a rank (SCORING §4).
HINDSIGHT_LEADERBOARD_MIN_RESOLVED = env.int("HINDSIGHT_LEADERBOARD_MIN_RESOLVED", default=3)
# The Ed25519 key that signs the published ledger head (/ledger/head.json): base64 of a 32-byte seed (or a
# PEM key). Production sets it, the same for web, worker and beat; unset, a key is generated into the file.
HINDSIGHT_LEDGER_SIGNING_KEY = env.str("HINDSIGHT_LEDGER_SIGNING_KEY", default="")
HINDSIGHT_LEDGER_SIGNING_KEY_FILE = Path(
    env.str("HINDSIGHT_LEDGER_SIGNING_KEY_FILE", default="") or BASE_DIR / "var" / "ledger-signing.key"
)
HINDSIGHT_ADMIN_PATH = env.str("HINDSIGHT_ADMIN_PATH", default="admin/")
# /healthz: a market whose last successful refresh is older than this is reported stale.
HINDSIGHT_HEALTH_STALE_HOURS = env.int("HINDSIGHT_HEALTH_STALE_HOURS", default=96)
HINDSIGHT_HEALTH_LOOKBACK_DAYS = env.int("HINDSIGHT_HEALTH_LOOKBACK_DAYS", default=14)

# --- Market data (issue 3) ----------------------------------------------------
# Fallbacks per calendar, tried in order when the primary provider fails:
# "XHKG=akshare,24/7=ccxt" (several per calendar with "|"). Default: those two
# when the primary is Yahoo, none for the offline provider.
HINDSIGHT_FALLBACK_PROVIDERS = {
    code: [p for p in names.split("|") if p]
    for code, names in env.dict(
        "HINDSIGHT_FALLBACK_PROVIDERS",
        default={"XHKG": "akshare", "24/7": "ccxt"} if HINDSIGHT_PRICE_PROVIDER == "yahoo" else {},
    ).items()
}
# Seconds before one provider call is abandoned (and counted as a transient failure).
HINDSIGHT_PROVIDER_TIMEOUT = env.float("HINDSIGHT_PROVIDER_TIMEOUT", default=30.0)
# Attempts per provider call on transient errors (time-outs, 5xx, 429), with this backoff base.
HINDSIGHT_PROVIDER_ATTEMPTS = env.int("HINDSIGHT_PROVIDER_ATTEMPTS", default=3)
HINDSIGHT_PROVIDER_BACKOFF = env.float("HINDSIGHT_PROVIDER_BACKOFF", default=2.0)
# Calls per minute per provider, shared by every process through Redis when REDIS_URL is set.
HINDSIGHT_PROVIDER_RATES = {
    name: int(rate)
    for name, rate in env.dict(
        "HINDSIGHT_PROVIDER_RATES", default={"yahoo": "30", "akshare": "10", "ccxt": "20"}
    ).items()
}
# Circuit breaker: this many failed calls in a row open it for HINDSIGHT_BREAKER_COOLDOWN seconds.
HINDSIGHT_BREAKER_THRESHOLD = env.int("HINDSIGHT_BREAKER_THRESHOLD", default=5)
HINDSIGHT_BREAKER_COOLDOWN = env.int("HINDSIGHT_BREAKER_COOLDOWN", default=900)
# Quality gate: a close further than this many sigmas (of the last LOOKBACK log returns) from the
# previous close is held for review. 0 turns the spike check off.
HINDSIGHT_SPIKE_SIGMAS = env.float("HINDSIGHT_SPIKE_SIGMAS", default=12.0)
HINDSIGHT_SPIKE_LOOKBACK = env.int("HINDSIGHT_SPIKE_LOOKBACK", default=60)
# History loaded before an instrument's earliest forecast baseline (volatility needs 253 closes).
HINDSIGHT_HISTORY_SESSIONS = env.int("HINDSIGHT_HISTORY_SESSIONS", default=300)
