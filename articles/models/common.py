"""What the content models share: slugs, upload names, URL fields and the choices."""

import functools
import inspect
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import PurePath
from urllib.parse import quote

from django.core.signals import setting_changed
from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.files import FileDescriptor, ImageFileDescriptor
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.text import slugify

from articles.images import IMAGE_SUFFIXES, image_suffix
from articles.models.text import NameField, SlugField

__all__ = [
    "KIND_URL_NAMES",
    "POPULAR_WINDOW_DAYS",
    "RELATED_COUNT",
    "SLUG_MAX_LENGTH",
    "Focus",
    "HttpsURLField",
    "JobFamily",
    "Kind",
    "Status",
    "cover_upload_to",
    "generated_name",
    "logo_upload_to",
    "photo_upload_to",
    "unique_slug",
]

SLUG_MAX_LENGTH = 120

# What reverse() quotes an argument with (django.urls.resolvers), and two stand-ins for a
# row's key and slug that no URL pattern contains.
URL_SAFE = "!$&'()*+,;=/~:@"
KEY_STAND_IN, SLUG_STAND_IN = 918273645, "slug-stand-in"
_patterns: dict[tuple, str] = {}


def url_of(name: str, slug: str, pk: int | None = None) -> str:
    """reverse(name, args=[pk, slug] or [slug]), without walking the URL resolver for each
    row: a list of 20 cards asks for about 100 links. The URL is reversed once per pattern (and
    script prefix and URL configuration) with stand-ins, then filled in with the row's values
    quoted exactly as reverse() quotes them. A slug with a "/" (no pattern takes one) is
    reversed as before, so it fails as before."""
    return url_maker(name, keyed=pk is not None)(slug, pk)


def url_maker(name: str, *, keyed: bool = False) -> Callable[..., str]:
    """url_of(name, slug[, pk]) as a function of (slug, pk) for many rows of one page: the
    script prefix and the URL configuration (each a lookup in a context-local, together
    about 3 us, most of url_of()'s cost) are read once, when it is made."""
    args = [KEY_STAND_IN, SLUG_STAND_IN] if keyed else [SLUG_STAND_IN]
    pattern = _reversed(name, args)
    key_stand_in = str(KEY_STAND_IN)

    def make(slug: str, pk: int | None = None) -> str:
        if "/" in slug:
            return reverse(name, args=[pk, slug] if keyed else [slug])
        # The key first: a slug may hold the stand-in's digits.
        filled = pattern.replace(key_stand_in, str(int(pk))) if keyed else pattern
        return filled.replace(SLUG_STAND_IN, _quoted(slug))

    return make


@functools.lru_cache(maxsize=4096)
def _quoted(slug: str) -> str:
    """A slug quoted as reverse() quotes it, once per slug: a page of search results links
    about 100 hashtags, most of them the same few (a Korean slug's quote() is about 2 us)."""
    return quote(slug, safe=URL_SAFE)


def url_of_key(name: str, pk: int) -> str:
    """reverse(name, args=[pk]) of a URL whose one argument is a row's key (a story's beacon,
    its link preview's picture), reversed once per name, script prefix and URL configuration
    with a stand-in, then filled in (a reverse() costs about 30 us)."""
    return _reversed(name, [KEY_STAND_IN]).replace(str(KEY_STAND_IN), str(int(pk)))


# While a page is written (same_url_context()): its script prefix and URL configuration.
_url_context: ContextVar[tuple[str, str | None] | None] = ContextVar("url_context", default=None)


def url_context() -> tuple[str, str | None]:
    """The script prefix and URL configuration reverse() works under now (each a lookup in a
    context-local, together about 4 us): read once for the many links of a page's header, say,
    and once for a whole page while it is written (same_url_context())."""
    fixed = _url_context.get()
    if fixed is not None:
        return fixed
    return get_script_prefix(), get_urlconf()


@contextmanager
def same_url_context():
    """Within: url_context() answers what it answered on entry, without reading it again. Both
    are set before a view runs and stay for the request; a story page read them a dozen
    times."""
    token = _url_context.set(url_context())
    try:
        yield
    finally:
        _url_context.reset(token)


def fixed_url(name: str, where: tuple[str, str | None] | None = None) -> str:
    """reverse(name) of a URL that takes no arguments (the header's and footer's links on
    every page), reversed once per name, script prefix and URL configuration (`where`, from
    url_context(), when the caller read them already)."""
    return _reversed(name, [], where)


def _reversed(name: str, args: list, where: tuple[str, str | None] | None = None) -> str:
    """reverse(name, args=args), reversed once per name, arguments (stand-ins), script prefix
    and URL configuration (`where`: url_context(), read now unless given)."""
    key = (name, tuple(args), *(where or url_context()))
    url = _patterns.get(key)
    if url is None:
        url = _patterns.setdefault(key, reverse(name, args=args))
    return url


