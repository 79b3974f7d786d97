"""How the ``kbtriage`` commands show their results: the summaries and tables printed to the
terminal for the reports, API keys and routing policy, and the writing of a full report as JSON.

Each function takes the result its command built and only prints (or writes) it."""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from common.files import BadFile, write_atomically


def write_json(out_path, result) -> None:
    """The full report, as indented JSON, in the file --out names: written whole or not at all (an
    earlier report there stays as it was); a path that cannot be written is named, exit status 2."""
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as a plain open() makes it, not the temporary file's 0600

    if str(out_path).endswith(("/", os.sep)):  # Path() would drop the slash and write a file of that name
        raise BadFile(f"{out_path}: names a folder; give the report's file name (e.g. {out_path}report.json)",
                      field="--out")
    folder = Path(out_path).parent
    if not folder.is_dir():
        raise BadFile(f"{out_path}: no folder {str(folder)!r} to write it in", field="--out")
    try:
        write_atomically(Path(out_path), write)
    except OSError as exc:
        raise BadFile(f"{out_path}: cannot be written: {exc.strerror or exc}", field="--out") from exc


def echo_gaps(result: dict) -> None:
    """The content-gap clusters of ``kbtriage gaps``, one block per cluster."""
    older = result["candidates"] - result["clustered"]
    click.echo(f"{result['candidates']} candidate tickets, {len(result['clusters'])} clusters"
               + (f" (the newest {result['clustered']} clustered; {result['assigned']} of the {older} older ones "
                  f"joined a cluster)" if older else ""))
    for n, c in enumerate(result["clusters"], 1):
        near = c["nearest_article"]
        click.echo(f"{n:>2}. {c['size']:>4} tickets  latest {(c['latest'] or '')[:10]}  {c['proposed_title']!r}")
        click.echo(f"      terms: {', '.join(c['terms'])}")
        if near:
            click.echo(f"      nearest article: {near['article_id']} ({near['score']:.2f})")
        click.echo(f"      e.g. {c['representative_tickets'][0]['text'][:110]!r}")


def echo_surges(result: dict) -> None:
    """The surges under way of ``kbtriage surges``, one block per surge."""
    click.echo(f"{result['tickets_in_window']} tickets in the last {result['window_minutes']:g} min, "
               f"{len(result['surges'])} surges")
    for n, c in enumerate(result["surges"], 1):
        click.echo(f"{n:>2}. {c['size']:>4} tickets (about {c['expected']:g} expected)  since {c['first_seen'][:16]}  "
                   f"{c['proposed_title']!r}")
        click.echo(f"      terms: {', '.join(c['terms'])}; categories: {c['categories']}")
        if c["nearest_article"]:
            click.echo(f"      nearest article: {c['nearest_article']['article_id']} ({c['nearest_article']['score']:.2f})")


def echo_article_report(result: dict, limit: int) -> None:
    """The table of ``kbtriage article-report`` (its first LIMIT articles), the count of articles
    never suggested, and the near-duplicate pairs."""
    click.echo(f"{result['articles_total']} articles, {result['decisions']} decisions")
    click.echo(f"{'article':<32} {'suggested':>9} {'accepted':>8} {'rejected':>8} {'resolved':>8} {'rate':>6}")
    for r in result["articles"][:limit]:
        rate = "-" if r["resolution_rate"] is None else f"{r['resolution_rate']:.2f}"
        click.echo(f"{r['article_id'][:32]:<32} {r['suggested']:>9} {r['accepted']:>8} {r['rejected']:>8} "
                   f"{r['resolved']:>8} {rate:>6}")
    click.echo(f"never suggested: {len(result['never_suggested'])}")
    for pair in result["near_duplicates"]:
        a, b = pair["articles"]
        click.echo(f"near-duplicates ({pair['similarity']:.2f}): {a['article_id']} / {b['article_id']}")


