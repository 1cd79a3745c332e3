"""The page a preview link opens: the story as readers will see it, under a 미리보기 banner, for
anyone holding the link and only while it is valid."""

from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_safe

from articles.models import PreviewLink
from articles.views import render_story


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
