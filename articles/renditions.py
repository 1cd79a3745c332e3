"""Renditions: each uploaded picture resized once, right after it is stored, to a few widths,
as WebP and in the original's own format, so that pages offer a browser the size it needs.

The files go through the default storage at

    renditions/<the original's name without extension>/<width>.<ext>

(covers/2026/12/ab12….png → renditions/covers/2026/12/ab12…/640.webp and …/640.png), one folder
per original, so the folder is dropped with its original. What was made is recorded on the
row as a small JSON object (`record`), so a page builds its <picture> from the row it already
read: no storage call and no query per card.

This module knows files and records, not models: articles/pictures.py decides when to make
them and writes the records.
"""

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from io import BytesIO
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.encoding import filepath_to_uri
from django.utils.functional import LazyObject, empty
from PIL import Image, ImageOps

FOLDER = "renditions"
# Covers fill a card (about 300–400 CSS px, twice that on a dense screen) and a story page's
# text column (42rem); logos and photos are shown at 24–96 CSS px.
COVER_WIDTHS = (320, 640, 960, 1280)
BADGE_WIDTHS = (96, 192, 384)

# The original's Pillow format -> the fallback rendition's extension. A GIF is resized as a
# PNG still of its first frame (resizing GIF frames with their 256-colour palettes bands
# badly); a WebP original needs no second format.
FALLBACK = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "GIF": "png", "WEBP": "webp"}
MIME_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
SAVE_OPTIONS = {
    "webp": {"format": "WEBP", "quality": 80, "method": 4},
    "jpg": {"format": "JPEG", "quality": 82, "optimize": True, "progressive": True},
    "png": {"format": "PNG"},
}
# EXIF orientations that turn the picture a quarter (its width is the stored height).
ORIENTATION = 0x0112
TURNED = {5, 6, 7, 8}


class RenditionError(Exception):
    """The original could not be read as a picture (missing, damaged, not an image)."""


def folder_of(name: str) -> str:
    """renditions/<name without its extension>: the folder of one original's renditions. A
    stored name ("covers/2026/12/ab12.png") is cut as a string, as PurePosixPath cuts it (a
    third of a picture's cost, each card drawing two); a name it would first tidy (empty or
    "." segments, a trailing "/") is left to it."""
    head, slash, last = name.rpartition("/")
    if last in ("", ".") or "//" in name or "/./" in name or name.startswith("./"):
        return f"{FOLDER}/{PurePosixPath(name).with_suffix('')}"
    dot = last.rfind(".")
    if 0 < dot < len(last) - 1:
        last = last[:dot]
    return f"{FOLDER}/{head}{slash}{last}"


def rendition_name(name: str, width: int, extension: str) -> str:
    return f"{folder_of(name)}/{width}.{extension}"


def widths_for(original_width: int, widths) -> list[int]:
    """The widths to make: those the original reaches, and the original's own width when it is
    narrower than the largest (no picture is ever enlarged)."""
    chosen = [width for width in widths if width <= original_width]
    if original_width < max(widths):
        chosen.append(original_width)
    return sorted(set(chosen))


def make(name: str, widths, storage=default_storage) -> dict:
    """Make the renditions of the stored picture `name` and return their record:

        {"source": name, "formats": ["webp", "png"], "sizes": [[320, 180], [640, 360], …]}

    Renditions already in the folder are replaced, so making them again is harmless.
    Raises RenditionError when the original cannot be read."""
    try:
        with storage.open(name, "rb") as file:
            data = file.read()
    except OSError as error:
        raise RenditionError(f"{name}: {error}") from error
    key = (hashlib.sha256(data).hexdigest(), tuple(widths))
    made = _memo.get(key)
    if made is None:
        made = _encode_all(name, data, widths)
        _memo.keep(key, made)
    formats, sizes, files = made
    delete_folder(name, storage)
    for width, extension, content in files:
        storage.save(rendition_name(name, width, extension), ContentFile(content))
    return {"source": name, "formats": formats, "sizes": sizes}


def _encode_all(name: str, data: bytes, widths):
    """(formats, sizes, [(width, extension, bytes)]) of one original's renditions."""
    try:
        with Image.open(BytesIO(data)) as original:
            original_format = original.format
            if original_format not in FALLBACK:
                raise RenditionError(f"{name}: {original_format} 형식은 변환하지 않습니다.")
            # A JPEG decodes straight at a fraction of its size: a phone photo of 24
            # million pixels is then read at about the largest rendition's size.
            shown = original.size
            if original.getexif().get(ORIENTATION, 1) in TURNED:
                shown = shown[::-1]
            largest = min(shown[0], max(widths))
            wanted = (largest, max(1, round(largest * shown[1] / shown[0])))
            original.draft("RGB", wanted if shown == original.size else wanted[::-1])
            picture = ImageOps.exif_transpose(original)
            picture.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise RenditionError(f"{name}: {error}") from error
    ratio = picture.height / picture.width  # as shown: exif_transpose may have turned it
    fallback = FALLBACK[original_format]
    formats = ["webp"] if fallback == "webp" else ["webp", fallback]
    picture = picture.convert("RGBA" if has_alpha(picture) else "RGB")
    sizes, files = [], []
    for width in widths_for(picture.width, widths):
        height = max(1, round(width * ratio))
        resized = picture
        if width != picture.width:
            resized = picture.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        for extension in formats:
            files.append((width, extension, encode(resized, extension).read()))
        sizes.append([width, height])
    return formats, sizes, files


