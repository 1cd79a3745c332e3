"""The reader site through its real URLs: what a reader sees, and what they never see."""

import json
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles import services, versions
from articles.models import DailyView, JobFamily, Kind
from reader.sitemaps import StorySitemap
from tests import factories as make

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"}


def page(client, url, **params):
    response = client.get(url, params, **BROWSER)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


@pytest.fixture
def hidden_stories():
    """One story in each state a reader must never see, all sharing a company and a tag with a
    published story, so any leak through a list, a filter or a relation shows."""
    company = make.CompanyFactory(name="숨김회사", slug="hidden-co")
    tag = make.TagFactory(name="비밀태그")
    series = make.SeriesFactory(slug="hidden-series")
    visible = make.ArticleFactory(title="공개된 이야기", company=company, tags=[tag])
    hidden = [
        make.ArticleFactory(title="초안 이야기", draft=True, company=company, tags=[tag]),
        make.ArticleFactory(title="검토 중 이야기", in_review=True, company=company, tags=[tag]),
        make.ArticleFactory(title="예약된 이야기", scheduled=True, company=company, tags=[tag]),
        make.ArticleFactory(title="내린 이야기", expired=True, company=company, tags=[tag]),
    ]
    for part, story in enumerate([visible, *hidden], start=1):
        story.series, story.series_part, story.kind = series, part, Kind.INTERVIEW
        story.save()
    collection = make.CollectionFactory(slug="hidden-collection")
    for position, story in enumerate([visible, *hidden]):
        make.CollectionItemFactory(collection=collection, article=story, position=position)
    return {"visible": visible, "hidden": hidden, "company": company, "tag": tag}


def test_home_shows_featured_story_collections_latest_and_popular(client):
    featured = make.ArticleFactory(title="대표 스토리", is_featured=True)
    collection = make.CollectionFactory(title="꼭 읽을 글", position=1)
    picked = make.ArticleFactory(title="추천된 글", kind=Kind.INTERVIEW)
    make.CollectionItemFactory(collection=collection, article=picked)
    popular = make.ArticleFactory(title="이번 주 인기 글", kind=Kind.NEWS)
    DailyView.objects.create(article=popular, day=timezone.localdate(), count=50)

    html = page(client, "/")

    assert 'lang="ko"' in html
    assert html.index("대표 스토리") < html.index("꼭 읽을 글") < html.index("추천된 글")
    assert "이번 주 인기 스토리" in html
    assert "이번 주 조회수 50" in html
    assert "최신 인터뷰" in html
    assert "최신 뉴스" in html
    assert featured.get_absolute_url() in html


def test_the_homes_popular_ranking_is_kept_but_never_shows_a_withdrawn_story(client):
    """The week's ranking is summed once and kept (POPULAR_KEEP_SECONDS) across content
    changes; which of its stories readers may see is asked at every render."""
    stories = [make.ArticleFactory(title=f"인기 {n}번") for n in range(7)]
    for n, story in enumerate(stories):
        DailyView.objects.create(article=story, day=timezone.localdate(), count=100 - n)

    def popular(html):
        section = html[html.index('id="popular-title"') :]
        return section[: section.index("</ol>")]

    first = popular(page(client, "/"))
    assert [f"인기 {n}번" in first for n in range(7)] == [True] * 5 + [False] * 2

    stories[0].unpublish()
    services.save_story(stories[0], by=None)  # a new content version: the home is rendered again
    with CaptureQueriesContext(connection) as queries:
        again = popular(page(client, "/"))
    assert not any("articles_dailyview" in query["sql"] for query in queries.captured_queries)
    assert "인기 0번" not in again
    assert again.index("인기 1번") < again.index("인기 5번")  # the sixth moved up
    assert "이번 주 조회수 95" in again


