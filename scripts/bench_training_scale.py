"""Benchmark: training time and peak memory as tickets, classes and text length grow (#30).

Each configuration runs in its own process (so its peak resident memory is its own): a fresh
SQLite database gets ``tickets`` synthetic tickets made from real ones, the first training is
timed (embedding included: imported history has no stored vectors), then ``--retrain`` more
tickets are imported and the retrain is timed (embeddings of the others come from the cache).

The tickets are real texts (endava_tickets titles and bodies, it_tickets texts) grown into
e-mail bodies: labels first (the real texts clustered on hashed words by k-means into
``classes - classes // 5`` learnable classes of uneven size, and ``classes // 5`` more as a long
tail of 1 to 5 tickets each, so the rare-class path is exercised at every size); then each body
is its ticket followed by paragraphs of other real tickets of its class until it reaches
``chars`` characters (what the models read: the text after e-mail cleaning), then a signature
and an earlier message quoted ("> "), which the cleaning removes as it would in a real export.

    python scripts/bench_training_scale.py --tickets 2500,5000,10000 --classes 100 --chars 1500
    python scripts/bench_training_scale.py --tickets 10000 --classes 25,50,100,200 --chars 1500
    python scripts/bench_training_scale.py --tickets 10000 --classes 100 --chars 300,1500,4000
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import fresh_runtime  # noqa: E402

SIGNATURES = ["Best regards,\n{name}\nIT Operations | Service Desk\nThis e-mail and any attachments are "
              "confidential and intended solely for the addressee.",
              "Thanks,\n{name}\nSent from my phone", "Kind regards\n{name}\nFinance team, 3rd floor"]
NAMES = ["Anna Keller", "Tom Becker", "Priya Nair", "Luis Ortega", "Mei Chen", "Olu Adeyemi"]


def real_texts(datasets: Path) -> list[str]:
    out = []
    with open(datasets / "endava_tickets" / "train.csv", newline="", encoding="utf-8") as fh:
        out += [f"{r['title']}\n\n{r['body']}".strip() for r in csv.DictReader(fh)]
    with open(datasets / "it_tickets" / "train.csv", newline="", encoding="utf-8") as fh:
        out += [r["text"].strip() for r in csv.DictReader(fh)]
    return [t for t in out if t]


def synthetic(datasets: Path, n: int, classes: int, chars: int, seed: int = 0) -> list[dict]:
    """``n`` tickets: real texts as e-mail bodies of about ``chars`` characters, ``classes`` labels
    (a long tail of ``classes // 5`` with 1-5 tickets)."""
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.feature_extraction.text import HashingVectorizer

    rng = random.Random(seed)
    pool = real_texts(datasets)
    base = rng.sample(pool, min(n, len(pool))) if n <= len(pool) else [rng.choice(pool) for _ in range(n)]
    tail = classes // 5
    hashed = HashingVectorizer(n_features=2 ** 18, alternate_sign=False).transform(base)
    labels = MiniBatchKMeans(n_clusters=classes - tail, random_state=seed, n_init=3,
                             batch_size=2048).fit_predict(hashed)
    labels = [f"queue-{c:03d}" for c in labels]
    rows = rng.sample(range(n), min(n, tail * 5))
    for k in range(tail):  # the long tail: classes of 1..5 tickets
        for _ in range(1 + k % 5):
            if rows:
                labels[rows.pop()] = f"rare-{k:03d}"
    members: dict[str, list[str]] = {}
    for text, label in zip(base, labels):
        members.setdefault(label, []).append(text)
    tickets = []
    for text, label in zip(base, labels):
        body, size = [text], len(text)
        while size < chars:
            more = rng.choice(members[label] if len(members[label]) > 1 else pool)
            body.append(more)
            size += len(more) + 2
        body = "\n\n".join(body)[:max(chars, len(text))]
        quoted = "\n".join(f"> {line}" for line in rng.choice(pool).splitlines())
        signature = rng.choice(SIGNATURES).format(name=rng.choice(NAMES))
        tickets.append({"subject": text.splitlines()[0][:80], "category": label,
                        "body": f"{body}\n\n{signature}\n\nOn Mon, {rng.choice(NAMES)} wrote:\n{quoted}"})
    return tickets


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """CPU seconds of this process, all threads: a machine shared with other work stretches the
    wall-clock time, not this."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class RssWatch:
    """Samples this process's resident memory every ``every`` seconds in a thread: when in a timed run
    (seconds from its start) the peak came, to put it beside the report's step timings."""

    def __init__(self, every: float = 0.1):
        import threading

        self.every, self.peak, self.peak_at, self.started = every, 0.0, 0.0, time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.wait(self.every):
            with open("/proc/self/statm") as fh:
                rss = int(fh.read().split()[1]) * page / 2 ** 20
            if rss > self.peak:
                self.peak, self.peak_at = rss, time.perf_counter() - self.started

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        return {"sampled_peak_mb": round(self.peak), "peak_at_seconds": round(self.peak_at, 1)}


def profiled(call, path: str | None, name: str):
    """``call()``, under cProfile when ``path`` is given (its stats saved to ``path``-``name``.pstats
    and the top functions by own time printed to stderr)."""
    if not path:
        return call()
    import cProfile
    import pstats

    profile = cProfile.Profile()
    try:
        return profile.runcall(call)
    finally:
        out = f"{path}-{name}.pstats"
        profile.dump_stats(out)
        print(f"--- {name}: {out}", file=sys.stderr)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)


