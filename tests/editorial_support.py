"""Helpers shared by the editorial tests (tests/test_editorial_*.py)."""

from django.urls import reverse
from django.utils import timezone

CHANGELIST = "admin:articles_article_changelist"


def change_url(article) -> str:
    return reverse("admin:articles_article_change", args=[article.pk])


def split(name: str, value) -> dict:
    """A datetime as the admin's split date/time inputs post it, in Seoul time."""
    if value is None:
        return {f"{name}_0": "", f"{name}_1": ""}
    local = timezone.localtime(value)
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M:%S")}


def story_data(article=None, **overrides) -> dict:
    """What the story change form posts: the story's current values (or an empty new story),
    the version it was opened at, and `overrides`. A None value leaves the field out."""
    if article is None:
        data = {
            "kind": "feed", "title": "새 스토리", "slug": "", "excerpt": "", "body": "본문입니다.",
            "byline": "", "job_family": "", "series_part": "", "status": "draft",
            "meta_description": "", "original_url": "", "cover_alt": "", "cover_credit": "", "cover_focus": "center",
            **split("published_at", None), **split("unpublish_at", None),
        }  # fmt: skip
    else:
        data = {
            "kind": article.kind,
            "title": article.title,
            "slug": article.slug,
            "excerpt": article.excerpt,
            "body": article.body,
            "company": article.company_id or "",
            "people": [p.pk for p in article.people.all()],
            "authors": [u.pk for u in article.authors.all()],
            "hashtags": [t.pk for t in article.ordered_tags()],
            "byline": article.byline,
            "job_family": article.job_family,
            "series": article.series_id or "",
            "series_part": article.series_part or "",
            "status": article.status,
            "cover_alt": article.cover_alt,
            "cover_credit": article.cover_credit,
            "cover_focus": article.cover_focus,
            "meta_description": article.meta_description,
            "original_url": article.original_url,
            "base_version": article.version,
            **split("published_at", article.published_at),
            **split("unpublish_at", article.unpublish_at),
        }
        if article.is_featured:
            data["is_featured"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def action(client, name: str, *articles, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": name, "_selected_action": [a.pk for a in articles], **extra},
    )
