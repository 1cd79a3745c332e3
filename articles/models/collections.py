"""Curated collections of stories, placed on the home page in the editors' order."""

from django.db import models
from django.db.models import Exists, F, OuterRef, Prefetch, Q

from articles import clock
from articles.models.common import Titled
from articles.models.entities import Tag
from articles.models.ordered import TAG_ORDER, put_in_order
from articles.models.stories import Article
from articles.prepared import Prepared

# Home's collections and their first stories, compiled once (articles/prepared.py).
ON_HOME = Prepared(lambda model, now: model.objects.on_home(now))
FIRST_PUBLISHED = Prepared(
    lambda model, collections, now: (
        model.objects.filter(collection_id__in=collections)
        .filter(Exists(Article.objects.published(now).filter(pk=OuterRef("article"))))
        .order_by("collection_id", "position", "id")
        .values_list("collection_id", "article_id")
    )
)

__all__ = [
    "Collection",
    "CollectionItem",
]


class CollectionQuerySet(models.QuerySet):
    def shown_on_home(self, now=None) -> list:
        """on_home() (whatever this queryset holds: call it on Collection.objects), the query
        compiled once (articles/prepared.py)."""
        return ON_HOME(self.model, now=now or clock.now_datetime())

    def on_home(self, now=None):
        """Collections placed on the home page whose time box (if any) includes now."""
        now = now or clock.now_datetime()
        return self.filter(
            Q(starts_at__isnull=True) | Q(starts_at__lte=now),
            Q(ends_at__isnull=True) | Q(ends_at__gt=now),
            show_on_home=True,
        ).order_by("position", "id")


class Collection(Titled):
    url_name = "articles:collection"

    show_on_home = models.BooleanField("홈에 보이기", default=True)
    position = models.PositiveSmallIntegerField(
        "홈에서의 순서", default=0, help_text="작은 수가 위에 옵니다."
    )
    starts_at = models.DateTimeField("보이기 시작", null=True, blank=True)
    ends_at = models.DateTimeField("보이기 끝", null=True, blank=True)
    articles = models.ManyToManyField(
        Article, through="CollectionItem", related_name="collections", verbose_name="스토리"
    )
    created_at = models.DateTimeField("만든 때", auto_now_add=True)
    updated_at = models.DateTimeField("고친 때", auto_now=True)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "컬렉션"
        verbose_name_plural = "컬렉션"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(starts_at__isnull=True)
                | Q(ends_at__gt=F("starts_at")),
                name="collection_ends_after_start",
            )
        ]


class CollectionItemQuerySet(models.QuerySet):
    def place(self, collection, articles, start: int = 1) -> bool:
        """Put `articles` in `collection` at positions start, start + 1, … (missing ones are
        added, other items stay). Returns whether an item was added or moved."""
        return put_in_order(
            {item.article_id: item for item in self.filter(collection=collection)},
            articles,
            lambda article, position: self.create(
                collection=collection, article=article, position=position
            ),
            start=start,
        )

    def first_published(self, collection_ids, count, now=None) -> dict[int, list[int]]:
        """The ids of the first `count` published stories of each collection, in the editors'
        order: {collection id: [story ids]}. One query of id pairs (each item's story checked
        by its key), cut per collection here: a query that cut each collection itself (a
        window function) cost the ORM more to build than the database to answer. Whatever
        this queryset holds (call it on CollectionItem.objects); compiled once."""
        if not collection_ids:
            return {}
        rows = FIRST_PUBLISHED(
            self.model, collections=list(collection_ids), now=now or clock.now_datetime()
        )
        first = {pk: [] for pk in collection_ids}
        for collection_id, article_id in rows:
            if len(first[collection_id]) < count:
                first[collection_id].append(article_id)
        return first

    def published_cards(self, now=None):
        """Items whose story is published, in the editors' order, with what a story card
        shows. Each item's story is checked by its key: `article__in=published` would first
        list every published story to keep a few items."""
        return (
            self.filter(Exists(Article.objects.published(now).filter(pk=OuterRef("article"))))
            .select_related("article__company", "article__series", "article__view_total")
            .prefetch_related(Prefetch("article__tags", queryset=Tag.objects.order_by(*TAG_ORDER)))
            .defer("article__body", "article__body_html")
            .order_by("position", "id")
        )


class CollectionItem(models.Model):
    collection = models.ForeignKey(
        Collection, verbose_name="컬렉션", on_delete=models.CASCADE, related_name="items"
    )
    article = models.ForeignKey(
        Article, verbose_name="스토리", on_delete=models.CASCADE, related_name="collection_items"
    )
    position = models.PositiveSmallIntegerField("순서", default=0)

    objects = CollectionItemQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "컬렉션 항목"
        verbose_name_plural = "컬렉션 항목"
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "article"], name="collection_item_unique_article"
            )
        ]

    def __str__(self):
        return f"{self.collection} · {self.position} · {self.article}"
