"""Fill a benchmark database with generated stories: `python -m bench.seed --stories 10000`.

Run with DJANGO_SETTINGS_MODULE=bench.settings and SQLITE_PATH (or DATABASE_URL) pointing at a
throwaway database. Bodies are random Korean sentences from a fixed vocabulary (seeded, so every
run builds the same site), rendered once with the site's own Markdown renderer.
"""

import argparse
import random
from datetime import timedelta


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stories", type=int, default=10_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed(args.stories)


WORDS = [
    "개발팀",
    "서비스",
    "데이터베이스",
    "연결",
    "풀링",
    "트랜잭션",
    "배포",
    "코드",
    "리뷰",
    "온보딩",
    "장애",
    "회고",
    "모니터링",
    "검색",
    "인덱스",
    "캐시",
    "백엔드",
    "프론트엔드",
    "디자인",
    "시스템",
    "채용",
    "문화",
    "성장",
    "주니어",
    "시니어",
    "멘토링",
    "파이프라인",
    "쿼리",
    "성능",
    "지표",
    "실험",
    "고객",
    "제품",
    "기획",
    "협업",
    "문서",
    "테스트",
    "자동화",
    "인프라",
    "클라우드",
    "컨테이너",
    "큐",
    "메시지",
    "동시성",
    "스레드",
    "워커",
    "요청",
    "응답",
    "지연",
    "처리량",
    "병목",
    "로그",
    "알림",
    "대시보드",
]
LATIN = [
    "Django",
    "PostgreSQL",
    "SQLite",
    "Redis",
    "Kotlin",
    "Python",
    "QueuePool",
    "pool_size",
    "Kafka",
    "gunicorn",
]
ENDINGS = ["합니다.", "했습니다.", "입니다.", "봤습니다.", "됩니다.", "있습니다."]


def sentence(rng):
    words = rng.choices(WORDS, k=rng.randint(5, 11))
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), rng.choice(LATIN))
    return " ".join(words) + "을 " + rng.choice(ENDINGS)


def body(rng):
    parts = []
    for section in range(rng.randint(3, 5)):
        parts.append(f"## {rng.choice(WORDS)} {rng.choice(WORDS)} 이야기 {section + 1}")
        for _ in range(rng.randint(2, 4)):
            parts.append(" ".join(sentence(rng) for _ in range(rng.randint(3, 6))))
        if rng.random() < 0.3:
            parts.append(f"> “{sentence(rng)}”")
        if rng.random() < 0.2:
            parts.append("```python\nfor row in rows:\n    print(row)\n```")
    return "\n\n".join(parts)


def seed(count):
    from django.db import transaction
    from django.utils import timezone

    from articles.models import (
        Article,
        Collection,
        CollectionItem,
        Company,
        DailyView,
        JobFamily,
        Kind,
        Person,
        Series,
        Status,
        Tag,
        ViewTotal,
    )
    from articles.rendering import excerpt_from, plain_text, reading_minutes, render_markdown

    if Article.objects.count() >= count:
        print(f"{Article.objects.count()} stories already there")
        return
    rng = random.Random(20261125)
    now = timezone.now()
    with transaction.atomic():
        companies = Company.objects.bulk_create(
            Company(
                name=f"벤치회사{n}",
                slug=f"bench-company-{n}",
                one_liner="벤치마크용 회사",
                hiring_url=f"https://jobs{n}.example.com/",
            )
            for n in range(50)
        )
        people = Person.objects.bulk_create(
            Person(
                name=f"김벤치{n}",
                slug=f"bench-person-{n}",
                company=companies[n % 50],
                role="개발자",
                team="플랫폼팀",
            )
            for n in range(200)
        )
        tags = Tag.objects.bulk_create(
            Tag(name=f"{WORDS[n % len(WORDS)]}{n}", slug=f"bench-tag-{n}") for n in range(100)
        )
        series = Series.objects.bulk_create(
            Series(title=f"벤치 연재 {n}", slug=f"bench-series-{n}") for n in range(10)
        )
        bodies = [body(rng) for _ in range(200)]  # rendered once each, shared by many stories
        rendered = [render_markdown(text) for text in bodies]
        stories = []
        for n in range(count):
            variant = n % len(bodies)
            text = plain_text(rendered[variant])
            title = f"{rng.choice(WORDS)} {rng.choice(WORDS)}에 대한 {rng.choice(WORDS)} 이야기 {n}"
            stories.append(
                Article(
                    kind=[Kind.INTERVIEW, Kind.FEED, Kind.NEWS][n % 3],
                    title=title,
                    slug=f"bench-{n}",
                    body=bodies[variant],
                    body_html=rendered[variant],
                    excerpt=excerpt_from(text),
                    reading_minutes=reading_minutes(text),
                    company=companies[n % 50],
                    job_family=JobFamily.values[n % len(JobFamily.values)],
                    series=series[n % 10] if n < 100 else None,
                    series_part=n // 10 + 1 if n < 100 else None,
                    status=Status.PUBLISHED,
                    published_at=now - timedelta(minutes=count - n),
                    is_featured=n == count - 1,
                )
            )
        stories = Article.objects.bulk_create(stories, batch_size=500)
        ViewTotal.objects.bulk_create(
            (ViewTotal(article=story, count=rng.randint(0, 5000)) for story in stories),
            batch_size=2000,
        )
        Article.tags.through.objects.bulk_create(
            (
                Article.tags.through(article=story, tag=tags[(story.pk * k) % 100])
                for story in stories
                for k in (1, 7, 13)
            ),
            batch_size=2000,
            ignore_conflicts=True,
        )
        Article.people.through.objects.bulk_create(
            (
                Article.people.through(article=story, person=people[story.pk % 200])
                for story in stories
            ),
            batch_size=2000,
        )
        for position in range(3):
            collection = Collection.objects.create(
                title=f"벤치 컬렉션 {position}",
                slug=f"bench-collection-{position}",
                position=position,
            )
            CollectionItem.objects.bulk_create(
                CollectionItem(
                    collection=collection, article=stories[-1 - position * 6 - i], position=i
                )
                for i in range(6)
            )
        today = timezone.localdate()
        DailyView.objects.bulk_create(
            DailyView(
                article=stories[-1 - i], day=today - timedelta(days=d), count=rng.randint(1, 90)
            )
            for i in range(500)
            for d in range(7)
        )
    from django.core.management import call_command, get_commands

    if "reindex_search" in get_commands():
        call_command("reindex_search")
    print(f"seeded {count} stories")


if __name__ == "__main__":
    main()
