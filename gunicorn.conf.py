"""gunicorn settings for the story hub, from the environment (see .env.example).

    gunicorn -c gunicorn.conf.py

Django keeps one connection pool per process, so each worker has its own: W workers hold up to
W x DB_POOL_MAX_SIZE server connections. This file keeps that arithmetic honest:

- at start it refuses a pool smaller than the threads of a worker, and a pool timeout that is
  not below the worker timeout (a request must give up on the pool, with a 503, before gunicorn
  kills the worker);
- the master closes every connection and pool before it forks (a query at import time with
  --preload would otherwise open the pool in the master and share its sockets with every
  worker), and each worker drops anything it inherited and builds its own pool;
- each worker names its connections `<DB_APPLICATION_NAME>:<pid>`, so pg_stat_activity and
  /ops/db/ show which worker holds what, then opens its pool and waits (at most the pool
  timeout) for its min_size connections before it serves, so its first requests do not queue
  for a pool that is still filling;
- at start it warns when DB_POOL_MAX_WAITING lets every thread of a worker wait for the pool
  (0 = unbounded, or not below the threads): when connections leak, requests queued behind
  those threads wait past the pool timeout for their 503.

The defaults are the recommended production settings for a 2-core machine, measured in
docs/pooling.md: 2 gthread workers x 4 threads here, and in culture/database.py a pool of 4
kept full (DB_POOL_MIN_SIZE = DB_POOL_MAX_SIZE = the threads), a 5 s pool timeout and
DB_POOL_MAX_WAITING = half the pool.
"""

import os
import sys
from pathlib import Path

from gunicorn.glogging import Logger

BASE_DIR = Path(__file__).resolve().parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "culture.settings")

from django.core.exceptions import ImproperlyConfigured  # noqa: E402 (needs sys.path above)

from culture.env import env_str, env_whole, proxy_trust  # noqa: E402


def _check(worker_class: str, threads: int, timeout: float) -> None:
    import django
    from django.conf import settings

    from culture.workers import check_serving

    django.setup(set_prefix=False)
    check_serving(
        settings.DATABASES, worker_class=worker_class, threads=threads, worker_timeout=timeout
    )


class ClientAddressLogger(Logger):
    """gunicorn's logger, with the access log's %(h)s the client the site counts (the API's
    rate limits, login lockouts): ops.http.client_address. Behind proxies REMOTE_ADDR is only
    the nearest proxy; %({remote_addr}e)s still prints it."""

    def atoms(self, resp, req, environ, request_time):
        from ops.http import client_address

        atoms = super().atoms(resp, req, environ, request_time)
        atoms["h"] = client_address(environ) or "-"
        return atoms


wsgi_app = "culture.wsgi:application"
errorlog = "-"
proc_name = "culture-web"

# Bad values and impossible settings are refused when the file is read, so that
# `gunicorn --check-config` catches them, in one line naming the variable rather than
# gunicorn's "Failed to read config file" and a traceback.
try:
    bind = env_str("GUNICORN_BIND", "127.0.0.1:8000")
    # Two cores: two processes, each with four request threads and a pool of four connections.
    workers = env_whole("GUNICORN_WORKERS", 2, minimum=1)
    worker_class = env_str("GUNICORN_WORKER_CLASS", "gthread")
    threads = env_whole("GUNICORN_THREADS", 4, minimum=1)
    # Seconds of silence before the master kills a worker; the pool timeout must stay below it.
    timeout = env_whole("GUNICORN_TIMEOUT", 30)
    graceful_timeout = env_whole("GUNICORN_GRACEFUL_TIMEOUT", 30)
    keepalive = env_whole("GUNICORN_KEEPALIVE", 5)
    # "-" logs requests to stdout; empty logs none (a proxy in front usually does).
    accesslog = env_str("GUNICORN_ACCESSLOG")
    loglevel = env_str("GUNICORN_LOGLEVEL", "info")
    logger_class = ClientAddressLogger
    # Whom gunicorn believes about the scheme follows the site's one rule (culture.env's
    # proxy_trust, as SECURE_PROXY_SSL_HEADER does). gunicorn's own default believes three
    # headers (X-Forwarded-Proto, -Ssl, -Protocol) from 127.0.0.1 whatever the settings say.
    # Here: no peer without a trusted proxy; with one, the FORWARDED_ALLOW_IPS peers (any
    # peer when unset, as Django's header check has no peer to go by); and only
    # X-Forwarded-Proto, the header Django reads.
    _trust = proxy_trust()
    forwarded_allow_ips = (",".join(_trust.forwarded_allow_ips) or "*") if _trust.proxies else ""
    secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
    # No proxy of ours sends SCRIPT_NAME or PATH_INFO; gunicorn would take them from any
    # trusted peer.
    forwarder_headers = ""
    _check(worker_class, threads, timeout)
except ImproperlyConfigured as error:
    raise SystemExit(f"gunicorn.conf.py: {error}") from None


def on_starting(server):
    # Again with the effective values: command-line options override this file.
    cfg = server.cfg
    _check(cfg.worker_class_str, cfg.threads, cfg.timeout)
    from django.conf import settings

    from culture.workers import serving_warnings

    for warning in serving_warnings(
        settings.DATABASES, worker_class=cfg.worker_class_str, threads=cfg.threads
    ):
        server.log.warning("gunicorn.conf.py: %s", warning)


def pre_fork(server, worker):
    from culture.workers import close_connections_before_fork

    close_connections_before_fork()


def post_fork(server, worker):
    from django.conf import settings

    from culture.workers import forget_inherited_connections, name_connections, open_pools

    forget_inherited_connections()
    name_connections(settings.DATABASES, worker.pid)
    open_pools()
