"""Settings for the story hub, read from the environment.

Environments differ by values, never by files: every variable is listed with a one-line
explanation in .env.example. Defaults are safe for a developer's machine (SQLite, DEBUG off
unless asked for) and `manage.py check --deploy` refuses the development secret key.
"""

import os
from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from articles.replica import REPLICA_ALIAS
from culture.database import database_config, replica_config
from culture.env import (
    env_bool,
    env_http_urls,
    env_list,
    env_rate,
    env_seconds,
    env_str,
    env_whole,
    proxy_trust,
)
from culture.env import media_storage as storage_from_env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

# The fallback starts with "django-insecure-" so that `check --deploy` refuses it.
SECRET_KEY = env_str("SECRET_KEY", "django-insecure-local-development-key-not-for-production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The public origin used in feeds, the sitemap, the API's absolute URLs and link previews when
# a request is not at hand (management commands).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env_str("SITE_NAME", "컬처 스토리")
# The Korean font share cards are drawn in (articles/sharecards.py): Debian's fonts-noto-cjk.
SHARE_CARD_FONT = env_str("SHARE_CARD_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "ninja",
    "articles",
    "reader",  # its commands: draw_cards
    "ops",
    "tokens",
    "editorial",
    "editorial.apps.LoginLockoutConfig",  # django-axes, under a Korean name
    "csp",
]

MIDDLEWARE = [
    # Forgets X-Forwarded-Proto and its kin unless a trusted proxy sent them (ops/http.py).
    "ops.http.ForwardedSchemeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The view beacon's POSTs go straight to their view (reader/beacon.py): nothing below
    # has work for them, and each beacon paid for all of it.
    "reader.beacon.BeaconShortcut",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # JSON for every answer under /api/ (errors included), request ids and the body size cap.
    "api.errors.ApiErrorMiddleware",
    # private, no-store for signed-in users; private for any answer that sets a cookie.
    "ops.http.PrivateAnswersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's messages, their storage made when first used (ops/http.py).
    "ops.http.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, its policy built once (ops/http.py).
    "ops.http.ContentSecurityPolicyMiddleware",
    "ops.http.PermissionsPolicyMiddleware",
    # Answers a locked-out login attempt (AXES_* below) with 429.
    "axes.middleware.AxesMiddleware",
    # A reader's request in one transaction with its lock and statement timeouts. Inside the
    # session middleware, so saving a session is not part of it.
    "ops.middleware.ReaderTimeoutsMiddleware",
    # Anonymous readers' GETs read the content from the replica (when there is one); after a
    # write, a signed cookie keeps that reader on the primary for REPLICA_STICKY_SECONDS.
    # After the auth middleware (staff read the primary). Not used without a replica.
    "ops.replica.ReplicaMiddleware",
    # Last, so its process_exception sees a view's "no database connection" first: 503.
    "ops.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "culture.urls"
WSGI_APPLICATION = "culture.wsgi.application"

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
                "reader.context_processors.site",
            ],
            # {% story_card %}: a card's HTML kept per content version (reader/cards.py);
            # {% link %}: the header's and footer's links, reversed once (reader/links.py).
            "libraries": {
                "cards": "reader.cards",
                "links": "reader.links",
                "markup": "reader.markup",
            },
        },
    },
]

DATABASES = {"default": database_config(os.environ, base_dir=BASE_DIR)}
# A read replica (DATABASE_REPLICA_URL): anonymous readers' content reads go there
# (articles/replica.py, ops/replica.py). Without one there is no router and nothing changes.
if (replica := replica_config(os.environ, DATABASES["default"])) is not None:
    DATABASES[REPLICA_ALIAS] = replica
    DATABASE_ROUTERS = ["articles.replica.ReplicaRouter"]
