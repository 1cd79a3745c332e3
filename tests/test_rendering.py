from html.parser import HTMLParser

import pytest

from articles.rendering import excerpt_from, reading_minutes, render_markdown


def test_footnotes_render_as_linked_footnotes():
    html = render_markdown("연결 풀[^1]을 씁니다.\n\n[^1]: 미리 열어 둔 연결의 모음입니다.\n")
    assert '<sup class="footnote-ref"><a href="#fn1" id="fnref1"' in html
    assert '<section class="footnotes">' in html
    assert '<li id="fn1" class="footnote-item">' in html
    assert 'href="#fnref1"' in html


def test_block_quotes_and_fenced_code_survive_sanitising():
    html = render_markdown('> “작게 자주 배포합니다”\n\n```python\nprint("안녕")\n```\n')
    assert "<blockquote>\n<p>“작게 자주 배포합니다”</p>\n</blockquote>" in html
    assert '<pre><code class="language-python">print("안녕")\n</code></pre>' in html


def test_headings_get_korean_anchors():
    html = render_markdown("## 연결 풀링 개념\n\n본문")
    assert '<h2 id="h-연결-풀링-개념">' in html


class _Elements(HTMLParser):
    """Collects the real elements and attributes of a fragment (escaped text is not one)."""

    def __init__(self, html):
        super().__init__()
        self.elements = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


DANGEROUS_TAGS = {"script", "iframe", "svg", "object", "embed", "style", "form", "input"}


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[클릭](javascript:alert(1))",
        "[클릭](JaVaScRiPt:alert(1))",
        "[클릭](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[클릭](vbscript:msgbox(1))",
        '<a href="javascript:alert(1)">링크</a>',
        "<iframe src='https://evil.example'></iframe>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        "![x](javascript:alert(1))",
        "<svg onload=alert(1)>",
        "[a](<javascript:alert(1)>)",
        "[a]: javascript:alert(1)\n\n[a]",
    ],
)
def test_script_payloads_render_harmlessly(payload):
    elements = _Elements(render_markdown(payload)).elements
    for tag, attrs in elements:
        assert tag not in DANGEROUS_TAGS
        assert not any(name.startswith("on") for name in attrs)
        assert "style" not in attrs
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (tag, attrs)


def test_raw_html_is_shown_as_text_not_markup():
    html = render_markdown("<b>굵게</b> 그리고 <script>x()</script>")
    assert "<b>" not in html
    assert "&lt;b&gt;굵게&lt;/b&gt;" in html


def test_links_get_safe_rel():
    html = render_markdown("[채용](https://jobs.example.com)")
    assert 'rel="noopener noreferrer nofollow ugc"' in html


def test_reading_minutes_counts_hangul_and_words():
    assert reading_minutes("") == 1
    assert reading_minutes("가" * 1001) == 3
    assert reading_minutes("word " * 440) == 2


def test_excerpt_cuts_at_a_sentence_or_word():
    text = "첫 문장입니다. " + "둘째 문장은 아주 깁니다 " * 20
    assert excerpt_from(text, 40) == "첫 문장입니다." or excerpt_from(text, 40).endswith("…")
    assert len(excerpt_from(text, 40)) <= 40
    assert excerpt_from("짧은 글") == "짧은 글"


def test_table_alignment_becomes_a_class_not_an_inline_style():
    # The Content-Security-Policy allows no inline style: a style attribute would be refused.
    html = render_markdown("| 왼쪽 | 가운데 | 오른쪽 |\n|:--|:-:|--:|\n| a | b | c |")
    assert "style=" not in html
    assert '<th class="align-left">왼쪽</th>' in html
    assert '<td class="align-center">b</td>' in html
    assert '<td class="align-right">c</td>' in html


def test_pictures_load_over_https_or_from_the_site_only():
    html = render_markdown(
        "![http](http://img.example.com/a.png) ![https](https://img.example.com/b.png) "
        "![site](/media/covers/c.png) ![data](data:image/png;base64,AAAA) "
        "![relative](pooling/chart.png) ![upper](HTTP://img.example.com/d.png)"
    )
    assert 'src="pooling/chart.png"' in html
    assert 'src="https://img.example.com/b.png"' in html
    assert 'src="/media/covers/c.png"' in html
    assert "http://img.example.com" not in html.lower()
    assert "data:" not in html


def test_a_paragraph_of_one_emphasis_is_a_caption():
    html = render_markdown("*사진 왼쪽이 한결입니다*\n\n본문에 *강조*가 있습니다.\n\n*반쯤* 강조")
    assert '<p class="caption"><em>사진 왼쪽이 한결입니다</em></p>' in html
    assert "<p>본문에 <em>강조</em>가 있습니다.</p>" in html
    assert "<p><em>반쯤</em> 강조</p>" in html
    assert render_markdown("*하나* 그리고 *둘*").count("caption") == 0
