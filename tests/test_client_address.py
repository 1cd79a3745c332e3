"""Whom the site believes about a request's client address and scheme: one rule
(ops.http.client_ip, from TRUSTED_PROXY_COUNT, CLIENT_IP_HEADER and FORWARDED_ALLOW_IPS) for
the API's rate limits, login lockouts and gunicorn's access log, and gunicorn.conf.py
trusting forwarded schemes from the same peers only."""

from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.test import Client, RequestFactory
from gunicorn.app.base import Application
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

from culture.env import parse_rate
from ops.http import client_ip
from tests.api_support import API, error_of
from tests.factories import PASSWORD, StaffFactory

REPO = Path(__file__).resolve().parents[1]
LB = "10.0.0.5"  # the load balancer, the site's peer
EDGE = "192.0.2.40"  # a CDN edge in front of it


def address(settings, *, proxies=0, header=None, allowed=(), remote=LB, **meta) -> str | None:
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.CLIENT_IP_HEADER = header
    settings.FORWARDED_ALLOW_IPS = list(allowed)
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **meta))


# --- the rule ---------------------------------------------------------------------------------


def test_with_no_trusted_proxy_forwarding_headers_are_ignored(settings):
    spoofed = {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "HTTP_CF_CONNECTING_IP": "203.0.113.8"}

    assert address(settings, remote="198.51.100.1", **spoofed) == "198.51.100.1"


def test_behind_one_proxy_the_client_is_the_address_it_appended(settings):
    assert address(settings, proxies=1, HTTP_X_FORWARDED_FOR="198.51.100.7") == "198.51.100.7"


def test_behind_a_cdn_and_a_balancer_a_forged_entry_on_the_left_is_ignored(settings):
    # The client wrote 203.0.113.66; the CDN appended the client, the balancer the CDN edge.
    chain = f"203.0.113.66, 198.51.100.7, {EDGE}"

    assert address(settings, proxies=2, HTTP_X_FORWARDED_FOR=chain) == "198.51.100.7"
    # Counted as one proxy, the edge itself would be every reader's address.
    assert address(settings, proxies=1, HTTP_X_FORWARDED_FOR=chain) == EDGE


def test_a_chain_shorter_than_the_proxies_falls_back_to_the_peer(settings):
    # Not through every proxy (the balancer's own probe, a request past the CDN): none of
    # the entries can be trusted, the peer cannot be forged.
    assert address(settings, proxies=2, HTTP_X_FORWARDED_FOR="203.0.113.66") == LB
    assert address(settings, proxies=2) == LB


def test_the_edge_header_is_used_when_set_and_the_chain_when_it_is_absent(settings):
    chain = {"HTTP_X_FORWARDED_FOR": f"198.51.100.7, {EDGE}"}
    edge_says = {"HTTP_CF_CONNECTING_IP": "198.51.100.99"}

    assert (
        address(settings, proxies=2, header="CF-Connecting-IP", **chain, **edge_says)
        == "198.51.100.99"
    )
    assert address(settings, proxies=2, header="CF-Connecting-IP", **chain) == "198.51.100.7"
    assert (
        address(settings, proxies=2, header="CF-Connecting-IP", HTTP_CF_CONNECTING_IP="nonsense", **chain)
        == "198.51.100.7"
    )  # fmt: skip


def test_ipv6_addresses_come_back_in_one_spelling(settings):
    assert address(settings, remote="2001:DB8::0:1") == "2001:db8::1"
    assert address(settings, proxies=1, HTTP_X_FORWARDED_FOR="2001:db8:0::7") == "2001:db8::7"
    assert address(settings, proxies=1, HTTP_X_FORWARDED_FOR="[2001:db8::7]:4711") == "2001:db8::7"
    assert address(settings, proxies=1, HTTP_X_FORWARDED_FOR="198.51.100.7:4711") == "198.51.100.7"
    assert (
        address(settings, proxies=1, HTTP_X_FORWARDED_FOR="::ffff:198.51.100.7") == "198.51.100.7"
    )
    assert (
        address(settings, proxies=2, HTTP_X_FORWARDED_FOR="2001:db8::66, 2001:db8::7, 2001:db8::e")
        == "2001:db8::7"
    )


