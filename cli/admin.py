"""``kbtriage`` administration: the ``api-key`` group (create, list, revoke the API's keys) and
the ``routing`` group (show and change the auto-routing policy)."""
from __future__ import annotations

import json

import click

from application.access import MAX_EXPIRY_DAYS, ROLES
from cli.common import open_runtime
from cli.formatting import echo_api_keys, echo_routing_policy
from common.errors import ValidationError


@click.group("api-key")
def api_key():
    """API keys: one per caller, each with a role (intake < agent < editor < admin). The API is
    open until the first key exists (or KBTRIAGE_REQUIRE_API_KEY=1)."""


@api_key.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="intake: triage and read; agent: + feedback; editor: + articles, gaps, reports; "
                   "admin: + routing rules and models.")
@click.option("--expires-days", type=click.IntRange(1, MAX_EXPIRY_DAYS), default=None,
              help="The key stops working this many days from now (default: when revoked).")
def api_key_create(name, role, expires_days):
    """Create a key for NAME and print it; only its hash is stored, so keep it now."""
    from application import access

    with open_runtime().db.session() as session:
        row, key = access.create(session=session, name=name, role=role, expires_in_days=expires_days)
        until = f", expires {row.expires_at.isoformat()[:19]} UTC" if row.expires_at else ""
        click.echo(f"created key {row.name!r} ({row.role}{until}); it is shown only once:", err=True)
    click.echo(key)


@api_key.command("list")
def api_key_list():
    """Every key: name, role, first characters, created, state, expiry and last use."""
    from application import access

    with open_runtime().db.session() as session:
        rows = [access.view(r) for r in access.list_keys(session=session)]
    echo_api_keys(rows)


@api_key.command("revoke")
@click.argument("name")
def api_key_revoke(name):
    """Revoke the key named NAME; it stops working at once."""
    from application import access

    with open_runtime().db.session() as session:
        access.revoke(session=session, name=name)
    click.echo(f"revoked key {name!r}")


@click.group()
def routing():
    """Auto-routing policy: the precision target per category or tier, applied without retraining."""


@routing.command("show")
@click.option("--part", type=click.Choice(["category", "tier", "priority"]), default=None,
              help="Only this part (priority: with the top priority's auto-escalation).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole policy as JSON.")
@click.option("--live-days", type=click.IntRange(0, 3650), default=30, show_default=True,
              help="Beside each category, the live precision of its auto-routed decisions over these days, "
                   "judged by agents' feedback (0: leave it out).")
def routing_show(part, as_json, live_days):
    """The deployment's target, the rules, and per class the active version's threshold with the
    precision and coverage it reaches on validation tickets (and, for categories, live)."""
    from triage.report import policy_in_force

    view = policy_in_force(open_runtime().engine, live_days=live_days)
    live = (view.get("live_auto_route") or {}).get("categories", {})
    if as_json:
        click.echo(json.dumps(view, indent=2))
        return
    echo_routing_policy(view, part, live)


@routing.command("set")
@click.argument("part", type=click.Choice(["category", "tier"]))
@click.argument("label")
@click.option("--precision", type=float, default=None, help="Target precision for this class (0.5-1.0).")
@click.option("--off", is_flag=True, help="Never auto-route this class.")
@click.option("--by", "updated_by", default=None, help="Who made the change (kept with the rule).")
def routing_set(part, label, precision, off, updated_by):
    """Set LABEL's target precision (or --off) for PART (category or tier)."""
    from triage import routing as policy

    if off == (precision is not None):
        raise ValidationError("give exactly one of --precision and --off", field="precision")
    row = policy.put_rule(open_runtime().engine, part=part, label=label, target_precision=precision,
                          auto_route=not off, updated_by=updated_by)["effect"]
    click.echo(f"{part} {label!r}: " + ("auto-routing off" if off else f"target precision {precision}"))
    if row and row.get("basis") != "off":
        click.echo(f"on validation tickets: threshold {row['threshold']}, precision {row['precision']}, "
                   f"coverage {row['coverage']} of {row['predicted']} ({row['basis']})")


@routing.command("reset")
@click.argument("part", type=click.Choice(["category", "tier"]))
@click.argument("label")
def routing_reset(part, label):
    """Remove LABEL's rule: the deployment's target precision applies again."""
    from triage import routing as policy

    policy.remove_rule(open_runtime().engine, part=part, label=label)
    click.echo(f"{part} {label!r}: rule removed")
