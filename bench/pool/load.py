"""Load: wrk for throughput, a threaded Python client for per-request timelines, gunicorn
started and stopped per configuration, and a sampler of the server's connections."""

import http.client
import json
import os
import signal
import statistics
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.pool.cluster import APP_DATABASE, APP_USER, children, cpu_seconds

REPO = Path(__file__).resolve().parents[2]
# The view counter ignores requests without a browser's User-Agent; the benchmark is a reader.
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

WRK_SCRIPT = """
local paths = {%(paths)s}
counts = {}
local id = 0
local threads = {}
wrk.headers["User-Agent"] = "%(agent)s"
function setup(thread)
  id = id + 1
  thread:set("id", id)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() * 100 + id)
end
-- With beacons on, each story page is followed by the 조회수 beacon its script sends (a POST
-- from the same origin: docs/caching.md), so the database is loaded as readers load it.
local beacons = %(beacons)s
local pending = nil
function request()
  if pending then
    local beacon = pending
    pending = nil
    return wrk.format("POST", beacon, {["Sec-Fetch-Site"] = "same-origin"}, "")
  end
  local path = paths[math.random(#paths)]
  local story = beacons and string.match(path, "^/stories/(%%d+)/")
  if story then pending = "/views/" .. story .. "/" end
  return wrk.format("GET", path)
end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      merged[tostring(status)] = (merged[tostring(status)] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(merged) do table.insert(parts, string.format('"%%s": %%d', status, n)) end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, "codes": {%%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, table.concat(parts, ", ")))
end
"""


def write_wrk_script(path: Path, urls: list[str], *, beacons: bool = False) -> Path:
    """A wrk script asking for `urls` at random; with `beacons`, each story page is followed
    by its 조회수 beacon (wrk's requests/s then counts pages and beacons alike)."""
    paths = ", ".join(json.dumps(url) for url in urls)
    lua_flag = "true" if beacons else "false"
    path.write_text(WRK_SCRIPT % {"paths": paths, "agent": USER_AGENT, "beacons": lua_flag})
    return path


def wrk(port: int, script: Path, *, connections: int, seconds: int) -> dict:
    threads = min(2, connections)
    result = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{int(seconds)}s",
         "--timeout", "15s", "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=seconds + 60,
    )  # fmt: skip
    for line in result.stdout.splitlines():
        if line.startswith("WRK-JSON "):
            return json.loads(line.removeprefix("WRK-JSON "))
    raise RuntimeError(f"wrk printed no result: {result.stdout[-500:]} {result.stderr[-500:]}")


# --- gunicorn ----------------------------------------------------------------------------


@dataclass
class Site:
    """One gunicorn serving the site with one configuration."""

    env: dict
    port: int
    log: Path
    config: str = "gunicorn.conf.py"
    args: list = field(default_factory=list)
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 40) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(REPO / ".venv" / "bin" / "gunicorn"), "-c", self.config,
                 "--bind", f"127.0.0.1:{self.port}", *self.args],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start: see {self.log}")
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=2) as response:
                    if response.status == 200 and self._workers_up():
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer in {timeout} s: see {self.log}")

    def _workers_up(self) -> bool:
        return len(children(self.process.pid)) >= int(self.env.get("GUNICORN_WORKERS", "1"))

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid) if self.process else 0.0

    def stop(self, grace: float = 15) -> float:
        """Stop gracefully; return how long the shutdown took (SIGKILL after `grace`)."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        return time.monotonic() - started


# --- the server's connections -----------------------------------------------------------


class Sampler:
    """Counts the application's server connections in pg_stat_activity every `interval`."""

    QUERY = (
        # Busy: in a query or a transaction (what the load needs at that instant); the rest
        # are open and idle, held by a pool, a persistent connection or PgBouncer.
        "SELECT count(*), count(*) FILTER (WHERE state <> 'idle'), "
        "coalesce(array_agg(DISTINCT application_name), '{}') "
        "FROM pg_stat_activity WHERE usename = %s AND datname = %s "
        "AND backend_type = 'client backend'"
    )

    def __init__(self, connect, interval: float = 0.05):
        self.connect = connect
        self.interval = interval
        self.samples: list[int] = []
        self.busy: list[int] = []
        self.names: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self):
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = self.connect()
                count, busy, names = conn.execute(self.QUERY, [APP_USER, APP_DATABASE]).fetchone()
                self.samples.append(count)
                self.busy.append(busy)
                self.names.update(name for name in names if name)
            except psycopg.Error:
                conn = None  # the server is restarting: try again next tick
            self._stop.wait(self.interval)
        if conn is not None:
            conn.close()

    def summary(self) -> dict:
        return _summary(self.samples)

    def busy_summary(self) -> dict:
        return _summary(self.busy)


def _summary(samples: list[int]) -> dict:
    if not samples:
        return {"max": 0, "mean": 0.0}
    return {"max": max(samples), "mean": round(statistics.fmean(samples), 1)}


# --- per-request timelines ----------------------------------------------------------------


@dataclass
class Outcome:
    start: float
    end: float
    status: str  # "200", "503", … or "timeout", "reset"

    @property
    def seconds(self) -> float:
        return self.end - self.start


def timeline(port: int, paths: list[str], *, clients: int, seconds: float,
             timeout: float = 15.0, events=None) -> list[Outcome]:  # fmt: skip
    """Each of `clients` threads sends GETs one after another for `seconds`; every request's
    start, end and outcome is kept. `events` is a list of (delay, callable) run meanwhile."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    deadline = time.time() + seconds

    def client(number: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        index = number
        while time.time() < deadline:
            path = paths[index % len(paths)]
            index += clients
            started = time.time()
            try:
                conn.request("GET", path, headers={"User-Agent": USER_AGENT})
                response = conn.getresponse()
                response.read()
                status = str(response.status)
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except TimeoutError:
                status = "timeout"
                conn.close()
            except (OSError, http.client.HTTPException):
                status = "reset"
                conn.close()
                time.sleep(0.01)
            with lock:
                outcomes.append(Outcome(started, time.time(), status))

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    runners = []
    for delay, action in events or []:
        runner = threading.Timer(delay, action)
        runner.daemon = True
        runner.start()
        runners.append(runner)
    for thread in threads:
        thread.join(timeout=seconds + timeout + 30)
    for runner in runners:
        runner.join(timeout=120)
    return sorted(outcomes, key=lambda outcome: outcome.start)


def get(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"User-Agent": USER_AGENT}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
