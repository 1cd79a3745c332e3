"""The query plans of stories (ArticleQuerySet, Article.objects): what is published, in what
state, in what order, and which stories are related. One definition of "published" lives in
ArticleQuerySet.published(); the pages, the API, the feeds, the sitemap and search all go
through it."""

from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connections, models
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from articles import clock
from articles.models.cards import Shown, StoredHtml
from articles.models.common import POPULAR_WINDOW_DAYS, RELATED_COUNT
from articles.models.ordered import tags_in_order
from articles.models.states import State, state_conditions
from articles.models.stats import DailyView
from articles.prepared import Prepared, read_along, together

# What a story card draws (reader/markup.py card_html(), home's lead and 이번 주 인기) or is
# kept by (reader/cards.py card_key()).
CARD_FIELDS = (
    "kind",
    "title",
    "slug",
    "excerpt",
    "cover_image",
    "cover_alt",
    "cover_focus",
    "cover_renditions",
    "published_at",
    "original_published_on",
    "source_key",
    "version",
    "company__name",
    "company__slug",
    "company__logo",
    "company__logo_renditions",
    "view_total__count",
)
# CARD_FIELDS but the company's.
STORY_CARD_FIELDS = tuple(name for name in CARD_FIELDS if not name.startswith("company__"))
# Queries every story page, API detail or home miss asks, compiled once (prepared.py).
PUBLISHED_CARDS = Prepared(
    lambda model, ids, now: model.objects.published(now).by_key(ids).card_columns().order_by()
)
KIND_PAGE = Prepared(
    lambda model, kind, now, job_family="": (
        model.objects.of_kind(kind, job_family, now).recent().values_list("pk", "view_total__count")
    ),
    # A kind's list is planned once; narrowed to a job family, for the family asked.
    generic=lambda names: "job_family" not in names,
)


class RelatedLink(NamedTuple):
    """A related story as a link to it shows it (the API's related stories)."""

    pk: int
    kind: str
    title: str
    slug: str
    company_name: str | None
    company_slug: str | None
    published_at: datetime


LINK_COLUMNS = ("pk", "kind", "title", "slug", "company__name", "company__slug", "published_at")
COMPANY_NEWEST_LINKS = Prepared(
    lambda model, count, company, now: model.objects.of_company(company, now).values_list(
        *LINK_COLUMNS
    )[:count]
)
PUBLISHED_LINKS = Prepared(
    lambda model, ids, now: (
        model.objects.published(now).by_key(ids).order_by().values_list(*LINK_COLUMNS)
    )
)
# A company's newest stories as cards, without their company (the caller has it).
COMPANY_NEWEST_CARDS = Prepared(
    lambda model, count, company, now: (
        model.objects.of_company(company, now)
        .select_related("view_total")
        .only(*STORY_CARD_FIELDS, "company")[:count]
    )
)
# Stories as cards by their keys with what each card shows (Shown): what draw_cards draws
# and stores, read in one statement with their hashtags.
PUBLISHED_CARDS_SHOWN = Prepared(
    lambda model, ids, now: (
        model.objects.published(now).by_key(ids).card_columns().annotate(shown=Shown()).order_by()
    )
)
# Stories of one company as cards by their keys, without their company (the caller has it).
PUBLISHED_CARDS_OF_COMPANY = Prepared(
    lambda model, ids, now: (
        model.objects.published(now)
        .by_key(ids)
        .select_related("view_total")
        .only(*STORY_CARD_FIELDS, "company")
        .order_by()
    )
)
SERIES_PARTS = Prepared(
    lambda model, series, now: model.objects.series_parts(series, now).only(
        "pk", "slug", "title", "series_part"
    )
)
# Home's lead and each kind's newest, as (id, published_at): run as one statement.
NEWEST_FEATURED = Prepared(
    lambda model, now: (
        model.objects.published(now)
        .filter(is_featured=True)
        .recent()
        .values_list("pk", "published_at")[:1]
    )
)
NEWEST_OF_KIND = Prepared(
    lambda model, count, kind, now: (
        model.objects.of_kind(kind, now=now).recent().values_list("pk", "published_at")[:count]
    )
)


