"""The one reader of environment variables, for settings.py, database.py and gunicorn.conf.py.

Every parser reads `env` (os.environ unless given, so database_config() stays a pure function
of its mapping), strips the value and treats an empty one as unset, as `NAME=` in a .env file.
A bad value is refused at startup with one message shape naming the variable and the value:
"NAME must be <what it must be>, got 'value'." Only Django's exception is imported, never its
settings, so gunicorn.conf.py can read its own variables before Django is set up.
"""

import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_WHOLE = re.compile(r"\d+", re.ASCII)
# Plain decimals only: this also keeps out nan, inf, negatives, exponents and underscores.
_DECIMAL = re.compile(r"\d+(?:\.\d+)?|\.\d+", re.ASCII)
_RATE = re.compile(r"(\d+)/(s|sec|m|min|h|hour|d|day)", re.ASCII)
_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
# A header field name (RFC 9110 token), without the underscore that servers drop or confuse.
_HEADER = re.compile(r"[A-Za-z0-9!#$%&'*+.^`|~-]+", re.ASCII)
# Headers that hold a list of addresses, which TRUSTED_PROXY_COUNT reads, not one address.
_LIST_HEADERS = frozenset({"x-forwarded-for", "forwarded"})


class Rate(NamedTuple):
    """A request limit: `count` requests per window of `seconds`."""

    count: int
    seconds: int


def env_str(
    name: str, default: str | None = None, *, env: Mapping[str, str] = os.environ
) -> str | None:
    """The stripped value, or `default` when it is unset or empty."""
    return env.get(name, "").strip() or default


def env_bool(name: str, default: bool, *, env: Mapping[str, str] = os.environ) -> bool:
    raw = env_str(name, env=env)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise _refusal(name, "true or false (or 1/0, yes/no, on/off)", raw)


def env_whole(
    name: str, default: int | None, *, minimum: int = 0, env: Mapping[str, str] = os.environ
) -> int | None:
    """A whole number >= minimum; `default` (None: optional) when unset."""
    raw = env_str(name, env=env)
    if raw is None:
        return default
    if not _WHOLE.fullmatch(raw) or int(raw) < minimum:
        raise _refusal(name, f"a whole number >= {minimum}", raw)
    return int(raw)


def env_seconds(name: str, default: float, *, env: Mapping[str, str] = os.environ) -> float:
    """A duration above zero, fractions allowed."""
    raw = env_str(name, env=env)
    if raw is None:
        return default
    if not _DECIMAL.fullmatch(raw) or float(raw) <= 0:
        raise _refusal(name, "a number of seconds > 0", raw)
    return float(raw)


def env_list(
    name: str, default: Sequence[str] = (), *, env: Mapping[str, str] = os.environ
) -> list[str]:
    """Comma-separated items, each stripped; empty items are dropped."""
    raw = env_str(name, env=env)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_http_urls(name: str, *, env: Mapping[str, str] = os.environ) -> list[str]:
    """Comma-separated http:// or https:// addresses (none when unset)."""
    urls = env_list(name, env=env)
    for url in urls:
        if not _HTTP_URL.fullmatch(url):
            raise _refusal(name, "http:// or https:// addresses separated by commas", url)
    return urls


def env_rate(name: str, default: str, *, env: Mapping[str, str] = os.environ) -> Rate:
    """A request rate written as 300/min (per s, min, hour or day)."""
    return parse_rate(env_str(name, default, env=env), name=name)


def parse_rate(text: str, *, name: str = "A rate") -> Rate:
    """ "300/min" -> Rate(count=300, seconds=60)."""
    match = _RATE.fullmatch(text.strip())
    if match is None:
        raise _refusal(name, "a number of requests per s, min, hour or day, such as 300/min", text)
    return Rate(int(match[1]), _PERIODS[match[2]])


class ProxyTrust(NamedTuple):
    """Who may tell the site a request's client address and scheme (ops/http.py, the
    settings' SECURE_PROXY_SSL_HEADER and gunicorn.conf.py all follow it)."""

    # Proxies in front of the site that each append their peer to X-Forwarded-For.
    proxies: int
    # A header the edge sets to the client's address (CF-Connecting-IP), or None.
    client_ip_header: str | None
    # The peers (addresses, networks) that may send forwarding headers when a proxy is
    # trusted; empty or "*": any peer. gunicorn's FORWARDED_ALLOW_IPS, read the same way.
    forwarded_allow_ips: list[str]


