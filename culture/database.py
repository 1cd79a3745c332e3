"""DATABASES["default"] from environment values: the heart of the pooling case study.

`database_config()` is pure (a mapping in, a dict out) so every strategy can be unit-tested
without a database. It refuses nonsense with ImproperlyConfigured at startup, naming the
variable to fix, instead of letting Django fail at the first query or ignore a setting.
The measured reasons behind the choices are in docs/pooling.md.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from culture.env import env_bool, env_seconds, env_str, env_whole

# Django's SQLite backend with its placeholder conversion kept per statement (ops/sqlite).
SQLITE_ENGINE = "ops.sqlite"
# Django's backend with the readers' limits kept on the session and timestamptz read by
# psycopg's C parser (ops/postgresql).
POSTGRES_ENGINE = "ops.postgresql"
# What pg_stat_activity shows for the site's connections (gunicorn adds ":<pid>").
DEFAULT_APPLICATION_NAME = "culture-web"
POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql"})
SQLITE_CONN_MAX_AGE = 600

# Each variable maps to a psycopg_pool.ConnectionPool keyword. Django itself passes `check`
# (from CONN_HEALTH_CHECKS), `kwargs`, `open` and `configure`, so those are never set here.
POOL_VARIABLES = {
    "DB_POOL_MIN_SIZE": "min_size",
    "DB_POOL_MAX_SIZE": "max_size",
    "DB_POOL_TIMEOUT": "timeout",
    "DB_POOL_MAX_IDLE": "max_idle",
    "DB_POOL_MAX_LIFETIME": "max_lifetime",
    "DB_POOL_MAX_WAITING": "max_waiting",
}
# Each variable maps to a PostgreSQL parameter in milliseconds (0: no limit), set for every
# session of the site: see _session_settings().
SESSION_VARIABLES = {
    "DB_STATEMENT_TIMEOUT_MS": "statement_timeout",
    "DB_LOCK_TIMEOUT_MS": "lock_timeout",
}
# The same parameters for reader requests only (safe methods outside the admin), in
# milliseconds (0: no limit): ops.middleware.ReaderTimeoutsMiddleware marks such requests and
# the backend keeps the limits on the session (ops/postgresql/base.py); behind PgBouncer in
# transaction mode it sets them with SET LOCAL in a transaction of the request's own. A
# reader's queries take milliseconds and wait for no lock but a migration's (ALTER TABLE,
# LOCK TABLE): past these it gets a 503 with Retry-After instead of a worker stuck behind
# the lock.
READER_VARIABLES = {
    "DB_READER_STATEMENT_TIMEOUT_MS": ("statement_timeout", 5000),
    "DB_READER_LOCK_TIMEOUT_MS": ("lock_timeout", 1000),
}
# Variables that mean something only to the PostgreSQL backend.
POSTGRES_ONLY_FLAGS = ("DB_POOL", "DB_DISABLE_SERVER_SIDE_CURSORS", "DB_PGBOUNCER")
POSTGRES_ONLY_VALUES = (
    *POOL_VARIABLES,
    *SESSION_VARIABLES,
    *READER_VARIABLES,
    "DB_APPLICATION_NAME",
    "DB_CONNECT_TIMEOUT",
)
SQLITE_ONLY = ("SQLITE_PATH", "SQLITE_BUSY_TIMEOUT")

# What the read replica (articles/replica.py routes to it) may set for itself.
# Anything not given is the primary's: the same pool, timeouts and reader limits.
REPLICA_POOL_VARIABLES = {f"DB_REPLICA_POOL_{name[8:]}": name for name in POOL_VARIABLES}
REPLICA_VARIABLES = (
    *REPLICA_POOL_VARIABLES,
    "DB_REPLICA_CONNECT_TIMEOUT",
    "REPLICA_STICKY_SECONDS",
    "REPLICA_RETRY_SECONDS",
)


def database_config(env: Mapping[str, str], *, base_dir: Path) -> dict:
    """Return Django's DATABASES["default"] for these environment values."""
    url = env_str("DATABASE_URL", env=env)
    if url is None:
        return _sqlite_config(env, None, base_dir)
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme == "sqlite":
        return _sqlite_config(env, url, base_dir)
    if scheme in POSTGRES_SCHEMES:
        return _postgres_config(env, url)
    # The URL itself is never echoed: it usually carries a password.
    raise ImproperlyConfigured(
        f"DATABASE_URL has an unsupported scheme {scheme!r}: use "
        "postgres://user:password@host:5432/name, sqlite:///path/to/db.sqlite3, "
        "or leave DATABASE_URL empty for SQLite in db.sqlite3."
    )


