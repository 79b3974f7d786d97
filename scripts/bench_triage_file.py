"""Batch triage of a large file through the command line, as a help desk would run it on a
backlog: ``kbtriage triage FILE --out OUT`` in its own process, on the demo help desk's models
(``kbtriage init-demo``), for files of growing size. Prints the wall time, tickets per second and
the process's peak resident memory (``ru_maxrss`` of that process alone) per size and format.

The tickets are the real texts of ../shared/datasets (CLINC150, Banking77 and it_tickets, shuffled),
each row with an id and a second column, as an export from a help desk would have them.

    python scripts/bench_triage_file.py [--sizes 2000 20000 60000] [--formats csv jsonl]
        [--source DIR]   # run another checkout's code (its packages) on the same files
"""
import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
parser = argparse.ArgumentParser()
parser.add_argument("--datasets", default=str(ROOT.parent / "shared" / "datasets"))
parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 60000])
parser.add_argument("--formats", nargs="+", choices=["csv", "jsonl"], default=["csv"])
parser.add_argument("--source", default=str(ROOT), help="Checkout whose code runs (default: this one).")
args = parser.parse_args()

texts = []
for name, file in (("clinc150", "train.csv"), ("clinc150", "val.csv"), ("banking77", "train.csv"),
                   ("it_tickets", "train.csv")):
    with open(Path(args.datasets) / name / file, newline="", encoding="utf-8") as fh:
        texts.extend(r["text"] for r in csv.DictReader(fh))
random.Random(3).shuffle(texts)
if max(args.sizes) > len(texts):
    sys.exit(f"at most {len(texts)} distinct tickets in the datasets")

work = Path(tempfile.mkdtemp(prefix="kbt-bench-file-"))
env = dict(os.environ, KBTRIAGE_HOME=str(work / "home"), DATABASE_URL=f"sqlite:///{work}/kbt.db",
           HF_HUB_OFFLINE="1", PYTHONPATH=args.source)
cli = [sys.executable, "-c", "from cli.main import main; main()"]


def run(*argv):
    """Run the CLI in a new process; (seconds, peak RSS in MiB of that process)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cli + [str(a) for a in argv], env=env, cwd=args.source,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        sys.exit(f"{argv[0]} failed: {stderr.decode()[-2000:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


run("init-demo")
check = subprocess.run(cli[:2] + ["import cli, sys; print(cli.__file__)"], env=env, cwd=args.source,
                       capture_output=True, text=True).stdout.strip()
print(f"code: {check}; python {sys.version.split()[0]}; CPU: {os.cpu_count()} cores")
print("| format | tickets | wall time | tickets/s | peak RSS |")
print("|---|---|---|---|---|")
for fmt in args.formats:
    for size in args.sizes:
        src = work / f"in-{size}.{fmt}"
        rows = [{"id": f"T-{n}", "text": t, "channel": "email" if n % 3 else "chat"}
                for n, t in enumerate(texts[:size])]
        if fmt == "csv":
            with open(src, "w", newline="", encoding="utf-8") as fh:
                out = csv.DictWriter(fh, fieldnames=["id", "text", "channel"])
                out.writeheader()
                out.writerows(rows)
        else:
            with open(src, "w", encoding="utf-8") as fh:
                fh.writelines(json.dumps(r) + "\n" for r in rows)
        seconds, rss = run("triage", src, "--text-column", "text", "--out", work / f"out-{size}.{fmt}")
        with open(work / f"out-{size}.{fmt}", encoding="utf-8") as fh:
            written = sum(1 for _ in (csv.DictReader(fh) if fmt == "csv" else fh))
        assert written == size, (written, size)
        print(f"| {fmt} | {size:,} | {seconds:.1f} s | {size / seconds:.1f} | {rss:,.0f} MiB |", flush=True)
