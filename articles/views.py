"""Reader pages. Each view reads top to bottom: a queryset from ArticleQuerySet, the object
from that queryset (so a draft is a 404 exactly like a missing id), render."""

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from articles.models import (
    Article,
    Collection,
    CollectionItem,
    Company,
    JobFamily,
    Kind,
    Person,
    Series,
    Tag,
)

PAGE_SIZE = 20

KIND_BY_PATH = {
    "interviews": Kind.INTERVIEW,
    "feed": Kind.FEED,
    "news": Kind.NEWS,
}


def paginate(request, queryset, per_page=PAGE_SIZE):
    """The requested page, or the nearest real one: a page number that is not a number gives
    page 1, one past the end gives the last page, never an error."""
    paginator = Paginator(queryset, per_page)
    number = request.GET.get("page", "1")
    try:
        return paginator.page(number)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages if str(number).lstrip("-").isdigit() else 1)


def home(request):
    now = timezone.now()
    published = Article.objects.published(now).for_listing()
    featured = published.filter(is_featured=True).recent().first() or published.recent().first()
    visible_items = CollectionItem.objects.filter(
        article__in=Article.objects.published(now)
    ).select_related("article__company", "article__series")
    collections = Collection.objects.on_home(now).prefetch_related(
        Prefetch("items", queryset=visible_items.order_by("position", "id"), to_attr="visible")
    )
    latest = {kind: list(published.filter(kind=kind).recent()[:4]) for kind in Kind.values}
    return render(
        request,
        "articles/home.html",
        {
            "featured": featured,
            "collections": [c for c in collections if c.visible],
            "latest": [(Kind(kind), stories) for kind, stories in latest.items() if stories],
        },
    )


def kind_list(request, kind_path):
    kind = KIND_BY_PATH[kind_path]
    stories = Article.objects.published().filter(kind=kind).for_listing()
    job_family = request.GET.get("job")
    if job_family in JobFamily.values:
        stories = stories.filter(job_family=job_family)
    else:
        job_family = ""
    sort = request.GET.get("sort")
    if sort == "popular":
        stories = stories.order_by("-view_count", "-published_at", "-id")
    else:
        sort = "recent"
        stories = stories.recent()
    return render(
        request,
        "articles/kind_list.html",
        {
            "kind": kind,
            "kind_path": kind_path,
            "page": paginate(request, stories),
            "sort": sort,
            "job_family": job_family,
            "job_families": JobFamily.choices,
        },
    )


def story(request, pk, slug=None):
    queryset = Article.objects.visible_to(request.user).select_related("company", "series")
    article = get_object_or_404(queryset, pk=pk)
    if slug != article.slug:
        return redirect(article, permanent=True)
    people = article.people.select_related("company")
    return render(
        request,
        "articles/story.html",
        {
            "article": article,
            "people": people,
            "tags": article.tags.all(),
            "is_preview": not article.is_public,
        },
    )


def company_index(request):
    companies = Company.objects.annotate(
        story_total=Count("articles", filter=Q(articles__in=Article.objects.published()))
    ).order_by("name")
    return render(request, "articles/company_index.html", {"companies": companies})


def company(request, slug):
    company = get_object_or_404(Company, slug=slug)
    stories = Article.objects.published().filter(company=company).for_listing().recent()
    return render(
        request,
        "articles/company.html",
        {
            "company": company,
            "page": paginate(request, stories),
            "people": company.people.all(),
        },
    )


def person(request, slug):
    person = get_object_or_404(Person.objects.select_related("company"), slug=slug)
    stories = Article.objects.published().filter(people=person).for_listing().recent()
    return render(
        request, "articles/person.html", {"person": person, "page": paginate(request, stories)}
    )


def tag_index(request):
    tags = (
        Tag.objects.annotate(
            story_total=Count("articles", filter=Q(articles__in=Article.objects.published()))
        )
        .filter(story_total__gt=0)
        .order_by("-story_total", "name")
    )
    return render(request, "articles/tag_index.html", {"tags": tags})


def tag(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    stories = Article.objects.published().filter(tags=tag).for_listing().recent()
    return render(request, "articles/tag.html", {"tag": tag, "page": paginate(request, stories)})


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
    return render(
        request,
        "articles/collection.html",
        {"collection": collection, "page": paginate(request, stories)},
    )


def series(request, slug):
    series = get_object_or_404(Series, slug=slug)
    stories = (
        Article.objects.published()
        .filter(series=series)
        .for_listing()
        .order_by("series_part", "published_at", "id")
    )
    return render(request, "articles/series.html", {"series": series, "stories": stories})
