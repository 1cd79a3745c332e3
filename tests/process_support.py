"""What the tests that start a fresh process share: the run itself (at the repository's root,
with an environment of the test's making, its output captured as text) and the one JSON line
a script prints last."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """`args` in a fresh process at the repository's root with exactly `env`; never raises
    on a failing exit (the tests check returncode and say what the process wrote)."""
    return subprocess.run(
        args,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_python(code: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -c code` in a fresh process, as run() starts it."""
    return run([sys.executable, "-c", code], env, timeout)


def last_json(result: subprocess.CompletedProcess):
    """The JSON line a script printed last, once it has exited cleanly."""
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
