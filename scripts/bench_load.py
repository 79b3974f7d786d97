"""Load and faults against the production shape: gunicorn web workers and a `kbtriage worker` on
PostgreSQL, on loopback.

Starts a private PostgreSQL cluster (so that restarting it disturbs nobody else's database), loads
the demo help desk into it (`kbtriage init-demo`), then runs `kbtriage serve --workers W` and one
`kbtriage worker` and drives them with an open-loop client (threads with kept-alive connections;
requests are sent at scheduled times and latency counts from the scheduled time, so a stalled server
cannot hide its queue): triage 70%, search 20%, feedback 10% (on decisions made earlier).

Phases: (1) capacity: closed-loop clients against the production shape and, in the same run, against
the default `kbtriage serve` (one waitress process), the baseline; (2) a steady rate (--rate) for
--duration seconds; (3) a step test, raising the rate until p99 passes 1 s or a request fails,
reporting the highest rate with p99 <= 250 ms and no error (without --rate it comes before the
steady phase, which then runs at its highest passing rate); (4) faults under that rate: kill -9 a web worker, restart
PostgreSQL, kill -9 the training worker in the middle of a job (a new one is started, as a process
manager would); then the job is waited for and every acknowledged decision and feedback event is
looked up in the database. Prints one JSON document with medians, p99, rates, errors, recovery
times, resident memory and the machine's load average (other work on it slows everything).

    python scripts/bench_load.py [--duration 300] [--rate R] [--workers 2] [--threads 4] [--workdir DIR]

--workdir keeps the cluster and the data directory, so a later run skips the demo training.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KBTRIAGE = str(Path(sys.executable).with_name("kbtriage"))
PG_BIN = Path("/usr/lib/postgresql/15/bin")
P99_LIMIT_MS = 250.0
IDLE_REOPEN_S = 5.0
MIX = (("triage", 0.7), ("search", 0.2), ("feedback", 0.1))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- a private PostgreSQL cluster --------------------------------------------------------------

class Postgres:
    """A PostgreSQL cluster of its own in ``path``, run as the postgres user when we are root."""

    def __init__(self, path: Path):
        self.path, self.port = path, None
        self.user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args):
        subprocess.run([*self.user, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> "Postgres":
        data = self.path / "data"
        if not data.exists():
            self.path.mkdir(parents=True, exist_ok=True)
            if self.user:
                shutil.chown(self.path, "postgres", "postgres")
            self._run(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
        port_file = self.path / "port"
        self.port = int(port_file.read_text()) if port_file.exists() else free_port()
        port_file.write_text(str(self.port))
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(self.path / "log"), "-w", "start",
                  "-o", f"-p {self.port} -k {self.path} -c listen_addresses=127.0.0.1 -c max_connections=200")
        return self

    def restart(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.path / "data"), "-w", "-m", "fast", "restart",
                  "-o", f"-p {self.port} -k {self.path} -c listen_addresses=127.0.0.1 -c max_connections=200")

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.path / "data"), "-w", "-m", "fast", "stop")

    def postmaster_pid(self) -> int:
        return int((self.path / "data" / "postmaster.pid").read_text().split()[0])

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


# --- the load ------------------------------------------------------------------------------------

def feedback_for(decision: dict) -> dict:
    """What an agent says about a decision: the first suggested article helped, else resolved."""
    if decision["suggestions"]:
        return {"kind": "accepted", "decision_id": decision["id"], "article_id": decision["suggestions"][0]["article_id"]}
    return {"kind": "resolved", "decision_id": decision["id"]}


class Load:
    """Open-loop traffic at a given rate; every result is kept as (kind, scheduled, latency, status)."""

    def __init__(self, port: int, texts: list[str], pool: int = 64):
        self.port, self.texts = port, texts
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(pool)
        self.decisions: list[int] = []  # acknowledged (201) decision ids
        self.feedback: list[int] = []  # acknowledged (200/201) feedback event ids
        self.answers: list[dict] = []  # feedback to send on the decisions made
        self.lock = threading.Lock()
        self.rng = random.Random(7)

    def _conn(self) -> http.client.HTTPConnection:
        # A connection idle for longer than the server keeps one (KBTRIAGE_CLIENT_TIMEOUT, 10 s) is
        # opened again first, as HTTP clients' pools do: else the request may race the server's close.
        if getattr(self.local, "conn", None) is not None and time.monotonic() - self.local.used > IDLE_REOPEN_S:
            self.local.conn.close()
            self.local.conn = None
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.local.used = time.monotonic()
        return self.local.conn

    def _call(self, method, path, body=None):
        conn = self._conn()
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            self.local.used = time.monotonic()
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                self.local.conn = None
            return resp.status, data
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            raise

    def _one(self, kind: str, text: str, scheduled: float, results: list):
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            if kind == "triage":
                status, data = self._call("POST", "/v1/triage", {"body": text})
                if status == 201:
                    decision = json.loads(data)
                    with self.lock:
                        self.decisions.append(decision["id"])
                        self.answers.append(feedback_for(decision))
            elif kind == "search":
                status, _ = self._call("GET", "/v1/search?" + urllib.parse.urlencode({"q": text[:200]}))
            else:
                with self.lock:
                    answer = self.rng.choice(self.answers) if self.answers else None
                if answer is None:
                    status, data = self._call("POST", "/v1/triage", {"body": text})
                else:
                    status, data = self._call("POST", "/v1/feedback", answer)
                    if status in (200, 201):
                        with self.lock:
                            self.feedback.append(json.loads(data)["id"])
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
        results.append((kind, scheduled, (time.perf_counter() - scheduled) * 1000, status))

    def closed(self, clients: int, seconds: float) -> list:
        """``clients`` clients, each sending its next request when the last is answered."""
        results: list = []
        end = time.perf_counter() + seconds

        def client(seed):
            rng = random.Random(seed)
            while time.perf_counter() < end:
                r = rng.random()
                kind = "triage" if r < MIX[0][1] else "search" if r < MIX[0][1] + MIX[1][1] else "feedback"
                self._one(kind, rng.choice(self.texts), time.perf_counter(), results)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def run(self, rate: float, seconds: float, on_tick=None) -> list:
        """Send ``rate`` requests per second for ``seconds``; ``on_tick(elapsed)`` is called about
        every 0.5 s (the fault schedule)."""
        results: list = []
        start = time.perf_counter() + 0.2
        n = int(rate * seconds)
        next_tick = 0.0
        for i in range(n):
            at = start + i / rate
            while at - time.perf_counter() > 0.05:
                time.sleep(0.02)
                if on_tick and time.perf_counter() - start >= next_tick:
                    next_tick += 0.5
                    on_tick(time.perf_counter() - start)
            r = self.rng.random()
            kind = "triage" if r < MIX[0][1] else "search" if r < MIX[0][1] + MIX[1][1] else "feedback"
            self.pool.submit(self._one, kind, self.rng.choice(self.texts), at, results)
        while len(results) < n:  # the stragglers
            time.sleep(0.05)
            if on_tick and time.perf_counter() - start >= next_tick:
                next_tick += 0.5
                on_tick(time.perf_counter() - start)
        return results


def _quantile(ordered: list[float], q: float) -> float | None:
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 1) if ordered else None


def summary(results: list, seconds: float) -> dict:
    out = {}
    for kind in ("all", "triage", "search", "feedback"):
        rows = [r for r in results if kind == "all" or r[0] == kind]
        ok = sorted(r[2] for r in rows if isinstance(r[3], int) and r[3] < 400)
        errors: dict[str, int] = {}
        for r in rows:
            if not (isinstance(r[3], int) and r[3] < 400):
                errors[str(r[3])] = errors.get(str(r[3]), 0) + 1
        out[kind] = {"requests": len(rows), "per_s": round(len(rows) / seconds, 1),
                     "median_ms": round(statistics.median(ok), 1) if ok else None,
                     "p99_ms": _quantile(ok, 0.99), "p999_ms": _quantile(ok, 0.999),
                     "max_ms": round(ok[-1], 1) if ok else None,
                     "errors": errors}
    return out


# --- processes -----------------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def has_torch(pid: int) -> bool:
    """Whether the process has torch's library mapped (serving on ONNX Runtime should not need it)."""
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def children(pid: int) -> list[int]:
    return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())


TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int, with_children: bool = False) -> float:
    """CPU seconds (user + system) used by ``pid``; with its reaped children's too when asked."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    used = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if with_children else 0)
    return used / TICK


def cpu_by_part(server: int, trainer: int, postmaster: int) -> dict[str, float]:
    """CPU seconds so far of each part of the system under test, the load generator included:
    a part's processes alive now plus those of its children that have exited."""
    return {"web_workers": sum(cpu_s(p) for p in children(server)),
            "gunicorn_master": cpu_s(server, with_children=True),
            "training_worker": cpu_s(trainer, with_children=True),
            "postgresql": cpu_s(postmaster, with_children=True) + sum(cpu_s(p) for p in children(postmaster)),
            "load_generator": sum(os.times()[:2])}


def vectors_held(env: dict) -> int:
    """Ticket vectors of the last 7 days in the database: what each web worker holds for the surge
    test (up to 50,000), whose product over them grows with that count. Runs on a kept --workdir
    add to it, so later runs cost more (docs/benchmarks.md, "The database grows through a session")."""
    from sqlalchemy import create_engine, text

    engine = create_engine(env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM ticket_vectors WHERE created_at > now() - interval '7 days'")).scalar())
    finally:
        engine.dispose()


def wait_ready(port: int, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the service on port {port} was not ready after {seconds} s")


def api(port: int, method: str, path: str, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=None if body is None else json.dumps(body), headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read() or b"null")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds of the steady phase")
    parser.add_argument("--rate", type=float, default=None,
                        help="requests/s of the steady phase (70%% triage; default: the step test's highest passing rate)")
    parser.add_argument("--steps", default="5,10,15,20,25,30,40,50,60,75,90,110",
                        help="requests/s of the step test, raised until p99 passes 250 ms or a request fails")
    parser.add_argument("--step-seconds", type=float, default=30)
    parser.add_argument("--fault-seconds", type=float, default=150, help="seconds of load while faults happen")
    parser.add_argument("--fault-rate", type=float, default=None,
                        help="requests/s while faults happen (default: the steady phase's)")
    parser.add_argument("--clients", type=int, default=4, help="closed-loop clients of the capacity phase")
    parser.add_argument("--capacity-seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=None, help="kept: cluster and data directory (reused)")
    parser.add_argument("--skip", default="", help="phases to skip: capacity,steady,step,faults")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kbt-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pg = Postgres(workdir / "pg").start()
    home = workdir / "home"
    env = {**os.environ, "KBTRIAGE_HOME": str(home), "DATABASE_URL": pg.url, "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "KBTRIAGE_WORKER": "external",
           # A killed training worker's job is queued again once its lease lapses.
           "KBTRIAGE_JOB_LEASE_SECONDS": "15"}
    procs: list[subprocess.Popen] = []
    report: dict = {"load_average_at_start": os.getloadavg(), "command": "python scripts/bench_load.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                    "cores": os.cpu_count(), "workers": args.workers, "threads": args.threads}
    try:
        if not (workdir / "ready").exists():
            subprocess.run([KBTRIAGE, "init-demo"], env=env, check=True)
            (workdir / "ready").write_text("demo loaded\n")
        port = free_port()
        server = subprocess.Popen([KBTRIAGE, "serve", "--no-demo", "--workers", str(args.workers),
                                   "--threads", str(args.threads), "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=open(workdir / "serve.log", "a"))
        procs.append(server)
        trainer = subprocess.Popen([KBTRIAGE, "worker"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=open(workdir / "worker.log", "a"))
        procs.append(trainer)
        wait_ready(port)

        from application.demo import demo_records

        texts = [(r["subject"] + "\n" + r["body"]).strip() for r in demo_records()]
        load = Load(port, texts)
        load.run(10, 5)  # warm every worker: first requests load models and the index
        report["rss_mb_after_warm_up"] = {"web_workers": [rss_mb(p) for p in children(server.pid)],
                                          "master": rss_mb(server.pid), "training_worker": rss_mb(trainer.pid),
                                          "torch_in_web_workers": [has_torch(p) for p in children(server.pid)]}

        if "capacity" not in skip:
            report["capacity"] = capacity(args, load, texts, env, workdir)
            print(json.dumps(report["capacity"]), file=sys.stderr)

        def steady_phase():
            rate = args.rate or (report.get("step") or {}).get("highest_rate_p99_le_250ms_no_errors") or 5
            held = vectors_held(env)
            before = cpu_by_part(server.pid, trainer.pid, pg.postmaster_pid())
            results = load.run(rate, args.duration)
            after = cpu_by_part(server.pid, trainer.pid, pg.postmaster_pid())
            report["steady"] = {"rate": rate, "seconds": args.duration, **summary(results, args.duration),
                                "cpu_ms_per_request": {k: round(1000 * (after[k] - before[k]) / max(1, len(results)), 1)
                                                       for k in after},
                                "ticket_vectors_held_at_start": held, "ticket_vectors_held_at_end": vectors_held(env)}
            report["rss_mb_after_steady"] = {"web_workers": [rss_mb(p) for p in children(server.pid)],
                                             "master": rss_mb(server.pid)}
            print(json.dumps(report["steady"]), file=sys.stderr)

        # The order: the steady rate first, then the step test. Without --rate the steady
        # phase takes the step test's highest passing rate, so it runs after it.
        if "steady" not in skip and args.rate:
            steady_phase()
        if "step" not in skip:
            steps, best = [], None
            postmaster = pg.postmaster_pid()
            for rate in [float(s) for s in args.steps.split(",")]:
                held = vectors_held(env)
                before = cpu_by_part(server.pid, trainer.pid, postmaster)
                s = summary(load.run(rate, args.step_seconds), args.step_seconds)["all"]
                after = cpu_by_part(server.pid, trainer.pid, postmaster)
                # CPU milliseconds per request of each part over the step (answered or not)
                # (a web worker replaced during the step moves its whole life's CPU to the master's part)
                s["cpu_ms_per_request"] = {k: round(1000 * (after[k] - before[k]) / max(1, s["requests"]), 1) for k in after}
                s["cpu_ms_per_request"]["all"] = round(sum(s["cpu_ms_per_request"].values()), 1)
                steps.append({"rate": rate, **s, "ticket_vectors_held_at_start": held})
                print(json.dumps(steps[-1]), file=sys.stderr)
                if s["errors"] or s["p99_ms"] is None or s["p99_ms"] > 4 * P99_LIMIT_MS:
                    break  # far past the limit: the next steps would only queue
                if s["p99_ms"] <= P99_LIMIT_MS:
                    best = rate
            report["step"] = {"seconds_per_step": args.step_seconds, "steps": steps,  # up to p99 > 1 s or an error
                              "highest_rate_p99_le_250ms_no_errors": best,
                              "triage_per_s_at_that_rate": round(best * MIX[0][1], 1) if best else None}

        if "steady" not in skip and not args.rate:
            steady_phase()

        if "faults" not in skip:
            rate = args.fault_rate or (report.get("steady") or {}).get("rate") or args.rate or 20
            report["faults"] = faults(args, rate, load, port, server, procs, pg, env, workdir)
        report["load_average_at_end"] = os.getloadavg()
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
        pg.stop()
    print(json.dumps(report, indent=2))


def capacity(args, load: Load, texts: list[str], env: dict, workdir: Path) -> dict:
    """Closed-loop throughput of the production shape and, in the same run, of the default
    `kbtriage serve` (one waitress process, 4 threads) on the same database: the baseline."""
    out = {"clients": args.clients, "seconds": args.capacity_seconds}
    shaped = load.closed(args.clients, args.capacity_seconds)
    out["gunicorn"] = summary(shaped, args.capacity_seconds)["all"]
    port = free_port()
    single = subprocess.Popen([KBTRIAGE, "serve", "--no-demo", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(workdir / "serve-single.log", "a"))
    try:
        wait_ready(port)
        baseline = Load(port, texts)
        baseline.run(10, 5)
        out["waitress_one_process"] = summary(baseline.closed(args.clients, args.capacity_seconds),
                                              args.capacity_seconds)["all"]
    finally:
        single.send_signal(signal.SIGTERM)
        single.wait(timeout=60)
    out["ratio_requests_per_s"] = round(out["gunicorn"]["per_s"] / out["waitress_one_process"]["per_s"], 2)
    return out


def faults(args, rate: float, load: Load, port: int, server, procs, pg: Postgres, env: dict, workdir: Path) -> dict:
    """The steady rate for --fault-seconds with, in turn: a web worker killed (at 10 s), PostgreSQL
    restarted (at 30 s), a training job queued (45 s) whose worker is killed once it trains (a new
    worker started at once, as a process manager would); then the job is waited for and the
    acknowledged writes counted in the database."""
    from sqlalchemy import create_engine, func, select, text

    events: dict = {}
    state = {"trainer": procs[-1]}
    lock = threading.Lock()
    load.decisions.clear()
    load.feedback.clear()
    load.answers.clear()

    def kill_training_worker():
        status, job = api(port, "POST", "/v1/models/train", {"promote": "auto"})
        events["job"] = job["id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until it trains, then kill it mid-job
            if api(port, "GET", f"/v1/jobs/{job['id']}")[1]["status"] == "running":
                time.sleep(5)
                break
            time.sleep(0.5)
        os.kill(state["trainer"].pid, signal.SIGKILL)
        events["training_worker_killed"] = state["trainer"].pid
        events["training_worker_killed_at_s"] = round(time.perf_counter() - t0, 1)
        state["trainer"] = subprocess.Popen([KBTRIAGE, "worker"], env=env, stdout=subprocess.DEVNULL,
                                            stderr=open(workdir / "worker.log", "a"))
        procs.append(state["trainer"])

    def restart_database():
        events["database_restart_started_at_s"] = round(time.perf_counter() - t0, 1)
        pg.restart()
        events["database_back_at_s"] = round(time.perf_counter() - t0, 1)

    def tick(elapsed):
        with lock:
            if elapsed >= 10 and "web_worker_killed" not in events:
                victim = children(server.pid)[0]
                os.kill(victim, signal.SIGKILL)
                events["web_worker_killed"] = victim
                events["web_worker_killed_at_s"] = round(elapsed, 1)
            if elapsed >= 45 and "job" not in events:
                events["job"] = None
                threading.Thread(target=kill_training_worker, daemon=True).start()
            if elapsed >= 30 and "database_restart_started_at_s" not in events:
                events["database_restart_started_at_s"] = None
                threading.Thread(target=restart_database, daemon=True).start()

    t0 = time.perf_counter()
    results = load.run(rate, args.fault_seconds, on_tick=tick)
    out = {"rate": rate, "seconds": args.fault_seconds, "events": events,
           **summary(results, args.fault_seconds)}
    # What each window answered: statuses by second around the database restart.
    # By when each answer came (the scheduled time plus its latency), relative to the faults.
    done = [(r[1] + r[2] / 1000 - t0, r[3]) for r in results]
    killed = events.get("web_worker_killed_at_s")
    cut = [t for t, status in done if not isinstance(status, int)]  # connections cut, no HTTP answer
    out["connections_cut"] = {"count": len(cut), "first_s": round(min(cut), 1) if cut else None,
                              "last_s": round(max(cut), 1) if cut else None, "web_worker_killed_at_s": killed}
    down, back = events.get("database_restart_started_at_s"), events.get("database_back_at_s")
    if down is not None and back is not None:
        unavailable = [t for t, status in done if status == 503]
        out["database_restart"] = {
            "down_s": down, "back_s": back, "answers_503": len(unavailable),
            "first_503_s": round(min(unavailable), 1) if unavailable else None,
            "last_503_after_database_back_s": round(max(unavailable) - back, 2) if unavailable else None,
            # Any answer other than 2xx and 503 is a defect (a 500, a 4xx of a valid request).
            "other_http_errors": sorted({status for _, status in done if isinstance(status, int)
                                         and status >= 400 and status != 503})}
    # The training job: finished, or run again by the new worker.
    job_id = events.get("job")
    deadline = time.monotonic() + 600
    job = None
    while job_id and time.monotonic() < deadline:
        job = api(port, "GET", f"/v1/jobs/{job_id}")[1]
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(2)
    # Every acknowledged write is in the database.
    engine = create_engine(env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        if job:
            attempts = conn.execute(text("SELECT attempts FROM training_jobs WHERE id = :id"), {"id": job_id}).scalar()
            out["job"] = {"id": job_id, "status": job["status"], "attempts": attempts, "error": job["error"],
                          "worker": job["worker"], "killed_worker_pid": events.get("training_worker_killed")}
        stored_d = conn.execute(select(func.count()).select_from(text("triage_decisions"))
                                .where(text("id = ANY(:ids)")), {"ids": list(set(load.decisions))}).scalar()
        stored_f = conn.execute(select(func.count()).select_from(text("feedback_events"))
                                .where(text("id = ANY(:ids)")), {"ids": list(set(load.feedback))}).scalar()
    engine.dispose()
    out["acknowledged_decisions"] = {"acknowledged": len(set(load.decisions)), "in_database": stored_d}
    out["acknowledged_feedback"] = {"acknowledged": len(set(load.feedback)), "in_database": stored_f}
    out["web_workers_after"] = children(server.pid)
    return out


if __name__ == "__main__":
    main()
