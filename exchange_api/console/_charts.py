"""Charts as inline SVG, drawn on the server: no JavaScript, no chart library, readable in any browser.

Two shapes cover the console's charts: bars (one value per label: applications per department,
answer times) and lines (series over an ordered x: accuracy per training round, budget spent over
time, anchoring lag). Each mark carries a ``<title>`` so hovering shows the exact value, and the
figure has an ``aria-label`` for screen readers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart", "line_chart"]

WIDTH = 640
ROW = 26
PALETTE = ("#1f6feb", "#d97706", "#059669", "#9333ea", "#dc2626", "#0891b2")


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.3g}"


def _safe(html: str) -> Markup:
    # Every value interpolated into the charts' markup is escaped (text) or formatted (numbers).
    return Markup(html)  # noqa: S704


def _text(x: float, y: float, content: str, cls: str = "chart-value", anchor: str = "start") -> str:
    return f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}" class="{cls}">{escape(content)}</text>'


def _empty(label: str, message: str) -> Markup:
    return _safe(
        f'<figure class="chart" aria-label="{escape(label)}"><figcaption>{escape(label)}</figcaption>'
        f'<p class="muted">{escape(message)}</p></figure>'
    )


def bar_chart(items: Sequence[tuple[str, float]], *, label: str, unit: str = "", empty: str = "—") -> Markup:
    """Horizontal bars, one per (name, value); values must be non-negative."""
    if not items:
        return _empty(label, empty)
    top = max(v for _, v in items) or 1.0
    left, right = 180, 70
    span = WIDTH - left - right
    height = ROW * len(items) + 8
    parts = [
        f'<figure class="chart" aria-label="{escape(label)}"><figcaption>{escape(label)}</figcaption>',
        f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{escape(label)}">',
    ]
    for i, (name, value) in enumerate(items):
        y = 4 + i * ROW
        w = max(1.0, span * value / top)
        text = f"{_fmt(value)}{unit}"
        parts.append(
            f"<g><title>{escape(name)}: {escape(text)}</title>"
            + _text(left - 8, y + 16, name[:24], "chart-label", "end")
            + f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{ROW - 8}" fill="{PALETTE[0]}" rx="2"/>'
            + _text(left + w + 6, y + 16, text)
            + "</g>"
        )
    parts.append("</svg></figure>")
    return _safe("".join(parts))


def line_chart(
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    label: str,
    x_label: str = "",
    y_label: str = "",
    empty: str = "—",
) -> Markup:
    """One polyline per named series of (x, y) points, on shared axes, with a legend."""
    points = [p for values in series.values() for p in values]
    if not points:
        return _empty(label, empty)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys)
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1
    left, top, bottom, height = 60, 12, 36, 240
    plot_w, plot_h = WIDTH - left - 16, height - top - bottom
    bottom_y = top + plot_h

    def sx(x: float) -> float:
        return left + plot_w * (x - x0) / (x1 - x0)

    def sy(y: float) -> float:
        return top + plot_h * (1 - (y - y0) / (y1 - y0))

    parts = [
        f'<figure class="chart" aria-label="{escape(label)}"><figcaption>{escape(label)}</figcaption>',
        f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{escape(label)}">',
        f'<line x1="{left}" y1="{bottom_y}" x2="{left + plot_w}" y2="{bottom_y}" class="chart-axis"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom_y}" class="chart-axis"/>',
        _text(left - 6, top + 10, _fmt(y1), anchor="end"),
        _text(left - 6, bottom_y, _fmt(y0), anchor="end"),
        _text(left, height - 18, _fmt(x0)),
        _text(left + plot_w, height - 18, _fmt(x1), anchor="end"),
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 4}" text-anchor="middle" class="chart-label">'
        f"{escape(x_label)}</text>",
        f'<text x="12" y="{top + plot_h / 2:.0f}" class="chart-label" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.0f})" text-anchor="middle">{escape(y_label)}</text>',
    ]
    for i, (name, values) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        ordered = sorted(values)
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in ordered)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in ordered:
            parts.append(
                f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)} · {escape(_fmt(x))}: {escape(_fmt(y))}</title></circle>"
            )
    parts.append("</svg>")
    legend = "".join(
        f'<li><span class="swatch" data-colour="{i % len(PALETTE)}"></span>{escape(name)}</li>'
        for i, name in enumerate(series)
    )
    parts.append(f'<ul class="legend">{legend}</ul></figure>')
    return _safe("".join(parts))