def test_tabs_list_their_kind_only(client):
    make.ArticleFactory(title="인터뷰 글", kind=Kind.INTERVIEW)
    make.ArticleFactory(title="피드 글", kind=Kind.FEED)
    make.ArticleFactory(title="뉴스 글", kind=Kind.NEWS)
    for url, title in [("/interviews/", "인터뷰 글"), ("/feed/", "피드 글"), ("/news/", "뉴스 글")]:
        html = page(client, url)
        assert title in html
        assert sum(t in html for t in ["인터뷰 글", "피드 글", "뉴스 글"]) == 1
        assert 'aria-current="page"' in html


def test_popular_sort_orders_by_recent_daily_views(client):
    old_hit = make.ArticleFactory(title="오래된 인기글", kind=Kind.FEED)
    make.set_views(old_hit, 10_000)
    fresh = make.ArticleFactory(
        title="요즘 인기글", kind=Kind.FEED, published_at=timezone.now() - timedelta(days=5)
    )
    DailyView.objects.create(article=fresh, day=timezone.localdate(), count=30)

    recent = page(client, "/feed/")
    popular = page(client, "/feed/", sort="popular")

    assert recent.index("오래된 인기글") < recent.index("요즘 인기글")
    assert popular.index("요즘 인기글") < popular.index("오래된 인기글")
    assert '<option value="popular" selected>' in popular


def test_job_family_filter_and_pagination_keep_each_other(client):
    for number in range(25):
        make.ArticleFactory(title=f"디자인 글 {number:02}", job_family=JobFamily.DESIGN)
    make.ArticleFactory(title="개발 글", job_family=JobFamily.DEVELOPMENT)

    first = page(client, "/feed/", job="design", sort="recent")
    second = page(client, "/feed/", job="design", sort="recent", page=2)

    assert "개발 글" not in first + second
    assert "1 / 2" in first
    assert 'href="?job=design&amp;sort=recent&amp;page=2"' in first
    assert second.count('class="card"') == 5


@pytest.mark.parametrize("number", ["abc", "0", "-3", "999", "1.5", "9" * 40])
def test_bad_page_numbers_give_a_real_page(client, number):
    for index in range(3):
        make.ArticleFactory(title=f"글 {index}")
    html = page(client, "/feed/", page=number)
    assert html.count('class="card"') == 3


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("0", 1),
        ("-5", 1),
        ("-0", 1),
        ("abc", 1),
        ("", 1),
        ("1.5", 1),
        ("2", 2),
        ("3", 2),
        ("999", 2),
        ("9" * 40, 2),
    ],
)
def test_page_numbers_below_one_give_the_first_page_past_the_end_the_last(client, number, shown):
    company = make.CompanyFactory(slug="two-pages")
    for index in range(25):  # two pages: 20 and 5
        make.ArticleFactory(title=f"글 {index}", company=company)
    for url in ["/feed/", company.get_absolute_url()]:
        html = page(client, url, page=number)
        assert f"{shown} / 2" in html, url
        assert html.count('class="card"') == (20 if shown == 1 else 5), url


def test_story_page_shows_everything_a_reader_needs(client):
    company = make.CompanyFactory(name="물결랩", hiring_url="https://jobs.mulgyeol.example/")
    person = make.PersonFactory(
        name="이서연", nickname="루나", role="안드로이드 개발자", team="앱팀"
    )
    tag = make.TagFactory(name="코틀린")
    story = make.ArticleFactory(
        title="앱팀의 하루",
        company=company,
        people=[person],
        tags=[tag],
        byline="에디터 김하나",
        body="> “작게 나눠 배포합니다”\n\n본문[^1]\n\n[^1]: 각주입니다.\n\n```kotlin\nval x = 1\n```",
    )

    html = page(client, story.get_absolute_url())

    assert "<h1>앱팀의 하루</h1>" in html
    assert "https://jobs.mulgyeol.example/" in html
    assert "채용 중" in html
    assert "이서연(루나)" in html
    assert "안드로이드 개발자 · 앱팀" in html
    assert "에디터 김하나" in html
    assert re.search(r"조회수 <strong>0</strong>", html)  # as of its render: the beacon counts
    assert f'data-count-url="/views/{story.pk}/"' in html
    assert "분 읽기" in html
    assert "<blockquote>" in html
    assert 'class="footnotes"' in html
    assert 'class="language-kotlin"' in html
    assert f'href="{tag.get_absolute_url()}">#코틀린</a>' in html


