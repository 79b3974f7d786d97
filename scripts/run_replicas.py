"""Several replicas on one PostgreSQL behind a real load balancer, run as it would be deployed (#29).

Creates a fresh database on the PostgreSQL server given (default: this machine's, 127.0.0.1:5432),
loads and trains the demo help desk from the worker's data directory (`kbtriage init-demo`), then
starts `kbtriage worker` and --replicas `kbtriage serve --no-demo` processes, each with its own empty
KBTRIAGE_HOME (a machine of its own: nothing on disk is shared), and haproxy in front of them
(Debian's package, installed when missing; health check on /readyz). Then, printing one JSON document:

- ready: seconds from start to /readyz 200 of each fresh replica, and how many passages each
  encoded on its way (its vector cache's rows: 0 when it took the vectors from the database);
- articles: created, edited and deleted through replica A, seconds until search on replica B sees
  it (p50 / p99 over --changes articles);
- versions: a version trained by the worker (POST /v1/models/train), seconds from the job's end
  until every replica's decisions carry it; a rollback through A, seconds until every replica serves it;
- rejection and erasure: an article rejected on A for a ticket drops from B's suggestions for the
  same text; a ticket erased on A is 404 on B;
- failover: closed-loop clients through haproxy while one replica is killed (kill -9): errors seen
  against the requests that were in flight; the replica restarted with a wiped data directory:
  seconds to ready and passages encoded;
- throughput through haproxy with 1, 2, ... replicas (triage only, --clients closed-loop clients):
  requests/s, median and p99 ms, and the replicas' CPU seconds per request.

    python scripts/run_replicas.py [--replicas 2] [--changes 20] [--seconds 20] [--clients 8]
                                   [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

The machine's load average is printed with the figures: on 2 cores, more replicas add little.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import KBTRIAGE, api, free_port, summary, wait_ready  # noqa: E402

TEXTS = ["I cannot log in since the password reset, the link says it expired",
         "We were charged twice on this month's invoice, please refund",
         "The API returns 401 for every call since this morning",
         "How do I export all tickets of last quarter to CSV?",
         "Our SSO login with Okta fails for new users",
         "The mobile app crashes when I open an attachment"]


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * q))], 3)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def encoded_passages(home: Path) -> int:
    """Rows in a data directory's vector cache: what that process encoded (tickets are encoded
    without it while serving, so at start these are passages)."""
    path = home / "cache" / "embeddings.sqlite"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM emb").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


class Cluster:
    def __init__(self, args, workdir: Path):
        self.args, self.workdir = args, workdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}
        self.balancers: list[subprocess.Popen] = []
        self.database_url = ""

    def env(self, home: Path) -> dict:
        return {**os.environ, "DATABASE_URL": self.database_url, "KBTRIAGE_HOME": str(home),
                "KBTRIAGE_WORKER": "external", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}

    def create_database(self) -> None:
        import psycopg

        base = self.args.database_url
        name = f"kbt_replicas_{os.getpid()}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        parts = urllib.parse.urlsplit(base)
        self.database_url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
        self.name = name

    def drop_database(self) -> None:
        import psycopg

        with psycopg.connect(self.args.database_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")

    def home(self, name: str) -> Path:
        return self.workdir / name

    def start_worker(self) -> None:
        home = self.home("worker")
        subprocess.run([KBTRIAGE, "init-demo"], env=self.env(home), check=True, stdout=subprocess.DEVNULL)
        self.procs["worker"] = subprocess.Popen([KBTRIAGE, "worker", "--poll", "1"], env=self.env(home),
                                                stdout=subprocess.DEVNULL, stderr=open(home / "worker.log", "w"))

    def start_replica(self, name: str, wipe: bool = False) -> dict:
        home = self.home(name)
        if wipe:
            shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True, exist_ok=True)
        port = self.ports.setdefault(name, free_port())
        started = time.monotonic()
        self.procs[name] = subprocess.Popen(
            [KBTRIAGE, "serve", "--no-demo", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
            env=self.env(home), stdout=subprocess.DEVNULL, stderr=open(home / "serve.log", "a"))
        wait_ready(port, 300)
        return {"replica": name, "ready_s": round(time.monotonic() - started, 2), "passages_encoded": encoded_passages(home)}

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait()

    def balancer(self, names: list[str]) -> int:
        """haproxy in front of ``names``: round robin, health check on /readyz, a request whose
        connection failed sent to another replica."""
        if shutil.which("haproxy") is None:
            subprocess.run(["apt-get", "install", "-y", "haproxy"], check=True, stdout=subprocess.DEVNULL,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        port = free_port()
        servers = "\n".join(f"  server {n} 127.0.0.1:{self.ports[n]} check" for n in names)
        config = self.workdir / f"haproxy-{port}.cfg"
        config.write_text(f"""global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 2
  option redispatch
  retry-on conn-failure
