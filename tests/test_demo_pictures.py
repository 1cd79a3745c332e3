"""The demo seed draws its own pictures (articles/artwork.py): an abstract cover for every story,
an initials logo for every company and an avatar for every person, the same ones on every run,
attached the standard way so that each gets its renditions."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from articles import artwork
from articles.models import Article, Company, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed(django_capture_on_commit_callbacks):
    def seed():
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", stdout=out)
        return out.getvalue()

    return seed


def stored_files(root) -> set[str]:
    return {str(path.relative_to(root)) for path in Path(root).rglob("*") if path.is_file()}


def test_every_story_company_and_person_gets_its_drawn_picture_once(seed, media_root):
    seed()
    for model, field, record in (
        (Article, "cover_image", "cover_renditions"),
        (Company, "logo", "logo_renditions"),
        (Person, "photo", "photo_renditions"),
    ):
        rows = list(model.objects.all())
        assert rows
        for row in rows:
            name = getattr(row, field).name
            smallest = getattr(row, record)["sizes"][0][0]
            assert getattr(row, record)["source"] == name, row
            assert default_storage.exists(
                f"renditions/{Path(name).with_suffix('')}/{smallest}.webp"
            )

    story = Article.objects.get(title="코드 리뷰, 왜 하루를 넘기지 않을까요?")
    with story.cover_image.open("rb") as file:
        assert file.read() == artwork.cover(story.title, story.kind)
    assert story.cover_renditions["sizes"][-1] == [1280, 720]
    company = Company.objects.get(slug="gyeolsan-lab")
    with company.logo.open("rb") as file:
        assert file.read() == artwork.logo("gyeolsan-lab", "GL")
    covers = set()
    for other in Article.objects.all():
        with other.cover_image.open("rb") as file:
            covers.add(file.read())
    assert len(covers) == Article.objects.count()

    files = stored_files(media_root)
    assert "바꾼 것이 없습니다" in seed()
    assert stored_files(media_root) == files


def test_drawing_is_deterministic_and_differs_by_key():
    assert artwork.cover("같은 제목", "feed") == artwork.cover("같은 제목", "feed")
    assert artwork.cover("같은 제목", "feed") != artwork.cover("다른 제목", "feed")
    assert artwork.avatar("kwon-seojin") == artwork.avatar("kwon-seojin")
    assert artwork.avatar("kwon-seojin") != artwork.avatar("yoon-haram")
    assert artwork.initials_of("gyeolsan-lab") == "GL"
    assert artwork.initials_of("handdam") == "H"


def test_a_site_seeded_before_there_were_pictures_gets_them():
    call_command("seed_demo", stdout=StringIO())
    Article.objects.update(cover_image="")
    Company.objects.update(logo="")
    stories = Article.objects.count()

    output = StringIO()
    call_command("seed_demo", stdout=output)

    assert f"커버 {stories}개" in output.getvalue()
    assert Article.objects.count() == stories
    assert not Article.objects.filter(cover_image="").exists()
    assert not Company.objects.filter(logo="").exists()
