"""Pictures attached the standard Django way (`field.save(name, content)`: a command, an
importer, a test) are stored like an editor's upload: under a server-made name whose
extension is the format the content really has."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from tests.factories import ArticleFactory, CompanyFactory, PersonFactory

pytestmark = pytest.mark.django_db


def image_bytes(fmt="PNG", size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("factory", "field", "folder"),
    [
        (ArticleFactory, "cover_image", "covers"),
        (CompanyFactory, "logo", "logos"),
        (PersonFactory, "photo", "people"),
    ],
)
def test_field_save_stores_a_picture_on_a_row_without_one(factory, field, folder):
    row = factory()
    getattr(row, field).save("그림.png", ContentFile(image_bytes()))
    row.refresh_from_db()
    name = getattr(row, field).name
    assert re.fullmatch(rf"{folder}/\d{{4}}/\d{{2}}/[0-9a-f]{{32}}\.png", name)
    assert getattr(row, field).storage.exists(name)


def test_the_extension_is_the_contents_format_not_the_given_names():
    company = CompanyFactory()
    company.logo.save("logo.png", ContentFile(image_bytes("JPEG")))
    assert company.logo.name.endswith(".jpg")


def test_a_replaced_picture_is_named_by_the_new_content_not_the_old_file():
    company = CompanyFactory()
    company.logo.save("first.png", ContentFile(image_bytes("PNG")))
    company.logo.save("second", ContentFile(image_bytes("WEBP")))
    assert company.logo.name.endswith(".webp")


def test_content_that_is_no_picture_gets_no_extension():
    company = CompanyFactory()
    company.logo.save("page.html", ContentFile(b"<html><script>alert(1)</script></html>"))
    assert "." not in company.logo.name.rsplit("/", 1)[-1]
