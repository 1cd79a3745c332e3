"""A real streaming replica, checked by hand: `python -m bench.replica` (as root, about a minute).

Builds a throwaway primary and a hot standby of it (pg_basebackup -R, recovery_min_apply_delay
= 2 s) on free ports, seeds stories, runs the site under gunicorn with DATABASE_URL and
DATABASE_REPLICA_URL, and checks what docs/cluster.md ("Read replica") promises:

1. anonymous reads run on the standby (both servers log every statement: story rows are
   counted per server);
2. an editor who saves a story in the admin and logs out reads the new title at once (the
   signed cookie keeps them on the primary), while the standby still holds the old row;
3. a new reader during the 2 s delay also gets the new title: the content version carries the
   primary's WAL position and the page is rendered from the primary, never from the standby's
   old row under the new version; after the delay the standby serves again;
4. with the standby stopped, every request is answered (no 5xx) from the primary, and /readyz
   says "down" while staying ready.

Prints one JSON line of numbers and exits non-zero if a check fails. Everything it starts is
stopped and its folder removed, also on failure.
"""

import contextlib
import html.parser
import http.cookiejar
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from bench.cluster.services import stop_group, wait_port
from bench.common import free_port
from bench.pool.cluster import PG_BIN, Cluster, _as_owner, _chown

REPO = Path(__file__).resolve().parents[1]
DELAY_SECONDS = 2
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"
STORY_ROWS = 'FROM "articles_article"'


class Primary(Cluster):
    """The bench cluster, logging every statement and accepting replication connections."""

    def init(self) -> None:
        super().init()
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("log_statement = 'all'\nwal_level = replica\n")
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")


class Standby(Cluster):
    """A hot standby of `primary`, replaying its WAL DELAY_SECONDS late."""

    def __init__(self, root: Path, primary: Cluster):
        super().__init__(root, primary.password)
        self.primary = primary

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _chown(self.root)
        subprocess.run(
            _as_owner([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1",
                       "-p", str(self.primary.port), "-U", "postgres", "-D", str(self.data),
                       "-R", "-X", "stream", "-c", "fast"]),
            check=True, timeout=120,
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nunix_socket_directories = '{self.root}'\n"
                f"hot_standby = on\nrecovery_min_apply_delay = '{DELAY_SECONDS}s'\n"
            )

    def title(self, pk: int) -> str:
        with self.admin("bench") as conn:
            return conn.execute(
                "SELECT title FROM articles_article WHERE id = %s", [pk]
            ).fetchone()[0]


class LogWindow:
    """The statements a server logged between start() and lines()."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.offset = 0

    def start(self) -> "LogWindow":
        self.offset = self.cluster.log.stat().st_size
        return self

    def count(self, needle: str) -> int:
        time.sleep(0.3)  # the logger writes asynchronously
        with self.cluster.log.open("rb") as log:
            log.seek(self.offset)
            return log.read().decode(errors="replace").count(needle)


class FormFields(html.parser.HTMLParser):
    """The fields a browser would submit from the admin's change form, as it shows them."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "button", "file"}:
            if a.get("type") in {"checkbox", "radio"} and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value", "")))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.text += data


class Browser:
    """One client with its own cookies."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, path: str, data: list | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        request.add_header("User-Agent", BROWSER)
        if data is not None:
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def command(args: list[str], env: dict) -> str:
    """Run a command of the site's; its output, or its error output in the exception."""
    done = subprocess.run(
        args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[:4])} failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip()


def django(code: str, env: dict) -> str:
    return command([sys.executable, "manage.py", "shell", "-c", code], env)


def run(root: Path) -> dict:
    primary = Primary(root / "primary", secrets.token_hex(8))
    standby = Standby(root / "standby", primary)
    web = None
    try:
        primary.init()
        primary.start()
        primary.create_app_database()
        site = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_"))},
            "DJANGO_SETTINGS_MODULE": "culture.settings",
            "DATABASE_URL": primary.url(),
            "SECURE_SSL": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_MANIFEST": "false",
        }
        seeding = {**site, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        command([sys.executable, "-m", "bench.seed", "--stories", "600"], seeding)
        password = secrets.token_hex(8)
        pk, url = (
            django(
                "from django.contrib.auth.models import User\n"
                "from articles.models import Article\n"
                f"User.objects.create_superuser('editor', 'e@example.com', '{password}')\n"
                "story = Article.objects.published().order_by('pk').first()\n"
                "print(story.pk, story.get_absolute_url())",
                site,
            )
            .splitlines()[-1]
            .split()
        )
        standby.init()
        standby.start()

        port = free_port()
        site["DATABASE_REPLICA_URL"] = standby.url()
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "culture.wsgi"],
            cwd=REPO, env={**site, "GUNICORN_BIND": f"127.0.0.1:{port}"},
            stdout=(root / "gunicorn.log").open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_port("127.0.0.1", port, 60, "gunicorn", root / "gunicorn.log")
        base = f"http://127.0.0.1:{port}"
        return checks(base, primary, standby, int(pk), url, password)
    finally:
        stop_group(web)
        standby.stop()
        primary.stop()