def replica_config(env: Mapping[str, str], primary: dict) -> dict | None:
    """Return DATABASES["replica"] for DATABASE_REPLICA_URL, or None without one (then no
    router is installed and nothing changes).

    The replica is read through the same code as the primary: the same pool strategy and
    reader timeouts, with DB_REPLICA_POOL_* replacing DB_POOL_* one by one. Its own pool is
    per process too, so W workers hold up to W x (DB_POOL_MAX_SIZE + DB_REPLICA_POOL_MAX_SIZE)
    connections in all.
    """
    url = env_str("DATABASE_REPLICA_URL", env=env)
    if url is None:
        _refuse_unused(env, REPLICA_VARIABLES, "DATABASE_REPLICA_URL is not set")
        return None
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if primary["ENGINE"] != POSTGRES_ENGINE or scheme not in POSTGRES_SCHEMES:
        # A SQLite file has no replicas: another file would just be another database.
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL needs PostgreSQL on both sides: DATABASE_URL and "
            "DATABASE_REPLICA_URL must both be postgres:// URLs."
        )
    # The replica's environment: the primary's with the replica's own values in their place.
    own = {key: value for key, value in env.items() if key not in POOL_VARIABLES}
    for name, primary_name in REPLICA_POOL_VARIABLES.items():
        value = env_str(name, env=env) or env_str(primary_name, env=env)
        if value is not None:
            own[primary_name] = value
    # A replica that does not answer must cost a reader one second, not five: reads then go
    # to the primary, and articles/replica.py stops trying for REPLICA_RETRY_SECONDS.
    timeout = env_whole("DB_REPLICA_CONNECT_TIMEOUT", None, minimum=1, env=env)
    if timeout is not None or "connect_timeout" not in urlsplit(url).query:
        own["DB_CONNECT_TIMEOUT"] = str(timeout or 1)
    else:
        own.pop("DB_CONNECT_TIMEOUT", None)  # the replica's URL sets its own
    try:
        config = _postgres_config(own, url)
    except ImproperlyConfigured as error:
        # The same refusals, naming the replica's variables.
        message = str(error).replace("DATABASE_URL", "DATABASE_REPLICA_URL")
        raise ImproperlyConfigured(message.replace("DB_POOL_", "DB_REPLICA_POOL_")) from None
    if config["OPTIONS"].get("pool") and "DB_REPLICA_POOL_TIMEOUT" not in env:
        # Waiting for a pool whose server is down is the connect timeout of the pooled case.
        config["OPTIONS"]["pool"]["timeout"] = float(config["OPTIONS"]["connect_timeout"])
    config.update(
        {
            # Tests read the test database through the replica's alias (no second copy).
            "TEST": {"MIRROR": "default"},
            # Not Django's (see PGBOUNCER above). STICKY_SECONDS: after a reader's own write,
            # their reads go to the primary this long (a signed cookie), so they see it.
            "STICKY_SECONDS": env_seconds("REPLICA_STICKY_SECONDS", 5.0, env=env),
            # RETRY_SECONDS: after the replica failed to connect, reads go to the primary
            # this long before it is tried again.
            "RETRY_SECONDS": env_seconds("REPLICA_RETRY_SECONDS", 5.0, env=env),
        }
    )
    return config


# --- SQLite -----------------------------------------------------------------------------


