"""gunicorn.conf.py without its fork hooks: what a configuration without them does when the
pool is opened before the fork (the benchmark's "preload" case)."""

import runpy
from pathlib import Path

_settings = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
globals().update(
    {
        name: value
        for name, value in _settings.items()
        if name not in {"pre_fork", "post_fork"} and not name.startswith("__")
    }
)
