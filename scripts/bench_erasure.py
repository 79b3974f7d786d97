"""Erasure cost: it_tickets' 38,269 tickets imported into a fresh SQLite database, then 20
erasures of one ticket by external id, then a retention purge of the rest; then the tickets are
imported again and purged again with tracemalloc on, for the purge's peak Python memory.

    python scripts/bench_erasure.py [--datasets ../shared/datasets]
"""
import argparse
import csv
import os
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
from triage import erasure, service  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[2] / "shared" / "datasets"))
args = parser.parse_args()
rt = benchlib.fresh_runtime("kbt-bench-erase-")
rows = list(csv.DictReader(open(Path(args.datasets) / "it_tickets" / "train.csv", newline="", encoding="utf-8")))
kw = dict(embedding_cache=rt.cached_encoder, models_dir=rt.settings.models_dir, engine=rt.engine)


def timed_erase(**criteria) -> tuple[float, dict]:
    """Seconds to select and erase the tickets ``criteria`` name (as the API and CLI do), and the report."""
    with rt.db.session() as s:
        started = time.perf_counter()
        report = erasure.erase(session=s, selection=erasure.select_tickets(session=s, **criteria), by="bench", **kw)
        return time.perf_counter() - started, report




def import_all(tag: str) -> None:
    started = time.perf_counter()
    with rt.db.session() as s:
        service.import_tickets(session=s, records=[{"body": r["text"], "category": r["category"],
                                                    "external_id": f"{tag}-{i}"} for i, r in enumerate(rows)])
    print(f"imported {len(rows)} in {time.perf_counter() - started:.1f} s")


import_all("IT")
one = sorted(timed_erase(external_ids=[f"IT-{i}"])[0] for i in range(20))
print(f"one ticket by external id: median {one[10] * 1000:.1f} ms (20 erasures)")
seconds, report = timed_erase(created_before=datetime.now(timezone.utc) + timedelta(days=1))
print(f"retention purge of {report['tickets']} tickets: {seconds:.1f} s")
import_all("AGAIN")
tracemalloc.start()
timed_erase(created_before=datetime.now(timezone.utc) + timedelta(days=1))
print(f"retention purge of {len(rows)} tickets: peak traced Python memory "
      f"{tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB")
