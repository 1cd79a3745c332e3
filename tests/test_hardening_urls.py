"""Absolute addresses the site hands out: the scheme only a trusted proxy may tell, and the
host and scheme of feeds, the sitemap and robots.txt always the site's own (SITE_URL)."""

import re

import pytest

from tests.factories import ArticleFactory, CompanyFactory, TagFactory

pytestmark = pytest.mark.django_db

LB = "10.0.0.5"
SPOOFS = [
    {"HTTP_X_FORWARDED_PROTO": "https"},
    {"HTTP_X_FORWARDED_SSL": "on"},
    {"HTTP_X_FORWARDED_PROTOCOL": "ssl"},
]


@pytest.fixture
def behind_a_balancer(settings):
    """As settings.py reads TRUSTED_PROXY_COUNT=1 FORWARDED_ALLOW_IPS=10.0.0.0/24."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.0/24"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def story_url_in_api(client, story, **headers):
    response = client.get("/api/v1/stories", **headers)
    assert response.status_code == 200
    [item] = [item for item in response.json()["items"] if item["id"] == story.pk]
    return item["url"]


@pytest.mark.parametrize("spoof", SPOOFS)
def test_a_client_cannot_make_the_api_urls_https(client, spoof):
    story = ArticleFactory()
    url = story_url_in_api(client, story, REMOTE_ADDR="198.51.100.1", **spoof)
    assert url == f"http://testserver{story.get_absolute_url()}"


@pytest.mark.parametrize("spoof", SPOOFS)
def test_behind_a_proxy_a_peer_it_does_not_name_cannot_make_the_api_urls_https(
    client, behind_a_balancer, spoof
):
    story = ArticleFactory()
    url = story_url_in_api(client, story, REMOTE_ADDR="198.51.100.1", **spoof)
    assert url.startswith("http://testserver/")


def test_the_balancer_still_tells_the_scheme(client, behind_a_balancer):
    story = ArticleFactory()
    url = story_url_in_api(client, story, REMOTE_ADDR=LB, HTTP_X_FORWARDED_PROTO="https")
    assert url.startswith("https://testserver")
    # Only the header Django reads counts, from the balancer too.
    url = story_url_in_api(client, story, REMOTE_ADDR=LB, HTTP_X_FORWARDED_SSL="on")
    assert url.startswith("http://testserver/")


@pytest.fixture
def site(settings):
    """A canonical origin, and a second host that ALLOWED_HOSTS lets in."""
    settings.SITE_URL = "https://culture.example"
    settings.ALLOWED_HOSTS = ["culture.example", "other.example"]
    company = CompanyFactory(slug="spoqa")
    tag = TagFactory(name="개발팀")
    ArticleFactory(company=company, tags=[tag])
    return {"company": company.slug, "tag": tag.slug}


def addresses(content: bytes) -> list[str]:
    return re.findall(r'(?:href="|<loc>|<id>|Sitemap: )([^"<\s]+)', content.decode())


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/atom/",
        "/feeds/atom/news/",
        "/companies/{company}/atom/",
        "/tags/{tag}/atom/",
        "/sitemap.xml",
        "/sitemap-stories.xml",
        "/robots.txt",
    ],
)
@pytest.mark.parametrize("spoof", [{}, *SPOOFS])
def test_feeds_and_the_sitemap_name_only_the_sites_own_host_and_scheme(client, site, path, spoof):
    response = client.get(
        path.format(**site), HTTP_HOST="other.example", REMOTE_ADDR="198.51.100.1", **spoof
    )

    assert response.status_code == 200
    assert b"other.example" not in response.content
    found = [a for a in addresses(response.content) if "://" in a]
    assert found
    assert all(a.startswith("https://culture.example/") for a in found), found
