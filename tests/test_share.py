"""Link previews: every reader page tells OpenGraph and Twitter what it is, with addresses on
SITE_URL; a story without a cover shares a card drawn in Korean, made once per what it shows."""

import io
import re
from datetime import date
from html import unescape

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image, ImageChops

from articles import sharecards
from articles.models import Kind
from articles.services import save_story
from reader import urls as reader_urls
from tests.factories import (
    ArticleFactory,
    CollectionFactory,
    CollectionItemFactory,
    CompanyFactory,
    PersonFactory,
    SeriesFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

SITE = "https://culture.example"
# A client may send any Host: no address in a preview may come from it.
HEADERS = {
    "HTTP_HOST": "attacker.example",
    "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36",
}
REQUIRED = ("og:title", "og:description", "og:url", "og:image", "og:type", "twitter:card")
# Reader URLs that are not pages with a head to share: feeds, files, redirects, secret links.
NOT_PAGES = {
    "feed-all",
    "feed-kind",
    "feed-company",
    "feed-tag",
    "robots",
    "preview",
    "story-by-id",
    "share-story",
    "share-site",
    "count-view",
}


@pytest.fixture(autouse=True)
def site(settings, tmp_path):
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["attacker.example", "testserver"]
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def meta(html: str) -> dict[str, str]:
    """The page's og:/twitter:/article: tags (the first of each) and its canonical link."""
    found = {}
    for key, value in re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', html):
        found.setdefault(key, unescape(value))
    canonical = re.search(r'<link rel="canonical" href="([^"]+)">', html)
    found["canonical"] = unescape(canonical[1]) if canonical else None
    return found


def tags_of(client, url: str) -> dict[str, str]:
    response = client.get(url, **HEADERS)
    assert response.status_code == 200, url
    return meta(response.content.decode())


def png(client, url: str) -> Image.Image:
    response = client.get(url.removeprefix(SITE), **HEADERS)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


@pytest.fixture
def pages():
    """One page of every kind a reader can open, with what its preview must say."""
    company = CompanyFactory(name="물결", slug="mulgyeol", one_liner="물 흐르듯 배포합니다")
    person = PersonFactory(name="이서연", slug="seoyeon", company=company)
    tag = TagFactory(name="온보딩", slug="onboarding")
    series = SeriesFactory(title="입사 첫 주", slug="first-week")
    story = ArticleFactory(
        title="첫 주에 배포까지",
        excerpt="신입이 첫 주에 배포하는 방법",
        kind=Kind.INTERVIEW,
        company=company,
        tags=[tag],
        series=series,
        series_part=1,
    )
    story.people.add(person)
    collection = CollectionFactory(title="꼭 읽을 글", slug="must-read")
    CollectionItemFactory(collection=collection, article=story, position=0)
    return {
        "home": ("/", "컬처 스토리", "website"),
        "interviews": ("/interviews/", "인터뷰", "website"),
        "feed": ("/feed/", "피드", "website"),
        "news": ("/news/", "뉴스", "website"),
        "story": (story.get_absolute_url(), "첫 주에 배포까지", "article"),
        "companies": ("/companies/", "회사", "website"),
        "company": (company.get_absolute_url(), "물결", "website"),
        "people": ("/people/", "사람", "website"),
        "person": (person.get_absolute_url(), "이서연", "website"),
        "tags": ("/tags/", "해시태그", "website"),
        "tag": (tag.get_absolute_url(), "#온보딩", "website"),
        "collection": (collection.get_absolute_url(), "꼭 읽을 글", "website"),
        "series": (series.get_absolute_url(), "입사 첫 주", "website"),
        "search": ("/search/?q=배포", "‘배포’ 검색 결과", "website"),
    }


def test_every_reader_page_is_in_the_preview_check(pages):
    """A new reader page joins `pages` above, so its tags are checked too."""
    names = {pattern.name for pattern in reader_urls.urlpatterns}
    assert names - NOT_PAGES == set(pages)


def test_every_page_kind_has_its_preview_tags_on_the_site_address(client, pages):
    for name, (url, title, kind) in pages.items():
        tags = tags_of(client, url)
        assert all(tags.get(key) for key in REQUIRED), (name, tags)
        assert tags["og:title"] == title, name
        assert tags["og:type"] == kind, name
        assert tags["og:url"] == SITE + url.split("?")[0] + (
            "?q=%EB%B0%B0%ED%8F%AC" if "?" in url else ""
        ), name
        assert tags["canonical"] == tags["og:url"], name
        assert tags["og:image"].startswith(f"{SITE}/"), name
        assert tags["twitter:card"] == "summary_large_image", name
        assert "attacker.example" not in str(tags), name


def test_list_pages_share_the_site_card_and_keep_only_their_page_number(client):
    ArticleFactory.create_batch(21, kind=Kind.NEWS)
    tags = tags_of(client, "/news/?page=2&sort=popular&utm_source=x")
    assert tags["og:url"] == f"{SITE}/news/?page=2"
    assert tags["og:image"].startswith(f"{SITE}{reverse('articles:share-site')}?v=")
    assert tags["og:image:width"] == "1200"
    assert tags_of(client, "/news/?page=1")["og:url"] == f"{SITE}/news/"


def test_a_story_shares_its_tags_dates_and_description(client):
    tag = TagFactory(name="코틀린")
    story = ArticleFactory(title="앱팀", meta_description="검색과 미리보기 설명", tags=[tag])
    html = client.get(story.get_absolute_url(), **HEADERS).content.decode()
    tags = meta(html)
    assert tags["og:description"] == "검색과 미리보기 설명"
    assert '<meta name="description" content="검색과 미리보기 설명">' in html
    assert tags["article:tag"] == "코틀린"
    assert tags["article:published_time"].startswith(str(story.published_at.year))
    assert tags["og:image:alt"] == f"앱팀 · {story.company.name} · {story.get_kind_display()}"


def test_a_story_with_a_cover_shares_its_cover(client):
    story = ArticleFactory(cover_image="covers/2026/12/cover.jpg", cover_alt="회의실의 팀")
    tags = tags_of(client, story.get_absolute_url())
    assert tags["og:image"] == f"{SITE}/media/covers/2026/12/cover.jpg"
    assert tags["og:image:alt"] == "회의실의 팀"


def test_a_cover_in_object_storage_is_shared_at_its_own_address(client, settings):
    settings.MEDIA_URL = "https://media.example.net/"
    story = ArticleFactory(cover_image="covers/2026/12/cover.jpg")
    tags = tags_of(client, story.get_absolute_url())
    assert tags["og:image"] == "https://media.example.net/covers/2026/12/cover.jpg"


def test_a_company_with_a_logo_shares_it_as_a_small_card(client):
    company = CompanyFactory(logo="logos/mulgyeol.png")
    tags = tags_of(client, company.get_absolute_url())
    assert tags["og:image"] == f"{SITE}/media/logos/mulgyeol.png"
    assert tags["twitter:card"] == "summary"


def title_area(image: Image.Image) -> Image.Image:
    return image.convert("RGB").crop((sharecards.MARGIN, 140, 1120, 480))


def ink(image: Image.Image, background) -> int:
    """How many pixels of the title area are not the background."""
    area = title_area(image)
    difference = ImageChops.difference(area, Image.new("RGB", area.size, background))
    return difference.convert("L").point(lambda value: 255 if value else 0).histogram()[255]


def test_a_story_without_a_cover_shares_a_card_with_its_title(client):
    story = ArticleFactory(title="연결 풀이 바닥났던 날", kind=Kind.FEED)
    url = tags_of(client, story.get_absolute_url())["og:image"]
    assert url.startswith(f"{SITE}/stories/{story.pk}/share.png?v=")

    image = png(client, url)
    assert image.size == (1200, 630)
    assert image.format == "PNG"
    assert ink(image, sharecards.background(str(story.pk))) > 5000
    response = client.get(url.removeprefix(SITE))
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(f"/stories/{story.pk}/share.png")["Cache-Control"] == "public, max-age=300"


def test_a_card_is_stored_once_and_drawn_again_when_its_title_changes(client, site):
    story = ArticleFactory(title="처음 제목")
    first_url = tags_of(client, story.get_absolute_url())["og:image"]
    first = png(client, first_url)
    stored = sorted((site / "share" / "stories" / str(story.pk)).iterdir())
    assert len(stored) == 1
    assert png(client, first_url).tobytes() == first.tobytes()  # served from storage

    story.body = "본문만 고쳤습니다."
    save_story(story, by=None)
    assert tags_of(client, story.get_absolute_url())["og:image"] == first_url

    story.title = "완전히 다른 새 제목으로 바꿨습니다"
    save_story(story, by=None)
    second_url = tags_of(client, story.get_absolute_url())["og:image"]
    assert second_url != first_url
    second = png(client, second_url)
    assert title_area(second).tobytes() != title_area(first).tobytes()
    # The earlier version's card is gone; only the new one is kept.
    assert sorted((site / "share" / "stories" / str(story.pk)).iterdir()) != stored
    assert len(list((site / "share" / "stories" / str(story.pk)).iterdir())) == 1


@pytest.mark.parametrize("trait", ["draft", "in_review", "scheduled", "expired"])
def test_no_card_for_a_story_readers_cannot_see(client, site, trait):
    story = ArticleFactory(**{trait: True})
    assert client.get(f"/stories/{story.pk}/share.png").status_code == 404
    assert not (site / "share").exists()


def test_the_site_card_is_drawn_once(client, site):
    image = png(client, reverse("articles:share-site"))
    assert image.size == (1200, 630)
    assert ink(image, sharecards.background("site")) > 5000
    assert len(list((site / "share" / "site").iterdir())) == 1


def test_without_the_font_the_card_says_why_and_check_warns(client, settings, tmp_path):
    settings.SHARE_CARD_FONT = str(tmp_path / "none" / "NotoSansCJK-Bold.ttc")
    story = ArticleFactory()
    response = client.get(f"/stories/{story.pk}/share.png")
    assert response.status_code == 503
    text = response.content.decode()
    assert "fonts-noto-cjk" in text
    assert "NotoSansCJK-Bold.ttc" in text
    assert not default_storage.exists(f"share/stories/{story.pk}")
    [warning] = sharecards.check_font(None)
    assert warning.id == "articles.W001"
    with pytest.raises(CommandError, match="fonts-noto-cjk"):
        call_command("share_cards", stdout=io.StringIO())


def test_a_card_another_request_is_drawing_is_answered_without_waiting_long(
    client, site, monkeypatch
):
    story = ArticleFactory()
    monkeypatch.setattr(sharecards, "WAIT_SECONDS", 0.1)
    monkeypatch.setattr(sharecards, "_lock", lambda name: False)  # someone else holds it
    image = png(client, f"/stories/{story.pk}/share.png")
    assert image.size == (1200, 630)
    assert not (site / "share").exists()  # the holder stores it, not this request


def test_an_undated_import_claims_no_publication_time(client):
    """The dump carries no date: the import day must not pass for the story's."""
    imported = ArticleFactory(source_key="theteams:1234")
    assert "article:published_time" not in tags_of(client, imported.get_absolute_url())
    dated = ArticleFactory(source_key="theteams:5678", original_published_on=date(2018, 5, 3))
    assert tags_of(client, dated.get_absolute_url())["article:published_time"] == "2018-05-03"


def test_the_site_card_follows_a_change_of_the_site_s_name(client, settings):
    """The site's card is made once for every page, and again when its settings change."""
    first = unescape(client.get("/feed/", **HEADERS).content.decode())
    settings.SITE_NAME = "다른 이름의 스토리"
    second = unescape(client.get("/interviews/", **HEADERS).content.decode())
    alt = re.compile(r'<meta property="og:image:alt" content="([^"]*)"')
    image = re.compile(r'<meta property="og:image" content="([^"]*)"')
    assert alt.search(second)[1].startswith("다른 이름의 스토리 — ")
    assert not alt.search(first)[1].startswith("다른 이름의 스토리")
    assert image.search(first)[1] != image.search(second)[1]  # a new name, a new fingerprint
