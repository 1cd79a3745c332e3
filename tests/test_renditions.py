"""Renditions: every stored cover, logo and photo is resized once, after the save commits, to
a few widths as WebP and in its own format, under renditions/<name without extension>/, and
what was made is recorded on the row. `rebuild_renditions` makes them all again."""

import io
from pathlib import Path, PurePosixPath

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from PIL import Image

from articles import pictures, renditions
from articles.models import Article, Company, Person
from articles.services import save_story
from tests.factories import ArticleFactory, CompanyFactory, PersonFactory

pytestmark = pytest.mark.django_db


def image_file(fmt="PNG", size=(1600, 900), mode="RGB", exif=None) -> ContentFile:
    image = Image.new(mode, size, (30, 120, 200) if mode == "RGB" else (30, 120, 200, 128))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"exif": exif} if exif else {}))
    return ContentFile(buffer.getvalue())


def give_cover(story, content, committed):
    """Attach a cover the standard way and save through the one door."""
    with committed(execute=True):
        story.cover_image.save("cover", content, save=False)
        save_story(story, by=None)
    story.refresh_from_db()
    return story


def renditions_made(callbacks):
    return [c for c in callbacks if getattr(c, "func", None) is pictures.refresh]


def stored(name) -> tuple[str, tuple[int, int]]:
    with default_storage.open(name) as file, Image.open(file) as image:
        return image.format, image.size


def folder_files(name) -> list[str]:
    return sorted(default_storage.listdir(renditions.folder_of(name))[1])


def test_a_cover_gets_four_widths_as_webp_and_its_own_format(
    django_capture_on_commit_callbacks,
):
    story = give_cover(ArticleFactory(), image_file("PNG"), django_capture_on_commit_callbacks)
    name = story.cover_image.name
    assert story.cover_renditions == {
        "source": name,
        "formats": ["webp", "png"],
        "sizes": [[320, 180], [640, 360], [960, 540], [1280, 720]],
    }
    stem = Path(name).with_suffix("")
    for width, height in story.cover_renditions["sizes"]:
        assert stored(f"renditions/{stem}/{width}.webp") == ("WEBP", (width, height))
        assert stored(f"renditions/{stem}/{width}.png") == ("PNG", (width, height))
    assert len(folder_files(name)) == 8


def test_nothing_is_made_before_the_save_commits(django_capture_on_commit_callbacks):
    story = ArticleFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        story.cover_image.save("cover", image_file(), save=False)
        save_story(story, by=None)
        assert not default_storage.exists(renditions.folder_of(story.cover_image.name))
    assert len(renditions_made(callbacks)) == 1


@pytest.mark.parametrize(
    ("fmt", "mode", "formats"),
    [
        ("JPEG", "RGB", ["webp", "jpg"]),
        ("WEBP", "RGB", ["webp"]),
        ("GIF", "RGB", ["webp", "png"]),
        ("PNG", "RGBA", ["webp", "png"]),
    ],
)
def test_each_format_gets_webp_and_a_fallback_browsers_read(
    django_capture_on_commit_callbacks, fmt, mode, formats
):
    content = image_file(fmt, size=(700, 350), mode=mode)
    story = give_cover(ArticleFactory(), content, django_capture_on_commit_callbacks)
    assert story.cover_renditions["formats"] == formats
    # Never enlarged: 320 and 640, then the original's own 700.
    assert story.cover_renditions["sizes"] == [[320, 160], [640, 320], [700, 350]]


def test_a_turned_phone_photo_is_made_upright(django_capture_on_commit_callbacks):
    exif = Image.Exif()
    exif[renditions.ORIENTATION] = 6  # stored on its side, shown turned a quarter
    content = image_file("JPEG", size=(1600, 1200), exif=exif)
    story = give_cover(ArticleFactory(), content, django_capture_on_commit_callbacks)
    assert story.cover_renditions["sizes"][-1] == [1200, 1600]


@pytest.mark.parametrize(
    ("factory", "field", "record"),
    [(CompanyFactory, "logo", "logo_renditions"), (PersonFactory, "photo", "photo_renditions")],
)
def test_logos_and_photos_get_small_widths_when_saved_anywhere(
    django_capture_on_commit_callbacks, factory, field, record
):
    row = factory()
    with django_capture_on_commit_callbacks(execute=True):
        getattr(row, field).save("badge", image_file(size=(500, 500)))
    row.refresh_from_db()
    assert getattr(row, record)["sizes"] == [[96, 96], [192, 192], [384, 384]]
    assert len(folder_files(getattr(row, field).name)) == 6


