"""Surge detection on real ticket texts: simulated days of traffic with bursts injected.

Each intent of a dataset stands for a kind of ticket. Seven days of background traffic (Poisson
arrivals, ``--rate`` tickets an hour, kinds drawn uniformly) fill the surge memory; then a day is
replayed ticket by ticket through ``SurgeMemory.assess`` (what every live decision runs), with a
burst of ``--burst`` tickets of one kind within 30 minutes:

- "new kind": the kind never appears in the background (an outage, a broken release);
- "spike": the kind is part of the background at its usual rate and bursts on top of it.

Reported per similarity threshold and Poisson tail (alpha): bursts detected, the median burst ticket at which the surge is
first flagged, burst tickets flagged, and false flags on burst-free days (per 1,000 tickets).
The threshold is chosen on the fit part (80%) of the eval-cli split and checked on the held-back
part. Finally the cost of the test per decision, against the decision without it, in one process.

    python scripts/bench_surges.py [--datasets ../shared/datasets] [--runs 30]
"""
import argparse
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import benchlib  # noqa: E402
from triage.surges import SurgeMemory, SurgePolicy  # noqa: E402

HOUR = 3600.0
DAY = 24 * HOUR
CONFIGS = [(t, 1e-3) for t in (0.55, 0.6, 0.65, 0.7, 0.75)] + [(t, 1e-4) for t in (0.55, 0.6, 0.65)]

parser = argparse.ArgumentParser()
parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[2] / "shared" / "datasets"))
parser.add_argument("--runs", type=int, default=30, help="bursts per scenario and threshold")
parser.add_argument("--rate", type=float, default=40.0, help="background tickets per hour")
parser.add_argument("--burst", type=int, default=10, help="tickets in a burst (within 30 minutes)")
parser.add_argument("--cost-only", action="store_true", help="only the cost per decision")
parser.add_argument("--compare-join", action="store_true",
                    help="only the default setting, with and without tickets joining a surge like theirs")
args = parser.parse_args()


def day(vectors, labels, policy, rng, scenario=None):
    """Replay one day after a 7-day baseline. Returns (flags of background tickets, flags of burst
    tickets in arrival order)."""
    kinds = np.unique(labels)
    kind = rng.choice(kinds) if scenario else None
    background = np.flatnonzero(labels != kind) if scenario == "new kind" else np.arange(len(labels))
    memory = SurgeMemory(policy, max_kept=10**6)
    n = rng.poisson(args.rate * 7 * 24)
    picks = rng.choice(background, n)
    memory.add(np.arange(n), np.sort(rng.uniform(-7 * DAY, 0, n)), vectors[picks])
    m = rng.poisson(args.rate * 24)
    stream = [(t, int(i), False) for t, i in zip(rng.uniform(0, DAY, m), rng.choice(background, m))]
    if scenario:
        start = rng.uniform(2 * HOUR, DAY - 2 * HOUR)
        pool = np.flatnonzero(labels == kind)
        own = rng.choice(pool, args.burst, replace=len(pool) < args.burst)
        stream += [(t, int(i), True) for t, i in zip(start + rng.uniform(0, 1800, args.burst), own)]
    stream.sort()
    flags_bg, flags_burst = [], []
    for k, (t, i, is_burst) in enumerate(stream):
        at = datetime.fromtimestamp(t, timezone.utc)
        [res] = memory.assess(vectors[i][None, :], [at])
        (flags_burst if is_burst else flags_bg).append(res["surge"]["flag"])
        memory.add([n + k], [t], vectors[i][None, :])
    return np.array(flags_bg), np.array(flags_burst)


