"""Shared pieces of the benchmark scripts: the eval-cli split, the intent-as-article mapping,
suggestion hit rates, percentiles and line plots."""
from __future__ import annotations

import csv
import random
import tempfile
from pathlib import Path

import numpy as np


def fresh_runtime(prefix: str = "kbt-bench-", database_url: str = ""):
    """A started runtime in a new temporary home with its own SQLite database (or the empty
    database ``database_url`` names). Every other setting comes from the environment as the service
    reads it (``KBTRIAGE_ENCODER`` to benchmark another encoder, ``KBTRIAGE_ENCODER_BACKEND``, ...)."""
    from common.config import load
    from application.runtime import Runtime

    return Runtime(load({"home": tempfile.mkdtemp(prefix=prefix), "database_url": database_url})).start()


def percentile(values, q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, numpy's linear interpolation."""
    return float(np.percentile(np.asarray(values, dtype=float), q))


def split(path: Path, label: str):
    """80/20 split with seed 7, as ../shared/tools/eval-cli.sh makes it: (text, label) pairs."""
    rows = list(csv.DictReader(open(path, newline="", encoding="utf-8")))
    random.Random(7).shuffle(rows)
    cut = int(len(rows) * 0.8)
    return [(r["text"], r[label]) for r in rows[:cut]], [(r["text"], r[label]) for r in rows[cut:]]


def intent_articles(labels) -> list[dict]:
    """One article per intent: title = the intent name with spaces, body = the same."""
    return [{"id": l, "title": l.replace("_", " ").capitalize(), "body": l.replace("_", " ")} for l in labels]


def hits(decisions, truth) -> dict:
    """hit@1, hit@3 and MRR of the suggestions against the true article ids."""
    ranks = []
    for d, y in zip(decisions, truth):
        ids = [s["article_id"] for s in d["suggestions"]]
        ranks.append(ids.index(y) + 1 if y in ids else 0)
    ranks = np.array(ranks)
    return {"hit@1": round(float((ranks == 1).mean()), 4),
            "hit@3": round(float(((ranks >= 1) & (ranks <= 3)).mean()), 4),
            "mrr": round(float(np.mean([1 / r if r else 0 for r in ranks])), 4), "n": len(truth)}


def line_plot(path: Path, xs, series: dict, *, title: str, xlabel: str, ylabel: str,
              hlines: dict | None = None, symlog: bool = False) -> str:
    """Save a small line chart as PNG; returns the path, or why it could not be drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed: pip install -e '.[bench]'"
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for (label, ys), marker in zip(series.items(), "os^v"):
        ax.plot(xs, ys, marker=marker, label=label)
    for n, (label, y) in enumerate((hlines or {}).items()):
        ax.axhline(y, ls="--" if n % 2 == 0 else ":", lw=1, color=f"C{n}", label=label)
    if symlog:
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0.5, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)
