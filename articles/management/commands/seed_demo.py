"""Fill the site with the original demo content: the data files under demo/ (articles/demo.py).

Idempotent: every object is looked up by its natural key first and left alone when it exists,
so running the command twice, or after an editor changed a demo story, changes nothing. The
one exception is pictures: a demo story, company or person without a cover, logo or photo
gets the one drawn for it (articles/artwork.py), so a site seeded before there were pictures
gets them too. They are attached the standard way (field.save, and save_story for stories), so
their renditions are made once the seed commits.
"""

import zlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from articles import artwork, demo, models, versions
from articles.services import save_story

DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_PASSWORD = "culture-demo"  # a local demo login, printed on purpose


class Command(BaseCommand):
    help = "빈 사이트를 데모 스토리로 채웁니다. 두 번 실행해도 바뀌는 것이 없습니다."

    def add_arguments(self, parser):
        parser.add_argument(
            "--with-admin",
            action="store_true",
            help=f"데모용 관리자 계정({DEMO_ADMIN_USERNAME})이 없으면 만듭니다.",
        )

    @versions.batch()  # one transaction, one publish of the content version
    def handle(self, *args, with_admin=False, **options):
        try:
            content = demo.load(settings.BASE_DIR / "demo")
        except demo.DemoContentError as error:
            raise CommandError(str(error)) from error
        self.created = {}
        now = timezone.now()
        companies = {row["slug"]: self.company(row) for row in content.companies}
        people = {row["slug"]: self.person(row, companies) for row in content.people}
        series = {row["slug"]: self.series(row) for row in content.series}
        stories = {
            row["title"]: self.story(row, now, companies, people, series) for row in content.stories
        }
        for position, row in enumerate(content.collections):
            self.collection(row, position, stories)
        if with_admin:
            self.admin_user()

        if self.created:
            summary = ", ".join(f"{name} {count}개" for name, count in self.created.items())
            self.stdout.write(self.style.SUCCESS(f"데모 콘텐츠를 만들었습니다: {summary}"))
        else:
            self.stdout.write("데모 콘텐츠가 이미 있습니다. 바꾼 것이 없습니다.")

    def count(self, label):
        self.created[label] = self.created.get(label, 0) + 1

    def company(self, row):
        fields = {**row, "tech_stack": ", ".join(row["tech_stack"])}
        company, created = models.Company.objects.get_or_create(slug=row["slug"], defaults=fields)
        if created:
            self.count("회사")
        if not company.logo:
            initials = artwork.initials_of(company.slug)
            company.logo.save("logo.png", ContentFile(artwork.logo(company.slug, initials)))
            self.count("로고")
        return company

    def person(self, row, companies):
        fields = {**row, "company": companies[row["company"]]}
        person, created = models.Person.objects.get_or_create(slug=row["slug"], defaults=fields)
        if created:
            self.count("사람")
        if not person.photo:
            person.photo.save("photo.png", ContentFile(artwork.avatar(person.slug)))
            self.count("사진")
        return person

    def series(self, row):
        series, created = models.Series.objects.get_or_create(slug=row["slug"], defaults=row)
        if created:
            self.count("시리즈")
        return series

    def story(self, row, now, companies, people, series):
        source_key = f"demo:{row['title']}"
        existing = models.Article.objects.filter(source_key=source_key).first()
        if existing is not None:
            if not existing.cover_image:
                self.draw_cover(existing)
                save_story(existing, by=None, note="데모 커버", fields=["cover_image"])
            return existing
        if "publish_in_days" in row:
            published_at = now + timedelta(days=row["publish_in_days"])
        else:
            published_at = now - timedelta(days=row.get("days_ago", 1), hours=row.get("hour", 0))
        status = row.get("status", models.Status.PUBLISHED)
        article = models.Article(
            source_key=source_key,
            kind=row["kind"],
            title=row["title"],
            excerpt=row.get("excerpt", ""),
            body=row["body"],
            company=companies.get(row.get("company")),
            byline=row.get("byline", ""),
            job_family=row.get("job_family", ""),
            series=series.get(row.get("series")),
            series_part=row.get("series_part"),
            status=status,
            published_at=published_at if status == models.Status.PUBLISHED else None,
            original_url=row.get("original_url", ""),
            is_featured=row.get("featured", False),
        )
        self.draw_cover(article)
        save_story(
            article,
            by=None,
            note="데모 콘텐츠",
            people=[people[slug] for slug in row.get("people", [])],
            tags=[models.Tag.objects.get_or_create(name=name)[0] for name in row.get("tags", [])],
        )
        article.view_total = models.ViewTotal.objects.raise_to(article.pk, row.get("view_count", 0))
        if article.is_public:
            self.daily_views(article, now)
        self.count("스토리")
        return article

    def draw_cover(self, article):
        cover = artwork.cover(article.title, article.kind)
        article.cover_image.save("cover.jpg", ContentFile(cover), save=False)
        self.count("커버")

    def daily_views(self, article, now):
        """A deterministic week of daily views, so 인기순 and "popular this week" have data."""
        seed = zlib.crc32(article.title.encode())
        today = timezone.localdate(now)
        published = timezone.localdate(article.published_at)
        rows = []
        for days_back in range(14):
            day = today - timedelta(days=days_back)
            if day < published:
                break
            count = (seed >> days_back) % 40 + article.view_count // 200
            if count:
                rows.append(models.DailyView(article=article, day=day, count=count))
        models.DailyView.objects.bulk_create(rows)

    def collection(self, row, position, stories):
        fields = {k: v for k, v in row.items() if k not in {"stories", "slug"}}
        fields.setdefault("position", position)
        collection, created = models.Collection.objects.get_or_create(
            slug=row["slug"], defaults=fields
        )
        if created:
            models.CollectionItem.objects.bulk_create(
                models.CollectionItem(
                    collection=collection, article=stories[title], position=position
                )
                for position, title in enumerate(row["stories"], start=1)
            )
            self.count("컬렉션")

    def admin_user(self):
        user_model = get_user_model()
        if user_model.objects.filter(username=DEMO_ADMIN_USERNAME).exists():
            return
        user_model.objects.create_superuser(
            DEMO_ADMIN_USERNAME, "admin@example.com", DEMO_ADMIN_PASSWORD
        )
        self.count("관리자 계정")
        self.stdout.write(
            f"편집실: {settings.SITE_URL}/admin/ — 아이디 {DEMO_ADMIN_USERNAME}, "
            f"비밀번호 {DEMO_ADMIN_PASSWORD}"
        )