def forget_url_patterns(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _patterns.clear()


setting_changed.connect(forget_url_patterns)
POPULAR_WINDOW_DAYS = 30


def unique_slug(model, base: str, *, fallback: str, exclude_pk=None, field: str = "slug") -> str:
    """A slug for `model` built from `base` that no other row uses: "제목", "제목-2", "제목-3"…

    Korean titles keep their syllables (allow_unicode), so the slug stays readable; a title
    made only of punctuation falls back to `fallback`.
    """
    stem = slugify(base, allow_unicode=True)[: SLUG_MAX_LENGTH - 8].strip("-") or fallback
    others = model._default_manager.exclude(pk=exclude_pk)
    # Most titles are new: one lookup on the slug's unique index says so. Only a taken stem
    # reads the slugs that start with it (a prefix match no index serves on either database).
    if not others.filter(**{field: stem}).exists():
        return stem
    taken = set(others.filter(**{f"{field}__startswith": stem}).values_list(field, flat=True))
    number = 2
    while f"{stem}-{number}" in taken:
        number += 1
    return f"{stem}-{number}"


# How many related stories a story page and the API's story detail show.
RELATED_COUNT = 4


def generated_name(folder: str, filename: str, upload=None) -> str:
    """Store uploads under server-generated names. The extension comes from the format the
    file really has (validate_image checked it), never from the client: a web server types
    media by name, so a picture uploaded as "x.html" must not come back as a page."""
    suffix = image_suffix(upload) or PurePath(filename).suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        suffix = ""
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


def cover_upload_to(instance, filename):
    return generated_name("covers", filename, instance.cover_image)


def logo_upload_to(instance, filename):
    return generated_name("logos", filename, instance.logo)


def photo_upload_to(instance, filename):
    return generated_name("people", filename, instance.photo)


class HttpsURLField(models.URLField):
    """A URL field whose form assumes https:// when an editor leaves the scheme out."""

    def formfield(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        return super().formfield(**kwargs)


class Kind(models.TextChoices):
    INTERVIEW = "interview", "인터뷰"
    FEED = "feed", "피드"
    NEWS = "news", "뉴스"


KIND_URL_NAMES = {
    Kind.INTERVIEW: "articles:interviews",
    Kind.FEED: "articles:feed",
    Kind.NEWS: "articles:news",
}


class JobFamily(models.TextChoices):
    DEVELOPMENT = "dev", "개발"
    DESIGN = "design", "디자인"
    PRODUCT = "product", "기획"
    DATA = "data", "데이터"
    BUSINESS = "business", "비즈니스"


class Focus(models.TextChoices):
    """Which part of a cover a card keeps when it crops the cover to its 16:9 frame."""

    CENTER = "center", "가운데"
    TOP = "top", "위"
    BOTTOM = "bottom", "아래"
    LEFT = "left", "왼쪽"
    RIGHT = "right", "오른쪽"
    TOP_LEFT = "top-left", "왼쪽 위"
    TOP_RIGHT = "top-right", "오른쪽 위"
    BOTTOM_LEFT = "bottom-left", "왼쪽 아래"
    BOTTOM_RIGHT = "bottom-right", "오른쪽 아래"


def renditions_field():
    """The record of a picture's renditions (articles/renditions.py), written by
    articles/pictures.py after the picture is stored, never by a form."""
    return models.JSONField("이미지 크기별 사본", default=dict, blank=True, editable=False)


class Status(models.TextChoices):
    DRAFT = "draft", "초안"
    REVIEW = "review", "검토 중"
    PUBLISHED = "published", "발행"


# Descriptors that set what they are given into the instance's __dict__ when the instance is
# new (a foreign key's id also drops a cached object, which a new instance has none of; an
# image's file would update dimension fields only when it replaces a file).
_PLAIN_SET = (DeferredAttribute, ForeignKeyDeferredAttribute, FileDescriptor, ImageFileDescriptor)


@functools.cache
def _loads_plainly(model, field_names: tuple[str, ...]) -> bool:
    """Whether an instance of `model` is made from values of `field_names` by Django's
    __init__ exactly as by writing them into its __dict__: each is a concrete field's attname
    (once) behind a descriptor that only writes it there, and the model has no __init__ of its
    own."""
    if model.__init__ is not models.Model.__init__ or len(set(field_names)) != len(field_names):
        return False
    attnames = {field.attname for field in model._meta.concrete_fields}
    return all(
        name in attnames and type(inspect.getattr_static(model, name, None)) in _PLAIN_SET
        for name in field_names
    )


class QuickLoad(models.Model):
    """Rows read from the database made into instances without Model.__init__: for a card's
    story, its company and its 조회수 (three instances a card, about a third of loading one),
    __init__ walks every concrete field, sends two signals and sets each value through
    setattr(). Made here, an instance has the same __dict__ and state. Any model that has a
    receiver of pre_init or post_init, an __init__ or a field with a descriptor of its own is
    made by Django's from_db()."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        if (
            not _loads_plainly(cls, tuple(field_names))
            or pre_init.has_listeners(cls)
            or post_init.has_listeners(cls)
        ):
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        state = new._state = ModelState()
        state.adding = False
        state.db = db
        new.__dict__.update(zip(field_names, values, strict=True))
        return new


class Slugged(QuickLoad):
    """A row with a reader page of its own at a readable slug: left empty, the slug comes from
    its `slug_source` field ("제목", then "제목-2"…), or the model's name when that field
    gives none."""

    slug_source = "name"
    url_name = ""  # the reader page, given the slug

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(
                type(self),
                getattr(self, self.slug_source),
                fallback=self._meta.model_name,
                exclude_pk=self.pk,
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return url_of(self.url_name, self.slug)


class Named(Slugged):
    """A row known by its name (a company, a person, a tag): listed and shown by it."""

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name


class Titled(Slugged):
    """A titled, described list of stories (a series, a collection), its slug from the title."""

    slug_source = "title"

    title = NameField("제목", max_length=200)
    slug = SlugField("슬러그", max_length=SLUG_MAX_LENGTH, unique=True, allow_unicode=True)
    description = models.TextField("소개", blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.title
