"""The content-gap worklist at scale: it_tickets texts imported as tickets, each with a triage
decision that flagged a gap, then ``application.gaps.report`` (what GET /v1/gaps and ``kbtriage gaps`` run)
timed per size: the first call encoding the candidates; the second reading the encoder's cache;
a third, the same again with tracemalloc on, for the peak traced Python memory (numpy's arrays
included; tracemalloc slows the call, so it is not timed); and, where ``report`` takes
``encoder_name`` (from session 21), a fourth with the cache emptied, reading the vectors stored
when the tickets were triaged (the service stores every triaged ticket's vector for the surge
test).

    python scripts/bench_gaps.py [--sizes 2000 5000 10000 20000 38000] [--datasets ../shared/datasets]
"""
import argparse
import inspect
import csv
import os
import sys
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from application import gaps  # noqa: E402
from triage import service  # noqa: E402
from triage.surges import to_blob  # noqa: E402
from triage.tables import Ticket, TicketVector, TriageDecision  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[2] / "shared" / "datasets"))
parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 10000, 20000, 38000])
args = parser.parse_args()
rows = list(csv.DictReader(open(Path(args.datasets) / "it_tickets" / "train.csv", newline="", encoding="utf-8")))
now = datetime.now(timezone.utc)
print("| gap candidates | first call (encoding) | second call (cached) | peak traced memory | "
      "vectors stored at triage |")
print("|---|---|---|---|---|")
for size in args.sizes:
    rt = benchlib.fresh_runtime("kbt-bench-gaps-")
    with rt.db.session() as s:
        service.import_tickets(session=s, records=[{"body": r["text"]} for r in rows[:size]])
        ids = list(s.scalars(select(Ticket.id)))
        s.execute(insert(TriageDecision), [{"ticket_id": t, "route": "review", "gap": True} for t in ids])
        s.commit()
    times, peak, result = [], 0.0, None
    for attempt in range(3):
        with rt.db.session() as s:
            if attempt == 2:
                tracemalloc.start()
            started = time.perf_counter()
            try:
                result = gaps.report(session=s, store=rt.store, encoder=rt.cached_encoder)
            except Exception as exc:  # noqa: BLE001 - the benchmark reports what broke
                times.append(f"failed: {type(exc).__name__}: {str(exc)[:60]}")
                break
            if attempt < 2:
                times.append(f"{time.perf_counter() - started:.1f} s")
            else:
                peak = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
    tracemalloc.stop()
    if len(times) == 2 and "encoder_name" in inspect.signature(gaps.report).parameters:
        with rt.db.session() as s:
            texts = [t.text for t in s.scalars(select(Ticket).order_by(Ticket.id))]
            vectors = rt.cached_encoder.encode(texts)  # from the cache
            s.execute(insert(TicketVector), [{"ticket_id": t, "encoder": rt.settings.encoder, "created_at": now,
                                              "vector": to_blob(v)} for t, v in zip(ids, vectors)])
            s.commit()
            rt.cached_encoder.forget(texts)
            started = time.perf_counter()
            stored = gaps.report(session=s, store=rt.store, encoder=rt.cached_encoder, encoder_name=rt.settings.encoder)
            times.append(f"{time.perf_counter() - started:.1f} s")
            assert stored["clusters"] == result["clusters"]
    times += ["-"] * (3 - len(times))
    print(f"| {len(ids):,} | {times[0]} | {times[1]} | {peak:.0f} MiB | {times[2]} |", flush=True)
    rt.close()