def story_company_newest(*columns: str, **annotations) -> Prepared:
    """The newest stories of a story's company, by the story's key (`story`; to be read along
    the story's row), as a values_list() of `columns` (which may name `annotations`), the last
    of them `published_at`."""
    return Prepared(
        lambda model, count, story, now: (
            model.objects.of_company(
                models.Subquery(model.objects.filter(pk=story).order_by().values("company_id")), now
            )
            .annotate(**annotations)
            .values_list(*columns)[:count]
        )
    )


# The first pool of the API's related stories, as links; of a story page's, as their keys,
# stored 조회수, versions and stored cards (articles/models/cards.py).
STORY_COMPANY_NEWEST_LINKS = story_company_newest(*LINK_COLUMNS)
STORY_COMPANY_NEWEST_COUNTS = story_company_newest(
    "pk", "view_total__count", "version", "stored", "published_at", stored=StoredHtml()
)
# A story page and the API's story show the body's HTML, never its Markdown source: reading
# that too (a second long text, stored after the others) was 40 % of the query's time.
PUBLISHED_STORY = Prepared(
    lambda model, pk, now: (
        model.objects.published(now)
        .select_related("company", "series", "view_total")
        .defer("body")
        .filter(pk=pk)[:1]
    )
)


def by_views():
    """조회수 as an expression to sort by: 0 for a story that has no ViewTotal row yet (an outer
    join gives NULL, which each database would sort at a different end)."""
    return Coalesce("view_total__count", Value(0))


def card_tags() -> Prefetch:
    """The hashtags a story card shows, in the story's own order (one query for a list)."""
    return Prefetch("tags", queryset=tags_in_order())


