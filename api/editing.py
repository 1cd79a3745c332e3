"""Writing stories: a client's fields applied with every reference and rule checked, the
version check of If-Match, unique conflicts as 409, and the admin history."""

import re
from contextlib import contextmanager

from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from api.common import story_etag
from api.errors import ApiError, field_error
from articles.models import Article, Company, Person, Series, Tag
from articles.rendering import check_body_length
from articles.search import index_article

BODY = ("body", "payload")

SCALAR_FIELDS = (
    "kind",
    "title",
    "excerpt",
    "body",
    "job_family",
    "series_part",
    "byline",
    "original_url",
    "meta_description",
    "cover_alt",
    "cover_credit",
)


@contextmanager
def atomic_write():
    """transaction.atomic(), with a unique constraint hit by a concurrent write (the slug, a
    series part) answered as 409, never as a 500."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        raise ApiError(409, "다른 스토리와 겹칩니다(슬러그나 시리즈 순서).") from error


def locked_story(story_id: int) -> Article:
    return get_object_or_404(
        Article.objects.select_for_update(of=("self",)).select_related("company", "series"),
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
    """Set the fields in `data` on `article` and return the many-to-many values to set once
    it is saved. Every reference and rule is checked first; all faults answer one 422."""
    errors = []
    for name in SCALAR_FIELDS:
        if name in data:
            value = data[name]
            setattr(article, name, "" if value is None and name == "job_family" else value)
    if "company" in data:
        article.company = find(Company, data["company"], "company", errors)
    if "series" in data:
        article.series = find(Series, data["series"], "series", errors)
    if article.series_part is not None and article.series_id is None and not errors:
        errors.append(
            field_error([*BODY, "series_part"], "시리즈 순서는 시리즈를 고른 뒤에 적습니다.")
        )
    if "body" in data:
        try:
            check_body_length(article.body)
        except DjangoValidationError as error:
            errors.append(field_error([*BODY, "body"], error.messages[0]))
    relations = {}
    if data.get("people") is not None:
        people = {p.slug: p for p in Person.objects.filter(slug__in=data["people"])}
        missing = [slug for slug in data["people"] if slug not in people]
        if missing:
            errors.append(field_error([*BODY, "people"], f"없는 인물입니다: {', '.join(missing)}"))
        relations["people"] = list(people.values())
    if data.get("tags") is not None:
        relations["tags"] = list(dict.fromkeys(data["tags"]))
    if errors:
        raise ApiError(422, errors=errors)
    if data.get("slug"):
        article.slug = data["slug"]
        if Article.objects.filter(slug=article.slug).exclude(pk=article.pk).exists():
            raise ApiError(
                409,
                "이 슬러그는 다른 스토리가 쓰고 있습니다.",
                errors=[field_error([*BODY, "slug"], "이미 쓰이는 슬러그입니다.", "unique")],
            )
    if (
        article.series_id is not None
        and article.series_part is not None
        and Article.objects.filter(series_id=article.series_id, series_part=article.series_part)
        .exclude(pk=article.pk)
        .exists()
    ):
        raise ApiError(
            409,
            "이 시리즈에는 같은 순서의 편이 이미 있습니다.",
            errors=[field_error([*BODY, "series_part"], "이미 있는 순서입니다.", "unique")],
        )
    return relations


def find(model, slug: str | None, field: str, errors: list):
    if slug is None:
        return None
    found = model.objects.filter(slug=slug).first()
    if found is None:
        errors.append(field_error([*BODY, field], f"없는 슬러그입니다: {slug}"))
    return found


def set_relations(article: Article, relations: dict) -> None:
    """Set the people and tags, then index the story again: their names are searched too."""
    if "people" in relations:
        article.people.set(relations["people"])
    if "tags" in relations:
        names = relations["tags"]
        tags = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
        for name in names:
            if name not in tags:
                tags[name] = Tag.objects.create(name=name)
        article.tags.set(tags.values())
    if relations:
        index_article(article)


def log(request: HttpRequest, article: Article, action_flag: int, message: str) -> None:
    """The admin's history of the story shows what the API did, by whom and with which token."""
    LogEntry.objects.log_actions(
        user_id=request.user.pk,
        queryset=[article],
        action_flag=action_flag,
        change_message=f"{message} (토큰 {request.auth.prefix})",
        single_object=True,
    )


def edited(response: HttpResponse, article: Article, *, cache_control="no-store") -> Article:
    """The story as saved, with its relations, and its new ETag."""
    prefetch_related_objects(
        [article],
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch("people", queryset=Person.objects.order_by("name", "pk")),
    )
    response["ETag"] = story_etag(article)
    response["Cache-Control"] = cache_control
    return article
