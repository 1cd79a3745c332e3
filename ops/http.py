"""What the site trusts about a request and adds to every response: the client address that
the API's rate limits, login lockouts (django-axes) and gunicorn's access log all use, the
scheme a proxy may tell, which answers no shared cache may keep, the Content-Security-Policy
and Permissions-Policy headers."""

import ipaddress
from collections.abc import Mapping
from functools import cache, lru_cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.signals import setting_changed
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject, empty


def client_ip(request) -> str | None:
    """The address a request came from (AXES_CLIENT_IP_CALLABLE points here)."""
    return client_address(request.META)


def client_address(meta: Mapping[str, str]) -> str | None:
    """The client's address from a WSGI environ, by the one rule the site trusts
    (settings.TRUSTED_PROXY_COUNT, CLIENT_IP_HEADER and FORWARDED_ALLOW_IPS):

    - no trusted proxy: the peer (REMOTE_ADDR); forwarding headers are the client's own words;
    - a peer that FORWARDED_ALLOW_IPS does not name: the peer, whatever it sends;
    - CLIENT_IP_HEADER, when the request carries a valid address in it;
    - else the TRUSTED_PROXY_COUNT-th address from the right of X-Forwarded-For: each trusted
      proxy appended the address it was sent from, and anything to the left of theirs was
      written by the client, which could name any address to dodge a limit or a lockout;
    - a chain shorter than that, or an entry that is not an address: the peer. Such a request
      did not come through every proxy, so no entry of it can be trusted, while the peer
      cannot be forged.

    Addresses come back in one spelling (2001:db8::1, IPv4 for ::ffff:192.0.2.1), so one
    client is one key; None when not even the peer has one (a Unix socket)."""
    peer = _address(meta.get("REMOTE_ADDR", ""))
    if not from_trusted_proxy(meta):
        return peer
    proxies = settings.TRUSTED_PROXY_COUNT
    if settings.CLIENT_IP_HEADER:
        named = _address(meta.get(_meta_key(settings.CLIENT_IP_HEADER), ""))
        if named is not None:
            return named
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    chain = forwarded.split(",") if forwarded.strip() else []
    if len(chain) < proxies:
        return peer
    return _address(chain[-proxies]) or peer


def from_trusted_proxy(meta: Mapping[str, str]) -> bool:
    """Whether the peer may send forwarding headers: a proxy is trusted
    (TRUSTED_PROXY_COUNT) and FORWARDED_ALLOW_IPS names the peer (or names none)."""
    if not settings.TRUSTED_PROXY_COUNT:
        return False
    peer = _address(meta.get("REMOTE_ADDR", ""))
    return _peer_allowed(peer, tuple(settings.FORWARDED_ALLOW_IPS))


# The headers that claim a request came over https. Django reads only X-Forwarded-Proto
# (SECURE_PROXY_SSL_HEADER), gunicorn only that one too (gunicorn.conf.py); the others go as
# well, so that nothing behind this point can be told a scheme by the client.
SCHEME_HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_SSL", "HTTP_X_FORWARDED_PROTOCOL")


class ForwardedSchemeMiddleware:
    """Drop the scheme headers of a request whose peer is not a trusted proxy.

    SECURE_PROXY_SSL_HEADER believes X-Forwarded-Proto from any peer once a proxy is trusted,
    and gunicorn passes the header on even from a peer it does not trust (it only leaves
    wsgi.url_scheme alone): a client that reaches a worker past the proxies could otherwise
    make request.is_secure() true and every absolute URL built from the request (the API's
    `url` fields, Location headers) https. First in MIDDLEWARE, before SecurityMiddleware
    reads the scheme."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        forget_untrusted_scheme(request.META)
        return self.get_response(request)


def forget_untrusted_scheme(meta) -> None:
    """ForwardedSchemeMiddleware's rule on a request's META (the view beacon's gate, which
    comes before the middleware, applies it too: reader/beacon.py)."""
    if not from_trusted_proxy(meta):
        for key in SCHEME_HEADERS:
            meta.pop(key, None)


# Most requests come from a few addresses (the proxies, the clients they forward): parsing each
# once is enough. Bounded: any text a client sends may come here.
@lru_cache(maxsize=1024)
def _address(text: str) -> str | None:
    """An IP address in its canonical spelling, or None. Takes the forms proxies write:
    bare, [IPv6], and with a port (192.0.2.1:4711, [2001:db8::1]:4711)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple | None:
    """FORWARDED_ALLOW_IPS as networks; None for any peer (empty, or "*")."""
    if not allowed or "*" in allowed:
        return None
    return tuple(ipaddress.ip_network(item) for item in allowed)


