"""A story's history: revisions, edit conflicts, and the audit trail in the admin's LogEntry
table. articles/services.py's save_story() records each save with these; restoring a revision
is a save too (services.restore_revision)."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from articles.models import Article, Company, Revision, Series, Status

# The fields a revision keeps and a restore writes back, in the order the admin shows them.
SCALAR_FIELDS = (
    "kind",
    "title",
    "slug",
    "excerpt",
    "body",
    "cover_image",
    "cover_alt",
    "cover_credit",
    "cover_focus",
    "company",
    "byline",
    "job_family",
    "series",
    "series_part",
    "status",
    "published_at",
    "unpublish_at",
    "is_featured",
    "original_url",
    "original_published_on",
    "meta_description",
)
RELATION_FIELDS = ("people", "authors", "tags")
DATETIME_FIELDS = {"published_at", "unpublish_at"}
DATE_FIELDS = {"original_published_on"}
FOREIGN_KEYS = {"company": Company, "series": Series}
# A restore brings back what was written, never the publication state: restoring an old version
# must not publish, unpublish or reschedule the story behind the editors' backs.
KEPT_ON_RESTORE = ("status", "published_at", "unpublish_at", "is_featured")


def snapshot(article: Article, related=None) -> dict:
    """The editable fields of a saved story as JSON. `related` may already hold some of its
    relations (name -> objects), which are then not read again."""
    related = related or {}
    data = {}
    for name in SCALAR_FIELDS:
        field = Article._meta.get_field(name)
        value = getattr(article, field.attname)
        if name in DATETIME_FIELDS or name in DATE_FIELDS:
            value = value.isoformat() if value else None
        elif name == "cover_image":
            value = value.name or ""
        data[name] = value
    for name in RELATION_FIELDS:
        if name == "tags":  # in their order, which is the author's
            tags = related["tags"] if "tags" in related else article.ordered_tags()
            data[name] = list(dict.fromkeys(tag.pk for tag in tags))
        elif name in related:
            data[name] = sorted(obj.pk for obj in related[name])
        else:
            data[name] = sorted(getattr(article, name).values_list("pk", flat=True))
    return data


def record_revision(
    article: Article, user, *, note: str = "", related=None, first: bool = False
) -> Revision:
    """Keep the story as it is now (saved, with its relations) as its next revision, by
    `user`. Call it inside the transaction of the save, after the relations are set.
    `first`: the story was just created, so this is its revision 1."""
    with transaction.atomic():
        if first:
            last = 0
        else:
            last = Revision.objects.filter(article=article).aggregate(last=Max("number"))["last"]
        return Revision.objects.create(
            article=article,
            number=(last or 0) + 1,
            article_version=article.version,
            author=user if getattr(user, "pk", None) else None,
            snapshot=snapshot(article, related),
            note=note[:200],
        )


def ensure_baseline(article_id: int) -> None:
    """Before the first recorded save of a story made elsewhere (the import, the demo content,
    a story older than revisions), keep the state it has in the database as revision 1, so the
    edit about to happen can be compared and undone too. Call it before saving."""
    if Revision.objects.filter(article_id=article_id).exists():
        return
    stored = Article.objects.filter(pk=article_id).first()
    if stored is not None:
        record_revision(stored, stored.created_by, note="기록 시작 전 상태")


def last_revision(article_id: int) -> Revision | None:
    return (
        Revision.objects.filter(article_id=article_id)
        .select_related("author")
        .order_by("-number")
        .first()
    )


def edit_conflict(article_id: int, base_version: int | None) -> str | None:
    """Why saving an edit that started from `base_version` would overwrite somebody else's
    work, or None when it is safe.

    Inside the admin's transaction the story's row is locked (SELECT … FOR NO KEY UPDATE)
    until the save commits, so two saves cannot both pass this check. (NO KEY: a reader's
    view, which inserts rows that refer to the story, need not wait for it.) SQLite has no row locks, but its
    IMMEDIATE transactions (culture/database.py) take the write lock at BEGIN: the second
    save's transaction starts only after the first one committed."""
    rows = Article.objects.filter(pk=article_id)
    if connection.in_atomic_block:
        rows = rows.select_for_update(no_key=True)
    current = rows.values_list("version", flat=True).first()
    if current is None or current == base_version:
        return None
    if base_version is None:
        return "이 화면이 언제 열렸는지 알 수 없습니다. 페이지를 새로 고친 뒤 다시 고쳐 주세요."
    revision = last_revision(article_id)
    if revision is not None and revision.article_version == current:
        who = revision.author_name
        when = timezone.localtime(revision.created_at)
    else:
        who = "다른 작업(가져오기 등)"
        when = timezone.localtime(Article.objects.get(pk=article_id).updated_at)
    return (
        f"이 화면을 연 뒤에 {who}님이 {when:%Y-%m-%d %H:%M}(한국 시간)에 이 스토리를 고쳤습니다. "
        "덮어쓰지 않도록 저장하지 않았습니다. 고친 내용을 따로 복사해 두고, 페이지를 새로 고친 뒤 "
        "다시 적용해 주세요."
    )


# --- Audit ----------------------------------------------------------------------------------


def log_change(user, article: Article, message: str, *, action_flag: int = CHANGE) -> None:
    """One line in the story's admin history (히스토리): who, when, what."""
    if getattr(user, "pk", None) is None:
        return
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[article],
        action_flag=action_flag,
        change_message=message,
        single_object=True,
    )


def publication_message(before: tuple | None, article: Article) -> str | None:
    """What an edit did to the story's publication, in the words the audit uses: "발행",
    "예약 발행", "발행 취소", or None when it did not change it."""
    after = article.publication
    if before == after:
        return None
    now = timezone.now()
    was_published = before is not None and before[0] == Status.PUBLISHED
    is_published = article.status == Status.PUBLISHED
    withdrawn = article.unpublish_at is not None and article.unpublish_at <= now
    if was_published and (not is_published or withdrawn):
        return "발행 취소"
    if is_published and not withdrawn and (not was_published or before[1] != after[1]):
        if article.published_at > now:
            when = timezone.localtime(article.published_at)
            return f"예약 발행: {when:%Y-%m-%d %H:%M}"
        return "발행"
    return None
