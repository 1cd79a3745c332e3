"""Fill the benchmark's database: a few thousand published stories with companies and tags.

    DJANGO_SETTINGS_MODULE=bench.pool.settings python -m bench.pool.seed STORIES

Bodies are generated here (no real story text); Markdown is rendered once per distinct body
and bulk-inserted, so seeding takes seconds. Prints the story page paths as JSON.
"""

import json
import random
import sys
from datetime import timedelta


def main(total: int) -> None:
    import django

    django.setup()
    from django.utils import timezone

    from articles.models import Article, Company, Kind, Status, Tag, ViewTotal
    from articles.rendering import excerpt_from, plain_text, reading_minutes, render_markdown

    rng = random.Random(20240601)
    companies = Company.objects.bulk_create(
        Company(name=f"벤치 회사 {n}", slug=f"bench-company-{n}", one_liner="측정용 회사")
        for n in range(40)
    )
    tags = Tag.objects.bulk_create(Tag(name=f"측정{n}", slug=f"bench-tag-{n}") for n in range(60))
    words = ["연결", "풀", "트랜잭션", "배포", "리뷰", "장애", "회고", "지표", "캐시", "큐",
             "스키마", "인덱스", "워커", "스레드", "타임아웃", "모니터링"]  # fmt: skip
    bodies = []
    for variant in range(50):
        paragraphs = [
            " ".join(rng.choice(words) for _ in range(rng.randint(40, 90))) + "."
            for _ in range(rng.randint(6, 14))
        ]
        markdown = f"## 측정 본문 {variant}\n\n" + "\n\n".join(paragraphs)
        html = render_markdown(markdown)
        text = plain_text(html)
        bodies.append((markdown, html, excerpt_from(text), reading_minutes(text)))
    now = timezone.now()
    articles = []
    for n in range(total):
        markdown, html, excerpt, minutes = bodies[n % len(bodies)]
        articles.append(
            Article(
                kind=rng.choice(Kind.values),
                title=f"측정용 스토리 {n}",
                slug=f"bench-story-{n}",
                excerpt=excerpt,
                body=markdown,
                body_html=html,
                reading_minutes=minutes,
                company=rng.choice(companies),
                status=Status.PUBLISHED,
                published_at=now - timedelta(minutes=n),
            )
        )
    articles = Article.objects.bulk_create(articles, batch_size=500)
    ViewTotal.objects.bulk_create(
        [ViewTotal(article=article, count=rng.randint(0, 5000)) for article in articles],
        batch_size=2000,
    )
    through = Article.tags.through
    through.objects.bulk_create(
        [
            through(article_id=article.pk, tag_id=tag.pk)
            for article in articles
            for tag in rng.sample(tags, 3)
        ],
        batch_size=2000,
    )
    # The stories readers ask for: a working set of 100, small enough that every worker's
    # page cache holds it after the warm-up, as it would hold the popular stories.
    paths = [article.get_absolute_url() for article in rng.sample(articles, min(100, total))]
    print(json.dumps({"stories": total, "paths": paths}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
