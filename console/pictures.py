"""The console's pictures from the reports over time (application/trends.py): which series each
chart holds, its labels and the note each mark carries; ``console.charts`` places the marks."""
from __future__ import annotations

from datetime import datetime

from console import charts


def _day(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%d %b")


def live_precision(trend: dict) -> list[dict]:
    """One small chart per category: its live auto-route precision per period, and its target."""
    labels = [_day(s) for s in trend["periods"]]
    period = "week of " if trend["every"] == "week" else ""
    out = []
    for row in trend["categories"]:
        notes = [f"{row['category']}, {period}{label}: " + (
            f"{p['precision']:.2f} ({p['confirmed']} of {p['judged']} judged)" if p["precision"] is not None
            else "no judged auto-routed decision") for label, p in zip(labels, row["points"])]
        chart = charts.line_chart(
            series=[{"name": "live precision", "values": [p["precision"] for p in row["points"]], "notes": notes}],
            x_values=list(range(len(labels))), x_labels=labels, width=300, height=150,
            targets=[{"value": row["target_precision"], "label": f"target {row['target_precision']:g}"
                      if row["target_precision"] is not None else ""}])
        out.append({"category": row["category"], "target_precision": row["target_precision"], "chart": chart,
                    "rows": [{"period": label, **p} for label, p in zip(labels, row["points"])]})
    return out


def learning_curve(curve: list[dict]) -> dict | None:
    """Validation figures against training tickets, one mark per version (None: no version yet)."""
    if not curve:
        return None
    parts = [("category accuracy", "category_accuracy"), ("category macro-F1", "category_macro_f1"),
             ("tier accuracy", "tier_accuracy")]
    series = [{"name": name, "values": [v[key] for v in curve],
               "notes": [f"version {v['version']}, {v['tickets']} tickets: {name} {v[key]}" for v in curve]}
              for name, key in parts if any(v[key] is not None for v in curve)]
    return charts.line_chart(series=series, x_values=[float(v["tickets"] or 0) for v in curve],
                             x_labels=[f"{v['tickets']}" for v in curve], height=260,
                             x_title="tickets the version was trained on")


def gap_weeks(over_time: dict) -> list[dict]:
    """Per gap cluster, a bar chart of its tickets per week."""
    labels = [_day(s) for s in over_time["weeks"]]
    return [{"chart": charts.bar_chart(values=c["counts"], labels=labels,
                                       notes=[f"week of {label}: {n} tickets" for label, n in zip(labels, c["counts"])]),
             "weeks": list(zip(labels, c["counts"])), "earlier": c["earlier"]}
            for c in over_time["clusters"]]
