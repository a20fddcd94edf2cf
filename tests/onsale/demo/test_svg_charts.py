"""The report's charts: well-formed SVG with one line per series, round ticks and escaped text."""

import xml.etree.ElementTree as ElementTree

from onsale.demo.svg_charts import Series, decade_ticks, line_chart, linear_ticks, nice_step

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def test_steps_are_one_two_or_five_times_a_power_of_ten() -> None:
    assert [nice_step(span) for span in (6, 12, 30, 6_000, 0.6)] == [1, 2, 5, 1_000, 0.1]


def test_linear_ticks_cover_the_range_on_round_numbers() -> None:
    assert linear_ticks(0, 6_000) == [0, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000]
    assert decade_ticks(1, 1_000) == [1, 10, 100, 1_000]


def test_a_chart_draws_one_line_per_series_with_points_inside_the_plot() -> None:
    svg = line_chart(
        title="Sales over time",
        series=[
            Series(name="sold", points=[(0, 0), (10, 3_000), (20, 6_000)]),
            Series(name="held", points=[(0, 0), (10, 500), (20, 0)]),
        ],
        x_label="seconds",
        y_label="tickets",
    )

    root = parsed(svg)
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 2
    width, height = float(root.get("width", 0)), float(root.get("height", 0))
    for line in lines:
        for pair in line.get("points", "").split():
            x, y = (float(value) for value in pair.split(","))
            assert 0 <= x <= width and 0 <= y <= height
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert "Sales over time" in texts and "sold" in texts and "6,000" in texts


def test_a_logarithmic_chart_skips_points_at_zero_and_ticks_decades() -> None:
    svg = line_chart(
        title="Latency",
        series=[Series(name="hold", points=[(0, 0), (3, 50), (250, 99), (1_200, 100)])],
        x_label="ms",
        y_label="%",
        log_x=True,
    )

    root = parsed(svg)
    (line,) = root.findall(f"{SVG}polyline")
    assert len(line.get("points", "").split()) == 3
    texts = {text.text for text in root.iter(f"{SVG}text")}
    assert {"1", "10", "100", "1,000", "10,000"} <= texts


def test_an_empty_chart_is_still_well_formed_and_text_is_escaped() -> None:
    svg = line_chart(
        title="Queue <&> fans", series=[Series(name="a&b", points=[])], x_label="s", y_label="n"
    )

    root = parsed(svg)
    assert root.findall(f"{SVG}polyline") == []
    assert "Queue <&> fans" in {text.text for text in root.iter(f"{SVG}text")}
