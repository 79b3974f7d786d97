#!/usr/bin/env python3
"""Screenshots of every console page at a laptop's and a phone's width, into docs/console/.

Loads the demo help desk into a fresh data directory, triages a few tickets, and replays agents'
feedback on the last demo tickets as if they had been triaged when they arrived (decided at the
ticket's time, confirmed or corrected by its known category), so that the pictures have weeks to
show; then serves the console on a free port and drives Debian's Chromium (headless) through the pages.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/console_screenshots.py [--out docs/console] [--pages routing models]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ("queue", "decision", "gaps", "articles", "models", "routing", "sign-in")
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
TICKETS = [
    ("Locked out after SSO change", "Since this morning the SSO login loops back to the sign-in page for our whole team."),
    ("Charged twice", "We were billed twice for the Business plan this month, please refund one of the charges."),
    ("Export to CSV", "How do I export all the cards of a board to a spreadsheet?"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console")
    parser.add_argument("--pages", nargs="+", choices=PAGES, metavar="PAGE",
                        help=f"only these pages (default: every page): {', '.join(PAGES)}")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not only the first screen")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from api.app import create_app
    from application.demo import demo_records, load_demo
    from application.feedback import record_feedback
    from application.training import train
    from application.runtime import Runtime
    from common import config
    from triage import service as triage_service

    home = Path(tempfile.mkdtemp(prefix="kbt-shots-"))
    rt = Runtime(config.load({"home": home, "database_url": f"sqlite:///{home / 'kbt.db'}"})).start()
    load_demo(rt, force_train=False, echo=lambda m: None)
    with rt.db.session() as s:
        decisions = [triage_service.triage_ticket(session=s, engine=rt.engine, fields={"subject": sub, "body": body})[1].id
                     for sub, body in TICKETS]
        replay_feedback(rt, s, demo_records()[-REPLAYED:], record_feedback, triage_service)
        # A candidate trained with that feedback, beside the active version on the models page.
        train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings, promote="never")
    server = make_server("127.0.0.1", 0, create_app(runtime=rt, start_worker=False), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/console"
    pages = {"queue": "/", "decision": f"/decisions/{decisions[0]}", "gaps": "/gaps", "articles": "/articles",
             "models": "/models", "routing": "/routing", "sign-in": "/sign-in"}
    pages = {name: path for name, path in pages.items() if not args.pages or name in args.pages}
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        for label, (width, height) in WIDTHS.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            for name, path in pages.items():
                page.goto(base + path)
                page.screenshot(path=str(args.out / f"{name}-{label}.png"), full_page=args.full_page)
                print(args.out / f"{name}-{label}.png")
            page.close()
        browser.close()
    server.shutdown()


REPLAYED = 160  # the newest demo tickets, spread over their last weeks


def replay_feedback(rt, session, records, record_feedback, triage_service) -> None:
    """Triage ``records`` as if on arrival and record what an agent would have said: the category
    confirmed (resolved) when the decision had it right, else corrected to the known one."""
    from triage.tables import TriageDecision

    for rec in records:
        fields = {"subject": rec["subject"], "body": rec["body"], "created_at": rec["created_at"]}
        ticket, decision = triage_service.triage_ticket(session=session, engine=rt.engine, fields=fields)
        decision_id, predicted, arrived = decision.id, decision.category, ticket.created_at
        session.get(TriageDecision, decision_id).created_at = arrived
        session.commit()
        right = predicted == rec["category"]
        event = {"decision_id": decision_id, "kind": "resolved" if right else "category_corrected",
                 "value": None if right else rec["category"], "first_touch": True if right else None,
                 "agent_id": "demo"}
        record_feedback(session=session, settings=rt.settings, events=[event])


if __name__ == "__main__":
    main()
