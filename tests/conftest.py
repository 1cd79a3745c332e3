import hashlib
import os
import pickle
import shutil
from pathlib import Path

import PIL
import pytest
from django.core.cache import caches
from django.db import connection, connections

from articles import renditions
from reader import beacon, cards
from tests import api_support, browser_support, repository_support
from tests.factories import StaffFactory, UserFactory

ROOT = Path(__file__).resolve().parents[1]

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# The TheTeams page dump the import is checked against lives beside the repository, never in it.
SEED_DIR = Path(os.environ.get("SEED_DIR", Path(__file__).resolve().parents[2] / "shared" / "seed"))

# CI sets REQUIRE_MARKERS=postgres,browser on the run where those tests must run: a skipped
# test with one of these markers then fails the session instead of passing quietly.
REQUIRED_MARKERS = {m for m in os.environ.get("REQUIRE_MARKERS", "").split(",") if m}


def pytest_configure(config):
    """A fast password hasher for the suite. Production keeps Django's PBKDF2 (a million
    rounds): every test user would pay that for each set_password() and login, which made
    hashing most of the suite's time. What the tests check of passwords (right or wrong,
    lockouts) does not depend on the hasher. And a memo of encoded pictures."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Each browser test seeds the demo, whose pictures are the same every time: keep their
    # encoded renditions (articles/renditions.py) instead of encoding them again per test.
    settings.RENDITION_MEMO_BYTES = 64 * 1024 * 1024
    # Tests serve static files from the sources (the finders), never from STATIC_ROOT. Left
    # pointing at the checkout's staticfiles/, which `bin/demo` fills, WhiteNoise would walk
    # its hundreds of files again for every new test Client (each loads the middleware): the
    # suite took 20 s longer after a `bin/demo` than on a fresh checkout.
    settings.STATIC_ROOT = ROOT / "staticfiles-not-used-by-tests"


def uses_the_server_directly(module) -> bool:
    """Whether a test module reaches DATABASE_URL's server outside its test database: it
    imports tests/postgres_support.py or names from it (DATABASE_URL's own database, scratch
    databases, PgBouncer, `manage.py` in fresh processes)."""
    return any(
        "tests.postgres_support"
        in (getattr(value, "__module__", None), getattr(value, "__name__", None))
        for value in vars(module).values()
    )


# On PostgreSQL the suite runs in two processes (bin/test), each on a test database of its
# own; the tests that reach the server in other ways (marked `postgres`, or using
# postgres_support) all run in one of them, one after another: they share DATABASE_URL's
# database and watch the server's connections and locks.
SERVER_GROUP = pytest.mark.xdist_group("postgres-server")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    skip_postgres = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://…")
    skip_browser = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}")
    for item in items:
        if ON_POSTGRES and (
            item.get_closest_marker("postgres") or uses_the_server_directly(item.module)
        ):
            item.add_marker(SERVER_GROUP)
        if item.get_closest_marker("postgres") and not ON_POSTGRES:
            item.add_marker(skip_postgres)
        if item.get_closest_marker("browser") and not CHROMIUM.exists():
            item.add_marker(skip_browser)
        if item.get_closest_marker("seed") and not SEED_DIR.is_dir():
            item.add_marker(pytest.mark.skip(reason=f"needs the seed page dump in {SEED_DIR}"))


_skipped_required = []


def pytest_runtest_logreport(report):
    # From the report's keywords (its markers among them), not from collection: with
    # pytest-xdist the reports reach the controller, which collects nothing itself.
    if report.skipped and any(name in report.keywords for name in REQUIRED_MARKERS):
        _skipped_required.append(report.nodeid)


_repository_before = None


def pytest_sessionstart(session):
    global _repository_before
    if os.environ.get("GUARD_TRACKED_FILES") == "1":
        _repository_before = repository_support.snapshot(ROOT)


def pytest_sessionfinish(session, exitstatus):
    if _skipped_required:
        print(f"\n{len(_skipped_required)} required test(s) were skipped:")
        for nodeid in _skipped_required:
            print(f"  {nodeid}")
        session.exitstatus = 1
    if _repository_before is not None:
        exempt = os.environ.get("SCREENSHOTS_DIR")
        after = repository_support.snapshot(ROOT) or {}
        changed = repository_support.changes(
            _repository_before, after, Path(exempt) if exempt else None, ROOT
        )
        if changed:
            print(f"\nThe test run changed {len(changed)} file(s) of the repository:")
            for path in changed:
                print(f"  {path}")
            session.exitstatus = 1


class SharedRenditionMemo(renditions.Memo):
    """The memo of encoded renditions, also kept as files in a folder that the test processes
    of every run share: the demo's pictures are encoded once, not again in each run and each
    worker (about 6 s of CPU per process that draws them)."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder

    def _file(self, key) -> Path:
        return self.folder / hashlib.sha256(repr(key).encode()).hexdigest()

    def get(self, key):
        made = super().get(key)
        if made is None:
            try:
                made = pickle.loads(self._file(key).read_bytes())  # our own files
            except FileNotFoundError:
                return None
            super().keep(key, made)
        return made

    def keep(self, key, made) -> None:
        super().keep(key, made)
        target = self._file(key)
        partial = target.with_name(f"{target.name}.{os.getpid()}")
        partial.write_bytes(pickle.dumps(made))
        partial.replace(target)  # another process reads a whole file or none


