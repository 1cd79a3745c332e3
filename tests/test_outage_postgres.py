"""The pool after an outage: PostgreSQL stopped for a while, then started again. A client that
retries as the Retry-After of its 503 says is served, instead of meeting more 503s while the
pool waits out a reconnection back-off that grew during the outage (ops/pool.py).

The server here is a throwaway cluster of the test's own (initdb on a free port), never the
one the rest of the suite uses; the site runs in a fresh process with the pool on and health
checks on, as in production. bench/faults.py measures the same on every page under gunicorn
(docs/pooling.md, "An outage").
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bench.pool.cluster import PG_BIN, Cluster
from ops.availability import RETRY_AFTER
from tests.postgres_support import command_env
from tests.process_support import REPO

pytestmark = pytest.mark.postgres

OUTAGE_SECONDS = 8.0
POOL_TIMEOUT = "3"

# Requests as a gunicorn thread makes them: a connection from the pool, one query, back to
# the pool. Commands on stdin: "outage" starts a light load (a request every 0.1 s) while
# the server is down, "back" stops it and sends a few requests one after another.
SITE = """
import json, sys, threading, time
import django
django.setup()
from django.db import connection
from ops.availability import RETRY_AFTER, unavailable_reason

def request():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:
        return unavailable_reason(exc) or repr(exc)
    finally:
        connection.close()

def in_a_thread():
    answer = []
    thread = threading.Thread(target=lambda: answer.append(request()))
    thread.start()
    thread.join()
    return answer[0]

warm = [threading.Thread(target=request) for _ in range(4)]
for thread in warm:
    thread.start()
for thread in warm:
    thread.join()
print("ready", flush=True)
during, stop = [], threading.Event()
def light_load():
    while not stop.is_set():
        during.append(request())
        time.sleep(0.1)
load = threading.Thread(target=light_load)
for line in sys.stdin:
    if line.strip() == "outage":
        load.start()
    elif line.strip() == "back":
        stop.set()
        load.join()
        first = in_a_thread()
        if first != "ok":  # a client that waits as its 503's Retry-After says, then retries
            time.sleep(RETRY_AFTER[first])
        retried = [in_a_thread() for _ in range(4)]
        print(json.dumps({"during": during, "first": first, "retried": retried}), flush=True)
        break
"""


@pytest.fixture
def cluster():
    if not (PG_BIN / "initdb").exists() or (os.geteuid() == 0 and not shutil.which("runuser")):
        pytest.skip(f"needs PostgreSQL's server binaries in {PG_BIN} (set PG_BIN)")
    root = Path(tempfile.mkdtemp(prefix="culture-outage-"))
    os.chmod(root, 0o755)  # the cluster runs as the postgres user when the tests run as root
    own = Cluster(root / "pg", password="outage-test")
    try:
        own.init()
        own.start()
        own.create_app_database()
        yield own
    finally:
        own.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_client_that_retries_as_retry_after_says_is_served_after_an_outage(cluster):
    site = subprocess.Popen(
        [sys.executable, "-c", SITE],
        cwd=REPO,
        env=command_env(
            DATABASE_URL=cluster.url(),
            DB_POOL="true",
            DB_POOL_TIMEOUT=POOL_TIMEOUT,
            CONN_HEALTH_CHECKS="true",
        ),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert site.stdout.readline().strip() == "ready", site.stderr.read()[-3000:]
        cluster.ctl("-m", "fast", "stop")
        site.stdin.write("outage\n")
        site.stdin.flush()
        time.sleep(OUTAGE_SECONDS)
        cluster.start()  # pg_ctl -w: returns once the server accepts connections
        site.stdin.write("back\n")
        site.stdin.flush()
        line = site.stdout.readline()
        assert line, site.stderr.read()[-3000:]
        result = json.loads(line)
    finally:
        site.kill()
        site.wait(timeout=10)

    # The outage was seen (the load's requests failed as "unavailable", answered 503)...
    assert "database-unreachable" in result["during"] or "pool-exhausted" in result["during"]
    # ...and once the server is back, a client that waits as the Retry-After of its 503 says
    # (2 s for the pool, 5 s for the server) is served, as is everyone after it.
    assert result["first"] in {"ok", *RETRY_AFTER}
    assert result["retried"] == ["ok"] * 4
