"""Checks for uploaded pictures (covers, logos, photos): a real raster image in a format browsers
show, not too heavy and not too many pixels. SVG is refused: it is a document that can carry
script, not a picture.

The model fields carry `validate_image` as a validator, so every ModelForm and full_clean()
checks it. The admin's file input is a plain FileField (`ImageUploadField`), so that the
validator's clear messages reach the editor instead of the generic "not an image" of
forms.ImageField, which would speak first.
"""

import contextlib
import warnings

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields.files import FieldFile, ImageFieldFile
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Pillow's format names; MPO is the multi-picture JPEG some phone cameras write.
ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "GIF"}
ACCEPT = "image/jpeg,image/png,image/webp,image/gif"

# Pillow refuses to decode past twice this (a decompression bomb) and warns past it.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

SVG_MARKERS = (b"<svg", b"<?xml", b"<!doctype svg")


def validate_image(value) -> None:
    """Raise ValidationError unless `value` (an uploaded file) is an image we may store."""
    if isinstance(value, FieldFile) and value._committed:
        # The file already stored with the object was checked when it was uploaded; it may
        # not even be on this machine's disk.
        return
    name = (getattr(value, "name", "") or "").lower()
    size = getattr(value, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError(
            "이미지가 너무 큽니다(%(size)s MB). %(max)s MB 이하로 올려 주세요.",
            code="image_too_large",
            params={"size": f"{size / 1024 / 1024:.1f}", "max": MAX_BYTES // 1024 // 1024},
        )
    value.seek(0)
    head = value.read(512).lstrip().lower()
    value.seek(0)
    if name.endswith((".svg", ".svgz")) or head.startswith(SVG_MARKERS):
        raise ValidationError(
            "SVG 이미지는 올릴 수 없습니다. JPEG, PNG, WebP, GIF로 바꿔서 올려 주세요.",
            code="image_svg",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(value) as image:
                image_format = image.format
                width, height = image.size
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise pixels_error() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            "이미지 파일이 아니거나 손상된 파일입니다. JPEG, PNG, WebP, GIF 이미지를 올려 주세요.",
            code="image_invalid",
        ) from None
    finally:
        value.seek(0)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(
            "%(format)s 형식은 받지 않습니다. JPEG, PNG, WebP, GIF 이미지를 올려 주세요.",
            code="image_format",
            params={"format": image_format or "알 수 없는"},
        )
    if width * height > MAX_PIXELS:
        raise pixels_error()


# The name a stored picture gets, by its real format.
SUFFIXES = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}
IMAGE_SUFFIXES = frozenset({*SUFFIXES.values(), ".jpeg"})


def image_suffix(upload) -> str | None:
    """The extension of `upload`'s real format (".png"), or None when it is not one we store
    or there is no file in hand. Reads only the header."""
    if isinstance(upload, FieldFile):
        upload = being_stored(upload)
    file = getattr(upload, "file", upload)
    if file is None:
        return None
    try:
        file.seek(0)
        with Image.open(file) as image:
            return SUFFIXES.get(image.format)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None  # not a picture we could read: it gets no extension
    finally:
        with contextlib.suppress(OSError, ValueError):
            file.seek(0)


def being_stored(field_file: FieldFile):
    """The file a field is about to store, or None. Not `field_file.file`: with no file
    attached that raises ValueError, and for a stored one it opens the old picture, not
    the new one."""
    return None if field_file._committed else field_file._file


class PictureFieldFile(ImageFieldFile):
    def save(self, name, content, save=True):
        # upload_to names the file by the format its content really has (articles/models/
        # common.py generated_name reads it from the file being stored): hold the content as
        # an upload assigned to the field is held, so `field.save(name, content)` (a command,
        # an importer, a test) is named the same way as an editor's upload.
        self.file = content
        self._committed = False
        super().save(name, content, save)


class PictureField(models.ImageField):
    """An ImageField whose `save(name, content)` names the file by its content's format."""

    attr_class = PictureFieldFile


def pixels_error() -> ValidationError:
    return ValidationError(
        "이미지의 화소가 너무 많습니다. %(max)s만 화소 이하로 줄여서 올려 주세요.",
        code="image_too_many_pixels",
        params={"max": f"{MAX_PIXELS // 10_000:,}"},
    )


class ImageUploadField(forms.FileField):
    """The admin's input for an image: the browser offers only the allowed formats; the
    model field's validate_image decides."""

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput) and "accept" not in widget.attrs:
            attrs.setdefault("accept", ACCEPT)
        return attrs


# A ModelAdmin's formfield_overrides for models with image fields.
UPLOAD_FORMFIELDS = {models.ImageField: {"form_class": ImageUploadField}}