class ArticleQuerySet(models.QuerySet):
    def published(self, now=None):
        """Stories a reader may see now: published, due, and not yet withdrawn."""
        return self.in_state(State.PUBLISHED, now)

    def in_state(self, state: State, now=None):
        """Stories in `state` at `now` (states.py holds the one definition)."""
        return self.filter(state_conditions(now or clock.now_datetime())[state])

    def with_state(self, now=None):
        """Each story annotated with its state at `now` (Article.state reads it), for a list
        that shows or sorts by state in the same query."""
        conditions = state_conditions(now or clock.now_datetime())
        return self.annotate(
            state_now=Case(
                *(
                    When(condition, then=Value(state.value))
                    for state, condition in conditions.items()
                ),
                output_field=models.CharField(),
            )
        )

    def for_listing(self):
        """The query plan of every story card: one query for the stories with their company,
        series and 조회수, one for all their tags, whatever the number of stories."""
        return (
            self.select_related("company", "series", "view_total")
            .prefetch_related(card_tags())
            .defer("body", "body_html")
        )

    def recent(self):
        return self.order_by(F("published_at").desc(nulls_last=True), "-id")

    def popular(self, days=POPULAR_WINDOW_DAYS, now=None):
        """인기순: views of the last `days` days (from DailyView), then all-time views.

        The day totals are a correlated subquery that only runs for stories that had views in
        the window (the IN list is computed once), so sorting a long list stays cheap."""
        since = timezone.localdate(now or timezone.now()) - timedelta(days=days - 1)
        in_window = DailyView.objects.filter(day__gte=since)
        totals = (
            in_window.filter(article=OuterRef("pk"))
            .values("article")
            .annotate(total=Sum("count"))
            .values("total")
        )
        return self.annotate(
            recent_views=Case(
                When(pk__in=in_window.values("article"), then=Subquery(totals)),
                default=0,
            )
        ).order_by(
            "-recent_views", by_views().desc(), F("published_at").desc(nulls_last=True), "-id"
        )

    def most_viewed(self, days, limit, now=None):
        """The `limit` stories with the most views in the last `days` days, each with its
        `recent_views`."""
        return self.with_recent_views(self.view_ranking(days, limit, now))

    def view_ranking(self, days, limit, now=None) -> list[tuple[int, int]]:
        """(story id, views) of the `limit` stories with the most views in the last `days`
        days, most first: read from the day rows of the window, not from every story (each
        day row's story is checked by its key, where `article__in=self` would first list every
        story of `self`)."""
        since = timezone.localdate(now or timezone.now()) - timedelta(days=days - 1)
        return list(
            DailyView.objects.filter(Exists(self.filter(pk=OuterRef("article"))), day__gte=since)
            .values_list("article")
            .annotate(total=Sum("count"))
            .order_by("-total", "-article")[:limit]
        )

    def with_recent_views(self, ranking) -> list:
        """The stories of a view_ranking() that are in this queryset, in its order, each with
        its `recent_views`."""
        stories = {story.pk: story for story in self.card_rows([pk for pk, _ in ranking])}
        ranked = []
        for pk, total in ranking:
            if pk in stories:
                stories[pk].recent_views = total
                ranked.append(stories[pk])
        return ranked

    def series_parts(self, series_id, now=None):
        """The published parts of a series in their order. Driven from the series' own few
        rows (the series index), not from the published listing: filtered there, SQLite read
        every published story's row to test its series."""
        in_series = self.model.objects.filter(series=series_id).values("pk")
        return self.published(now).filter(pk__in=in_series).in_series_order()

    def of_kind(self, kind: str, job_family: str = "", now=None):
        """The stories of `kind` (and of `job_family`, when given) published at `now`: a kind
        list, in whatever order."""
        stories = self.published(now).filter(kind=kind)
        return stories.filter(job_family=job_family) if job_family else stories

    def of_company(self, company_id, now=None):
        """The company's stories published at `now`, newest first: the first pool of related
        stories (as links for the API, as cards for a story page)."""
        return self.published(now).filter(company_id=company_id).recent()

    def parts_of(self, series_id, now=None) -> list:
        """series_parts() with what a series' navigation shows of each part (id, slug, title,
        part number), the query compiled once: a story page's and the API's series."""
        return SERIES_PARTS(self.model, series=series_id, now=now or clock.now_datetime())

    def in_series_order(self):
        """A series' parts by part number, unnumbered parts last on every database (SQLite
        and PostgreSQL put NULLs at opposite ends by themselves), then by date."""
        return self.order_by(F("series_part").asc(nulls_last=True), "published_at", "id")

    def related_links(
        self, article, tag_ids=None, limit=RELATED_COUNT, now=None, newest=None
    ) -> list:
        """Up to `limit` published stories like `article` (related_ids()) as RelatedLink,
        read as plain values with the queries compiled once (call it on Article.objects): the
        company's newest with their links at once (they are the first pool; `newest`, when
        the caller read them already: newest_links_along()), the others by their keys. The
        API's related stories; a story page draws them as cards (reader/cards.py
        related_for_readers())."""
        now = now or clock.now_datetime()
        loaded = {}
        if newest is not None:
            loaded = {link.pk: link for link in newest}
        elif article.company_id:
            shape = {"count": limit + 1}
            rows = COMPANY_NEWEST_LINKS(
                self.model, shape=shape, company=article.company_id, now=now
            )
            loaded = {row[0]: RelatedLink._make(row) for row in rows}
        ids = self.related_ids(article, list(loaded), tag_ids, limit)
        missing = [pk for pk in ids if pk not in loaded]
        if missing:
            rows = PUBLISHED_LINKS(self.model, ids=missing, now=now)
            loaded.update((row[0], RelatedLink._make(row)) for row in rows)
        return [loaded[pk] for pk in ids if pk in loaded]

    def newest_links_along(self, story_id: int, now, limit=RELATED_COUNT) -> tuple:
        """The first pool of related_links() (the `limit` + 1 newest stories published at
        `now` of the company of story `story_id`, none without one) as a read along the
        story's row (published_story_with()), and what makes its rows into RelatedLinks,
        newest first."""
        along, made = self._newest_along(STORY_COMPANY_NEWEST_LINKS, story_id, now, limit)
        return along, lambda rows: [RelatedLink._make(row) for row in made(rows)]

    def newest_counts_along(self, story_id: int, now, limit=RELATED_COUNT) -> tuple:
        """The ids, stored 조회수, versions and stored cards of the same first pool (a story
        page's related cards) as a read along the story's row, and what makes its rows into
        (id, 조회수, version, stored card), newest first. The stored card is its context and
        HTML (StoredHtml) while it shows what the story shows now, else None."""
        along, made = self._newest_along(STORY_COMPANY_NEWEST_COUNTS, story_id, now, limit)
        return along, lambda rows: [
            (pk, count or 0, version, stored) for pk, count, version, stored, _ in made(rows)
        ]

    def _newest_along(self, prepared: Prepared, story_id: int, now, limit) -> tuple:
        """A story_company_newest() query as a read along the story's row, and what makes its
        rows into its values, newest first again, as recent() sorts them (the statement
        around them keeps no order)."""
        shape = {"count": limit + 1}
        values = {"story": story_id, "now": now}

        def made(rows) -> list[tuple]:
            found = prepared.made(self.model, rows, shape, **values)
            # published_at last, the key first.
            return sorted(found, key=lambda row: (row[-1], row[0]), reverse=True)

        return prepared.along(self.model, shape, **values), made

    def by_key(self, ids):
        """The stories of `ids` that this queryset holds, found by their keys: each is read by
        its primary key and then tested against this queryset's conditions (one EXISTS on the
        same key). Filtered the plain way, SQLite, which plans without statistics, answered
        `published() AND id IN (…)` by walking the published listing index and testing every
        entry against the list: 19 ms for six ids at 100,000 stories, growing with the corpus.
        PostgreSQL plans with statistics and is given the plain filter (one subquery less to
        build)."""
        if connections[self.db].vendor != "sqlite":
            return self.filter(pk__in=ids)
        return self.model.objects.filter(pk__in=ids).filter(Exists(self.filter(pk=OuterRef("pk"))))

    def published_cards(self, ids, now=None) -> list:
        """card_rows() of the stories of `ids` that are published at `now` (whatever this
        queryset holds: call it on Article.objects), with the query compiled once per shape
        (articles/prepared.py): a page's related stories, home's cards."""
        return self.published_cards_with(ids, (), now)[0]

    def published_cards_with(self, ids, along, now=None, company=None) -> tuple[list, list]:
        """published_cards() and the rows of each read of `along` (articles/prepared.py
        Along), in one statement (read_along()). With `company`, the stories of `ids` are all
        its own: it is not read again but given to each (a story page's related cards of its
        own company: four Company instances fewer to make, a sixth of the load). A story
        moved to another company since the caller read it reads its own when asked."""
        if not ids:
            return [], [[] for _ in along]
        now = now or clock.now_datetime()
        prepared = PUBLISHED_CARDS if company is None else PUBLISHED_CARDS_OF_COMPANY
        found, others = read_along(prepared, self.model, along, ids=list(ids), now=now)
        stories = {story.pk: story for story in found}
        if company is not None:
            for story in found:
                if story.company_id == company.pk:
                    story.company = company
        return [stories[pk] for pk in ids if pk in stories], others

    def published_story(self, pk: int, now=None):
        """The story `pk` if it is published at `now`, with its company, series and stored
        조회수 (whatever this queryset holds: call it on Article.objects), else None; the query
        compiled once (articles/prepared.py): a story page's and the API's own row. Its
        Markdown source is not read (a query of its own if asked for)."""
        return self.published_story_with(pk, (), now)[0]

    def published_story_with(self, pk: int, along, now=None) -> tuple:
        """published_story() and the rows of each read of `along` (articles/prepared.py
        Along), in one statement (read_along())."""
        now = now or clock.now_datetime()
        found, others = read_along(PUBLISHED_STORY, self.model, along, pk=pk, now=now)
        if not found:
            return None, others
        # Its state at `now` is what the query's filter held: published (Article.state reads
        # it as it reads with_state()'s, instead of testing every state's condition again).
        found[0].state_now = State.PUBLISHED.value
        return found[0], others

    def kind_page(self, kind: str, start: int, stop: int, job_family="", now=None) -> list:
        """(id, stored 조회수) of the stories of `kind` (and `job_family`) published at `now`,
        newest first, [start:stop] (whatever this queryset holds: call it on
        Article.objects), the query compiled once: a kind list's page, read before its
        cards."""
        values = {"kind": kind, "now": now or clock.now_datetime()}
        if job_family:
            values["job_family"] = job_family
        rows = KIND_PAGE(self.model, window=(start, stop), **values)
        return [(pk, count or 0) for pk, count in rows]

    def home_newest(self, kinds, count, now=None) -> tuple[int | None, dict[str, list[int]]]:
        """The id of the newest featured story published at `now` (None without one), and the
        ids of the `count` newest of each of `kinds`, newest first (whatever this queryset
        holds: call it on Article.objects): four small reads of the listing indexes, compiled
        once and sent as one statement (articles/prepared.py together()). (Numbering every
        published story within its kind in one query read every story's row: 13 ms of SQLite
        at 1,000 stories, and growing.)"""
        now = now or clock.now_datetime()
        lead, *latest = together(
            [
                NEWEST_FEATURED.statement(self.model, now=now),
                *(
                    NEWEST_OF_KIND.statement(self.model, shape={"count": count}, kind=kind, now=now)
                    for kind in kinds
                ),
            ]
        )

        def newest(rows):
            # Sorted again here: a UNION ALL promises no order. published_at comes as the
            # database gives it (a datetime, or SQLite's text, which sorts the same way).
            return [pk for pk, _ in sorted(rows, key=lambda row: (row[1], row[0]), reverse=True)]

        first = newest(lead)
        return (first[0] if first else None), dict(zip(kinds, map(newest, latest), strict=True))

    def card_rows(self, ids):
        """The stories of `ids` in that order with what a card shows but its hashtags
        (reader/cards.py reads those as plain values): one query. An id this queryset does not
        hold is left out."""
        if not ids:
            return []
        stories = self.by_key(ids).card_columns().order_by().in_bulk(ids)
        return [stories[pk] for pk in ids if pk in stories]

    def card_columns(self):
        """What a card shows of a story but its hashtags (CARD_FIELDS): of its row, its
        company's and its stored 조회수 only what the card draws or is kept by (its version,
        reader/cards.py card_key()). A whole row of each took about twice as long to make into
        instances (six dates and three JSON fields a card to convert)."""
        return self.select_related("company", "view_total").only(*CARD_FIELDS)

    def newest_cards_of_company(self, company, count, now=None) -> list:
        """card_rows() of `company`'s `count` newest stories published at `now`, newest first
        (whatever this queryset holds: call it on Article.objects), the query compiled once:
        the first pool of related stories, loaded with what their cards show. Each is given
        `company` itself (a story page's own, read with its row) rather than a copy of it
        joined to every story: five Company instances fewer (a sixth of the pool's cost on
        SQLite; on PostgreSQL within the noise)."""
        stories = COMPANY_NEWEST_CARDS(
            self.model,
            shape={"count": count},
            company=company.pk,
            now=now or clock.now_datetime(),
        )
        for story in stories:
            story.company = company
        return stories

    def related_ids(self, article, company_newest, tag_ids=None, limit=RELATED_COUNT):
        """The ids of up to `limit` published stories like `article`: the same company first,
        then the most shared tags, then the same kind; newest first within each (call it on
        Article.objects: published() is applied here, to the pools that are asked, and only
        then built). The first pool, `company_newest`, is the ids of the company's `limit` + 1
        newest published stories (newest_cards_of_company(): the callers load or keep them);
        then up to two small indexed queries: no scan of every story. A pool is asked only
        while the list is short (a company with `limit` other stories fills it alone);
        `tag_ids`, the story's tags' ids, are read only when the tag pool is asked, if not
        given."""

        def story_tag_ids():
            nonlocal tag_ids
            if tag_ids is None:
                tag_ids = list(article.tags.values_list("pk", flat=True))
            return tag_ids

        def others():
            return self.published().exclude(pk=article.pk)

        def by_company():
            return [pk for pk in company_newest if pk != article.pk]

        def by_tags():
            # The candidates come from the story's tags (the tag -> story rows, a few
            # hundred), not from every published story: joined the other way, the database
            # walked the whole published listing and looked up each story's tags. The shared
            # count is then taken for the candidates alone. (Looking each candidate's row up
            # by its key instead would read past its body on SQLite: the listing index answers
            # published() without touching the rows.)
            if not story_tag_ids():
                return []
            through = self.model.tags.through.objects.filter(tag_id__in=tag_ids)
            shared = (
                through.filter(article_id=OuterRef("pk"))
                .order_by()
                .values("article_id")
                .annotate(total=Count("*"))
                .values("total")
            )
            return (
                others()
                .filter(pk__in=through.values("article_id"))
                .annotate(shared=Subquery(shared))
                .order_by("-shared", F("published_at").desc(nulls_last=True), "-id")
            )

        def by_kind():
            return others().filter(kind=article.kind).recent()

        # Each pool is built only when the ones before left the list short (building a
        # queryset costs about as much as running a small one).
        pools = [
            *([by_company] if article.company_id else []),
            by_tags,
            by_kind,
        ]
        chosen = []
        for make in pools:
            if len(chosen) >= limit:
                break  # the pools before filled the list: a later pool's ids would be cut off
            pool = make()
            if isinstance(pool, models.QuerySet):
                pool = pool.values_list("pk", flat=True)
            for pk in pool[:limit]:
                if pk not in chosen:
                    chosen.append(pk)
        return chosen[:limit]