def _sqlite_config(env: Mapping[str, str], url: str | None, base_dir: Path) -> dict:
    _refuse_postgres_only_variables(env)
    path = env_str("SQLITE_PATH", env=env)
    if url is not None:
        if path is not None:
            raise ImproperlyConfigured(
                "DATABASE_URL and SQLITE_PATH both name a SQLite file: set only one of them."
            )
        path = _sqlite_url_path(url)
    name = base_dir / (Path(path) if path is not None else Path("db.sqlite3"))
    return {
        "ENGINE": SQLITE_ENGINE,
        "NAME": name,  # an absolute path replaces base_dir
        # Tests use a file too, not Django's shared-cache in-memory database: its table locks
        # ignore the busy timeout, so concurrent writers in tests would fail where the real
        # site waits.
        "TEST": {"NAME": str(name.with_name(f"test_{name.name}"))},
        # A SQLite "connection" is an open file: keeping it holds nothing on a server, and
        # spares every request the open and the PRAGMAs below.
        "CONN_MAX_AGE": _conn_max_age(env, default=SQLITE_CONN_MAX_AGE),
        # SQLite's is_usable() is always True, so a health check would only cost a call.
        "CONN_HEALTH_CHECKS": env_bool("CONN_HEALTH_CHECKS", False, env=env),
        "OPTIONS": {
            # A DEFERRED transaction that later writes fails at once with "database is
            # locked" (the busy timeout cannot help it); IMMEDIATE takes the write lock up
            # front, so concurrent writers wait for the timeout instead.
            "transaction_mode": "IMMEDIATE",
            "timeout": env_seconds("SQLITE_BUSY_TIMEOUT", 20.0, env=env),
            # WAL lets readers run during a write. journal_mode sticks to the file, but
            # synchronous is per connection, so both run on every new connection
            # (Django 5.1+ splits init_command on ";").
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def _sqlite_url_path(url: str) -> str:
    parts = urlsplit(url)
    path = unquote(parts.path)[1:]  # sqlite:///rel.db -> rel.db, sqlite:////abs.db -> /abs.db
    if parts.netloc or not path:
        # Also refuses sqlite://:memory:, which is private to each connection.
        raise ImproperlyConfigured(
            "DATABASE_URL for SQLite must be sqlite:///relative/path or sqlite:////absolute/path."
        )
    if parts.query:
        raise ImproperlyConfigured(
            "DATABASE_URL for SQLite takes no query options: use SQLITE_BUSY_TIMEOUT for the "
            "busy timeout."
        )
    return path


def _refuse_postgres_only_variables(env: Mapping[str, str]) -> None:
    if env_bool("DB_POOL", False, env=env):
        raise ImproperlyConfigured(
            "DB_POOL=true needs PostgreSQL: Django's connection pool is psycopg's and SQLite "
            "has none. Set DATABASE_URL to a postgres:// URL or unset DB_POOL."
        )
    # A flag that is off asks for nothing, so it is harmless; a value would silently vanish.
    offending = [name for name in POSTGRES_ONLY_FLAGS if env_bool(name, False, env=env)]
    offending += [name for name in POSTGRES_ONLY_VALUES if env_str(name, env=env) is not None]
    if offending:
        raise ImproperlyConfigured(
            "PostgreSQL-only variables are set but DATABASE_URL selects SQLite: "
            f"{', '.join(offending)}. Unset them or set DATABASE_URL to a postgres:// URL."
        )


# --- PostgreSQL -------------------------------------------------------------------------


def _postgres_config(env: Mapping[str, str], url: str) -> dict:
    for name in SQLITE_ONLY:
        if env_str(name, env=env) is not None:
            raise ImproperlyConfigured(
                f"{name} only applies to SQLite but DATABASE_URL selects PostgreSQL: unset {name}."
            )
    try:
        parsed = dj_database_url.parse(url)
    except ValueError:
        raise ImproperlyConfigured(
            "DATABASE_URL is not a valid URL: check the port and percent-encode special "
            "characters in the user and password (urllib.parse.quote)."
        ) from None
    options = _url_options(parsed.get("OPTIONS", {}))
    if not parsed["NAME"]:
        raise ImproperlyConfigured(
            "DATABASE_URL names no database: use postgres://user:password@host:5432/name."
        )
    if not parsed["HOST"] and "host" not in options:
        # Otherwise libpq silently falls back to a local socket or PGHOST.
        raise ImproperlyConfigured(
            "DATABASE_URL names no host: use postgres://user:password@host:5432/name."
        )

    options["application_name"] = _url_or_env(
        options,
        "application_name",
        "DB_APPLICATION_NAME",
        env_str("DB_APPLICATION_NAME", env=env),
        default=DEFAULT_APPLICATION_NAME,
    )
    # libpq otherwise waits for the OS TCP timeout (minutes) on an unreachable server.
    options["connect_timeout"] = _url_or_env(
        options,
        "connect_timeout",
        "DB_CONNECT_TIMEOUT",
        env_whole("DB_CONNECT_TIMEOUT", None, minimum=1, env=env),
        default=5,
    )
    # DATABASE_URL is PgBouncer in transaction mode: no startup options, no server-side
    # cursors, no session state kept between transactions (so migrate runs directly).
    pgbouncer = env_bool("DB_PGBOUNCER", False, env=env)
    if pgbouncer and options.get("server_side_binding"):
        # Django binds parameters on the client by default and psycopg then prepares nothing.
        # Server-side binding lets psycopg prepare a statement after a few runs, on one server
        # connection; the next transaction may get another: "prepared statement does not
        # exist" (PgBouncer < 1.21, or max_prepared_statements unset). The site needs none.
        raise ImproperlyConfigured(
            "DATABASE_URL sets server_side_binding with DB_PGBOUNCER=true: prepared statements "
            "break in PgBouncer's transaction mode unless PgBouncer >= 1.21 has "
            "max_prepared_statements set. Remove server_side_binding from DATABASE_URL."
        )
    session_settings = _session_settings(env, options, pgbouncer=pgbouncer)

    conn_max_age = _conn_max_age(env)
    pool = _pool_options(env, conn_max_age)
    if pool is not None:
        options["pool"] = pool

    return {
        "ENGINE": POSTGRES_ENGINE,
        "NAME": parsed["NAME"],
        "USER": parsed["USER"],
        "PASSWORD": parsed["PASSWORD"],
        "HOST": parsed["HOST"],
        "PORT": parsed["PORT"],
        "CONN_MAX_AGE": conn_max_age,
        # After a database restart, every stale connection fails one request without this.
        # With the pool it becomes psycopg_pool's check on checkout; with persistent
        # connections it costs a SELECT 1 per request.
        "CONN_HEALTH_CHECKS": env_bool("CONN_HEALTH_CHECKS", True, env=env),
        # PgBouncer in transaction mode hands each transaction any server connection, so a
        # named cursor declared in one transaction is gone in the next: .iterator() breaks.
        "DISABLE_SERVER_SIDE_CURSORS": _disable_server_side_cursors(env, pgbouncer=pgbouncer),
        "OPTIONS": options,
        # Not Django's: Django keeps keys it does not know in connection.settings_dict, where
        # ops reads them. PGBOUNCER: DATABASE_URL reaches the server through PgBouncer in
        # transaction mode (ops' migrate refuses to run there). SESSION_SETTINGS: what
        # DB_*_TIMEOUT_MS ask for, None when unset (`manage.py apply_database_settings`
        # stores them on the role).
        "PGBOUNCER": pgbouncer,
        "SESSION_SETTINGS": session_settings,
        # READER_SETTINGS: what DB_READER_*_TIMEOUT_MS ask for reader requests.
        "READER_SETTINGS": {
            parameter: env_whole(name, default, minimum=0, env=env)
            for name, (parameter, default) in READER_VARIABLES.items()
        },
    }


def _session_settings(env: Mapping[str, str], options: dict, *, pgbouncer: bool) -> dict:
    """{parameter: milliseconds or None} from DB_*_TIMEOUT_MS; sent when connecting unless
    the site goes through PgBouncer.

    A direct connection gets them as startup parameters (libpq `options`), so every session
    has them from its first statement, pooled or not. PgBouncer refuses `options` ("unsupported
    startup parameter") and, in transaction mode, a `SET` would stay on whichever server
    connection ran it, so behind PgBouncer they live on the role instead: `manage.py
    apply_database_settings` runs ALTER ROLE ... IN DATABASE ... SET, which every new server
    session picks up. These bound every session (editors, commands); readers have tighter
    limits of their own, set per transaction (READER_VARIABLES).
    """
    wanted = {
        parameter: env_whole(name, None, minimum=0, env=env)
        for name, parameter in SESSION_VARIABLES.items()
    }
    given = [name for name, parameter in SESSION_VARIABLES.items() if wanted[parameter] is not None]
    existing = str(options.get("options", ""))
    if pgbouncer:
        if existing:
            # currentSchema= in the URL becomes options too (dj-database-url).
            raise ImproperlyConfigured(
                "DATABASE_URL sets libpq options, which PgBouncer refuses (DB_PGBOUNCER=true): "
                "remove options (and currentSchema) from DATABASE_URL; store such settings on "
                "the role with ALTER ROLE ... SET."
            )
        return wanted
    if (
        given
        and env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False, env=env)
        and (env_str("DB_PGBOUNCER", env=env) is None)
    ):
        # The old recipe for PgBouncer: the timeouts would break every connection there.
        raise ImproperlyConfigured(
            f"{', '.join(given)} with DB_DISABLE_SERVER_SIDE_CURSORS=true: if DATABASE_URL "
            "goes through PgBouncer, set DB_PGBOUNCER=true and store the timeouts on the role "
            "with `manage.py apply_database_settings` (PgBouncer refuses them as startup "
            "parameters); if it does not, set DB_PGBOUNCER=false."
        )
    for name in given:
        parameter = SESSION_VARIABLES[name]
        if re.search(rf"(?:^|[\s-]|-c){parameter}\s*=", existing):
            raise ImproperlyConfigured(
                f"DATABASE_URL's options already set {parameter}: remove it there or unset {name}."
            )
        existing = f"{existing} -c {parameter}={wanted[parameter]}".strip()
    if existing:
        options["options"] = existing
    return wanted


def _disable_server_side_cursors(env: Mapping[str, str], *, pgbouncer: bool) -> bool:
    disable = env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", pgbouncer, env=env)
    if pgbouncer and not disable:
        raise ImproperlyConfigured(
            "DB_PGBOUNCER=true with DB_DISABLE_SERVER_SIDE_CURSORS=false: in transaction mode a "
            "server-side cursor is gone after its transaction (.iterator() breaks). Unset "
            "DB_DISABLE_SERVER_SIDE_CURSORS."
        )
    return disable


def _url_options(options: dict) -> dict:
    for key, value in options.items():
        if isinstance(value, list):
            raise ImproperlyConfigured(f"DATABASE_URL repeats the query option {key!r}: keep one.")
    if "pool" in options or set(options) & set(POOL_VARIABLES.values()):
        # dj-database-url would pass these to libpq (which rejects them) or, for ?pool=true,
        # turn on Django's 4-connection, 30-second-timeout default pool behind our back.
        raise ImproperlyConfigured(
            "DATABASE_URL carries pool options in its query string: configure the pool "
            "with DB_POOL and DB_POOL_* instead."
        )
    return dict(options)


def _url_or_env(options: dict, key: str, name: str, env_value: object, *, default: object):
    if env_value is None:
        return options.get(key, default)
    if key in options:
        raise ImproperlyConfigured(
            f"{key} is set both in DATABASE_URL and by {name}: keep only one of them."
        )
    return env_value


def _pool_options(env: Mapping[str, str], conn_max_age: int | None) -> dict | None:
    if not env_bool("DB_POOL", False, env=env):
        _refuse_unused(env, POOL_VARIABLES, "DB_POOL is off", fix="Set DB_POOL=true")
        return None
    if conn_max_age != 0:
        # The pool already keeps connections open; a persistent connection would be held by
        # its thread and never returned. Django raises this only at the first query.
        raise ImproperlyConfigured(
            "Pooling doesn't support persistent connections: with DB_POOL=true, set "
            "CONN_MAX_AGE=0 or unset CONN_MAX_AGE."
        )
    # Django keeps one pool per alias in a class attribute, so it lives per process: W
    # gunicorn workers hold up to W x max_size server connections (plus commands and cron).
    # With --threads T, max_size = T lets every thread get a connection without waiting, and
    # min_size = max_size (the default) keeps them all open, so no request waits for a
    # connect either. 4 matches gunicorn.conf.py's default of 4 threads.
    min_given = env_whole("DB_POOL_MIN_SIZE", None, minimum=0, env=env)
    max_size = env_whole("DB_POOL_MAX_SIZE", max(4, min_given or 0), minimum=1, env=env)
    min_size = max_size if min_given is None else min_given
    if max_size < min_size:
        raise ImproperlyConfigured(
            f"DB_POOL_MAX_SIZE ({max_size}) is below DB_POOL_MIN_SIZE ({min_size}): raise "
            "DB_POOL_MAX_SIZE or lower DB_POOL_MIN_SIZE."
        )
    return {
        "min_size": min_size,
        "max_size": max_size,
        # A request waiting for a connection fails after this (the site answers 503). Keep it
        # well below gunicorn's 30 s worker timeout: with gthread workers it is the only
        # bound on a stuck request, and a fast 503 beats a killed worker.
        "timeout": env_seconds("DB_POOL_TIMEOUT", 5.0, env=env),
        # Connections above min_size close after this long unused.
        "max_idle": env_seconds("DB_POOL_MAX_IDLE", 600.0, env=env),
        # Recycled so server-side memory and failovers do not pin old connections forever.
        "max_lifetime": env_seconds("DB_POOL_MAX_LIFETIME", 3600.0, env=env),
        # Requests that may queue for a connection; the next one fails at once (a 503).
        # 0 = unbounded. See default_max_waiting().
        "max_waiting": env_whole("DB_POOL_MAX_WAITING", default_max_waiting(max_size), env=env),
    }


def default_max_waiting(max_size: int) -> int:
    """Half the pool, at least 1: 2 for the recommended pool of 4 (DB_POOL_MAX_SIZE = the
    gunicorn threads of a worker).

    With a pool sized to the threads no request waits for a connection in normal operation,
    so the queue only fills when connections are held elsewhere (a leak, a stuck query). An
    unbounded queue then lets every thread of a worker wait out DB_POOL_TIMEOUT, and the
    requests gunicorn queues behind them wait about twice that before their 503 (measured in
    docs/pooling.md, "A leak exhausts the pool"). With half the threads allowed to wait, the
    other half answer 503 at once, /healthz keeps answering, and no 503 comes later than the
    timeout. While the pool refills after a database restart, ops.pool lifts the bound.
    """
    return max(1, max_size // 2)


def _refuse_unused(env: Mapping[str, str], names, why: str, *, fix: str | None = None) -> None:
    """Refuse the variables of `names` that are set although, for `why`, they do nothing."""
    stray = [name for name in names if env_str(name, env=env) is not None]
    if stray:
        setting = why.split()[0]
        raise ImproperlyConfigured(
            f"{why}, so these would do nothing: {', '.join(stray)}. "
            f"{fix or f'Set {setting}'} or unset them."
        )


# --- Values -----------------------------------------------------------------------------


def _conn_max_age(env: Mapping[str, str], default: int = 0) -> int | None:
    raw = env_str("CONN_MAX_AGE", env=env)
    if raw is not None and raw.lower() in {"none", "unlimited"}:
        return None  # keep each thread's connection for its whole life
    return env_whole("CONN_MAX_AGE", default, env=env)
