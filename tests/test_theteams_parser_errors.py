"""The TheTeams parser refuses what is not a story-hub dump, naming the line at fault."""

import re

import pytest

from articles.theteams import DumpError, parse_dump
from tests.test_theteams_parser import make_dump


def assert_dump_error(data: bytes | str, line: int) -> DumpError:
    with pytest.raises(DumpError) as excinfo:
        parse_dump(data)
    error = excinfo.value
    assert error.line == line
    assert str(error).startswith(f"{line}행: ")
    assert re.search(r"[가-힣]", str(error))
    return error


@pytest.mark.parametrize("data", [b"", "", b"\xef\xbb\xbf", "  \n\n \t\n", b"\r\n\r\n"])
def test_empty_input_is_rejected(data):
    error = assert_dump_error(data, 1)
    assert "비어" in str(error)


def test_nul_bytes_are_rejected_as_binary():
    error = assert_dump_error(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3)
    assert "바이너리" in str(error)
    assert_dump_error("조회수 1\n\n제목\x00", 3)


def test_mostly_control_bytes_are_rejected_as_binary():
    error = assert_dump_error(b"\n" + bytes(range(1, 9)) * 20, 2)
    assert "바이너리" in str(error)


def test_non_utf8_bytes_name_the_line():
    data = "조회수 1\n\n제목\n\n".encode() + "본문입니다".encode("cp949") + b"\n"
    error = assert_dump_error(data, 5)
    assert "UTF-8" in str(error)


def test_dump_without_view_count_blocks_is_rejected():
    error = assert_dump_error("\n스토리 홈\n\n그냥 메모 한 줄\n", 2)
    assert "조회수" in str(error)


def test_non_numeric_view_count_names_its_line():
    text = make_dump(("12", "첫 글", "본문입니다."), ("많음", "둘째 글", "본문입니다."))
    error = assert_dump_error(text, 15)
    assert "많음" in str(error)
    assert_dump_error("조회수\n\n제목\n\n본문입니다.", 1)


def test_block_without_title_names_the_view_count_line():
    assert_dump_error("조회수 5\n\n조회수 6\n\n제목\n\n본문입니다.", 1)
    assert_dump_error("조회수 5\n\n제목\n\n본문입니다.\n조회수 6\n\n", 6)


def test_body_line_in_place_of_the_title_is_reported_as_a_missing_title():
    long_body = "제목 없이 바로 본문이 나오는 경우입니다. " * 20
    error = assert_dump_error(f"피드\n\n조회수 5\n\n\n\n{long_body}\n", 3)
    assert "제목" in str(error)


def test_block_without_body_names_the_title_line():
    error = assert_dump_error("조회수 5\n\n제목만 있는 글\n\n조회수 6\n\n제목\n\n본문입니다.", 3)
    assert "본문" in str(error)
    assert_dump_error("조회수 5\n\n제목만 있는 글\n", 3)


def test_errors_are_value_errors():
    assert issubclass(DumpError, ValueError)
