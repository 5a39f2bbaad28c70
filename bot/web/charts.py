"""Small server-side SVG bar charts (no script, no style attribute: the CSP stays strict)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    height: int
    label_width: int = 260
    plot_width: int = 360
    row_height: int = 26

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def bar_chart(items: list[tuple[str, int]], title: str) -> BarChart:
    """Horizontal bars scaled to the largest value; the template draws them as <rect>s."""
    chart = BarChart(title, [], 0)
    largest = max((value for _, value in items), default=0) or 1
    bars = [
        Bar(str(label), int(value), i * chart.row_height, round(chart.plot_width * value / largest))
        for i, (label, value) in enumerate(items)
    ]
    return BarChart(title, bars, max(len(bars), 1) * chart.row_height + 4)
