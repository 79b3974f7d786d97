"""Two model versions' per-class validation tables side by side, for the models page: the rows of
both reports (as training kept them) joined by class, with the change in F1."""
from __future__ import annotations

PARTS = ("category", "tier")


def per_class(version, part: str) -> dict[str, dict]:
    """The per-class validation figures ``version``'s report kept for ``part`` ({} when none)."""
    report = getattr(version, "report", None) or {}
    return ((report.get(part) or {}).get("validation") or {}).get("per_class") or {}


def side_by_side(left, right) -> dict[str, list[dict]]:
    """Per part, one row per class either version knows: its figures in each (None where that
    version has no such class) and ``right``'s F1 minus ``left``'s."""
    out = {}
    for part in PARTS:
        a, b = per_class(left, part), per_class(right, part) if right is not None else {}
        rows = []
        for label in sorted(set(a) | set(b)):
            l, r = a.get(label), b.get(label)
            delta = round(r["f1"] - l["f1"], 4) if l and r and l.get("f1") is not None and r.get("f1") is not None else None
            rows.append({"label": label, "left": l, "right": r, "delta_f1": delta})
        if rows:
            out[part] = rows
    return out