def test_story_page_has_share_metadata_and_canonical(client):
    story = make.ArticleFactory(title="메타데이터 확인", excerpt="링크 미리보기에 쓰입니다.")
    html = page(client, story.get_absolute_url())

    assert '<meta property="og:title" content="메타데이터 확인">' in html
    assert '<meta property="og:description" content="링크 미리보기에 쓰입니다.">' in html
    assert f'<link rel="canonical" href="http://127.0.0.1:8000{story.get_absolute_url()}">' in html
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html)[1])
    assert data["@type"] == "Article"
    assert data["headline"] == "메타데이터 확인"
    assert data["publisher"]["name"] == story.company.name


def test_cross_post_points_canonical_at_the_original(client):
    story = make.ArticleFactory(original_url="https://blog.example.com/original")
    html = page(client, story.get_absolute_url())
    assert '<link rel="canonical" href="https://blog.example.com/original">' in html


def test_json_ld_cannot_break_out_of_its_script(client):
    story = make.ArticleFactory(title="</script><script>alert(1)</script>")
    html = page(client, story.get_absolute_url())
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[1]
    assert "<" not in script
    assert json.loads(script)["headline"] == story.title


def test_other_slug_or_none_redirects_permanently_to_the_canonical_address(client):
    story = make.ArticleFactory(title="한글 주소 확인", slug="")
    canonical = story.get_absolute_url()
    assert canonical == f"/stories/{story.pk}/{quote('한글-주소-확인')}/"

    for url in [f"/stories/{story.pk}/", f"/stories/{story.pk}/old-slug/"]:
        response = client.get(url)
        assert response.status_code == 301
        assert response.url == canonical

    for url in [f"/stories/{story.pk}/한글-주소-확인/", canonical]:
        response = client.get(url, **BROWSER)
        assert response.status_code == 200
        assert "한글 주소 확인" in response.content.decode()


def test_series_navigation_shows_position_and_neighbours(client):
    series = make.SeriesFactory(title="이사 연재")
    parts = [
        make.ArticleFactory(title=f"연재 {n}편", series=series, series_part=n) for n in (1, 2, 3)
    ]
    html = page(client, parts[1].get_absolute_url())
    assert "2/3" in html
    assert f'rel="prev" href="{parts[0].get_absolute_url()}"' in html
    assert f'rel="next" href="{parts[2].get_absolute_url()}"' in html


def test_related_stories_prefer_company_then_tags_then_kind(client):
    company = make.CompanyFactory()
    tag = make.TagFactory()
    story = make.ArticleFactory(company=company, tags=[tag], kind=Kind.FEED)
    same_kind = make.ArticleFactory(title="같은 종류", kind=Kind.FEED)
    shared_tag = make.ArticleFactory(title="같은 태그", tags=[tag], kind=Kind.NEWS)
    same_company = make.ArticleFactory(title="같은 회사", company=company, kind=Kind.NEWS)
    make.ArticleFactory(title="관계없는 글", kind=Kind.INTERVIEW)

    html = page(client, story.get_absolute_url())
    related = html[html.index("함께 읽으면 좋은 스토리") :]

    assert related.index("같은 회사") < related.index("같은 태그") < related.index("같은 종류")
    assert "관계없는 글" not in related
    assert same_kind.title in related
    assert shared_tag.title in related
    assert same_company.title in related


