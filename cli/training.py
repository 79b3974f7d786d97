"""``kbtriage`` commands that train the models: ``train`` (enqueue a training job and, by
default, run it here and wait for its report) and ``worker`` (run queued training jobs)."""
from __future__ import annotations

import json
import time

import click

from cli.common import open_runtime


@click.command()
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait for the job and print its report, or print the job id and return at once.")
@click.option("--promote", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="auto: activate only if not worse than the active version on the validation slice.")
def train(wait, promote):
    """Train the category, tier and article models from everything stored (with agents'
    corrections), evaluate on the validation slice, and activate the new version if it passes the
    guardrail. Runs as a training job: in this process when no worker took it first."""
    from application.worker import run as run_job
    from models import jobs
    from models.tables import ModelVersion, TrainingJob

    rt = open_runtime()
    with rt.db.session() as session:
        job_id = jobs.enqueue(session=session, trigger="cli", promote=promote).id
    if not wait:
        click.echo(job_id)
        return
    started = time.perf_counter()
    worker = jobs.worker_name()
    with rt.db.session() as session:
        claimed = jobs.claim(session=session, job_id=job_id, worker=worker)
    if claimed:
        shown = 0

        def echo_new():
            nonlocal shown
            with rt.db.session() as s:
                progress = s.get(TrainingJob, job_id).progress
            for line in progress[shown:]:
                click.echo(f"  {line}", err=True)
            shown = len(progress)

        import threading

        done = threading.Event()
        runner = threading.Thread(target=lambda: (run_job(rt, job_id, worker), done.set()), daemon=True)
        runner.start()
        while not done.wait(0.5):
            echo_new()
        echo_new()
    else:
        click.echo(f"job {job_id} is being run by a worker; waiting", err=True)
        while True:
            with rt.db.session() as session:
                if session.get(TrainingJob, job_id).status in ("succeeded", "failed"):
                    break
            time.sleep(1)
    with rt.db.session() as session:
        job = session.get(TrainingJob, job_id)
        if job.status == "failed":
            raise click.ClickException(f"training failed: {job.error}")
        version = session.get(ModelVersion, job.model_version_id)
        click.echo(json.dumps({"version": version.id, "status": version.status, "report": version.report}, indent=2))
    click.echo(f"trained in {time.perf_counter() - started:.1f} s", err=True)


@click.command()
@click.option("--once", is_flag=True, help="Run at most one queued job, then exit.")
@click.option("--poll", type=click.FloatRange(0.1, 60), default=1.0, show_default=True, help="Seconds between polls.")
def worker(once, poll):
    """Run training jobs from the queue in the database. Start one or more of these when several
    service processes share a PostgreSQL database (and set KBTRIAGE_WORKER=external for them);
    each job is claimed by exactly one worker."""
    from application.startup import recover
    from application.worker import Worker
    from common import config
    from common.threads import background_priority

    background_priority(config.load().training_nice)  # before any thread starts: they inherit it
    rt = open_runtime()
    recover(rt, wait=True)
    w = Worker(rt, poll_seconds=poll)
    if once:
        click.echo("ran a job" if w.run_once() else "queue empty", err=True)
        return
    click.echo(f"worker {w.name} polling every {poll} s", err=True)
    w.run_forever()