def _peer_allowed(peer: str | None, allowed: tuple[str, ...]) -> bool:
    # As gunicorn does: a peer without an IP address (a Unix socket) is a local proxy.
    networks = _networks(allowed)
    if networks is None or peer is None:
        return True
    address = ipaddress.ip_address(peer)
    return any(address in network for network in networks)


def _meta_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


class PrivateAnswersMiddleware:
    """Answers no shared cache may keep:

    - every answer to a signed-in user (staff pages carry editor links and drafts, the
      admin its forms): `private, no-store`, kept by no cache at all, unless the view
      already made it private its own way;
    - every answer that sets a cookie (a session, the CSRF token, the 조회수 cookie): at least
      `private`, so a shared cache never hands one reader's cookie to another.

    Before SessionMiddleware and CsrfViewMiddleware in MIDDLEWARE, so it sees the cookies
    they set. (Public caching of anonymous pages is not decided here.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if not _is_private(response):
                patch_cache_control(response, private=True, no_store=True)
        elif response.cookies:
            patch_cache_control(response, private=True)
        return response


def _is_private(response) -> bool:
    """Whether the view already said how its private answer is kept (the API's editor read:
    private, no-cache, so that its ETag can answer 304)."""
    directives = response.get("Cache-Control", "").lower().split(",")
    return "private" in {directive.strip() for directive in directives}


class PermissionsPolicyMiddleware:
    """Switch off browser features no page of the site uses (settings.PERMISSIONS_POLICY)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = ", ".join(
            f"{feature}=({' '.join(allow)})"
            for feature, allow in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the policy of settings.CONTENT_SECURITY_POLICY (and
    _REPORT_ONLY) built once per process instead of for every response (40 µs of every
    answer). An answer with a policy of its own (django-csp's decorators) or a request that
    took a nonce goes through django-csp as it is."""

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in _OWN_POLICY
        ):
            return super().process_response(request, response)
        if response.status_code in (404, 500) and settings.DEBUG:
            return response  # Django's debug pages, as django-csp leaves them
        for header, policy, exempt, setting in zip(
            (HEADER, HEADER_REPORT_ONLY),
            settings_policies(),
            ("_csp_exempt", "_csp_exempt_ro"),
            ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
            strict=True,
        ):
            if not policy or header in response or getattr(response, exempt, False):
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES")
            if not request.path_info.startswith(tuple(prefixes or ())):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


# What django-csp's decorators set on a response that has a policy of its own.
_OWN_POLICY = tuple(
    f"_csp_{part}{suffix}" for part in ("config", "update", "replace") for suffix in ("", "_ro")
)


@cache
def settings_policies() -> tuple[str, str]:
    """The Content-Security-Policy and its report-only twin the settings ask for ("": none)."""
    return build_policy(), build_policy(report_only=True)


def _settings_changed(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        settings_policies.cache_clear()


setting_changed.connect(_settings_changed)


class LazyMessageMiddleware(MessageMiddleware):
    """Django's messages, their storage made when a request first uses it (an editor's page
    that adds or shows one): making it for every request (a cookie and a session store, the
    storage class looked up by name) cost each reader's page 10 µs for nothing. A storage
    never made has nothing to update in the response, as one made and never used."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        storage = getattr(request, "_messages", None)
        if isinstance(storage, SimpleLazyObject) and storage._wrapped is empty:
            return response
        return super().process_response(request, response)
