"""What a title, a name, a slug or a tag may hold, said once for the model fields (and read by
the admin's forms, the API and the importer through them).

- No bidirectional control characters: they reorder the text around them on every card and
  page that shows it (a title could appear to say something else).
- Not made only of characters nobody sees (zero-width spaces, joiners, Hangul fillers, marks
  with nothing to sit on): an invisible story or tag.
- Slugs stored and looked up in one Unicode form, NFC: macOS and some clients send Korean in
  NFD (ㅎ+ㅏ+ㄴ for 한), which would otherwise be a different slug that looks the same.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import cached_property

BIDI_CONTROLS = frozenset(
    "\u061c"  # ARABIC LETTER MARK
    "\u200e\u200f"  # LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, overrides and their end
    "\u2066\u2067\u2068\u2069"  # isolates and their end
)
# Letters by category that draw nothing: Hangul fillers, the braille blank, and the like.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
# Formats (zero-width space and joiners, BOM…), controls, separators and marks.
INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me"})


def _shown(character: str) -> bool:
    return (
        character not in BLANK_LETTERS
        and not character.isspace()
        and unicodedata.category(character) not in INVISIBLE_CATEGORIES
    )


def check_visible_text(value: str) -> None:
    """Refuse bidirectional controls and a value without a single visible character."""
    controls = sorted({character for character in value if character in BIDI_CONTROLS})
    if controls:
        raise ValidationError(
            "글의 방향을 바꾸는 보이지 않는 문자(%(codes)s)는 쓸 수 없습니다. 지우고 다시 "
            "적어 주세요.",
            code="bidi_control",
            params={"codes": ", ".join(f"U+{ord(c):04X}" for c in controls)},
        )
    if value and not any(_shown(character) for character in value):
        raise ValidationError(
            "보이는 글자가 하나도 없습니다(폭이 없는 문자나 공백만 있습니다). 읽을 수 있는 "
            "글자로 적어 주세요.",
            code="invisible",
        )


def nfc(value):
    """`value` in Unicode NFC (anything but a string as it is)."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


class NameField(models.CharField):
    """A title or a name: a CharField that refuses what check_visible_text refuses."""

    @cached_property
    def validators(self):
        return [*super().validators, check_visible_text]

    def deconstruct(self):
        # Validators do nothing in a migration: migrations see Django's CharField.
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


class SlugField(models.SlugField):
    """A readable slug (Korean letters allowed) kept in NFC: what a form or the API reads,
    what is saved (whoever saves: the admin, the API, the importer, a script) and what a
    lookup compares (`filter(slug=…)`, `slug__in`), so an NFD slug finds its row."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_unicode", True)
        super().__init__(*args, **kwargs)

    @cached_property
    def validators(self):
        return [*super().validators, check_visible_text]

    def to_python(self, value):
        return nfc(super().to_python(value))

    def get_prep_value(self, value):
        return nfc(super().get_prep_value(value))

    def pre_save(self, model_instance, add):
        value = nfc(super().pre_save(model_instance, add))
        setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        # The column is Django's SlugField's: migrations see that class, so changing to this
        # one rebuilds no table.
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.SlugField", args, kwargs
