"""Share cards (articles/sharecards.py): Korean titles laid out by the rules Korean text
follows, drawn in Noto Sans CJK, stored once and removed when no story needs them."""

import io

import pytest
from django.core.management import call_command

from articles import sharecards
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_the_command_prepares_cards_and_removes_those_no_story_needs(site):
    kept = ArticleFactory()
    gone = ArticleFactory()
    sharecards.story_png(gone)
    gone_pk = gone.pk
    gone.delete()
    ArticleFactory(cover_image="covers/x.jpg")
    out = io.StringIO()
    call_command("share_cards", "--stories", stdout=out)
    assert "스토리 카드 1개" in out.getvalue()
    assert "카드 1개를 지웠습니다" in out.getvalue()
    stories = site / "share" / "stories"
    assert sorted(p.name for p in stories.iterdir()) == sorted([str(kept.pk), str(gone_pk)])
    assert list((stories / str(gone_pk)).iterdir()) == []
    assert len(list((site / "share" / "site").iterdir())) == 1


@pytest.fixture
def face():
    return sharecards.font(60)


def test_a_long_korean_word_wraps_between_syllables(face):
    word = "가나다라마바사아자차카타파하" * 3
    lines = sharecards.wrap(word, face, 500)
    assert len(lines) > 1
    assert "".join(lines) == word
    assert all(face.getlength(line) <= 500 for line in lines)


def test_wrapping_prefers_spaces_and_never_splits_a_latin_word(face):
    lines = sharecards.wrap("PostgreSQL 연결 풀(QueuePool)로 보는 커넥션 관리", face, 640)
    assert all(face.getlength(line) <= 640 for line in lines)
    assert any(line.startswith("(QueuePool)") or "QueuePool" in line for line in lines)
    assert not any(line.endswith(("Queue", "(")) or line.startswith(")") for line in lines)


def test_no_line_starts_with_closing_punctuation(face):
    for width in range(300, 700, 7):
        for line in sharecards.wrap("배포했다, 그리고 다시 배포했다. 또 배포했다!", face, width)[
            1:
        ]:
            assert line[0] not in sharecards.NO_LINE_START, (width, line)


def test_a_title_longer_than_three_lines_ends_with_an_ellipsis():
    face, lines = sharecards.fit_lines("아주 긴 제목입니다 " * 20, 1040)
    assert len(lines) == sharecards.MAX_LINES
    assert lines[-1].endswith("…")
    assert face.size == min(sharecards.TITLE_SIZES)
    assert face.getlength(lines[-1]) <= 1040


def test_a_card_is_the_same_picture_every_time_and_its_colour_follows_its_story():
    story = ArticleFactory.build(pk=7, title="같은 카드")
    card = sharecards.story_card(story)
    assert sharecards.draw(card) == sharecards.draw(card)
    assert sharecards.background("7") == sharecards.background("7")
    assert {sharecards.background(str(pk)) for pk in range(40)} == set(sharecards.BACKGROUNDS)


def test_a_storage_that_fails_still_gives_the_card(site, monkeypatch):
    story = ArticleFactory()

    def broken(name, content, max_length=None):
        raise OSError("disk full")

    monkeypatch.setattr(sharecards.default_storage, "save", broken)
    data = sharecards.story_png(story)
    assert data.startswith(b"\x89PNG")
    assert not (site / "share").exists()
