"""The processes bench/pages.py measures and the clients it sends: gunicorn servers on free
loopback ports, their workers' CPU time and memory from /proc, and GETs in parallel."""

import contextlib
import ctypes
import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import free_port

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# The C library of this process, where it has clock_getcpuclockid (glibc, musl).
_LIBC = ctypes.CDLL(None, use_errno=True)
if not hasattr(_LIBC, "clock_getcpuclockid"):
    _LIBC = None
BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` (all its threads, ended ones too): its CPU-time
    clock (clock_getcpuclockid), to the nanosecond; /proc's utime + stime where the C library
    cannot give the clock. /proc counts in ticks (10 ms): a batch split in chunks (pages.py)
    would add up to two ticks a worker of error on each chunk."""
    clock = ctypes.c_int()
    if _LIBC is not None and _LIBC.clock_getcpuclockid(pid, ctypes.byref(clock)) == 0:
        try:
            return time.clock_gettime(clock.value)
        except OSError:  # the process ended between the two calls
            raise FileNotFoundError(pid) from None
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * PAGE_SIZE / 2**20


class Server:
    """gunicorn with the benchmark's settings (the same for every server it starts): `workers`
    sync workers, bench/gunicorn_bench.py so the project's gunicorn.conf.py is not read."""

    def __init__(self, app: str, env: dict, *, workers: int, probe: str):
        self.port = free_port()
        self.probe = probe
        self.process = subprocess.Popen(
            [
                str(Path(PYTHON).with_name("gunicorn")),
                "--config", str(ROOT / "bench" / "gunicorn_bench.py"),
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(workers),
                "--worker-class", "sync",
                "--log-level", "warning",
                app,
            ],
            env=env,
            cwd=ROOT,
        )  # fmt: skip
        self.workers_wanted = workers

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}")
            with contextlib.suppress(OSError):
                if (
                    fetch(self.port, self.probe) == 200
                    and len(self.workers()) >= self.workers_wanted
                ):
                    return
            time.sleep(0.2)
        raise SystemExit(f"gunicorn on port {self.port} did not answer {self.probe} in time")

    def workers(self) -> list[int]:
        pids = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                pids += [int(pid) for pid in (task / "children").read_text().split()]
        return sorted(pids)

    def cpu(self) -> tuple[tuple[int, ...], float]:
        """The workers and their CPU seconds together. A batch during which the workers
        changed (one was restarted) cannot be measured: pages.py checks the pids."""
        pids = tuple(self.workers())
        total = 0.0
        for pid in pids:
            with contextlib.suppress(FileNotFoundError):
                total += cpu_seconds(pid)
        return pids, total

    def rss(self) -> list[float]:
        return [round(rss_mb(pid), 1) for pid in self.workers()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def fetch(port: int, path: str, headers=None, method: str = "GET") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def load(port: int, paths, headers: dict, concurrency: int) -> list[int]:
    """GET every path of `paths` (an iterable, consumed in order) with `concurrency` clients;
    return the statuses."""
    statuses = []
    lock = threading.Lock()
    remaining = iter(paths)

    def client():
        while True:
            with lock:
                path = next(remaining, None)
            if path is None:
                return
            status = fetch(port, path, headers)
            with lock:
                statuses.append(status)

    # Daemons: a run stopped halfway (Ctrl-C, SIGTERM) does not wait for its clients.
    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


class Walk:
    """The stories of the corpus in a shuffled order, handed out without repeating until all
    were given (then a new order): a crawler's walk."""

    def __init__(self, count: int, seed: int):
        self.count = count
        self.rng = random.Random(seed)
        self.order: list[int] = []

    def take(self, how_many: int) -> list[int]:
        taken = []
        while len(taken) < how_many:
            if not self.order:
                self.order = list(range(self.count))
                self.rng.shuffle(self.order)
            taken.append(self.order.pop())
        return taken
