"""The site's settings with the benchmark's URLs (bench/urls.py): the site's own fixed 5 KB
view and the content version's bump. Used by bench/pages.py and bench/seed.py only."""

from culture.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
