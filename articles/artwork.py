"""Pictures for the demo content, drawn with Pillow: abstract covers, initials logos and
avatars. Each is drawn from a key (a story's title, a company's or a person's slug) with its
own seeded random numbers, so the same key always gives the same picture; nothing is
downloaded or copied. The seed command (articles/management/commands/seed_demo.py) attaches
them like any upload, so they get their renditions.
"""

import random
import zlib
from functools import lru_cache
from io import BytesIO

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

COVER_SIZE = (1280, 720)  # the largest cover rendition
BADGE_SIZE = 512

# Two gradient ends and accents per story kind (the kinds' colours on the site).
KIND_PALETTES = {
    "interview": [("#1f4fb8", "#7aa2ff"), ("#27348b", "#8f7cf0"), ("#134a8c", "#56c1e8")],
    "feed": [("#0f6b4f", "#7fd6a8"), ("#125f6a", "#5fd0c4"), ("#2f6b1f", "#b7dc72")],
    "news": [("#b4451c", "#ffb36b"), ("#9c2f4a", "#ff9a7a"), ("#a8620c", "#ffd36b")],
}
ACCENTS = ["#ffffff", "#ffe9a8", "#ffd0e0", "#c9f2ff", "#e2d4ff"]
BADGE_COLOURS = ["#1f5fd1", "#13795b", "#b4451c", "#6b3fb3", "#0f7490", "#a3306b", "#3d5a80"]


def rng(key: str) -> random.Random:
    return random.Random(zlib.crc32(key.encode()))


@lru_cache(maxsize=64)  # the same key draws the same picture: draw it once
def cover(title: str, kind: str) -> bytes:
    """A 16:9 abstract cover for a story (JPEG): a diagonal gradient in its kind's colours,
    soft circles, a band of lines and a grid of dots, placed by the title."""
    chance = rng(title)
    start, end = chance.choice(KIND_PALETTES.get(kind, KIND_PALETTES["feed"]))
    width, height = COVER_SIZE
    image = gradient(COVER_SIZE, start, end, flip=chance.random() < 0.5)

    # Blurred on a clear white, so that the edges fade to light rather than to black.
    soft = Image.new("RGBA", COVER_SIZE, (255, 255, 255, 0))
    draw = ImageDraw.Draw(soft)
    for _ in range(chance.randint(3, 5)):
        radius = chance.randint(height // 6, height // 2)
        x, y = chance.randint(0, width), chance.randint(0, height)
        colour = hex_rgb(chance.choice(ACCENTS))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), (*colour, 70))
    image.alpha_composite(soft.filter(ImageFilter.BoxBlur(3)))

    sharp = Image.new("RGBA", COVER_SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(sharp)
    # A band of parallel lines across a corner.
    step, offset = chance.randint(18, 30), chance.randint(0, width // 2)
    for line in range(chance.randint(6, 12)):
        x = offset + line * step
        draw.line((x, 0, x - height, height), (255, 255, 255, 80), width=4)
    # A grid of dots in a quiet corner.
    left, top = chance.choice(
        [(64, 64), (width - 340, 64), (64, height - 264), (width - 340, height - 264)]
    )
    for row in range(6):
        for column in range(8):
            cx, cy = left + column * 36, top + row * 36
            draw.ellipse((cx - 5, cy - 5, cx + 5, cy + 5), (255, 255, 255, 150))
    # One solid shape to hold the eye.
    x, y, size = chance.randint(160, width - 360), chance.randint(120, height - 300), 180
    accent = (*hex_rgb(chance.choice(ACCENTS)), 230)
    if chance.random() < 0.5:
        draw.rounded_rectangle((x, y, x + size, y + size), radius=48, fill=accent)
    else:
        draw.ellipse((x, y, x + size, y + size), fill=accent)
    image.alpha_composite(sharp)
    return encode(image.convert("RGB"), "JPEG", quality=86)


@lru_cache(maxsize=64)  # the same key draws the same picture: draw it once
def logo(name_key: str, initials: str) -> bytes:
    """A square logo (PNG): the company's initials on a coloured tile with a quarter circle."""
    chance = rng(name_key)
    colour = hex_rgb(chance.choice(BADGE_COLOURS))
    image = Image.new("RGBA", (BADGE_SIZE, BADGE_SIZE), (*colour, 255))
    shape = Image.new("RGBA", image.size, (0, 0, 0, 0))
    corner = chance.choice([(0, 0), (BADGE_SIZE, 0), (0, BADGE_SIZE), (BADGE_SIZE, BADGE_SIZE)])
    radius = BADGE_SIZE * 0.42
    ImageDraw.Draw(shape).ellipse(
        (corner[0] - radius, corner[1] - radius, corner[0] + radius, corner[1] + radius),
        fill=(255, 255, 255, 46),
    )
    image.alpha_composite(shape)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=230 if len(initials) < 2 else 190)
    draw.text(
        (BADGE_SIZE / 2, BADGE_SIZE / 2),
        initials,
        font=font,
        anchor="mm",
        fill="#ffffff",
        stroke_width=6,
        stroke_fill="#ffffff",
    )
    return encode(image.convert("RGB"), "PNG")


@lru_cache(maxsize=64)  # the same key draws the same picture: draw it once
def avatar(person_key: str) -> bytes:
    """A square portrait (PNG) with no face: a head and shoulders in a lighter tone of a
    gradient, the way an app shows someone before they upload a photo, in their own colours."""
    chance = rng(person_key)
    start = chance.choice(BADGE_COLOURS)
    end = chance.choice([c for c in BADGE_COLOURS if c != start])
    size = (BADGE_SIZE, BADGE_SIZE)
    image = gradient(size, start, end, flip=chance.random() < 0.5)
    figure = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(figure)
    tone = (255, 255, 255, chance.randint(150, 200))
    centre = BADGE_SIZE / 2 + chance.randint(-24, 24)
    head = chance.randint(92, 110)
    draw.ellipse((centre - head, 120, centre + head, 120 + 2 * head), fill=tone)
    draw.ellipse((centre - 210, 360, centre + 210, 800), fill=tone)
    image.alpha_composite(figure)
    return encode(image.convert("RGB"), "PNG")


def initials_of(slug: str) -> str:
    """ "gyeolsan-lab" -> "GL": the first letters of a slug's first two words."""
    words = [word for word in slug.split("-") if word]
    return "".join(word[0] for word in words[:2]).upper() or "?"


def gradient(size, start: str, end: str, flip=False) -> Image.Image:
    """A diagonal gradient from `start` (top left, or top right when flipped) to `end`."""
    down = Image.linear_gradient("L")
    across = down.transpose(Image.Transpose.ROTATE_90)
    ramp = ImageChops.add(down, across, scale=2)  # (x + y) / 2: along the diagonal
    if flip:
        ramp = ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    ramp = ramp.resize(size, Image.Resampling.BILINEAR)
    base = Image.new("RGBA", size, (*hex_rgb(start), 255))
    top = Image.new("RGBA", size, (*hex_rgb(end), 255))
    return Image.composite(top, base, ramp)


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()