def test_a_story_page_lists_its_people_by_name_with_other_companies_named(client):
    home = make.CompanyFactory(name="우리회사")
    guest_company = make.CompanyFactory(name="이웃회사")
    people = [
        make.PersonFactory(name="하지원", company=home, role="", team=""),
        make.PersonFactory(name="가나다", company=guest_company, role="CTO", team=""),
        make.PersonFactory(name="마바사", company=None, role="디자이너", team="브랜드팀"),
    ]
    story = make.ArticleFactory(company=home, people=people)
    make.ArticleFactory(company=home, people=[make.PersonFactory(name="다른글사람")])

    html = page(client, story.get_absolute_url())
    section = re.search(r'<section class="people".*?</section>', html, re.S)[0]
    names = re.findall(r'<a href="/people/[^"]+/">([^<]+)</a>', section)
    assert names == ["가나다", "마바사", "하지원"]
    roles = re.findall(r'<span class="person-role">([^<]*)</span>', section)
    assert roles == ["CTO · 이웃회사", "디자이너 · 브랜드팀", ""]


def test_company_person_tag_collection_and_series_pages(client):
    company = make.CompanyFactory(name="온숨", location="서울 성동구", tech_stack="Python, Django")
    person = make.PersonFactory(name="한지민", company=company, role="데이터 엔지니어")
    tag = make.TagFactory(name="데이터")
    series = make.SeriesFactory(title="데이터 연재")
    story = make.ArticleFactory(
        title="데이터 팀 이야기", company=company, people=[person], tags=[tag], series=series
    )
    collection = make.CollectionItemFactory(article=story).collection

    assert "Python, Django" in page(client, company.get_absolute_url())
    assert "데이터 팀 이야기" in page(client, company.get_absolute_url())
    assert "데이터 엔지니어" in page(client, person.get_absolute_url())
    assert "데이터 팀 이야기" in page(client, person.get_absolute_url())
    assert "데이터 팀 이야기" in page(client, tag.get_absolute_url())
    assert "데이터 팀 이야기" in page(client, collection.get_absolute_url())
    assert "데이터 팀 이야기" in page(client, series.get_absolute_url())
    assert "온숨" in page(client, reverse("articles:companies"))
    assert "#데이터" in page(client, reverse("articles:tags"))


def test_a_tag_only_hidden_stories_carry_has_no_page_like_in_the_api(client, hidden_stories):
    secret = make.TagFactory(name="곧나올기능")
    for story in hidden_stories["hidden"]:
        story.tags.add(secret)

    missing = client.get("/tags/no-such-tag/")
    for url in [secret.get_absolute_url(), f"/api/v1/tags/{secret.slug}"]:
        assert client.get(url).status_code == 404, url
    assert client.get(secret.get_absolute_url()).content == missing.content
    assert "곧나올기능" not in page(client, "/tags/")
    # The tag a published story shares with them still has its page.
    assert hidden_stories["visible"].title in page(client, hidden_stories["tag"].get_absolute_url())


def test_companies_and_people_without_published_stories_keep_their_pages_like_in_the_api(
    client,
):
    # The API shows every company and person (story_count 0): a company card with its hiring
    # link and people is worth a page before its first story is out.
    company = make.CompanyFactory(
        name="준비중회사", slug="getting-ready", hiring_url="https://x.example/jobs"
    )
    person = make.PersonFactory(name="곧등장", slug="soon", company=company)
    make.ArticleFactory(title="아직 초안", draft=True, company=company, people=[person])

    for url in [company.get_absolute_url(), person.get_absolute_url()]:
        assert "아직 초안" not in page(client, url)
    assert client.get(f"/api/v1/companies/{company.slug}").status_code == 200
    assert client.get(f"/api/v1/people/{person.slug}").status_code == 200
    assert "https://x.example/jobs" in page(client, company.get_absolute_url())


def feed_links(html):
    return re.findall(
        r'<link rel="alternate" type="application/atom\+xml" title="([^"]*)" href="([^"]*)">', html
    )


