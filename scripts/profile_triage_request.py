"""Where one `POST /v1/triage` spends its time, end to end in the service's process (#31, #26).

Builds (or reuses, with --home) a demo installation on SQLite, then sends --requests demo ticket
texts one after another through the Flask app (the WSGI call, without a socket: the HTTP server's
own share is measured by bench_api.py), under cProfile. Prints wall and CPU per request (median,
p99) and the cumulative time of the parts of the request path: request parsing and validation, the
decision (encoding, TF-IDF, classifiers, passage search, priority, multi-issue), surge and
similar-ticket lookups, SLA due times, the database writes and the commit, the response's JSON.

    python scripts/profile_triage_request.py [--home DIR] [--requests 300] [--top 25] [--texts short]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The parts of the request path, by the function that does each (file fragment, function name).
PARTS = (
    ("whole request (WSGI)", "flask/app.py", "wsgi_app"),
    ("request parsing and validation", "api/views.py", "parse_body"),
    ("triage_ticket (decision + storing it)", "triage/service.py", "triage_ticket"),
    ("engine.decide", "triage/engine.py", "decide"),
    ("encoding the ticket", "triage/engine.py", "encode"),
    ("features (TF-IDF + embedding)", "models/features.py", "transform"),
    ("passage search", "kb/service.py", "search_passages"),
    ("multi-issue split", "triage/multi_issue.py", "split"),
    ("similar tickets and surges", "triage/surges.py", "assess"),
    ("engine.current (reload check)", "triage/engine.py", "current"),
    ("SQL statements (all)", "sqlalchemy/engine/base.py", "_execute_context"),
    ("session commit", "sqlalchemy/orm/session.py", "commit"),
    ("decision view", "triage/service.py", "decision_view"),
    ("response JSON", "flask/json/provider.py", "response"),
)


def parts(stats: pstats.Stats, requests: int) -> list[tuple[str, float, int]]:
    """(part, cumulative ms per request, calls per request) for the PARTS found in ``stats``."""
    out = []
    for label, fragment, name in PARTS:
        total, calls = 0.0, 0
        for (path, _line, func), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
            if func == name and path.replace(os.sep, "/").endswith(fragment):
                total, calls = total + ct, calls + nc
        if calls:
            out.append((label, 1000 * total / requests, calls // max(requests, 1)))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", help="a data directory to reuse (the demo is loaded and trained once)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm", type=int, default=30)
    parser.add_argument("--top", type=int, default=25, help="functions listed by their own time")
    parser.add_argument("--save", help="write the cProfile stats to this file (for pstats or snakeviz)")
    parser.add_argument("--texts", choices=("demo", "short"), default="demo",
                        help="the demo's e-mail-length bodies, or short requests (bench_http_sequential's set)")
    args = parser.parse_args(argv)

    from api.app import create_app
    from application.demo import demo_records, load_demo
    from application.runtime import Runtime
    from common.config import Settings

    home = Path(args.home or tempfile.mkdtemp(prefix="kbt-profile-"))
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'kbtriage.db'}", worker="external")
    rt = Runtime(settings).start()
    load_demo(rt, echo=lambda _m: None)
    client = create_app(runtime=rt).test_client()
    if args.texts == "short":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_http_sequential import SHORT

        texts = [SHORT[i % len(SHORT)] for i in range(args.requests + args.warm)]
    else:
        texts = [r["body"] for r in demo_records()][: args.requests + args.warm]

    def send(text: str) -> None:
        resp = client.post("/v1/triage", json={"body": text})
        assert resp.status_code == 201, resp.get_json()

    for text in texts[: args.warm]:
        send(text)
    profile = cProfile.Profile()
    walls, cpus = [], []
    for text in texts[args.warm: args.warm + args.requests]:
        wall, cpu = time.perf_counter(), time.process_time()
        profile.runcall(send, text)
        walls.append(1000 * (time.perf_counter() - wall))
        cpus.append(1000 * (time.process_time() - cpu))
    n = len(walls)
    stats = pstats.Stats(profile)
    p99 = lambda xs: sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.99))]  # noqa: E731
    print(f"{n} requests (profiled; cProfile adds its own overhead), load average {os.getloadavg()[0]:.2f}")
    print(f"wall per request: median {statistics.median(walls):.1f} ms, p99 {p99(walls):.1f} ms; "
          f"CPU per request: median {statistics.median(cpus):.1f} ms, p99 {p99(cpus):.1f} ms")
    print("\npart of the request path                 cumulative ms/request  calls/request")
    for label, ms, calls in parts(stats, n):
        print(f"  {label:<40} {ms:10.2f} {calls:12d}")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
    out.write("\nwho calls the five costliest:\n")
    stats_out = pstats.Stats(profile, stream=out).sort_stats("tottime")
    stats_out.print_callers(5)
    print("\n" + out.getvalue())
    if args.save:
        profile.dump_stats(args.save)
    rt.close()


if __name__ == "__main__":
    main()
