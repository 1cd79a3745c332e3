"""Unit tests for culture.env, the one reader of environment variables: plain mappings in,
values out, no settings and no database."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from culture.env import (
    ProxyTrust,
    Rate,
    env_bool,
    env_list,
    env_rate,
    env_seconds,
    env_str,
    env_whole,
    parse_rate,
    proxy_trust,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def refusal(parser, *args, **kwargs) -> str:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        parser(*args, **kwargs)
    return str(excinfo.value)


# --- strings -----------------------------------------------------------------------------


def test_a_string_is_stripped():
    assert env_str("SITE_NAME", env={"SITE_NAME": "  Stories \n"}) == "Stories"


@pytest.mark.parametrize("env", [{}, {"SITE_NAME": ""}, {"SITE_NAME": "   "}])
def test_an_unset_or_empty_string_gives_the_default(env):
    assert env_str("SITE_NAME", env=env) is None
    assert env_str("SITE_NAME", "컬처", env=env) == "컬처"


def test_the_parsers_read_os_environ_unless_given_a_mapping(monkeypatch):
    monkeypatch.setenv("CULTURE_ENV_TEST", " 7 ")

    assert env_str("CULTURE_ENV_TEST") == "7"
    assert env_whole("CULTURE_ENV_TEST", 0) == 7


# --- booleans ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "True", "YES", "on", " true "])
def test_true_values(raw):
    assert env_bool("DEBUG", False, env={"DEBUG": raw}) is True


@pytest.mark.parametrize("raw", ["0", "false", "FALSE", "no", "Off"])
def test_false_values(raw):
    assert env_bool("DEBUG", True, env={"DEBUG": raw}) is False


@pytest.mark.parametrize("default", [True, False])
def test_an_unset_or_empty_boolean_gives_the_default(default):
    assert env_bool("DEBUG", default, env={}) is default
    assert env_bool("DEBUG", default, env={"DEBUG": " "}) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "y", "t", "enabled"])
def test_a_bad_boolean_is_refused_naming_the_variable_and_the_value(raw):
    assert refusal(env_bool, "DEBUG", False, env={"DEBUG": raw}) == (
        f"DEBUG must be true or false (or 1/0, yes/no, on/off), got {raw!r}."
    )


# --- whole numbers -----------------------------------------------------------------------


def test_a_whole_number():
    assert env_whole("WORKERS", 2, env={"WORKERS": "8"}) == 8
    assert env_whole("WORKERS", 2, env={"WORKERS": " 007 "}) == 7


def test_an_unset_whole_number_gives_the_default_or_none_when_optional():
    assert env_whole("WORKERS", 2, env={}) == 2
    assert env_whole("WORKERS", 2, env={"WORKERS": ""}) == 2
    assert env_whole("WORKERS", None, env={}) is None


def test_the_minimum_itself_is_allowed():
    assert env_whole("WORKERS", 2, minimum=1, env={"WORKERS": "1"}) == 1
    assert env_whole("DELAY", 5, env={"DELAY": "0"}) == 0


@pytest.mark.parametrize(
    "raw", ["abc", "-1", "2.5", "1e3", "1_000", "0x10", "1 2", "nan", "\uff15", "+3"]
)
def test_a_bad_whole_number_is_refused_naming_the_variable_and_the_value(raw):
    assert refusal(env_whole, "WORKERS", 2, env={"WORKERS": raw}) == (
        f"WORKERS must be a whole number >= 0, got {raw!r}."
    )


def test_a_whole_number_below_the_minimum_is_refused():
    assert refusal(env_whole, "WORKERS", 2, minimum=1, env={"WORKERS": "0"}) == (
        "WORKERS must be a whole number >= 1, got '0'."
    )


# --- seconds -----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "seconds"), [("5", 5.0), ("2.5", 2.5), (".5", 0.5)])
def test_seconds(raw, seconds):
    assert env_seconds("TIMEOUT", 1.0, env={"TIMEOUT": raw}) == seconds


def test_unset_seconds_give_the_default():
    assert env_seconds("TIMEOUT", 20.0, env={}) == 20.0
    assert env_seconds("TIMEOUT", 20.0, env={"TIMEOUT": ""}) == 20.0


@pytest.mark.parametrize("raw", ["0", "0.0", "-1", "abc", "nan", "inf", "1e3", "5s", "1."])
def test_bad_seconds_are_refused_naming_the_variable_and_the_value(raw):
    assert refusal(env_seconds, "TIMEOUT", 1.0, env={"TIMEOUT": raw}) == (
        f"TIMEOUT must be a number of seconds > 0, got {raw!r}."
    )


# --- lists -------------------------------------------------------------------------------


def test_a_list_is_split_on_commas_and_stripped():
    env = {"HOSTS": " a.example, b.example ,,c.example, "}

    assert env_list("HOSTS", env=env) == ["a.example", "b.example", "c.example"]


def test_an_unset_list_gives_a_copy_of_the_default():
    default = ["localhost"]

    hosts = env_list("HOSTS", default, env={"HOSTS": " "})

    assert hosts == ["localhost"]
    assert hosts is not default
    assert env_list("HOSTS", env={}) == []


# --- rates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "rate"),
    [
        ("300/min", Rate(300, 60)),
        ("300/m", Rate(300, 60)),
        ("5/s", Rate(5, 1)),
        ("5/sec", Rate(5, 1)),
        ("1000/hour", Rate(1000, 3600)),
        ("1000/h", Rate(1000, 3600)),
        ("10000/day", Rate(10000, 86400)),
        ("10000/d", Rate(10000, 86400)),
        (" 60/min ", Rate(60, 60)),
    ],
)
def test_a_rate_becomes_a_count_per_window_of_seconds(raw, rate):
    assert env_rate("API_THROTTLE_READ", "1/s", env={"API_THROTTLE_READ": raw}) == rate
    assert parse_rate(raw) == rate


def test_an_unset_rate_gives_the_parsed_default():
    rate = env_rate("API_THROTTLE_READ", "300/min", env={"API_THROTTLE_READ": ""})

    assert rate == Rate(count=300, seconds=60)
    assert (rate.count, rate.seconds) == (300, 60)


@pytest.mark.parametrize("raw", ["300", "300/week", "300/minute", "abc/min", "-1/min", "1 /min"])
def test_a_bad_rate_is_refused_naming_the_variable_and_the_value(raw):
    assert refusal(env_rate, "API_THROTTLE_READ", "300/min", env={"API_THROTTLE_READ": raw}) == (
        "API_THROTTLE_READ must be a number of requests per s, min, hour or day, "
        f"such as 300/min, got {raw!r}."
    )


def test_a_bad_default_rate_is_refused_too():
    assert "API_THROTTLE_READ" in refusal(env_rate, "API_THROTTLE_READ", "often", env={})


# --- the proxies in front of the site ---------------------------------------------------


def test_no_proxy_is_trusted_unless_one_is_named():
    assert proxy_trust(env={}) == ProxyTrust(
        proxies=0, client_ip_header=None, forwarded_allow_ips=[]
    )
    assert proxy_trust(env={"BEHIND_PROXY": "false", "TRUSTED_PROXY_COUNT": ""}).proxies == 0


@pytest.mark.parametrize(
    ("env", "proxies"),
    [
        ({"TRUSTED_PROXY_COUNT": "2"}, 2),
        ({"BEHIND_PROXY": "true"}, 1),
        ({"BEHIND_PROXY": "true", "TRUSTED_PROXY_COUNT": "1"}, 1),
        ({"BEHIND_PROXY": "false", "TRUSTED_PROXY_COUNT": "0"}, 0),
        ({"BEHIND_PROXY": "", "TRUSTED_PROXY_COUNT": "3"}, 3),
    ],
)
def test_behind_proxy_is_the_old_name_for_one_trusted_proxy(env, proxies):
    assert proxy_trust(env=env).proxies == proxies


@pytest.mark.parametrize(
    ("behind", "count"), [("true", "2"), ("true", "0"), ("false", "1"), ("no", "2")]
)
def test_behind_proxy_and_a_count_that_disagree_are_refused_naming_both(behind, count):
    message = refusal(proxy_trust, env={"BEHIND_PROXY": behind, "TRUSTED_PROXY_COUNT": count})

    assert "BEHIND_PROXY=" in message
    assert f"TRUSTED_PROXY_COUNT is {count}" in message


def test_the_edge_header_and_the_allowed_peers_refine_a_trusted_proxy():
    trust = proxy_trust(
        env={
            "TRUSTED_PROXY_COUNT": "2",
            "CLIENT_IP_HEADER": " CF-Connecting-IP ",
            "FORWARDED_ALLOW_IPS": "10.0.0.5, 10.1.0.0/16, fd00::/8",
        }
    )

    assert trust == ProxyTrust(2, "CF-Connecting-IP", ["10.0.0.5", "10.1.0.0/16", "fd00::/8"])


@pytest.mark.parametrize("name", ["CLIENT_IP_HEADER", "FORWARDED_ALLOW_IPS"])
def test_a_refinement_without_a_trusted_proxy_is_refused_naming_both(name):
    value = "True-Client-IP" if name == "CLIENT_IP_HEADER" else "10.0.0.5"
    message = refusal(proxy_trust, env={name: value})

    assert message.startswith(f"{name} is set but TRUSTED_PROXY_COUNT is 0")


@pytest.mark.parametrize(
    "raw", ["CF_Connecting_IP", "CF Connecting IP", "X-Client:IP", "X-Forwarded-For", "forwarded"]
)
def test_a_header_that_cannot_name_one_address_is_refused(raw):
    env = {"TRUSTED_PROXY_COUNT": "1", "CLIENT_IP_HEADER": raw}

    assert refusal(proxy_trust, env=env).startswith("CLIENT_IP_HEADER must be a header ")
    assert repr(raw) in refusal(proxy_trust, env=env)


@pytest.mark.parametrize("raw", ["lb.internal", "10.0.0.1/24", "10.0.0.300"])
def test_an_allowed_peer_that_is_no_address_or_network_is_refused(raw):
    env = {"TRUSTED_PROXY_COUNT": "1", "FORWARDED_ALLOW_IPS": f"10.0.0.5,{raw}"}

    assert refusal(proxy_trust, env=env) == (
        f"FORWARDED_ALLOW_IPS must be addresses or networks (10.0.0.0/8), or *, got {raw!r}."
    )


# --- gunicorn.conf.py reads it before Django is set up ------------------------------------


def test_importing_the_reader_loads_no_settings():
    code = "import sys, culture.env; print('django.conf' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip

    assert result.stdout.strip() == "False"


# --- settings.py reads through it ---------------------------------------------------------


def settings_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECRET_KEY.startswith('django-insecure-'), s.SECURE_SSL, "
        "s.ALLOWED_HOSTS]))"
    )
    environment = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "SECURE_SSL"}
    }
    environment.update(DJANGO_SETTINGS_MODULE="culture.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_settings_refuse_a_bad_value_naming_the_variable():
    result = settings_in_a_fresh_process(AXES_FAILURE_LIMIT="five")

    assert result.returncode != 0
    assert "AXES_FAILURE_LIMIT must be a whole number >= 1, got 'five'." in result.stderr


def test_settings_treat_empty_values_as_unset():
    # As `NAME=` in a copied .env.example: no secret key of its own, so not production.
    result = settings_in_a_fresh_process(SECRET_KEY="", ALLOWED_HOSTS=" ")

    assert result.returncode == 0, result.stderr
    insecure_key, secure_ssl, allowed_hosts = json.loads(result.stdout)
    assert insecure_key is True
    assert secure_ssl is False
    assert allowed_hosts == ["127.0.0.1", "localhost", "testserver"]


def test_settings_trust_the_forwarded_scheme_only_behind_a_trusted_proxy():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.TRUSTED_PROXY_COUNT, s.CLIENT_IP_HEADER, s.SECURE_PROXY_SSL_HEADER]))"
    )

    def trust(**env):
        environment = {
            k: v
            for k, v in os.environ.items()
            if k
            not in {
                "BEHIND_PROXY",
                "TRUSTED_PROXY_COUNT",
                "CLIENT_IP_HEADER",
                "FORWARDED_ALLOW_IPS",
            }
        }
        environment.update(DJANGO_SETTINGS_MODULE="culture.settings", **env)
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return result.returncode, result.stdout, result.stderr

    forwarded_proto = ["HTTP_X_FORWARDED_PROTO", "https"]
    assert json.loads(trust()[1]) == [0, None, None]
    assert json.loads(trust(BEHIND_PROXY="true")[1]) == [1, None, forwarded_proto]
    assert json.loads(trust(TRUSTED_PROXY_COUNT="2", CLIENT_IP_HEADER="True-Client-IP")[1]) == [
        2,
        "True-Client-IP",
        forwarded_proto,
    ]
    returncode, _, stderr = trust(BEHIND_PROXY="false", TRUSTED_PROXY_COUNT="2")
    assert returncode != 0
    assert "BEHIND_PROXY=false means TRUSTED_PROXY_COUNT=0, but TRUSTED_PROXY_COUNT is 2" in stderr
