"""Charts drawn by matplotlib as SVG, made fit for the strict CSP and for screen readers.

Why matplotlib: the project's ``web/charts.py`` only draws horizontal bars; these pages need
lines with interval bands, a day × hour heat map and a hexagon map, which matplotlib (a
well-kept library) draws on the server with no JavaScript. Its SVG carries CSS in ``style``
attributes and a ``<style>`` element, both blocked by ``style-src 'self'``; ``_clean`` turns
every declaration into the equivalent SVG presentation attribute, so the inline SVG renders
under the CSP unchanged. Each chart has a ``<title>``/``<desc>`` and every page puts a table
with the same figures beside it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from html import escape

import h3
import matplotlib
import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

matplotlib.use("Agg")
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "popid"})

BLUE, ORANGE, GREY = "#1f5fa8", "#d35400", "#5b6b7f"
DAYS_VI = (gettext_lazy("T2"), gettext_lazy("T3"), gettext_lazy("T4"), gettext_lazy("T5"), gettext_lazy("T6"),
           gettext_lazy("T7"), gettext_lazy("CN"))  # Monday..Sunday

_STYLE_ELEMENT = re.compile(r"<style[^>]*>.*?</style>", re.S)
_STYLE_ATTR = re.compile(r'style="([^"]*)"')
_HEAD = re.compile(r"^.*?(<svg)", re.S)
_FONT = re.compile(r"(?P<size>[\d.]+)px\s+(?P<family>.+)")


def _attrs(declarations: str) -> str:
    out = []
    for declaration in declarations.split(";"):
        if ":" not in declaration:
            continue
        name, value = (part.strip() for part in declaration.split(":", 1))
        if name == "font":
            match = _FONT.search(value)
            if match:
                out.append(f'font-size="{match["size"]}px"')
                out.append(f'font-family="{escape(match["family"].replace(chr(39), ""), quote=True)}"')
            continue
        out.append(f'{name}="{escape(value.replace(chr(39), ""), quote=True)}"')
    return " ".join(out)


def _clean(svg: str, title: str, desc: str) -> str:
    svg = _HEAD.sub(r"\1", svg, count=1)
    svg = _STYLE_ELEMENT.sub("", svg)
    svg = _STYLE_ATTR.sub(lambda m: _attrs(m.group(1)), svg)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s(width|height)="[^"]*pt"', "", svg, count=2)
    head = (f'<svg role="img" class="chart" width="100%" aria-label="{escape(title, quote=True)}" '
            f'preserveAspectRatio="xMidYMid meet" stroke-linejoin="round" stroke-linecap="butt"')
    svg = svg.replace("<svg", head, 1)
    close = svg.index(">") + 1
    return svg[:close] + f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>" + svg[close:]


def _render(fig: Figure, title: str, desc: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue()
    if "<image" in svg:  # a raster would be a data: URI, which the CSP refuses
        raise ValueError("chart contains an embedded raster image")
    return _clean(svg, title, desc)


def weekly_lines(weeks: Sequence[date], values: Sequence[float], last_year: Sequence[float | None], *,
                 title: str, label_now: str, label_before: str) -> str:
    fig = Figure(figsize=(8, 2.6))
    ax = fig.add_subplot()
    x = _dates(weeks)
    ax.plot(x, np.asarray(values, dtype=float), color=BLUE, linewidth=1.6, label=label_now)
    if any(v is not None for v in last_year):
        ax.plot(x, [v if v is not None else float("nan") for v in last_year], color=GREY, linewidth=1,
                linestyle="--", label=label_before)
    ax.legend(loc="upper left", frameon=False)
    ax.grid(axis="y", color="#dddddd")
    ax.set_ylim(bottom=0)
    fig.autofmt_xdate()
    return _render(fig, title, _("%(n)d tuần; bảng số liệu ở bên cạnh") % {"n": len(weeks)})


def _dates(days: Sequence[date]) -> np.ndarray:
    return np.array(list(days), dtype="datetime64[D]")


def _column(points: Sequence[dict[str, object]], key: str) -> np.ndarray:
    return np.array([float(p[key]) for p in points], dtype=float)  # type: ignore[arg-type]


def forecast_chart(history: Sequence[tuple[date, float]], points: Sequence[dict[str, object]], *,
                   title: str) -> str:
    fig = Figure(figsize=(8, 2.8))
    ax = fig.add_subplot()
    if history:
        ax.plot(_dates([d for d, _ in history]), np.array([y for _, y in history]), color=BLUE, linewidth=1.4,
                label=_("Thực tế"))
    if points:
        ds = _dates([p["ds"] for p in points])  # type: ignore[misc]
        ax.fill_between(ds, _column(points, "lo95"), _column(points, "hi95"), color=ORANGE, alpha=0.15,
                        label=_("Khoảng 95%"))
        ax.fill_between(ds, _column(points, "lo80"), _column(points, "hi80"), color=ORANGE, alpha=0.3,
                        label=_("Khoảng 80%"))
        ax.plot(ds, _column(points, "mean"), color=ORANGE, linewidth=1.6, linestyle="--", label=_("Dự báo"))
    ax.legend(loc="upper left", frameon=False, ncol=4)
    ax.grid(axis="y", color="#dddddd")
    ax.set_ylim(bottom=0)
    fig.autofmt_xdate()
    return _render(fig, title, _("Số thực tế các tuần trước và dự báo với khoảng tin cậy 80% và 95%"))


def heatmap(matrix: Sequence[Sequence[int]], *, title: str) -> str:
    fig = Figure(figsize=(8, 2.4))
    ax = fig.add_subplot()
    # pcolormesh draws vector cells (imshow would embed a PNG as a data: URI, which the CSP blocks)
    image = ax.pcolormesh(matrix, cmap="Oranges", edgecolors="white", linewidth=0.2)
    ax.invert_yaxis()
    ax.set_yticks([i + 0.5 for i in range(7)], [str(d) for d in DAYS_VI])
    ax.set_xticks([h + 0.5 for h in range(0, 24, 2)], [f"{h}h" for h in range(0, 24, 2)])
    colorbar = fig.colorbar(image, ax=ax, fraction=0.03)
    if colorbar.solids is not None:
        colorbar.solids.set_rasterized(False)  # vector, no embedded PNG
    return _render(fig, title, _("Số vụ theo ngày trong tuần và giờ trong ngày"))


def hex_map(cells: Sequence[tuple[str, int]], outline_cells: Sequence[str], *, title: str) -> str:
    """Hexagons coloured by count over the outline of the unit's area (the boundary of the H3
    cells, at a coarser resolution, in which its events lie)."""
    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.axis("off")
    if outline_cells:
        shape = h3.cells_to_h3shape(list(set(outline_cells)))
        polys = shape.polys if hasattr(shape, "polys") else [shape]
        for poly in polys:
            ring = [(lng, lat) for lat, lng in poly.outer]
            ax.add_patch(Polygon(ring, closed=True, fill=False, edgecolor=GREY, linewidth=1))
    top = max((n for _, n in cells), default=1) or 1
    cmap = matplotlib.colormaps["YlOrRd"]
    for cell, n in cells:
        ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
        ax.add_patch(Polygon(ring, closed=True, facecolor=cmap(0.15 + 0.85 * n / top), edgecolor="white",
                             linewidth=0.3))
    ax.autoscale_view()
    return _render(fig, title, _("%(n)d ô lục giác H3 có sự việc; màu đậm là nhiều sự việc") % {"n": len(cells)})
