"""Stories rendered before table alignment became a class (an inline style, which the site's
Content-Security-Policy refuses) or with http:// pictures are rendered again."""

from django.db import migrations
from django.db.models import Q


def rerender(apps, schema_editor):
    from articles.rendering import render_markdown

    Article = apps.get_model("articles", "Article")
    stale = Article.objects.filter(
        Q(body_html__contains='style="text-align') | Q(body_html__contains='src="http:')
    )
    for article in stale.only("pk", "body").iterator():
        Article.objects.filter(pk=article.pk).update(body_html=render_markdown(article.body))


class Migration(migrations.Migration):
    dependencies = [("articles", "0005_listing_indexes")]

    operations = [migrations.RunPython(rerender, migrations.RunPython.noop)]
