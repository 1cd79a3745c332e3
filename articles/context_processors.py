from django.conf import settings


def site(request):
    """Values every page template needs: the site's name and public origin."""
    return {"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL}
