"""Small charts drawn on the server as SVG markup: no chart service, no script, nothing inline the
Content-Security-Policy blocks.

Every chart is an `<svg role="img">` named by its `<title>` and `<desc>` (aria-labelledby), carries its
numbers as direct labels so nothing depends on telling colours apart, and is styled by classes in
static/css/metrics.css (the fill attributes are only the fallback when the stylesheet is missing;
forced-colours mode turns the bars into plain text colour and the labels still tell the story). The
page puts a data table after each chart. All markup goes through format_html, so every label,
whatever it came from, is escaped.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 720
FONT_SIZE = 12
BAR_FILL = "#0b4f8a"
# Light to dark: the heatmap's five levels (0 = no messages).
HEAT_FILLS = ("#f4f6f8", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
HEAT_LEVELS = len(HEAT_FILLS)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    value_label: str = ""  # what is printed beside the bar ("2 h 15 min"); the number when empty
    hatched: bool = False  # a second series: drawn with a pattern, not just another colour

    @property
    def shown_value(self) -> str:
        return self.value_label or _plain_number(self.value)


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _coordinate(value: float) -> str:
    return f"{value:.1f}"


def _join(parts: Iterable[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def _svg(
    *, chart_id: str, css_class: str, height: float, title: str, description: str, body: SafeString
) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart {}" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="{}-title {}-desc" focusable="false" font-size="{}">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        css_class,
        WIDTH,
        _coordinate(height),
        chart_id,
        chart_id,
        FONT_SIZE,
        chart_id,
        title,
        chart_id,
        description,
        body,
    )


def _hatch_pattern(chart_id: str) -> SafeString:
    return format_html(
        '<defs><pattern id="{}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" class="chart-hatch-ground" fill="#ffffff"/>'
        '<rect width="3" height="6" class="chart-hatch-line" fill="{}"/></pattern></defs>',
        chart_id,
        BAR_FILL,
    )


def nice_ceiling(value: float) -> float:
    """The axis maximum: `value` rounded up to 1, 2 or 5 times a power of ten (0 stays 1)."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


# --- Vertical bars: a value per day (or week, or month) ---------------------------------------


def column_chart(*, chart_id: str, title: str, description: str, bars: Sequence[Bar]) -> SafeString:
    """Columns left to right, in the order given. Values are printed on the columns while they fit
    (up to 31); otherwise the data table beside the chart carries them."""
    left, right, top, bottom, plot_height = 48, 8, 20, 36, 180
    height = top + plot_height + bottom
    plot_width = WIDTH - left - right
    axis_max = nice_ceiling(max((bar.value for bar in bars), default=0))
    step = plot_width / max(len(bars), 1)
    bar_width = max(step * 0.8, 1.0)
    label_every = max(1, math.ceil(len(bars) / 12))
    parts = [_y_axis(left=left, right=WIDTH - right, top=top, plot_height=plot_height, axis_max=axis_max)]
    for index, bar in enumerate(bars):
        x = left + index * step + (step - bar_width) / 2
        bar_height = plot_height * bar.value / axis_max
        y = top + plot_height - bar_height
        parts.append(
            format_html(
                '<g class="chart-column"><title>{}: {}</title>'
                '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" fill="{}"/></g>',
                bar.label,
                bar.shown_value,
                _coordinate(x),
                _coordinate(y),
                _coordinate(bar_width),
                _coordinate(bar_height),
                BAR_FILL,
            )
        )
        centre = _coordinate(x + bar_width / 2)
        if len(bars) <= 31:
            parts.append(
                format_html(
                    '<text class="chart-value" x="{}" y="{}" text-anchor="middle">{}</text>',
                    centre,
                    _coordinate(y - 4),
                    bar.shown_value,
                )
            )
        if index % label_every == 0:
            parts.append(
                format_html(
                    '<text class="chart-label" x="{}" y="{}" text-anchor="middle">{}</text>',
                    centre,
                    _coordinate(top + plot_height + 16),
                    bar.label,
                )
            )
    return _svg(
        chart_id=chart_id,
        css_class="chart-columns",
        height=height,
        title=title,
        description=description,
        body=_join(parts),
    )


def _y_axis(*, left: float, right: float, top: float, plot_height: float, axis_max: float) -> SafeString:
    lines = []
    for fraction in (0, 0.5, 1):
        y = _coordinate(top + plot_height * (1 - fraction))
        lines.append(
            format_html(
                '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#767676"/>'
                '<text class="chart-label" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
                left,
                right,
                y,
                y,
                left - 6,
                y,
                _plain_number(axis_max * fraction),
            )
        )
    return _join(lines)


# --- Horizontal bars: a few labelled values (distributions, age buckets) ------------------------


