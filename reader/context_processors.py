from django.conf import settings

from articles.search import MAX_QUERY_LENGTH


def site(request):
    """Values every page template needs: the site's name and public origin, and the longest
    search query (the header's search box and the search page's)."""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "SEARCH_MAX_LENGTH": MAX_QUERY_LENGTH,
    }