def evaluate(vectors, labels, similar, alpha, seed=0, join=SurgePolicy().join) -> dict:
    policy = SurgePolicy(similar=similar, alpha=alpha, join=join)
    rng = np.random.default_rng(seed)
    out = {}
    for scenario in ("new kind", "spike"):
        detected, first, share = 0, [], []
        for _ in range(args.runs):
            _, burst = day(vectors, labels, policy, rng, scenario)
            share.append(burst.mean())
            if burst.any():
                detected += 1
                first.append(int(np.argmax(burst)) + 1)
        out[scenario] = {"detected": detected / args.runs, "first_flag_at": float(np.median(first)) if first else None,
                         "burst_flagged": float(np.mean(share))}
    false = [day(vectors, labels, policy, rng)[0] for _ in range(max(5, args.runs // 3))]
    out["false_per_1000"] = 1000 * float(np.concatenate(false).mean())
    return out


def show(name, results):
    print(f"\n{name}: rate {args.rate:g}/h, bursts of {args.burst} in 30 min, {args.runs} runs per scenario")
    print("| similarity, alpha | new kind: detected | first flag at | burst flagged | spike: detected | first flag at "
          "| burst flagged | false flags per 1,000 |")
    print("|---|---|---|---|---|---|---|---|")
    for (t, alpha), r in results.items():
        a, b = r["new kind"], r["spike"]
        print(f"| {t}, {alpha:g} | {a['detected']:.2f} | {a['first_flag_at']} | {a['burst_flagged']:.2f} | {b['detected']:.2f} "
              f"| {b['first_flag_at']} | {b['burst_flagged']:.2f} | {r['false_per_1000']:.2f} |")


rt = benchlib.fresh_runtime("kbt-bench-surge-")
encoded = {}
for name, label in (("banking77", "category"), ("clinc150", "intent")):
    fit, held = benchlib.split(Path(args.datasets) / name / "train.csv", label)
    if name == "clinc150":
        fit = [r for r in fit if r[1] != "oos"]
        held = [r for r in held if r[1] != "oos"]
    for part, rows in (("fit", fit), ("held-back", held)):
        encoded[(name, part)] = (rt.encoder.encode([t for t, _ in rows]), np.array([y for _, y in rows]))

started = time.perf_counter()
chosen = (SurgePolicy().similar, SurgePolicy().alpha)
if args.cost_only:
    pass
elif args.compare_join:
    for key, seed in ((("banking77", "fit"), 0), (("banking77", "held-back"), 1), (("clinc150", "fit"), 1)):
        for join in (None, 0.6, 0.7, 0.75):
            show(f"{key[0]} {key[1]} part, joining surges at cosine {join}",
                 {chosen: evaluate(*encoded[key], *chosen, seed=seed, join=join)})
else:
    show("banking77 fit part (choosing)", {c: evaluate(*encoded[("banking77", "fit")], *c) for c in CONFIGS})
    for key in (("banking77", "held-back"), ("clinc150", "fit")):
        show(f"{key[0]} {key[1]} part (checking)", {chosen: evaluate(*encoded[key], *chosen, seed=1)})
print(f"\nsimulations took {time.perf_counter() - started:.0f} s")

# Cost per decision: one ticket decided with the surge test (memory of a week at the rate above,
# and at the memory's cap) against the same decision without it, alternating in this process.
vectors, _ = encoded[("banking77", "fit")]
rng = np.random.default_rng(2)
now = datetime.now(timezone.utc)
texts = [f"ticket {i}: my card payment was declined at the shop" for i in range(300)]
rt.engine.current()  # the engine's first look at the (empty) database is done
for kept in (int(args.rate * 7 * 24), 50_000):
    memory = rt.engine.surges = SurgeMemory(rt.engine.surges.policy)
    with rt.db.session() as s:
        memory.refresh(s, rt.settings.encoder)  # its first look at the (empty) database
    picks = rng.integers(0, len(vectors), kept)
    memory.add(np.arange(kept), now.timestamp() - rng.uniform(0, 7 * DAY, kept), vectors[picks])
    with_test, without = [], []
    for text in texts:
        t0 = time.perf_counter()
        rt.engine.decide([text])
        t1 = time.perf_counter()
        rt.engine.decide([text], arrivals=[now])
        t2 = time.perf_counter()
        without.append(t1 - t0)
        with_test.append(t2 - t1)
    a, b = 1000 * np.median(with_test), 1000 * np.median(without)
    print(f"{kept} tickets held: decision {a:.2f} ms with the surge test, {b:.2f} ms without "
          f"(median of {len(texts)}, ratio {a / b:.2f})")