# Seconds `manage.py migrate` waits for another migrate of the same database (another host of a
# rolling deploy) before it gives up (ops/migration_lock.py).
MIGRATE_LOCK_TIMEOUT = env_seconds("MIGRATE_LOCK_TIMEOUT", 300.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out user+address before a password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The UI speaks Korean; times are stored in UTC and shown in Seoul time.
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", "한국어")]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Seoul")
USE_I18N = True
# Korean for what the installed apps leave in English (django-axes ships no Korean).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads (covers, logos, photos): MEDIA_STORAGE=filesystem keeps them in MEDIA_ROOT, a folder
# every host must share; s3 in a bucket (culture.env.media_storage reads the S3_* variables).
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
# With the file system the site answers /media/ itself (ops/media.py: generated names only);
# set MEDIA_SERVE=false when the front proxy serves the folder (deploy/nginx.conf).
MEDIA_SERVE = env_bool("MEDIA_SERVE", True)
# Uploads never change under a name (names are generated and unique): kept a year.
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"

STORAGES = {
    "default": storage_from_env(MEDIA_CACHE_CONTROL),
    # Hashed, compressed files in production; plain files while developing and testing, so
    # that a missing `collectstatic` never breaks a test run.
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG and env_str("SECRET_KEY") is not None)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security: strict by default behind HTTPS; a developer turns HTTPS off with SECURE_SSL=false.
SECURE_SSL = env_bool("SECURE_SSL", not DEBUG and env_str("SECRET_KEY") is not None)
SECURE_SSL_REDIRECT = SECURE_SSL
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_HSTS_SECONDS = env_whole("SECURE_HSTS_SECONDS", 31536000 if SECURE_SSL else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
# The proxies in front of the site (culture.env.proxy_trust): how many append to
# X-Forwarded-For, a header the edge sets to the client's address, and which peers may send
# these at all. ops.http.client_ip reads them for the API's rate limits, login lockouts and
# gunicorn's access log; with no trusted proxy no forwarding header is believed, the scheme
# included. gunicorn.conf.py trusts the same peers for X-Forwarded-Proto, and so does Django:
# ops.http.ForwardedSchemeMiddleware drops it from any other peer.
TRUSTED_PROXY_COUNT, CLIENT_IP_HEADER, FORWARDED_ALLOW_IPS = proxy_trust()
# The proxy nearest the site must set X-Forwarded-Proto itself, never pass on the client's:
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
# Probes from a load balancer or orchestrator speak plain HTTP to the worker.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp 4): scripts, styles, images and fonts only from this
# origin, no inline script or style anywhere (the site, the admin and the API docs, whose
# Swagger UI ninja serves from its own static files). <script type="application/ld+json"> is
# data, not script, so the story pages' JSON-LD needs no exception.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Story bodies may show pictures hosted elsewhere (Markdown images, https only).
        "img-src": [SELF, "data:", "https:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        **({"upgrade-insecure-requests": True} if SECURE_SSL else {}),
    }
}
# Browser features no page uses, switched off (ops/http.py).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}

