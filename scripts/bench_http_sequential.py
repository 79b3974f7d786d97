"""Benchmark: one HTTP client sending `POST /v1/triage` one after another to `kbtriage serve`.

Starts `kbtriage serve` (the embedded default: waitress, SQLite) in a fresh data directory, which on
its first start loads the demo and trains its first version, then keeps one connection open and
sends tickets one at a time, each after the previous answer, over loopback. Two sets of texts, in
alternating rounds: short requests (about Banking77's length, written for this script) and the
demo's e-mail-length ticket bodies. Prints one JSON document: per set, the median, p90, p99 and max
latency in ms as the client saw it, with the load average at the start and the end.

    python scripts/bench_http_sequential.py [--requests 500] [--rounds 2] [--backend onnx]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import free_port  # noqa: E402
from benchlib import percentile  # noqa: E402

KBTRIAGE = str(Path(sys.executable).with_name("kbtriage"))
SHORT = ["I cannot log in since the update, the SSO page loops", "How do I export my board to CSV?",
         "We were charged twice for the Business plan this month", "Notifications stopped on my phone",
         "The API returns 500 when I create a card with a long title", "How can I invite a guest to one board?",
         "my card payment was declined at checkout", "where do I change the email on my account",
         "the mobile app crashes when I open a shared board", "can I get a refund for unused seats"]


def wait_ready(port: int, proc: subprocess.Popen, log: Path, timeout: float = 900) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"kbtriage serve exited: see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"kbtriage serve not ready after {timeout} s: see {log}")


def send(conn: http.client.HTTPConnection, text: str) -> float:
    body = json.dumps({"body": text})
    t0 = time.perf_counter()
    conn.request("POST", "/v1/triage", body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    payload = resp.read()
    elapsed = (time.perf_counter() - t0) * 1000
    if resp.status not in (200, 201):
        raise SystemExit(f"POST /v1/triage answered {resp.status}: {payload[:300]!r}")
    return elapsed


def summary(ms: list[float]) -> dict:
    return {"requests": len(ms), "p50_ms": round(statistics.median(ms), 2), "p90_ms": round(percentile(ms, 90), 2),
            "p99_ms": round(percentile(ms, 99), 2), "max_ms": round(max(ms), 2)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=500, help="timed requests per set and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--backend", default=None, help="KBTRIAGE_ENCODER_BACKEND for the server (default: its own)")
    args = ap.parse_args(argv)

    from application.demo import demo_records

    long_texts = [r["body"] for r in demo_records()]
    work = Path(tempfile.mkdtemp(prefix="kbt-http-"))
    port = free_port()
    env = {**os.environ, "KBTRIAGE_HOME": str(work / "home"), "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "KBTRIAGE_PORT": str(port)}
    if args.backend:
        env["KBTRIAGE_ENCODER_BACKEND"] = args.backend
    env.pop("DATABASE_URL", None)
    log_path = work / "serve.log"
    log = open(log_path, "w")
    result: dict = {"load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    proc = subprocess.Popen([KBTRIAGE, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        result["first_start_seconds"] = round(wait_ready(port, proc, log_path), 1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        rng = random.Random(7)
        for _ in range(args.warmup):
            send(conn, rng.choice(SHORT))
            send(conn, rng.choice(long_texts))
        times: dict[str, list[float]] = {"short": [], "demo_email": []}
        for _ in range(args.rounds):
            for name, texts in (("short", SHORT), ("demo_email", long_texts)):
                times[name] += [send(conn, rng.choice(texts)) for _ in range(args.requests)]
        result["sets"] = {name: summary(ms) for name, ms in times.items()}
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
