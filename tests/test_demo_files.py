import shutil

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from articles.demo import DemoContentError, load
from articles.models import Company

DEMO_DIR = settings.BASE_DIR / "demo"
FIRST_STORY = "stories/01-code-review-within-a-day.md"


@pytest.fixture
def demo_copy(tmp_path):
    """A copy of demo/ that a test may break."""
    return shutil.copytree(DEMO_DIR, tmp_path / "demo")


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_demo_files_load_every_row_in_file_order():
    content = load(DEMO_DIR)

    assert len(content.companies) == 6
    assert len(content.people) == 16
    assert [row["slug"] for row in content.series] == ["moving-to-postgresql"]
    assert len(content.stories) == 27
    assert [row["slug"] for row in content.collections] == [
        "start-here",
        "lessons-from-production",
        "for-junior-developers",
    ]
    assert content.companies[0]["tech_stack"][:2] == ["Python", "Django"]
    assert content.people[0]["company"] == "gyeolsan-lab"


def test_demo_story_files_give_front_matter_fields_and_the_body_after_it():
    stories = load(DEMO_DIR).stories

    first = stories[0]
    assert first["title"] == "코드 리뷰, 왜 하루를 넘기지 않을까요?"
    assert first["featured"] is True
    assert first["days_ago"] == 3
    assert first["view_count"] == 1840
    assert first["people"] == ["kwon-seojin"]
    assert first["body"].startswith("결산랩 플랫폼팀에는 오래된 약속이 하나 있습니다.")
    assert first["body"].endswith("가장 좋은 자리라고 생각해요.")
    assert "featured" not in stories[1]
    assert [story["series_part"] for story in stories if story["series"]] == [1, 2, 3, 4]
    # TOML has no null: a story outside a series leaves both out and reads None, as the seed expects.
    assert first["series"] is None
    assert first["series_part"] is None
    scheduled = stories[-1]
    assert scheduled["publish_in_days"] == 3
    assert "days_ago" not in scheduled
    assert sum("original_url" in story for story in stories) == 2
    assert [story["status"] for story in stories].count("draft") == 1


def test_demo_story_order_comes_from_the_number_in_the_file_name(demo_copy):
    stories = demo_copy / "stories"
    (stories / "27-gyeolsan-lab-first-conference.md").rename(stories / "00-conference.md")

    titles = [story["title"] for story in load(demo_copy).stories]

    assert titles[0] == "결산랩, 첫 개발자 컨퍼런스 '정산의 밤' 개최"
    assert titles[1] == "코드 리뷰, 왜 하루를 넘기지 않을까요?"


@pytest.mark.parametrize("file", [FIRST_STORY, "series.toml"])
def test_a_demo_file_that_is_not_toml_gives_the_line_of_the_mistake(demo_copy, file):
    path = demo_copy / file
    lines = path.read_text(encoding="utf-8").split("\n")
    number, line = next(
        (n, line)
        for n, line in enumerate(lines, start=1)
        if "slug =" in line or "view_count =" in line
    )
    edit(path, line, line.partition("=")[0] + "=")

    with pytest.raises(DemoContentError, match=f"at line {number}, ") as error:
        load(demo_copy)

    assert str(error.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (FIRST_STORY, "+++\n", "", "머리말을 여는 '\\+\\+\\+'"),
        (FIRST_STORY, "featured = true\n+++", "featured = true", "머리말을 닫는"),
        (
            FIRST_STORY,
            'title = "코드 리뷰, 왜 하루를 넘기지 않을까요?"\n',
            "",
            "'title' 필드가 없습니다",
        ),
        (FIRST_STORY, "days_ago = 3", "days-ago = 3", "알 수 없는 필드입니다: 'days-ago'"),
        (FIRST_STORY, "featured = true", 'featured = "yes"', "'featured' 필드의 값은 true/false"),
        (FIRST_STORY, 'people = ["kwon-seojin"]', 'people = ["nobody"]', "people.toml에 없습니다"),
        (
            "people.toml",
            'company = "gyeolsan-lab"',
            'company = "nowhere"',
            r"1번째 \[\[person\]\]: 'company' 필드의 값이 companies.toml에 없습니다: 'nowhere'",
        ),
        ("companies.toml", "[[company]]", "[[companies]]", r"\[\[company\]\] 항목만"),
        ("collections.toml", '"처음 팀장이 된 해에 배운 것들"', '"없는 글"', "stories/에 없습니다"),
    ],
)
def test_a_malformed_demo_file_gives_an_error_naming_it(demo_copy, file, old, new, message):
    path = demo_copy / file
    edit(path, old, new)

    with pytest.raises(DemoContentError, match=message) as error:
        load(demo_copy)

    assert str(error.value).startswith(f"{path}: ")


def test_a_demo_story_file_without_a_number_is_refused(demo_copy):
    path = demo_copy / "stories" / "conference.md"
    (demo_copy / "stories" / "27-gyeolsan-lab-first-conference.md").rename(path)

    with pytest.raises(DemoContentError, match="번호와 '-'로 시작") as error:
        load(demo_copy)

    assert str(error.value).startswith(f"{path}: ")


def test_two_demo_stories_with_one_title_are_refused(demo_copy):
    first = (demo_copy / FIRST_STORY).read_text(encoding="utf-8")
    (demo_copy / "stories" / "28-copy.md").write_text(first, encoding="utf-8")

    with pytest.raises(DemoContentError, match="제목이 다른 파일과 같습니다"):
        load(demo_copy)


@pytest.mark.django_db
def test_seed_command_names_the_malformed_file_and_writes_nothing(demo_copy, settings):
    settings.BASE_DIR = demo_copy.parent
    edit(demo_copy / "series.toml", 'slug = "moving-to-postgresql"', "slug = 1")

    with pytest.raises(CommandError, match=r"series\.toml: 1번째 \[\[series\]\]: 'slug'"):
        call_command("seed_demo")

    assert not Company.objects.exists()
