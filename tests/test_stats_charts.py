"""The statistics charts' geometry (editorial/admin/charts.py): every day label stays inside
its chart, as the room draws them on a phone's width."""

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
