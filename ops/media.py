"""Uploads served by the site itself, for a deployment whose front proxy does not serve
/media/ (deploy/nginx.conf does; settings.MEDIA_SERVE turns this off then).

Only names the site makes are answered: an upload's name from
articles.models.common.generated_name ("covers/2026/12/<32 hex>.png") and a rendition of one
("renditions/covers/2026/12/<32 hex>/640.webp"). Anything else is a 404 without a look at the
disk: "..", encoded or not, a backslash, an absolute path, a folder, a name that was never
generated. A name that passes is still resolved with its links followed and must stay inside
MEDIA_ROOT, so a link planted in the folder cannot reach out of it.

The content type comes from the extension, which generated_name took from the picture's
verified format (never from the client), and is sent with nosniff, so no browser reads a
picture as a page. Names never change content, so the answer may be kept for a year.
"""

import os
import re
import stat

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, storages
from django.http import FileResponse, Http404, HttpResponse
from django.urls import path
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

# The upload's extension (articles/images.py SUFFIXES) -> the type it is served with.
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
}
_ORIGINAL = r"(?:covers|logos|people)/[0-9]{4}/[0-9]{2}/[0-9a-f]{32}"
_EXTENSION = r"(?P<extension>jpe?g|png|webp|gif)"
GENERATED_NAME = re.compile(
    rf"{_ORIGINAL}\.{_EXTENSION}|renditions/{_ORIGINAL}/[1-9][0-9]{{0,4}}\.(?P<rendition>"
    rf"jpe?g|png|webp|gif|avif)",
    re.ASCII,
)


def content_type(name: str) -> str | None:
    """The type a generated name is served with; None for any other name."""
    match = GENERATED_NAME.fullmatch(name)
    if match is None:
        return None
    return CONTENT_TYPES[match["extension"] or match["rendition"]]


def media_file(name: str) -> str | None:
    """The real path of a stored upload called `name`, or None: not a generated name, not in
    the file-system storage, not a regular file, or (links followed) outside MEDIA_ROOT."""
    if content_type(name) is None:
        return None
    storage = storages["default"]
    try:
        path = storage.path(name)
        root = os.path.realpath(storage.location)
    except (NotImplementedError, AttributeError, SuspiciousFileOperation):
        return None  # not on a file system; a name it refuses
    real = os.path.realpath(path)
    if os.path.commonpath([root, real]) != root:
        return None
    return real


@require_safe
def serve(request, name: str):
    """GET and HEAD of /media/<name>, with Last-Modified and If-Modified-Since."""
    path = media_file(name)
    if path is None:
        raise Http404("없는 파일입니다.")
    try:
        handle = open(path, "rb")  # noqa: SIM115 (FileResponse closes it)
    except OSError:
        raise Http404("없는 파일입니다.") from None
    info = os.fstat(handle.fileno())
    if not stat.S_ISREG(info.st_mode):
        handle.close()
        raise Http404("없는 파일입니다.")
    headers = {
        "Last-Modified": http_date(info.st_mtime),
        "Cache-Control": settings.MEDIA_CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }
    # 304 for If-Modified-Since (412 for If-Unmodified-Since), else the headers alone.
    answer = get_conditional_response(
        request,
        last_modified=int(info.st_mtime),
        response=HttpResponse(content_type=content_type(name), headers=headers),
    )
    if answer.status_code != 200 or request.method == "HEAD":
        handle.close()
        if answer.status_code == 200:
            answer["Content-Length"] = str(info.st_size)
        return answer
    return FileResponse(handle, content_type=content_type(name), headers=headers)


def urlpatterns() -> list:
    """The /media/ route when uploads are on this file system and no proxy serves them
    (MEDIA_SERVE, on by default); none otherwise, so /media/ is then a 404 here."""
    if not settings.MEDIA_SERVE or not isinstance(storages["default"], FileSystemStorage):
        return []
    return [path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", serve, name="media")]
