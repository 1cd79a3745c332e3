"""Revision and PreviewLink move to the articles app (the domain), which records them in its
migration 0007. Their tables stay as they are: only the migration state changes here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("editorial", "0002_roles")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="PreviewLink"),
                migrations.DeleteModel(name="Revision"),
            ],
            database_operations=[],
        )
    ]
