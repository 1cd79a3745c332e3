"""On PostgreSQL the rate limits' counters are an UNLOGGED table: a request with a token no
longer writes WAL and waits for it to be flushed (0.45 ms of a token's API read on the server
against 0.24). A counter lives for a minute; after a crash the server empties the table, which
gives each client a fresh window, and a standby has none (the primary counts every request)."""

from django.db import migrations


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tokens_throttlecounter SET UNLOGGED")


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tokens_throttlecounter SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0004_idempotent_request"),
    ]

    operations = [migrations.RunPython(unlogged, logged)]
