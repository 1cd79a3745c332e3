"""Slow clients, with and without the front proxy: bench/slowclients/run [--rounds N].

Starts gunicorn with the project's gunicorn.conf.py (its production defaults: 2 gthread workers
x 4 threads) and nginx with deploy/nginx.conf as shipped (bench/frontproxy.py changes only its
ports, folders and certificate), each on a free port of 127.0.0.1. Then, in each round and for
each way in (gunicorn directly; nginx over HTTPS):

1. opens CONNECTIONS connections that each send a login POST's headers and the first bytes of
   its body, then nothing more;
2. a second later asks /healthz PROBES times, one after another, each given TIMEOUT seconds,
   and records whether it answered and how fast;
3. notes how long the server kept the stalled connections open (nginx ends them after
   client_body_timeout), closes the rest and waits until /healthz answers again.

Prints a table and writes bench/out/slowclients.json. Everything it started is stopped at its
end, also on Ctrl-C. Numbers: docs/proxy.md.
"""

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import frontproxy
from bench.cluster.services import stop_group, wait_port
from bench.common import free_port

REPO = frontproxy.REPO
OUT = REPO / "bench" / "out" / "slowclients.json"
CONNECTIONS = 40
PROBES = 3
TIMEOUT = 10.0
STALLED_BODY = 4096  # what the Content-Length promises; 16 bytes of it are ever sent


class Way:
    """One way in: a port, plain or TLS."""

    def __init__(self, name: str, port: int, tls: bool):
        self.name, self.port, self.tls = name, port, tls

    def connect(self, timeout: float) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        if self.tls:
            sock = frontproxy.client_context().wrap_socket(sock, server_hostname="127.0.0.1")
        return sock

    def healthz(self, timeout: float) -> tuple[int, float]:
        """(status, seconds); status 0 when nothing came back within `timeout`."""
        started = time.monotonic()
        try:
            with self.connect(timeout) as sock:
                sock.settimeout(max(0.1, timeout - (time.monotonic() - started)))
                sock.sendall(
                    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                )
                head = sock.recv(64)
            status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        except (OSError, ValueError, IndexError):
            status = 0
        return status, time.monotonic() - started

    def stall(self) -> socket.socket:
        """A connection that sends a login POST's headers and a little of its body."""
        sock = self.connect(5)
        sock.sendall(
            b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {STALLED_BODY}\r\n\r\n".encode()
            + b"username=slow&pa"
        )
        return sock


