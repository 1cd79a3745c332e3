"""Helpers shared by the API tests (tests/test_api_*.py)."""

import json
from urllib.parse import quote

from django.contrib.auth.models import Permission

from api.schemas import ErrorOut
from tests import factories as make
from tokens.models import ApiToken

API = "/api/v1"

ALL_SCOPES = ("stories:write", "stories:publish")


EDITOR_PERMS = ("add_article", "change_article", "publish_article")
WRITER_PERMS = ("add_article", "change_article")


def editor(username="editor", *, perms=EDITOR_PERMS):
    """A staff member who may add, change and publish stories (not a superuser)."""
    user = make.UserFactory(username=username, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="articles", codename__in=perms)
    )
    return user


def token_for(user, *scopes, **kwargs) -> str:
    _, raw = ApiToken.issue(user=user, name="테스트", scopes=scopes or ALL_SCOPES, **kwargs)
    return raw


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def post_json(client, path, payload, token, **headers):
    """A POST of `payload` as JSON to an API path, with `token` as the bearer."""
    return client.post(
        f"{API}{path}",
        data=json.dumps(payload),
        content_type="application/json",
        headers={**bearer(token), **headers},
    )


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


# Every read operation, with the slugs story_with_everything() makes.
RESOURCE_PATHS = [
    "/stories",
    "/stories?kind=feed&ordering=popular",
    "/stories/{id}",
    "/stories/by-slug/{slug}",
    "/companies",
    "/companies/spoqa",
    "/people",
    "/people/red",
    "/tags",
    "/tags/dev-team",
    "/collections",
    "/collections/must-read",
    "/series",
    "/series/pool",
]


def story_with_everything(title="한글 제목"):
    """A published story with a company, a tag, a person, a series and a collection, so that
    every path of RESOURCE_PATHS has something to show."""
    company = make.CompanyFactory(slug="spoqa")
    tag = make.TagFactory(name="개발팀")
    tag.slug = "dev-team"
    tag.save()
    story = make.ArticleFactory(
        title=title,
        company=company,
        tags=[tag],
        people=[make.PersonFactory(slug="red", company=company)],
        series=make.SeriesFactory(slug="pool"),
        series_part=1,
    )
    make.CollectionItemFactory(collection__slug="must-read", article=story)
    return story


def url(path, story):
    """A RESOURCE_PATHS path for `story`, under the API's prefix."""
    return API + path.format(id=story.pk, slug=quote(story.slug))
