"""Read the demo content, the data files under demo/ that ``manage.py seed_demo`` seeds.

companies.toml, people.toml, series.toml and collections.toml each hold an array of tables
([[company]], [[person]], [[series]], [[collection]]). Each story is a Markdown file in stories/
that opens with TOML front matter between two ``+++`` lines; its body follows. The number that
starts a story's file name gives its place. demo/README.md describes the fields.

``load()`` returns the rows as plain dicts, in file order, as the seed command reads them, and
raises DemoContentError, naming the file and the line or field, for anything malformed or any
reference to a company, person, series or story that is not there.
"""

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

FENCE = "+++"
STORY_FILE_NAME = re.compile(r"(\d+)-.*\.md")

# TOML has no null: a story outside a series leaves these out and reads them as None.
STORY_NONE_DEFAULTS = ("series", "series_part")

TYPE_NAMES = {str: "문자열", int: "정수", bool: "true/false", list: "문자열 목록"}


class DemoContentError(ValueError):
    """A demo file is missing or malformed. The message starts with the file's path."""


@dataclass(frozen=True)
class DemoContent:
    companies: list[dict]
    people: list[dict]
    series: list[dict]
    stories: list[dict]
    collections: list[dict]


@dataclass(frozen=True)
class Schema:
    table: str  # the name of the array of tables ([[company]]) or "story"
    required: dict[str, type]
    optional: dict[str, type] = field(default_factory=dict)


COMPANY = Schema(
    "company",
    required={"name": str, "slug": str, "tech_stack": list},
    optional=dict.fromkeys(
        ("one_liner", "description", "website", "hiring_url", "location", "size"), str
    ),
)
PERSON = Schema(
    "person",
    required={"name": str, "slug": str, "company": str},
    optional=dict.fromkeys(("nickname", "role", "team", "bio"), str),
)
SERIES = Schema("series", required={"title": str, "slug": str}, optional={"description": str})
COLLECTION = Schema(
    "collection",
    required={"title": str, "slug": str, "stories": list},
    optional={"description": str, "show_on_home": bool, "position": int},
)
STORY = Schema(
    "story",
    required={"kind": str, "title": str},
    optional={
        **dict.fromkeys(
            ("excerpt", "company", "byline", "job_family", "series", "status", "original_url"), str
        ),
        **dict.fromkeys(("series_part", "publish_in_days", "days_ago", "hour", "view_count"), int),
        "featured": bool,
        "people": list,
        "tags": list,
    },
)


def load(directory: str | Path) -> DemoContent:
    directory = Path(directory)
    companies = read_table(directory / "companies.toml", COMPANY)
    company_slugs = slugs(companies, "companies.toml")
    people = read_table(directory / "people.toml", PERSON, known={"company": company_slugs})
    series = read_table(directory / "series.toml", SERIES)
    known = {
        "company": company_slugs,
        "people": slugs(people, "people.toml"),
        "series": slugs(series, "series.toml"),
    }
    stories = []
    titles = {}
    for path in story_paths(directory / "stories"):
        story = read_story(path, known)
        if story["title"] in titles:
            raise DemoContentError(f"{path}: 제목이 다른 파일과 같습니다: {titles[story['title']]}")
        titles[story["title"]] = path
        stories.append(story)
    collections = read_table(
        directory / "collections.toml", COLLECTION, known={"stories": ("stories/", set(titles))}
    )
    return DemoContent(companies, people, series, stories, collections)


def slugs(rows, file_name):
    return file_name, {row["slug"] for row in rows}


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DemoContentError(f"{path}: 파일이 없습니다.") from None
    except UnicodeDecodeError as error:
        raise DemoContentError(
            f"{path}: UTF-8로 읽을 수 없는 바이트가 있습니다({error.start}번째 바이트)."
        ) from None


