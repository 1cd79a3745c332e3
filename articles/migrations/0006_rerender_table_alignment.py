"""Stories rendered before table alignment became a class (an inline style, which the site's
Content-Security-Policy refuses) or with http:// pictures get those two things fixed in their
stored HTML, as the renderer of that day wrote them (frozen here, not imported)."""

import re

from django.db import migrations
from django.db.models import Q

CELL_ALIGN = re.compile(r'<(th|td) style="text-align:(left|center|right)">')
# The renderer dropped an http:// picture's address (the browser would block it).
HTTP_PICTURE = re.compile(r'(<img\b[^>]*?)\s+src="http:[^"]*"', re.IGNORECASE)


def rerender(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    stale = Article.objects.filter(
        Q(body_html__contains='style="text-align') | Q(body_html__contains='src="http:')
    )
    for article in stale.only("pk", "body_html").iterator():
        html = CELL_ALIGN.sub(r'<\1 class="align-\2">', article.body_html)
        Article.objects.filter(pk=article.pk).update(body_html=HTTP_PICTURE.sub(r"\1", html))


class Migration(migrations.Migration):
    dependencies = [("articles", "0005_listing_indexes")]

    operations = [migrations.RunPython(rerender, migrations.RunPython.noop)]
