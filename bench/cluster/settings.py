"""The site's settings, with STATIC_ROOT taken from the environment: culture/settings.py fixes
it inside the checkout, and the run collects static files into its own temporary folder."""

import os
from pathlib import Path

from culture.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["CLUSTER_STATIC_ROOT"])
