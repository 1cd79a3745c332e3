"""What a newcomer meets first: bin/demo on another port keeps the site's own links on that
port, and runs with DEBUG off (the site's own error pages)."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def demo_environment(**given):
    env = {"PATH": os.environ["PATH"], **given}
    script = '. bin/demo-env && printf \'%s\\n\' "$ADDRESS" "$SITE_URL" "$DEBUG"'
    output = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return dict(zip(["ADDRESS", "SITE_URL", "DEBUG"], output.split(), strict=True))


@pytest.mark.parametrize(
    ("address", "served_at", "site_url"),
    [
        (None, "127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("127.0.0.1:8001", "127.0.0.1:8001", "http://127.0.0.1:8001"),
        ("8002", "127.0.0.1:8002", "http://127.0.0.1:8002"),
        ("0.0.0.0:8003", "0.0.0.0:8003", "http://127.0.0.1:8003"),
        ("localhost:9000", "localhost:9000", "http://localhost:9000"),
    ],
)
def test_the_demos_site_url_follows_its_address(address, served_at, site_url):
    env = demo_environment(**({"ADDRESS": address} if address else {}))
    assert env["ADDRESS"] == served_at
    assert env["SITE_URL"] == site_url


def test_a_site_url_given_to_the_demo_is_kept():
    env = demo_environment(ADDRESS="127.0.0.1:8001", SITE_URL="https://demo.example")
    assert env["SITE_URL"] == "https://demo.example"


def test_the_demo_runs_with_debug_off_unless_asked():
    assert demo_environment()["DEBUG"] == "false"
    assert demo_environment(DEBUG="true")["DEBUG"] == "true"


def test_the_readme_says_how_to_change_the_port():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "ADDRESS=127.0.0.1:8001 bin/demo" in readme
    assert "SITE_URL" in readme.split("## Run it")[1].split("\n## ")[0]