@pytest.mark.parametrize(
    "garbage", ["unknown", "198.51.100.999", "", " ", "_hidden", "2001:db8::zz", "1.2.3.4.5"]
)
def test_an_entry_that_is_not_an_address_counts_as_absent(settings, garbage):
    assert address(settings, proxies=1, HTTP_X_FORWARDED_FOR=garbage) == LB
    assert (
        address(settings, proxies=1, header="True-Client-IP", HTTP_TRUE_CLIENT_IP=garbage,
                HTTP_X_FORWARDED_FOR="198.51.100.7")
        == "198.51.100.7"
    )  # fmt: skip


def test_a_peer_that_forwarded_allow_ips_does_not_name_is_taken_at_its_word(settings):
    forged = {"HTTP_X_FORWARDED_FOR": "203.0.113.66", "HTTP_CF_CONNECTING_IP": "203.0.113.67"}
    kwargs = {"proxies": 1, "header": "CF-Connecting-IP", "allowed": ["10.0.0.0/24"]}

    assert address(settings, remote="198.51.100.1", **kwargs, **forged) == "198.51.100.1"
    assert address(settings, remote=LB, **kwargs, **forged) == "203.0.113.67"
    assert address(settings, remote=LB, **{**kwargs, "allowed": ["*"]}, **forged) == "203.0.113.67"


def test_no_address_at_all_is_none(settings):
    # gunicorn on a Unix socket: REMOTE_ADDR is empty.
    assert address(settings, remote="") is None
    # As gunicorn does, a peer without an IP address is a local proxy, allowed to forward.
    assert address(settings, proxies=1, allowed=["10.0.0.0/8"], remote="",
                   HTTP_X_FORWARDED_FOR="198.51.100.7") == "198.51.100.7"  # fmt: skip


# --- the same address for the rate limit and the lockout -------------------------------------


@pytest.mark.django_db
def test_two_readers_behind_one_trusted_edge_each_get_their_own_limit(client, settings):
    settings.API_THROTTLE_RATES = {"read": parse_rate("2/min"), "write": None}
    settings.TRUSTED_PROXY_COUNT = 2

    def read(reader, forged=""):
        chain = f"{forged}{reader}, {EDGE}"
        return client.get(f"{API}/stories", REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR=chain)

    first = [read("198.51.100.7").status_code for _ in range(2)]
    # A new forged entry on the left each time does not make a new client.
    limited = read("198.51.100.7", forged="203.0.113.1, ")
    other = read("198.51.100.8")

    assert first == [200, 200]
    error_of(limited, 429, "throttled")
    assert other.status_code == 200


@pytest.mark.django_db
def test_the_login_lockout_counts_the_same_client_behind_the_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    StaffFactory(username="target", role="editor")

    def login(reader, password, forged=""):
        return Client().post(
            "/admin/login/",
            {"username": "target", "password": password, "next": "/admin/"},
            REMOTE_ADDR=LB,
            HTTP_X_FORWARDED_FOR=f"{forged}{reader}, {EDGE}",
        )

    for n in range(5):
        login("198.51.100.7", "wrong", forged=f"203.0.113.{n}, ")
    assert login("198.51.100.7", PASSWORD).status_code == 429
    # Another reader behind the same edge and balancer still logs in.
    assert login("198.51.100.8", PASSWORD).status_code == 302


# --- gunicorn: the scheme and the access log ------------------------------------------------


class ConfigFile(Application):
    """gunicorn's configuration as `gunicorn -c gunicorn.conf.py` reads it (no command line)."""

    def load_config(self):
        self.load_config_from_file(str(REPO / "gunicorn.conf.py"))

    def load(self):
        raise AssertionError("only the configuration is read")


