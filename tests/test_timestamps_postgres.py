"""timestamptz columns read through psycopg's own parser (ops/postgresql/loaders.py): the
values Django's loader gives, the same tzinfo, naive ones without USE_TZ."""

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.test import override_settings

from ops.postgresql.loaders import TIMESTAMPTZ_OID, TzLoader
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Text as PostgreSQL writes timestamptz in a UTC session: microseconds, the epoch, far years.
VALUES = [
    "2026-12-06 04:32:33.123456+00",
    "2026-01-01 00:00:00+00",
    "1970-01-01 00:00:00+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2024-02-29 12:00:00.5+00",
]


def read(register=None, values=VALUES):
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if register is not None:
            register(raw)
        raw.execute("SELECT " + ", ".join(f"'{text}'::timestamptz" for text in values))
        return raw.fetchone()


def test_the_site_s_connections_read_timestamptz_with_the_fast_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, 0)
    assert issubclass(loader, TzLoader)
    assert loader.timezone is connection.timezone is datetime.UTC


def test_values_are_django_s_to_the_microsecond_and_the_tzinfo():
    ours = read()
    django = read(lambda cursor: register_tzloader(connection.timezone, cursor))
    assert ours == django
    assert [value.tzinfo for value in ours] == [value.tzinfo for value in django]
    assert all(value.tzinfo is datetime.UTC for value in ours)
    assert ours[0] == datetime.datetime(2026, 12, 6, 4, 32, 33, 123456, tzinfo=datetime.UTC)


def test_in_a_session_of_another_time_zone_too_they_are_what_django_reads():
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Seoul'")
    # (The end of year 9999 is in year 10000 in Seoul: neither loader reads it.)
    values = [text for text in VALUES if not text.startswith("9999")]
    try:
        ours = read(values=values)
        django = read(lambda cursor: register_tzloader(connection.timezone, cursor), values)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
    assert ours == django
    assert [value.tzinfo for value in ours] == [value.tzinfo for value in django]


def test_models_read_their_times_as_they_were_saved():
    story = ArticleFactory()
    saved = story.published_at
    read_back = type(story).objects.get(pk=story.pk)
    assert read_back.published_at == saved
    assert read_back.published_at.tzinfo is datetime.UTC


@override_settings(USE_TZ=False)
def test_without_use_tz_times_are_naive_as_django_reads_them():
    with connection.cursor() as cursor:
        cursor.execute("SELECT '2026-12-06 04:32:33+00'::timestamptz")
        (value,) = cursor.fetchone()
    assert value.tzinfo is None
