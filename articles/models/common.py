"""What the content models share: slugs, upload names, URL fields and the choices."""

import uuid
from pathlib import PurePath

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from articles.images import IMAGE_SUFFIXES, image_suffix

SLUG_MAX_LENGTH = 120
POPULAR_WINDOW_DAYS = 30


def unique_slug(model, base: str, *, fallback: str, exclude_pk=None, field: str = "slug") -> str:
    """A slug for `model` built from `base` that no other row uses: "제목", "제목-2", "제목-3"…

    Korean titles keep their syllables (allow_unicode), so the slug stays readable; a title
    made only of punctuation falls back to `fallback`.
    """
    stem = slugify(base, allow_unicode=True)[: SLUG_MAX_LENGTH - 8].strip("-") or fallback
    taken = set(
        model._default_manager.filter(**{f"{field}__startswith": stem})
        .exclude(pk=exclude_pk)
        .values_list(field, flat=True)
    )
    if stem not in taken:
        return stem
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


class Status(models.TextChoices):
    DRAFT = "draft", "초안"
    REVIEW = "review", "검토 중"
    PUBLISHED = "published", "발행"


class Slugged(models.Model):
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
        return reverse(self.url_name, args=[self.slug])
