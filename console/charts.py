"""Where each mark of the console's pictures goes: the geometry of small SVG charts, computed here
and drawn by the macros of ``templates/console/_charts.html`` as inline SVG (no script, no chart
library, nothing from a CDN; presentation attributes only, which the Content-Security-Policy allows).

Series differ by colour (the Okabe-Ito palette, told apart by most colour-blind readers), by dash
and by marker shape, so a chart still reads in grey; every chart also comes with its figures as a
table in the page.
"""
from __future__ import annotations

import math

# (colour, dash pattern, marker): distinct in hue, in line and in shape.
STYLES = [("#0072B2", "", "circle"), ("#D55E00", "6 3", "square"), ("#009E73", "2 3", "triangle"),
          ("#CC79A7", "8 3 2 3", "diamond"), ("#E69F00", "", "square"), ("#56B4E9", "6 3", "triangle")]
PAD = {"left": 40, "right": 14, "top": 12, "bottom": 34}
LABEL_WIDTH = 80  # pixels an x label needs beside the next


def _f(value: float) -> float:
    return round(value, 1)


def marker(shape: str, x: float, y: float, r: float = 4.0) -> str:
    """An SVG path of a marker centred on (x, y)."""
    if shape == "square":
        return f"M{_f(x - r)} {_f(y - r)}h{_f(2 * r)}v{_f(2 * r)}h{_f(-2 * r)}z"
    if shape == "triangle":
        return f"M{_f(x)} {_f(y - r * 1.2)}L{_f(x + r * 1.1)} {_f(y + r * 0.9)}L{_f(x - r * 1.1)} {_f(y + r * 0.9)}z"
    if shape == "diamond":
        return f"M{_f(x)} {_f(y - r * 1.3)}L{_f(x + r)} {_f(y)}L{_f(x)} {_f(y + r * 1.3)}L{_f(x - r)} {_f(y)}z"
    return f"M{_f(x - r)} {_f(y)}a{r} {r} 0 1 0 {_f(2 * r)} 0a{r} {r} 0 1 0 {_f(-2 * r)} 0z"


def _frame(width: int, height: int) -> dict:
    return {"x": PAD["left"], "y": PAD["top"], "w": width - PAD["left"] - PAD["right"],
            "h": height - PAD["top"] - PAD["bottom"]}


def _x_ticks(xs: list[float], labels: list[str], width: float) -> list[dict]:
    """As many labels as fit in ``width``, evenly thinned, the last one always kept."""
    firsts = {}
    for x, label in zip(xs, labels):
        firsts.setdefault(x, label)  # one label where several marks share an x
    ticks = sorted(firsts.items())
    step = max(1, math.ceil(len(ticks) / max(2, width // LABEL_WIDTH)))
    keep = set(range(len(ticks) - 1, -1, -step))
    return [{"x": x, "label": label} for i, (x, label) in enumerate(ticks) if i in keep]


def line_chart(*, series: list[dict], x_values: list[float], x_labels: list[str], y_max: float = 1.0,
               y_ticks: tuple = (0, 0.5, 1), targets: list[dict] | None = None, width: int = 560,
               height: int = 240, x_title: str = "") -> dict:
    """Lines over shared x values. ``series``: ``{"name", "values": [y or None], "notes": [text]}``
    (a None breaks the line); ``targets``: ``{"value", "label"}`` drawn as dashed horizontal lines."""
    plot = _frame(width, height)
    low, high = (min(x_values), max(x_values)) if x_values else (0.0, 1.0)
    if high == low:
        low, high = low - 1, high + 1  # a single x in the middle

    def px(x: float) -> float:
        return _f(plot["x"] + 8 + (x - low) / (high - low) * (plot["w"] - 16))

    def py(y: float) -> float:
        return _f(plot["y"] + plot["h"] - min(max(y, 0.0), y_max) / y_max * plot["h"])

    drawn = []
    for n, s in enumerate(series):
        colour, dash, shape = STYLES[n % len(STYLES)]
        segments, current, points = [], [], []
        notes = s.get("notes") or [""] * len(s["values"])
        for x, y, note in zip(x_values, s["values"], notes):
            if y is None:
                if current:
                    segments.append(current)
                current = []
                continue
            current.append(f"{px(x)},{py(y)}")
            points.append({"d": marker(shape, px(x), py(y)), "note": note})
        if current:
            segments.append(current)
        drawn.append({"name": s["name"], "colour": colour, "dash": dash, "shape": shape,
                      "legend": marker(shape, 0, 0), "segments": [" ".join(seg) for seg in segments if len(seg) > 1],
                      "points": points})
    return {"width": width, "height": height, "plot": plot, "series": drawn, "x_title": x_title,
            "x_ticks": [{"x": px(t["x"]), "label": t["label"]} for t in _x_ticks(x_values, x_labels, plot["w"])],
            "y_ticks": [{"y": py(t), "label": f"{t:g}"} for t in y_ticks],
            "targets": [{"y": py(t["value"]), "label": t["label"]} for t in targets or [] if t["value"] is not None]}


def bar_chart(*, values: list[int], labels: list[str], notes: list[str] | None = None, width: int = 360,
              height: int = 130) -> dict:
    """Bars of counts over consecutive periods, the axis from zero to the largest count."""
    plot = _frame(width, height)
    top = max(values, default=0) or 1
    slot = plot["w"] / max(1, len(values))
    bars = []
    for i, (value, label) in enumerate(zip(values, labels)):
        h = value / top * plot["h"]
        bars.append({"x": _f(plot["x"] + i * slot + slot * 0.15), "w": _f(slot * 0.7), "y": _f(plot["y"] + plot["h"] - h),
                     "h": _f(h), "value": value, "label": label, "note": (notes or labels)[i]})
    xs = [_f(plot["x"] + (i + 0.5) * slot) for i in range(len(values))]
    return {"width": width, "height": height, "plot": plot, "bars": bars, "x_ticks": _x_ticks(xs, labels, plot["w"]),
            "y_ticks": [{"y": _f(plot["y"] + plot["h"] - t / top * plot["h"]), "label": str(t)}
                        for t in sorted({0, top})]}
