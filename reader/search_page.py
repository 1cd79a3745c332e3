"""The search page's content (the form, what was found, the order links, the results and the
page links), written in Python: the `content` part of templates/reader/search.html's frame
(reader/frame.py, reader/views.py search).

The template engine spent about 0.8 ms of every new search on the page around its results
(the form, conditions, a copy of the query string for each order and page link, the
inheritance), more than the results themselves. This writes the same HTML, byte for byte:
each piece of literal text is the template's, each value escaped as the engine escapes it
(markup._e)."""

from articles.models.common import fixed_url
from articles.search import MAX_QUERY_LENGTH, ORDERS
from reader.markup import _e, pagination_html, query_with, search_results

HELP = "제목, 요약, 본문, 회사, 인물, 해시태그에서 찾습니다. 낱말을 띄어 쓰면 모두 들어 있는 스토리만 나옵니다."
PROMPT = "무엇을 찾을까요? 회사 이름, 기술, 사람, 문화 이야기의 낱말을 넣어 보세요."
NOTHING_TO_FIND = "찾을 글자나 숫자가 없습니다. 기호만으로는 찾을 수 없으니 낱말을 넣어 주세요."
CURRENT = ' aria-current="true"'


def search_title(query) -> str:
    """The page's title (before the site's name in <title>, and its link preview's)."""
    return f"‘{query.text}’ 검색 결과" if query.text else "스토리 검색"


def search_content(request, query, page, order) -> str:
    """The content block of the search page for `query` (articles/search.py parse_query()), its
    `page` of results (None when nothing was searched) in `order`."""
    text = _e(query.text)
    truncated = (
        f'\n  <p class="notice" role="status">검색어가 너무 길어 앞 {MAX_QUERY_LENGTH}자로 '
        "찾았습니다.</p>\n  "
        if query.truncated
        else ""
    )
    if not query.text:
        found = f'\n  <p class="empty">{PROMPT}</p>\n  '
    elif not query:
        found = f'\n  <p class="empty">{NOTHING_TO_FIND}</p>\n  '
    else:
        found = _found(request, text, page, order)
    return (
        '\n<div class="search-page">\n'
        "  <h1>스토리 검색</h1>\n"
        f'  <form class="search-form" role="search" method="get" '
        f'action="{_e(fixed_url("articles:search"))}">\n'
        '    <label for="search-q">검색어</label>\n'
        '    <div class="search-row">\n'
        f'      <input id="search-q" type="search" name="q" value="{text}" '
        f'maxlength="{MAX_QUERY_LENGTH}" placeholder="예: 코드 리뷰, 온보딩, PostgreSQL" '
        'aria-describedby="search-help">\n'
        '      <button type="submit">검색</button>\n'
        "    </div>\n"
        f'    <p id="search-help" class="search-help">{HELP}</p>\n'
        "  </form>\n\n  "
        f"{truncated}\n\n  {found}\n</div>\n"
    )


def _found(request, text, page, order) -> str:
    count = page.paginator.count
    orders = ""
    if count > 1:
        links = "".join(
            f'\n      <a href="{_e(query_with(request.GET, order=value, page=None))}"'
            f"{CURRENT if value == order else ''}>{_e(label)}</a>\n      "
            for value, label in ORDERS.items()
        )
        orders = (
            f'\n    <nav class="search-order" aria-label="정렬">\n      {links}\n    </nav>\n    '
        )
    if page.object_list:
        results = (
            '\n  <ol class="search-results">\n'
            f"    {search_results(page)}\n"
            "  </ol>\n"
            f"  {pagination_html(request.GET, page)}\n  "
        )
    else:
        results = (
            f'\n  <p class="empty">‘{text}’에 맞는 스토리가 없습니다. 낱말을 줄이거나 다른 말로 '
            "찾아 보세요.</p>\n  "
        )
    return (
        '\n  <div class="search-summary">\n'
        f'    <p role="status">‘{text}’ 검색 결과 <strong>{_e(count)}</strong>개</p>\n'
        f"    {orders}\n"
        f"  </div>\n  {results}\n  "
    )
