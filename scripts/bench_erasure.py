"""Erasure cost: it_tickets' 38,269 tickets imported into a fresh SQLite database, then 20
erasures of one ticket by external id, then a retention purge of the rest; then the tickets are
imported again and purged again with tracemalloc on, for the purge's peak Python memory.

``--surge-memory``: instead, what a service process pays on its next decision after an erasure of
one ticket, with every imported ticket's vector stored for the surge test (a random unit vector,
created in the last 6 days): dropping the erased ticket from its surge memory (reads ids), against
loading the memory again (what it did before; reads every vector), 10 erasures each, in turns.

    python scripts/bench_erasure.py [--datasets ../shared/datasets] [--surge-memory]
        [--database-url postgresql://...  (an empty database)]
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
parser.add_argument("--surge-memory", action="store_true")
parser.add_argument("--database-url", default="")
args = parser.parse_args()
rt = benchlib.fresh_runtime("kbt-bench-erase-", args.database_url)
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


def surge_memory() -> None:
    import numpy as np
    from sqlalchemy import insert, select

    from triage.surges import SurgeMemory, to_blob
    from triage.tables import Ticket, TicketVector

    rng = np.random.default_rng(0)
    now = datetime.now(timezone.utc)
    with rt.db.session() as s:
        ids = list(s.scalars(select(Ticket.id)))
        vectors = rng.standard_normal((len(ids), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows = [{"ticket_id": t, "encoder": rt.settings.encoder, "vector": to_blob(v),
                 "created_at": now - timedelta(days=6) * (n / len(ids))} for n, (t, v) in enumerate(zip(ids, vectors))]
        for start in range(0, len(rows), 2000):
            s.execute(insert(TicketVector), rows[start:start + 2000])
        s.commit()
    memory = SurgeMemory()
    with rt.db.session() as s:
        memory.refresh(s, rt.settings.encoder)
    print(f"surge memory holds {len(memory)} tickets")
    drop, reload = [], []
    for i in range(20):
        timed_erase(external_ids=[f"IT-{i}"])
        with rt.db.session() as s:
            started = time.perf_counter()
            if i % 2:
                memory.refresh(s, rt.settings.encoder)  # sees the erasure: drops the erased ticket
                drop.append(time.perf_counter() - started)
            else:
                memory = SurgeMemory()  # the old way: load everything again
                memory.refresh(s, rt.settings.encoder)
                reload.append(time.perf_counter() - started)
    with rt.db.session() as s:
        assert len(memory) == s.query(TicketVector).count()
    drop_ms, reload_ms = np.median(drop) * 1000, np.median(reload) * 1000
    print(f"next look after an erasure of one ticket: drop the erased {drop_ms:.1f} ms, reload all "
          f"{reload_ms:.1f} ms (medians of 10 each; ratio {reload_ms / drop_ms:.1f}x)")


import_all("IT")
if args.surge_memory:
    surge_memory()
    sys.exit(0)
one = sorted(timed_erase(external_ids=[f"IT-{i}"])[0] for i in range(20))
print(f"one ticket by external id: median {one[10] * 1000:.1f} ms (20 erasures)")
seconds, report = timed_erase(created_before=datetime.now(timezone.utc) + timedelta(days=1))
print(f"retention purge of {report['tickets']} tickets: {seconds:.1f} s")
import_all("AGAIN")
tracemalloc.start()
timed_erase(created_before=datetime.now(timezone.utc) + timedelta(days=1))
print(f"retention purge of {len(rows)} tickets: peak traced Python memory "
      f"{tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB")
