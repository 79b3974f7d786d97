"""``kbtriage sla`` (the SLA policies: show, set, delete) and ``kbtriage queue`` (open tickets by
SLA risk); triage/sla.py holds the rules."""
from __future__ import annotations

import json

import click

from cli.common import open_runtime


def _duration(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}min"


@click.group()
def sla():
    """SLA policies: first-response and resolution targets per customer plan and priority."""


@sla.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the policies as JSON.")
def sla_show(as_json):
    """The stored policies, and the built-in targets that serve where none matches."""
    from triage import sla as policies

    with open_runtime().db.session() as session:
        stored = [policies.view(p) for p in policies.policies(session=session)]
    if as_json:
        click.echo(json.dumps({"policies": stored, "built_in": policies.defaults_view()}, indent=1))
        return
    click.echo(f"{'plan':<16} {'priority':<12} {'first response':>15} {'resolution':>11}")
    for row in stored + policies.defaults_view():
        click.echo(f"{row['plan']:<16} {row['priority']:<12} {_duration(row['first_response_minutes']):>15} "
                   f"{_duration(row['resolution_minutes']):>11}" + ("  (built-in)" if row.get("built_in") else "")
                   + (f"  {row['business_hours']} {row['timezone']}" if row.get("business_hours") else ""))


@sla.command("set")
@click.argument("priority")
@click.option("--plan", default="*", show_default=True, help="Customer plan (the tickets' meta 'plan'); * for any.")
@click.option("--first-response", "first_response", type=click.IntRange(1, 366 * 24 * 60), required=True,
              help="Minutes to the first response.")
@click.option("--resolution", type=click.IntRange(1, 366 * 24 * 60), required=True, help="Minutes to resolution.")
@click.option("--business-hours", "hours", default=None,
              help="Open hours such as 'Mon-Fri 09:00-17:00': the clocks run only then (default: around the clock).")
@click.option("--timezone", "zone", default=None, help="IANA time zone of --business-hours (default UTC).")
@click.option("--by", "updated_by", default=None, help="Who made the change (kept with the policy).")
def sla_set(priority, plan, first_response, resolution, hours, zone, updated_by):
    """Set the targets for PRIORITY (the desk's label, or P1-P4) and --plan."""
    from triage import sla as policies

    with open_runtime().db.session() as session:
        row = policies.view(policies.set_policy(session=session, plan=plan, priority=priority,
                                                first_response_minutes=first_response, resolution_minutes=resolution,
                                                business_hours=hours, timezone=zone, updated_by=updated_by))
    within = f" of business hours ({row['business_hours']} {row['timezone']})" if row["business_hours"] else ""
    click.echo(f"plan {row['plan']!r}, priority {row['priority']!r}: first response within "
               f"{_duration(row['first_response_minutes'])}, resolution within {_duration(row['resolution_minutes'])}"
               f"{within} (tickets triaged from now on: a running service applies it within seconds)")


@sla.command("delete")
@click.argument("priority")
@click.option("--plan", default="*", show_default=True)
def sla_delete(priority, plan):
    """Remove the policy for PRIORITY and --plan."""
    from triage import sla as policies

    with open_runtime().db.session() as session:
        policies.delete_policy(session=session, plan=plan, priority=priority)
    click.echo(f"plan {plan!r}, priority {priority!r}: policy removed")


@click.command("queue")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the queue as JSON.")
def queue(limit, as_json):
    """Open tickets, riskiest for their SLA first: breached first, then the time left to the
    running clock weighed by priority."""
    from triage import sla as policies

    with open_runtime().db.session() as session:
        found = policies.queue(session=session, limit=limit)
    if as_json:
        click.echo(json.dumps(found, indent=1))
        return
    click.echo(f"{found['total']} open tickets with an SLA clock")
    for item in found["items"]:
        left = item["minutes_left"]
        when = f"breached {_duration(int(-left))} ago" if left < 0 else f"{_duration(int(left))} left"
        click.echo(f"#{item['ticket_id']:<7} {item['priority'] or '-':<10} {item['clock']:<15} {when:<20} "
                   f"{(item['subject'] or '')[:60]}")
