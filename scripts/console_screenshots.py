#!/usr/bin/env python3
"""Screenshots of every console page at a laptop's and a phone's width, into docs/console/.

Loads the demo help desk into a fresh data directory, triages a few tickets, records some feedback,
serves the console on a free port and drives Debian's Chromium (headless) through the pages.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/console_screenshots.py [--out docs/console]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
TICKETS = [
    ("Locked out after SSO change", "Since this morning the SSO login loops back to the sign-in page for our whole team."),
    ("Charged twice", "We were billed twice for the Business plan this month, please refund one of the charges."),
    ("Export to CSV", "How do I export all the cards of a board to a spreadsheet?"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from api.app import create_app
    from application.demo import load_demo
    from application.runtime import Runtime
    from common import config
    from triage import service as triage_service

    home = Path(tempfile.mkdtemp(prefix="kbt-shots-"))
    rt = Runtime(config.load({"home": home, "database_url": f"sqlite:///{home / 'kbt.db'}"})).start()
    load_demo(rt, force_train=False, echo=lambda m: None)
    with rt.db.session() as s:
        decisions = [triage_service.triage_ticket(session=s, engine=rt.engine, fields={"subject": sub, "body": body})[1].id
                     for sub, body in TICKETS]
    server = make_server("127.0.0.1", 0, create_app(runtime=rt, start_worker=False), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/console"
    pages = {"queue": "/", "decision": f"/decisions/{decisions[0]}", "gaps": "/gaps", "articles": "/articles",
             "models": "/models", "routing": "/routing", "sign-in": "/sign-in"}
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        for label, (width, height) in WIDTHS.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            for name, path in pages.items():
                page.goto(base + path)
                page.screenshot(path=str(args.out / f"{name}-{label}.png"), full_page=False)
                print(args.out / f"{name}-{label}.png")
            page.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
