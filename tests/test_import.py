"""manage.py import_theteams and the admin's import page, checked against the real page dump."""

import base64
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from articles.models import Article, Collection, Company, Kind, Status, Tag
from articles.theteams import fidelity_text
from tests.factories import set_views

pytestmark = pytest.mark.django_db

SEED_VIEW_COUNTS = [669, 2528, 3589]
SEED_COMPANIES = ["오픈서베이", "스포카", "코인원"]


def run_import(path, *args):
    out = StringIO()
    call_command("import_theteams", str(path), *args, stdout=out)
    return out.getvalue()


def story_lines(output, label):
    """The report lines of stories with this outcome (not the collection or the totals)."""
    prefix = "[미리보기: 쓰지 않음] "
    return [
        line for line in output.splitlines() if line.removeprefix(prefix).startswith(label + " ")
    ]


def seed_blocks(seed_file):
    """(title, body line) of each story of the dump, read the simple way: the first non-empty
    line after each `조회수` line is the title, the next one the body."""
    lines = seed_file.read_text(encoding="utf-8").splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.startswith("조회수 "):
            following = [text for text in lines[index + 1 :] if text.strip()]
            blocks.append((following[0].strip(), following[1]))
    return blocks


def imported(seed_file):
    titles = [title for title, _ in seed_blocks(seed_file)]
    return [Article.objects.get(title=title) for title in titles]


def story_dump(title, body, views=10, section="추천 모음"):
    return f"스토리 홈\n\n인터뷰\n\n{section}\n조회수 {views}\n\n{title}\n\n{body}\n\n로그인\n"


@pytest.mark.seed
def test_seed_import_gives_three_faithful_stories(seed_file):
    output = run_import(seed_file)

    stories = imported(seed_file)
    assert [s.view_count for s in stories] == SEED_VIEW_COUNTS
    assert [s.company.name for s in stories] == SEED_COMPANIES
    assert [s.kind for s in stories] == [Kind.INTERVIEW, Kind.FEED, Kind.INTERVIEW]
    assert all(s.status == Status.PUBLISHED for s in stories)
    assert set(Article.objects.published()) == set(stories)
    assert len(story_lines(output, "새로 만듦")) == 3
    assert "컬렉션 새로 만듦" in output


@pytest.mark.seed
def test_every_character_of_each_source_body_is_kept_in_order(seed_file):
    run_import(seed_file)
    for story, (_, body) in zip(imported(seed_file), seed_blocks(seed_file), strict=True):
        remaining = iter(story.body)
        missing = [char for char in fidelity_text(body) if char not in remaining]
        assert missing == [], f"{story.title}: lost {missing[:10]}"


@pytest.mark.seed
def test_hashtags_become_tags_and_leave_the_body(seed_file):
    run_import(seed_file)
    interview, pooling, culture = imported(seed_file)

    assert list(interview.tags.all()) == []
    assert {"스포카", "개발팀", "개발자", "인사이트", "업무일지", "후기"} == set(
        pooling.tags.values_list("name", flat=True)
    )
    assert {"코인원", "블록체인", "인터뷰", "조직문화"} <= set(
        culture.tags.values_list("name", flat=True)
    )
    assert "#스포카" not in pooling.body
    assert "#코인원" not in culture.body


@pytest.mark.seed
def test_pooling_post_shows_its_two_footnotes_as_footnotes(seed_file):
    run_import(seed_file)
    pooling = imported(seed_file)[1]
    html = pooling.body_html

    assert html.count('class="footnote-ref"') == 2
    assert html.count('class="footnote-item"') == 2
    assert '<section class="footnotes">' in html
    assert "↩ " not in pooling.body  # the dump's markers became real back-links


@pytest.mark.seed
def test_interview_pull_quotes_become_block_quotes(seed_file):
    run_import(seed_file)
    interview = imported(seed_file)[0]
    assert interview.body_html.count("<blockquote>") >= 3
    assert interview.body.count("\n\n") > 30  # paragraphs restored


@pytest.mark.seed
def test_section_title_becomes_a_collection_in_page_order(seed_file):
    run_import(seed_file)
    collection = Collection.objects.get()
    lines = [line.strip() for line in seed_file.read_text(encoding="utf-8").splitlines()]
    assert collection.title == lines[lines.index("뉴스") + 2]
    assert [item.article for item in collection.items.all()] == imported(seed_file)


@pytest.mark.seed
def test_importing_again_updates_nothing_and_says_so(seed_file):
    run_import(seed_file)
    before = {a.pk: (a.version, a.view_count) for a in Article.objects.all()}

    output = run_import(seed_file)

    assert Article.objects.count() == 3
    assert Company.objects.count() == 3
    assert Collection.objects.count() == 1
    assert {a.pk: (a.version, a.view_count) for a in Article.objects.all()} == before
    assert len(story_lines(output, "그대로")) == 3
    assert "컬렉션 그대로" in output
    assert "새로 만듦 0, 고침 0, 그대로 3" in output


@pytest.mark.seed
def test_reimport_keeps_views_counted_here_and_never_adds_twice(seed_file):
    run_import(seed_file)
    interview = imported(seed_file)[0]
    set_views(interview, 700)

    run_import(seed_file)

    interview.refresh_from_db()
    assert interview.view_count == 700