# Login brute force (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user from
# one address, that pair is locked out for AXES_COOLOFF_MINUTES; a good login resets the count.
AXES_FAILURE_LIMIT = env_whole("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_whole("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "ops.http.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_COOLOFF_MESSAGE = "로그인에 여러 번 실패해서 잠시 막았습니다. 잠시 뒤에 다시 시도하세요."
AXES_PERMALOCK_MESSAGE = "로그인에 여러 번 실패해서 막았습니다. 관리자에게 문의하세요."

# Uploads and bodies: refuse absurd requests before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_whole("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Where rendered answers are kept: "local" (each process's memory) or "redis" (Redis too,
# shared by every host; needs REDIS_URL).
PAGE_CACHE = env_str("PAGE_CACHE", "local")
if PAGE_CACHE not in {"local", "redis"}:
    raise ImproperlyConfigured(f"PAGE_CACHE must be local or redis, got {PAGE_CACHE!r}.")
if PAGE_CACHE == "redis" and not env_str("REDIS_URL"):
    raise ImproperlyConfigured("PAGE_CACHE=redis needs REDIS_URL.")

# How long caches in front of the site (not browsers) may keep an anonymous reader's page, and
# serve it stale while they fetch a new one (reader/shared_cache.py); a write bans it sooner.
EDGE_MAX_AGE = env_whole("EDGE_MAX_AGE", 60)
EDGE_STALE_SECONDS = env_whole("EDGE_STALE_SECONDS", 30)
# Story views a client may report per window through the page's beacon (reader/beacon.py).
VIEW_BEACON_RATE = env_rate("VIEW_BEACON_RATE", "120/min")

# The HTTP caches in front of the site (a CDN; Varnish in the cluster run) that are told to
# drop pages of older content versions after each write (articles/edge.py), and how long after
# that the ban is repeated, for pages whose render began before the write committed.
EDGE_BAN_URLS = env_http_urls("EDGE_BAN_URLS")
EDGE_REBAN_SECONDS = env_seconds("EDGE_REBAN_SECONDS", 6.0)

# One cache shared by every worker. Redis when REDIS_URL is set; otherwise a table in the
# database (created by a migration of tokens/). The API's rate limits count in Redis too,
# with INCR; without it, in a table of their own (tokens.ThrottleCounter, api/throttling.py).
CACHES = {
    "default": (
        {
            "BACKEND": "ops.redis_cache.KeptClientRedisCache",
            "LOCATION": env_str("REDIS_URL"),
        }
        if env_str("REDIS_URL")
        else {
            # Django's database cache with a lean read of one key (ops/database_cache.py).
            "BACKEND": "ops.database_cache.LeanDatabaseCache",
            "LOCATION": "culture_cache",
            # Culled past this many entries (Django's default, 300, is small for a shared
            # cache; the rate limits no longer count here).
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    ),
    # Answers rendered for anonymous readers (pages, story pages, API reads), kept in each
    # process's memory and filed under the shared content version (articles/answers.py), so no
    # worker serves a stale one.
    # Bounded by entries and by bytes (ops/memory_cache.py): long pages fill memory sooner.
    "answers": {
        "BACKEND": "ops.memory_cache.BytesBoundedLocMemCache",
        "LOCATION": "answers",
        "OPTIONS": {
            "MAX_ENTRIES": env_whole("PAGE_CACHE_ENTRIES", 2000, minimum=1),
            "MAX_BYTES": env_whole("PAGE_CACHE_MB", 32, minimum=1) * 1024 * 1024,
        },
    },
    # With PAGE_CACHE=redis they are kept in Redis too, shared by every host and worker.
    **(
        {
            "shared_answers": {
                "BACKEND": "ops.redis_cache.KeptClientRedisCache",
                "LOCATION": env_str("REDIS_URL"),
                "KEY_PREFIX": "answers",
            }
        }
        if PAGE_CACHE == "redis"
        else {}
    ),
}

# 조회수 buffered in Redis (articles/viewbuffer.py): a view is an INCR there, and `manage.py
# flush_views` (one per deployment) adds the views to the database at least every
# VIEW_FLUSH_SECONDS. On by default with REDIS_URL; without Redis each view is written at once.
VIEW_BUFFER = env_bool("VIEW_BUFFER", bool(env_str("REDIS_URL")))
if VIEW_BUFFER and not env_str("REDIS_URL"):
    raise ImproperlyConfigured("VIEW_BUFFER=true needs REDIS_URL.")
VIEW_FLUSH_SECONDS = env_seconds("VIEW_FLUSH_SECONDS", 5.0)

# The API (culture/api.py): request rates per client for anonymous reads and per token for
# writes ("number/s|min|hour|day", parsed here into (count, seconds) so a bad one stops the
# start, not a request), and the largest request body it reads. The story form's live
# Markdown preview (editorial/admin/preview.py) is counted the same way, per editor.
API_THROTTLE_RATES = {
    "read": env_rate("API_THROTTLE_READ", "300/min"),
    "write": env_rate("API_THROTTLE_WRITE", "60/min"),
    "preview": env_rate("EDITOR_PREVIEW_RATE", "120/min"),
}
API_MAX_BODY_BYTES = env_whole("API_MAX_BODY_BYTES", 1024 * 1024, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Lockouts are warnings; every failed attempt and the start-up banner are not news.
        "axes": {"level": "WARNING"},
    },
}

# The longest Markdown body an editor may save (characters). Past this the form says so.
ARTICLE_BODY_MAX_CHARS = env_whole("ARTICLE_BODY_MAX_CHARS", 200_000, minimum=1)
# Bytes of encoded picture renditions a process may keep, by the original's digest, so that
# the same picture made again (rebuild_renditions, a re-seed) is not encoded again; 0: none.
RENDITION_MEMO_BYTES = env_whole("RENDITION_MEMO_BYTES", 0, minimum=0)
