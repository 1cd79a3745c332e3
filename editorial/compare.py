"""Two versions of a story side by side, as the admin's compare page shows them: the fields that
differ, in words, and a line diff of the Markdown body."""

import difflib
from dataclasses import dataclass

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from articles.models import Article, Person, Revision, Tag
from articles.revisions import DATETIME_FIELDS, FOREIGN_KEYS, RELATION_FIELDS, SCALAR_FIELDS


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class DiffLine:
    kind: str  # "added", "removed", "context" or "hunk"
    text: str


def compare(older: Revision, newer: Revision) -> tuple[list[FieldChange], list[DiffLine]]:
    """The fields that differ between two revisions, in words, and a line diff of the body."""
    a, b = older.snapshot, newer.snapshot
    names = {}
    for field, model in (*FOREIGN_KEYS.items(), ("tags", Tag), ("people", Person)):
        ids = set()
        for data in (a, b):
            value = data.get(field)
            ids.update(value if isinstance(value, list) else [value] if value else [])
        names[field] = {obj.pk: str(obj) for obj in model.objects.filter(pk__in=ids)}
    user_model = Article.authors.field.related_model
    author_ids = set(a.get("authors", [])) | set(b.get("authors", []))
    names["authors"] = {
        user.pk: user.get_username() for user in user_model.objects.filter(pk__in=author_ids)
    }
    changes = []
    for name in (*SCALAR_FIELDS, *RELATION_FIELDS):
        if name == "body" or a.get(name) == b.get(name):
            continue
        label = str(Article._meta.get_field(name).verbose_name)
        changes.append(
            FieldChange(label, shown(name, a.get(name), names), shown(name, b.get(name), names))
        )
    return changes, body_diff(a.get("body", ""), b.get("body", ""))


def shown(name: str, value, names: dict) -> str:
    """A snapshot value as an editor reads it."""
    if value in (None, "", []):
        return "—"
    field = Article._meta.get_field(name)
    if name in names:
        values = value if isinstance(value, list) else [value]
        return ", ".join(names[name].get(pk, f"(지워짐 #{pk})") for pk in values)
    if name in DATETIME_FIELDS:
        moment = parse_datetime(value)
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "예" if value else "아니요"
    return str(value)


def body_diff(before: str, after: str, context: int = 3) -> list[DiffLine]:
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), n=context, lineterm="")
    result = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            result.append(DiffLine("hunk", "…"))
        elif line.startswith("+"):
            result.append(DiffLine("added", line[1:]))
        elif line.startswith("-"):
            result.append(DiffLine("removed", line[1:]))
        else:
            result.append(DiffLine("context", line[1:]))
    return result