def checks(base: str, primary: Primary, standby: Standby, pk: int, story: str, password: str):
    results: dict = {}
    status, _ = Browser(base).request(story)
    assert status == 200, status

    # 1. Anonymous reads: the story rows come from the standby.
    on_primary, on_standby = LogWindow(primary).start(), LogWindow(standby).start()
    pages = ["/", "/feed/", "/news/", "/interviews/", "/companies/", "/tags/"]
    statuses = [Browser(base).request(path)[0] for path in pages]
    results["reads"] = {
        "statuses": statuses,
        "story_queries_on_standby": on_standby.count(STORY_ROWS),
        "story_queries_on_primary": on_primary.count(STORY_ROWS),
    }

    # 2. An editor saves a new title in the admin, logs out, and reads the story at once.
    editor = Browser(base)
    status, page = editor.request("/admin/login/")
    token = editor.cookie("csrftoken")
    status, _ = editor.request(
        "/admin/login/?next=/admin/",
        [("csrfmiddlewaretoken", token), ("username", "editor"), ("password", password)],
    )
    assert status == 302, f"login: {status}"
    change = f"/admin/articles/article/{pk}/change/"
    status, page = editor.request(change)
    assert status == 200, f"change form: {status}"
    form = FormFields()
    form.feed(page)
    new_title = f"복제 확인 {secrets.token_hex(3)}"
    fields = [(n, new_title if n == "title" else v) for n, v in form.fields]
    status, page = editor.request(change, [*fields, ("_save", "저장")])
    saved_at = time.monotonic()
    assert status == 302, f"save: {status} {page[:300]}"
    editor.request("/admin/logout/", [("csrfmiddlewaretoken", editor.cookie("csrftoken"))])
    standby_title = standby.title(pk)
    on_primary, on_standby = LogWindow(primary).start(), LogWindow(standby).start()
    status, page = editor.request(story)
    sticky = {
        "status": status,
        "sees_new_title": new_title in page,
        "has_primary_cookie": editor.cookie("primary") is not None,
        "standby_row_still_old": standby_title != new_title,
        "story_queries_on_standby": on_standby.count(STORY_ROWS),
        "seconds_after_save": round(time.monotonic() - saved_at, 2),
    }
    # 3. A new reader during the delay, on a page not rendered since the save (a search for
    # the new title): rendered from the primary, not from the standby's old row.
    on_primary, on_standby = LogWindow(primary).start(), LogWindow(standby).start()
    search = "/search/?" + urllib.parse.urlencode({"q": new_title})
    status, page = Browser(base).request(search)
    guarded = {
        "status": status,
        "sees_new_title": new_title in page,
        "standby_row_still_old": standby.title(pk) != new_title,
        "lag_checks_on_standby": on_standby.count("pg_last_wal_replay_lsn"),
        "story_queries_on_standby": on_standby.count(STORY_ROWS),
        "story_queries_on_primary": on_primary.count(STORY_ROWS),
        "seconds_after_save": round(time.monotonic() - saved_at, 2),
    }
    time.sleep(DELAY_SECONDS + 1)
    on_standby = LogWindow(standby).start()
    status, page = Browser(base).request("/news/?page=1")
    guarded["after_delay"] = {
        "standby_has_new_row": standby.title(pk) == new_title,
        "story_queries_on_standby": on_standby.count(STORY_ROWS),
    }
    results["sticky"], results["guard"] = sticky, guarded

    # 4. The standby stops: every request answered from the primary, /readyz says down.
    standby.stop()
    started = time.monotonic()
    statuses = []
    for i in range(30):
        statuses.append(Browser(base).request(pages[i % len(pages)] + f"?n={i}")[0])
    elapsed = time.monotonic() - started
    status, body = Browser(base).request("/readyz")
    results["standby_down"] = {
        "requests": len(statuses),
        "5xx": sum(s >= 500 for s in statuses),
        "statuses": sorted(set(statuses)),
        "seconds": round(elapsed, 2),
        "readyz": [status, json.loads(body)],
    }
    return results


def verdict(results: dict) -> list[str]:
    failures = []
    reads = results["reads"]
    if reads["story_queries_on_standby"] == 0 or reads["story_queries_on_primary"] > 0:
        failures.append("anonymous pages did not read their stories from the standby")
    sticky, guard = results["sticky"], results["guard"]
    if not (sticky["sees_new_title"] and sticky["has_primary_cookie"]):
        failures.append("the editor did not see their own save at once")
    if sticky["story_queries_on_standby"]:
        failures.append("the editor's read went to the standby")
    if not guard["sees_new_title"]:
        failures.append("a reader during the delay got the old title")
    if guard["after_delay"]["story_queries_on_standby"] == 0:
        failures.append("after the delay the standby did not serve again")
    down = results["standby_down"]
    if down["5xx"] or down["readyz"][0] != 200 or down["readyz"][1].get("replica") != "down":
        failures.append("with the standby stopped the site failed or /readyz did not say down")
    return failures


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="replica-run-"))
    root.chmod(0o755)  # the servers run as postgres
    try:
        results = run(root)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(root)
    failures = verdict(results)
    results["failures"] = failures
    print(json.dumps(results, ensure_ascii=False))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
