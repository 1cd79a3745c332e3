"""HTTP without dependencies: single probes, keep-alive clients and a bounded load generator.

Every request names the site by PUBLIC_HOST (the Host header a public name would give) and
goes to an address the run made: a host's namespace address or the balancer.
"""

import http.client
import random
import threading
import time
from dataclasses import dataclass, field

from bench import frontproxy

PUBLIC_HOST = "cluster.test"  # the Host every request carries, as a public name would
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) cluster-reader"  # counted as a reader's view
PROBE = "cluster-probe bot"  # a bot: the site does not count its views


@dataclass
class Answer:
    status: int  # 0: no answer (connection refused, reset, timeout)
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _split(base: str) -> tuple[str, int]:
    host, _, port = base.rpartition(":")
    return host, int(port)


def fetch(
    base: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict | None = None,
    body: bytes | None = None,
    timeout: float = 10,
    source: str | None = None,
    tls: bool = False,
) -> Answer:
    """One request on a new connection (no retry); over HTTPS with `tls`, trusting any
    certificate (the run's front proxies have throw-away ones)."""
    host, port = _split(base)
    source_address = (source, 0) if source else None
    conn = (
        http.client.HTTPSConnection(
            host,
            port,
            timeout=timeout,
            source_address=source_address,
            context=frontproxy.client_context(),
        )
        if tls
        else http.client.HTTPConnection(host, port, timeout=timeout, source_address=source_address)
    )
    started = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=_headers(headers))
        response = conn.getresponse()
        data = response.read()
        return Answer(
            response.status,
            data,
            {k.lower(): v for k, v in response.getheaders()},
            seconds=time.monotonic() - started,
        )
    except (OSError, http.client.HTTPException) as exc:
        return Answer(0, error=type(exc).__name__, seconds=time.monotonic() - started)
    finally:
        conn.close()


def _headers(extra: dict | None) -> dict:
    headers = {"Host": PUBLIC_HOST, "User-Agent": PROBE}
    headers.update(extra or {})
    return headers


class Client:
    """A keep-alive connection that reconnects after an error, like a browser would."""

    def __init__(self, base: str, *, timeout: float = 10, source: str | None = None):
        self.host, self.port = _split(base)
        self.timeout = timeout
        self.source = source
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str, headers: dict | None = None) -> Answer:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(
                self.host,
                self.port,
                timeout=self.timeout,
                source_address=(self.source, 0) if self.source else None,
            )
        started = time.monotonic()
        try:
            self.conn.request("GET", path, headers=_headers(headers))
            response = self.conn.getresponse()
            data = response.read()
            answer = Answer(
                response.status,
                data,
                {k.lower(): v for k, v in response.getheaders()},
                seconds=time.monotonic() - started,
            )
            if response.will_close:
                self.close()
            return answer
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return Answer(0, error=type(exc).__name__, seconds=time.monotonic() - started)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Record:
    started: float  # time.time()
    seconds: float
    status: int
    error: str
    served_by: str
    path: str
    cache: str = ""  # the X-Cache header: how the site got the answer (hit, hit-shared, miss)


class Load:
    """`clients` threads, each requesting paths drawn from `paths` through `base`, until
    stop() or `seconds` or `max_requests` in all: always bounded."""

    def __init__(
        self,
        base: str,
        paths: list[str],
        *,
        clients: int = 4,
        seconds: float = 60,
        max_requests: int = 200_000,
        user_agent: str = BROWSER,
        pause: float = 0.0,
    ):
        self.base = base
        self.paths = paths
        self.clients = clients
        self.seconds = seconds
        self.max_requests = max_requests
        self.user_agent = user_agent
        self.pause = pause  # seconds each client waits between requests (a gentler load)
        self.records: list[Record] = []
        self.in_flight: dict[int, float] = {}  # thread -> started, while a request is out
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> "Load":
        self.deadline = time.monotonic() + self.seconds
        for n in range(self.clients):
            thread = threading.Thread(target=self._run, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _run(self, n: int) -> None:
        client = Client(self.base)
        pick = random.Random(n)
        headers = {"User-Agent": self.user_agent}
        while not self._stop.is_set() and time.monotonic() < self.deadline:
            with self._lock:
                if len(self.records) + len(self.in_flight) >= self.max_requests:
                    break
                started = time.time()
                self.in_flight[n] = started
            path = pick.choice(self.paths)
            answer = client.get(path, headers)
            record = Record(
                started,
                answer.seconds,
                answer.status,
                answer.error,
                answer.headers.get("x-served-by", ""),
                path,
                answer.headers.get("x-cache", ""),
            )
            with self._lock:
                del self.in_flight[n]
                self.records.append(record)
            if self.pause:
                self._stop.wait(self.pause)
        client.close()

    def run_for(self, seconds: float) -> "Load":
        self.start()
        time.sleep(seconds)
        return self.stop()

    def in_flight_now(self) -> int:
        with self._lock:
            return len(self.in_flight)

    def stop(self) -> "Load":
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=40)
        return self

    def __enter__(self) -> "Load":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def summary(records: list[Record], seconds: float | None = None) -> dict:
    """Requests, req/s, p50/p99 latency (ms) and answers by status ("0" = no answer)."""
    if not records:
        return {"requests": 0, "rps": 0.0, "p50_ms": None, "p99_ms": None, "statuses": {}}
    latencies = sorted(r.seconds for r in records)
    if seconds is None:
        seconds = max(r.started + r.seconds for r in records) - min(r.started for r in records)
    statuses: dict[str, int] = {}
    for r in records:
        key = str(r.status) if r.status else f"0 {r.error}"
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "requests": len(records),
        "rps": round(len(records) / max(seconds, 1e-9), 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "statuses": dict(sorted(statuses.items())),
    }


def percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def failed(record: Record) -> bool:
    return record.status == 0 or record.status >= 500
