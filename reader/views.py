"""Reader pages. Each view reads top to bottom: a queryset from ArticleQuerySet, the object
from that queryset (so a draft is a 404 exactly like a missing id), render."""

import json
from functools import cached_property, partial, wraps
from itertools import chain
from types import SimpleNamespace

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.log import log_response
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from articles import answers, clock, stats
from articles.listing import with_card_tags
from articles.models import (
    POPULAR_WINDOW_DAYS,
    Article,
    Collection,
    CollectionItem,
    Company,
    JobFamily,
    Kind,
    Person,
    PreviewLink,
    Series,
    Tag,
    has_published,
)
from articles.models.common import url_of_key
from articles.models.text import nfc
from articles.roles import visible_to
from articles.search import (
    ORDER_TITLE_FIRST,
    ORDERS,
    add_highlights,
    parse_query,
    results_read,
    search_pages,
)
from articles.sharecards import SITE_DESCRIPTION
from reader import frame, viewcount
from reader.cards import (
    DeferredList,
    drawable,
    in_order,
    kept_cards,
    published_story_for_readers,
    related_for_readers,
    without_prefetch,
)
from reader.home_page import home_content
from reader.list_page import kind_list_content
from reader.markup import _e, share_tags_html
from reader.search_page import search_content, search_title
from reader.share import page_tags, picture_image, share_image, site_tags, story_tags
from reader.story_page import story_content

PAGE_SIZE = 20
HOME_COLLECTION_SIZE = 6
POPULAR_COUNT = 5
# The home's popular ranking: kept this long per process, and this many more than are shown.
POPULAR_KEEP_SECONDS = answers.LIST_TIMEOUT
POPULAR_SPARE = 5
LATEST_PER_KIND = 4
# Characters that could end a <script> element or start markup, escaped inside JSON.
JSON_SCRIPT_ESCAPES = (("<", "\\u003C"), (">", "\\u003E"), ("&", "\\u0026"))

# What a kind's list is, in its link preview.
KIND_DESCRIPTIONS = {
    Kind.INTERVIEW: "개발자와 팀을 만나 들은 일하는 방식과 문화 이야기",
    Kind.FEED: "회사들이 직접 쓴 기술과 조직 문화 이야기",
    Kind.NEWS: "엔지니어링 조직의 채용, 행사, 제품 소식",
}

KIND_BY_PATH = {
    "interviews": Kind.INTERVIEW,
    "feed": Kind.FEED,
    "news": Kind.NEWS,
}


# What a reader page answers to: anything else is a 405, never a CSRF failure.
READ_METHODS = ("GET", "HEAD")


def method_not_allowed(request):
    """405 in the site's style, with the Allow header (what require_safe answers, dressed)."""
    response = HttpResponseNotAllowed(READ_METHODS, render_to_string("405.html", request=request))
    log_response(
        "Method Not Allowed (%s): %s",
        request.method,
        request.path,
        response=response,
        request=request,
    )
    return response


def read_only(view=None, *, exempt_csrf=True):
    """Answer GET and HEAD only; any other method gets the styled 405.

    A view that refuses every unsafe method has nothing for CSRF to protect, so it is exempt
    by default: a stray POST or DELETE gets the 405, not the CSRF failure page. The search
    page, a form's target, keeps the CSRF check (`exempt_csrf=False`): an unsafe method
    there meets the CSRF check first (templates/403_csrf.html), then the 405."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in READ_METHODS:
                return method_not_allowed(request)
            return view(request, *args, **kwargs)

        return csrf_exempt(wrapper) if exempt_csrf else wrapper

    return decorator if view is None else decorator(view)


class ListPaginator(Paginator):
    """A Paginator that keeps the count of a list named by `count_key` per content version
    while a page for readers is rendered: how many published stories a list holds changes only
    when the version moves (a write, or a scheduled moment), and counting them reads the whole
    list's index on every page of every list (4 ms for /feed/ at 100,000 stories on SQLite)."""

    def __init__(self, object_list, per_page, *, count_key=None):
        super().__init__(object_list, per_page)
        self.count_key = count_key

    @cached_property
    def count(self):
        version = answers.rendering_under.get()
        if version is None or self.count_key is None:
            return super().count
        key = f"list-count:{version}:{self.count_key}"
        return answers.kept(key, self.object_list.count, answers.CONTENT_TIMEOUT)


