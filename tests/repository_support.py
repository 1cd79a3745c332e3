"""A test run must leave the checkout as it found it (bin/test twice → `git status` clean).
bin/test sets GUARD_TRACKED_FILES=1; conftest.py then takes a snapshot when the session starts
and fails the session if any file git sees (tracked, or untracked and not ignored) is new,
changed or gone at the end. Files under SCREENSHOTS_DIR are exempt: bin/screenshots writes
docs/screenshots on purpose."""

import hashlib
import subprocess
from pathlib import Path


def snapshot(root: Path) -> dict[str, str] | None:
    """Each path `git status` reports, with a hash of its content ("" when gone); None when
    `root` is not a git checkout or git is missing."""
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "-z"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    entries = {}
    records = iter(result.stdout.split("\0"))
    for record in records:
        if not record:
            continue
        status, path = record[:2], record[3:]
        if "R" in status or "C" in status:
            next(records, None)  # the rename's source follows
        file = root / path
        entries[path] = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else ""
    return entries


def changes(before: dict[str, str], after: dict[str, str], exempt: Path | None, root: Path):
    """The paths whose state differs between two snapshots, outside `exempt`."""
    changed = sorted(
        path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
    )
    if exempt is not None:
        exempt = exempt.resolve()
        changed = [path for path in changed if not (root / path).resolve().is_relative_to(exempt)]
    return changed
