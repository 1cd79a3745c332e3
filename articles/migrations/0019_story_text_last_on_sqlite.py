"""SQLite only: the story's text (body, body_html) moves to the end of the row.

SQLite keeps a row's columns in order on its page and spills what does not fit onto overflow
pages; a column stored after a long one is read by walking the long one's overflow chain. The
text was the sixth and seventh of thirty columns, so every read of a story's state, company or
cover (cards, lists, published()'s test) walked through it: six cards' rows at 100,000 stories
took 0.67 ms, 0.08 ms for the columns before the text. The table is rebuilt the way Django
rebuilds it for an altered column (the altered columns go last), with its data, indexes and
keys. PostgreSQL moves long values out of the row itself (TOAST): nothing to do there.

A later migration that rebuilds this table on SQLite (any AlterField of Article) would put the
text back in its place: tests/test_models.py checks it stays last.
"""

from django.db import migrations


def text_last(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    Article = apps.get_model("articles", "Article")
    moved = []
    for name in ("body", "body_html"):
        field = Article._meta.get_field(name)
        # A new field object sorts after every existing one (fields keep the order in which
        # they were made), as an altered field does.
        again = field.clone()
        again.set_attributes_from_name(name)
        moved.append((field, again))
    schema_editor._remake_table(Article, alter_fields=moved)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0018_state_by_id_index"),
    ]

    operations = [
        migrations.RunPython(text_last, migrations.RunPython.noop, elidable=False),
    ]
