"""Share cards: the 1200×630 picture a link preview shows for a story without a cover, and the
site's own card for pages without a picture of their own.

A card is drawn with Pillow in Noto Sans CJK (Debian's fonts-noto-cjk; settings.SHARE_CARD_FONT
names the file) and stored once through the default storage, under a name made of what it
shows (the fingerprint): a new title, company or kind gives a new name and a new picture, an
edit of the body reuses the one already made, and the story's older cards are removed when a
new one is stored. Without the font nothing is drawn: FontMissing says which file is missing
and how to install it (the card's address answers 503 with that message, `manage.py check`
warns, `manage.py share_cards` fails).

Two requests for a card not made yet do not both draw it: the first takes a lock in the
default cache (shared by every host) and stores it; the others wait a moment for it, and past
that draw it in memory without storing it, so a reader never waits long.
"""

import hashlib
import io
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFont

from articles.models import Kind

logger = logging.getLogger("articles.sharecards")

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
BAND = 14
# Bump when the drawing changes: every card gets a new name and is drawn again.
DESIGN = "1"
FOLDER = "share"
SITE_DESCRIPTION = "개발자 인터뷰, 기술 블로그, 회사 소식으로 보는 엔지니어링 문화"

# Title sizes tried from the largest down; the first that fits in MAX_LINES lines wins, and the
# smallest is cut with an ellipsis.
TITLE_SIZES = (76, 66, 58)
MAX_LINES = 3
LINE_SPACING = 1.3
ELLIPSIS = "…"
# A line does not start with closing punctuation nor end with opening punctuation (the rule
# browsers follow for Korean, as for Japanese kinsoku).
NO_LINE_START = frozenset(",.!?:;)]}…·、。，．！？：；）」』》〉”’%")
NO_LINE_END = frozenset("([{「『《〈“‘#")
# A line breaks at its last space if that keeps at least this share of the line filled;
# otherwise between characters, as a long Korean word (with no space in it) needs.
SPACE_BREAK_FILL = 0.6

# Deterministic colours: the background is picked from this palette by a hash of the card's
# subject (the same story always gets the same colour), the label by the kind.
BACKGROUNDS = (
    (22, 38, 74),
    (24, 58, 56),
    (58, 30, 72),
    (30, 41, 59),
    (64, 36, 28),
    (20, 52, 90),
    (44, 52, 24),
    (70, 28, 46),
)
KIND_COLOURS = {
    Kind.INTERVIEW: ((232, 240, 255), (18, 62, 140)),
    Kind.FEED: ((233, 247, 239), (19, 85, 47)),
    Kind.NEWS: ((255, 241, 224), (122, 59, 0)),
}
SITE_LABEL_COLOURS = ((255, 255, 255), (31, 95, 209))
TEXT = (255, 255, 255)
MUTED = (203, 213, 225)
RULE = (255, 255, 255, 48)


class FontMissing(ImproperlyConfigured):
    """The Korean font the cards are drawn in is not on this machine."""


def font_message(path: str) -> str:
    return (
        f"공유 카드를 그릴 한글 글꼴 파일이 없습니다: {path}. "
        "Debian/Ubuntu에서는 `apt-get install fonts-noto-cjk`로 설치하거나, "
        "SHARE_CARD_FONT에 Noto Sans CJK(또는 한글이 있는 다른 OpenType 글꼴) 파일 경로를 적어 주세요."
    )


@lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The Korean face of `path` at `size`: in a collection (.ttc) the face named "KR" (the
    Korean forms of shared Han characters), else the first face."""
    if not Path(path).is_file():
        raise FontMissing(font_message(path))
    for index in range(16):
        try:
            face = ImageFont.truetype(path, size, index=index)
        except OSError:
            break
        if " KR" in face.getname()[0] and "Mono" not in face.getname()[0]:
            return face
    try:
        return ImageFont.truetype(path, size)
    except OSError as error:
        raise FontMissing(f"{font_message(path)} ({error})") from None


def font(size: int) -> ImageFont.FreeTypeFont:
    return _font(settings.SHARE_CARD_FONT, size)


def check_font(app_configs, **kwargs):
    """`manage.py check` (and every start) warns when the cards' font is missing."""
    path = settings.SHARE_CARD_FONT
    if Path(path).is_file():
        return []
    return [checks.Warning(font_message(path), id="articles.W001")]


