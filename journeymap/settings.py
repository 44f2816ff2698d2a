"""journeymap settings: one module, configured from the environment.

Every variable is read here and nowhere else. A value that cannot be used stops the
process at start-up with a message naming the variable, rather than failing later.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


DEBUG = _env_bool("DEBUG", False)

# The development key is published in this repository: only a DEBUG run may use it.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set it to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or DEBUG=true for development"
        )
    SECRET_KEY = "django-insecure-journeymap-development-key"

ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    # Failed sign-ins counted per account and per address; too many lock both for a while.
    "axes",
    "csp",
    "maps",
]

MIDDLEWARE = [
    # First: every log line of the request, the 500 page and the audit log know its id and
    # the client's address.
    "maps.request_context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content Security Policy (CONTENT_SECURITY_POLICY below) on every answer: above
    # whitenoise, so that static files and downloads carry it too.
    "csp.middleware.CSPMiddleware",
    # Pages, fragments and diagrams compressed (a board of 500 touchpoints is 1 MB of
    # HTML); first, so that it sees every answer as it leaves. Static files come
    # compressed from whitenoise already.
    "django.middleware.gzip.GZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (Accept-Language, or the language cookie) ...
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # ... unless the signed-in person chose one in the header's switch; before CSRF, so
    # that its refusal speaks the person's language too.
    "maps.middleware.UserLanguageMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns a refused sign-in of a locked account or address into the sign-in page saying
    # so (maps.accounts.locked_out); axes wants to see the view's answer last.
    "axes.middleware.AxesMiddleware",
    # A database that cannot be reached: a 503 that says nothing was changed (a page, or
    # for htmx the toast), in the person's language; so after LocaleMiddleware and htmx's.
    # Only process_exception: its place among the answers' hooks does not matter.
    "maps.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "journeymap.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "journeymap.wsgi.application"

# SQLite in the repository by default; PostgreSQL (psycopg 3) through DATABASE_URL.
_database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    # Connections kept for a minute, and checked before reuse: the first request after a
    # database restart gets a new connection instead of an error (`make faults` measures
    # it: 0 of 16 first requests fail after a restart; 1 per worker without the check).
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
except Exception as exc:  # dj_database_url raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL cannot be used: {exc}") from None
if DATABASES["default"]["ENGINE"] not in (
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
):
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:// or postgres:// URL")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has one writer at a time. A transaction that starts by reading and then
    # writes (every change: the map row is locked first) would otherwise fail at once
    # with "database is locked" when another writer got in between, whatever the
    # timeout; begun IMMEDIATE, it waits its turn (up to `timeout` seconds) instead.
    # WAL lets pages be read while a change is written.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL",  # i18n: not for people
        **DATABASES["default"].get("OPTIONS", {}),
    }

# Rendered diagrams are cached by a hash of their DOT source: local memory by default,
# Redis (shared by every app server) when REDIS_URL is set.
_redis_url = os.environ.get("REDIS_URL", "")
if _redis_url:
    if not _redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL must start with redis://, not {_redis_url!r}")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _redis_url,
            "KEY_PREFIX": "journeymap",
            "TIMEOUT": 60 * 60 * 24,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "journeymap",
            "TIMEOUT": 60 * 60 * 24,
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Axes first: it refuses a locked account or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The interface speaks English and Japanese (locale/ja); a person's choice, else their
# browser's, picks one per request. Maps carry a language of their own (JourneyMap.language).
LANGUAGE_CODE = "en"
# Each language is named in itself, so a person finds theirs whatever is active.
LANGUAGES = [("en", "English"), ("ja", "日本語")]  # i18n: not for people
LOCALE_PATHS = [BASE_DIR / "locale"]
# The sign-in page remembers a choice made there for a year (signed-in people keep theirs).
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Graphviz: the `dot` binary and the longest a layout may take before the request
# gets a clear "too complex" message instead of a hung worker.
GRAPHVIZ_DOT = os.environ.get("GRAPHVIZ_DOT", "dot")
GRAPHVIZ_TIMEOUT = _env_int("GRAPHVIZ_TIMEOUT", 20)
if GRAPHVIZ_TIMEOUT <= 0:
    raise ImproperlyConfigured(f"GRAPHVIZ_TIMEOUT must be a number of seconds above 0, not {GRAPHVIZ_TIMEOUT}")

# The PDF handout's fonts (maps.handout): Noto Sans CJK draws Latin and Japanese alike.
# Debian's fonts-noto-cjk puts them here; the diagram asks fontconfig for the same family.
_NOTO = "/usr/share/fonts/opentype/noto/NotoSansCJK-%s.ttc"  # i18n: not for people
DECK_FONT_REGULAR = os.environ.get("DECK_FONT_REGULAR", _NOTO % "Regular")  # i18n: not for people
DECK_FONT_BOLD = os.environ.get("DECK_FONT_BOLD", _NOTO % "Bold")  # i18n: not for people
# The marks Noto Sans CJK lacks (✖ ✓ ℹ): taken from DejaVu Sans when it is there.
DECK_FONT_SYMBOLS = os.environ.get(
    "DECK_FONT_SYMBOLS",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # i18n: not for people
)

# Behind HTTPS set SECURE_COOKIES=true so session and CSRF cookies never travel in clear.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env_bool("SECURE_COOKIES", False)

# --- HTTPS behind a proxy -----------------------------------------------------------------
# The proxy that ends TLS tells the app so in a header (SECURE_PROXY_SSL_HEADER, e.g.
# X-Forwarded-Proto): only then does a redirect to HTTPS not loop. Set it only when the
# proxy always sets or overwrites that header, or a client could claim HTTPS itself.
_proxy_ssl_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    if not all(c.isalnum() or c == "-" for c in _proxy_ssl_header):
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER must be a header name such as X-Forwarded-Proto, not {_proxy_ssl_header!r}"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", False)
# Load balancers probe over plain HTTP and do not follow redirects.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 0)
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured(f"SECURE_HSTS_SECONDS must be 0 (off) or more, not {SECURE_HSTS_SECONDS}")
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", False)

# How many proxies in front of the app append to X-Forwarded-For. 0: the address the
# connection came from is the client's. N: the address the outermost of N proxies saw
# (the N-th from the right); anything further left was written by the client and can lie.
TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT must be 0 or more, not {TRUSTED_PROXY_COUNT}")

# --- sessions and sign-in -----------------------------------------------------------------
# A sign-in lasts SESSION_DAYS, then the person signs in again ("sign out everywhere" on the
# account page ends every session sooner).
SESSION_DAYS = _env_int("SESSION_DAYS", 14)
if SESSION_DAYS <= 0:
    raise ImproperlyConfigured(f"SESSION_DAYS must be a number of days above 0, not {SESSION_DAYS}")
SESSION_COOKIE_AGE = SESSION_DAYS * 24 * 60 * 60

# django-axes: SIGN_IN_FAILURE_LIMIT wrong passwords in a row for one account, or from one
# address, lock that account or address for SIGN_IN_LOCKOUT_MINUTES; the right password
# is refused too until then. Failures are kept in the database (shared by every worker).
AXES_FAILURE_LIMIT = _env_int("SIGN_IN_FAILURE_LIMIT", 5)
if AXES_FAILURE_LIMIT <= 0:
    raise ImproperlyConfigured(f"SIGN_IN_FAILURE_LIMIT must be a number above 0, not {AXES_FAILURE_LIMIT}")
_lockout_minutes = _env_int("SIGN_IN_LOCKOUT_MINUTES", 15)
if _lockout_minutes <= 0:
    raise ImproperlyConfigured(f"SIGN_IN_LOCKOUT_MINUTES must be a number above 0, not {_lockout_minutes}")
AXES_COOLOFF_TIME = datetime.timedelta(minutes=_lockout_minutes)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: the account, or the address
# The lock lasts its time from the failure that set it: tries meanwhile do not extend it,
# so the page can say when it ends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "maps.request_context.client_address"
AXES_USERNAME_CALLABLE = "maps.accounts.typed_username"
AXES_LOCKOUT_CALLABLE = "maps.accounts.locked_out"
# Successful sign-ins are in the audit log (maps/audit.py): no second table of them.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# --- errors are seen ----------------------------------------------------------------------
# Every warning and error, above all each 500 with its traceback, goes to standard error
# (gunicorn's log) with the request's id, which the 500 page shows the person too.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR"):
    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "maps.request_context.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [request %(request_id)s] %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "filters": ["request_id"],
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers print only with DEBUG on and mail nobody: replaced by stderr.
        "django": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
        # runserver's access log has its own handler; not twice.
        "django.server": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
    },
}

# The largest journeymap/1 document or CSV file an import reads, counted before parsing.
IMPORT_MAX_BYTES = _env_int("IMPORT_MAX_BYTES", 10 * 1024 * 1024)
if IMPORT_MAX_BYTES <= 0:
    raise ImproperlyConfigured(f"IMPORT_MAX_BYTES must be a number of bytes above 0, not {IMPORT_MAX_BYTES}")

# Content Security Policy (django-csp): the browser runs only our own files. No inline
# script, style element or attribute, no eval: what would need one lives in static/js
# (app.js turns data-css-vars into CSS custom properties), so that text which slipped
# into a page unescaped still could not run. Pages are never framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
