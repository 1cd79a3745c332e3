"""Fill an empty benchmark database with generated stories, fast at any size:

    python -m bench.seed --stories 100000

Run with DJANGO_SETTINGS_MODULE=bench.settings and SQLITE_PATH (or DATABASE_URL) pointing at a
throwaway database, and MEDIA_ROOT at a folder for the pictures. It migrates, then writes
every row in bulk, in chunks, in one transaction: COPY on PostgreSQL, executemany on SQLite.
The site's writers (articles/services.py) run per story and would take hours at 100,000
stories; so this writes what they would write, through the site's own functions where one
exists:

- stories (published, one a minute back from now) with their tags (in order), people, company,
  series, cover picture and 조회수 row, bodies rendered by the site's renderer (one of
  corpus.BODY_VARIANTS variants each, rendered once);
- companies (one per 200 stories, at least 50) with logos, people (four per company) with
  photos, tags (one per 50 stories, at least 100; each story has one of 20 common tags and
  two from the long tail), 10 series, 3 collections on the home page, a week of daily views;
- pictures: a few covers, logos and photos drawn by the demo's artwork (articles/artwork.py)
  with their renditions (articles/renditions.py), shared by many rows, so every card carries
  an image; they are kept in MEDIA_ROOT and reused by later seeds;
- search documents (articles/search.py's fields, the same text index_article() writes: the
  test checks it), which feed the FTS5 table (SQLite, by its triggers) or the tsvector
  columns (PostgreSQL) as they are inserted;
- then, on PostgreSQL, the GIN pending lists cleaned and VACUUM ANALYZE run (what reindex()
  does and autovacuum would soon do: without the visibility map a freshly loaded table answers
  no index-only scan), and the content version moved (articles/versions.py).
"""

import argparse
import html
import json
import random
import time
from datetime import timedelta

CHUNK = 2000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--pictures", type=int, default=12, help="distinct pictures of each sort")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    seed(args.stories, pictures=args.pictures)
    print(f"seeded {args.stories} stories in {time.monotonic() - started:.0f} s", flush=True)


def insert(objects) -> None:
    """Write unsaved model instances (all of one model, their keys set) as they are: COPY on
    PostgreSQL, one executemany on SQLite. No save(), no signals."""
    from django.db import connection

    if not objects:
        return
    meta = type(objects[0])._meta
    fields = meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})", rows
            )


