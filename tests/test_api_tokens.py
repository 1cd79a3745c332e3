"""API tokens: stored hashed behind a visible prefix, scoped, revocable, shown once."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.utils import timezone
from ninja.errors import AuthorizationError

from tests.api_support import API, bearer, editor, error_of, token_for
from tests.factories import ArticleFactory, UserFactory
from tokens.auth import TokenAuth
from tokens.models import ApiToken, token_digest

pytestmark = pytest.mark.django_db


def create(client, raw, title="제목"):
    return client.post(
        f"{API}/stories",
        data=json.dumps({"title": title}),
        content_type="application/json",
        headers=bearer(raw),
    )


def test_a_token_is_stored_as_a_digest_behind_its_visible_prefix():
    token, raw = ApiToken.issue(user=editor(), name="동기화", scopes=["stories:write"])

    assert raw.startswith(token.prefix + "_")
    assert token.prefix.startswith("cs_")
    assert len(token.prefix) == 11
    assert token.secret_hash == token_digest(raw)
    assert raw not in token.secret_hash
    stored = ApiToken.objects.values_list("prefix", "secret_hash", "scopes").get()
    assert raw not in "".join(stored)
    assert ApiToken.from_plain_text(raw) == token
    assert ApiToken.from_plain_text(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert ApiToken.from_plain_text(token.prefix) is None


def test_a_good_token_writes(client):
    assert create(client, token_for(editor())).status_code == 201


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer nonsense", "Token {raw}", "Basic dXNlcjpwYXNz", "Bearer {raw}x"],
)
def test_missing_or_malformed_credentials_are_401(client, header):
    raw = token_for(editor())
    headers = {"Authorization": header.format(raw=raw)} if header else {}

    response = client.post(
        f"{API}/stories", data="{}", content_type="application/json", headers=headers
    )

    error_of(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_stops_working_at_once(client):
    raw = token_for(editor())
    assert create(client, raw, "하나").status_code == 201

    ApiToken.objects.get().revoke()

    error_of(create(client, raw, "둘"), 401)


def test_an_expired_token_stops_working(client):
    raw = token_for(editor(), expires_at=timezone.now() + timedelta(hours=1))
    assert create(client, raw).status_code == 201

    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    error_of(create(client, raw, "다시"), 401)


def test_a_deactivated_users_tokens_stop_working_at_once(client):
    user = editor()
    raw = token_for(user)
    assert create(client, raw).status_code == 201

    user.is_active = False
    user.save()

    error_of(create(client, raw, "다시"), 401)


def test_a_token_without_the_scope_is_403(client):
    raw = token_for(editor(), "ops:read")

    body = error_of(create(client, raw), 403, "forbidden")

    assert "stories:write" in body["message"]


def test_a_token_cannot_do_more_than_its_user_may(client):
    reader = editor("reader", perms=())
    raw = token_for(reader, "stories:write", "stories:publish")

    error_of(create(client, raw), 403)


@pytest.mark.parametrize(
    "query", ["token={raw}", "access_token={raw}", "api_key=abc", "key=x", "q={raw}"]
)
def test_tokens_in_the_query_string_are_refused(client, query):
    raw = token_for(editor())

    for method in (client.get, client.post):
        response = method(f"{API}/stories?{query.format(raw=raw)}")
        assert "Authorization" in error_of(response, 400, "bad_request")["message"]


def test_last_used_is_written_at_most_once_a_minute(client):
    raw = token_for(editor())
    token = ApiToken.objects.get()
    assert token.last_used_at is None

    create(client, raw, "하나")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    create(client, raw, "둘")
    token.refresh_from_db()
    assert token.last_used_at == first

    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    create(client, raw, "셋")
    token.refresh_from_db()
    assert token.last_used_at > first


def test_touch_never_undoes_a_revocation_from_a_stale_copy():
    token, _ = ApiToken.issue(user=editor(), name="x", scopes=["stories:write"])
    stale = ApiToken.objects.get(pk=token.pk)
    token.revoke()

    stale.touch()

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_token_auth_is_reusable_for_other_scopes():
    raw = token_for(editor(), "ops:read")
    auth = TokenAuth(scope="ops:read")
    request = RequestFactory().get("/api/v1/ops/db", headers=bearer(raw))

    token = auth(request)

    assert token == ApiToken.objects.get()
    assert request.user == token.user
    with pytest.raises(AuthorizationError):
        TokenAuth(scope="stories:publish")(request)
    with pytest.raises(ValueError, match="Unknown token scope"):
        TokenAuth(scope="everything")


def test_the_command_prints_the_token_once():
    user = editor()
    out, err = StringIO(), StringIO()

    call_command(
        "create_api_token",
        user.username,
        "--scope",
        "stories:write",
        "--scope",
        "stories:publish",
        "--name",
        "CI",
        stdout=out,
        stderr=err,
    )

    raw = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert ApiToken.from_plain_text(raw) == token
    assert (token.name, token.scope_list) == ("CI", ["stories:publish", "stories:write"])
    assert token.prefix in err.getvalue()


def test_the_command_refuses_unknown_and_inactive_users():
    UserFactory(username="gone", is_active=False)

    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", "--scope", "stories:write")
    with pytest.raises(CommandError):
        call_command("create_api_token", "gone", "--scope", "stories:write")
    assert not ApiToken.objects.exists()


def test_staff_create_a_token_in_the_admin_and_see_it_once(admin_client, superuser):
    response = admin_client.post(
        "/admin/tokens/apitoken/add/",
        {"user": superuser.pk, "name": "블로그 동기화", "scope_choices": ["stories:write"]},
        follow=True,
    )

    assert response.status_code == 200
    token = ApiToken.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    raw = next(word for text in shown for word in text.split() if word.startswith("cs_"))
    assert ApiToken.from_plain_text(raw) == token
    assert token.scope_list == ["stories:write"]
    change = admin_client.get(f"/admin/tokens/apitoken/{token.pk}/change/")
    assert token.prefix in change.content.decode()
    assert raw not in change.content.decode()
    assert raw not in admin_client.get("/admin/tokens/apitoken/").content.decode()


def test_staff_revoke_tokens_with_an_admin_action(admin_client, client, superuser):
    raw = token_for(superuser)

    admin_client.post(
        "/admin/tokens/apitoken/",
        {"action": "revoke", "_selected_action": [ApiToken.objects.get().pk]},
    )

    assert ApiToken.objects.get().revoked_at is not None
    error_of(create(client, raw), 401)


def test_the_admin_refuses_a_token_without_scopes_or_already_expired(admin_client, superuser):
    response = admin_client.post(
        "/admin/tokens/apitoken/add/",
        {"user": superuser.pk, "name": "x", "expires_at_0": "2000-01-01", "expires_at_1": "00:00"},
    )

    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"scope_choices", "expires_at"}
    assert not ApiToken.objects.exists()


def test_token_users_reads_stay_anonymous_reads(client):
    ArticleFactory(draft=True)
    raw = token_for(editor())

    assert client.get(f"{API}/stories", headers=bearer(raw)).json()["count"] == 0
