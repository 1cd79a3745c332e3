"""The sitemap: an index at /sitemap.xml naming one file per section (/sitemap-<section>.xml),
and one per further page of a section longer than its limit, so that a crawler reaches every
story however many there are (5,000 a file). Its addresses are the site's public ones
(settings.SITE_URL), never the Host or the scheme a request names: a host that ALLOWED_HOSTS
lets in but that is not the site's own must never reach a crawler."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import sitemaps
from django.contrib.sitemaps.views import SitemapIndexItem
from django.template.response import TemplateResponse
from django.urls import reverse

from articles.models import Article, Company, Person, Series, Tag, has_published


def site_origin() -> tuple[str, str]:
    """SITE_URL's scheme and host (with its port)."""
    site = urlsplit(settings.SITE_URL)
    return site.scheme, site.netloc


class Sitemap(sitemaps.Sitemap):
    def get_protocol(self, protocol=None):
        return site_origin()[0]

    def get_domain(self, site=None):
        return site_origin()[1]


class StorySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    limit = 5000

    def items(self):
        return Article.objects.published().only("pk", "slug", "updated_at").order_by("pk")

    def lastmod(self, item):
        return item.updated_at


class WithStoriesSitemap(Sitemap):
    """The pages of rows that published stories reach through `relation` (the others have
    no page worth a crawler's visit)."""

    model = None
    relation = ""

    def items(self):
        return has_published(self.model, self.relation).order_by("pk")


class CompanySitemap(WithStoriesSitemap):
    changefreq = "weekly"
    model, relation = Company, "company"

    def lastmod(self, item):
        return item.updated_at


class PersonSitemap(WithStoriesSitemap):
    changefreq = "monthly"
    model, relation = Person, "people"


class TagSitemap(WithStoriesSitemap):
    changefreq = "weekly"
    model, relation = Tag, "tags"


class SeriesSitemap(WithStoriesSitemap):
    model, relation = Series, "series"


class PageSitemap(Sitemap):
    priority = 1.0
    changefreq = "daily"

    def items(self):
        return [
            "articles:home",
            "articles:interviews",
            "articles:feed",
            "articles:news",
            "articles:companies",
            "articles:people",
            "articles:tags",
        ]

    def location(self, item):
        return reverse(item)


SITEMAPS = {
    "pages": PageSitemap,
    "stories": StorySitemap,
    "companies": CompanySitemap,
    "people": PersonSitemap,
    "tags": TagSitemap,
    "series": SeriesSitemap,
}


def index(request):
    """The sitemap index. Django's own names the request's Host; this one the site's address.
    It leaves out lastmod, which would read every story (each file carries its own)."""
    scheme, host = site_origin()
    entries = []
    for section, kind in SITEMAPS.items():
        path = reverse("sitemap-section", kwargs={"section": section})
        address = f"{scheme}://{host}{path}"
        pages = kind().paginator.num_pages
        entries.append(SitemapIndexItem(address))
        entries += [SitemapIndexItem(f"{address}?p={page}") for page in range(2, pages + 1)]
    return TemplateResponse(
        request, "sitemap_index.xml", {"sitemaps": entries}, content_type="application/xml"
    )