def held_for(sockets: list[socket.socket], started: float, limit: float) -> list[float | None]:
    """Seconds until the server closed each stalled connection (None: still open at `limit`),
    watched all at once."""
    closed: list[float | None] = [None] * len(sockets)

    def watch(index: int, sock: socket.socket) -> None:
        try:
            sock.settimeout(max(0.1, started + limit - time.monotonic()))
            while sock.recv(4096):
                pass
            closed[index] = time.monotonic() - started
        except (OSError, ValueError):
            pass

    threads = [
        threading.Thread(target=watch, args=(i, s), daemon=True) for i, s in enumerate(sockets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(limit + 5)
    return closed


def round_of(way: Way, connections: int, probes: int, timeout: float) -> dict:
    stalled = [way.stall() for _ in range(connections)]
    opened = time.monotonic()
    time.sleep(1)
    answers = [way.healthz(timeout) for _ in range(probes)]
    # How long the server keeps them: nginx's client_body_timeout is 10 s; watch a little past.
    closed = held_for(stalled, opened, 15)
    for sock in stalled:
        sock.close()
    recovered = wait_healthy(way, 30)
    return {
        "probes": [{"status": s, "seconds": round(t, 3)} for s, t in answers],
        "answered": sum(1 for s, _ in answers if s == 200),
        "closed_by_server": sum(1 for c in closed if c is not None),
        "closed_after_s": round(statistics.median(c for c in closed if c is not None), 1)
        if any(c is not None for c in closed)
        else None,
        "healthy_again_s": recovered,
    }


def wait_healthy(way: Way, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if way.healthz(2)[0] == 200:
            return round(time.monotonic() - started, 2)
        time.sleep(0.2)
    return None


def site_env(root: Path, bind: str) -> dict[str, str]:
    """The README's production settings, behind one trusted proxy on this machine."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "culture.settings",
        "DEBUG": "false",
        "SECRET_KEY": "slowclients-" + secrets.token_hex(24),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL": "false",
        "STATIC_MANIFEST": "false",
        "TRUSTED_PROXY_COUNT": "1",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "MEDIA_ROOT": str(root / "media"),
        "MEDIA_SERVE": "false",
        "DATABASE_URL": f"sqlite:///{root / 'site.sqlite3'}",
        "GUNICORN_BIND": bind,
        "GUNICORN_ACCESSLOG": "",
        "LOG_LEVEL": "WARNING",
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="bench/slowclients/run", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--probes", type=int, default=PROBES)
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per probe")
    args = parser.parse_args()
    if frontproxy.nginx() is None:
        raise SystemExit("nginx is not installed: apt-get install -y nginx")

    root = Path(tempfile.mkdtemp(prefix="culture-slowclients-"))
    os.chmod(root, 0o755)  # nginx's workers run as another user when started by root
    for name in ("media", "static"):
        (root / name).mkdir(mode=0o755)
    app_port, https_port, http_port = free_port(), free_port(), free_port()
    gunicorn = nginx = None
    results: dict = {"connections": args.connections, "probe_timeout_s": args.timeout}
    try:
        env = site_env(root, f"127.0.0.1:{app_port}")
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=REPO,
            env=env,
            stdout=(root / "gunicorn.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_port("127.0.0.1", app_port, 60, "gunicorn", root / "gunicorn.log")
        main_conf = frontproxy.render(
            root / "nginx",
            https_port=https_port,
            http_port=http_port,
            upstream=f"127.0.0.1:{app_port}",
            media=root / "media",
            static=root / "static",
        )
        nginx = frontproxy.start(main_conf)
        wait_port("127.0.0.1", https_port, 10, "nginx", root / "nginx" / "error.log")
        ways = [
            Way("gunicorn alone", app_port, tls=False),
            Way("behind deploy/nginx.conf", https_port, tls=True),
        ]
        for way in ways:
            if wait_healthy(way, 30) is None:
                raise RuntimeError(f"/healthz does not answer {way.name}")
        for number in range(1, args.rounds + 1):
            for way in ways:
                result = round_of(way, args.connections, args.probes, args.timeout)
                results.setdefault(way.name, []).append(result)
                times = ", ".join(
                    f"{p['status'] or 'timeout'} in {p['seconds']:.2f} s" for p in result["probes"]
                )
                print(
                    f"round {number}, {way.name}: /healthz {result['answered']}/{args.probes} "
                    f"answered ({times}); server closed {result['closed_by_server']} of "
                    f"{args.connections} stalled connections"
                    + (
                        f" after {result['closed_after_s']} s"
                        if result["closed_after_s"] is not None
                        else ""
                    ),
                    flush=True,
                )
    finally:
        stop_group(nginx, wait=10)
        stop_group(gunicorn, wait=15)
        shutil.rmtree(root, ignore_errors=True)

    print()
    for name in ("gunicorn alone", "behind deploy/nginx.conf"):
        rounds = results.get(name, [])
        probes = [p for r in rounds for p in r["probes"]]
        answered = sorted(p["seconds"] for p in probes if p["status"] == 200)
        quick = sum(1 for seconds in answered if seconds < 1)
        print(
            f"{name}: /healthz answered {len(answered)} of {len(probes)} within "
            f"{args.timeout:.0f} s, {quick} within 1 s"
            + (f"; slowest answer {answered[-1]:.2f} s" if answered else "")
        )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
