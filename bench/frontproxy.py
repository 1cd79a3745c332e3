"""deploy/nginx.conf, run as shipped on this machine: the same file with only its host-specific
values replaced (ports, gunicorn's address, the folders, a throw-away certificate), inside a
main nginx.conf of its own that keeps every file nginx writes in one folder. Used by
bench/slowclients, the cluster run and the test that runs `nginx -t` on the shipped file."""

import shutil
import ssl
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "deploy" / "nginx.conf"

# What an operator edits in the shipped file, as it is written there.
PLACEHOLDERS = {
    "upstream": "server 127.0.0.1:8000;",
    "media": "/srv/culture/media/",
    "static": "/srv/culture/staticfiles/",
    "certificate": "/etc/ssl/certs/culture.example.com.pem",
    "key": "/etc/ssl/private/culture.example.com.key",
}


def nginx() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None
    )


def client_context() -> ssl.SSLContext:
    """A client's TLS settings that trust the throw-away certificate of certificate()."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the TLS server block needs one)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    if not cert.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return cert, key


def render(
    folder: Path,
    *,
    https_port: int,
    http_port: int,
    upstream: str,
    media: Path,
    static: Path,
    listen: str = "127.0.0.1",
) -> Path:
    """Write folder/nginx.conf (a main file including the shipped site, adapted) and return
    its path. nginx then runs with `-c` that file and `-p` the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = certificate(folder)
    site = SHIPPED.read_text()
    for name, value in {
        "upstream": f"server {upstream};",
        "media": f"{media}/",
        "static": f"{static}/",
        "certificate": str(cert),
        "key": str(key),
    }.items():
        if PLACEHOLDERS[name] not in site:
            raise RuntimeError(f"deploy/nginx.conf no longer holds {PLACEHOLDERS[name]!r}")
        site = site.replace(PLACEHOLDERS[name], value)
    site = (
        site.replace("listen [::]:80;\n", "")
        .replace("listen [::]:443 ssl http2;\n", "")
        .replace("listen 80;", f"listen {listen}:{http_port};")
        .replace("listen 443 ssl http2;", f"listen {listen}:{https_port} ssl http2;")
    )
    (folder / "site.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(
        f"pid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "worker_processes 1;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "  include /etc/nginx/mime.types;\n"
        f"  access_log {folder / 'access.log'};\n"
        + "".join(
            f"  {kind}_temp_path {folder / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  include {folder / 'site.conf'};\n"
        "}\n"
    )
    return main


def start(main: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [nginx(), "-c", str(main), "-p", str(main.parent), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_config(main: Path) -> subprocess.CompletedProcess:
    """`nginx -t` of the written configuration."""
    return subprocess.run(
        [nginx(), "-t", "-c", str(main), "-p", str(main.parent)],
        capture_output=True,
        text=True,
        timeout=30,
    )
