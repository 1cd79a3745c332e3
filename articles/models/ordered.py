"""Rows kept in an order: a story's hashtags (ArticleTag, in the author's order) and the
helper that renumbers linked rows (the hashtags, a collection's stories)."""

from django.db import models

from articles.models.entities import Tag

__all__ = [
    "ArticleTag",
    "tags_in_order",
]


class ArticleTag(models.Model):
    """A story's hashtag and its place among the story's hashtags: the author's order (the
    order a TheTeams post lists them in, or an editor's), which every page and the API keep.
    The table is the one the relation had before it was ordered."""

    article = models.ForeignKey(
        "articles.Article", verbose_name="스토리", on_delete=models.CASCADE,
        related_name="tag_links",
    )  # fmt: skip
    tag = models.ForeignKey(
        Tag, verbose_name="해시태그", on_delete=models.CASCADE, related_name="article_links"
    )
    position = models.PositiveSmallIntegerField("순서", default=0)

    class Meta:
        db_table = "articles_article_tags"
        ordering = ["position", "id"]
        unique_together = [("article", "tag")]
        default_permissions = ()  # set with its story, never edited on its own
        verbose_name = "스토리의 해시태그"
        verbose_name_plural = "스토리의 해시태그"

    def __str__(self):
        return f"{self.article_id} · {self.position} · {self.tag}"


# A story's hashtags in their order (ArticleTag.position): article.tags.order_by(*TAG_ORDER),
# Prefetch("tags", tags_in_order()). The ordering reuses the join to the relation's table that
# the related manager or the prefetch has made, so each tag comes once.
TAG_ORDER = ("article_links__position", "article_links__id")


def tags_in_order():
    return Tag.objects.order_by(*TAG_ORDER)


def put_in_order(links: dict, wanted, create, *, start: int = 0) -> bool:
    """Give each object of `wanted` its link (a row with a `position`) at position start,
    start + 1, …: `links` maps an object's key to its existing link, `create(obj, position)`
    makes a missing one. Returns whether a link was created or moved."""
    changed = False
    for position, obj in enumerate(wanted, start=start):
        link = links.get(obj.pk)
        if link is None:
            create(obj, position)
        elif link.position != position:
            link.position = position
            link.save(update_fields=["position"])
        else:
            continue
        changed = True
    return changed
