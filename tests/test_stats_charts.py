"""The statistics room's own pieces: its charts' geometry (editorial/admin/charts.py: every
day label stays inside its chart, as the room draws them on a phone's width), and what it says
of how fresh its numbers are."""

from collections import namedtuple

from editorial.admin import charts

Day = namedtuple("Day", "label views")


def test_a_bar_chart_keeps_its_first_label_clear_of_the_value_axis():
    chart = charts.bar_chart("일별 조회수", [Day(f"11-{n:02}", n) for n in range(1, 31)])
    assert chart.labels[0]["anchor"] == "start"
    assert {label["anchor"] for label in chart.labels[1:-1]} == {"middle"}


def test_a_line_chart_keeps_its_last_label_inside_the_chart():
    chart = charts.first_week_chart("발행 후 7일", [3, 11, 8, 5, 2, 10, 7], [4, 5, 6, 5, 4, 3, 2])
    assert chart.labels[-1] == {"x": chart.labels[-1]["x"], "label": "7일", "anchor": "end"}
    assert all(label["anchor"] == "middle" for label in chart.labels[1:-1])
    assert chart.labels[-1]["x"] + charts.LABEL_HALF_WIDTH > chart.width


def test_the_room_says_how_late_buffered_views_arrive(settings, monkeypatch):
    from datetime import date

    from articles import viewbuffer
    from editorial.admin.stats import freshness

    assert "Redis" not in freshness(date(2026, 12, 4), None)
    monkeypatch.setattr(viewbuffer, "enabled", lambda: True)
    settings.VIEW_FLUSH_SECONDS = 5
    said = freshness(date(2026, 12, 4), None)
    assert said.startswith("집계 기준 2026-12-04까지.")
    assert "5초마다 기록하므로" in said