def artwork(count: int) -> dict[str, list[tuple[str, dict]]]:
    """`count` covers, logos and photos in the default storage with their renditions:
    {"covers": [(name, record), …], "logos": …, "photos": …}. Drawn once per MEDIA_ROOT."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from articles import artwork as drawing
    from articles import renditions
    from articles.models import Kind

    memo = f"bench/pictures-{count}.json"
    if default_storage.exists(memo):
        with default_storage.open(memo) as file:
            return json.loads(file.read())
    made = {"covers": [], "logos": [], "photos": []}
    kinds = Kind.values
    for n in range(count):
        drawn = {
            "covers": (f"bench/covers/{n}.jpg", drawing.cover(f"벤치 커버 {n}", kinds[n % 3])),
            "logos": (f"bench/logos/{n}.png", drawing.logo(f"bench-{n}", f"B{n % 10}")),
            "photos": (f"bench/people/{n}.png", drawing.avatar(f"bench-person-{n}")),
        }
        for sort, (name, data) in drawn.items():
            default_storage.delete(name)
            stored = default_storage.save(name, ContentFile(data))
            widths = renditions.COVER_WIDTHS if sort == "covers" else renditions.BADGE_WIDTHS
            made[sort].append((stored, renditions.make(stored, widths)))
    default_storage.delete(memo)
    default_storage.save(memo, ContentFile(json.dumps(made).encode()))
    return made


class Bodies:
    """The body variants, each rendered once (when first asked for), with what a story's row
    and search document take from it."""

    def __init__(self):
        from bench import corpus

        self.markdown = corpus.bodies()
        self.variants = {}

    def __getitem__(self, number):
        index = number % len(self.markdown)
        if index not in self.variants:
            self.variants[index] = self.render(self.markdown[index])
        return self.variants[index]

    @staticmethod
    def render(markdown: str) -> dict:
        from articles.rendering import excerpt_from, plain_text, reading_minutes, render_markdown
        from articles.search import bigrams

        rendered = render_markdown(markdown)
        text = plain_text(rendered)
        excerpt = excerpt_from(text)
        readable = html.unescape(text)
        return {
            "body": markdown,
            "body_html": rendered,
            "excerpt": excerpt,
            "reading_minutes": reading_minutes(text),
            "text": readable,
            "excerpt_terms": bigrams(excerpt),
            "text_terms": bigrams(readable),
        }


def seed(count: int, *, pictures: int = 12, log=print) -> None:
    """Write `count` stories and all they show into the (migrated, story-free) database."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from articles import search_frequency, versions
    from articles.models import (
        Article,
        ArticleTag,
        Collection,
        CollectionItem,
        Company,
        DailyView,
        JobFamily,
        Kind,
        Person,
        SearchDocument,
        Series,
        Status,
        Tag,
        ViewTotal,
    )
    from articles.search import MAX_INDEX_TOKENS, bigrams
    from bench import corpus

    if Article.objects.exists():
        raise SystemExit("The database already holds stories: seed an empty one.")
    started = time.monotonic()
    art = artwork(pictures)
    log(f"  pictures: {time.monotonic() - started:.1f} s", flush=True)
    bodies = Bodies()
    rng = random.Random(20261125)
    now = timezone.now()
    n_companies = max(50, count // 200)
    n_tags = max(100, count // 50)
    # The documents' pieces are counted once at the end (articles/search_frequency.py).
    with transaction.atomic(), search_frequency.paused():
        companies = Company.objects.bulk_create(
            Company(
                name=f"벤치회사{n}", slug=f"bench-company-{n}", one_liner="벤치마크용 회사",
                hiring_url=f"https://jobs{n}.example.com/",
                logo=art["logos"][n % pictures][0], logo_renditions=art["logos"][n % pictures][1],
            )
            for n in range(n_companies)
        )  # fmt: skip
        people = Person.objects.bulk_create(
            Person(
                name=corpus.person_name(n), slug=f"bench-person-{n}", nickname="",
                company=companies[n % n_companies], role="개발자", team="플랫폼팀",
                photo=art["photos"][n % pictures][0], photo_renditions=art["photos"][n % pictures][1],
            )
            for n in range(4 * n_companies)
        )  # fmt: skip
        tags = Tag.objects.bulk_create(
            Tag(name=f"{corpus.WORDS[n % len(corpus.WORDS)]}{n}", slug=f"bench-tag-{n}")
            for n in range(n_tags)
        )
        series = Series.objects.bulk_create(
            Series(title=f"벤치 연재 {n}", slug=f"bench-series-{n}") for n in range(10)
        )
        first_id = 1
        for start in range(0, count, CHUNK):
            stories, links, cast, totals, documents = [], [], [], [], []
            for n in range(start, min(start + CHUNK, count)):
                variant = bodies[n]
                company = companies[n % n_companies]
                person = people[(n * 7) % len(people)]
                story_tags = [tags[n % 20]] + [tags[20 + (n * k) % (n_tags - 20)] for k in (7, 13)]
                cover_name, cover_record = art["covers"][n % pictures]
                moment = now - timedelta(minutes=count - n)
                story = Article(
                    id=first_id + n,
                    kind=Kind.values[n % 3],
                    title=corpus.title(rng, n, count),
                    slug=f"bench-{n}",
                    body=variant["body"],
                    body_html=variant["body_html"],
                    excerpt=variant["excerpt"],
                    reading_minutes=variant["reading_minutes"],
                    cover_image=cover_name,
                    cover_renditions=cover_record,
                    company=company,
                    job_family=JobFamily.values[n % len(JobFamily.values)],
                    series=series[n % 10] if n < 100 else None,
                    series_part=n // 10 + 1 if n < 100 else None,
                    status=Status.PUBLISHED,
                    published_at=moment,
                    created_at=moment,
                    updated_at=moment,
                    is_featured=n == count - 1,
                )
                stories.append(story)
                links += [
                    ArticleTag(id=3 * n + k + 1, article_id=story.id, tag=tag, position=k)
                    for k, tag in enumerate(dict.fromkeys(story_tags))
                ]
                cast.append(
                    Article.people.through(id=n + 1, article_id=story.id, person_id=person.id)
                )
                totals.append(ViewTotal(article_id=story.id, count=rng.randint(0, 5000)))
                # What articles.search.build_document() makes of this story (names_of: the
                # company, its people with their nicknames, its tags), cut piece by piece.
                names = [company.name, person.name, person.nickname]
                names += sorted(tag.name for tag in set(story_tags))
                body_terms = " ".join(
                    part
                    for part in (variant["excerpt_terms"], bigrams("\n".join(filter(None, names))),
                                 variant["text_terms"])
                    if part
                )  # fmt: skip
                if body_terms.count(" ") >= MAX_INDEX_TOKENS:
                    body_terms = " ".join(body_terms.split()[:MAX_INDEX_TOKENS])
                documents.append(
                    SearchDocument(
                        article_id=story.id,
                        title_terms=bigrams(story.title),
                        body_terms=body_terms,
                        text=variant["text"],
                    )
                )
            for rows in (stories, links, cast, totals, documents):
                insert(rows)
            log(
                f"  {start + len(stories):,} stories: {time.monotonic() - started:.0f} s",
                flush=True,
            )
        newest = count - 1
        for position in range(3):
            collection = Collection.objects.create(
                title=f"벤치 컬렉션 {position}", slug=f"bench-collection-{position}",
                position=position,
            )  # fmt: skip
            CollectionItem.objects.bulk_create(
                CollectionItem(
                    collection=collection,
                    article_id=first_id + max(0, newest - position * 6 - i),
                    position=i,
                )
                for i in range(min(6, count))
            )
        today = timezone.localdate()
        DailyView.objects.bulk_create(
            DailyView(
                article_id=first_id + newest - i,
                day=today - timedelta(days=d),
                count=rng.randint(1, 90),
            )
            for i in range(min(500, count))
            for d in range(7)
        )
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(
                no_style(), [Article, ArticleTag, Article.people.through, SearchDocument]
            ):
                cursor.execute(statement)
        versions.bump()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for index in ("articles_search_document_gin", "articles_search_title_gin"):
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
            # VACUUM refuses to run in a transaction: inside one (a test's), ANALYZE alone.
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    log(f"  done: {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
