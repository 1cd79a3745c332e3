"""Atom feeds: every story, each kind, each company and each tag. Published stories only.

Every feed names the site as its author (Atom wants an author for each entry, and an entry
whose story has no byline and no company inherits the feed's). An entry's id is the story's
address by number under SITE_URL, so a new slug or title never makes it a new entry. Every
address in a feed is under SITE_URL, whatever Host or scheme the request named."""

from datetime import datetime, time

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from articles.models import KIND_URL_NAMES, Article, Company, Kind, Tag, has_published
from reader.sitemaps import site_origin

FEED_SIZE = 30


class _AtTheSite:
    """The request as Feed.get_feed reads it (its host, scheme and path), at SITE_URL's host
    and scheme: without the sites framework Django would take the request's Host."""

    def __init__(self, request):
        self._request = request
        self._scheme, self._host = site_origin()

    def get_host(self):
        return self._host

    def is_secure(self):
        return self._scheme == "https"

    def __getattr__(self, name):
        return getattr(self._request, name)


class StoryFeed(Feed):
    feed_type = Atom1Feed
    title = f"{settings.SITE_NAME} — 모든 스토리"
    subtitle = "개발자 인터뷰, 기술 블로그, 회사 소식"
    item_guid_is_permalink = False  # RSS only; Atom's <id> is never taken for a link

    def get_feed(self, obj, request):
        return super().get_feed(obj, _AtTheSite(request))

    def link(self):
        return reverse("articles:home")

    def author_name(self):
        return settings.SITE_NAME

    def author_link(self):
        return settings.SITE_URL + "/"

    def stories(self, obj):
        return Article.objects.published()

    def items(self, obj=None):
        return self.stories(obj).for_listing().recent()[:FEED_SIZE]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.excerpt

    def item_pubdate(self, item):
        """When the story was first published (Atom's optional <published>): none for an
        imported story whose source gave no date (Article.shown_date), never the import day."""
        shown = item.shown_date
        if shown is None or isinstance(shown, datetime):
            return shown
        return timezone.make_aware(datetime.combine(shown, time()))

    def item_updateddate(self, item):
        return item.updated_at

    def item_guid(self, item):
        return settings.SITE_URL + reverse("articles:story-by-id", args=[item.pk])

    def item_author_name(self, item):
        return item.byline or (item.company.name if item.company else None)

    def item_categories(self, item):
        return [tag.name for tag in item.ordered_tags()]


class KindFeed(StoryFeed):
    def get_object(self, request, kind):
        # The same words as the tabs' addresses: /feeds/atom/interviews/ for /interviews/.
        for value, url_name in KIND_URL_NAMES.items():
            if url_name.endswith(f":{kind}"):
                return Kind(value)
        raise Http404("그런 종류의 스토리는 없습니다.")

    def title(self, obj):
        return f"{settings.SITE_NAME} — {obj.label}"

    def link(self, obj):
        return reverse(KIND_URL_NAMES[obj])

    def stories(self, obj):
        return Article.objects.published().filter(kind=obj)


class StoriesOfFeed(StoryFeed):
    """The stories of one row (a company, a tag), found by its slug among `rows()`."""

    relation = ""
    prefix = ""

    def rows(self):
        raise NotImplementedError

    def get_object(self, request, slug):
        return get_object_or_404(self.rows(), slug=slug)

    def title(self, obj):
        return f"{settings.SITE_NAME} — {self.prefix}{obj.name}"

    def link(self, obj):
        return obj.get_absolute_url()

    def stories(self, obj):
        return Article.objects.published().filter(**{self.relation: obj})


class CompanyFeed(StoriesOfFeed):
    relation = "company"

    def rows(self):
        return Company.objects.all()


class TagFeed(StoriesOfFeed):
    relation = "tags"
    prefix = "#"

    def rows(self):
        # Like the tag's page: a tag only hidden stories carry is a 404.
        return has_published(Tag, "tags")
