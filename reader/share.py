"""Link previews: what a page tells OpenGraph and Twitter when its address is shared, and the
addresses of the share cards (articles/sharecards.py) the previews show.

Every reader page's view passes a `share` (ShareTags) that reader/markup.py share_tags()
turns into the canonical link and the og:/twitter: tags (an error page passes none: it has
nothing to share, and must not echo the address asked for). Every address in them is absolute and built from
settings.SITE_URL, never from the request's Host header, which a client chooses.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import get_language

from articles import pictures, sharecards
from articles.models import Article
from articles.models.common import url_context, url_of_key

logger = logging.getLogger("reader.share")

# A card whose address carries its current fingerprint never changes: cached for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
# Asked for without it (or with an old one): the current card, kept a short while.
CURRENT = "public, max-age=300"


@dataclass(frozen=True)
class ShareImage:
    url: str
    alt: str
    width: int | None = None
    height: int | None = None
    # A wide picture (a cover, a card) gets Twitter's large card; a logo or a photo the small one.
    wide: bool = True


@dataclass(frozen=True)
class ShareTags:
    title: str
    description: str
    url: str
    image: ShareImage
    type: str = "website"
    # The address search engines should index; the page's own unless it was published elsewhere.
    canonical: str = ""
    published_time: date | datetime | None = None
    modified_time: datetime | None = None
    tags: tuple[str, ...] = ()

    @property
    def canonical_url(self) -> str:
        return self.canonical or self.url

    @property
    def twitter_card(self) -> str:
        return "summary_large_image" if self.image.wide else "summary"


def absolute(path: str) -> str:
    """An address on SITE_URL; one that is already absolute (media in object storage) as is."""
    return path if urlsplit(path).scheme else settings.SITE_URL + path


def card_image(url_path: str, card: sharecards.Card, alt: str) -> ShareImage:
    return ShareImage(
        url=absolute(f"{url_path}?{urlencode({'v': card.fingerprint})}"),
        alt=alt,
        width=sharecards.WIDTH,
        height=sharecards.HEIGHT,
    )


def site_image() -> ShareImage:
    """The site's own card, for pages without a picture of their own. It is the same for
    every page (its address, its fingerprint and its words come from the settings), so it
    is made once per URL configuration and language (about 60 us a page: a reverse(), the
    card's fingerprint, the labels' translations) and again after a setting changes."""
    key = (*url_context(), get_language())
    image = _site_images.get(key)
    if image is None:
        image = _site_images.setdefault(
            key,
            card_image(
                reverse("articles:share-site"),
                sharecards.site_card(),
                f"{settings.SITE_NAME} — {sharecards.SITE_DESCRIPTION}",
            ),
        )
    return image


_site_images: dict[tuple, ShareImage] = {}


def forget_site_image(**kwargs) -> None:
    _site_images.clear()


setting_changed.connect(forget_site_image)


def share_image(article: Article) -> ShareImage:
    """The picture a shared story shows: its cover, or else its generated card."""
    cover = pictures.share_image_url(article)
    if cover:
        return ShareImage(url=absolute(cover), alt=article.cover_alt or article.title)
    card = sharecards.story_card(article)
    alt = " · ".join(part for part in (article.title, card.footer, card.label) if part)
    return card_image(url_of_key("articles:share-story", article.pk), card, alt)


def picture_image(picture, alt: str) -> ShareImage:
    """A company's logo or a person's photo (a small card), or the site's card without one."""
    if not picture:
        return site_image()
    return ShareImage(url=absolute(picture.url), alt=alt, wide=False)


def page_tags(request, title, description, *, page=None, keep=(), image=None) -> ShareTags:
    """Tags for a list or index page. Its address is this path on SITE_URL with only the query
    values that choose what the page shows (`keep`) and its page number past the first."""
    query = {name: request.GET[name] for name in keep if request.GET.get(name)}
    if page is not None and page.number > 1:
        query["page"] = page.number
    url = absolute(request.path) + (f"?{urlencode(query)}" if query else "")
    return ShareTags(title=title, description=description, url=url, image=image or site_image())


def site_tags(request) -> ShareTags:
    """The site itself: the home page."""
    return page_tags(request, settings.SITE_NAME, sharecards.SITE_DESCRIPTION)


def story_tags(article: Article, tags, image: ShareImage) -> ShareTags:
    """A story's link-preview tags (`image`: its share_image())."""
    url = absolute(article.get_absolute_url())
    return ShareTags(
        title=article.title,
        description=article.description,
        url=url,
        canonical=article.original_url or url,
        image=image,
        type="article",
        published_time=article.shown_date,  # None for an undated import: no date invented
        modified_time=article.updated_at,
        tags=tuple(tag.name for tag in tags),
    )


# The cards' addresses ----------------------------------------------------------------------


def story_card(request, pk):
    """A published story's card (a draft, or a story readers cannot see now, is a 404)."""
    article = Article.objects.published().select_related("company").filter(pk=pk).first()
    if article is None:
        raise Http404("스토리가 없습니다.")
    card = sharecards.story_card(article)
    return card_response(request, card, lambda: sharecards.story_png(article))


def site_card(request):
    return card_response(request, sharecards.site_card(), sharecards.site_png)


def card_response(request, card, png) -> HttpResponse:
    try:
        data = png()
    except sharecards.FontMissing as error:
        logger.error("share card not drawn: %s", error)
        response = HttpResponse(
            f"공유 이미지를 만들 수 없습니다. {error}",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Cache-Control"] = "no-store"
        return response
    response = HttpResponse(data, content_type="image/png")
    current = request.GET.get("v") == card.fingerprint
    response["Cache-Control"] = IMMUTABLE if current else CURRENT
    response["ETag"] = f'"{card.fingerprint}"'
    return response