def parse_toml(path: Path, text: str, first_line: int = 1) -> dict:
    # tomllib counts lines from the start of what it is given: padding the text with the lines
    # before it makes the "(at line N, column M)" of its errors a line of the file.
    try:
        return tomllib.loads("\n" * (first_line - 1) + text)
    except tomllib.TOMLDecodeError as error:
        raise DemoContentError(f"{path}: TOML을 읽을 수 없습니다: {error}") from None


def read_table(path: Path, schema: Schema, known=None) -> list[dict]:
    data = parse_toml(path, read_text(path))
    rows = data.get(schema.table)
    if set(data) != {schema.table} or not isinstance(rows, list):
        raise DemoContentError(f"{path}: [[{schema.table}]] 항목만 있어야 합니다.")
    seen = set()
    for number, row in enumerate(rows, start=1):
        where = f"{path}: {number}번째 [[{schema.table}]]"
        check(where, row, schema, known or {})
        if row["slug"] in seen:
            raise DemoContentError(f"{where}: slug가 앞의 항목과 같습니다: {row['slug']!r}")
        seen.add(row["slug"])
    return rows


def story_paths(directory: Path) -> list[Path]:
    """The story files, ordered by the number that starts their names."""
    if not directory.is_dir():
        raise DemoContentError(f"{directory}: 폴더가 없습니다.")
    numbered = {}
    for path in directory.glob("*.md"):
        match = STORY_FILE_NAME.fullmatch(path.name)
        if match is None:
            raise DemoContentError(f"{path}: 파일 이름은 번호와 '-'로 시작해야 합니다.")
        number = int(match[1])
        if number in numbered:
            raise DemoContentError(f"{path}: 번호가 다른 파일과 같습니다: {numbered[number]}")
        numbered[number] = path
    return [numbered[number] for number in sorted(numbered)]


def read_story(path: Path, known) -> dict:
    lines = read_text(path).split("\n")
    if lines[0] != FENCE:
        raise DemoContentError(f"{path}: 1행: 첫 줄은 머리말을 여는 {FENCE!r} 줄이어야 합니다.")
    try:
        end = lines.index(FENCE, 1)
    except ValueError:
        raise DemoContentError(f"{path}: 머리말을 닫는 {FENCE!r} 줄이 없습니다.") from None
    story = parse_toml(path, "\n".join(lines[1:end]), first_line=2)
    check(str(path), story, STORY, known)
    # The body is everything after the closing fence, without the blank lines around it.
    body = "\n".join(lines[end + 1 :]).strip("\n")
    if not body:
        raise DemoContentError(f"{path}: {end + 1}행: 머리말 뒤에 본문이 없습니다.")
    for name in STORY_NONE_DEFAULTS:
        story.setdefault(name, None)
    story["body"] = body
    return story


def check(where: str, row, schema: Schema, known) -> None:
    """Fail unless row has the schema's fields, of their types, referring to known rows."""
    if not isinstance(row, dict):
        raise DemoContentError(f"{where}: 테이블이어야 합니다.")
    fields = schema.required | schema.optional
    for name in schema.required:
        if name not in row:
            raise DemoContentError(f"{where}: {name!r} 필드가 없습니다.")
    for name, value in row.items():
        expected = fields.get(name)
        if expected is None:
            raise DemoContentError(f"{where}: 알 수 없는 필드입니다: {name!r}")
        # type() rather than isinstance(): a bool is an int, and `featured = 1` is a mistake.
        if type(value) is not expected or (
            expected is list and not all(type(item) is str for item in value)
        ):
            raise DemoContentError(
                f"{where}: {name!r} 필드의 값은 {TYPE_NAMES[expected]} 형식이어야 합니다: {value!r}"
            )
        if name in known:
            file_name, names = known[name]
            for item in value if isinstance(value, list) else [value]:
                if item not in names:
                    raise DemoContentError(
                        f"{where}: {name!r} 필드의 값이 {file_name}에 없습니다: {item!r}"
                    )