def paginate(
    request,
    queryset,
    per_page=PAGE_SIZE,
    *,
    popular_days=None,
    count_key=None,
    shown=None,
    read=None,
):
    """The requested page of `queryset` (or of a DeferredList), or the nearest real one: a
    page number that is not a number, or is below 1, gives page 1; one past the end gives the
    last page; never an error. Its stories are read with the hashtags their cards need
    (reader/cards.py drawable), or, for a page that draws no cards (search results), by
    `read`(stories). `count_key` names the list (what chooses its stories, not their order)
    for ListPaginator. `shown`(start, stop), when given, reads the (id, 조회수) pairs of a
    window of the list as the queryset's own values would (a compiled query), for
    drawable()."""
    paginator = ListPaginator(queryset, per_page, count_key=count_key)
    page = _page(paginator, request.GET.get("page", "1"))
    if read is None:
        start = (page.number - 1) * per_page
        rows = None if shown is None else (lambda: shown(start, start + per_page))
        page.object_list = drawable(page.object_list, popular_days, rows)
    else:
        page.object_list = read(without_prefetch(page.object_list))
    return page


def _page(paginator, number):
    try:
        return paginator.page(number)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        # An EmptyPage number is a whole number (Paginator read it): 0 and below, or too high.
        return paginator.page(paginator.num_pages if int(number) > 1 else 1)


