"""Helpers shared by the API tests (tests/test_api_*.py)."""

from django.contrib.auth.models import Permission

from articles.schemas import ErrorOut
from tests.factories import UserFactory
from tokens.models import ApiToken

API = "/api/v1"

ALL_SCOPES = ("stories:write", "stories:publish")


EDITOR_PERMS = ("add_article", "change_article", "publish_article")
WRITER_PERMS = ("add_article", "change_article")


def editor(username="editor", *, perms=EDITOR_PERMS):
    """A staff member who may add, change and publish stories (not a superuser)."""
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="articles", codename__in=perms)
    )
    return user


def token_for(user, *scopes, **kwargs) -> str:
    _, raw = ApiToken.issue(user=user, name="테스트", scopes=scopes or ALL_SCOPES, **kwargs)
    return raw


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def error_of(response, status: int, code: str | None = None) -> dict:
    """The body of an error response, checked against the one documented shape."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    ErrorOut.model_validate(body)
    assert body["status"] == status
    assert body["request_id"] == response["X-Request-ID"]
    if code is not None:
        assert body["code"] == code
    return body


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [item["id"] for item in response.json()["items"]]
