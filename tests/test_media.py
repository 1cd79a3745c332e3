"""Uploads in production: the storage chosen from the environment (culture.env.media_storage),
/media/ served by the site itself with DEBUG off (ops/media.py: generated names only, inside
MEDIA_ROOT, the stored type, nosniff, a year's cache, HEAD and If-Modified-Since), and stored
pictures removed once no row holds them (articles/uploads.py), only after the commit."""

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.db import transaction
from django.test import override_settings
from django.utils.http import http_date

from articles import images, renditions
from articles.models import Article, Company
from articles.models.common import generated_name
from articles.services import delete_stories, restore_revision, save_story
from bench import frontproxy
from culture.env import media_storage
from ops import media
from tests.editorial_support import change_url, story_data
from tests.factories import ArticleFactory, CompanyFactory, PersonFactory
from tests.test_editorial_uploads import picture

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE = "public, max-age=31536000, immutable"
PNG = picture("PNG").read()


@pytest.fixture
def root(settings, tmp_path):
    """MEDIA_ROOT in a folder of its own, with a picture just outside it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    (tmp_path / "secret.png").write_bytes(PNG)
    return settings.MEDIA_ROOT


def stored(root: Path, folder: str = "covers", suffix: str = ".png") -> str:
    """A picture written under a generated-looking name; returns the name."""
    name = f"{folder}/2026/12/{uuid.uuid4().hex}{suffix}"
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(PNG)
    return name


def rendition(root: Path, name: str, width: int = 640) -> Path:
    path = root / renditions.folder_of(name) / f"{width}.webp"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF")
    return path


# --- serving --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_uploaded_cover_is_served_with_its_real_type_with_debug_off(client, editor, root):
    story = ArticleFactory(draft=True)
    upload = picture("JPEG", name="표지.png")  # a JPEG, whatever the client calls it
    response = client.post(change_url(story), story_data(story, cover_image=upload))
    assert response.status_code == 302
    url = Article.objects.get(pk=story.pk).cover_image.url
    assert url.startswith("/media/covers/")
    assert url.endswith(".jpg")

    client.logout()
    served = client.get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Cache-Control"] == CACHE
    upload.seek(0)
    assert b"".join(served.streaming_content) == upload.read()


def test_head_and_if_modified_since(client, root):
    name = stored(root)
    mtime = (root / name).stat().st_mtime

    head = client.head(f"/media/{name}")
    assert head.status_code == 200
    assert head["Content-Length"] == str(len(PNG))
    assert head["Last-Modified"] == http_date(mtime)
    assert head["Content-Type"] == "image/png"
    assert head.content == b""

    again = client.get(f"/media/{name}", headers={"if-modified-since": http_date(mtime)})
    assert again.status_code == 304
    assert again["Cache-Control"] == CACHE
    older = client.get(f"/media/{name}", headers={"if-modified-since": http_date(mtime - 60)})
    assert older.status_code == 200
    changed = client.get(f"/media/{name}", headers={"if-unmodified-since": http_date(mtime - 60)})
    assert changed.status_code == 412


def test_only_get_and_head(client, root):
    assert client.post(f"/media/{stored(root)}").status_code == 405


def test_a_rendition_is_served_with_its_own_type(client, root):
    path = rendition(root, stored(root))
    response = client.get("/media/" + path.relative_to(root).as_posix())
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"


@pytest.mark.parametrize(
    "path",
    [
        "/media/../secret.png",
        "/media/%2e%2e/secret.png",
        "/media/%2E%2E%2Fsecret.png",
        "/media/covers/2026/12/../../../../secret.png",
        "/media//etc/passwd",
        "/media/%2Fetc%2Fpasswd",
        "/media/..%5csecret.png",
        "/media/covers\\..\\..\\secret.png",
        "/media/secret.png",
        "/media/covers/",
        "/media/covers/2026/12/",
    ],
)
def test_traversal_and_odd_paths_are_404(client, root, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "covers/2026/12/photo.png",  # a name the site never makes
        "covers/2026/12/{hex}.html",  # a generated stem with another extension
        "covers/2026/12/{hex}",  # no extension: no type to serve it with
        "covers/2026/12/{HEX}.png",
        "uploads/2026/12/{hex}.png",  # not one of the upload folders
        "covers/2026/12/{hex}.png.php",
        "renditions/covers/2026/12/{hex}/wide.webp",
    ],
)
def test_a_file_with_a_name_the_site_does_not_make_is_404(client, root, name):
    hex_ = uuid.uuid4().hex
    name = name.format(hex=hex_, HEX=hex_.upper())
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(PNG)
    assert client.get(f"/media/{name}").status_code == 404


def test_a_folder_with_a_generated_name_is_404(client, root):
    name = f"covers/2026/12/{uuid.uuid4().hex}.png"
    (root / name).mkdir(parents=True)
    assert client.get(f"/media/{name}").status_code == 404


def test_a_missing_file_is_404(client, root):
    assert client.get(f"/media/covers/2026/12/{uuid.uuid4().hex}.png").status_code == 404


def test_a_link_out_of_media_root_is_404(client, root):
    name = f"covers/2026/12/{uuid.uuid4().hex}.png"
    (root / name).parent.mkdir(parents=True)
    (root / name).symlink_to(root.parent / "secret.png")
    assert client.get(f"/media/{name}").status_code == 404

    # A linked folder: logos/2026 is the folder above MEDIA_ROOT.
    (root / "logos").mkdir()
    (root / "logos" / "2026").symlink_to(root.parent, target_is_directory=True)
    outside = root.parent / "12" / f"{uuid.uuid4().hex}.png"
    outside.parent.mkdir()
    shutil.copy(root.parent / "secret.png", outside)
    assert client.get(f"/media/logos/2026/12/{outside.name}").status_code == 404


def test_a_link_inside_media_root_is_followed(client, root):
    name = f"covers/2026/12/{uuid.uuid4().hex}.png"
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).symlink_to(root / stored(root))
    assert client.get(f"/media/{name}").status_code == 200


@pytest.mark.parametrize("folder", ["covers", "logos", "people"])
def test_every_generated_name_and_its_renditions_are_served(folder):
    name = generated_name(folder, "x.png", picture("WEBP"))
    assert media.content_type(name) == "image/webp"
    assert media.content_type(f"{renditions.folder_of(name)}/1280.avif") == "image/avif"


def test_the_route_is_there_only_when_the_site_serves_the_file_system():
    assert [p.name for p in media.urlpatterns()] == ["media"]
    with override_settings(MEDIA_SERVE=False):
        assert media.urlpatterns() == []
    with override_settings(STORAGES={"default": s3({"S3_BUCKET": "b"}), **STATIC}):
        assert media.urlpatterns() == []


# --- storage from the environment -------------------------------------------------------------

STATIC = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def s3(env: dict) -> dict:
    return media_storage(CACHE, env={"MEDIA_STORAGE": "s3", **env})


def test_the_file_system_is_the_default():
    expected = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert media_storage(CACHE, env={}) == expected
    assert media_storage(CACHE, env={"MEDIA_STORAGE": " FileSystem "}) == expected


def test_s3_takes_every_variable():
    config = s3(
        {
            "S3_BUCKET": "culture-media",
            "S3_ENDPOINT_URL": "https://s3.example.net",
            "S3_REGION": "ap-northeast-2",
            "S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
            "S3_SECRET_ACCESS_KEY": "secret",
            "S3_PUBLIC_URL": "https://media.example.com/culture/",
        }
    )
    assert config == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "culture-media",
            "endpoint_url": "https://s3.example.net",
            "region_name": "ap-northeast-2",
            "access_key": "AKIAEXAMPLE",
            "secret_key": "secret",
            "object_parameters": {"CacheControl": CACHE},
            "file_overwrite": True,
            "querystring_auth": False,
            "querystring_expire": 604800,
            "signature_version": "s3v4",
            "custom_domain": "media.example.com/culture",
            "url_protocol": "https:",
        },
    }
    with override_settings(STORAGES={"default": config, **STATIC}):
        url = storages["default"].url("covers/2026/12/a.png")
    assert url == "https://media.example.com/culture/covers/2026/12/a.png"


def test_file_urls_follow_the_default_storage_when_it_changes(settings):
    config = s3({"S3_BUCKET": "culture-media", "S3_PUBLIC_URL": "https://media.example.com/m/"})
    on_disk = renditions.file_url("covers/2026/12/a.png")  # default_storage, unwrapped
    assert on_disk == f"{settings.MEDIA_URL}covers/2026/12/a.png"
    with override_settings(STORAGES={"default": config, **STATIC}):
        assert renditions.file_url("covers/2026/12/a.png") == (
            "https://media.example.com/m/covers/2026/12/a.png"
        )
        folder = renditions.urls_of("covers/2026/12/a.png", Article.cover_image.field.storage)
        assert folder(320, "webp").startswith("https://media.example.com/m/renditions/")
    assert renditions.file_url("covers/2026/12/a.png") == on_disk


def test_s3_without_a_public_url_signs_its_links():
    keys = {"S3_ACCESS_KEY_ID": "AKIAEXAMPLE", "S3_SECRET_ACCESS_KEY": "secret"}
    config = s3({"S3_BUCKET": "b", "S3_REGION": "us-east-1", **keys})
    assert config["OPTIONS"]["querystring_auth"] is True
    assert "custom_domain" not in config["OPTIONS"]
    with override_settings(STORAGES={"default": config, **STATIC}):
        url = storages["default"].url("covers/a.png")  # signed here, no request made
    assert "X-Amz-Signature=" in url
    assert "/covers/a.png" in url


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDIA_STORAGE": "s3"}, "MEDIA_STORAGE=s3 needs S3_BUCKET"),
        ({"MEDIA_STORAGE": "disk"}, "MEDIA_STORAGE must be filesystem or s3, got 'disk'."),
        (
            {"MEDIA_STORAGE": "s3", "S3_BUCKET": "b", "S3_ACCESS_KEY_ID": "k"},
            "S3_SECRET_ACCESS_KEY is not set",
        ),
        (
            {"MEDIA_STORAGE": "s3", "S3_BUCKET": "b", "S3_SECRET_ACCESS_KEY": "s"},
            "S3_ACCESS_KEY_ID is not set",
        ),
        (
            {"MEDIA_STORAGE": "s3", "S3_BUCKET": "b", "S3_PUBLIC_URL": "media.example.com"},
            "S3_PUBLIC_URL must be an http:// or https:// address",
        ),
        (
            {"MEDIA_STORAGE": "s3", "S3_BUCKET": "b", "S3_ENDPOINT_URL": "ftp://x"},
            "S3_ENDPOINT_URL must be an http:// or https:// address",
        ),
    ],
)
def test_settings_that_cannot_work_are_refused(env, message):
    with pytest.raises(ImproperlyConfigured) as error:
        media_storage(CACHE, env=env)
    assert message in str(error.value)


def test_the_site_refuses_to_start_on_s3_without_a_bucket():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "MEDIA_"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_ROOT,
        env={**env, "MEDIA_STORAGE": "s3", "DJANGO_SETTINGS_MODULE": "culture.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "MEDIA_STORAGE=s3 needs S3_BUCKET" in result.stderr


# --- old pictures removed after the commit ---------------------------------------------------


@pytest.mark.django_db
def test_a_replaced_cover_and_its_renditions_go_after_the_commit(
    root, django_capture_on_commit_callbacks
):
    old, new = stored(root), stored(root)
    story = ArticleFactory(cover_image=old)
    sizes = rendition(root, old).parent
    story.cover_image.name = new
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        save_story(story, by=None)
        assert (root / old).is_file()  # the transaction has not committed yet
    for callback in callbacks:
        callback()
    assert not (root / old).exists()
    assert not sizes.exists()
    assert (root / new).is_file()


@pytest.mark.django_db
def test_a_cleared_cover_goes_and_an_unchanged_one_stays(root, django_capture_on_commit_callbacks):
    kept, cleared = stored(root), stored(root)
    story, other = ArticleFactory(cover_image=kept), ArticleFactory(cover_image=cleared)
    other.cover_image = None
    with django_capture_on_commit_callbacks(execute=True):
        save_story(story, by=None, audit="제목만 고침")
        save_story(other, by=None)
    assert (root / kept).is_file()
    assert not (root / cleared).exists()


@pytest.mark.django_db
def test_deleted_stories_take_their_covers(root, django_capture_on_commit_callbacks):
    names = [stored(root), stored(root)]
    stories = [ArticleFactory(cover_image=name) for name in names]
    with django_capture_on_commit_callbacks(execute=True):
        assert delete_stories(stories) == 2
    assert not any((root / name).exists() for name in names)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_replacement_keeps_the_old_cover(root):
    old, new = stored(root), stored(root)
    story = ArticleFactory(cover_image=old)
    story.cover_image.name = new

    def save_then_fail():
        with transaction.atomic():
            save_story(story, by=None)
            raise RuntimeError("the request failed after the save")

    with pytest.raises(RuntimeError):
        save_then_fail()
    assert Article.objects.get(pk=story.pk).cover_image.name == old
    assert (root / old).is_file()

    story.refresh_from_db()
    story.cover_image.name = new
    save_story(story, by=None)  # this one commits
    assert not (root / old).exists()


@pytest.mark.django_db
def test_restoring_a_revision_whose_cover_was_removed_keeps_the_current_one(
    root, django_capture_on_commit_callbacks
):
    old, new = stored(root), stored(root)
    story = ArticleFactory(cover_image="")
    story.cover_image.name = old
    first = save_story(story, by=None)
    story.cover_image.name = new
    with django_capture_on_commit_callbacks(execute=True):
        save_story(story, by=None)
    assert not (root / old).exists()
    restore_revision(first, by=None)
    assert Article.objects.get(pk=story.pk).cover_image.name == new


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("factory", "field", "folder"),
    [(CompanyFactory, "logo", "logos"), (PersonFactory, "photo", "people")],
)
def test_a_replaced_or_deleted_logo_or_photo_goes_after_the_commit(
    root, django_capture_on_commit_callbacks, factory, field, folder
):
    first, second = stored(root, folder), stored(root, folder)
    row = factory(**{field: first})
    sizes = rendition(root, first).parent
    setattr(row, field, second)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row.save()
    assert (root / first).is_file()
    for callback in callbacks:
        callback()
    assert not (root / first).exists()
    assert not sizes.exists()

    with django_capture_on_commit_callbacks(execute=True):
        row.save(update_fields=["name"])  # the picture is not touched
        assert (root / second).is_file()
        type(row).objects.filter(pk=row.pk).delete()
    assert not (root / second).exists()


@pytest.mark.django_db
def test_a_picture_already_gone_is_no_error(root, django_capture_on_commit_callbacks, caplog):
    company = CompanyFactory(logo=f"logos/2026/12/{uuid.uuid4().hex}.png")
    with django_capture_on_commit_callbacks(execute=True):
        company.delete()
    assert not Company.objects.exists()
    assert "could not remove" not in caplog.text


def test_rendition_folder():
    assert renditions.folder_of("covers/2026/12/ab.png") == "renditions/covers/2026/12/ab"


def test_the_generated_name_pattern_is_strict():
    assert media.content_type(f"covers/2026/12/{'a' * 32}.png") == "image/png"
    assert media.content_type(f"covers/2026/12/{'a' * 32}.png\n") is None
    assert media.content_type(f"renditions/covers/2026/12/{'a' * 32}/0.png") is None


# --- the front proxy (deploy/nginx.conf) -----------------------------------------------------


@pytest.mark.skipif(frontproxy.nginx() is None, reason="nginx is not installed")
def test_the_shipped_nginx_config_passes_nginx_t(tmp_path):
    main = frontproxy.render(
        tmp_path,
        https_port=8443,
        http_port=8080,
        upstream="127.0.0.1:8000",
        media=tmp_path / "media",
        static=tmp_path / "static",
    )
    result = frontproxy.test_config(main)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_proxy_serves_the_names_the_site_serves():
    shipped = frontproxy.SHIPPED.read_text()
    pattern = re.compile(re.search(r'location ~ "\^/media/(.+)\$" \{', shipped)[1])
    original = f"covers/2026/12/{'a' * 32}"
    names = [
        f"{original}.png",
        f"{original}.jpeg",
        f"logos/2026/12/{'b' * 32}.gif",
        f"renditions/{original}/640.webp",
        f"renditions/{original}/1280.avif",
        f"{original}.avif",
        f"{original}.PNG",
        f"{original}.png.php",
        f"renditions/{original}/0.webp",
        f"uploads/2026/12/{'a' * 32}.png",
        "covers/2026/12/a.png",
    ]
    for name in names:
        assert (pattern.fullmatch(name) is not None) == (media.content_type(name) is not None)


def test_the_proxy_takes_the_largest_upload_the_site_takes():
    shipped = frontproxy.SHIPPED.read_text()
    megabytes = int(re.search(r"client_max_body_size (\d+)m;", shipped)[1])
    assert megabytes * 1024 * 1024 > images.MAX_BYTES
