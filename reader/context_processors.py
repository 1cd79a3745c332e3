from django.conf import settings

from articles.search import MAX_QUERY_LENGTH
from articles.sharecards import SITE_DESCRIPTION


def site(request):
    """Values every page template needs: the site's name, description and public origin, and
    the longest search query (the header's search box and the search page's)."""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "SITE_DESCRIPTION": SITE_DESCRIPTION,
        "SEARCH_MAX_LENGTH": MAX_QUERY_LENGTH,
    }
