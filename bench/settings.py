"""The site's settings plus one URL: a bare view that returns a fixed 5 KB page.

The bare view goes through the same middleware, worker and server as every real page, so the
CPU it costs is the ceiling a page is compared with (bench/README.md).
"""

from culture.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