def test_changed_story_is_reported_as_updated(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text(story_dump("성능 개선기", "첫 문장입니다.둘째 문장입니다. #성능 #백엔드"))
    run_import(path)
    path.write_text(story_dump("성능 개선기", "첫 문장을 고쳤습니다.둘째 문장입니다. #성능", 20))

    output = run_import(path)

    story = Article.objects.get()
    assert "고침" in output
    assert "body" in output
    assert story.view_count == 20
    assert list(story.tags.values_list("name", flat=True)) == ["성능"]
    assert "첫 문장을 고쳤습니다." in story.body


@pytest.mark.seed
def test_dry_run_shows_the_plan_and_writes_nothing(seed_file):
    output = run_import(seed_file, "--dry-run")

    assert "미리보기" in output
    assert len(story_lines(output, "새로 만듦")) == 3
    for title, _ in seed_blocks(seed_file):
        assert title in output
    assert not Article.objects.exists()
    assert not Company.objects.exists()
    assert not Tag.objects.exists()
    assert not Collection.objects.exists()


@pytest.mark.seed
def test_kind_can_be_overridden(seed_file):
    run_import(seed_file, "--kind", "news")
    assert set(Article.objects.values_list("kind", flat=True)) == {Kind.NEWS}


def test_draft_option_imports_unpublished_stories(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text(story_dump("초안 글", "본문입니다. #태그"))
    run_import(path, "--draft")
    assert Article.objects.get().status == Status.DRAFT
    assert not Article.objects.published().exists()


def test_known_company_is_reused_not_duplicated(tmp_path):
    company = Company.objects.create(name="바른데이터", slug="barun")
    path = tmp_path / "page.txt"
    path.write_text(
        story_dump("바른데이터의 배포 문화", "바른데이터는 매일 배포합니다. #바른데이터")
    )
    run_import(path)
    assert Article.objects.get().company == company
    assert Company.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "1\ud589"),
        (b"\x00\x01\x02binary\x00\xff" * 50, "\ud589"),
        ("스토리 홈\n조회수 5\n\n제목\n\n".encode() + b"\xff\xfe\xfa broken\n", "6\ud589"),
        ("스토리 홈\n\n그냥 글입니다.\n".encode(), "조회수"),
        ("스토리 홈\n조회수 12\n\n\n".encode(), "2\ud589"),
    ],
    ids=["empty", "binary", "not-utf8", "no-block", "no-title"],
)
def test_bad_input_stops_with_the_line_and_writes_nothing(tmp_path, content, message):
    path = tmp_path / "page.txt"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message) as error:
        run_import(path)
    assert "아무것도 가져오지 않았습니다" in str(error.value)
    assert not Article.objects.exists()


def test_a_bad_second_block_rolls_back_the_first(tmp_path):
    path = tmp_path / "page.txt"
    good = story_dump("멀쩡한 글", "본문입니다. #태그").replace("\n\n로그인\n", "\n")
    path.write_text(good + "조회수 3\n\n")
    with pytest.raises(CommandError):
        run_import(path)
    assert not Article.objects.exists()
    assert not Tag.objects.exists()


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="파일이 없습니다"):
        run_import(tmp_path / "nope.txt")


@pytest.mark.seed
def test_admin_upload_previews_then_imports_on_confirm(admin_client, seed_file):
    url = reverse("admin:articles_article_import_theteams")
    assert (
        "더팀스에서 가져오기"
        in admin_client.get(reverse("admin:articles_article_changelist")).content.decode()
    )

    with seed_file.open("rb") as upload:
        preview = admin_client.post(url, {"file": upload, "kind": ""})
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "아직 아무것도 쓰지 않았습니다" in page
    for title, _ in seed_blocks(seed_file):
        assert title in page
    assert not Article.objects.exists()

    dump = base64.b64encode(seed_file.read_bytes()).decode()
    confirmed = admin_client.post(url, {"dump": dump, "kind": "", "confirm": "가져오기"})
    assert confirmed.status_code == 302
    assert Article.objects.count() == 3
    messages = [str(m) for m in confirmed.wsgi_request._messages]
    assert any("스토리 3개를 가져왔습니다" in m for m in messages)


def test_admin_upload_of_a_bad_file_shows_the_error(admin_client, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes("스토리 홈\n\n아무 글\n".encode())
    with path.open("rb") as upload:
        response = admin_client.post(
            reverse("admin:articles_article_import_theteams"), {"file": upload}
        )
    assert response.status_code == 200
    assert "가져올 수 없습니다" in response.content.decode()
    assert not Article.objects.exists()


def test_admin_upload_of_an_empty_file_says_only_that_it_is_empty(admin_client, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with path.open("rb") as upload:
        response = admin_client.post(
            reverse("admin:articles_article_import_theteams"), {"file": upload}
        )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"file": ["입력하신 파일은 빈 파일입니다."]}
    assert not Article.objects.exists()


def test_admin_import_requires_permission(client, db):
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    response = client.get(reverse("admin:articles_article_import_theteams"))
    assert response.status_code == 403