def proxy_trust(env: Mapping[str, str] = os.environ) -> ProxyTrust:
    """TRUSTED_PROXY_COUNT (BEHIND_PROXY=true is its old name for 1), CLIENT_IP_HEADER and
    FORWARDED_ALLOW_IPS, refusing settings that contradict each other: no proxy is trusted
    unless TRUSTED_PROXY_COUNT (or BEHIND_PROXY) says so, and the other two only narrow or
    refine that trust."""
    count = env_whole("TRUSTED_PROXY_COUNT", None, env=env)
    behind = (
        env_bool("BEHIND_PROXY", False, env=env)
        if env_str("BEHIND_PROXY", env=env) is not None
        else None
    )
    if behind is not None and count is not None and count != int(behind):
        raise ImproperlyConfigured(
            f"BEHIND_PROXY={str(behind).lower()} means TRUSTED_PROXY_COUNT={int(behind)}, but "
            f"TRUSTED_PROXY_COUNT is {count}: set only TRUSTED_PROXY_COUNT."
        )
    proxies = count if count is not None else int(bool(behind))

    header = env_str("CLIENT_IP_HEADER", env=env)
    if header is not None:
        if not _HEADER.fullmatch(header):
            raise _refusal("CLIENT_IP_HEADER", "a header name such as CF-Connecting-IP", header)
        if header.lower() in _LIST_HEADERS:
            raise _refusal(
                "CLIENT_IP_HEADER",
                "a header holding one address (TRUSTED_PROXY_COUNT reads X-Forwarded-For)",
                header,
            )
        if not proxies:
            raise ImproperlyConfigured(
                "CLIENT_IP_HEADER is set but TRUSTED_PROXY_COUNT is 0: a header from the edge "
                "is trusted only behind trusted proxies, so set TRUSTED_PROXY_COUNT too."
            )

    allowed = env_list("FORWARDED_ALLOW_IPS", env=env)
    for item in allowed:
        try:
            if item != "*":
                ipaddress.ip_network(item)
        except ValueError:
            raise _refusal(
                "FORWARDED_ALLOW_IPS", "addresses or networks (10.0.0.0/8), or *", item
            ) from None
    if allowed and not proxies:
        raise ImproperlyConfigured(
            "FORWARDED_ALLOW_IPS is set but TRUSTED_PROXY_COUNT is 0: with no trusted proxy "
            "no peer may send forwarding headers, so set TRUSTED_PROXY_COUNT or neither."
        )
    return ProxyTrust(proxies, header, allowed)


MEDIA_STORAGES = ("filesystem", "s3")
_HTTP_URL = re.compile(r"https?://[^/\s?#]+(?:/[^\s?#]*)?", re.ASCII)


def media_storage(cache_control: str, env: Mapping[str, str] = os.environ) -> dict:
    """The STORAGES["default"] entry from MEDIA_STORAGE: "filesystem" (MEDIA_ROOT, a folder
    every host shares) or "s3" (S3-compatible object storage through django-storages, set by
    the S3_* variables). Refuses what cannot work: a bucket missing, half a key pair, a URL
    that is not http(s). Objects are stored with `cache_control`, the header a served upload
    gets."""
    kind = env_str("MEDIA_STORAGE", "filesystem", env=env).lower()
    if kind not in MEDIA_STORAGES:
        raise _refusal("MEDIA_STORAGE", "filesystem or s3", kind)
    if kind == "filesystem":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    bucket = env_str("S3_BUCKET", env=env)
    if bucket is None:
        raise ImproperlyConfigured(
            "MEDIA_STORAGE=s3 needs S3_BUCKET, the bucket that keeps the uploads."
        )
    key, secret = env_str("S3_ACCESS_KEY_ID", env=env), env_str("S3_SECRET_ACCESS_KEY", env=env)
    if (key is None) != (secret is None):
        missing = "S3_SECRET_ACCESS_KEY" if secret is None else "S3_ACCESS_KEY_ID"
        raise ImproperlyConfigured(
            f"{missing} is not set: give S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together, "
            "or neither (the machine's own credentials, such as an instance role)."
        )
    endpoint = _http_url("S3_ENDPOINT_URL", env)
    public = _http_url("S3_PUBLIC_URL", env)
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": env_str("S3_REGION", env=env),
        "access_key": key,
        "secret_key": secret,
        # Every object is sent with the same long cache header as a served file.
        "object_parameters": {"CacheControl": cache_control},
        # Names are generated and unique: no existence check before each upload.
        "file_overwrite": True,
        # A public address (a CDN or the bucket's public domain) gives plain links; without
        # one the links are signed, valid for a week (SigV4's longest), far longer than any
        # page is kept in a cache.
        "querystring_auth": public is None,
        "querystring_expire": 7 * 24 * 3600,
        "signature_version": "s3v4",
    }
    if public is not None:
        scheme, _, rest = public.partition("://")
        options["custom_domain"] = rest.rstrip("/")
        options["url_protocol"] = f"{scheme}:"
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {name: value for name, value in options.items() if value is not None},
    }


def _http_url(name: str, env: Mapping[str, str]) -> str | None:
    raw = env_str(name, env=env)
    if raw is not None and not _HTTP_URL.fullmatch(raw):
        raise _refusal(
            name, "an http:// or https:// address such as https://media.example.com", raw
        )
    return raw


def _refusal(name: str, expected: str, raw: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name} must be {expected}, got {raw!r}.")