class Memo:
    """The renditions last encoded in this process, by the original's digest, up to
    settings.RENDITION_MEMO_BYTES (0, the default: none kept). Encoding is most of the cost
    of a picture; the same picture made again (rebuild_renditions, or the demo seed run once
    per browser test) then costs only its writes."""

    def __init__(self):
        self.entries = OrderedDict()
        self.size = 0

    def get(self, key):
        made = self.entries.get(key)
        if made is not None:
            self.entries.move_to_end(key)
        return made

    def keep(self, key, made) -> None:
        limit = settings.RENDITION_MEMO_BYTES
        weight = sum(len(content) for _, _, content in made[2])
        if weight > limit:
            return
        self.entries[key] = made
        self.size += weight
        while self.size > limit:
            _, dropped = self.entries.popitem(last=False)
            self.size -= sum(len(content) for _, _, content in dropped[2])


_memo = Memo()


def has_alpha(picture: Image.Image) -> bool:
    return picture.mode in {"RGBA", "LA", "PA"} or "transparency" in picture.info


def encode(picture: Image.Image, extension: str) -> ContentFile:
    if extension == "jpg" and picture.mode == "RGBA":
        # JPEG has no transparency: what was see-through shows the page's white.
        background = Image.new("RGB", picture.size, (255, 255, 255))
        background.paste(picture, mask=picture.getchannel("A"))
        picture = background
    buffer = BytesIO()
    picture.save(buffer, **SAVE_OPTIONS[extension])
    return ContentFile(buffer.getvalue())


def delete_folder(name: str, storage=default_storage) -> None:
    """Remove the renditions of the original `name` (what is there; none is fine) and, on a
    file system, their folder (object stores have none)."""
    folder = folder_of(name)
    try:
        _, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for file_name in files:
        storage.delete(f"{folder}/{file_name}")
    if storage.exists(folder):
        storage.delete(folder)


@dataclass(frozen=True)
class Picture:
    """What a template needs for one <picture>: both formats' srcsets, the fallback's src,
    and the largest rendition's size for the width and height attributes."""

    alt: str
    width: int
    height: int
    src: str
    srcset: str
    type: str
    webp_srcset: str  # empty when the fallback is WebP itself


def is_record_of(record: dict, name: str) -> bool:
    """Whether `record` describes renditions of the stored picture `name` (not those of a
    picture it has replaced, nor an empty record)."""
    return bool(name and record and record.get("source") == name and record.get("sizes"))


def picture(record: dict, name: str, alt: str, storage=default_storage) -> Picture | None:
    """The Picture of a stored original from its record, or None when the record is not of
    this original (no renditions yet, or the picture was replaced since)."""
    if not is_record_of(record, name):
        return None
    sizes = record["sizes"]
    fallback = record["formats"][-1]
    url = urls_of(name, storage)

    def srcset(extension):
        return ", ".join(f"{url(width, extension)} {width}w" for width, _ in sizes)

    width, height = sizes[-1]
    # What a browser that reads no srcset loads: a middle size, enough for a card.
    middle = sizes[min(1, len(sizes) - 1)][0]
    return Picture(
        alt=alt,
        width=width,
        height=height,
        src=url(middle, fallback),
        srcset=srcset(fallback),
        type=MIME_TYPES[fallback],
        webp_srcset=srcset("webp") if fallback != "webp" else "",
    )


def unwrapped(storage):
    """The storage itself, not Django's lazy stand-in for it (default_storage, which every
    file field of the site names): each attribute read through the stand-in is a call of its
    own, which made a cover's URL cost 15.7 us instead of 3.6. Unwrapped each time, as the
    stand-in drops what it wraps when the STORAGES setting changes."""
    if isinstance(storage, LazyObject):
        if storage._wrapped is empty:
            storage._setup()
        return storage._wrapped
    return storage


def file_url(name: str, storage=default_storage) -> str:
    """storage.url(name). A file on this host's disk has the storage's base URL followed by
    its quoted name, which FileSystemStorage.url() joins with urljoin() (a third of an API
    item's cost); the join is needed only to resolve empty and dot segments ("a//b", "./a",
    "a/../b"), and is left to it for those. Any other storage is asked, as it may sign or
    route each file on its own."""
    return file_url_maker(storage)(name)


def file_url_maker(storage=default_storage):
    """file_url(name, storage) as a function of the name, for the many files of one answer:
    the storage is unwrapped and its base URL read once, when it is made."""
    storage = unwrapped(storage)
    if not isinstance(storage, FileSystemStorage) or storage.base_url is None:
        return storage.url
    base_url, url = storage.base_url, storage.url

    def made(name: str) -> str:
        path = filepath_to_uri(name).lstrip("/")
        segments = path.split("/")
        if "" not in segments[:-1] and "." not in segments and ".." not in segments:
            return base_url + path
        return url(name)

    return made


def urls_of(name: str, storage):
    """width, extension -> the URL of that rendition of `name`. Files kept on this host's disk
    have URLs that only append to their folder's (the URL of the folder is built once per
    picture, not once per rendition: a card has up to eight); any other storage is asked for
    each one, as it may sign or route each file on its own."""
    storage = unwrapped(storage)
    if isinstance(storage, FileSystemStorage):
        folder = file_url(f"{folder_of(name)}/", storage)
        return lambda width, extension: f"{folder}{width}.{extension}"
    return lambda width, extension: storage.url(rendition_name(name, width, extension))


def largest_url(record: dict, name: str, storage=default_storage) -> str | None:
    """The URL of the largest rendition in the original's format (what link previews, which
    do not all read WebP, should show), or None when there is no record of `name`."""
    if not is_record_of(record, name):
        return None
    width = record["sizes"][-1][0]
    return file_url(rendition_name(name, width, record["formats"][-1]), storage)