def rendition_memo_folder(config) -> Path:
    """A folder in pytest's cache (.pytest_cache, git-ignored) named by what an encoding
    depends on besides the original's bytes and widths (the memo's key): the code that
    encodes and Pillow's version. A change to either starts an empty folder."""
    encoder = hashlib.sha256(Path(renditions.__file__).read_bytes())
    encoder.update(PIL.__version__.encode())
    folder = config.cache.mkdir(f"renditions-{encoder.hexdigest()[:16]}")
    for older in folder.parent.glob("renditions-*"):
        if older != folder:
            shutil.rmtree(older, ignore_errors=True)
    return folder


@pytest.fixture(scope="session", autouse=True)
def shared_rendition_memo(request):
    kept, renditions._memo = (
        renditions._memo,
        SharedRenditionMemo(rendition_memo_folder(request.config)),
    )
    yield
    renditions._memo = kept


@pytest.fixture(autouse=True)
def fresh_page_cache():
    """Every test starts without cached pages. (The content version lives in the default
    cache, a database table that each test's transaction rolls back, so its numbers repeat
    from test to test: the kept story cards, filed under them, go too.)"""
    caches["answers"].clear()
    cards.forget()
    beacon.forget()


@pytest.fixture(autouse=True)
def api_rate_limits_off(settings):
    """The API's rate limits count in the default cache. Tests turn them on where they test
    them (tests/test_api_errors.py); elsewhere they would only add cache queries to the
    query counts the API tests pin."""
    settings.API_THROTTLE_RATES = {"read": None, "write": None}


@pytest.fixture
def seed_file() -> Path:
    """The TheTeams page dump with three real stories."""
    return sorted(SEED_DIR.glob("*.txt"))[0]


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by Playwright (tests marked `browser`): one per test
    process (tests/browser_support.py chromium_session())."""
    pytest.importorskip("playwright.sync_api")
    with browser_support.chromium_session(CHROMIUM) as browser:
        yield browser


class ConnectionsBack:
    """A WSGI application's wrapper: the request's thread gives its database connections back
    once the response is done, as every request of a gunicorn worker does.

    The live server answers a browser's keep-alive connection in a thread that lives as long
    as the socket, and Django's request_finished (which gives connections back) can miss: the
    test client disconnects that signal, for every thread, while it closes a response of its
    own. A thread that kept its pool connection then starved the pool tests run after it in
    the same process. An in-memory SQLite database shared with the test ignores the close."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        try:
            response = self.application(environ, start_response)
        except BaseException:
            connections.close_all()
            raise
        return _ClosingThenBack(response)


class _ClosingThenBack:
    def __init__(self, response):
        self.response = response

    def __iter__(self):
        return iter(self.response)

    def close(self):
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            connections.close_all()


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, with the site's WSGI application in front as gunicorn
    serves it (culture/wsgi.py): the 조회수 beacon's gate before Django's handler, so that the
    browser tests count views the way production does; around both, ConnectionsBack."""
    from pytest_django.live_server_helper import LiveServer

    address = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(address, start=False)
    static_files = server.thread.static_handler
    server.thread.static_handler = lambda application: ConnectionsBack(
        beacon.BeaconGate(static_files(application))
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def page_pool(chromium):
    return browser_support.PagePool(chromium)


@pytest.fixture
def browser(page_pool):
    """Each test's browser windows (new_context()), lent from the session's pool
    (tests/browser_support.py) and given back, emptied, when the test ends."""
    lending = browser_support.LendingBrowser(page_pool)
    yield lending
    lending.give_back_all()


@pytest.fixture
def unbounded_pool_queue():
    """For tests that run more threads than a gunicorn worker has: with the native pool on,
    let them all queue for its connections instead of meeting DB_POOL_MAX_WAITING."""
    pool = getattr(connection, "pool", None)
    if pool is None:
        yield
        return
    bound, pool.max_waiting = pool.max_waiting, 0
    try:
        yield
    finally:
        pool.max_waiting = bound


@pytest.fixture
def user(db):
    """The API writing tests' staff member: may add, change and publish stories."""
    return api_support.editor()


@pytest.fixture
def token(user):
    """An API token of `user` with both scopes, stories:write and stories:publish."""
    return api_support.token_for(user, "stories:write", "stories:publish")


@pytest.fixture
def log_in(client):
    """Log the test client in as a new staff member with a role (writer, editor, admin)."""

    def log_in(role="editor", **fields):
        user = StaffFactory(role=role, **fields)
        client.force_login(user)
        return user

    return log_in


@pytest.fixture
def editor(log_in):
    return log_in("editor")


@pytest.fixture
def writer(log_in):
    return log_in("writer")


@pytest.fixture
def editor_client(client, editor):
    return client


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Uploaded pictures and their renditions go to a temporary folder, never the checkout's
    media/ (the demo seed draws pictures, and tests attach some)."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT
