"""Writing stories: a client's fields applied with every reference checked, the story's own
rules (checked by the one door, articles.services.save_story) answered as 422, or 409 when the
story would collide with another (a slug, a series part), and the version check of If-Match."""

import re
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from api.common import story_etag
from api.errors import ApiError, field_error
from articles.models import Article, Company, Person, Series, Tag, tags_in_order

BODY = ("body", "payload")
# What a client names by slug or by name rather than by value.
REFERENCES = {"company": Company, "series": Series}
RELATIONS = ("people", "tags")


@contextmanager
def atomic_write():
    """transaction.atomic(), with the story's rules refusing the write answered as 422 (409
    for a collision with another story), and a unique constraint hit by a concurrent write
    answered as 409, never as a 500."""
    try:
        with transaction.atomic():
            yield
    except DjangoValidationError as error:
        raise refused(error) from None
    except IntegrityError as error:
        raise ApiError(409, "다른 스토리와 겹칩니다(슬러그나 시리즈 순서).") from error


def refused(error: DjangoValidationError) -> ApiError:
    """The story's rules said no: each message at its field; 409 when one of them is a
    collision with another story (a taken slug or series part), else 422."""
    errors, conflicts = [], []
    for field, problems in error.error_dict.items():
        loc = BODY if field == NON_FIELD_ERRORS else [*BODY, field]
        for problem in problems:
            message = next(iter(problem))
            kind = problem.code or "value_error"
            errors.append(field_error(loc, message, kind))
            if kind == "unique":
                conflicts.append(message)
    if conflicts:
        return ApiError(409, conflicts[0], errors=errors)
    return ApiError(422, errors=errors)


def locked_story(story_id: int) -> Article:
    return get_object_or_404(
        Article.objects.select_for_update(of=("self",), no_key=True).select_related(
            "company", "series"
        ),
        pk=story_id,
    )


VERSION_TAG = re.compile(r'(?:W/)?"?(?:story(\d{1,19})-v)?(\d{1,10})(?:-[0-9a-f]+)?"?')


def check_version(if_match: str, article: Article) -> None:
    """If-Match carries the story's ETag (W/"story12-v3-…") or its version (3). A list of
    them passes when one is current. "*" (any version) is refused: it would let an editor
    overwrite a change they never saw."""
    for candidate in if_match.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            raise ApiError(
                428,
                "If-Match: *는 받지 않습니다. 지금 스토리의 ETag나 version을 보내 주세요"
                f"(지금 버전 {article.version}).",
            )
        match = VERSION_TAG.fullmatch(candidate)
        if (
            match
            and int(match[2]) == article.version
            and (match[1] is None or int(match[1]) == article.pk)
        ):
            return
    raise ApiError(
        412,
        f"그사이 스토리가 바뀌었습니다(지금 버전 {article.version}). 다시 받아서 고쳐 주세요.",
    )


def apply_changes(article: Article, data: dict) -> dict:
    """Set the fields in `data` on `article` and return the relations to save with it. The
    company, series and people are named by slug: an unknown one answers 422 (all of them
    at once). The story's own rules are checked when it is saved."""
    errors = []
    relations = {}
    for name, value in data.items():
        if name in REFERENCES:
            setattr(article, name, find(REFERENCES[name], value, name, errors))
        elif name == "people":
            if value is not None:
                relations["people"] = people_named(value, errors)
        elif name == "tags":
            if value is not None:
                relations["tags"] = tags_named(value)
        else:
            setattr(article, name, "" if value is None and name == "job_family" else value)
    if errors:
        raise ApiError(422, errors=errors)
    return relations


def find(model, slug: str | None, field: str, errors: list):
    if slug is None:
        return None
    found = model.objects.filter(slug=slug).first()
    if found is None:
        errors.append(field_error([*BODY, field], f"없는 슬러그입니다: {slug}"))
    return found


def people_named(slugs: list[str], errors: list) -> list[Person]:
    people = {p.slug: p for p in Person.objects.filter(slug__in=slugs)}
    missing = [slug for slug in slugs if slug not in people]
    if missing:
        errors.append(field_error([*BODY, "people"], f"없는 인물입니다: {', '.join(missing)}"))
    return list(people.values())


def tags_named(names: list[str]) -> list[Tag]:
    """The tags of these names, new ones made."""
    names = list(dict.fromkeys(names))
    tags = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    for name in names:
        if name not in tags:
            tags[name] = Tag.objects.create(name=name)
    return [tags[name] for name in names]


def via(request: HttpRequest) -> str:
    """How the history of a story names an API write: with the token it came with."""
    return f"토큰 {request.auth.prefix}"


def edited(response: HttpResponse, article: Article, *, cache_control="no-store") -> Article:
    """The story as saved, with its relations, and its new ETag."""
    prefetch_related_objects(
        [article],
        Prefetch("tags", queryset=tags_in_order()),
        Prefetch("people", queryset=Person.objects.order_by("name", "pk")),
    )
    response["ETag"] = story_etag(article)
    response["Cache-Control"] = cache_control
    return article
