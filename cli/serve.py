"""``kbtriage serve``: run the HTTP API, loading the demo data on a first start with an empty
database."""
from __future__ import annotations

import click

from cli.common import open_runtime


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 8080).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Load the demo data and train on first start when the database is empty.")
def serve(host, port, threads, demo):
    """Run the HTTP API (waitress)."""
    import waitress

    from api.app import create_app
    from application.demo import is_empty, load_demo

    rt = open_runtime()
    if demo and is_empty(rt):
        load_demo(rt, force_train=False, echo=lambda m: click.echo(m, err=True))
    app = create_app(runtime=rt)
    host = host or rt.settings.host
    port = port or rt.settings.port
    click.echo(f"kb-triage listening on http://{host}:{port} (data in {rt.settings.home})", err=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="kb-triage")
