"""Server-side bar charts: geometry computed here, drawn as inline SVG by the template
``web/_chart.html`` with presentation attributes only (fill, x, y…), so they need no
JavaScript, no chart library and nothing the strict CSP would block."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

TIER_FILLS = {"meets_standard": "#2e7d32", "needs_fixing": "#e08e0b", "rebuild": "#c62828"}
PRINCIPLE_FILLS = {"dung": "#1f5fa8", "du": "#00838f", "sach": "#6a3fa0", "song": "#d35400"}
DEFAULT_FILL = "#5b6b7f"

WIDTH = 1000
LABEL_WIDTH = 340
VALUE_WIDTH = 70
ROW = 22
BAR = 15
TOP = 24


@dataclass(frozen=True)
class Bar:
    label: str
    value: str
    y: int
    text_y: int
    width: float
    fill: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass
class Chart:
    width: int
    height: int
    label_width: int
    plot_width: int
    bars: list[Bar]
    ticks: list[Tick] = field(default_factory=list)
    axis_bottom: int = 0

    @property
    def is_empty(self) -> bool:
        return not self.bars

    @property
    def value_x(self) -> int:
        return self.label_width + self.plot_width + 6


def bar_chart(items: list[tuple[str, float, str, str]], maximum: float, tick_values: Iterable[float]) -> Chart:
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for index, (label, value, value_text, fill) in enumerate(items):
        y = TOP + index * ROW
        short = label if len(label) <= 52 else label[:51] + "…"
        bars.append(Bar(label=short, value=value_text, y=y, text_y=y + BAR - 3,
                        width=round(plot * (value / maximum), 1) if maximum else 0, fill=fill))
    height = TOP + len(items) * ROW + 6
    ticks = [Tick(x=round(LABEL_WIDTH + plot * (t / maximum), 1), label=f"{t:g}") for t in tick_values] if maximum \
        else []
    return Chart(width=WIDTH, height=height, label_width=LABEL_WIDTH, plot_width=plot, bars=bars, ticks=ticks,
                 axis_bottom=height - 4)


def score_bars(rows: Iterable[Any], *, label: Callable[[Any], str]) -> Chart:
    """Score (0–100) per unit, worst first so the units that need work lead, tier-coloured;
    ``label`` names a row's unit."""
    items = sorted(rows, key=lambda r: (r.score, r.unit_code))
    return bar_chart(
        [(label(r), r.score, f"{r.score:.1f}", TIER_FILLS.get(r.tier, DEFAULT_FILL))
         for r in items],
        100.0, (0, 25, 50, 75, 100),
    )


def count_bars(items: Iterable[tuple[str, int, str]]) -> Chart:
    """Counts per category (principle or kind); ``key`` picks the colour by principle."""
    rows = list(items)
    maximum = float(max((n for _label, n, _key in rows), default=0))
    ticks = [maximum * f for f in (0, 0.5, 1)] if maximum else []
    return bar_chart(
        [(label, n, f"{n:,}".replace(",", "."), PRINCIPLE_FILLS.get(key, DEFAULT_FILL)) for label, n, key in rows],
        maximum, [round(t) for t in ticks],
    )
