"""Uploads (covers, logos, photos): real raster images in an allowed format, within the size and
pixel caps, stored under names the server makes up. SVG is refused with a clear message."""

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from articles import images
from articles.models import Article, Company, Person
from tests.editorial_support import change_url, story_data
from tests.factories import ArticleFactory, CompanyFactory

pytestmark = pytest.mark.django_db

SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
)


def picture(fmt="PNG", size=(32, 24), name=None, noise=False) -> SimpleUploadedFile:
    image = Image.new("RGB", size, (200, 80, 40))
    if noise:
        image = Image.frombytes("RGB", size, bytes(range(256)) * (size[0] * size[1] * 3 // 256 + 1))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    extension = {"JPEG": "jpg"}.get(fmt, fmt.lower())
    return SimpleUploadedFile(name or f"사진.{extension}", buffer.getvalue())


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_the_allowed_formats_pass(fmt):
    images.validate_image(picture(fmt))


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.svg", SVG), "SVG 이미지는 올릴 수 없습니다"),
        (SimpleUploadedFile("logo.png", SVG), "SVG 이미지는 올릴 수 없습니다"),
        (
            SimpleUploadedFile("photo.png", "사진이 아니라 글입니다.".encode()),
            "이미지 파일이 아니거나",
        ),
        (
            SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
            "이미지 파일이 아니거나",
        ),
        (picture("BMP"), "BMP 형식은 받지 않습니다"),
        (picture("TIFF"), "TIFF 형식은 받지 않습니다"),
    ],
)
def test_what_is_not_an_allowed_picture_is_refused_with_a_clear_message(upload, message):
    with pytest.raises(ValidationError) as error:
        images.validate_image(upload)
    assert message in error.value.messages[0]


def test_a_file_over_the_byte_cap_is_refused(monkeypatch):
    upload = picture("PNG", size=(200, 200), noise=True)
    monkeypatch.setattr(images, "MAX_BYTES", upload.size - 1)
    with pytest.raises(ValidationError) as error:
        images.validate_image(upload)
    assert error.value.code == "image_too_large"


def test_the_default_caps_are_five_megabytes_and_forty_megapixels():
    assert images.MAX_BYTES == 5 * 1024 * 1024
    assert images.MAX_PIXELS == Image.MAX_IMAGE_PIXELS == 40_000_000


def test_an_image_with_too_many_pixels_is_refused(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    with pytest.raises(ValidationError) as error:
        images.validate_image(picture("PNG", size=(20, 20)))
    assert error.value.code == "image_too_many_pixels"


def test_a_decompression_bomb_is_refused_without_decoding_it(monkeypatch):
    # Pillow's own guard (MAX_IMAGE_PIXELS) speaks before any pixel is decoded.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ValidationError) as error:
        images.validate_image(picture("PNG", size=(30, 30)))
    assert error.value.code == "image_too_many_pixels"


def test_the_admin_refuses_an_svg_logo_with_the_message(client, editor):
    company = CompanyFactory(name="로고회사")
    data = {
        "name": company.name, "slug": company.slug, "one_liner": "", "description": "",
        "website": "", "hiring_url": "", "location": "", "size": "", "tech_stack": "",
        "logo": SimpleUploadedFile("logo.svg", SVG, content_type="image/svg+xml"),
    }  # fmt: skip
    response = client.post(reverse("admin:articles_company_change", args=[company.pk]), data)
    assert response.status_code == 200
    assert "SVG 이미지는 올릴 수 없습니다" in response.content.decode()
    company.refresh_from_db()
    assert not company.logo


def test_the_admin_file_input_offers_only_the_allowed_formats(client, editor):
    html = client.get(reverse("admin:articles_company_add")).content.decode()
    assert 'accept="image/jpeg,image/png,image/webp,image/gif"' in html


def test_a_cover_is_stored_under_a_server_made_name(client, editor, media):
    story = ArticleFactory(draft=True)
    data = story_data(story, cover_image=picture("JPEG", name="../../내 표지 사진.JPG"))
    response = client.post(change_url(story), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    name = Article.objects.get(pk=story.pk).cover_image.name
    assert re.fullmatch(r"covers/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", name)
    assert (media / name).is_file()


@pytest.mark.parametrize("name", ["photo.html", "photo.js", "photo.svg.png.php", "photo"])
def test_a_stored_picture_is_named_by_its_real_format_not_the_clients(client, editor, media, name):
    # A real PNG with a page appended passes the image check: its name must not make a web
    # server hand it out as HTML or script.
    upload = picture("PNG", name=name)
    upload = SimpleUploadedFile(name, upload.read() + b"<script>alert(1)</script>")
    data = {
        "name": "김사진", "nickname": "", "slug": "kim-photo", "company": "", "role": "",
        "team": "", "bio": "", "photo": upload,
    }  # fmt: skip
    response = client.post(reverse("admin:articles_person_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    stored = Person.objects.get().photo.name
    assert re.fullmatch(r"people/\d{4}/\d{2}/[0-9a-f]{32}\.png", stored)
    assert (media / stored).is_file()


def test_the_pixel_cap_message_reads_in_korean_units():
    assert "4,000만 화소" in str(images.pixels_error().messages[0])


def test_a_person_photo_that_is_a_renamed_text_file_is_refused(client, editor):
    data = {
        "name": "김사진", "nickname": "", "slug": "kim-photo", "company": "", "role": "",
        "team": "", "bio": "",
        "photo": SimpleUploadedFile("me.png", b"plain text, not a picture", content_type="image/png"),
    }  # fmt: skip
    response = client.post(reverse("admin:articles_person_add"), data)
    assert response.status_code == 200
    assert "이미지 파일이 아니거나" in response.content.decode()
    assert not Person.objects.exists()


def test_a_stored_image_is_not_checked_again_on_every_save(client, editor):
    # The file of an older upload may not be on this machine at all: saving must still work.
    story = ArticleFactory(draft=True, cover_image="covers/2020/01/missing.png")
    response = client.post(change_url(story), story_data(story, title="표지는 그대로"))
    assert response.status_code == 302
    assert Article.objects.get(pk=story.pk).cover_image.name == "covers/2020/01/missing.png"


def test_full_clean_checks_an_assigned_upload(media):
    company = Company(name="검사", slug="check", logo=SimpleUploadedFile("x.svg", SVG))
    with pytest.raises(ValidationError) as error:
        company.full_clean()
    assert "logo" in error.value.message_dict
