"""The site's writers as the scenarios play them: the API with a token, and an editor in the
admin (a logged-in session that submits change forms the way a browser does)."""

import html.parser
import http.client
import json
import secrets
import struct
import time
import zlib
from urllib.parse import urlencode, urlsplit

from bench.cluster.load import PROBE, PUBLIC_HOST, Answer, fetch


class Api:
    """/api/v1/ with a Bearer token, against one address (a host or the balancer)."""

    def __init__(self, base: str, token: str):
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None, headers=None) -> tuple:
        answer = fetch(
            self.base,
            "/api/v1" + path,
            method=method,
            headers={
                # No token: an anonymous reader's request.
                **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
                "Content-Type": "application/json",
                **(headers or {}),
            },
            body=None if body is None else json.dumps(body).encode(),
            timeout=30,
        )
        try:
            data = json.loads(answer.body) if answer.body else None
        except ValueError:
            data = None
        return answer.status, data

    def create(self, title: str, **fields) -> dict:
        status, data = self.call("POST", "/stories", {"title": title, **fields})
        if status != 201:
            raise RuntimeError(f"POST /stories answered {status}: {data}")
        return data

    def publish(self, story_id: int, at: float | None = None) -> dict:
        body = None if at is None else {"at": iso(at)}
        status, data = self.call("POST", f"/stories/{story_id}/publish", body)
        if status != 200:
            raise RuntimeError(f"publish answered {status}: {data}")
        return data

    def patch(self, story_id: int, version: int, **fields) -> dict:
        status, data = self.call(
            "PATCH", f"/stories/{story_id}", fields, headers={"If-Match": str(version)}
        )
        if status != 200:
            raise RuntimeError(f"PATCH answered {status}: {data}")
        return data


def iso(epoch: float) -> str:
    """An aware UTC timestamp with milliseconds."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))
    return f"{whole}.{int(epoch % 1 * 1000):03d}+00:00"


def story_path(story: dict) -> str:
    """The story page's own address (from the API's absolute url)."""
    return urlsplit(story["url"]).path if story.get("url") else f"/stories/{story['id']}/"


class Editor:
    """A staff session in the admin on one host: cookies kept, CSRF token sent back."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, content_type=None):
        host, _, port = self.base.rpartition(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Host": PUBLIC_HOST, "User-Agent": PROBE}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            for cookie in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return Answer(response.status, data, {k.lower(): v for k, v in response.getheaders()})
        finally:
            conn.close()

    def login(self, username: str, password: str) -> None:
        page = self.request("GET", "/admin/login/?next=/admin/")
        form = parse_form(page.text)
        form.set("username", username)
        form.set("password", password)
        answer = self.request(
            "POST",
            "/admin/login/?next=/admin/",
            urlencode(form.pairs).encode(),
            "application/x-www-form-urlencoded",
        )
        if answer.status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"admin login answered {answer.status}")

    def change(self, path: str, changes: dict, files: dict | None = None) -> Answer:
        """Open a change form, change some fields, save it as a browser would."""
        page = self.request("GET", path)
        if page.status != 200:
            raise RuntimeError(f"GET {path} answered {page.status}")
        fields = parse_form(page.text, form_id="article_form")
        pairs = [(name, value) for name, value in fields.pairs if name not in changes]
        pairs += list(changes.items())
        pairs.append(("_save", "저장"))
        body, content_type = multipart(pairs, files or {})
        return self.request("POST", path, body, content_type)

    def action(self, changelist: str, action: str, ids: list[int]) -> Answer:
        token = self.cookies.get("csrftoken") or ""
        pairs = [("csrfmiddlewaretoken", token), ("action", action), ("index", "0")]
        pairs += [("_selected_action", str(i)) for i in ids]
        return self.request(
            "POST", changelist, urlencode(pairs).encode(), "application/x-www-form-urlencoded"
        )


class Fields:
    """Form fields in document order; a name may repeat (a multiple select)."""

    def __init__(self):
        self.pairs: list[tuple[str, str]] = []

    def add(self, name: str, value: str) -> None:
        self.pairs.append((name, value))

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.pairs if key == name), None)

    def set(self, name: str, value: str) -> None:
        self.pairs = [(key, v) for key, v in self.pairs if key != name] + [(name, value)]


class _FormParser(html.parser.HTMLParser):
    """What a browser would submit from one form: checked boxes only, selected options
    (the first when none is selected in a single select), textareas, no buttons, no files."""

    def __init__(self, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.done = False
        self.fields = Fields()
        self.select: dict | None = None
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.done:
            self.inside = self.form_id is None or attrs.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.add(name, attrs.get("value", "on" if kind in ("checkbox", "radio") else ""))
        elif tag == "select" and name:
            self.select = {
                "name": name,
                "multiple": "multiple" in attrs,
                "chosen": [],
                "first": None,
            }
        elif tag == "option" and self.select is not None:
            value = attrs.get("value", "")
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in attrs:
                self.select["chosen"].append(value)
        elif tag == "textarea" and name:
            self.textarea, self.text = name, []

    def handle_data(self, data):
        if self.textarea is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "form":
            self.inside, self.done = False, True
        elif tag == "select" and self.select is not None:
            chosen = self.select["chosen"]
            if not chosen and not self.select["multiple"] and self.select["first"] is not None:
                chosen = [self.select["first"]]
            for value in chosen:
                self.fields.add(self.select["name"], value)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            # Browsers drop the one newline right after <textarea>.
            self.fields.add(self.textarea, "".join(self.text).removeprefix("\n"))
            self.textarea = None


def parse_form(page: str, form_id: str | None = None) -> Fields:
    parser = _FormParser(form_id)
    parser.feed(page)
    return parser.fields


def multipart(pairs: list[tuple[str, str]], files: dict[str, tuple[str, bytes, str]]):
    boundary = "----cluster" + secrets.token_hex(12)
    chunks = []
    for name, value in pairs:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + str(value).encode()
            + b"\r\n"
        )
    for name, (filename, data, content_type) in files.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def png(width: int = 96, height: int = 64, seed: int = 0) -> bytes:
    """A small valid PNG (a gradient; `seed` makes each one's bytes different)."""
    rows = b"".join(
        b"\x00"
        + b"".join(bytes(((x * 5 + seed) % 256, (y * 3) % 256, seed % 256)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
