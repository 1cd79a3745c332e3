"""The pooling case study as a page: docs/pooling.ko.md (Korean, the site's page) and
docs/pooling.md (English, the original, which the benchmark keeps up to date).

The benchmark rewrites only the English document's `<!-- results:NAME -->` blocks. The Korean
document has the same blocks, empty: they are filled from the English one when the page is
drawn, so both show the same measurement and only one file is ever regenerated. The markers
themselves never reach the page (the Markdown renderer would show them as text: raw HTML is
off), and the document's `# title` becomes the page's <h1> (the renderer keeps h2–h6 only)."""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from articles.rendering import render_markdown

RESULTS = re.compile(r"<!-- results:(?P<name>[a-z-]+) -->\n(?P<body>.*?)<!-- /results -->\n?", re.S)
TITLE = re.compile(r"\A# (?P<title>[^\n]+)\n+")
TABLE_OPEN = "<table>"
TABLE_CLOSE = "</table>"
# A wide table scrolls sideways in its own box (keyboard-focusable, labelled), never the page.
SCROLL_OPEN = '<div class="table-scroll" role="region" tabindex="0" aria-label="{label}">'
SCROLL_LABEL = {"ko": "표: 옆으로 밀어 모두 보기", "en": "Table: scroll sideways to see it all"}
HEADER_CELL = re.compile(r"<th(?P<attrs>[^>]*)>(?P<text>[^<]*)</th>")

# The benchmark writes its tables' headings in English; the Korean page shows them in Korean.
KOREAN_HEADINGS = {
    "target": "목표", "measured": "측정값", "met": "달성",
    "strategy": "전략", "workers": "워커", "clients": "동시 클라이언트", "req/s": "초당 요청",
    "× connect": "요청마다 연결 대비", "errors": "오류",
    "server conns max / mean": "서버 연결 최대 / 평균",
    "new sessions /1k req": "새 세션 / 요청 1천", "DB CPU ms/req": "요청당 DB CPU ms",
    "app CPU ms/req": "요청당 앱 CPU ms", "pool": "풀", "leaked connections": "샌 연결",
    "answers during the leak": "누수 중 응답", "503s": "503 수",
    "503 seconds median / max": "503 응답 초 중앙값 / 최대", "500s": "500 수", "hung": "멈춤",
    "slowest answer, any status (s)": "가장 느린 응답(초)",
    "first 200 after leak (s)": "누수 뒤 첫 200(초)", "throughput back (s)": "처리량 회복(초)",
    "query in a middleware": "미들웨어 쿼리", "/healthz req/s": "/healthz 초당 요청",
    "server conns max": "서버 연결 최대", "health checks": "상태 검사", "when": "때",
    "restarts": "재시작", "requests": "요청", "failed": "실패", "answers": "응답",
    "slowest answer (s)": "가장 느린 응답(초)", "restart took (s)": "재시작 시간(초)",
    "last failure after restart (s)": "재시작 뒤 마지막 실패(초)", "fork hooks": "fork 훅",
    "requests in 6 s": "6초 동안 요청", "p50 ms (200s)": "p50 ms(200 응답)",
    "slowest ms": "가장 느린 ms", "application_name seen": "보인 application_name",
    "shutdown (s)": "종료(초)",
    "req/s median (min–max)": "초당 요청 중앙값(최소–최대)", "req/s each round": "라운드별 초당 요청",
    "× connect each round": "요청마다 연결 대비 라운드별",
    "of the machine's ceiling": "머신 상한 대비",
    "CPU ms/req median (min–max)": "요청당 CPU ms 중앙값(최소–최대)",
    "CPU ms/req app + db (medians)": "요청당 CPU ms 앱 + DB(중앙값)",
    "CPU ms/req each round": "라운드별 요청당 CPU ms",
    "connect's CPU × this, each round": "요청마다 연결의 CPU 배수, 라운드별",
    "busy server conns max / mean": "바쁜 서버 연결 최대 / 평균",
    "bare view req/s median (min–max)": "맨 뷰 초당 요청 중앙값(최소–최대)",
    "case (24 readers at once)": "경우(독자 24명이 한꺼번에)", "median wait (s)": "대기 중앙값(초)",
    "longest wait (s)": "가장 긴 대기(초)", "readers' timeouts": "독자 제한 시간",
    "median (ms)": "중앙값(ms)", "p90 (ms)": "p90(ms)", "outage": "중단",
    "during it": "중단 동안", "all 11 pages 200 after the start (s)": "시작 뒤 11쪽 모두 200(초)",
    "last non-200 after the start (s)": "시작 뒤 마지막 200 아닌 응답(초)",
}  # fmt: skip
# The fault benchmark's row labels (bench/faults.py), likewise.
KOREAN_CELLS = {
    "a cached story, the stories' table locked for 12 s": "캐시된 스토리, 스토리 테이블 12초 잠금",
    "stories not yet cached, the table locked for 12 s": "아직 캐시되지 않은 스토리, 테이블 12초 잠금",
    "counted views of a story whose row an editor holds for 10 s":
        "편집자가 10초 동안 행을 잡은 스토리의 조회수 세는 조회",
    "the same, no lock held": "같은 조회, 잠금 없음",
    "one client asking in a loop": "클라이언트 하나가 계속 요청",
    "no request": "요청 없음", "on (default)": "켬(기본값)", "off": "끔",
}  # fmt: skip
CELL = re.compile(r"<td(?P<attrs>[^>]*)>(?P<text>[^<]*)</td>")


@dataclass(frozen=True)
class Document:
    title: str
    html: str


def results_blocks(text: str) -> dict[str, str]:
    return {match["name"]: match["body"] for match in RESULTS.finditer(text)}


def fill_results(text: str, blocks: dict[str, str]) -> str:
    """Each results block of `text` replaced by the block of that name from `blocks` (or its
    own content), markers removed."""
    return RESULTS.sub(lambda match: blocks.get(match["name"], match["body"]) + "\n", text)


def korean_headings(html: str) -> str:
    def heading(match):
        text = KOREAN_HEADINGS.get(match["text"], match["text"])
        return f"<th{match['attrs']}>{text}</th>"

    def cell(match):
        text = KOREAN_CELLS.get(match["text"], match["text"])
        return f"<td{match['attrs']}>{text}</td>"

    return CELL.sub(cell, HEADER_CELL.sub(heading, html))


def render(text: str, language: str) -> Document:
    match = TITLE.match(text)
    title = match["title"] if match else ""
    html = render_markdown(text[match.end() :] if match else text)
    if language == "ko":
        html = korean_headings(html)
    scroll_open = SCROLL_OPEN.format(label=SCROLL_LABEL[language])
    html = html.replace(TABLE_OPEN, scroll_open + TABLE_OPEN).replace(
        TABLE_CLOSE, TABLE_CLOSE + "</div>"
    )
    return Document(title=title, html=html)


@lru_cache(maxsize=4)
def load(korean: Path, english: Path, language: str, mtimes: tuple[float, float]) -> Document:
    """The page for `language`, drawn once per process and again when a file changes (the
    caller passes the files' modification times). None of the documents: None."""
    if not mtimes[1] or (language == "ko" and not mtimes[0]):
        return None
    original = english.read_text(encoding="utf-8")
    if language == "en":
        return render(fill_results(original, {}), "en")
    text = fill_results(korean.read_text(encoding="utf-8"), results_blocks(original))
    return render(text, "ko")
