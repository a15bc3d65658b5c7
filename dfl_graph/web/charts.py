"""Server-rendered SVG charts for "the catalogue at a glance": no JavaScript, readable without CSS.

Each chart is an ``<svg>`` with a ``<title>`` and ``<desc>`` (the numbers in words, for screen readers),
visible text labels and values on every bar, a ``<title>`` tooltip per bar, and optional links (each bar
goes to the search it counts). A chart without links is one image (``role="img"``); a chart with links
is a group of links (``role="group"``), each named by its label and count, since an image cannot hold
links a keyboard or screen reader can reach. Labels never overlap or run off the edge: bar labels are
shortened to fit their column, year labels thinned out from the last year back and kept inside the
chart. Colours come from ``currentColor`` and CSS classes (``chart-bar``), so the page stylesheet
decides contrast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from markupsafe import Markup


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    href: str | None = None


def _text_width(text: str, size: float) -> float:
    """A generous estimate of rendered width (no font metrics on the server)."""
    return len(text) * size * 0.62


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _bar(bar: Bar, shape: str, text: str, shown: str | None = None) -> str:
    """One bar (a link when it has one). A link's name starts with the text it shows (``shown``: the label,
    maybe shortened, then the value), so what a speech-input user reads is what they can say."""
    unit = "dataset" if bar.value == 1 else "datasets"
    name = f"{bar.label}: {bar.value:,} {unit}"
    body = f"<title>{escape(name)}</title>{shape}{text}"
    if bar.href:
        label = shown if shown is not None else bar.label
        spoken = f"{label} {bar.value:,} {unit}" + (f" ({bar.label})" if label != bar.label else "")
        return f'<a href="{escape(bar.href)}" class="chart-link" aria-label="{escape(spoken)}">{body}</a>'
    return f"<g>{body}</g>"


def bar_chart(chart_id: str, title: str, bars: list[Bar], width: int = 560, label_chars: int = 30) -> Markup:
    """Horizontal bars, one row per item, labels on the left and values at the bar's end."""
    size, row, gap = 13.0, 22, 6
    labels = [_fit(b.label, label_chars) for b in bars]
    label_width = min(max((_text_width(t, size) for t in labels), default=0) + 8, width * 0.5)
    value_room = _text_width(f"{max((b.value for b in bars), default=0):,}", size) + 10
    plot = max(width - label_width - value_room, 40)
    top = max((b.value for b in bars), default=0) or 1
    height = len(bars) * (row + gap) + gap
    parts = []
    for i, (bar, label) in enumerate(zip(bars, labels, strict=True)):
        y = gap + i * (row + gap)
        length = max(plot * bar.value / top, 1 if bar.value else 0)
        shape = f'<rect class="chart-bar" x="{label_width:.1f}" y="{y}" width="{length:.1f}" height="{row}" rx="2"/>'
        text = (
            f'<text class="chart-label" x="{label_width - 6:.1f}" y="{y + row * 0.7:.1f}" text-anchor="end">'
            f"{escape(label)}</text> "
            f'<text class="chart-value" x="{label_width + length + 5:.1f}" y="{y + row * 0.7:.1f}">{bar.value:,}</text>'
        )
        parts.append(_bar(bar, shape, text, label))
    return _svg(chart_id, title, bars, width, height, "".join(parts))


def column_chart(chart_id: str, title: str, bars: list[Bar], width: int = 560, height: int = 220) -> Markup:
    """Vertical columns along an axis (years), values above each column when they fit, labels below: every
    ``step``-th one counted back from the last, so the latest year is always named and none overlap."""
    size = 12.0
    bottom, top_room = 34, 20
    plot_height = height - bottom - top_room
    count = max(len(bars), 1)
    slot = width / count
    column = max(min(slot * 0.7, 48), 2)
    top = max((b.value for b in bars), default=0) or 1
    widest = max((_text_width(b.label, size) for b in bars), default=0)
    step = max(1, math.ceil((widest + 8) / slot))  # thin out labels when columns are narrow
    values_fit = _text_width(f"{max((b.value for b in bars), default=0):,}", size * 0.9) < slot * 0.95
    parts = []
    for i, bar in enumerate(bars):
        x = i * slot + (slot - column) / 2
        length = max(plot_height * bar.value / top, 1 if bar.value else 0)
        y = top_room + plot_height - length
        centre = x + column / 2
        shape = f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{column:.1f}" height="{length:.1f}" rx="2"/>'
        text = ""
        if (len(bars) - 1 - i) % step == 0:
            half = _text_width(bar.label, size) / 2
            anchor, at = "middle", centre
            if centre + half > width:
                anchor, at = "end", width - 1
            elif centre - half < 0:
                anchor, at = "start", 1
            text += (
                f'<text class="chart-label" x="{at:.1f}" y="{height - bottom + 16}" text-anchor="{anchor}">'
                f"{escape(bar.label)}</text>"
            )
        if values_fit:
            text += (
                f'<text class="chart-value" x="{centre:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                f'font-size="{size * 0.9:.0f}">{bar.value:,}</text>'
            )
        parts.append(_bar(bar, shape, text))
    axis = (
        f'<line class="chart-axis" x1="0" y1="{top_room + plot_height + 0.5}" x2="{width}" '
        f'y2="{top_room + plot_height + 0.5}" stroke="currentColor" stroke-width="1"/>'
    )
    return _svg(chart_id, title, bars, width, height, axis + "".join(parts))


def _svg(chart_id: str, title: str, bars: list[Bar], width: int, height: float, body: str) -> Markup:
    description = "; ".join(f"{b.label}: {b.value:,}" for b in bars) or "no datasets"
    role = "group" if any(b.href for b in bars) else "img"
    return Markup(
        f'<svg class="chart" id="{escape(chart_id)}" role="{role}" viewBox="0 0 {width} {height:.0f}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-labelledby="{escape(chart_id)}-title '
        f'{escape(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg" font-size="13">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
        f"{body}</svg>"
    )


__all__ = ["Bar", "bar_chart", "column_chart"]
