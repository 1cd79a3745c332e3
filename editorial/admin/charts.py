"""Charts drawn on the server as SVG geometry for templates/admin/editorial/chart_*.html: no
script, no inline style (the CSP forbids both), colours from admin.css so dark mode follows.
Each chart is shown with a table of the same numbers."""

from dataclasses import dataclass, field

WIDTH = 720
HEIGHT = 220
LEFT = 56  # room for the value axis' labels
BOTTOM = 24  # room for the day labels
LABEL_HALF_WIDTH = 18  # about half the width of a day label ("12-03", "7일") in the axis font
TOP = 10
# The small charts beside each top story: drawn in fewer units, so their text stays legible.
SMALL = {"width": 360, "height": 170, "left": 44}
TICKS = 4


def _nice_top(value: float) -> int:
    """A top for the value axis at or above `value` whose quarters are round numbers
    (1, 2, 2.5 or 5 times a power of ten)."""
    magnitude = 1
    while True:
        for factor in (1, 2, 2.5, 5):
            step = factor * magnitude
            if step == int(step) and step * TICKS >= value:
                return int(step * TICKS)
        magnitude *= 10


def compact(value: float) -> str:
    """A value axis label: 1,200 or 120만 (Korean counts in units of 10,000)."""
    if value >= 10_000:
        return f"{value / 10_000:,.4g}만"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _ticks(top: int, height: int = HEIGHT) -> list[dict]:
    plot = height - BOTTOM - TOP
    return [
        {"y": round(TOP + plot - plot * part / TICKS, 2), "label": compact(top * part / TICKS)}
        for part in range(TICKS + 1)
    ]


@dataclass
class Chart:
    """What a chart template draws: bars or lines, the value axis' ticks, the day labels."""

    title: str
    bars: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    ticks: list[dict] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: int = HEIGHT - BOTTOM


def _label(chart: Chart, x: float, label: str) -> dict:
    """A day label under x, kept inside the chart: one near an edge is aligned to that edge
    instead of centred on its day (where it would be cut off, or overlap the value axis)."""
    margin = LABEL_HALF_WIDTH
    if x - margin < chart.left:
        anchor = "start"
    elif x + margin > chart.width:
        anchor = "end"
    else:
        anchor = "middle"
    return {"x": round(x, 2), "label": label, "anchor": anchor}


def bar_chart(title: str, rows) -> Chart:
    """One bar per row (label, views), e.g. per day; a label under about every seventh."""
    rows = list(rows)
    chart = Chart(title)
    if not rows:
        return chart
    top = _nice_top(max(row.views for row in rows))
    plot_width, plot_height = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP
    slot = plot_width / len(rows)
    every = max(1, round(len(rows) / 7))
    for n, row in enumerate(rows):
        height = plot_height * row.views / top
        x = LEFT + n * slot
        chart.bars.append(
            {
                "x": round(x + slot * 0.1, 2),
                "y": round(chart.base - height, 2),
                "width": round(max(slot * 0.8, 1), 2),
                "height": round(height, 2),
                "label": row.label,
                "views": row.views,
            }
        )
        if n % every == 0:
            chart.labels.append(_label(chart, x + slot / 2, row.label))
    chart.ticks = _ticks(top)
    return chart


def line_chart(
    title: str, labels: list[str], series: list[tuple[str, str, list]], *, small: bool = False
) -> Chart:
    """Lines over the same days: (name, css class, values) each, e.g. a story's first week and
    its kind's median."""
    chart = Chart(title, **(SMALL if small else {}))
    chart.base = chart.height - BOTTOM
    values = [value for _, _, line in series for value in line]
    if not labels or not values:
        return chart
    top = _nice_top(max(values))
    plot_width, plot_height = chart.width - chart.left - 16, chart.height - BOTTOM - TOP
    step = plot_width / max(len(labels) - 1, 1)
    xs = [chart.left + 8 + n * step for n in range(len(labels))]
    for name, css, line in series:
        points = [
            (round(xs[n], 2), round(chart.base - plot_height * value / top, 2))
            for n, value in enumerate(line)
        ]
        chart.lines.append(
            {
                "name": name,
                "css": css,
                "points": " ".join(f"{x},{y}" for x, y in points),
                "dots": [{"x": x, "y": y} for x, y in points],
            }
        )
    chart.labels = [_label(chart, x, label) for x, label in zip(xs, labels, strict=True)]
    chart.ticks = _ticks(top, chart.height)
    return chart


def first_week_chart(
    title: str, first_week: list[int], median: list[float], *, small: bool = False
) -> Chart:
    labels = [f"{n + 1}일" for n in range(max(len(first_week), len(median)))]
    series = []
    if median:
        series.append(("같은 종류의 중앙값", "chart-median", median))
    if first_week:
        series.append(("이 스토리", "chart-story", first_week))
    return line_chart(title, labels, series, small=small)
