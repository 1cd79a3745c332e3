"""The guard bin/test runs the suite under (tests/repository_support.py): it must notice a
file the run wrote, changed or removed, and let bin/screenshots write its folder."""

import subprocess
from pathlib import Path

import pytest

from tests import repository_support

pytestmark = pytest.mark.skipif(
    repository_support.snapshot(Path(__file__).parent) is None,
    reason="needs git",
)


@pytest.fixture
def checkout(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / ".gitignore").write_text("ignored/\n")
    (tmp_path / "README.md").write_text("처음\n")
    (tmp_path / "docs" / "screenshots").mkdir(parents=True)
    (tmp_path / "docs" / "screenshots" / "home.png").write_bytes(b"old")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "start")
    return tmp_path


def test_a_clean_run_changes_nothing(checkout):
    before = repository_support.snapshot(checkout)
    (checkout / "ignored").mkdir()
    (checkout / "ignored" / "cache.bin").write_bytes(b"x")
    after = repository_support.snapshot(checkout)
    assert repository_support.changes(before, after, None, checkout) == []


def test_written_changed_and_removed_files_are_named(checkout):
    (checkout / "README.md").write_text("이미 고친 파일\n")  # dirty before the run
    before = repository_support.snapshot(checkout)
    (checkout / "README.md").write_text("테스트가 또 고침\n")
    (checkout / "new.txt").write_text("새 파일\n")
    (checkout / "docs" / "screenshots" / "home.png").unlink()
    after = repository_support.snapshot(checkout)
    assert repository_support.changes(before, after, None, checkout) == [
        "README.md",
        "docs/screenshots/home.png",
        "new.txt",
    ]


def test_the_screenshots_folder_may_change_when_it_is_the_target(checkout):
    before = repository_support.snapshot(checkout)
    (checkout / "docs" / "screenshots" / "home.png").write_bytes(b"new")
    after = repository_support.snapshot(checkout)
    exempt = checkout / "docs" / "screenshots"
    assert repository_support.changes(before, after, exempt, checkout) == []
