"""Links built without reverse() per row (articles/models/common.py url_of) and rendition URLs
built once per picture (articles/renditions.py urls_of) are exactly what the slow way gave."""

import pytest
from django.core.files.storage import FileSystemStorage, InMemoryStorage
from django.template import engines
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from articles import renditions
from articles.models.common import (
    KEY_STAND_IN,
    fixed_url,
    same_url_context,
    url_context,
    url_of,
    url_of_key,
)

SLUGS = ["culture", "개발-문화", "a'b(c)", "100%-sure", f"x{KEY_STAND_IN}y", "한글 공백", "~:@!"]


@pytest.mark.parametrize("slug", SLUGS)
def test_story_and_tag_links_are_what_reverse_gives(slug):
    assert url_of("articles:story", slug, 7) == reverse("articles:story", args=[7, slug])
    assert url_of("articles:tag", slug) == reverse("articles:tag", args=[slug])
    assert url_of("articles:company", slug) == reverse("articles:company", args=[slug])


def test_links_follow_the_script_prefix():
    set_script_prefix("/hub/")
    try:
        assert url_of("articles:story", "개발", 3) == reverse("articles:story", args=[3, "개발"])
        assert url_of("articles:story", "개발", 3).startswith("/hub/stories/3/")
    finally:
        clear_script_prefix()
    assert url_of("articles:story", "개발", 3).startswith("/stories/3/")


@pytest.mark.parametrize("name", ["articles:count-view", "articles:share-story"])
def test_links_by_a_key_alone_are_what_reverse_gives_under_any_script_prefix(name):
    for prefix in ("/", "/hub/"):
        set_script_prefix(prefix)
        try:
            for pk in (1, 7, KEY_STAND_IN, 10**12):
                assert url_of_key(name, pk) == reverse(name, args=[pk])
        finally:
            clear_script_prefix()


def test_a_page_written_in_one_url_context_links_as_reverse_does():
    set_script_prefix("/hub/")
    try:
        with same_url_context():
            assert url_context()[0] == "/hub/"
            assert url_of("articles:story", "개발", 3) == reverse(
                "articles:story", args=[3, "개발"]
            )
            assert fixed_url("articles:home") == "/hub/"
        set_script_prefix("/other/")
        with same_url_context():
            assert url_of("articles:tag", "개발") == reverse("articles:tag", args=["개발"])
    finally:
        clear_script_prefix()
    assert url_context()[0] == "/"
    assert url_of("articles:story", "개발", 3).startswith("/stories/3/")


FIXED = ["articles:home", "articles:interviews", "articles:search", "ops:case-study", "admin:index"]


def test_the_links_every_page_carries_are_what_url_gives_under_any_script_prefix():
    template = "{% load links %}" + " ".join(f"{{% link '{name}' %}}" for name in FIXED)
    slow = " ".join(f"{{% url '{name}' %}}" for name in FIXED)
    django = engines["django"]
    for prefix in ("/", "/hub/", "/a&b/"):
        set_script_prefix(prefix)
        try:
            assert django.from_string(template).render() == django.from_string(slow).render()
            assert fixed_url("articles:home") == reverse("articles:home") == prefix
        finally:
            clear_script_prefix()


def test_a_slug_no_pattern_takes_still_fails():
    with pytest.raises(NoReverseMatch):
        url_of("articles:tag", "a/b")


RECORD = {
    "source": "covers/2026/12/ab 12.png",
    "sizes": [[320, 200], [640, 400]],
    "formats": ["webp", "png"],
}


@pytest.mark.parametrize(
    "storage",
    [FileSystemStorage(location="/tmp/x", base_url="/media/"), InMemoryStorage(base_url="/m/")],
)
def test_rendition_urls_are_what_the_storage_gives_for_each_file(storage):
    picture = renditions.picture(RECORD, RECORD["source"], "표지", storage=storage)
    name = RECORD["source"]
    expected = [storage.url(renditions.rendition_name(name, w, "png")) for w in (320, 640)]
    assert picture.srcset == f"{expected[0]} 320w, {expected[1]} 640w"
    assert picture.src == expected[1]
    assert picture.webp_srcset.startswith(storage.url(renditions.rendition_name(name, 320, "webp")))
