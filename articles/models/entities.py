"""What stories are about: companies, people, hashtags and series."""

from django.db import models
from django.utils.functional import cached_property

from articles import renditions
from articles.images import PictureField, validate_image
from articles.models.common import (
    SLUG_MAX_LENGTH,
    HttpsURLField,
    Named,
    Titled,
    logo_upload_to,
    photo_upload_to,
    renditions_field,
)
from articles.models.text import NameField, SlugField

__all__ = [
    "Company",
    "Person",
    "Series",
    "Tag",
]


class Company(Named):
    url_name = "articles:company"

    name = NameField("이름", max_length=100, unique=True)
    slug = SlugField(
        "슬러그", max_length=SLUG_MAX_LENGTH, unique=True, allow_unicode=True,
        help_text="회사 페이지 주소에 쓰입니다. 한글도 됩니다.",
    )  # fmt: skip
    one_liner = models.CharField("한 줄 소개", max_length=120, blank=True)
    description = models.TextField("소개", blank=True)
    logo = PictureField("로고", upload_to=logo_upload_to, blank=True, validators=[validate_image])
    logo_renditions = renditions_field()
    website = HttpsURLField("웹사이트", blank=True)
    hiring_url = HttpsURLField(
        "채용 페이지",
        blank=True,
        help_text="스토리 페이지의 회사 카드에 ‘채용 중’ 링크로 나옵니다.",
    )
    location = models.CharField("위치", max_length=100, blank=True)
    size = models.CharField("규모", max_length=40, blank=True, help_text="예: 51–100명")
    tech_stack = models.CharField(
        "기술 스택", max_length=500, blank=True, help_text="쉼표로 구분합니다. 예: Python, Django"
    )
    created_at = models.DateTimeField("만든 때", auto_now_add=True)
    updated_at = models.DateTimeField("고친 때", auto_now=True)

    class Meta(Named.Meta):
        verbose_name = "회사"
        verbose_name_plural = "회사"
        # The latest change among companies with a published story, walked newest first to
        # the first such company (articles/tally.py published_stamp()).
        indexes = [models.Index(fields=["-updated_at"], name="company_recent_change")]

    @property
    def tech_list(self) -> list[str]:
        return [item.strip() for item in self.tech_stack.split(",") if item.strip()]

    @cached_property
    def logo_picture(self) -> renditions.Picture | None:
        return renditions.picture(self.logo_renditions, self.logo.name, f"{self.name} 로고")


class Person(Named):
    url_name = "articles:person"

    name = NameField("이름", max_length=60)
    nickname = NameField(
        "닉네임", max_length=40, blank=True, help_text="사내에서 부르는 이름. 예: 레드"
    )
    slug = SlugField("슬러그", max_length=SLUG_MAX_LENGTH, unique=True, allow_unicode=True)
    company = models.ForeignKey(
        Company, verbose_name="회사", on_delete=models.PROTECT, related_name="people",
        null=True, blank=True,
    )  # fmt: skip
    role = models.CharField(
        "직무", max_length=80, blank=True,
        help_text="스토리에 나온 당시의 직무. 예: 웹 프론트엔드 개발자",
    )  # fmt: skip
    team = models.CharField("팀", max_length=80, blank=True)
    photo = PictureField("사진", upload_to=photo_upload_to, blank=True, validators=[validate_image])
    photo_renditions = renditions_field()
    bio = models.TextField("짧은 소개", blank=True)
    created_at = models.DateTimeField("만든 때", auto_now_add=True)
    updated_at = models.DateTimeField("고친 때", auto_now=True)

    class Meta(Named.Meta):
        verbose_name = "사람"
        verbose_name_plural = "사람"

    def __str__(self):
        if self.nickname:
            return f"{self.name}({self.nickname})"
        return self.name

    @cached_property
    def photo_picture(self) -> renditions.Picture | None:
        return renditions.picture(self.photo_renditions, self.photo.name, str(self))


class Tag(Named):
    url_name = "articles:tag"

    name = NameField("이름", max_length=60, unique=True, help_text="# 없이 적습니다.")
    slug = SlugField("슬러그", max_length=SLUG_MAX_LENGTH, unique=True, allow_unicode=True)

    class Meta(Named.Meta):
        verbose_name = "해시태그"
        verbose_name_plural = "해시태그"

    def __str__(self):
        return f"#{self.name}"

    def save(self, *args, **kwargs):
        self.name = self.name.strip().lstrip("#").strip()
        super().save(*args, **kwargs)


class Series(Titled):
    url_name = "articles:series"

    created_at = models.DateTimeField("만든 때", auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = "시리즈"
        verbose_name_plural = "시리즈"
