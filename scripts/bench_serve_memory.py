"""Resident memory of one serving process (`kbtriage serve`, the embedded default) on a machine's very
first start: an empty data directory and an empty encoder cache, so the start loads the demo, exports
the encoder to ONNX and trains the first version; then 200 demo-like triage requests and one training
job through the API (the embedded worker). Both ways of training are measured in the same run:
in a child process (KBTRIAGE_TRAIN_IN_CHILD=1, the default) and in the serving process (=0).

    python scripts/bench_serve_memory.py [--requests 200]
    python scripts/bench_serve_memory.py --passages 100000 --distinct 2000 --datasets ../shared/datasets

With ``--passages N`` it measures instead one process serving a larger knowledge base: the demo
installation first (as above, training in a child), then N one-passage articles built from Banking77
texts (``bench_replica_index.articles``; ``--distinct`` different contents, the repeats taken from the
embedding cache) imported while the service is stopped, then ``kbtriage serve`` started again on it:
resident memory after that start and after the requests.

Prints one JSON document: per mode, VmRSS / VmHWM of the serving process after the start, after the
requests and after the training job, whether torch is mapped into it, and the seconds each phase took.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import free_port  # noqa: E402

KBTRIAGE = str(Path(sys.executable).with_name("kbtriage"))
TEXTS = ["I cannot log in since the update, the SSO page loops", "How do I export my board to CSV?",
         "We were charged twice for the Business plan this month", "Notifications stopped on my phone",
         "The API returns 500 when I create a card with a long title", "How can I invite a guest to one board?"]


def status(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024)
    maps = Path(f"/proc/{pid}/maps").read_text()
    out["torch_loaded"] = "libtorch" in maps
    return out


def call(port: int, method: str, path: str, body: dict | None = None, timeout: float = 60) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"{}")


def fresh_env(work: Path, **extra: str) -> dict:
    """The environment of a `kbtriage serve` with its own empty data directory and encoder cache
    under ``work``, on SQLite, on a free port."""
    env = {**os.environ, "KBTRIAGE_HOME": str(work / "home"), "KBTRIAGE_ENCODER_CACHE": str(work / "onnx"),
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "KBTRIAGE_PORT": str(free_port()), **extra}
    env.pop("DATABASE_URL", None)
    return env


def serve(env: dict, work: Path) -> tuple[subprocess.Popen, float]:
    """``kbtriage serve`` started, and the seconds until it answered ``/readyz``."""
    log = open(work / "serve.log", "a")
    started = time.monotonic()
    proc = subprocess.Popen([KBTRIAGE, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"kbtriage serve exited: see {work / 'serve.log'}")
        try:
            call(int(env["KBTRIAGE_PORT"]), "GET", "/readyz", timeout=2)
            return proc, round(time.monotonic() - started, 1)
        except Exception:
            time.sleep(1)


def measure_passages(requests: int, passages: int, distinct: int, datasets: Path) -> dict:
    """One serving process on the demo plus ``passages`` imported articles."""
    work = Path(tempfile.mkdtemp(prefix="kbt-mem-"))
    env = fresh_env(work)
    port = int(env["KBTRIAGE_PORT"])
    rng = random.Random(7)
    out: dict = {"passages_imported": passages, "distinct_contents": distinct}
    try:
        proc, out["demo_first_start_seconds"] = serve(env, work)
        out["demo_after_start"] = status(proc.pid)
        proc.terminate()
        proc.wait(60)
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-c", IMPORT, str(work / "home"), str(passages), str(distinct), str(datasets)],
                       env=env, check=True)
        out["import_seconds"] = round(time.monotonic() - t0, 1)
        proc, out["start_seconds"] = serve(env, work)
        try:
            out["after_start"] = status(proc.pid)
            for _ in range(requests):
                call(port, "POST", "/v1/triage", {"body": rng.choice(TEXTS)})
            out["after_requests"] = status(proc.pid)
            out["search_hits"] = len(call(port, "GET", "/v1/search?q=card+payment+declined&k=5")["results"])
        finally:
            proc.terminate()
            proc.wait(60)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


# Run in a child process (the service stopped): import the articles into the home's database and index.
IMPORT = """
import sys
from pathlib import Path
sys.path.insert(0, %r)
from bench_replica_index import articles
from application.runtime import Runtime
from common.config import load
from kb import service as kb_service
home, n, distinct, datasets = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
rt = Runtime(load({"home": str(home)})).start()
items = articles(datasets, n, distinct)
with rt.db.session() as s:
    for start in range(0, len(items), 500):
        kb_service.upsert_many(session=s, store=rt.store, items=items[start:start + 500])
rt.close()
""" % str(Path(__file__).resolve().parent)


def measure(in_child: bool, requests: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="kbt-mem-"))
    env = fresh_env(work, KBTRIAGE_TRAIN_IN_CHILD="1" if in_child else "0")
    port = int(env["KBTRIAGE_PORT"])
    out: dict = {"train_in_child": in_child}
    proc = None
    try:
        proc, out["first_start_seconds"] = serve(env, work)
        out["after_start"] = status(proc.pid)
        rng = random.Random(7)
        for _ in range(requests):
            call(port, "POST", "/v1/triage", {"body": rng.choice(TEXTS)})
        out["after_requests"] = status(proc.pid)
        t0 = time.monotonic()
        job = call(port, "POST", "/v1/models/train", {"promote": "always"})
        while call(port, "GET", f"/v1/jobs/{job['id']}")["status"] not in ("succeeded", "failed"):
            time.sleep(1)
        out["training_job_seconds"] = round(time.monotonic() - t0, 1)
        for _ in range(20):
            call(port, "POST", "/v1/triage", {"body": rng.choice(TEXTS)})
        out["after_training_job"] = status(proc.pid)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--passages", type=int, default=0, help="measure one process serving this many more passages")
    ap.add_argument("--distinct", type=int, default=2000, help="different passage contents (with --passages)")
    ap.add_argument("--datasets", default=str(Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    args = ap.parse_args()
    result = {"load_average_at_start": os.getloadavg()}
    if args.passages:
        result["with_passages"] = measure_passages(args.requests, args.passages, args.distinct, Path(args.datasets))
    else:
        result["modes"] = [measure(True, args.requests), measure(False, args.requests)]
    result["load_average_at_end"] = os.getloadavg()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