def one(datasets: Path, n: int, classes: int, chars: int, retrain: int, stored: bool = False,
        profile: str | None = None) -> dict:
    """Train on ``n`` tickets, then retrain after ``retrain`` more; times and peak memory. With
    ``stored`` every ticket's vector is computed before the timed runs, as when tickets were triaged
    on arrival (their vectors stored), so the figures are the training's own cost."""
    from application.training import train, training_examples
    from triage import service as triage_service

    tickets = synthetic(datasets, n + retrain, classes, chars)
    first, later = tickets[:n], tickets[n:]
    rt = fresh_runtime("kbt-scale-")
    with rt.db.session() as s:
        triage_service.import_tickets(session=s, records=first)
    rt.encoder.encode(["warm up"])
    if stored:
        with rt.db.session() as s:
            rt.cached_encoder.encode([e["text"] for e in training_examples(session=s)])
    before = rss_mb()
    started, cpu, watch = time.perf_counter(), cpu_s(), RssWatch()
    with rt.db.session() as s:
        version = profiled(lambda: train(session=s, store=rt.store, encoder=rt.cached_encoder,
                                         settings=rt.settings), profile, "first")
    train_s, train_cpu, first_watch = time.perf_counter() - started, cpu_s() - cpu, watch.stop()
    load = os.getloadavg()[0]
    report = version.report
    first_peak = rss_mb()
    out = {"tickets": n, "vectors_stored_before": stored, "classes": len({t["category"] for t in first}), "chars": chars,
           "mean_chars": round(float(np.mean([len(t["body"]) for t in first])), 0),
           "train_seconds": round(train_s, 1), "train_cpu_seconds": round(train_cpu, 1), "rss_watch": first_watch,
           "load_average_after": round(load, 1), "peak_rss_mb": round(first_peak), "rss_before_train_mb": round(before),
           "timings": {t["step"][:40]: t["seconds"] for t in report.get("timings", [])},
           "rare_classes": (report.get("category", {}).get("rare_classes") or {}).get("count", 0),
           "model": type(rt.engine.current()[1].category_model.model_).__name__,
           "validation_accuracy": (report.get("category", {}).get("validation") or {}).get("accuracy"),
           "model_selection": report.get("category", {}).get("model_selection", {}).get("candidates"),
           "text_features": report.get("text_features")}
    if later:
        with rt.db.session() as s:
            triage_service.import_tickets(session=s, records=later)
            if stored:
                rt.cached_encoder.encode([e["text"] for e in training_examples(session=s)])
        started, cpu, watch = time.perf_counter(), cpu_s(), RssWatch()
        with rt.db.session() as s:
            version = profiled(lambda: train(session=s, store=rt.store, encoder=rt.cached_encoder,
                                             settings=rt.settings, promote="always"), profile, "retrain")
        out.update({"retrain_rss_watch": watch.stop(),"retrain_new_tickets": len(later), "retrain_seconds": round(time.perf_counter() - started, 1),
                    "retrain_cpu_seconds": round(cpu_s() - cpu, 1), "retrain_load_average_after": round(os.getloadavg()[0], 1),
                    "retrain_model_selection": version.report.get("category", {}).get("model_selection", {}).get("note"),
                    "retrain_peak_rss_mb": round(rss_mb()),
                    "retrain_timings": {t["step"][:40]: t["seconds"] for t in version.report.get("timings", [])}})
    rt.close()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
    parser.add_argument("--tickets", default="10000", help="comma-separated ticket counts")
    parser.add_argument("--classes", default="100", help="comma-separated class counts")
    parser.add_argument("--chars", default="1500", help="comma-separated e-mail body lengths (characters)")
    parser.add_argument("--retrain", type=int, default=1000, help="new tickets before the timed retrain (0: none)")
    parser.add_argument("--stored-vectors", action="store_true",
                        help="encode every ticket before the timed runs (as if triaged on arrival)")
    parser.add_argument("--profile", metavar="PREFIX",
                        help="run the trainings under cProfile: stats to PREFIX-first.pstats and PREFIX-retrain.pstats,"
                             " the top functions printed (one configuration only; cProfile slows the run)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    datasets = Path(args.datasets)
    if not (datasets / "endava_tickets" / "train.csv").exists():
        sys.exit(f"datasets not found at {datasets} (give --datasets)")
    if args.one:
        print(json.dumps(one(datasets, int(args.tickets), int(args.classes), int(args.chars), args.retrain,
                             args.stored_vectors, args.profile)))
        return
    command = "python scripts/bench_training_scale.py " + " ".join(argv if argv is not None else sys.argv[1:])
    results = []
    for n in map(int, args.tickets.split(",")):
        for k in map(int, args.classes.split(",")):
            for c in map(int, args.chars.split(",")):
                done = subprocess.run([sys.executable, __file__, "--one", "--datasets", str(datasets), "--tickets",
                                       str(n), "--classes", str(k), "--chars", str(c), "--retrain", str(args.retrain)]
                                      + (["--stored-vectors"] if args.stored_vectors else [])
                                      + (["--profile", args.profile] if args.profile else []),
                                      stdout=subprocess.PIPE, text=True)  # its stderr (progress, profile) shows
                if done.returncode:
                    sys.exit(f"the run of {n} x {k} x {c} failed (exit {done.returncode}, its error above)")
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"results": results, "command": command}, indent=2))


if __name__ == "__main__":
    main()
