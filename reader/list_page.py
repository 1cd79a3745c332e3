"""A kind list's content (인터뷰, 피드, 뉴스: the feed link, the filters, what was left out, the
cards and the page links), written in Python: the `content` part of
templates/reader/kind_list.html's frame (reader/frame.py, reader/views.py kind_list).

The template engine spent about half a millisecond of every list page it rendered on the page
around the cards (the two filters' options, the conditions, the inheritance). This writes
the same HTML, byte for byte: each piece of literal text is the template's, each value
escaped as the engine escapes it (markup._e; the template's truncatechars is markup.cut())."""

from articles.models.common import url_maker
from reader.cards import grid_html
from reader.markup import _e, cut, pagination_html, query_with


def kind_list_content(request, page, *, kind, kind_path, filters) -> str:
    """The content block of the list of `kind` (at `kind_path`) from the view's values:
    `filters` holds the sort and 직군 chosen and on offer, the invalid ones and the window of
    the 인기순 (reader/views.py kind_list)."""
    label = _e(kind.label)
    feed = _e(url_maker("articles:feed-kind")(kind_path))
    sort, job_family = filters["sort"], filters["job_family"]
    sorts = "".join(_option(value, name, sort) for value, name in filters["sorts"])
    jobs = "".join(_option(value, name, job_family) for value, name in filters["job_families"])
    days = filters["popular_days"]
    note = (
        f'<p class="list-note">최근 {_e(days)}일 조회수가 많은 순서입니다. 카드의 숫자도 최근 '
        f"{_e(days)}일 조회수입니다.</p>"
        if days
        else ""
    )
    invalid = ""
    if filters["invalid_filters"]:
        left_out = "".join(
            f"<p>{_e(what)} ‘{_e(cut(str(value), 40))}’은(는) 없는 값이라 빼고 보여 드립니다.</p>"
            for _, value, what in filters["invalid_filters"]
        )
        invalid = (
            '\n<div class="notice" role="alert">\n'
            f"  {left_out}\n"
            f'  <p>위의 목록에서 골라 주세요. <a href="{_e(request.path)}">{label} 전체 보기</a></p>\n'
            "</div>\n"
        )
    if job_family and not page.object_list:
        everything = _e(query_with(request.GET, job=None, page=None))
        shown = (
            '\n<div class="empty" role="status">\n'
            f"  <p>‘{_e(filters['job_family_label'])}’ 직군에 맞는 {label} 스토리가 없습니다.</p>\n"
            f'  <p><a href="{everything}">직군 필터 없이 {label} 전체 보기</a></p>\n'
            "</div>\n"
        )
    else:
        shown = f"\n{grid_html(page.object_list, days)}\n"
    return (
        f"\n<h1>{label}</h1>\n"
        f'<p class="section-lead"><a href="{feed}" type="application/atom+xml">Atom 피드</a>로 '
        f"새 {label} 스토리를 받아 볼 수 있습니다.</p>\n"
        '<form class="filters" method="get" aria-label="정렬과 직군">\n'
        "  <label>정렬\n"
        '    <select name="sort">\n'
        f"      {sorts}\n"
        "    </select>\n"
        "  </label>\n"
        "  <label>직군\n"
        '    <select name="job">\n'
        '      <option value="">전체</option>\n'
        f"      {jobs}\n"
        "    </select>\n"
        "  </label>\n"
        '  <button type="submit">적용</button>\n'
        "</form>\n"
        f"{note}\n{invalid}\n{shown}\n{pagination_html(request.GET, page)}\n"
    )


def _option(value, name, chosen) -> str:
    selected = " selected" if chosen == value else ""
    return f'<option value="{_e(value)}"{selected}>{_e(name)}</option>'