def test_a_removed_cover_loses_its_record(django_capture_on_commit_callbacks):
    story = give_cover(ArticleFactory(), image_file(), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        story.cover_image = ""
        save_story(story, by=None)
    story.refresh_from_db()
    assert story.cover_renditions == {}
    assert story.cover is None


def test_a_save_that_keeps_the_cover_makes_nothing(django_capture_on_commit_callbacks):
    story = give_cover(ArticleFactory(), image_file(), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as callbacks:
        story.title = "제목만 바꿈"
        save_story(story, by=None)
    assert renditions_made(callbacks) == []


def test_an_unreadable_original_fails_quietly_and_shows_no_picture(
    django_capture_on_commit_callbacks, caplog
):
    story = ArticleFactory(cover_image="covers/2020/01/missing.png")
    with django_capture_on_commit_callbacks(execute=True):
        save_story(story, by=None)
    story.refresh_from_db()
    assert story.cover_renditions == {}
    assert story.cover is None
    assert "크기별 사본을 만들지 못했습니다" in caplog.text


def test_a_record_is_kept_only_for_the_picture_it_was_made_from():
    story = ArticleFactory()
    story.cover_image.save("cover", image_file(), save=False)
    first = story.cover_image.name
    Article.objects.filter(pk=story.pk).update(cover_image="covers/2020/01/other.png")
    story.cover_image.name = first
    # The row holds another picture now: the renditions of the first are not recorded on it.
    assert pictures.refresh(Article, story.pk) == pictures.FAILED
    assert Article.objects.get(pk=story.pk).cover_renditions == {}


def test_a_page_shows_the_new_picture_at_once(client, django_capture_on_commit_callbacks):
    story = ArticleFactory()
    client.get(story.get_absolute_url())  # the page is kept without a cover
    give_cover(story, image_file(), django_capture_on_commit_callbacks)
    html = client.get(story.get_absolute_url()).content.decode()
    assert "/1280.webp 1280w" in html


def test_the_share_image_is_the_largest_rendition_in_the_originals_format(
    django_capture_on_commit_callbacks,
):
    story = ArticleFactory()
    assert pictures.share_image_url(story) is None
    story.cover_image.save("cover", image_file("JPEG"), save=False)
    assert pictures.share_image_url(story) == story.cover_image.url  # before its renditions
    give_cover(story, image_file("JPEG"), django_capture_on_commit_callbacks)
    stem = Path(story.cover_image.name).with_suffix("")
    assert pictures.share_image_url(story) == f"/media/renditions/{stem}/1280.jpg"


def test_the_command_makes_every_picture_again_and_says_how_many(
    django_capture_on_commit_callbacks,
):
    stories = ArticleFactory.create_batch(2, company=None)
    for story in stories:
        story.cover_image.save("cover", image_file(size=(800, 450)), save=False)
        Article.objects.filter(pk=story.pk).update(cover_image=story.cover_image.name)
    company = CompanyFactory()
    company.logo.save("logo", image_file(size=(200, 200)), save=False)
    Company.objects.filter(pk=company.pk).update(logo=company.logo.name)
    PersonFactory.create_batch(2, company=company)

    out = io.StringIO()
    call_command("rebuild_renditions", stdout=out)
    assert out.getvalue().splitlines() == [
        "커버: 2개 만듦, 0개 실패, 0개는 이미지 없음",
        "로고: 1개 만듦, 0개 실패, 0개는 이미지 없음",
        "사진: 0개 만듦, 0개 실패, 2개는 이미지 없음",
    ]
    records = {s.pk: s.cover_renditions for s in Article.objects.all()}
    assert all(r["sizes"] == [[320, 180], [640, 360], [800, 450]] for r in records.values())
    files = folder_files(stories[0].cover_image.name)

    call_command("rebuild_renditions", stdout=io.StringIO())
    assert {s.pk: s.cover_renditions for s in Article.objects.all()} == records
    assert folder_files(stories[0].cover_image.name) == files
    assert Company.objects.get().logo_renditions["sizes"] == [[96, 96], [192, 192], [200, 200]]
    assert not Person.objects.exclude(photo_renditions={}).exists()


def test_the_command_names_what_it_could_not_read():
    ArticleFactory(cover_image="covers/2020/01/missing.png")
    err = io.StringIO()
    with pytest.raises(CommandError, match="읽을 수 없는 이미지가 1개"):
        call_command("rebuild_renditions", stdout=io.StringIO(), stderr=err)
    assert "covers/2020/01/missing.png" in err.getvalue()


@pytest.mark.parametrize("memo_bytes", [0, 64 * 1024 * 1024])
def test_the_same_picture_made_again_is_encoded_again_only_without_a_memo(
    monkeypatch, settings, memo_bytes
):
    settings.RENDITION_MEMO_BYTES = memo_bytes
    monkeypatch.setattr(renditions, "_memo", renditions.Memo())
    encodings = []
    real = renditions._encode_all
    monkeypatch.setattr(renditions, "_encode_all", lambda *args: encodings.append(1) or real(*args))
    first = default_storage.save("covers/2026/12/memo-a.png", image_file())
    second = default_storage.save("covers/2026/12/memo-b.png", image_file())

    record_a = renditions.make(first, renditions.COVER_WIDTHS)
    record_b = renditions.make(second, renditions.COVER_WIDTHS)

    assert len(encodings) == (1 if memo_bytes else 2)
    assert record_a["sizes"] == record_b["sizes"]
    assert record_b["source"] == second
    for width, _ in record_b["sizes"]:
        for extension in record_b["formats"]:
            a = default_storage.open(renditions.rendition_name(first, width, extension)).read()
            b = default_storage.open(renditions.rendition_name(second, width, extension)).read()
            assert a == b


def test_the_memo_keeps_no_more_than_its_bytes(settings):
    settings.RENDITION_MEMO_BYTES = 10
    memo = renditions.Memo()
    memo.keep("a", (["webp"], [[1, 1]], [(1, "webp", b"12345")]))
    memo.keep("b", (["webp"], [[1, 1]], [(1, "webp", b"67890")]))
    memo.keep("c", (["webp"], [[1, 1]], [(1, "webp", b"abcde")]))
    memo.keep("too big", (["webp"], [[1, 1]], [(1, "webp", b"x" * 11)]))
    assert list(memo.entries) == ["b", "c"]
    assert memo.size == 10


@pytest.mark.parametrize("base_url", ["/media/", "https://cdn.example.com/m/", "/m/x"])
@pytest.mark.parametrize(
    "name",
    [
        "covers/2026/12/a1b2c3.jpg",
        "covers/한글 이름 (1).png",
        "a;b?c#d%20.jpg",
        "~x/it's.webp",
        "/leading.jpg",
        "a//b.jpg",
        "./a.jpg",
        "a/./b.jpg",
        "a/../b.jpg",
        "..",
        "a/..",
        "http://elsewhere.example/x.jpg",
        "folder/",
    ],
)
def test_a_files_url_is_the_storages(tmp_path, base_url, name):
    from django.core.files.storage import FileSystemStorage

    storage = FileSystemStorage(location=tmp_path, base_url=base_url)
    assert renditions.file_url(name, storage) == storage.url(name)


def test_a_file_on_another_storage_is_asked_of_it():
    class Signed:
        def url(self, name):
            return f"https://bucket.example/{name}?signature=1"

    assert renditions.file_url("covers/a.jpg", Signed()) == (
        "https://bucket.example/covers/a.jpg?signature=1"
    )


@pytest.mark.parametrize(
    "name",
    [
        "covers/2026/12/ab12.png",
        "a.b.c.jpg",
        "x/.hidden",
        "x/.hidden.png",
        "x/y.",
        "noext",
        "/abs/p.png",
        "//abs/p.png",
        "a//b.png",
        "./a.png",
        "a/./b.png",
        "a/",
        "a/.",
        "..",
        "a/../b.png",
        "x/..png",
        "한글/사진.JPG",
        "a/b.c/d",
        ".",
        "",
    ],
)
def test_a_renditions_folder_is_the_name_without_its_extension_as_pathlib_cuts_it(name):
    try:
        expected = f"renditions/{PurePosixPath(name).with_suffix('')}"
    except ValueError:
        with pytest.raises(ValueError, match="empty name"):
            renditions.folder_of(name)
    else:
        assert renditions.folder_of(name) == expected
