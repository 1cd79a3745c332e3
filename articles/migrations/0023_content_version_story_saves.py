"""The content counter also counts the story saves among its writes (ContentVersion.story_saves),
with a database default: a host still running the code before it inserts the counter's row
without the column."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0022_company_listing_holds_unpublish"),
    ]

    operations = [
        migrations.AddField(
            model_name="contentversion",
            name="story_saves",
            field=models.PositiveBigIntegerField(
                db_default=0, default=0, verbose_name="스토리 저장 수"
            ),
        ),
    ]