def test_company_tag_and_kind_feeds_are_discoverable(client):
    company = make.CompanyFactory(name="온숨", slug="onsum")
    tag = make.TagFactory(name="데이터")
    make.ArticleFactory(company=company, tags=[tag], kind=Kind.INTERVIEW)
    everything = ("컬처 스토리 — 모든 스토리", "/feeds/atom/")
    expected = {
        company.get_absolute_url(): ("컬처 스토리 — 온숨", "/companies/onsum/atom/"),
        tag.get_absolute_url(): ("컬처 스토리 — #데이터", f"/tags/{quote(tag.slug)}/atom/"),
        "/interviews/": ("컬처 스토리 — 인터뷰", "/feeds/atom/interviews/"),
        "/feed/": ("컬처 스토리 — 피드", "/feeds/atom/feed/"),
        "/news/": ("컬처 스토리 — 뉴스", "/feeds/atom/news/"),
    }
    for url, (title, feed) in expected.items():
        html = page(client, url)
        assert feed_links(html) == [everything, (title, feed)], url
        assert f'<a href="{feed}" type="application/atom+xml">Atom 피드</a>' in html, url
        # The link leads to a feed with that very title.
        response = client.get(feed)
        assert response.status_code == 200, feed
        assert f"<title>{title}</title>" in response.content.decode(), feed
    assert feed_links(page(client, "/")) == [everything]


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/interviews/",
        "/feed/",
        "/news/",
        "/interviews/?sort=popular",
        "/companies/",
        "/companies/hidden-co/",
        "/tags/",
        "/tags/비밀태그/",
        "/collections/hidden-collection/",
        "/series/hidden-series/",
        "/feeds/atom/",
        "/feeds/atom/interviews/",
        "/companies/hidden-co/atom/",
        "/tags/비밀태그/atom/",
        "/sitemap.xml",
    ],
)
def test_hidden_stories_appear_nowhere_for_readers(client, hidden_stories, url):
    html = page(client, url)
    for story in hidden_stories["hidden"]:
        assert story.title not in html
        assert story.get_absolute_url() not in html
        assert f"/stories/{story.pk}/" not in html


def test_counts_never_include_hidden_stories(client, hidden_stories):
    assert "스토리 1개" in page(client, "/companies/")
    assert "#비밀태그 <small>1</small>" in page(client, "/tags/")


def test_related_stories_never_include_hidden_ones(client, hidden_stories):
    html = page(client, hidden_stories["visible"].get_absolute_url())
    for story in hidden_stories["hidden"]:
        assert story.title not in html
    assert "1/1" in html  # series position counts published parts only


def test_hidden_story_answers_404_exactly_like_a_missing_one(client, hidden_stories):
    missing = client.get("/stories/999999/nothing/")
    for story in hidden_stories["hidden"]:
        for url in [story.get_absolute_url(), f"/stories/{story.pk}/"]:
            response = client.get(url)
            assert response.status_code == 404
            assert response.content == missing.content


def test_staff_see_a_marked_preview_that_is_not_indexed_or_cached(client, hidden_stories):
    editor = make.UserFactory(superuser=True)
    client.force_login(editor)
    scheduled = hidden_stories["hidden"][2]
    response = client.get(scheduled.get_absolute_url(), **BROWSER)
    html = response.content.decode()

    assert response.status_code == 200
    assert "미리보기" in html
    assert "예약" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["Cache-Control"] == "private, no-store"
    scheduled.refresh_from_db()
    assert scheduled.view_count == 0


def test_feeds_are_atom_with_published_stories(client):
    story = make.ArticleFactory(
        title="피드에 나올 글", kind=Kind.NEWS, tags=[make.TagFactory(name="소식")]
    )
    response = client.get("/feeds/atom/news/")
    xml = response.content.decode()
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "<title>피드에 나올 글</title>" in xml
    assert 'term="소식"' in xml
    assert story.get_absolute_url() in xml
    assert client.get("/feeds/atom/nonsense/").status_code == 404


