"""``kbtriage serve``: run the HTTP API, loading the demo data on a first start with an empty
database.

One process (the default) is waitress with a training worker thread inside; ``--workers N`` (N > 1)
is the production shape: gunicorn with N web worker processes (api/wsgi.py), each with its own
runtime and none training: jobs go to ``kbtriage worker`` processes. Both apply the serving limits
of common/config.py, so that slow or idle clients are closed and cannot hold every connection."""
from __future__ import annotations

import os

import click

from cli.common import open_runtime


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 8080).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Request threads (per web worker process with --workers).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Web worker processes. 1: waitress, one process that also runs training jobs on a thread; "
                   "more: gunicorn, and training jobs run in 'kbtriage worker' processes only.")
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Load the demo data and train on first start when the database is empty.")
def serve(host, port, threads, workers, demo):
    """Run the HTTP API (waitress; gunicorn with --workers N)."""
    from application.demo import is_empty, load_demo

    rt = open_runtime()
    if demo and is_empty(rt):
        if rt.settings.train_in_child:
            # In a child process: the first training (and the encoder's one-off export, which loads
            # torch) never weighs on the serving process.
            from application.worker import spawn

            exitcode = spawn(_load_demo, rt.settings, name="kbtriage-demo")
            if exitcode != 0:
                raise click.ClickException(f"loading the demo failed (exit status {exitcode}); see above")
        else:
            load_demo(rt, force_train=False, echo=lambda m: click.echo(m, err=True))
    host = host or rt.settings.host
    port = port or rt.settings.port
    if workers > 1:
        rt.close()  # each web worker opens its own after the fork
        _gunicorn(rt.settings, workers=workers, threads=threads, host=host, port=port)
        return
    import waitress

    from api.app import create_app, serving

    app = create_app(runtime=rt)
    serving(rt)  # other replicas' changes as they commit, and the loaded models frozen
    s = rt.settings
    click.echo(f"kb-triage listening on http://{host}:{port} (data in {s.home})", err=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="kb-triage",
                   connection_limit=s.connection_limit,
                   # A connection silent this long (half a request sent, or idle) is closed, checked
                   # this often: waitress's defaults (120 s, every 30 s) let ~100 such clients hold
                   # every connection for two minutes.
                   channel_timeout=s.client_timeout, cleanup_interval=max(1.0, s.client_timeout / 2),
                   # Flask answers a body over max_request_bytes with a JSON 413; waitress stops
                   # buffering one far beyond it.
                   max_request_body_size=2 * s.max_request_bytes,
                   # poll(): select() cannot watch more than 1024 sockets.
                   asyncore_use_poll=True)


def _load_demo(settings) -> None:
    """A child process's life: load the demo into the database ``settings`` name, train, exit."""
    from application.demo import load_demo
    from application.runtime import Runtime

    rt = Runtime(settings)
    try:
        load_demo(rt, force_train=False, echo=lambda m: click.echo(m, err=True))
    finally:
        rt.close()


def encoder_threads_per_worker(settings, workers: int) -> int:
    """Threads of one encoding call in each of ``workers`` web worker processes: the setting, or the
    machine's cores shared out among the workers (the processes keep every core busy under load)."""
    from common.threads import available_cores

    return settings.encoder_threads or max(1, available_cores() // workers)


def _gunicorn(settings, *, workers: int, threads: int, host: str, port: int) -> None:
    from gunicorn.app.base import BaseApplication

    from api.wsgi import create_app, gunicorn_options

    options = gunicorn_options(settings, workers=workers, threads=threads, host=host, port=port)
    os.environ["KBTRIAGE_ENCODER_THREADS"] = str(encoder_threads_per_worker(settings, workers))  # read by each worker

    class Server(BaseApplication):
        def load_config(self):
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self):  # in each worker after the fork (no preload): its own runtime
            return create_app()

    click.echo(f"kb-triage listening on http://{host}:{port} with {workers} web worker processes of "
               f"{threads} threads (data in {settings.home}); training jobs run in 'kbtriage worker' "
               "processes: start at least one", err=True)
    Server().run()
