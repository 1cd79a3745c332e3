"""The run's private network: one bridge, one network namespace per app host, veth pairs.

Every name carries the run's id, so two runs never collide, and everything can be found and
removed by that id alone (`python -m bench.cluster --cleanup ID`, called by bench/cluster/run's
trap). The namespaces get no default route: they reach each other and the host side of the
bridge, nothing else.
"""

import contextlib
import fcntl
import ipaddress
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

LOCK = Path("/run/lock/culture-cluster-net.lock")
# Candidate /24s: 10.77.0.0/24, 10.77.1.0/24, ... the first one nothing on this machine uses.
SUBNET_BASE = ipaddress.ip_network("10.77.0.0/16")
HOST_OFFSET = 10  # h1 = .11, h2 = .12, ...
CLIENT_OFFSET = 200  # extra client addresses on the bridge: .201, .202, ...


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True, timeout=30)


def bridge_name(run_id: str) -> str:
    return f"cl{run_id}br"  # at most 15 characters: interface names are short


def veth_name(run_id: str, index: int) -> str:
    return f"cl{run_id}h{index}"


def netns_name(run_id: str, index: int) -> str:
    return f"cl-{run_id}-h{index}"


@dataclass
class Network:
    run_id: str
    hosts: int
    subnet: ipaddress.IPv4Network | None = None
    namespaces: list[str] = field(default_factory=list)
    clients: list[str] = field(default_factory=list)

    @property
    def gateway(self) -> str:
        """The host side of the bridge: where the shared services listen."""
        return str(self.subnet[1])

    def address(self, index: int) -> str:
        return str(self.subnet[HOST_OFFSET + index])

    def create(self, client_addresses: int = 8) -> None:
        LOCK.parent.mkdir(parents=True, exist_ok=True)
        # Two runs starting at once must not pick the same subnet.
        with LOCK.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.subnet = _free_subnet()
            bridge = bridge_name(self.run_id)
            ip("link", "add", bridge, "type", "bridge")
            ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", bridge)
            # Source addresses for clients that must look like different readers to the
            # balancer (each rate-limit measurement starts from counters nobody touched).
            for n in range(1, client_addresses + 1):
                address = str(self.subnet[CLIENT_OFFSET + n])
                ip("addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", bridge)
                self.clients.append(address)
            ip("link", "set", bridge, "up")
        for index in range(1, self.hosts + 1):
            ns, veth, peer = (
                netns_name(self.run_id, index),
                veth_name(self.run_id, index),
                (f"cl{self.run_id}n{index}"),
            )
            ip("netns", "add", ns)
            self.namespaces.append(ns)
            ip("link", "add", veth, "type", "veth", "peer", "name", peer)
            ip("link", "set", veth, "master", bridge)
            ip("link", "set", veth, "up")
            ip("link", "set", peer, "netns", ns)
            ip(
                "-n",
                ns,
                "addr",
                "add",
                f"{self.address(index)}/{self.subnet.prefixlen}",
                "dev",
                peer,
            )
            ip("-n", ns, "link", "set", peer, "up")
            ip("-n", ns, "link", "set", "lo", "up")

    def destroy(self) -> None:
        destroy(self.run_id)


def _free_subnet() -> ipaddress.IPv4Network:
    used = ip("-4", "-o", "addr").stdout + ip("-4", "route").stdout
    for subnet in SUBNET_BASE.subnets(new_prefix=24):
        prefix = str(subnet.network_address).rsplit(".", 1)[0] + "."
        if prefix not in used:
            return subnet
    raise RuntimeError("no free /24 in 10.77.0.0/16 for the run's bridge")


def namespace_pids(ns: str) -> list[int]:
    result = ip("netns", "pids", ns, check=False)
    return [int(pid) for pid in result.stdout.split() if pid.isdigit()]


def empty_namespace(ns: str) -> None:
    """Kill whatever still runs in the namespace, until nothing does (five seconds at most)."""
    for _attempt in range(50):
        pids = namespace_pids(ns)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def destroy(run_id: str) -> list[str]:
    """Remove every namespace (killing what still runs in it), veth and bridge of this run.
    Returns what it removed; safe to call twice."""
    removed = []
    listed = ip("netns", "list", check=False).stdout.split("\n")
    prefix = f"cl-{run_id}-"
    for line in listed:
        ns = line.split(" ", 1)[0]
        if not ns.startswith(prefix):
            continue
        empty_namespace(ns)
        ip("netns", "del", ns, check=False)
        removed.append(f"netns {ns}")
    links = ip("-o", "link", check=False).stdout
    for line in links.splitlines():
        name = line.split(":", 2)[1].strip().split("@", 1)[0]
        if name.startswith(f"cl{run_id}") and not name.endswith("br"):
            ip("link", "del", name, check=False)
            removed.append(f"link {name}")
    if f" {bridge_name(run_id)}:" in links:
        ip("link", "del", bridge_name(run_id), check=False)
        removed.append(f"bridge {bridge_name(run_id)}")
    return removed


def run_in(ns: str, args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, *args], **kwargs)
