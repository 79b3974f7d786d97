"""Benchmark: the passage index of replicas on one PostgreSQL (#29).

On a fresh schema of the PostgreSQL database ``--database-url`` names (dropped at the end):

1. replica A (its own empty data directory) imports ``--passages`` one-passage articles built from
   Banking77 texts (encoded once, the vectors stored with the passages);
2. size: bytes per passage in ``passage_vectors`` (the vector column, and the table with its index
   and TOAST) from the real rows, and per 100k passages;
3. a fresh replica B (empty data directory) becomes ready (``application.startup.sync_index``,
   what ``kbtriage serve`` runs at start, then its first search's snapshot): wall and CPU seconds,
   and the texts it encoded. Above ``kb.index.IVF_ABOVE`` passages the index is approximate: B
   starts with no IVF lists in the database (it trains them, as every replica did before they were
   kept there) and a second fresh replica D assigns the vectors to B's stored lists; against,
   in the same run, a fresh replica C building the same index by encoding every passage (what a
   sync did before the vectors were stored: ``IndexStore.apply`` without vectors);
4. change-to-visible latency: replica B in a separate process searches for ``--changes`` probe
   articles that A creates one by one (``--gap`` s apart); latency = the first search on B that
   finds the probe minus the time its change-feed row was written (just before A's commit).

    python scripts/bench_replica_index.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
                                          [--passages 10000] [--changes 40] [--gap 0.5]
                                          [--distinct N --skip-reencode] [--profile]
    python scripts/bench_replica_index.py --lexical-only --passages 100000  # BM25 alone

``--distinct N`` builds the passages from N distinct texts only (repeats come from A's embedding
cache, so 100k passages are set up in minutes); every passage still has its own row and vector.
Then the comparison that encodes everything would hit C's cache as well: skip it
(``--skip-reencode``) and scale the 10k figure.
"""
from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class CountingEncoder:
    """The real passage encoder, counting the texts it encodes."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.texts = 0

    def encode(self, texts, **kwargs):
        self.texts += len(texts)
        return self.inner.encode(texts, **kwargs)


def replica(url: str, home: Path):
    from application.runtime import Runtime
    from common.config import load

    home.mkdir(parents=True, exist_ok=True)
    rt = Runtime(load({"home": str(home), "database_url": url})).start()
    counting = CountingEncoder(rt.cached_passage_encoder)
    rt.__dict__["cached_passage_encoder"] = counting
    return rt, counting


def articles(datasets: Path, n: int, distinct: int | None = None) -> list[dict]:
    """``n`` one-passage articles, each three Banking77 texts (about 35 words); with ``distinct``,
    only that many different contents, repeated."""
    with open(datasets / "banking77" / "train.csv", newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    rng = random.Random(7)
    contents = [(rng.choice(texts)[:200], " ".join(rng.sample(texts, 2))) for _ in range(min(n, distinct or n))]
    return [{"id": f"a{i}", "title": contents[i % len(contents)][0], "body": contents[i % len(contents)][1]}
            for i in range(n)]


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def profiled(fn, on: bool):
    """``fn()``, under cProfile when ``on`` (the 15 costliest calls by cumulative time to stderr)."""
    if not on:
        return fn()
    import cProfile
    import pstats

    profile = cProfile.Profile()
    out = profile.runcall(fn)
    pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(15)
    return out


def follower(url: str, home: str, probes: list[str], out, ready) -> None:
    """Replica B in its own process: poll search for each probe until found; the found times out."""
    from kb import service as kb_service

    rt, _ = replica(url, Path(home))
    found = []
    cpu = time.process_time()
    rt.store.snapshot()  # loads the saved index before the clock starts
    ready.set()
    with rt.db.session() as s:
        for token in probes:
            vector = rt.encoder.encode([token])
            end = time.time() + 60
            while time.time() < end:
                [hits] = kb_service.search_passages(session=s, store=rt.store, vectors=vector, texts=[token], k=5)
                s.rollback()  # a fresh snapshot for the next poll (SQLite)
                if any(h["article_id"] == f"probe-{token}" for h in hits):
                    found.append(time.time())
                    break
                time.sleep(0.01)
            else:
                found.append(None)
    out.put({"found": found, "cpu_s": round(time.process_time() - cpu, 2)})
    rt.close()


def bench_lexical(datasets: Path, n: int, changes: int = 20) -> dict:
    """BM25 alone over ``n`` passages built like :func:`articles`' (no database): a build from
    scratch (what every change cost before #29's incremental BM25), one passage changed on a copy
    (what a change costs now), and a query, each with wall and CPU time."""
    from kb.lexical import LexicalIndex

    items = articles(datasets, n + changes)
    passages = {i + 1: f"{item['title']}\n{item['body']}" for i, item in enumerate(items[:n])}
    index, wall, cpu = timed(lambda: LexicalIndex(passages))
    out: dict = {"passages": n, "build_from_scratch": {"wall_s": wall, "cpu_s": cpu}}
    update_ms, cpu = [], time.process_time()
    for j in range(changes):
        start = time.perf_counter()
        changed = index.copy()  # as the store does: the published index stays as it was
        changed.remove([j + 1])
        changed.add({n + j + 1: f"{items[n + j]['title']}\n{items[n + j]['body']}"})
        update_ms.append((time.perf_counter() - start) * 1000)
        index = changed
    out["one_passage_changed_ms"] = {"p50": round(statistics.median(update_ms), 1),
                                     "p99": round(float(np.percentile(update_ms, 99)), 1),
                                     "cpu_s_per_change": round((time.process_time() - cpu) / changes, 4)}
    queries = [item["title"] for item in items[:300]]
    index.search(queries[:1], 5)
    search_ms = []
    for query in queries:  # the first query of a term after a change computes its scores
        start = time.perf_counter()
        index.search([query], 20)
        search_ms.append((time.perf_counter() - start) * 1000)
    out["query_ms"] = {"p50": round(statistics.median(search_ms), 2),
                       "p99": round(float(np.percentile(search_ms, 99)), 2)}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--datasets", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=40, help="probe articles for the latency")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between two probe articles")
    parser.add_argument("--distinct", type=int, default=None, help="distinct passage contents (repeated)")
    parser.add_argument("--skip-reencode", action="store_true", help="skip the fresh replica that encodes all")
    parser.add_argument("--profile", action="store_true", help="cProfile the fresh replicas' syncs (stderr)")
    parser.add_argument("--lexical-only", action="store_true",
                        help="time BM25 alone over --passages passages (no database) and stop")
    args = parser.parse_args(argv)
    if args.lexical_only:
        load = [round(x, 2) for x in os.getloadavg()]
        report = bench_lexical(Path(args.datasets), args.passages, args.changes)
        print(json.dumps({**report, "load_average_start": load,
                          "load_average_end": [round(x, 2) for x in os.getloadavg()]}, indent=2))
        return

    import psycopg
    from sqlalchemy import func, select, text

    from application.startup import sync_index
    from common.change_feed import ChangeFeedRow
    from kb import service as kb_service
    from kb.tables import Chunk, IndexQuantizer, PassageVector
    from sqlalchemy import delete

    schema = "bench_" + uuid.uuid4().hex[:10]
    base = args.database_url
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    root = Path(tempfile.mkdtemp(prefix="kbt-replica-bench-"))
    result: dict = {"passages": args.passages, "load_average_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        a, a_encoder = replica(url, root / "a")
        items = articles(Path(args.datasets), args.passages, args.distinct)

        def import_all():
            with a.db.session() as s:
                for start in range(0, len(items), 500):
                    kb_service.upsert_many(session=s, store=a.store, items=items[start:start + 500])
        _, wall, cpu = timed(import_all)
        with a.db.session() as s:
            n = s.scalar(select(func.count()).select_from(Chunk))
            vector_bytes = s.scalar(select(func.sum(func.octet_length(PassageVector.vector))))
            table_bytes = s.scalar(text("SELECT pg_total_relation_size('passage_vectors')"))
        result["import_on_a"] = {"passages": n, "wall_s": wall, "cpu_s": cpu, "texts_encoded": a_encoder.texts}
        result["size"] = {"vector_bytes_per_passage": round(vector_bytes / n, 1),
                          "table_bytes_per_passage": round(table_bytes / n, 1),
                          "table_mb_per_100k_passages": round(table_bytes / n * 100_000 / 2**20, 1)}
        print(json.dumps(result), flush=True)

        def ready(rt):
            """A fresh replica's start: the sync (what /readyz waits for), then its first search's
            snapshot (the BM25 index, built beside the faiss work or at the first search)."""
            synced, wall, cpu = timed(lambda: profiled(lambda: sync_index(rt), args.profile))
            _, s_wall, s_cpu = timed(rt.store.snapshot)
            return synced, {"wall_s": round(wall + s_wall, 2), "cpu_s": round(cpu + s_cpu, 2),
                            "sync_wall_s": wall, "first_snapshot_wall_s": s_wall}

        # Before: no IVF lists in the database (as before #29's stored quantizer), B trains them
        # and keeps them; after: fresh replica D assigns the vectors to B's lists.
        with a.db.session() as s:
            s.execute(delete(IndexQuantizer))
            s.commit()
        b, b_encoder = replica(url, root / "b")
        synced, timing = ready(b)
        assert b.store.count() == n and b.store.stale_reason() is None
        result["index_kind"] = b.store.index().kind
        key = "fresh_replica_training_ivf_lists" if result["index_kind"] == "ivf" else "fresh_replica_from_stored_vectors"
        result[key] = {**timing, "indexed": synced["total"], "texts_encoded": b_encoder.texts}
        if result["index_kind"] == "ivf":
            d, d_encoder = replica(url, root / "d")
            synced, timing = ready(d)
            assert d.store.count() == n and np.array_equal(d.store.index().centroids(), b.store.index().centroids())
            result["fresh_replica_from_stored_vectors"] = {**timing, "indexed": synced["total"],
                                                           "texts_encoded": d_encoder.texts}
            d.close()
        if not args.skip_reencode:
            c, c_encoder = replica(url, root / "c")
            with c.db.session() as s:
                rows = dict(s.execute(select(Chunk.id, Chunk.text)).all())
            _, wall, cpu = timed(lambda: c.store.apply(add=rows))
            assert c.store.count() == n
            result["fresh_replica_encoding_everything"] = {"wall_s": wall, "cpu_s": cpu,
                                                           "texts_encoded": c_encoder.texts}
            first = sorted(rows)[:500]
            result["same_vectors_first_500"] = bool(np.allclose(b.store.index().vectors(first),
                                                                c.store.index().vectors(first), atol=1e-5))
            c.close()
        print(json.dumps(result), flush=True)

        tokens = [f"zq{uuid.uuid4().hex[:8]}" for _ in range(args.changes)]
        ctx = multiprocessing.get_context("spawn")
        out, ready = ctx.Queue(), ctx.Event()
        child = ctx.Process(target=follower, args=(url, str(root / "b"), tokens, out, ready))
        b.close()
        child.start()
        ready.wait(300)
        feed_at = []
        for token in tokens:
            time.sleep(args.gap)
            with a.db.session() as s:
                kb_service.create_article(session=s, store=a.store,
                                          item={"id": f"probe-{token}", "title": f"Probe {token}",
                                                "body": f"The {token} gateway resets the card limit overnight."})
                feed_at.append(s.scalar(select(ChangeFeedRow.at).order_by(ChangeFeedRow.id.desc()).limit(1)))
        report = out.get(timeout=600)
        child.join(60)
        latencies = [(f - at.timestamp()) * 1000 for f, at in zip(report["found"], feed_at) if f is not None]
        result["change_to_visible_ms"] = {
            "p50": round(statistics.median(latencies), 1), "p99": round(float(np.percentile(latencies, 99)), 1),
            "max": round(max(latencies), 1), "n": len(latencies), "missed": report["found"].count(None),
            "follower_cpu_s": report["cpu_s"], "probe_every_s": args.gap}
        result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        a.close()
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
