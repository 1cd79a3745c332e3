"""What the benchmarks (bench/pages.py, bench/pool/, bench/cluster/) and the PostgreSQL tests
need, with no dependency of its own."""

import socket
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_pgbouncer_files(
    root: Path, databases: dict[str, str], users: dict[str, str], **settings: object
) -> Path:
    """PgBouncer's userlist.txt and pgbouncer.ini in `root`: transaction pooling on 127.0.0.1
    with its log beside them, and `settings` added (or replacing those) in the [pgbouncer]
    section. `databases` maps a name ("*" for any) to its connection string. Returns the ini."""
    root.mkdir(parents=True, exist_ok=True)
    userlist = root / "userlist.txt"
    userlist.write_text("".join(f'"{user}" "{password}"\n' for user, password in users.items()))
    section = {
        "listen_addr": "127.0.0.1",
        "unix_socket_dir": "",
        "auth_file": userlist,
        "pool_mode": "transaction",
        "logfile": root / "pgbouncer.log",
        **settings,
    }
    lines = [
        "[databases]",
        *(f"{name} = {target}" for name, target in databases.items()),
        "[pgbouncer]",
        *(f"{key} = {value}".rstrip() for key, value in section.items()),
    ]
    ini = root / "pgbouncer.ini"
    ini.write_text("\n".join(lines) + "\n")
    return ini
