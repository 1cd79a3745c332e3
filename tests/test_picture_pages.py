"""Pictures on the reader pages: covers on cards, the featured story and story pages; logos and
photos on company and person cards and pages. Each is a <picture> with WebP and the original's
format, width and height, lazy below the fold and eager where it leads the page, and comes
from the row already read: no query and no storage call per card."""

import re

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.models import Focus, Kind
from tests.factories import ArticleFactory, CompanyFactory, PersonFactory

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"}
COVER_SIZES = [[320, 180], [640, 360], [960, 540], [1280, 720]]
BADGE_SIZES = [[96, 96], [192, 192], [384, 384]]


def record(name, sizes, formats=("webp", "jpg")):
    """What articles/renditions.make() records for `name` (the files are not needed to render)."""
    return {"source": name, "formats": list(formats), "sizes": sizes}


def with_cover(number=1, **fields):
    name = f"covers/2026/01/cover{number}.jpg"
    return ArticleFactory(
        cover_image=name, cover_renditions=record(name, COVER_SIZES), kind=Kind.FEED, **fields
    )


def with_logo(number=1, **fields):
    name = f"logos/2026/01/logo{number}.png"
    return CompanyFactory(
        logo=name, logo_renditions=record(name, BADGE_SIZES, ("webp", "png")), **fields
    )


def with_photo(number=1, **fields):
    name = f"people/2026/01/photo{number}.jpg"
    return PersonFactory(photo=name, photo_renditions=record(name, BADGE_SIZES), **fields)


def page(client, url):
    response = client.get(url, **BROWSER)
    assert response.status_code == 200, url
    return response.content.decode()


def pictures_in(html) -> list[str]:
    return re.findall(r"<picture>.*?</picture>", html, re.S)


def img_of(picture_html) -> dict:
    tag = re.search(r"<img ([^>]*)>", picture_html)[1]
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


def test_a_card_shows_its_cover_in_both_formats_with_its_size(client):
    story = with_cover(title="표지가 있는 이야기", cover_focus=Focus.TOP_LEFT)
    html = page(client, reverse("articles:feed"))
    picture = pictures_in(html)[0]
    source = re.search(r'<source type="image/webp" srcset="([^"]+)" sizes="([^"]+)">', picture)
    assert source[1] == ", ".join(
        f"/media/renditions/covers/2026/01/cover1/{w}.webp {w}w" for w, _ in COVER_SIZES
    )
    img = img_of(picture)
    assert img["srcset"] == source[1].replace(".webp", ".jpg")
    assert img["sizes"] == source[2]
    assert img["src"] == "/media/renditions/covers/2026/01/cover1/640.jpg"
    assert (img["width"], img["height"]) == ("1280", "720")
    assert img["alt"] == story.title
    assert img["loading"] == "lazy"
    assert img["decoding"] == "async"
    assert "fetchpriority" not in img
    assert img["class"] == "focus-top-left"


def test_an_editors_alt_text_describes_the_cover(client):
    story = with_cover(title="제목", cover_alt="회의실 화이트보드 앞의 두 사람")
    html = page(client, story.get_absolute_url())
    assert img_of(pictures_in(html)[0])["alt"] == "회의실 화이트보드 앞의 두 사람"


def test_a_card_without_a_cover_draws_its_frame_and_shows_no_image(client):
    ArticleFactory(kind=Kind.NEWS, company=CompanyFactory(name="그림없는회사"))
    html = page(client, reverse("articles:news"))
    card = re.search(r'<article class="card">.*?</article>', html, re.S)[0]
    assert "<img" not in card
    assert re.search(
        r'<div class="frame frame-blank frame-news" aria-hidden="true"><span>그림없는회사</span>',
        card,
    )
    assert 'class="badge badge-xs badge-logo badge-blank" aria-hidden="true">그</span>' in card


def test_the_featured_story_and_a_story_page_load_their_cover_first(client):
    story = with_cover(is_featured=True)
    for url in (reverse("articles:home"), story.get_absolute_url()):
        img = img_of(pictures_in(page(client, url))[0])
        assert img["fetchpriority"] == "high"
        assert "loading" not in img
        assert img["decoding"] == "async"


def test_the_story_page_shows_its_cover_whole_with_its_credit(client):
    story = with_cover(cover_credit="사진: 편집팀")
    html = page(client, story.get_absolute_url())
    figure = re.search(r'<figure class="cover">.*?</figure>', html, re.S)[0]
    assert 'sizes="(min-width: 45rem) 42rem, calc(100vw - 2rem)"' in figure
    assert "<figcaption>사진: 편집팀</figcaption>" in figure


def test_logos_and_photos_show_on_company_and_person_cards_and_pages(client):
    company = with_logo(name="로고회사")
    person = with_photo(name="사진인물", company=company)
    story = with_cover(company=company, people=[person])

    story_page = page(client, story.get_absolute_url())
    aside = story_page[story_page.index('class="story-aside"') :]
    assert "/media/renditions/logos/2026/01/logo1/96.webp 96w" in aside
    assert "/media/renditions/people/2026/01/photo1/96.webp 96w" in aside

    company_page = page(client, company.get_absolute_url())
    logo = img_of(pictures_in(company_page)[0])
    assert logo["srcset"].endswith("/logo1/384.png 384w")
    assert (logo["width"], logo["height"], logo["sizes"]) == ("384", "384", "96px")
    assert logo["alt"] == ""  # the company's name is the heading beside it
    assert "/people/2026/01/photo1/96.webp" in company_page

    person_page = page(client, person.get_absolute_url())
    assert "/people/2026/01/photo1/192.jpg 192w" in pictures_in(person_page)[0]
    index = page(client, reverse("articles:companies"))
    assert "/logos/2026/01/logo1/96.webp 96w" in index


def test_a_person_without_a_photo_gets_an_initial(client):
    person = PersonFactory(name="이름만")
    html = page(client, person.get_absolute_url())
    assert (
        '<span class="badge badge-lg badge-avatar badge-blank" aria-hidden="true">이</span>' in html
    )


def test_a_cover_replaced_before_its_renditions_are_made_is_not_shown_from_the_old_record(client):
    story = with_cover(title="바뀐 표지")
    story.cover_image = "covers/2026/01/new.jpg"
    story.save()
    html = page(client, reverse("articles:feed"))
    assert "cover1/" not in html
    assert "frame-blank" in html


def pictured_list(client, count):
    company = with_logo(number=count)
    for number in range(count):
        with_cover(number=100 * count + number, company=company)
    with CaptureQueriesContext(connection) as queries:
        html = page(client, reverse("articles:feed"))
    return len(queries), html


@pytest.mark.parametrize("url_name", ["articles:feed", "articles:home"])
def test_pictures_add_no_query_and_no_storage_call_per_card(client, monkeypatch, url_name):
    def no_storage_io(*args, **kwargs):
        raise AssertionError("a page read the storage to show a picture")

    for method in ("open", "exists", "size", "listdir"):
        monkeypatch.setattr(FileSystemStorage, method, no_storage_io)
    one, html = pictured_list(client, 1)
    assert len(pictures_in(html)) == 2
    many, html = pictured_list(client, 6)
    assert len(pictures_in(html)) >= 12  # each card: its cover and its company's logo
    assert many == one