def through_gunicorn(cfg, peer: str, headers: dict[str, str]):
    """The WSGI environ gunicorn builds for a GET / from `peer` with `headers`."""
    raw = "GET / HTTP/1.1\r\nHost: testserver\r\n"
    raw += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    request = next(RequestParser(cfg, iter([raw.encode()]), (peer, 40000)))
    response, environ = wsgi.create(request, mock.Mock(), (peer, 40000), ("10.0.0.9", 8000), cfg)
    return request, response, environ


@pytest.fixture
def gunicorn_config(monkeypatch):
    def load(**env):
        for name in ("TRUSTED_PROXY_COUNT", "BEHIND_PROXY", "CLIENT_IP_HEADER"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return ConfigFile().cfg

    return load


SCHEME_HEADERS = [
    {"X-Forwarded-Proto": "https"},
    {"X-Forwarded-Ssl": "on"},
    {"X-Forwarded-Protocol": "ssl"},
]


@pytest.mark.parametrize("peer", ["127.0.0.1", "::1", "198.51.100.1"])
@pytest.mark.parametrize("headers", SCHEME_HEADERS)
def test_without_a_trusted_proxy_no_header_makes_a_request_secure(
    gunicorn_config, settings, peer, headers
):
    cfg = gunicorn_config()
    settings.SECURE_PROXY_SSL_HEADER = None  # what settings.py sets without a trusted proxy
    _, _, environ = through_gunicorn(cfg, peer, headers)

    request = WSGIRequest(environ)
    assert environ["wsgi.url_scheme"] == "http"
    assert request.scheme == "http"
    assert not request.is_secure()


def test_behind_a_trusted_proxy_only_x_forwarded_proto_from_an_allowed_peer_counts(
    gunicorn_config, settings
):
    cfg = gunicorn_config(TRUSTED_PROXY_COUNT="2", FORWARDED_ALLOW_IPS="10.0.0.0/24")
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    def scheme(peer, headers):
        return through_gunicorn(cfg, peer, headers)[2]["wsgi.url_scheme"]

    assert scheme(LB, {"X-Forwarded-Proto": "https"}) == "https"
    assert scheme("198.51.100.1", {"X-Forwarded-Proto": "https"}) == "http"
    assert scheme(LB, {"X-Forwarded-Ssl": "on"}) == "http"
    assert scheme(LB, {"X-Forwarded-Protocol": "ssl"}) == "http"
    _, _, environ = through_gunicorn(cfg, LB, {"X-Forwarded-Proto": "https"})
    assert WSGIRequest(environ).is_secure()


def test_gunicorn_trusts_no_peer_without_a_proxy_and_any_or_the_named_ones_with_one(
    gunicorn_config,
):
    assert gunicorn_config().forwarded_allow_ips == []
    assert gunicorn_config(BEHIND_PROXY="true").forwarded_allow_ips == ["*"]
    named = gunicorn_config(TRUSTED_PROXY_COUNT="1", FORWARDED_ALLOW_IPS="10.0.0.5, fd00::/8")
    assert named.forwarded_allow_ips == ["10.0.0.5", "fd00::/8"]
    assert named.secure_scheme_headers == {"X-FORWARDED-PROTO": "https"}
    assert named.forwarder_headers == []


def test_the_access_log_prints_the_client_the_site_counts(gunicorn_config, settings):
    cfg = gunicorn_config(TRUSTED_PROXY_COUNT="2")
    settings.TRUSTED_PROXY_COUNT = 2
    request, response, environ = through_gunicorn(
        cfg, LB, {"X-Forwarded-For": f"203.0.113.66, 198.51.100.7, {EDGE}"}
    )
    response.status = "200 OK"

    atoms = cfg.logger_class(cfg).atoms(response, request, environ, timedelta(seconds=0.01))

    assert atoms["h"] == "198.51.100.7"
    assert atoms["{remote_addr}e"] == LB
