"""What the culture.database tests share: a DATABASES entry from made-up environment values,
and the message of a refusal."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from culture.database import database_config

BASE_DIR = Path("/srv/culture")
PG_URL = "postgres://culture:s3cret@db.example.com:5433/culture_db"


def config(**env: str) -> dict:
    return database_config(env, base_dir=BASE_DIR)


def pg(**env: str) -> dict:
    return config(DATABASE_URL=PG_URL, **env)


def refusal(**env: str) -> str:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        config(**env)
    return str(excinfo.value)