def bar_chart(
    *, chart_id: str, title: str, description: str, bars: Sequence[Bar], label_width: int = 240
) -> SafeString:
    """One row per bar, label on the left and the value printed at the end of the bar. A hatched
    bar is a second series (a 90th percentile beside a median), told apart by its label and pattern."""
    row_height, gap, value_room = 24, 8, 110
    plot_left = label_width
    plot_width = WIDTH - plot_left - value_room
    axis_max = nice_ceiling(max((bar.value for bar in bars), default=0))
    height = len(bars) * (row_height + gap) + gap
    parts = [_hatch_pattern(chart_id)] if any(bar.hatched for bar in bars) else []
    for index, bar in enumerate(bars):
        y = gap + index * (row_height + gap)
        length = plot_width * bar.value / axis_max
        middle = _coordinate(y + row_height / 2)
        fill = f"url(#{chart_id}-hatch)" if bar.hatched else BAR_FILL
        parts.append(
            format_html(
                '<g class="chart-row"><title>{}: {}</title>'
                '<text class="chart-label" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>'
                '<rect class="{}" x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}"/>'
                '<text class="chart-value" x="{}" y="{}" dominant-baseline="middle">{}</text></g>',
                bar.label,
                bar.shown_value,
                plot_left - 8,
                middle,
                bar.label,
                "chart-bar chart-bar-hatched" if bar.hatched else "chart-bar",
                plot_left,
                y,
                _coordinate(length),
                row_height,
                fill,
                BAR_FILL,
                _coordinate(plot_left + length + 6),
                middle,
                bar.shown_value,
            )
        )
    return _svg(
        chart_id=chart_id,
        css_class="chart-bars",
        height=max(height, row_height + 2 * gap),
        title=title,
        description=description,
        body=_join(parts),
    )


# --- Heatmap: weekday × hour ----------------------------------------------------------------------


def heat_level(value: int, maximum: int) -> int:
    """0 for nothing, then 1..4 by quarters of the busiest cell (which is always 4)."""
    if value <= 0 or maximum <= 0:
        return 0
    return min(HEAT_LEVELS - 1, math.ceil((HEAT_LEVELS - 1) * value / maximum))


def heatmap_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    grid: Sequence[Sequence[int]],
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    legend_label: str,
) -> SafeString:
    """Rows (weekdays) × columns (hours); each cell prints its count, and its shade repeats it."""
    left, top, cell_width, cell_height = 44, 20, 28, 26
    maximum = max((value for row in grid for value in row), default=0)
    parts = []
    for column, label in enumerate(column_labels):
        parts.append(
            format_html(
                '<text class="chart-label" x="{}" y="{}" text-anchor="middle">{}</text>',
                _coordinate(left + column * cell_width + cell_width / 2),
                top - 6,
                label,
            )
        )
    for row, (row_label, values) in enumerate(zip(row_labels, grid, strict=True)):
        y = top + row * cell_height
        parts.append(
            format_html(
                '<text class="chart-label" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
                left - 6,
                _coordinate(y + cell_height / 2),
                row_label,
            )
        )
        for column, value in enumerate(values):
            parts.append(
                _heat_cell(
                    x=left + column * cell_width,
                    y=y,
                    size=(cell_width, cell_height),
                    value=value,
                    level=heat_level(value, maximum),
                    hover=f"{row_label} {column_labels[column]}",
                )
            )
    legend_top = top + len(row_labels) * cell_height + 12
    parts.append(_heat_legend(left=left, top=legend_top, maximum=maximum, label=legend_label))
    return _svg(
        chart_id=chart_id,
        css_class="chart-heatmap",
        height=legend_top + 30,
        title=title,
        description=description,
        body=_join(parts),
    )


def _heat_cell(
    *, x: float, y: float, size: tuple[int, int], value: int, level: int, hover: str
) -> SafeString:
    width, height = size
    return format_html(
        '<g class="heat heat-{}"><title>{}: {}</title>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#ffffff"/>'
        '<text x="{}" y="{}" text-anchor="middle" dominant-baseline="middle" fill="{}">{}</text></g>',
        level,
        hover,
        value,
        x,
        y,
        width,
        height,
        HEAT_FILLS[level],
        _coordinate(x + width / 2),
        _coordinate(y + height / 2),
        "#ffffff" if level >= 3 else "#1a1a1a",
        _compact(value),
    )


def _compact(value: int) -> str:
    return f"{value // 1000}k" if value >= 10_000 else str(value)


def _heat_legend(*, left: float, top: float, maximum: int, label: str) -> SafeString:
    """The shades with the counts each stands for ("0", "1–3", …)."""
    parts = [
        format_html(
            '<text class="chart-label" x="{}" y="{}" dominant-baseline="middle">{}</text>',
            left,
            top + 9,
            label,
        )
    ]
    x = left + 8 * len(label) + 12
    for level, span in enumerate(_level_spans(maximum)):
        if span is None:
            continue
        parts.append(
            format_html(
                '<g class="heat heat-{}"><rect x="{}" y="{}" width="18" height="18" fill="{}" stroke="#767676"/>'
                '<text class="chart-label" x="{}" y="{}" dominant-baseline="middle">{}</text></g>',
                level,
                x,
                top,
                HEAT_FILLS[level],
                x + 22,
                top + 9,
                span,
            )
        )
        x += 22 + 8 * len(span) + 16
    return _join(parts)


def _level_spans(maximum: int) -> list[str | None]:
    """The range of counts each level covers ("1–3"), None for a level no count reaches."""
    quarters = HEAT_LEVELS - 1
    spans: list[str | None] = ["0"]
    for level in range(1, HEAT_LEVELS):
        # heat_level(v) == level  ⇔  (level - 1)·maximum < quarters·v ≤ level·maximum
        low = (level - 1) * maximum // quarters + 1
        high = level * maximum // quarters
        if low > high:
            spans.append(None)
        else:
            spans.append(str(low) if low == high else f"{low}–{high}")
    return spans
