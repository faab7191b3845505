"""metrics/charts.py: each chart is well-formed SVG named by its title and description, escapes every
label, prints its numbers (meaning never by colour alone) and needs no inline style."""

import xml.etree.ElementTree as ET

import pytest
from defusedxml.ElementTree import fromstring

from metrics.charts import (
    HEAT_LEVELS,
    Bar,
    bar_chart,
    column_chart,
    heat_level,
    heatmap_chart,
    nice_ceiling,
)

SVG = "{http://www.w3.org/2000/svg}"
SCRIPT = "<script>alert(1)</script>"


def parsed(markup: str) -> ET.Element:
    return fromstring(str(markup))


def texts(root: ET.Element) -> list[str]:
    return [element.text for element in root.iter(f"{SVG}text")]


def heatmap(grid, **names):
    return heatmap_chart(
        chart_id=names.get("chart_id", "heat"),
        title=names.get("title", "When citizens write"),
        description=names.get("title", "By weekday and hour"),
        grid=grid,
        row_labels=names.get("row_labels", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        column_labels=[f"{hour:02d}" for hour in range(24)],
        legend_label="Messages:",
    )


CHARTS = {
    "columns": lambda label: column_chart(
        chart_id="volume", title=label, description=label, bars=[Bar(label=label, value=3), Bar("2 Nov", 5)]
    ),
    "bars": lambda label: bar_chart(
        chart_id="timings",
        title=label,
        description=label,
        bars=[Bar(label=label, value=60, value_label="1 min")],
    ),
    "heatmap": lambda label: heatmap(
        [[1] * 24 for _ in range(7)],
        title=label,
        row_labels=[label, "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    ),
}


@pytest.mark.parametrize("kind", CHARTS)
def test_a_chart_is_valid_svg_named_by_its_title_and_description(kind):
    root = parsed(CHARTS[kind]("Mensajes por día"))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, description_id = root.get("aria-labelledby").split()
    title, description = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert (title.get("id"), title.text) == (title_id, "Mensajes por día")
    assert (description.get("id"), description.text) == (description_id, "Mensajes por día")
    assert root.get("viewBox").startswith("0 0 720 ")


@pytest.mark.parametrize("kind", CHARTS)
def test_labels_are_escaped(kind):
    markup = str(CHARTS[kind](SCRIPT))
    assert SCRIPT not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    root = parsed(markup)
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
    assert SCRIPT in texts(root) or SCRIPT in [element.text for element in root.iter(f"{SVG}title")]


@pytest.mark.parametrize("kind", CHARTS)
def test_no_inline_style_and_only_classes_for_looks(kind):
    root = parsed(CHARTS[kind]("x"))
    assert all("style" not in element.attrib for element in root.iter())
    assert all(not name.startswith("on") for element in root.iter() for name in element.attrib)
    assert "chart" in root.get("class").split()


def test_columns_are_as_tall_as_their_value_and_print_it():
    root = parsed(
        column_chart(
            chart_id="c",
            title="t",
            description="d",
            bars=[Bar("1 Nov", 10), Bar("2 Nov", 5), Bar("3 Nov", 0)],
        )
    )
    heights = [float(rect.get("height")) for rect in root.iter(f"{SVG}rect")]
    assert heights[0] == pytest.approx(2 * heights[1]) and heights[2] == 0
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-value"] == ["10", "5", "0"]
    assert {"1 Nov", "2 Nov", "3 Nov"} <= set(texts(root))
    hovers = [title.text for title in root.iter(f"{SVG}title")][1:]
    assert hovers == ["1 Nov: 10", "2 Nov: 5", "3 Nov: 0"]


def test_a_long_period_thins_the_labels_and_leaves_the_numbers_to_the_table():
    bars = [Bar(f"day {n}", n) for n in range(365)]
    root = parsed(column_chart(chart_id="c", title="t", description="d", bars=bars))
    labels = [
        t.text
        for t in root.iter(f"{SVG}text")
        if t.get("class") == "chart-label" and t.text.startswith("day")
    ]
    assert 6 <= len(labels) <= 13
    assert not [t for t in root.iter(f"{SVG}text") if t.get("class") == "chart-value"]
    assert len(list(root.iter(f"{SVG}rect"))) == 365


def test_horizontal_bars_print_their_human_value_and_a_second_series_is_hatched():
    root = parsed(
        bar_chart(
            chart_id="timings",
            title="t",
            description="d",
            bars=[
                Bar("Median", 8100, "2 h 15 min"),
                Bar("90th percentile", 16200, "4 h 30 min", hatched=True),
            ],
        )
    )
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-value"]
    assert values == ["2 h 15 min", "4 h 30 min"]
    median, p90 = [r for r in root.iter(f"{SVG}rect") if "chart-bar" in r.get("class", "")]
    assert float(p90.get("width")) == pytest.approx(2 * float(median.get("width")), abs=0.2)
    assert p90.get("fill") == "url(#timings-hatch)"
    assert root.find(f".//{SVG}pattern").get("id") == "timings-hatch"
    assert median.get("fill") != p90.get("fill")


def test_an_empty_chart_is_still_valid():
    for markup in (
        column_chart(chart_id="c", title="Nothing", description="d", bars=[]),
        bar_chart(chart_id="b", title="Nothing", description="d", bars=[]),
        heatmap([[0] * 24 for _ in range(7)], title="Nothing"),
    ):
        root = parsed(markup)
        assert (root.get("role"), root.find(f"{SVG}title").text) == ("img", "Nothing")


def test_heatmap_cells_print_their_count_and_the_busiest_is_darkest():
    grid = [[0] * 24 for _ in range(7)]
    grid[0][10], grid[4][18], grid[6][3] = 40, 20, 1
    root = parsed(heatmap(grid))
    cells = [
        g
        for g in root.iter(f"{SVG}g")
        if g.find(f"{SVG}rect") is not None and g.find(f"{SVG}title") is not None
    ]
    assert len(cells) == 7 * 24
    by_hover = {cell.find(f"{SVG}title").text: cell for cell in cells}
    monday_ten = by_hover["Mon 10: 40"]
    assert monday_ten.find(f"{SVG}text").text == "40"
    assert "heat-4" in monday_ten.get("class")
    assert "heat-0" in by_hover["Tue 10: 0"].get("class")
    assert "heat-1" in by_hover["Sun 03: 1"].get("class")
    assert "heat-2" in by_hover["Fri 18: 20"].get("class")
    legend = [t.text for t in root.iter(f"{SVG}text")][-5:]
    assert legend == ["0", "1–10", "11–20", "21–30", "31–40"]


@pytest.mark.parametrize(
    ("value", "maximum", "level"),
    [(0, 9, 0), (1, 100, 1), (25, 100, 1), (26, 100, 2), (100, 100, 4), (1, 1, 4)],
)
def test_heat_levels_are_quarters_of_the_busiest_hour(value, maximum, level):
    assert heat_level(value, maximum) == level
    assert 0 <= heat_level(value, maximum) < HEAT_LEVELS


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (1, 1), (7, 10), (12, 20), (42, 50), (101, 200), (0.3, 0.5)]
)
def test_axis_maximum_is_a_round_number(value, ceiling):
    assert nice_ceiling(value) == pytest.approx(ceiling)