def test_sitemap_and_robots(client, settings):
    story = make.ArticleFactory()
    index = client.get("/sitemap.xml").content.decode()
    assert f"<loc>{settings.SITE_URL}/sitemap-stories.xml</loc>" in index
    sitemap = client.get("/sitemap-stories.xml").content.decode()
    assert f"{settings.SITE_URL}/stories/{story.pk}/" in sitemap
    robots = client.get("/robots.txt").content.decode()
    assert "Disallow: /admin/" in robots
    assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in robots


def test_404_page_is_in_the_sites_style(client):
    # What bin/demo shows too (it runs with DEBUG off): never the debug page's URL patterns.
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "페이지를 찾을 수 없습니다" in html
    assert "스토리 홈으로" in html
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html
    assert "URLconf" not in html


def test_500_page_is_static_and_in_korean(client):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "잠시 문제가 생겼습니다" in html


class World:
    """Shared objects, and a way to add stories to them: a page's query count must not change
    when the number of its items does."""

    def __init__(self):
        self.company = make.CompanyFactory(slug="many-company")
        self.tags = [make.TagFactory(name="많은태그"), make.TagFactory()]
        self.series = make.SeriesFactory(slug="many-series")
        self.collection = make.CollectionFactory(slug="many-collection")
        self.person = make.PersonFactory(slug="many-person", company=self.company)
        self.stories = []

    def add(self, count):
        for _ in range(count):
            number = len(self.stories)
            story = make.ArticleFactory(
                company=self.company,
                tags=self.tags,
                people=[self.person],
                series=self.series,
                series_part=number + 1,
                kind=[Kind.INTERVIEW, Kind.FEED, Kind.NEWS][number % 3],
                is_featured=number == 0,
            )
            make.CollectionItemFactory(collection=self.collection, article=story, position=number)
            DailyView.objects.create(
                article=story,
                day=timezone.localdate() - timedelta(days=number % 3),
                count=number + 1,
            )
            self.stories.append(story)


# Each count includes one read of the shared content version (articles/versions.py), which
# names the page (its ETag, reader/shared_cache.py) and files it in the page cache; the feeds
# read it only for their ETag, not being kept. The story page shows the count read with the
# story's own row when it is rendered (a kept page reads it again); the view itself is counted
# by the page's beacon (reader/beacon.py).
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # The lead's and each kind's newest ids (four index reads of a few entries, sent as
        # one statement), the collections and their stories' ids, the week's ranking, then
        # every story the page shows in one query and one for the cards' hashtags.
        ("/", 7),
        ("/interviews/", 4),
        ("/feed/?sort=popular", 4),
        ("/companies/", 2),
        ("/people/", 2),
        # + 2: this month's most read stories (their day rows, then the stories).
        ("/companies/many-company/", 8),
        ("/people/many-person/", 5),
        ("/tags/", 2),
        ("/tags/많은태그/", 5),
        ("/collections/many-collection/", 5),
        ("/series/many-series/", 3),
        ("/feeds/atom/", 3),
        # The story's row comes with its hashtags, its people and its company's newest ids
        # and counts, in one statement; the related cards not kept come with their hashtags,
        # in one more. With 12 stories the company's own fill the related list: the tag and
        # kind pools are not asked, nor the story's tags' ids.
        ("story", (7, 4)),
    ],
)
def test_every_page_runs_a_fixed_number_of_queries(client, url, queries):
    world = World()
    counts = []
    for size in (3, 12):
        world.add(size - len(world.stories))
        target = world.stories[1].get_absolute_url() if url == "story" else url
        client.cookies.clear()  # a new reader each time: the story page counts the view
        caches["answers"].clear()  # render the page, not a cached copy
        versions.current()  # drawn once per content change, not per page
        with CaptureQueriesContext(connection) as captured:
            response = client.get(target, **BROWSER)
        assert response.status_code == 200
        counts.append(len(captured))
    expected = queries if isinstance(queries, tuple) else (queries, queries)
    assert counts == list(expected), "\n".join(q["sql"] for q in captured.captured_queries)