def echo_triage_report(result: dict) -> None:
    """The summary of ``kbtriage triage-report``: live accuracies and hit rates, then the categories
    whose auto-routing is below its target or to watch (the first 15)."""
    def judged(row: dict) -> str:
        if not row["judged"]:
            return "no feedback yet"
        low, high = row["interval"]
        return f"{row['precision']:.3f} ({low:.3f}-{high:.3f}) over {row['judged']} judged"

    routes = result["routes"]
    click.echo(f"{result['decisions']} decisions: {routes.get('auto', 0)} auto-routed, {routes.get('review', 0)} "
               f"to review")
    click.echo(f"category accuracy: {judged(result['category_accuracy'])}")
    if result["calibration"]["judged"]:
        click.echo(f"calibration: ECE {result['calibration']['ece']:.3f} between stated confidence and live accuracy")
    auto = result["auto_route"]
    click.echo(f"auto-route precision: {judged(auto)} (target {auto['target_precision']})")
    click.echo(f"tier accuracy: {judged(result['tier_accuracy'])}")
    sug = result["suggestions"]
    if sug["answered_by_article"]:
        click.echo(f"suggestions: hit@1 {sug['hit@1']:.3f}, hit@3 {sug['hit@3']:.3f} over "
                   f"{sug['answered_by_article']} tickets an article answered")
    fcr = result["first_contact_resolution"]
    if fcr["tickets_with_outcome"]:
        click.echo(f"first-contact resolution: {fcr['rate']:.3f} of {fcr['tickets_with_outcome']} tickets")
    sla = result.get("sla") or {}
    if sla.get("tickets"):
        def attained(row: dict) -> str:
            parts = []
            for clock in ("first_response", "resolution"):
                c = row[clock]
                rate = "-" if c["attainment"] is None else f"{c['attainment']:.3f}"
                parts.append(f"{clock.replace('_', ' ')} {rate} ({c['met']} met, {c['breached']} breached, "
                             f"{c['running']} running)")
            return "; ".join(parts)

        click.echo(f"SLA over {sla['tickets']} tickets: {attained(sla)}")
        for row in sla["priorities"]:
            click.echo(f"  {row['level']}: {row['tickets']} tickets, {attained(row)}")
    flagged = [row for status in ("below_target", "watch") for row in result["categories"]
               if row["auto_route"]["status"] == status]
    for row in flagged[:15]:
        click.echo(f"{row['auto_route']['status'].replace('_', ' ')}: category '{row['category']}' auto-routed "
                   f"{judged(row['auto_route'])}, target {row['auto_route']['target_precision']}")
    if len(flagged) > 15:
        click.echo(f"... and {len(flagged) - 15} more below target or to watch (--out FILE has them all)")


def echo_api_keys(rows: list[dict]) -> None:
    """One line per API key (as ``access.view`` shows it) for ``kbtriage api-key list``."""
    if not rows:
        click.echo("no API keys: the API is open unless KBTRIAGE_REQUIRE_API_KEY is set")
    for r in rows:
        if r["state"] == "revoked":
            state = f"revoked {r['revoked_at'][:19]}"
        elif r["state"] == "expired":
            state = f"expired {r['expires_at'][:19]}"
        else:
            state = f"active  expires {r['expires_at'][:19]}" if r["expires_at"] else "active"
        used = f"  last used {r['last_used_at'][:16]}" if r["last_used_at"] else "  never used"
        click.echo(f"{r['name']:<24} {r['role']:<7} {r['prefix']}...  created {r['created_at'][:19]}  {state}{used}")


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _echo_escalation(esc: dict | None) -> None:
    """The top priority's auto-escalation (GET /v1/routing's ``priority.escalation``): its target,
    threshold, and the precision and coverage it reaches on validation tickets, or why it is off."""
    if not esc:
        click.echo("  escalation: none in this version")
        return
    label = esc.get("label") or "-"
    rule = " (rule)" if esc.get("rule") else ""
    if esc.get("threshold") is None:
        click.echo(f"  escalation of {label}{rule}: no threshold ({esc.get('basis')})")
        return
    click.echo(f"  escalation of {label}{rule}: target precision {_fmt(esc.get('target_precision'))}, threshold "
               f"{_fmt(esc['threshold'])}, on validation tickets precision {_fmt(esc.get('precision'))}, coverage "
               f"{_fmt(esc.get('coverage'))} of {esc.get('support')} (predicted {esc.get('predicted')}, "
               f"basis {esc.get('basis')})")


def echo_routing_policy(view: dict, part: str | None, live: dict) -> None:
    """The policy in force, one table per part (or only PART), for ``kbtriage routing show``; LIVE
    holds the live auto-route precision per category."""
    click.echo(f"model version {view['model_version']}, default target precision {view['default_target_precision']}")
    for name in [part] if part else ["category", "tier", "priority"]:
        table = view[name]
        if not table:
            click.echo(f"{name}: no model")
            continue
        click.echo(f"{name}: validation precision {_fmt(table['precision'])}, coverage {_fmt(table['coverage'])}")
        width = max([len(label) for label in table["classes"]] + [5])
        click.echo(f"  {'label':<{width}} {'target':>6} {'basis':>11} {'threshold':>9} {'predicted':>9} "
                   f"{'precision':>9} {'coverage':>8}" + ("   live precision (judged)" if name == "category" and live else ""))
        for label, row in sorted(table["classes"].items()):
            target = "off" if row.get("basis") == "off" else _fmt(row.get("target_precision"))
            mark = "*" if row.get("rule") else " "
            now = live.get(label) if name == "category" else None
            seen = f"   {_fmt(now['precision'])} ({now['judged']}) {now['status']}" if now and now["judged"] else ""
            click.echo(f"{mark} {label:<{width}} {target:>6} {row.get('basis', ''):>11} {_fmt(row.get('threshold')):>9} "
                       f"{row.get('predicted', ''):>9} {_fmt(row.get('precision')):>9} {_fmt(row.get('coverage')):>8}"
                       + seen)
        if name == "priority":
            _echo_escalation(table.get("escalation"))
    if view["rules"]:
        click.echo("* a routing rule applies")
