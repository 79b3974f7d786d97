"""``kbtriage backup`` and ``kbtriage restore``: the whole installation (every table and the model
versions' artifacts) to one file and back (application/backup.py)."""
from __future__ import annotations

from pathlib import Path

import click

from cli.common import open_runtime


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover


def _tables(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in counts.items())


def _versions(versions: dict) -> str:
    if not versions:
        return "none"
    return ", ".join(f"v{vid}" + (" (active)" if facts.get("status") == "active" else "")
                     for vid, facts in versions.items())


@click.command("backup")
@click.argument("path", type=click.Path())
@click.option("--overwrite", is_flag=True, help="Replace PATH if it exists (by default an existing file is kept).")
def backup(path, overwrite):
    """Write a backup of everything kb-triage keeps to PATH (a .tar.gz file): articles, tickets,
    decisions, feedback, routing rules, API keys (stored hashed), training jobs, erasures and the
    model versions with their artifacts, read as one consistent moment, so the service may keep
    running. The file appears complete or not at all; keep it as safe as the database itself."""
    from application import backup as backups

    rt = open_runtime()
    manifest = backups.create_backup(db=rt.db, models_dir=rt.settings.models_dir, path=Path(path),
                                     overwrite=overwrite)
    click.echo(f"backup written to {path} ({_size(manifest['bytes'])}, {manifest['source_engine']}, "
               f"schema {manifest['schema_revision']})")
    click.echo(f"tables: {_tables({name: facts['rows'] for name, facts in manifest['tables'].items()})}")
    click.echo(f"model versions with artifacts: {_versions(manifest['versions'])}")
    if manifest["versions_without_artifacts"]:
        click.echo("model versions whose artifacts were already pruned (rows only): "
                   + ", ".join(f"v{vid}" for vid in manifest["versions_without_artifacts"]))
    if manifest["active_version_lost"] is not None:
        click.echo(f"warning: the active model version v{manifest['active_version_lost']} has no artifacts on this "
                   "machine or in the database, so the backup holds none: after a restore no version is active "
                   "until one is activated or trained", err=True)


@click.command("restore")
@click.argument("path", type=click.Path())
@click.option("--replace", is_flag=True,
              help="The database holds data: delete all of it and restore the backup instead.")
def restore(path, replace):
    """Restore the backup at PATH (written by `kbtriage backup`) into the database and data directory
    of this installation, then rebuild the article index. The database is migrated first; a backup
    from a newer schema is refused. A database that holds any data is refused unless --replace.
    The whole file is checked (checksums, row counts) before anything changes: a damaged or
    truncated file exits with status 2 and changes nothing. Stop the service and workers first."""
    from application import backup as backups

    rt = open_runtime()
    done = backups.restore_backup(runtime=rt, path=Path(path), replace=replace)
    made = done["manifest"]
    replaced = f"; replaced {_tables(done['replaced'])}" if done["replaced"] else ""
    click.echo(f"restored {path} (written {made['created_at']} by kb-triage {made['kb_triage']} from "
               f"{made['source_engine']}, schema {made['schema_revision']}){replaced}")
    click.echo(f"tables: {_tables(done['tables'])}")
    click.echo(f"model versions with artifacts: {_versions(made['versions'])}")
    click.echo(f"article index rebuilt: {done['passages']:,} passages")
    if done["active"] is None:
        choices = ", ".join(f"v{vid}" for vid in done["versions"]) or "none"
        click.echo(f"warning: no model version is active, so every ticket goes to review: activate one with "
                   f"artifacts ({choices}; POST /v1/models/<version>/activate or the console's Models page) "
                   "or train one (kbtriage train)", err=True)
