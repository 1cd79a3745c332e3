"""Stories (Article): their fields, their rules (clean(), publish(), unpublish(), state) and
what they render at save. The query plans that list them are in querysets.py; scheduling is
decided at query time (a future published_at is simply not yet published), so no cron job is
needed to publish or unpublish."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Q,
)
from django.utils.functional import cached_property
from django.utils.text import slugify

from articles import clock, renditions
from articles.images import PictureField, validate_image
from articles.models.common import (
    KIND_URL_NAMES,
    SLUG_MAX_LENGTH,
    Focus,
    HttpsURLField,
    JobFamily,
    Kind,
    QuickLoad,
    Status,
    cover_upload_to,
    fixed_url,
    renditions_field,
    unique_slug,
    url_of,
)
from articles.models.entities import Company, Person, Series, Tag
from articles.models.ordered import TAG_ORDER, ArticleTag, put_in_order
from articles.models.provenance import Provenance
from articles.models.querysets import ArticleQuerySet, by_views
from articles.models.states import State, holds, state_conditions
from articles.models.stats import ViewTotal
from articles.models.text import NameField, SlugField
from articles.rendering import (
    check_body_length,
    check_body_renders,
    excerpt_from,
    plain_text,
    reading_minutes,
    render_body,
)

__all__ = [
    "Article",
    "by_views",
    "has_published",
]

PUBLICATION_FIELDS = frozenset({"status", "published_at", "unpublish_at"})


class Article(Provenance, QuickLoad):
    kind = models.CharField("종류", max_length=16, choices=Kind.choices, default=Kind.FEED)
    title = NameField("제목", max_length=200)
    slug = SlugField(
        "슬러그", max_length=SLUG_MAX_LENGTH, allow_unicode=True, blank=True,
        help_text="주소에 쓰이는 이름. 비워 두면 제목으로 만듭니다. 바꿔도 옛 주소는 새 주소로 이어집니다.",
        error_messages={"unique": "이 슬러그는 다른 스토리가 쓰고 있습니다. 다른 슬러그를 적어 주세요."},
    )  # fmt: skip
    excerpt = models.TextField(
        "요약",
        max_length=300,
        blank=True,
        help_text="목록과 링크 미리보기에 나옵니다. 비워 두면 본문 앞부분을 씁니다.",
    )
    body = models.TextField(
        "본문", blank=True, validators=[check_body_length, check_body_renders],
        help_text="Markdown으로 씁니다. 인용은 > , 각주는 [^1] 과 [^1]: 설명, 코드는 ``` 로 감쌉니다.",
    )  # fmt: skip
    body_html = models.TextField("본문 HTML", editable=False, default="")
    cover_image = PictureField(
        "커버 이미지", upload_to=cover_upload_to, blank=True, validators=[validate_image]
    )
    cover_alt = models.CharField(
        "커버 대체 텍스트",
        max_length=200,
        blank=True,
        help_text="이미지를 볼 수 없는 독자를 위한 설명",
    )
    cover_credit = models.CharField("커버 출처", max_length=200, blank=True)
    cover_focus = models.CharField(
        "카드에서 살릴 부분",
        max_length=16,
        choices=Focus.choices,
        default=Focus.CENTER,
        help_text="목록 카드는 커버를 16:9로 자릅니다. 잘리지 않아야 할 부분을 고릅니다.",
    )
    cover_renditions = renditions_field()
    company = models.ForeignKey(
        Company, verbose_name="회사", on_delete=models.PROTECT, related_name="articles",
        null=True, blank=True,
    )  # fmt: skip
    people = models.ManyToManyField(
        Person, verbose_name="등장 인물", related_name="articles", blank=True,
        help_text="스토리에 나오는 사람들. 글쓴이가 아닙니다.",
    )  # fmt: skip
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="작성자", related_name="articles", blank=True
    )
    byline = models.CharField(
        "바이라인",
        max_length=120,
        blank=True,
        help_text="독자에게 보이는 글쓴이. 예: 플랫폼팀 김하늘",
    )
    tags = models.ManyToManyField(
        Tag, verbose_name="해시태그", related_name="articles", blank=True, through="ArticleTag"
    )
    job_family = models.CharField("직군", max_length=16, choices=JobFamily.choices, blank=True)
    series = models.ForeignKey(
        Series, verbose_name="시리즈", on_delete=models.SET_NULL, related_name="articles",
        null=True, blank=True,
    )  # fmt: skip
    series_part = models.PositiveSmallIntegerField(
        "시리즈 순서", null=True, blank=True, validators=[MinValueValidator(1)]
    )
    status = models.CharField("상태", max_length=16, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(
        "발행 시각", null=True, blank=True, db_index=True,
        help_text="미래 시각이면 그때 저절로 공개됩니다(예약 발행).",
    )  # fmt: skip
    unpublish_at = models.DateTimeField(
        "내릴 시각", null=True, blank=True, help_text="이 시각이 지나면 독자에게 보이지 않습니다."
    )
    is_featured = models.BooleanField(
        "홈 대표 스토리", default=False, help_text="스토리 홈 맨 위에 크게 보입니다."
    )
    original_url = HttpsURLField(
        "원문 주소",
        max_length=500,
        blank=True,
        help_text="다른 곳에 먼저 실린 글이면 원문 주소(canonical)",
    )
    meta_description = models.CharField(
        "검색엔진 설명", max_length=160, blank=True, help_text="비워 두면 요약을 씁니다."
    )
    original_published_on = models.DateField(
        "원문 발행일",
        null=True,
        blank=True,
        help_text="다른 곳에 먼저 실린 글이 처음 실린 날. 독자에게는 이 날짜가 보입니다. "
        "가져온 글에 이 날짜가 없으면 ‘날짜 미상’으로 보입니다.",
    )
    source_key = models.CharField(
        "가져온 원본",
        max_length=300,
        blank=True,
        editable=False,
        help_text="다른 사이트에서 가져온 스토리를 다시 가져올 때 같은 스토리를 찾는 열쇠",
    )
    reading_minutes = models.PositiveSmallIntegerField("읽는 시간(분)", default=1, editable=False)
    version = models.PositiveIntegerField("버전", default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="만든 사람", on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+", editable=False,
    )  # fmt: skip
    created_at = models.DateTimeField("만든 때", auto_now_add=True)
    updated_at = models.DateTimeField("고친 때", auto_now=True)

    objects = ArticleQuerySet.as_manager()

    # Maintained by the server, never written back from an editor's (possibly stale) instance.
    SERVER_FIELDS = frozenset({"cover_renditions"})
    stored_publication = None

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = "스토리"
        verbose_name_plural = "스토리"
        # Editors hold it, writers do not (articles/roles.py): publishing, scheduling and
        # unpublishing, and editing any story rather than only one's own drafts.
        permissions = [("publish_article", "스토리를 발행·예약·내리고 모든 스토리를 고칠 수 있음")]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="article_unique_slug"),
            models.UniqueConstraint(
                fields=["source_key"], condition=~Q(source_key=""), name="article_unique_source"
            ),
            models.UniqueConstraint(
                fields=["series", "series_part"],
                condition=Q(series__isnull=False, series_part__isnull=False),
                name="article_unique_series_part",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED) | Q(published_at__isnull=False),
                name="article_published_has_date",
            ),
            models.CheckConstraint(
                condition=Q(unpublish_at__isnull=True)
                | Q(published_at__isnull=True)
                | Q(unpublish_at__gt=F("published_at")),
                name="article_unpublish_after_publish",
            ),
        ]
        # A story's row carries its body twice (Markdown and HTML, tens of KB): on SQLite, reading
        # any column stored after them walks the row's overflow pages. So the listing indexes
        # also hold what published() tests (unpublish_at): counting, filtering and ordering
        # published stories reads an index, not the rows. On PostgreSQL migration 0005 creates
        # published_at as DESC NULLS LAST, recent()'s order (a plain DESC puts NULLs first and
        # would not serve it); SQLite's DESC already puts NULLs last.
        indexes = [
            # A kind's list newest first (the home page's latest per kind, /feed/, its count).
            models.Index(
                fields=["status", "kind", "-published_at", "-id", "unpublish_at"],
                name="article_kind_listing",
            ),
            # Every published story newest first (the API's list, published() as a subquery),
            # with what the API list's fingerprint aggregates (api/common.py list_stamp()).
            models.Index(
                fields=[
                    "status", "-published_at", "-id", "unpublish_at",
                    "company", "updated_at",
                ],
                name="article_recent_listing",
            ),
            # The home page's featured story: only the featured ones, newest first.
            models.Index(
                fields=["status", "-published_at", "-id"],
                condition=Q(is_featured=True),
                name="article_featured",
            ),
            # A company's published stories newest first (its page, the first pool of related
            # stories): sought by company and state, so the planner never walks every published
            # story for one company's (SQLite did, without statistics: 0.26 ms at 100,000).
            # unpublish_at makes it hold all published() tests: without it SQLite preferred
            # article_recent_listing, which does, whenever the company came from a subquery
            # (a story page's statement), and walked it (0.35 ms at 100,000 stories).
            models.Index(
                fields=["company", "status", "-published_at", "-id", "unpublish_at"],
                name="article_company_listing",
            ),
            # Whether given stories are published, by their keys alone (search's matches, a
            # list of ids): on SQLite the columns published() tests are stored past the body,
            # read through a row's overflow pages; here they are read from the index.
            models.Index(
                fields=["id", "status", "published_at", "unpublish_at"],
                name="article_state_by_id",
            ),
            # The latest edit among the published stories, walked newest first to the first
            # published one (articles/tally.py published_stamp()).
            models.Index(
                fields=["status", "-updated_at", "published_at", "unpublish_at"],
                name="article_recent_change",
            ),
            # The withdrawn stories (UNPUBLISHED) without reading every published one: search
            # counts its matches among the hidden stories (articles/search.py).
            models.Index(
                fields=["status", "unpublish_at"],
                condition=Q(unpublish_at__isnull=False),
                name="article_withdrawn",
            ),
        ]  # fmt: skip

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Article, self.title, fallback="story", exclude_pk=self.pk)
        if self.status == Status.PUBLISHED and self.published_at is None:
            self.published_at = clock.now_datetime()
        self.render()
        update_fields = kwargs.get("update_fields")
        if self.pk and not self._state.adding:
            self.version = (self.version or 0) + 1
            if update_fields is None:
                # A full save from an editor's copy must not overwrite what the server
                # maintains beside it in the meantime.
                kwargs["update_fields"] = [
                    f.name
                    for f in self._meta.concrete_fields
                    if not f.primary_key and f.name not in self.SERVER_FIELDS
                ]
            else:
                kwargs["update_fields"] = {*update_fields, "version", "updated_at"}
        super().save(*args, **kwargs)
        self.stored_publication = self.publication
        self.__dict__.pop("state_now", None)  # the list's annotation describes the old row

    def get_absolute_url(self):
        return url_of("articles:story", self.slug, self.pk)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # What publication the stored row has, for clean() and the audit of a save
        # (articles/services.py): an edit is compared with it, without another query.
        if PUBLICATION_FIELDS.issubset(field_names):
            instance.stored_publication = instance.publication
        return instance

    def clean(self):
        """The rules a story must meet across its fields, checked by the admin's form and by
        every save through articles/services.py. (Single fields carry their own validators:
        the body's length; the slug and the series part are unique constraints.)"""
        if not self.slug or self.slug == slugify(self.title, allow_unicode=True):
            # A slug the title gives by itself never blocks a save: "제목", then "제목-2".
            # One an editor typed must be free (the slug's unique constraint says so).
            self.slug = unique_slug(
                Article, self.slug or self.title, fallback="story", exclude_pk=self.pk
            )
        if self.status == Status.PUBLISHED and self.published_at is None:
            self.published_at = clock.now_datetime()
        errors = {}
        if self.unpublish_at and self.published_at and self.unpublish_at <= self.published_at:
            errors["unpublish_at"] = "내릴 시각은 발행 시각보다 뒤여야 합니다."
        elif (
            self.status == Status.PUBLISHED
            and (self.stored_publication is None or self.stored_publication[0] != self.status)
            and self.unpublish_at
            and self.unpublish_at <= clock.now_datetime()
        ):
            # Published by this edit, the story would stay withdrawn although the editor meant
            # to publish it: say so instead of reporting a success that changes nothing.
            errors["unpublish_at"] = (
                "내릴 시각이 이미 지나서 발행해도 독자에게 보이지 않습니다. "
                "내릴 시각을 비우거나 앞으로의 시각으로 고쳐 주세요."
            )
        if self.series_part is not None and self.series_id is None:
            errors["series_part"] = "시리즈 순서는 시리즈를 고른 뒤에 적습니다."
        elif self.series_part is not None and self.series_part_taken():
            # The table's constraint would refuse it too, but for the form as a whole: here
            # the error is the series part's.
            errors["series_part"] = ValidationError(
                "이 시리즈에는 같은 순서의 편이 이미 있습니다.", code="unique"
            )
        if errors:
            raise ValidationError(errors)

    @cached_property
    def cover(self) -> renditions.Picture | None:
        """The cover's <picture> (reader/markup.py picture_html()), described for readers by
        the editor's alt text or else the title; None without renditions of the cover."""
        return renditions.picture(
            self.cover_renditions, self.cover_image.name, self.cover_alt or self.title
        )

    @property
    def kind_list_url(self) -> str:
        return fixed_url(KIND_URL_NAMES[self.kind])

    def render(self) -> None:
        """Derive the HTML, reading time and default excerpt from the Markdown body."""
        self.body_html = render_body(self.body)
        text = plain_text(self.body_html)
        self.reading_minutes = reading_minutes(text)
        if not self.excerpt.strip():
            self.excerpt = excerpt_from(text)

    def series_part_taken(self) -> bool:
        others = Article.objects.filter(series_id=self.series_id, series_part=self.series_part)
        return others.exclude(pk=self.pk).exists()

    def ordered_tags(self) -> list[Tag]:
        """The hashtags in their order: the prefetched ones (for_listing()), else a query."""
        if "tags" in getattr(self, "_prefetched_objects_cache", {}):
            return list(self.tags.all())
        return list(self.tags.order_by(*TAG_ORDER))

    def set_tags(self, tags) -> None:
        """Make `tags` (in this order, repeats dropped) the story's hashtags."""
        wanted = list(dict.fromkeys(tags))
        links = {link.tag_id: link for link in ArticleTag.objects.filter(article=self)}
        ArticleTag.objects.filter(article=self).exclude(tag__in=wanted).delete()
        put_in_order(
            links,
            wanted,
            lambda tag, position: ArticleTag.objects.create(
                article=self, tag=tag, position=position
            ),
        )
        getattr(self, "_prefetched_objects_cache", {}).pop("tags", None)

    @property
    def view_count(self) -> int:
        """조회수, from the story's ViewTotal row (0 before its first view). Lists load the rows
        with the stories (for_listing()); a single story reads its row when asked."""
        try:
            return self.view_total.count
        except ViewTotal.DoesNotExist:
            return 0

    @property
    def publication(self) -> tuple:
        """The fields that decide when readers see the story."""
        return (self.status, self.published_at, self.unpublish_at)

    @property
    def state(self) -> State:
        """초안, 검토 중, 예약, 발행 or 내림 now: from the list's annotation (with_state())
        when there is one, else the same conditions tested on this instance."""
        annotated = self.__dict__.get("state_now")
        if annotated:
            return State(annotated)
        now = clock.now_datetime()
        for state, condition in state_conditions(now).items():
            if holds(condition, self):
                return state
        return State(self.status)  # published without a time yet: save() gives it now

    @property
    def is_public(self) -> bool:
        return self.state == State.PUBLISHED

    def publish(self, at=None) -> bool:
        """Publish now, or at `at` (a future time schedules it). An unpublish time that would
        withdraw it at once is dropped. Returns whether anything changed; save to keep it."""
        before = self.publication
        now = clock.now_datetime()
        self.__dict__.pop("state_now", None)
        self.status = Status.PUBLISHED
        if at is not None:
            self.published_at = at
        elif self.published_at is None or self.published_at > now:
            self.published_at = now
        if self.unpublish_at is not None and self.unpublish_at <= max(self.published_at, now):
            self.unpublish_at = None
        return self.publication != before

    def submit_for_review(self) -> bool:
        """A draft goes to its editors. Returns whether anything changed."""
        if self.status != Status.DRAFT:
            return False
        self.status = Status.REVIEW
        self.__dict__.pop("state_now", None)
        return True

    def move_to_draft(self) -> bool:
        """Back to a draft, whatever it was (readers no longer see it)."""
        if self.status == Status.DRAFT:
            return False
        self.status = Status.DRAFT
        self.__dict__.pop("state_now", None)
        return True

    def unpublish(self, at=None) -> bool:
        """Withdraw the story from readers now, or at `at`. Returns whether anything changed
        (a story readers cannot see now has nothing to withdraw now)."""
        if at is None:
            if not self.is_public:
                return False
            at = clock.now_datetime()
        self.unpublish_at = at
        self.__dict__.pop("state_now", None)  # a state read with the row is the old one
        return True

    @property
    def description(self) -> str:
        return self.meta_description or self.excerpt


def has_published(model, relation):
    """Rows of `model` that at least one published story reaches through `relation` (a tag
    with a published story): the others have no page in the sitemap, and tags none."""
    stories = Article.objects.published().filter(**{relation: OuterRef("pk")})
    return model.objects.filter(Exists(stories))
