"""A story's state at a moment: the one definition, written once as database conditions.

The five states editors speak of (초안, 검토 중, 예약, 발행, 내림) follow from three stored fields
(status, published_at, unpublish_at) and the time: a scheduled story becomes 발행 when its
moment passes, with no job to run. state_conditions() is the rule. The database applies it
(ArticleQuerySet.published(), in_state(), with_state()); an instance in memory is tested
against the very same conditions by holds(), so the admin's filter, the templates, the API and
the query that lists published stories cannot disagree.
"""

import operator

from django.db import models
from django.db.models import Q

from articles.models.common import Status

__all__ = ["State"]


class State(models.TextChoices):
    DRAFT = "draft", "초안"
    REVIEW = "review", "검토 중"
    SCHEDULED = "scheduled", "예약"
    PUBLISHED = "published", "발행"
    UNPUBLISHED = "unpublished", "내림"


def state_conditions(now) -> dict[State, Q]:
    """Each state as the condition a story's row meets at `now`; exactly one holds for a
    saved story (the table's constraints give a published story a publication time before
    any unpublish time)."""
    on = Q(status=Status.PUBLISHED)
    not_withdrawn = Q(unpublish_at__isnull=True) | Q(unpublish_at__gt=now)
    return {
        State.DRAFT: Q(status=Status.DRAFT),
        State.REVIEW: Q(status=Status.REVIEW),
        State.SCHEDULED: on & Q(published_at__gt=now) & not_withdrawn,
        State.PUBLISHED: on & Q(published_at__lte=now) & not_withdrawn,
        State.UNPUBLISHED: on & Q(unpublish_at__lte=now),
    }


COMPARISONS = {"exact": operator.eq, "lte": operator.le, "gt": operator.gt}


def holds(condition, obj) -> bool | None:
    """Whether `obj` meets `condition` (a Q of exact, lte, gt and isnull lookups) the way SQL
    decides it: None when a NULL was compared ("unknown"), which a WHERE treats as false."""
    if isinstance(condition, Q):
        results = [holds(child, obj) for child in condition.children]
        # One false makes an AND false, one true makes an OR true; else a NULL makes it unknown.
        decisive = condition.connector == Q.OR
        if decisive in results:
            value = decisive
        elif None in results:
            value = None
        else:
            value = not decisive
        return value if value is None or not condition.negated else not value
    lookup, expected = condition
    name, _, comparison = lookup.partition("__")
    actual = getattr(obj, name)
    if comparison == "isnull":
        return (actual is None) == expected
    if actual is None:
        return None
    return COMPARISONS[comparison or "exact"](actual, expected)
