"""A story read by the API carries its request's rate-limit count in its own statement on
PostgreSQL (api/throttling.py CarriedRateThrottle, read_counted()): one round trip where
there were two, the count as exact as ever, 429 before anything is rendered, and every other
way out of the operation (a 404, a 422, a kept answer) still counted. On SQLite the same
requests are counted before the operation, as every other read is."""

from collections import Counter

import pytest
from django.core.cache import caches
from django.db import OperationalError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api import throttling
from api.throttling import StoreWarnings
from articles.models.querysets import ArticleQuerySet
from articles.prepared import Along
from culture.env import parse_rate
from tests import factories as make
from tests.api_support import API, error_of
from tests.test_throttling import THREADS, all_at_once
from tokens.models import ThrottleCounter

ON_POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def limit(settings):
    """A read limit of `count` a minute, the answers kept by no one (each read is rendered)."""

    def set_to(count: int) -> None:
        settings.API_THROTTLE_RATES = {"read": parse_rate(f"{count}/min"), "write": None}

    caches["answers"].clear()
    return set_to


def counted() -> int:
    return sum(ThrottleCounter.objects.values_list("count", flat=True))


def statements(response_of) -> tuple:
    with CaptureQueriesContext(connection) as captured:
        response = response_of()
    return response, [query["sql"] for query in captured.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_a_story_read_sends_its_count_along_its_own_statement(client, limit):
    limit(100)
    story = make.ArticleFactory()

    response, sent = statements(
        lambda: client.get(f"{API}/stories/{story.pk}", HTTP_AUTHORIZATION="Bearer none")
    )

    assert response.status_code == 200
    assert response.json()["id"] == story.pk
    assert counted() == 1
    upserts = [sql for sql in sent if 'INSERT INTO "tokens_throttlecounter"' in sql]
    if ON_POSTGRES:
        # No statement of its own: the count rides the story's.
        [carrier] = upserts
        assert carrier.startswith("WITH own AS (")
        assert "counted AS (INSERT INTO" in carrier
        assert '"articles_article"' in carrier
    else:
        [upsert] = upserts
        assert upsert.startswith("INSERT INTO")


@pytest.mark.django_db(transaction=True)
def test_a_story_read_over_the_limit_is_refused_with_the_rest_of_the_window(client, limit):
    limit(2)
    stories = make.ArticleFactory.create_batch(3)

    responses = [client.get(f"{API}/stories/{story.pk}") for story in stories]

    assert [response.status_code for response in responses] == [200, 200, 429]
    refused = error_of(responses[2], 429)
    assert "body_html" not in refused
    assert 1 <= int(responses[2]["Retry-After"]) <= 60
    assert counted() == 3


@pytest.mark.django_db(transaction=True)
def test_a_story_read_is_counted_however_it_ends(client, limit):
    limit(100)
    story = make.ArticleFactory()

    missing = client.get(f"{API}/stories/{story.pk + 1000}")
    unknown_parameter = client.get(f"{API}/stories/{story.pk}?page=2")
    by_slug = client.get(f"{API}/stories/by-slug/{story.slug}")
    kept = [client.get(f"{API}/stories/{story.pk}") for _ in range(2)]

    assert missing.status_code == 404
    assert unknown_parameter.status_code in (400, 422)
    assert by_slug.status_code == 200
    assert [response["X-Cache"] for response in kept] == ["miss", "hit"]
    assert counted() == 5


@pytest.mark.django_db(transaction=True)
def test_answers_past_the_limit_are_refused_whichever_way_they_end(client, limit):
    limit(1)
    story = make.ArticleFactory()
    client.get(f"{API}/stories/{story.pk}")

    # A kept answer, a missing story and a bad parameter: 429, not what the operation said.
    responses = [
        client.get(f"{API}/stories/{story.pk}"),
        client.get(f"{API}/stories/{story.pk + 1000}"),
        client.get(f"{API}/stories/{story.pk}?page=2"),
    ]

    assert [response.status_code for response in responses] == [429, 429, 429]
    assert counted() == 4


@pytest.mark.django_db(transaction=True)
def test_a_limit_lets_exactly_that_many_simultaneous_story_reads_through(
    limit, unbounded_pool_queue
):
    limit(10)
    story = make.ArticleFactory()

    statuses = all_at_once(lambda: Client().get(f"{API}/stories/{story.pk}").status_code, each=3)

    assert Counter(statuses) == {200: 10, 429: 3 * THREADS - 10}
    assert counted() == 3 * THREADS


@pytest.mark.django_db(transaction=True)
def test_a_count_that_cannot_be_made_lets_the_story_read_through(client, limit, monkeypatch):
    # The counters' statement fails: so does the story's it went along, and the count made
    # alone after it. The story is read again without it, as any uncountable request is.
    limit(1)
    monkeypatch.setattr(throttling, "_upsert_sql", lambda: "SELECT no_such_column FROM nowhere")
    monkeypatch.setattr(throttling, "store_warnings", StoreWarnings())
    story = make.ArticleFactory()

    responses = [
        client.get(f"{API}/stories/{story.pk}", HTTP_AUTHORIZATION="Bearer none") for _ in range(2)
    ]

    assert [response.status_code for response in responses] == [200, 200]
    assert responses[1].json()["id"] == story.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_count_is_made_before_the_operation(client, limit):
    # A failed statement would end the transaction; the count goes alone, in its savepoint.
    limit(100)
    story = make.ArticleFactory()

    with transaction.atomic():
        response, sent = statements(lambda: client.get(f"{API}/stories/{story.pk}"))

    assert response.status_code == 200
    [upsert] = [sql for sql in sent if 'INSERT INTO "tokens_throttlecounter"' in sql]
    assert upsert.startswith("INSERT INTO")
    assert counted() == 1


@pytest.mark.django_db(transaction=True)
def test_a_story_read_that_fails_on_its_own_is_counted_once_and_fails(limit, monkeypatch):
    # The story's statement fails for a reason of its own (here, a timeout): the count it
    # carried went with it, so it is made alone, and the failure is the answer.
    limit(100)
    story = make.ArticleFactory()

    def timing_out(self, pk, along, now=None):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(ArticleQuerySet, "published_story_with", timing_out)

    response = Client(raise_request_exception=False).get(f"{API}/stories/{story.pk}")

    assert response.status_code in (500, 503)
    assert counted() == 1


@pytest.mark.django_db(transaction=True)
def test_a_count_that_finds_no_column_to_come_back_in_goes_alone(client, limit, monkeypatch):
    # A read along a statement needs a free column of its kind (articles/prepared.py): one
    # that finds none is refused before anything is sent, and the count is made by itself.
    limit(1)
    monkeypatch.setattr(
        throttling.Carried,
        "along",
        lambda self: Along((("1", "json"),) * 9, "FROM (SELECT 1) AS one"),
    )
    story = make.ArticleFactory()

    responses = [client.get(f"{API}/stories/{story.pk}") for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 429]
    assert counted() == 2
