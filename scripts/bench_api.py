"""Benchmark: triage throughput through the HTTP API, one ticket per call against POST /v1/triage/batch.

On the demo data (articles and trained models, as `kbtriage init-demo` loads them) in a fresh data
directory, through the Flask app (test client, in-process: the HTTP handling, validation, the
database writes and the models, without a network). Alternating rounds of the same tickets, each
sent once per call and once in a batch; prints tickets/s per round and the median ratio.

    python scripts/bench_api.py [--rounds 3] [--tickets 300]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import fresh_runtime  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tickets", type=int, default=300, help="tickets per round (at most KBTRIAGE_MAX_BATCH)")
    args = parser.parse_args(argv)

    from api.app import create_app
    from application.demo import demo_records, load_demo

    rt = fresh_runtime("kbt-api-")
    load_demo(rt, echo=lambda message: None)
    client = create_app(runtime=rt, start_worker=False).test_client()
    texts = [r["body"] for r in demo_records()]
    client.post("/v1/triage", json={"body": "warm up"})
    rates: dict[str, list[float]] = {"one_per_call": [], "batch": []}
    for n in range(args.rounds):
        chunk = texts[n * args.tickets:(n + 1) * args.tickets]
        started = time.perf_counter()
        for text in chunk:
            assert client.post("/v1/triage", json={"body": text}).status_code == 201
        rates["one_per_call"].append(len(chunk) / (time.perf_counter() - started))
        started = time.perf_counter()
        r = client.post("/v1/triage/batch", json={"tickets": [{"body": text} for text in chunk]})
        assert r.status_code == 201, r.get_json()
        rates["batch"].append(len(chunk) / (time.perf_counter() - started))
    print(json.dumps({
        "tickets_per_round": args.tickets,
        "tickets_per_s": {k: [round(v, 1) for v in vs] for k, vs in rates.items()},
        "median_ratio_batch_to_one_per_call": round(statistics.median(rates["batch"]) /
                                                   statistics.median(rates["one_per_call"]), 2),
        "command": "python scripts/bench_api.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }, indent=2))
    rt.close()


if __name__ == "__main__":
    main()
