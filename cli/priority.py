"""``kbtriage priority``: the desk's priority settings. ``priority matrix show|set|reset``: the impact
x urgency matrix that decides priority where no priority model is trained (ITIL's unless the team
sets its own); ``priority order``: the order of the desk's labels (set with ``import-tickets
--priority-order``). triage/priority_settings.py holds the rules."""
from __future__ import annotations

import json

import click

from cli.common import open_runtime


@click.group()
def priority():
    """Priority settings: the impact x urgency matrix, the order of the desk's labels."""


@priority.group()
def matrix():
    """The impact x urgency matrix (ITIL) for tickets decided without a priority model."""


def _print(view: dict, as_json: bool) -> None:
    from triage.priority import IMPACTS, URGENCIES

    if as_json:
        click.echo(json.dumps(view, indent=1))
        return
    click.echo("impact / urgency".ljust(18) + "".join(f"{u:>8}" for u in URGENCIES))
    for impact in IMPACTS:
        click.echo(f"{impact:<18}" + "".join(f"{view['matrix'][impact][u]:>8}" for u in URGENCIES))
    click.echo("ITIL's default" if view["default"] else
               f"the team's, set by {view['updated_by'] or 'someone unnamed'} at {view['updated_at']}")


@matrix.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON (as GET /v1/priority/matrix).")
def matrix_show(as_json):
    """The matrix in force: impact (wide, some, one) x urgency (high, medium, low)."""
    from triage import priority_settings

    with open_runtime().db.session() as session:
        _print(priority_settings.matrix(session=session), as_json)


@matrix.command("set")
@click.argument("cells", nargs=-1, required=True)
@click.option("--by", "updated_by", default=None, help="Who made the change (kept with the matrix).")
def matrix_set(cells, updated_by):
    """Change CELLS of the matrix in force, each IMPACT:URGENCY=LEVEL (e.g. some:high=P1 one:low=P3);
    the other cells keep their level. Decisions follow it at once."""
    from common.errors import ValidationError
    from triage import priority_settings

    with open_runtime().db.session() as session:
        current = priority_settings.matrix(session=session)["matrix"]
        for cell in cells:
            where, sep, level = cell.partition("=")
            impact, colon, urgency = where.partition(":")
            if not sep or not colon:
                raise click.BadParameter(f"{cell!r} is not IMPACT:URGENCY=LEVEL (e.g. some:high=P1)",
                                         param_hint="CELLS")
            current.setdefault(impact.strip(), {})[urgency.strip()] = level.strip()
        try:
            view = priority_settings.set_matrix(session=session, value=current, by=updated_by or "kbtriage")
        except ValidationError as exc:
            raise click.BadParameter(exc.message, param_hint="CELLS") from None
    _print(view, False)


@matrix.command("reset")
@click.option("--by", "updated_by", default=None, help="Who made the change.")
def matrix_reset(updated_by):
    """Go back to ITIL's matrix (stored as the team's, so the change is kept with who made it)."""
    from triage import priority_settings

    with open_runtime().db.session() as session:
        _print(priority_settings.set_matrix(session=session, value=priority_settings.default_matrix(),
                                            by=updated_by or "kbtriage"), False)


@priority.command("order")
def order_show():
    """The order of the desk's priority labels, most urgent first (import-tickets --priority-order)."""
    from triage import priority_settings

    with open_runtime().db.session() as session:
        labels = priority_settings.order(session=session)
    click.echo(", ".join(labels) if labels else "none given: labels are ranked by their words (P1 before P2, "
                                                "Blocker before Major)")
