"""Story bodies: heading ids that cannot collide with the page's own ids or DOM names, links
to headings and footnotes that keep working, and links marked as the authors'."""

from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.management import call_command

from articles.models import Article
from articles.rendering import render_markdown
from tests.factories import ArticleFactory


class _Ids(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.ids, self.hrefs = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "a":
            self.hrefs.append(attrs.get("href"))


@pytest.mark.parametrize("name", ["main", "csrfmiddlewaretoken", "proto", "fn1", "fnref1"])
def test_a_heading_never_takes_a_name_the_page_or_a_footnote_uses(name):
    html = render_markdown(f"## {name}\n\n본문[^1]\n\n[^1]: 각주\n")
    found = _Ids(html).ids

    assert sorted(found) == sorted([f"h-{name}", "fn1", "fnref1"])


def test_links_to_headings_written_without_the_prefix_still_reach_them():
    body = (
        "[연결 풀링으로](#연결-풀링) · [다시](#연결-풀링-1) · [각주로](#fn1) · [없는 곳](#없음)\n\n"
        "## 연결 풀링\n\n첫째[^1]\n\n## 연결 풀링\n\n둘째\n\n[^1]: 각주\n"
    )
    parsed = _Ids(render_markdown(body))

    assert {"h-연결-풀링", "h-연결-풀링-1"} <= set(parsed.ids)
    assert parsed.hrefs[:4] == [
        "#h-%EC%97%B0%EA%B2%B0-%ED%92%80%EB%A7%81",
        "#h-%EC%97%B0%EA%B2%B0-%ED%92%80%EB%A7%81-1",
        "#fn1",
        "#%EC%97%86%EC%9D%8C",
    ]
    # The footnote's reference and its way back still meet.
    assert {"#fn1", "#fnref1"} <= set(parsed.hrefs)
    assert {"fn1", "fnref1"} <= set(parsed.ids)


def test_links_to_headings_written_with_the_prefix_stay_as_written():
    parsed = _Ids(render_markdown("[아래로](#h-배포)\n\n## 배포\n"))
    assert parsed.hrefs == ["#h-%EB%B0%B0%ED%8F%AC"]
    assert parsed.ids == ["h-배포"]


def test_external_links_are_marked_as_user_generated():
    html = render_markdown("[채용](https://jobs.example.com) 그리고 <https://example.org>")
    assert html.count('rel="noopener noreferrer nofollow ugc"') == 2


@pytest.mark.django_db
def test_render_bodies_brings_stored_html_up_to_the_renderer():
    story = ArticleFactory(body="## main\n\n[외부](https://example.com)")
    old = '<h2 id="main">main</h2>\n<p><a href="https://example.com" rel="noopener">외부</a></p>'
    Article.objects.filter(pk=story.pk).update(body_html=old)
    version = Article.objects.get(pk=story.pk).version

    out = StringIO()
    call_command("render_bodies", stdout=out)

    story.refresh_from_db()
    assert 'id="h-main"' in story.body_html
    assert 'rel="noopener noreferrer nofollow ugc"' in story.body_html
    assert story.version == version
    assert "1개" in out.getvalue()
