from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from articles.models import Article, Company, Person, Series, Tag, has_published


class StorySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    limit = 5000

    def items(self):
        return Article.objects.published().only("pk", "slug", "updated_at").order_by("pk")

    def lastmod(self, item):
        return item.updated_at


class CompanySitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return has_published(Company, "company").order_by("pk")

    def lastmod(self, item):
        return item.updated_at


class PersonSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return has_published(Person, "people").order_by("pk")


class TagSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return has_published(Tag, "tags").order_by("pk")


class SeriesSitemap(Sitemap):
    def items(self):
        return has_published(Series, "series").order_by("pk")


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
