"""How fast the statistics answer at scale: `python -m bench.stats` (bench/README.md).

Builds a corpus by bulk inserts (100,000 stories of 1,000 companies with 2 of 500 hashtags
each, and a DailyView row for every story on each of the last 90 closed Seoul days and today:
9.1 million rows), rolls it up once (timed), then times the 90-day summary (the number the
room and GET /api/v1/stats/summary need: ≤ 300 ms), the 7- and 30-day summaries, the API
request itself, one story's statistics and one day's rollup. SQLite by default
(bench/out/stats-<n>.sqlite3, kept and reused); DATABASE_URL names a PostgreSQL database
instead (a throwaway one: it is filled).
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
TARGET_MS = 300


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="2,000 stories: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.stories, args.repeat = 2_000, 3
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "culture.settings")
    if not os.environ.get("DATABASE_URL"):
        OUT.mkdir(exist_ok=True)
        os.environ["SQLITE_PATH"] = str(OUT / f"stats-{args.stories}.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results = run(args)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    (OUT / f"stats-{results['vendor']}-{args.stories}.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2)
    )


def timed(function, repeat: int) -> dict:
    function()  # warm: the first run fills the caches of the database and of Python
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def run(args) -> dict:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from articles import rollup, stats
    from articles.models import Article, DailyView, RollupState
    from tokens.models import ApiToken

    built = None
    if Article.objects.count() != args.stories:
        started = time.perf_counter()
        build(args.stories, args.days)
        built = round(time.perf_counter() - started, 1)
    rows = DailyView.objects.count()
    RollupState.objects.all().delete()
    started = time.perf_counter()
    rollup.roll_up()
    first_rollup = round(time.perf_counter() - started, 1)
    # A day's rollup as cron runs it: the last day again (the windows rebuilt with it).
    through = rollup.state().through
    RollupState.objects.update(through=through - timedelta(days=1))
    started = time.perf_counter()
    rollup.roll_up()
    one_day = round(time.perf_counter() - started, 1)

    editor = prepare_editor()
    _, raw = ApiToken.issue(user=editor, name="bench", scopes=["stats:read"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    story = Article.objects.order_by("pk").first()
    today = timezone.localdate()

    def from_to(start, end):
        return stats.period_for(start=start, end=end)

    def api():
        response = client.get("/api/v1/stats/summary", {"days": 90})
        assert response.status_code == 200, response.content[:300]

    results = {
        "vendor": connection.vendor,
        "stories": args.stories,
        "daily_rows": rows,
        "build_s": built,
        "first_rollup_s": first_rollup,
        "one_day_rollup_s": one_day,
        "summary_90": timed(lambda: stats.summary(stats.period_for(90)), args.repeat),
        "summary_30": timed(lambda: stats.summary(stats.period_for(30)), args.repeat),
        "summary_7": timed(lambda: stats.summary(stats.period_for(7)), args.repeat),
        "api_summary_90": timed(api, args.repeat),
        # Periods that are not presets: inside the rolled window, and running to today.
        "summary_from_to_60_rolled": timed(
            lambda: stats.summary(from_to(today - timedelta(days=70), today - timedelta(days=11))),
            args.repeat,
        ),
        "summary_from_to_90_to_today": timed(
            lambda: stats.summary(from_to(today - timedelta(days=89), today)), args.repeat
        ),
        "story_90": timed(lambda: stats.story_stats(story, stats.period_for(90)), args.repeat),
        "at": timezone.now().isoformat(timespec="seconds"),
        "load": os.getloadavg(),
    }
    results["met"] = (
        max(results["summary_90"]["median_ms"], results["api_summary_90"]["median_ms"]) <= TARGET_MS
    )
    return results


def prepare_editor():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from articles.roles import sync_roles

    sync_roles()
    user, _ = get_user_model().objects.get_or_create(
        username="bench-editor", defaults={"is_staff": True}
    )
    user.groups.add(Group.objects.get(name="editor"))
    return user


def build(count: int, days: int) -> None:
    """The corpus, by bulk inserts: bulk_create for the stories and their relations, one
    INSERT … SELECT per day for the day rows."""
    from django.db import connection, transaction
    from django.utils import timezone

    from articles.models import (
        Article,
        ArticleTag,
        Company,
        DailyView,
        Kind,
        Status,
        Tag,
        ViewTotal,
    )

    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        companies = Company.objects.bulk_create(
            Company(name=f"통계회사{n}", slug=f"stats-company-{n}") for n in range(1000)
        )
        tags = Tag.objects.bulk_create(
            Tag(name=f"통계태그{n}", slug=f"stats-tag-{n}") for n in range(500)
        )
        kinds = [Kind.INTERVIEW, Kind.FEED, Kind.NEWS]
        for first in range(0, count, 10_000):
            stories = Article.objects.bulk_create(
                Article(
                    kind=kinds[n % 3],
                    title=f"통계 스토리 {n}",
                    slug=f"stats-{n}",
                    company=companies[n % len(companies)],
                    status=Status.PUBLISHED,
                    # Spread over two years: about one in eight is published in the window.
                    published_at=now - timedelta(minutes=(n * 10_513) % (730 * 24 * 60)),
                )
                for n in range(first, min(first + 10_000, count))
            )
            ArticleTag.objects.bulk_create(
                ArticleTag(article=story, tag=tags[tag % len(tags)], position=k)
                for story in stories
                for k, tag in enumerate((story.pk, story.pk + 1 + story.pk % 7))
            )
    quote = connection.ops.quote_name
    table, stories = quote(DailyView._meta.db_table), quote(Article._meta.db_table)
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        with transaction.atomic(), connection.cursor() as cursor:
            # A made-up count: most stories a few views, some many.
            cursor.execute(
                f"INSERT INTO {table} ({quote('article_id')}, {quote('day')}, {quote('count')}) "
                f"SELECT {quote('id')}, %s, 1 + ({quote('id')} * 7 + %s) %% 13 "
                f"+ CASE WHEN {quote('id')} %% 97 = 0 THEN 500 ELSE 0 END FROM {stories}",
                [day, back * 3],
            )
        print(f"  {day}: rows in", file=sys.stderr)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(ViewTotal._meta.db_table)} ({quote('article_id')}, {quote('count')}) "
            f"SELECT {quote('article_id')}, SUM({quote('count')}) FROM {table} GROUP BY {quote('article_id')}"
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


if __name__ == "__main__":
    main()