def cached_for_readers(timeout=answers.LIST_TIMEOUT):
    """Serve anonymous GETs of this view from the kept answers (articles/answers.py); render
    and keep 200s that set no cookie."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in READ_METHODS or not answers.is_reader(request):
                return view(request, *args, **kwargs)

            def render_for_readers():
                response = view(request, *args, **kwargs)
                if response.status_code != 200 or response.streaming or response.cookies:
                    return response, False  # answered as it is, never kept
                return (response["Content-Type"], response.content), True

            entry, how = answers.answer(
                view.__name__, request.get_full_path(), render_for_readers, timeout=timeout
            )
            if isinstance(entry, HttpResponse):
                return entry
            content_type, content = entry
            response = HttpResponse(content, content_type=content_type)
            response["X-Cache"] = how
            return response

        return wrapper

    return decorator


@read_only
@cached_for_readers()
def home(request):
    now = clock.now_datetime()
    lead, latest_ids, collections, in_collection = home_choice(now)
    ranking = popular_ranking(now)
    # The cards drawn under this version are sent as they are (their stories were chosen from
    # the published ones just now); every other story the page shows is loaded in one query:
    # the lead (or each kind's newest, the lead without one), the week's most read (the query
    # asks again that readers may see each) and the cards not kept.
    card_ids = list(
        dict.fromkeys(
            [
                *chain.from_iterable(latest_ids.values()),
                *chain.from_iterable(in_collection.values()),
            ]
        )
    )
    kept = kept_cards(card_ids)
    leads = [lead] if lead else [ids[0] for ids in latest_ids.values() if ids]
    wanted = [*leads, *(pk for pk, _ in ranking), *(pk for pk in card_ids if pk not in kept)]
    chosen = list(dict.fromkeys(wanted))
    loaded = {story.pk: story for story in Article.objects.published_cards(chosen, now)}
    latest = {kind: in_order(ids, kept, loaded) for kind, ids in latest_ids.items()}
    # No featured story: the newest of all leads, which is the newest of some kind.
    featured = max(
        (loaded[pk] for pk in leads if pk in loaded),
        key=lambda story: (story.published_at, story.pk),
        default=None,
    )
    for collection in collections:
        collection.visible = in_order(in_collection[collection.pk], kept, loaded)
    collections = [collection for collection in collections if collection.visible]
    popular = []
    for pk, total in ranking:
        if pk in loaded and len(popular) < POPULAR_COUNT:
            popular.append(SimpleNamespace(story=loaded[pk], recent_views=total))
    # The hashtags of the cards to draw, in one query (reader/cards.py).
    with_card_tags([loaded[pk] for pk in card_ids if pk in loaded and pk not in kept])
    latest = [(Kind(kind), stories) for kind, stories in latest.items() if stories]
    content = home_content(featured, collections, popular, latest)
    shown = {"featured": featured, "collections": collections, "latest": latest, "popular": popular}
    html = framed(
        request, "reader/home.html", site_tags(request), {"content": content}, shown=shown
    )
    return HttpResponse(html)


def home_choice(now) -> tuple:
    """What 스토리 홈 shows, as ids and plain values: the lead's id (None without a featured
    story), each kind's newest ids, the collections on the home (SimpleNamespace: what the page
    draws of each) and the ids of each one's first stories. Three queries, whose answer only a
    content change can change (a save, or a scheduled moment passing: a story's or a
    collection's), so while the page is rendered to be kept it is kept under the content
    version, as the cards are: the home asked at a new address after the first asks none of
    them (staff, and everyone while the shared cache is down, ask them every time)."""

    def choose():
        lead, latest_ids = Article.objects.home_newest(Kind.values, LATEST_PER_KIND, now)
        collections = [
            SimpleNamespace(
                pk=collection.pk,
                title=collection.title,
                description=collection.description,
                get_absolute_url=collection.get_absolute_url(),
            )
            for collection in Collection.objects.shown_on_home(now)
        ]
        in_collection = CollectionItem.objects.first_published(
            [c.pk for c in collections], HOME_COLLECTION_SIZE, now
        )
        return lead, latest_ids, collections, in_collection

    # Kept pickled (ops/memory_cache.py): each render gets objects of its own to give cards.
    version = answers.rendering_under.get()
    return answers.kept(
        f"home-choice:{version}" if version is not None else None,
        choose,
        answers.CONTENT_TIMEOUT,
    )


def popular_ranking(now) -> list[tuple[int, int]]:
    """The home's 이번 주 인기 스토리 as (story id, views of the last 7 days), most first,
    POPULAR_SPARE more than are shown. Summing a week of day rows is the largest query of a
    home miss and grows with the stories read that week, while the ranking moves slowly: it is
    kept for POPULAR_KEEP_SECONDS per process, whatever is saved meanwhile (a kept home page is
    as old). Which of its stories readers may see is asked at every render (home loads them
    from published()): a story withdrawn since is left out and the next one moves up. Kept
    only while the page itself is rendered to be kept: staff, and every reader while the
    shared cache is down, get it summed afresh."""
    keep = answers.rendering_under.get() is not None
    return answers.kept(
        f"popular-week:{POPULAR_COUNT + POPULAR_SPARE}" if keep else None,
        lambda: Article.objects.published(now).view_ranking(
            days=7, limit=POPULAR_COUNT + POPULAR_SPARE, now=now
        ),
        POPULAR_KEEP_SECONDS,
    )


# 정렬 on the kind lists: the value in the address and the label a reader sees.
SORTS = {"recent": "최신순", "popular": f"인기순 (최근 {POPULAR_WINDOW_DAYS}일 조회수)"}


def list_filters(request):
    """The kind lists' 직군 and 정렬 from the address. A value that is not on offer is not
    silently dropped: it comes back in `invalid` (parameter, value, what it means in Korean)
    so the page can say so, with a 400, and show the list without that filter."""
    job_family = request.GET.get("job", "")
    sort = request.GET.get("sort", "") or "recent"
    invalid = []
    if job_family and job_family not in JobFamily.values:
        invalid.append(("job", job_family, "직군"))
        job_family = ""
    if sort not in SORTS:
        invalid.append(("sort", sort, "정렬"))
        sort = "recent"
    return job_family, sort, invalid


@read_only
@cached_for_readers()
def kind_list(request, kind_path):
    kind = KIND_BY_PATH[kind_path]
    job_family, sort, invalid = list_filters(request)
    popular_days = POPULAR_WINDOW_DAYS if sort == "popular" else None

    def listed():
        # The same list as kind_page() reads a page of (the compiled query, for cards kept).
        stories = Article.objects.of_kind(kind, job_family).for_listing()
        return stories.popular() if popular_days else stories.recent()

    page = paginate(
        request,
        DeferredList(Article, listed),
        popular_days=popular_days,
        count_key=f"kind:{kind}:{job_family}",
        shown=None
        if popular_days
        else partial(Article.objects.kind_page, kind, job_family=job_family),
    )
    share = page_tags(request, kind.label, KIND_DESCRIPTIONS[kind], page=page)
    filters = {
        "sort": sort,
        "sorts": SORTS.items(),
        # The cards show what the list is sorted by: the window's views on 인기순.
        "popular_days": popular_days,
        "job_family": job_family,
        "job_family_label": JobFamily(job_family).label if job_family else "",
        "job_families": JobFamily.choices,
        "invalid_filters": invalid,
    }
    content = kind_list_content(request, page, kind=kind, kind_path=kind_path, filters=filters)
    html = framed(
        request,
        "reader/kind_list.html",
        share,
        {"content": content},
        {"kind": kind, "kind_path": kind_path},
        shown={"page": page, **filters},
    )
    return HttpResponse(html, status=400 if invalid else 200)


# In a cached story page, where this request's 조회수 goes: invisible separators, never in
# real content.
VIEW_COUNT_MARKER = "\u2063views\u2063"


@read_only
def story(request, pk, slug=None):
    slug = nfc(slug)  # an NFD slug (macOS) is the story's slug, not an old one
    if not answers.is_reader(request):
        return story_for_staff(request, pk, slug)

    # Readers: the page is rendered once per content version and only the 조회수 is filled
    # in per request. A page rendered now read the stored count with the story's row.
    stored = []

    def render_for_readers():
        article = published_story_for_readers(pk)
        if article is None:
            return (None, None), True
        stored.append(article.view_count)
        html = story_html(request, article, VIEW_COUNT_MARKER, counted=True)
        return (article.slug, html), True

    (canonical_slug, html), how = answers.answer(
        "story", str(pk), render_for_readers, timeout=answers.STORY_TIMEOUT
    )
    if html is None:
        raise Http404("스토리가 없습니다.")
    if slug != canonical_slug:
        return redirect("articles:story", pk, canonical_slug, permanent=True)

    # The page shows the count as it is now; the reader is counted by the page's beacon
    # (reader/beacon.py), so that a copy kept by a cache in front of the site counts too.
    count = viewcount.current_count(pk, flushed=stored[0] if stored else None)
    if count is None:
        raise Http404("스토리가 없습니다.")
    response = HttpResponse(html.replace(VIEW_COUNT_MARKER, str(count)))
    response["X-Cache"] = how
    return response


def story_for_staff(request, pk, slug):
    """Editors see any story, a draft as a clearly marked preview; their visits never count."""
    queryset = visible_to(request.user).select_related("company", "series")
    article = get_object_or_404(queryset, pk=pk)
    if slug != article.slug:
        return redirect(article, permanent=True)
    response = render_story(request, article, article.view_count)
    if not article.is_public:
        # A preview is for the editor who asked for it: never cached, never indexed.
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def render_story(request, article, view_count, *, counted=False):
    return HttpResponse(story_html(request, article, view_count, counted=counted))


def story_html(request, article, view_count, *, counted=False) -> str:
    """A story's page: its parts written in Python, set in its frame (reader/frame.py).
    (Readers' pages are kept as text: rendered to a string, not encoded into a response and
    decoded again.)"""
    related = related_for_readers(article)
    tags = article.card_tags  # plain values, as on its card, read with the related cards'.
    parts = []
    if article.series_id:
        parts = Article.objects.parts_of(article.series_id)
    position = next((i for i, part in enumerate(parts) if part.pk == article.pk), None)
    following = position is not None and position + 1 < len(parts)
    image = share_image(article)  # the link preview's picture, in its JSON-LD and its tags
    share = story_tags(article, tags, image)
    is_preview = not article.is_public
    shown = {
        "article": article,
        "view_count": view_count,
        "count_url": url_of_key("articles:count-view", article.pk) if counted else None,
        "people": article.story_people,
        "tags": tags,
        "related": related,
        "series_parts": parts,
        "series_position": None if position is None else position + 1,
        "series_previous": parts[position - 1] if position else None,
        "series_next": parts[position + 1] if following else None,
        "is_preview": is_preview,
    }
    parts = {
        "title": _e(article.title),
        "json_ld": story_json_ld(article, tags, image),
        "content": story_content(shown),
    }
    flags = {"is_preview": is_preview, "count_url": counted}
    return framed(request, "reader/story.html", share, parts, flags, shown=shown)


def framed(request, template_name, share, parts, flags=None, *, shown) -> str:
    """A page written in Python set in its template's frame (reader/frame.py): its `parts`
    (escaped text) with the description and link-preview tags base.html writes for `share`
    (reader/share.py ShareTags). `flags`: what else the template tests; `shown`: the values
    the parts were made from, for tests."""
    parts = {
        # {% firstof share.description SITE_DESCRIPTION %}
        "description": _e(share.description or SITE_DESCRIPTION),
        "share_tags": share_tags_html(share, settings.SITE_NAME),
        **parts,
    }
    return frame.page(request, template_name, parts, flags, context={**shown, "share": share})


def story_json_ld(article, tags, image):
    """schema.org Article metadata for search engines (`image`: share_image()), as safe
    <script> content."""
    url = settings.SITE_URL + article.get_absolute_url()
    data = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title,
        "description": article.description,
        "url": url,
        "mainEntityOfPage": article.original_url or url,
        "datePublished": article.shown_date.isoformat() if article.shown_date else None,
        "dateModified": article.updated_at.isoformat(),
        "inLanguage": "ko",
        "keywords": [tag.name for tag in tags],
        "author": {"@type": "Person", "name": article.byline} if article.byline else None,
        "publisher": (
            {"@type": "Organization", "name": article.company.name} if article.company else None
        ),
        "image": image.url,
    }
    text = json.dumps({k: v for k, v in data.items() if v}, ensure_ascii=False)
    # < > & escaped: safe in <script>. One replace() each: str.translate() with a mapping
    # looks up every character of a non-ASCII text in Python (27 µs against 1 here).
    for character, escape in JSON_SCRIPT_ESCAPES:
        text = text.replace(character, escape)
    return mark_safe(text)


def with_story_total(rows):
    """Companies, people or tags, each with `story_total`: how many published stories it has."""
    return rows.annotate(
        story_total=Count("articles", filter=Q(articles__in=Article.objects.published()))
    )


@read_only
@cached_for_readers()
def company_index(request):
    companies = with_story_total(Company.objects).order_by("name")
    share = page_tags(request, "회사", "엔지니어링 문화 스토리를 실은 회사들")
    return render(request, "reader/company_index.html", {"companies": companies, "share": share})


@read_only
@cached_for_readers()
def company(request, slug):
    company = get_object_or_404(Company, slug=slug)
    published = Article.objects.published().filter(company=company)
    stories = published.for_listing().recent()
    page = paginate(request, stories, count_key=f"company:{company.pk}")
    month_top = stats.month_top(published)
    share = page_tags(
        request,
        company.name,
        company.one_liner or f"{company.name}의 엔지니어링 문화 스토리",
        page=page,
        image=picture_image(company.logo, f"{company.name} 로고"),
    )
    return render(
        request,
        "reader/company.html",
        {
            "company": company,
            "page": page,
            "people": company.people.all(),
            "share": share,
            "month_top": month_top,
        },
    )


@read_only
@cached_for_readers()
def person_index(request):
    """Everyone with a page (as in the API: people before their first story too), with the
    company and how many published stories they appear in."""
    people = with_story_total(Person.objects.select_related("company")).order_by("name", "pk")
    share = page_tags(request, "사람", "엔지니어링 문화 스토리에 나온 사람들")
    return render(request, "reader/person_index.html", {"people": people, "share": share})


@read_only
@cached_for_readers()
def person(request, slug):
    person = get_object_or_404(Person.objects.select_related("company"), slug=slug)
    stories = Article.objects.published().filter(people=person).for_listing().recent()
    page = paginate(request, stories, count_key=f"person:{person.pk}")
    share = page_tags(
        request,
        str(person),
        person.bio or f"{person}님이 등장한 스토리",
        page=page,
        image=picture_image(person.photo, f"{person}의 사진"),
    )
    return render(request, "reader/person.html", {"person": person, "page": page, "share": share})


@read_only
@cached_for_readers()
def tag_index(request):
    tags = with_story_total(Tag.objects).filter(story_total__gt=0).order_by("-story_total", "name")
    share = page_tags(request, "해시태그", "해시태그로 모아 보는 엔지니어링 문화 스토리")
    return render(request, "reader/tag_index.html", {"tags": tags, "share": share})


@read_only
@cached_for_readers()
def tag(request, slug):
    # A tag only hidden stories carry is a 404, as in the API: its name could tell what is
    # coming. (Companies and people have pages of their own, stories or not, as in the API.)
    tag = get_object_or_404(has_published(Tag, "tags"), slug=slug)
    stories = Article.objects.published().filter(tags=tag).for_listing().recent()
    page = paginate(request, stories, count_key=f"tag:{tag.pk}")
    share = page_tags(request, f"#{tag.name}", f"#{tag.name} 해시태그가 달린 스토리", page=page)
    return render(request, "reader/tag.html", {"tag": tag, "page": page, "share": share})


@read_only
@cached_for_readers()
def collection(request, slug):
    collection = get_object_or_404(Collection, slug=slug)
    stories = (
        Article.objects.published()
        .filter(collection_items__collection=collection)
        .for_listing()
        .order_by("collection_items__position", "collection_items__id")
    )
    if not collection.show_on_home and not stories.exists():
        raise Http404("컬렉션이 없습니다.")
    page = paginate(request, stories, count_key=f"collection:{collection.pk}")
    share = page_tags(
        request,
        collection.title,
        collection.description or f"컬렉션 ‘{collection.title}’에 모은 스토리",
        page=page,
    )
    return render(
        request, "reader/collection.html", {"collection": collection, "page": page, "share": share}
    )


@read_only
@cached_for_readers()
def series(request, slug):
    series = get_object_or_404(Series, slug=slug)
    stories = (
        Article.objects.published()
        .filter(series=series)
        .for_listing()
        .prefetch_related(None)  # the page shows no hashtags
        .in_series_order()
    )
    share = page_tags(
        request, series.title, series.description or f"시리즈 ‘{series.title}’의 모든 편"
    )
    return render(
        request, "reader/series.html", {"series": series, "stories": stories, "share": share}
    )


@read_only
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /search/",
        f"Sitemap: {settings.SITE_URL}{reverse('sitemap')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@read_only(exempt_csrf=False)
@cached_for_readers()
def search(request):
    """검색: published stories only, every word of the query, title matches first. An empty
    query shows a prompt and runs nothing; a query of symbols only says so. Readers who ask
    what someone asked before get the page from the page cache (its 조회수 may be a minute
    old, as on the lists)."""
    query = parse_query(request.GET.get("q"))
    order = request.GET.get("order")
    if order not in ORDERS:
        order = ORDER_TITLE_FIRST
    page = None
    if query:
        pages = search_pages(query, order=order)
        page = paginate(request, pages, read=results_read(pages))
        add_highlights(page, query)
    title = search_title(query)
    share = page_tags(
        request, title, "회사, 기술, 사람, 문화 이야기로 스토리를 찾습니다.", page=page, keep=("q",)
    )
    parts = {"title": _e(title), "content": search_content(request, query, page, order)}
    shown = {"query": query, "page": page, "order": order}
    return HttpResponse(framed(request, "reader/search.html", share, parts, shown=shown))


@require_safe
def preview(request, pk, token):
    """404 for an unknown, expired or revoked token and for a token of another story. Once the
    story is public the link simply leads to its page. Views are not counted here."""
    link = PreviewLink.objects.select_related("article__company", "article__series").find(pk, token)
    if link is None:
        raise Http404("미리보기 링크가 없거나 만료되었습니다.")
    article = link.article
    if article.is_public:
        return redirect(article)
    response = render_story(request, article, article.view_count)
    # A secret link: never stored by a browser or proxy cache, never indexed, and never
    # handed to another site in a Referer header.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