# Text layout --------------------------------------------------------------------------------


def wrap(text: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """`text` in lines no wider than `width`: at spaces where that fills the line well enough,
    else between any two characters (Korean words can be long and have no space to break at),
    never starting a line with closing punctuation or ending one with opening punctuation."""
    words = " ".join(text.split())
    lines = []
    while words:
        if face.getlength(words) <= width:
            lines.append(words)
            break
        end = _fitting(words, face, width)
        space = words.rfind(" ", 0, end + 1)
        if space > 0 and face.getlength(words[:space]) >= width * SPACE_BREAK_FILL:
            end = space
        else:
            end = _kinsoku(words, end)
        lines.append(words[:end].rstrip())
        words = words[end:].lstrip()
    return lines


def _fitting(text: str, face, width: float) -> int:
    """How many leading characters of `text` fit in `width` (at least one)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if face.getlength(text[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _kinsoku(text: str, end: int) -> int:
    """Move a break at `end` earlier so that it falls neither inside a Latin word or number
    (Korean breaks between any two syllables, "PostgreSQL" does not) nor next to punctuation
    that must stay with its neighbour; kept where moving would leave nothing on the line."""
    moved = end
    while moved > 1 and (
        text[moved] in NO_LINE_START
        or text[moved - 1] in NO_LINE_END
        or (_latin(text[moved - 1]) and _latin(text[moved]))
    ):
        moved -= 1
    return moved if moved > 1 else end


def _latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def fit_lines(text: str, width: float) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest title size at which `text` fits in MAX_LINES lines; at the smallest size,
    the first MAX_LINES lines with an ellipsis closing the last one."""
    for size in TITLE_SIZES:
        face = font(size)
        lines = wrap(text, face, width)
        if len(lines) <= MAX_LINES:
            return face, lines
    kept = lines[:MAX_LINES]
    last = kept[-1]
    while last and face.getlength(last + ELLIPSIS) > width:
        last = last[:-1]
    kept[-1] = last.rstrip(" ,.·") + ELLIPSIS
    return face, kept


def fit_one_line(text: str, face, width: float) -> str:
    """`text` on one line, cut with an ellipsis when it is too wide."""
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


# Drawing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """What a card shows. `label` is the pill at the top (the kind); `colours` its paper and
    ink; `seed` picks the background."""

    title: str
    label: str
    colours: tuple
    footer: str
    seed: str

    @property
    def fingerprint(self) -> str:
        parts = (DESIGN, settings.SITE_NAME, self.title, self.label, self.footer, self.seed)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def story_card(article) -> Card:
    kind = Kind(article.kind)
    return Card(
        title=article.title,
        label=kind.label,
        colours=KIND_COLOURS[kind],
        footer=article.company.name if article.company_id else "",
        seed=str(article.pk),
    )


def site_card() -> Card:
    return Card(
        title=SITE_DESCRIPTION,
        label=" · ".join(Kind.labels),
        colours=SITE_LABEL_COLOURS,
        footer="",
        seed="site",
    )


def background(seed: str) -> tuple:
    digest = hashlib.sha256(seed.encode()).digest()
    return BACKGROUNDS[digest[0] % len(BACKGROUNDS)]


def draw(card: Card) -> bytes:
    """The card as PNG bytes, 1200×630. Raises FontMissing without the font."""
    inner = WIDTH - 2 * MARGIN
    image = Image.new("RGB", (WIDTH, HEIGHT), background(card.seed))
    overlay = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    pen = ImageDraw.Draw(overlay)

    # A band in the label's colour down the left edge, then the label: a pill at the top left.
    label_face = font(30)
    paper, ink = card.colours
    pen.rectangle((0, 0, BAND - 1, HEIGHT), fill=(*paper, 255))
    label = fit_one_line(card.label, label_face, inner - 48)
    pill = (MARGIN, MARGIN, MARGIN + round(label_face.getlength(label)) + 48, MARGIN + 56)
    pen.rounded_rectangle(pill, radius=28, fill=(*paper, 255))
    pen.text((MARGIN + 24, MARGIN + 28), label, font=label_face, fill=ink, anchor="lm")

    # The title, in up to three lines, under the label.
    title_face, lines = fit_lines(card.title, inner)
    line_height = round(title_face.size * LINE_SPACING)
    rule_y = HEIGHT - MARGIN - 64
    # Centred between the label and the footer's rule.
    y = (pill[3] + rule_y - line_height * len(lines)) // 2
    for line in lines:
        pen.text((MARGIN, y), line, font=title_face, fill=TEXT, anchor="la")
        y += line_height

    # The footer: a thin rule, the company (or the site's sections) and the site's name.
    pen.line((MARGIN, rule_y, WIDTH - MARGIN, rule_y), fill=RULE, width=2)
    small = font(32)
    site = fit_one_line(settings.SITE_NAME, small, inner / 2 - 20)
    footer = fit_one_line(card.footer, small, inner - small.getlength(site) - 40)
    baseline = HEIGHT - MARGIN
    pen.text((MARGIN, baseline), footer, font=small, fill=TEXT, anchor="ls")
    pen.text((WIDTH - MARGIN, baseline), site, font=small, fill=MUTED, anchor="rs")

    image.paste(overlay, mask=overlay)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# Storage ---------------------------------------------------------------------------------------


def story_folder(pk: int) -> str:
    return f"{FOLDER}/stories/{pk}"


def story_name(article, card: Card) -> str:
    return f"{story_folder(article.pk)}/{card.fingerprint}.png"


def site_name(card: Card) -> str:
    return f"{FOLDER}/site/{card.fingerprint}.png"


# How long one request may hold the right to draw a card, and how long another waits for it.
LOCK_SECONDS = 30
WAIT_SECONDS = 2.0
POLL_SECONDS = 0.05


def story_png(article) -> bytes:
    """The story's card, drawn and stored the first time it is asked for."""
    card = story_card(article)
    return stored(story_name(article, card), card)


def site_png() -> bytes:
    card = site_card()
    return stored(site_name(card), card)


def stored(name: str, card: Card) -> bytes:
    """The card stored at `name`, drawing and storing it (and removing its folder's older
    cards) if it is not there yet. A storage that fails, or a card removed between looking
    and reading (a newer title stored meanwhile), gives a card drawn here, never an error."""
    try:
        return _stored(name, card)
    except OSError as error:
        logger.warning("share card %s not stored or read (%s); drawn without storing", name, error)
        return draw(card)


def _stored(name: str, card: Card) -> bytes:
    storage = default_storage
    if storage.exists(name):
        return _read(name)
    if _lock(name):
        try:
            if not storage.exists(name):
                data = draw(card)
                saved = storage.save(name, ContentFile(data))
                if saved != name:  # drawn meanwhile by a host the lock did not reach
                    storage.delete(saved)
                remove_others(name)
                return data
        finally:
            _unlock(name)
        return _read(name)
    # Another request is drawing it: wait for it a moment, then draw it here without storing.
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        if storage.exists(name):
            return _read(name)
    return draw(card)


def remove_others(name: str) -> list[str]:
    """Delete the cards beside `name` in its folder (a story's earlier versions)."""
    folder, _, keep = name.rpartition("/")
    try:
        _, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    removed = [f"{folder}/{file}" for file in files if file != keep]
    for path in removed:
        default_storage.delete(path)
    return removed


def remove_story_cards(keep_pks) -> list[str]:
    """Delete the cards of every story not in `keep_pks` (deleted or no longer public)."""
    try:
        folders, _ = default_storage.listdir(f"{FOLDER}/stories")
    except FileNotFoundError:
        return []
    removed = []
    for folder in folders:
        if folder.isdigit() and int(folder) in keep_pks:
            continue
        path = f"{FOLDER}/stories/{folder}"
        _, files = default_storage.listdir(path)
        for file in files:
            default_storage.delete(f"{path}/{file}")
            removed.append(f"{path}/{file}")
    return removed


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as file:
        return file.read()


def _lock(name: str) -> bool:
    """The right to draw `name`; with the cache down, everyone has it (the storage keeps one)."""
    try:
        return cache.add(f"sharecard:{name}", 1, LOCK_SECONDS)
    except Exception:
        logger.warning("share card lock unavailable; drawing %s without it", name)
        return True


def _unlock(name: str) -> None:
    try:
        cache.delete(f"sharecard:{name}")
    except Exception:
        logger.warning("share card lock for %s could not be released", name)
