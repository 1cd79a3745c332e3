"""Stored pictures that no row uses any more: a story's cover, a company's logo or a person's
photo that was replaced or cleared, or whose row was deleted, is removed from the storage, with
the renditions made of it (the folder `renditions/<name without extension>/`).

Only after the transaction that let go of it commits: until then a rollback may bring the old
row back, and it must find its picture. Removal is best effort: a file already gone or a
storage that fails is logged, never an error for the writer whose save already succeeded (a
file left behind costs disk, a missing one a broken picture).

Stories are written through articles/services.py, which calls these; companies and people are
edited anywhere, so receivers in articles/apps.py do.
"""

import logging

from django.core.files.storage import storages
from django.db import transaction

from articles import renditions

logger = logging.getLogger(__name__)

# The picture fields of each model that has them.
PICTURE_FIELDS = {"Article": ("cover_image",), "Company": ("logo",), "Person": ("photo",)}


def fields_of(model) -> tuple[str, ...]:
    return PICTURE_FIELDS.get(model.__name__, ())


def stored_names(instance, fields=None) -> dict[str, str]:
    """The picture names the table holds now for `instance` (field -> name; empty ones left
    out), read before a save replaces them. `fields`: only these (a save with update_fields)."""
    wanted = [name for name in fields_of(type(instance)) if fields is None or name in fields]
    if not wanted or instance._state.adding or instance.pk is None:
        return {}
    row = type(instance)._base_manager.filter(pk=instance.pk).values(*wanted).first() or {}
    return {field: name for field, name in row.items() if name}


def discard_replaced(instance, before: dict[str, str]) -> None:
    """After a save: remove the pictures of `before` that `instance` no longer holds."""
    names = [
        name for field, name in before.items() if (getattr(instance, field).name or "") != name
    ]
    discard_on_commit(names)


def discard_of(instance) -> None:
    """After a delete: remove every picture the row held."""
    discard_on_commit([getattr(instance, field).name for field in fields_of(type(instance))])


def discard_on_commit(names) -> None:
    names = [name for name in names if name]
    if names:
        transaction.on_commit(lambda: remove(names))


def remove(names) -> None:
    """Delete each stored picture and its renditions now."""
    storage = storages["default"]
    for name in names:
        try:
            storage.delete(name)
            renditions.delete_folder(name, storage)
        except Exception:  # the save is done: a leftover file is only logged
            logger.warning("could not remove the replaced picture %s", name, exc_info=True)


# Receivers for the models edited outside articles/services.py (articles/apps.py).


def remember_stored(sender, instance, update_fields=None, **kwargs) -> None:
    instance._stored_pictures = stored_names(instance, update_fields)


def discard_after_save(sender, instance, **kwargs) -> None:
    discard_replaced(instance, getattr(instance, "_stored_pictures", {}))
    instance._stored_pictures = {}


def discard_after_delete(sender, instance, **kwargs) -> None:
    discard_of(instance)
