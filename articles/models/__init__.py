"""The story hub's content, one module per concern; everything is importable from here."""

from articles.models import (
    cards,
    collections,
    common,
    entities,
    ordered,
    rollup,
    search_document,
    states,
    stats,
    stories,
    versioning,
    workflow,
)
from articles.models.cards import *  # noqa: F403
from articles.models.collections import *  # noqa: F403
from articles.models.common import *  # noqa: F403
from articles.models.entities import *  # noqa: F403
from articles.models.ordered import *  # noqa: F403
from articles.models.rollup import *  # noqa: F403
from articles.models.search_document import *  # noqa: F403
from articles.models.states import *  # noqa: F403
from articles.models.stats import *  # noqa: F403
from articles.models.stories import *  # noqa: F403
from articles.models.versioning import *  # noqa: F403
from articles.models.workflow import *  # noqa: F403

# What each module exports, declared next to it.
__all__ = [
    *cards.__all__,
    *collections.__all__,
    *common.__all__,
    *entities.__all__,
    *ordered.__all__,
    *rollup.__all__,
    *search_document.__all__,
    *states.__all__,
    *stats.__all__,
    *stories.__all__,
    *versioning.__all__,
    *workflow.__all__,
]
