"""The edge in front of the site: each write tells it to drop pages of older content versions
(articles/edge.py), and deploy/varnish.vcl keeps what the site's headers allow, shares an
anonymous page whatever cookies a reader carries, and bans by version."""

import http.client
import logging
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from articles import edge, versions
from articles.services import save_story
from culture.env import env_http_urls
from tests.conftest import ROOT
from tests.factories import ArticleFactory

VARNISHD = shutil.which("varnishd") or "/usr/sbin/varnishd"


class Recorder(BaseHTTPRequestHandler):
    """An edge (or a backend) on a free port that notes what it was asked."""

    status = 200

    def do_BAN(self):
        self.server.seen.append(("BAN", self.path, self.headers.get(edge.HEADER)))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        # As a backend: the page's version and cacheability come from its query string.
        self.server.seen.append(("GET", self.path, self.headers.get("Cookie")))
        _, _, query = self.path.partition("?")
        options = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
        body = f"{self.path} #{len(self.server.seen)}".encode()
        self.send_response(200)
        self.send_header(edge.HEADER, options.get("v", "1.0"))
        self.send_header("X-Request-ID", f"site-{len(self.server.seen)}")
        self.send_header(
            "Cache-Control",
            "private, no-store"
            if options.get("private")
            else "public, max-age=0, s-maxage=60, stale-while-revalidate=30",
        )
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen = []
    server.status = 200
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def wait_for(condition, seconds=3.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- The site tells the edges --------------------------------------------------------------


@pytest.mark.django_db
def test_a_write_bans_every_other_version_once_it_commits_and_again_later(
    settings, recorder, django_capture_on_commit_callbacks
):
    settings.EDGE_BAN_URLS = [f"http://127.0.0.1:{recorder.server_port}"]
    settings.EDGE_REBAN_SECONDS = 0.3
    story = ArticleFactory()
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        story.title = "고친 제목"
        save_story(story, by=None)
    assert recorder.seen == []  # nothing before the commit
    for hook in hooks:
        hook()
    key = versions.current().key
    assert recorder.seen == [("BAN", "/", key)]
    assert wait_for(lambda: len(recorder.seen) == 2)
    assert recorder.seen[1] == ("BAN", "/", key)


def test_the_second_ban_is_left_out_when_a_newer_version_was_banned_since(settings, recorder):
    settings.EDGE_BAN_URLS = [f"http://127.0.0.1:{recorder.server_port}"]
    settings.EDGE_REBAN_SECONDS = 0.2
    edge.ban_other_versions("7.100")
    edge.ban_other_versions("8.100")
    assert wait_for(lambda: len(recorder.seen) == 3)
    time.sleep(0.3)
    assert [key for _, _, key in recorder.seen] == ["7.100", "8.100", "8.100"]


@pytest.mark.django_db
def test_an_edge_that_is_down_or_refuses_is_logged_and_the_write_stands(
    settings, recorder, caplog, django_capture_on_commit_callbacks
):
    recorder.status = 403
    settings.EDGE_BAN_URLS = [f"http://127.0.0.1:{free_port()}", recorder_url(recorder)]
    settings.EDGE_REBAN_SECONDS = 60
    story = ArticleFactory()
    with (
        caplog.at_level(logging.WARNING, logger="articles.edge"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        story.title = "엣지가 없어도"
        save_story(story, by=None)
    story.refresh_from_db()
    assert story.title == "엣지가 없어도"
    messages = [record.getMessage() for record in caplog.records]
    assert any("could not be told" in message for message in messages), messages
    assert any("refused the ban" in message and "403" in message for message in messages)


def recorder_url(recorder) -> str:
    return f"http://127.0.0.1:{recorder.server_port}"


def test_without_edges_nothing_is_sent(settings, recorder):
    settings.EDGE_BAN_URLS = []
    edge.ban_other_versions("1.0")
    assert recorder.seen == []


@pytest.mark.parametrize("value", ["varnish:6081", "ftp://edge", "http://", "http://a b"])
def test_edge_addresses_must_be_http_urls(value):
    with pytest.raises(ImproperlyConfigured, match=r"^EDGE_BAN_URLS must be http:// or https://"):
        env_http_urls("EDGE_BAN_URLS", env={"EDGE_BAN_URLS": f"http://ok:1, {value}"})


def test_edge_addresses_are_read_as_a_list():
    env = {"EDGE_BAN_URLS": " http://10.0.0.5:6081 , https://edge.example.com/ban "}
    assert env_http_urls("EDGE_BAN_URLS", env=env) == [
        "http://10.0.0.5:6081",
        "https://edge.example.com/ban",
    ]


# --- deploy/varnish.vcl in a real Varnish --------------------------------------------------


@pytest.fixture
def varnish(recorder):
    """Varnish with the shipped VCL on a free port, in front of the recorder as its backend."""
    if not Path(VARNISHD).exists():
        pytest.skip("needs Varnish (Debian: apt-get install varnish)")
    port = free_port()
    # Varnish's own user reads the VCL and keeps its work files: a folder it can reach.
    work = Path("/tmp") / f"varnish-test-{port}"
    folder = work / "vcl"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "deploy" / "varnish.vcl", folder / "culture.vcl")
    (folder / "culture-backend.vcl").write_text(
        f'backend default {{ .host = "127.0.0.1"; .port = "{recorder.server_port}"; }}\n'
    )
    for path in (work, folder, *folder.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    command = [VARNISHD, "-F", "-n", str(work / "state"), "-a", f"127.0.0.1:{port}", "-T", "none"]
    command += ["-f", str(folder / "culture.vcl"), "-p", f"vcl_path={folder}", "-s", "malloc,16m"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if not wait_for(lambda: answers(port), seconds=20):
            process.terminate()
            pytest.fail(f"varnishd did not start: {process.communicate(timeout=5)[0][-2000:]}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def answers(port) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def fetch(port, path, method="GET", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


@pytest.mark.varnish
def test_varnish_keeps_public_pages_and_shares_them_whatever_cookies_a_reader_has(
    varnish, recorder
):
    first = fetch(varnish, "/?v=3.5")
    assert first[1]["X-Edge"] == "miss"
    with_token = fetch(varnish, "/?v=3.5", headers={"Cookie": "csrftoken=abc; theme=dark"})
    assert with_token[1]["X-Edge"] == "hit"
    assert with_token[2] == first[2]
    assert [seen for seen in recorder.seen if seen[0] == "GET"] == [("GET", "/?v=3.5", None)]

    # A signed-in session is the site's to answer, with its cookie, and so is a browser that
    # has just written (read from the primary database); so are the admin and the API.
    signed_in = fetch(varnish, "/?v=3.5", headers={"Cookie": "csrftoken=abc; sessionid=s1"})
    assert signed_in[1]["X-Edge"] == "miss"
    assert recorder.seen[-1] == ("GET", "/?v=3.5", "csrftoken=abc; sessionid=s1")
    just_wrote = fetch(varnish, "/?v=3.5", headers={"Cookie": "primary=signed"})
    assert just_wrote[1]["X-Edge"] == "miss"
    assert recorder.seen[-1] == ("GET", "/?v=3.5", "primary=signed")
    fetch(varnish, "/admin/?v=3.5", headers={"Cookie": "csrftoken=abc"})
    assert recorder.seen[-1] == ("GET", "/admin/?v=3.5", "csrftoken=abc")


@pytest.mark.varnish
def test_each_answer_from_the_edge_has_a_request_id_of_its_own(varnish, recorder):
    ids = [fetch(varnish, "/api/v1/stories?v=3.5")[1]["X-Request-ID"] for _ in range(3)]
    assert ids[0] == "site-1"  # the request that rendered it
    assert all(one.startswith("edge-") for one in ids[1:])
    assert len(set(ids)) == 3


@pytest.mark.varnish
def test_varnish_never_keeps_a_private_page(varnish, recorder):
    for _ in range(2):
        status, headers, _ = fetch(varnish, "/preview?private=1")
        assert status == 200
        assert headers["X-Edge"] == "miss"
    assert len([seen for seen in recorder.seen if seen[0] == "GET"]) == 2


@pytest.mark.varnish
def test_a_ban_drops_the_pages_of_other_versions_and_keeps_the_new_ones(varnish, recorder):
    fetch(varnish, "/old?v=3.5")
    fetch(varnish, "/new?v=4.5")
    assert fetch(varnish, "/old?v=3.5")[1]["X-Edge"] == "hit"

    assert edge.send_ban([f"http://127.0.0.1:{varnish}"], "4.5") == []
    assert fetch(varnish, "/old?v=3.5")[1]["X-Edge"] == "miss"
    assert fetch(varnish, "/new?v=4.5")[1]["X-Edge"] == "hit"


@pytest.mark.varnish
def test_varnish_refuses_a_ban_without_a_version(varnish):
    status, _, body = fetch(varnish, "/", method="BAN")
    assert status == 400
    assert "X-Content-Version" in body
    assert edge.send_ban([f"http://127.0.0.1:{varnish}"], "all") == [f"http://127.0.0.1:{varnish}"]