def test_the_sitemap_reaches_every_story_past_a_files_limit(client, settings, monkeypatch):
    """A crawler reads the index, then every file it names: each story is in one of them, and
    a page past the last is a 404."""
    monkeypatch.setattr(StorySitemap, "limit", 2)
    stories = make.ArticleFactory.create_batch(5)
    index = client.get("/sitemap.xml")
    assert index["Content-Type"].startswith("application/xml")
    files = re.findall(r"<loc>([^<]+)</loc>", index.content.decode())
    story_files = [f for f in files if "/sitemap-stories.xml" in f]
    assert [f.removeprefix(settings.SITE_URL) for f in story_files] == [
        "/sitemap-stories.xml",
        "/sitemap-stories.xml?p=2",
        "/sitemap-stories.xml?p=3",
    ]
    listed = "".join(client.get(f.removeprefix(settings.SITE_URL)).content.decode() for f in files)
    for story in stories:
        assert listed.count(f"{settings.SITE_URL}{story.get_absolute_url()}<") == 1
    assert f"<loc>{settings.SITE_URL}/people/</loc>" in listed
    assert client.get("/sitemap-stories.xml?p=4").status_code == 404
    assert client.get("/sitemap-stories.xml?p=x").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_a_lists_count_is_kept_until_the_content_changes(client):
    """The number of stories a list holds is counted once per content version (reader/views.py
    ListPaginator), for every page of the list; a save that adds a story counts again."""
    for number in range(25):
        make.ArticleFactory(title=f"세는 이야기 {number}", kind=Kind.FEED)

    def feed(address):
        # A new address each time: the page is rendered, only the count may be kept.
        with CaptureQueriesContext(connection) as captured:
            response = client.get(address, **BROWSER)
        counted = [q for q in captured.captured_queries if "articles_article" in q["sql"]]
        return response.content.decode(), sum("COUNT(" in q["sql"] for q in counted)

    assert feed("/feed/")[1] == 1
    page, counts = feed("/feed/?page=2")
    assert counts == 0
    assert "2 / 2" in page
    make.ArticleFactory(title="스물여섯째 이야기", kind=Kind.FEED)  # the version moves
    page, counts = feed("/feed/?page=2&again")
    assert counts == 1
    assert "2 / 2" in page
    assert page.count('class="card"') == 6


def test_the_header_marks_each_page_s_own_tab_and_the_search_page_has_no_search_box(client):
    def header(url):
        html = page(client, url)
        return html[html.index('<header class="site-header">') : html.index("</header>")]

    for _ in range(2):  # made once per tab and kept: the second round is the kept header
        for url, label in [("/", "스토리 홈"), ("/interviews/", "인터뷰"), ("/feed/", "피드")]:
            shown = header(url)
            marked = [line for line in shown.splitlines() if 'aria-current="page"' in line]
            assert len(marked) == 1, (url, marked)
            assert f">{label}</a>" in marked[0], (url, marked)
            assert 'role="search"' in shown
        companies = header("/companies/")
        assert 'aria-current="page"' not in companies
        assert 'role="search"' in companies
        searched = header("/search/?q=풀")
        assert 'role="search"' not in searched
        assert 'aria-current="page"' not in searched


def test_the_kept_header_follows_the_site_s_name(client, settings):
    assert ">컬처 스토리</a>" in page(client, "/")  # made and kept
    settings.SITE_NAME = "다른 이름"
    html = page(client, "/?again")
    assert '<a class="brand" href="/">다른 이름</a>' in html
    assert "기업 문화를 엿보는 엔지니어링 스토리, 다른 이름</p>" in html