frontend kbtriage
  bind 127.0.0.1:{port}
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /readyz
  default-server inter 500ms fall 2 rise 2
{servers}
""")
        self.balancers.append(subprocess.Popen(["haproxy", "-f", str(config)], stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
        wait_ready(port, 30)
        return port

    def stop(self) -> None:
        for proc in [*self.balancers, *self.procs.values()]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.balancers, *self.procs.values()]:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def until(predicate, deadline: float = 30.0, every: float = 0.05) -> float | None:
    """Seconds until ``predicate()`` holds (None if not within ``deadline``)."""
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        if predicate():
            return time.monotonic() - start
        time.sleep(every)
    return None


def found(port: int, query: str, article_id: str, word: str | None = None) -> bool:
    """Whether search for ``query`` on ``port`` returns ``article_id`` (with ``word``: with a
    passage holding that word)."""
    status, body = api(port, "GET", "/v1/search?" + urllib.parse.urlencode({"q": query, "k": 5}))
    return status == 200 and any(r["article_id"] == article_id and (word is None or word in r["passage"])
                                 for r in body["results"])


def articles(cluster: Cluster, a: str, b: str, changes: int) -> dict:
    pa, pb = cluster.ports[a], cluster.ports[b]
    created, edited, deleted = [], [], []
    for n in range(changes):
        aid = f"replica-check-{n}"
        word, new_word = f"zorblax{n}quint", f"plimvet{n}dra"
        status, _ = api(pa, "POST", "/v1/articles", {"id": aid, "title": f"Resetting the {word} gateway",
                                                     "body": f"To reset the {word} gateway, hold its button ten seconds."})
        assert status == 201, status
        created.append(until(lambda: found(pb, f"{word} gateway", aid)))
        status, _ = api(pa, "PATCH", f"/v1/articles/{aid}", {"title": f"Resetting the {new_word} relay",
                                                              "body": f"To reset the {new_word} relay, unplug it."})
        assert status == 200, status
        # Seen when the new passage is found and no passage with the old text is.
        edited.append(until(lambda: found(pb, f"{new_word} relay", aid, new_word)
                            and not found(pb, f"{word} gateway", aid, word)))
        status, _ = api(pa, "DELETE", f"/v1/articles/{aid}")
        assert status in (200, 204), status
        deleted.append(until(lambda: not found(pb, f"{new_word} relay", aid)))
    out = {}
    for name, values in (("created", created), ("edited", edited), ("deleted", deleted)):
        seen = [v for v in values if v is not None]
        out[name] = {"changes": len(values), "not_seen_in_30_s": len(values) - len(seen),
                     "p50_s": pct(seen, 0.5), "p99_s": pct(seen, 0.99)}
    return out


def serving(port: int) -> int | None:
    status, body = api(port, "POST", "/v1/triage", {"body": TEXTS[0]})
    return body.get("model_version") if status == 201 else None


def versions(cluster: Cluster, names: list[str], lb: int) -> dict:
    before = serving(cluster.ports[names[0]])
    status, job = api(lb, "POST", "/v1/models/train", {"promote": "always"})
    assert status == 202, (status, job)
    until(lambda: api(lb, "GET", f"/v1/jobs/{job['id']}")[1]["status"] in ("succeeded", "failed"), 900, 0.2)
    done = api(lb, "GET", f"/v1/jobs/{job['id']}")[1]
    assert done["status"] == "succeeded", done
    new = done["model_version"]
    trained = {n: until(lambda n=n: serving(cluster.ports[n]) == new, 30, 0.1) for n in names}
    status, _ = api(cluster.ports[names[0]], "POST", f"/v1/models/{before}/activate")
    assert status == 200, status
    rolled = {n: until(lambda n=n: serving(cluster.ports[n]) == before, 30, 0.1) for n in names}
    return {"trained_version": new, "served_after_job_end_s": {n: round(v, 2) if v is not None else None
                                                               for n, v in trained.items()},
            "rollback_to": before, "rollback_served_after_s": {n: round(v, 2) if v is not None else None
                                                               for n, v in rolled.items()}}


def rejection_and_erasure(cluster: Cluster, a: str, b: str) -> dict:
    pa, pb = cluster.ports[a], cluster.ports[b]
    text = TEXTS[2]
    status, decision = api(pa, "POST", "/v1/triage", {"body": text})
    top = decision["suggestions"][0]["article_id"]

    def rank_on_b():
        ids = [s["article_id"] for s in api(pb, "POST", "/v1/triage", {"body": text})[1]["suggestions"]]
        return ids.index(top) if top in ids else len(ids)

    first = rank_on_b()
    status, _ = api(pa, "POST", "/v1/feedback", {"decision_id": decision["id"], "kind": "rejected",
                                                 "article_id": top, "reason": "not_related",
                                                 "agent_id": "replica-check"})
    lowered = until(lambda: rank_on_b() > first, 30, 0.2)
    status, _ = api(pa, "POST", "/v1/tickets/erase", {"ticket_ids": [decision["ticket_id"]]})
    gone = until(lambda: api(pb, "GET", f"/v1/tickets/{decision['ticket_id']}")[0] == 404, 30, 0.1)
    return {"rejected_article": top, "rank_on_b_before": first, "lowered_on_b_after_s": lowered and round(lowered, 2),
            "erasure_status": status, "erased_ticket_404_on_b_after_s": gone and round(gone, 2)}


class Clients:
    """Closed-loop clients sending POST /v1/triage through one port; results as bench_load's."""

    def __init__(self, port: int, clients: int):
        self.port, self.clients = port, clients
        self.results: list = []
        self.stop = threading.Event()

    def _client(self, seed: int) -> None:
        conn = None
        n = seed
        while not self.stop.is_set():
            n += 1
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("POST", "/v1/triage", body=json.dumps({"body": TEXTS[n % len(TEXTS)]}),
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
                conn = None
            self.results.append(("triage", started, (time.perf_counter() - started) * 1000, status))

    def run(self, seconds: float, at=None) -> list:
        threads = [threading.Thread(target=self._client, args=(n,)) for n in range(self.clients)]
        for t in threads:
            t.start()
        start = time.monotonic()
        if at is not None:
            time.sleep(at[0])
            at[1]()
        time.sleep(max(0.0, seconds - (time.monotonic() - start)))
        self.stop.set()
        for t in threads:
            t.join()
        return self.results


def failover(cluster: Cluster, names: list[str], lb: int, seconds: float, clients: int) -> dict:
    victim = names[-1]
    results = Clients(lb, clients).run(seconds, at=(seconds / 3, lambda: cluster.kill(victim)))
    report = summary(results, seconds)["all"]
    restarted = cluster.start_replica(victim, wipe=True)
    return {"killed": victim, "clients": clients, "seconds": seconds, "requests": report["requests"],
            "errors": report["errors"], "at_most_in_flight_on_it": clients,
            "median_ms": report["median_ms"], "p99_ms": report["p99_ms"], "restarted_wiped": restarted}


def throughput(cluster: Cluster, names: list[str], seconds: float, clients: int) -> list[dict]:
    rows = []
    for count in range(1, len(names) + 1):
        port = cluster.balancer(names[:count])
        Clients(port, clients).run(2.0)  # warm up
        pids = [cluster.procs[n].pid for n in names[:count]]
        cpu = sum(cpu_seconds(p) for p in pids)
        results = Clients(port, clients).run(seconds)
        cpu = sum(cpu_seconds(p) for p in pids) - cpu
        report = summary(results, seconds)["all"]
        ok = sum(1 for r in results if isinstance(r[3], int) and r[3] < 400)
        rows.append({"replicas": count, "per_s": report["per_s"], "median_ms": report["median_ms"],
                     "p99_ms": report["p99_ms"], "errors": report["errors"],
                     "cpu_ms_per_request": round(cpu * 1000 / max(ok, 1), 1)})
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--changes", type=int, default=20, help="articles created, edited and deleted")
    parser.add_argument("--seconds", type=float, default=20.0, help="per load phase")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server where a fresh database may be created and dropped")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="kbt-replicas-"))
    cluster = Cluster(args, workdir)
    cluster.create_database()
    out: dict = {"replicas": args.replicas}
    started = time.monotonic()
    try:
        cluster.start_worker()
        names = [chr(ord("a") + n) for n in range(args.replicas)]
        out["ready"] = [cluster.start_replica(n) for n in names]
        lb = cluster.balancer(names)
        phases = (("articles", lambda: articles(cluster, names[0], names[1], args.changes)),
                  ("versions", lambda: versions(cluster, names, lb)),
                  ("rejection_and_erasure", lambda: rejection_and_erasure(cluster, names[0], names[1])),
                  ("failover", lambda: failover(cluster, names, lb, args.seconds, args.clients)),
                  ("throughput", lambda: throughput(cluster, names, args.seconds, args.clients)))
        for name, phase in phases:
            try:
                out[name] = phase()
            except Exception as exc:  # the other phases' figures still count
                out[name] = {"failed": f"{type(exc).__name__}: {exc}"}
            print(json.dumps({name: out[name]}), file=sys.stderr, flush=True)
    finally:
        cluster.stop()
        cluster.drop_database()
        shutil.rmtree(workdir, ignore_errors=True)
    out["wall_s"] = round(time.monotonic() - started, 1)
    out["load_average"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
