"""Line charts as inline SVG text, for the demo's self-contained HTML report: no plotting
library, no script, no network. Pure: the same series always give the same markup.

A chart has a title, axes with round-numbered ticks (decades on a logarithmic x axis), one
polyline per series and a legend. Text is escaped; numbers are written with one decimal.
"""

import html
import math

import msgspec

WIDTH = 720
HEIGHT = 300
MARGIN_LEFT = 64
MARGIN_RIGHT = 16
MARGIN_TOP = 48
LEGEND_TOP = 28
LEGEND_ENTRY_WIDTH = 120
MARGIN_BOTTOM = 48
TICKS_WANTED = 6
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563")


class Series(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    points: list[tuple[float, float]]


def nice_step(span: float, ticks_wanted: int = TICKS_WANTED) -> float:
    """A step of 1, 2 or 5 times a power of ten that cuts `span` into about `ticks_wanted`."""
    if span <= 0:
        return 1.0
    rough = span / ticks_wanted
    power = 10 ** math.floor(math.log10(rough))
    for multiple in (1, 2, 5, 10):
        if rough <= multiple * power:
            return multiple * power
    return 10 * power


def linear_ticks(low: float, high: float) -> list[float]:
    step = nice_step(high - low)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 10))
        value += step
    return ticks


def decade_ticks(low: float, high: float) -> list[float]:
    return [
        10.0**power for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    ]


def tick_label(value: float) -> str:
    if abs(value) >= 1_000:
        return f"{value:,.0f}"
    if value == int(value):
        return str(int(value))
    return f"{value:g}"


def bounds(series: list[Series], *, log_x: bool) -> tuple[float, float, float, float]:
    xs = [x for one in series for x, _ in one.points if not log_x or x > 0]
    ys = [y for one in series for _, y in one.points]
    if not xs:
        return (1.0, 10.0, 0.0, 1.0) if log_x else (0.0, 1.0, 0.0, 1.0)
    x_low, x_high = min(xs), max(xs)
    if log_x:
        x_low, x_high = 10 ** math.floor(math.log10(x_low)), 10 ** math.ceil(math.log10(x_high))
    if x_high <= x_low:
        x_high = x_low + 1
    y_low, y_high = min(0.0, min(ys)), max(ys)
    if y_high <= y_low:
        y_high = y_low + 1
    y_ticks = linear_ticks(y_low, y_high)
    return x_low, x_high, y_low, max(y_high, y_ticks[-1])


def plot_frame(
    plot_width: int, plot_height: int, height: int, *, x_label: str, y_label: str
) -> str:
    """The plot's border and the two axis labels, the y label turned upright."""
    return (
        f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_width}" height="{plot_height}" '
        'fill="none" stroke="#9ca3af"/>'
        f'<text x="{MARGIN_LEFT + plot_width / 2:.1f}" y="{height - 10}" text-anchor="middle">'
        f"{html.escape(x_label)}</text>"
        f'<text x="14" y="{MARGIN_TOP + plot_height / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {MARGIN_TOP + plot_height / 2:.1f})">'
        f"{html.escape(y_label)}</text>"
    )


def line_chart(
    *,
    title: str,
    series: list[Series],
    x_label: str,
    y_label: str,
    log_x: bool = False,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """An SVG element plotting each series as a line; an empty series draws nothing."""
    x_low, x_high, y_low, y_high = bounds(series, log_x=log_x)
    plot_width = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = height - MARGIN_TOP - MARGIN_BOTTOM

    def x_of(x: float) -> float:
        if log_x:
            share = (math.log10(x) - math.log10(x_low)) / (math.log10(x_high) - math.log10(x_low))
        else:
            share = (x - x_low) / (x_high - x_low)
        return MARGIN_LEFT + share * plot_width

    def y_of(y: float) -> float:
        return MARGIN_TOP + plot_height - (y - y_low) / (y_high - y_low) * plot_height

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="{width / 2:.1f}" y="20" text-anchor="middle" font-size="14" '
        f'font-weight="bold">{html.escape(title)}</text>',
    ]
    x_ticks = decade_ticks(x_low, x_high) if log_x else linear_ticks(x_low, x_high)
    for tick in x_ticks:
        x = x_of(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{MARGIN_TOP}" x2="{x:.1f}" y2="{MARGIN_TOP + plot_height}" '
            'stroke="#e5e7eb"/>'
            f'<text x="{x:.1f}" y="{MARGIN_TOP + plot_height + 16}" text-anchor="middle">'
            f"{html.escape(tick_label(tick))}</text>"
        )
    for tick in linear_ticks(y_low, y_high):
        y = y_of(tick)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{MARGIN_LEFT + plot_width}" y2="{y:.1f}" '
            'stroke="#e5e7eb"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{html.escape(tick_label(tick))}</text>"
        )
    parts.append(plot_frame(plot_width, plot_height, height, x_label=x_label, y_label=y_label))
    for index, one in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        points = [(x, y) for x, y in one.points if not log_x or x > 0]
        if points:
            path = " ".join(f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in points)
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{path}"/>'
            )
        legend_x = MARGIN_LEFT + index * LEGEND_ENTRY_WIDTH
        parts.append(
            f'<rect x="{legend_x}" y="{LEGEND_TOP}" width="10" height="10" fill="{color}"/>'
            f'<text x="{legend_x + 14}" y="{LEGEND_TOP + 9}">{html.escape(one.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
