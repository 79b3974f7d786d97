"""The web console in a real browser: Debian's Chromium, headless, driven by Playwright the way a
person uses the pages (by role and label), against the service on a real socket."""
import re
import threading

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select
from werkzeug.serving import make_server

from api.app import create_app
from application import access
from models import jobs, registry
from tests.conftest import demo_runtime
from triage import sla
from triage.tables import FeedbackEvent

# What a browser shows and does is the same on either engine: the PostgreSQL pass runs only the test whose
# double click sends one idempotency key twice at once (the unique-constraint path is the engine's).
ONE_ENGINE = pytest.mark.engine_independent

CHROMIUM = "/usr/bin/chromium"
# As the machine's own probe starts it: no sandbox as root, and no background connections, which
# this machine's closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    rt = demo_runtime(tmp_path_factory.mktemp("browser"), 300)
    server = make_server("127.0.0.1", 0, create_app(runtime=rt, start_worker=False), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rt, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    rt.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


def feedback_count(rt, **where) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(FeedbackEvent).where(
            *[getattr(FeedbackEvent, k) == v for k, v in where.items()]))


def gap_candidates(page, base: str) -> int:
    page.goto(f"{base}/console/gaps")
    return int(re.search(r"(\d+) candidate tickets", page.get_by_role("main").inner_text()).group(1))


def triage_pasted(page, base: str, body: str, subject: str = "") -> int:
    page.goto(f"{base}/console/")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Ticket text").fill(body)
    page.get_by_role("button", name="Triage").click()
    page.wait_for_url(re.compile(r"/console/decisions/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_an_agent_triages_rejects_accepts_and_corrects_and_the_reports_show_it(service, page):
    rt, base = service
    candidates_before = gap_candidates(page, base)

    decision_id = triage_pasted(page, base, "I was charged twice for one card payment yesterday, please refund",
                                subject="Charged twice")
    expect(page.get_by_role("heading", name="Charged twice")).to_be_visible()
    suggestions = page.locator("article.suggestion")
    assert suggestions.count() >= 2
    first = suggestions.nth(0).locator("h3 .muted").inner_text().split(" · ")[0]
    second = suggestions.nth(1).locator("h3 .muted").inner_text().split(" · ")[0]

    suggestions.nth(0).get_by_label("Reason").select_option("not_related")
    suggestions.nth(0).get_by_role("button", name=re.compile("^Reject")).click()
    expect(page.get_by_role("status")).to_contain_text(f"Rejected article {first} (not_related)")
    # A rejected suggestion makes the ticket a content-gap candidate for the editors...
    assert gap_candidates(page, base) == candidates_before + 1
    page.goto(f"{base}/console/decisions/{decision_id}")

    suggestions.nth(1).get_by_role("button", name=re.compile("^Accept")).dblclick()  # a double click
    expect(page.get_by_role("status").first).to_contain_text(f"Accepted article {second}")

    current = page.get_by_label("Category").input_value()
    other = next(v for v in page.get_by_label("Category").locator("option").all_inner_texts() if v != current)
    page.get_by_label("Category").select_option(other)
    page.get_by_role("button", name="Correct category").click()
    expect(page.get_by_role("status")).to_contain_text(f"Category corrected to {other}")
    history = page.get_by_test_id("feedback-history")
    for line in (f"rejected {first} (not related)", f"accepted {second}", f"category corrected → {other}"):
        expect(history).to_contain_text(line)
    assert feedback_count(rt, decision_id=decision_id, kind="accepted") == 1  # one event for the double click

    # The editor's pages show what the agent did.
    page.goto(f"{base}/console/articles")
    report = page.get_by_test_id("article-report")
    rejected_row = report.get_by_role("row").filter(has_text=first)
    expect(rejected_row).to_be_visible()
    headers = report.get_by_role("columnheader").all_inner_texts()
    cells = rejected_row.get_by_role("cell").all_inner_texts()
    assert int(cells[headers.index("Rejected: not related")]) >= 1
    accepted_cells = report.get_by_role("row").filter(has_text=second).get_by_role("cell").all_inner_texts()
    assert int(accepted_cells[headers.index("Accepted")]) >= 1
    expect(page.get_by_test_id("triage-summary")).to_contain_text("(1 corrected)")
    expect(page.get_by_test_id("triage-summary")).to_contain_text("not related 1")
    # ... until an article answered it after all.
    assert gap_candidates(page, base) == candidates_before
    assert page.dialogs == []


@ONE_ENGINE
def test_keyboard_shortcuts_act_on_the_decision(service, page):
    rt, base = service
    decision_id = triage_pasted(page, base, "The mobile app crashes when I open a card's attachments")
    page.keyboard.press("e")  # takes the focus to Escalate, and does nothing yet
    expect(page.get_by_role("button", name="Escalate")).to_be_focused()
    assert feedback_count(rt, decision_id=decision_id, kind="escalated") == 0
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Escalated.")
    assert feedback_count(rt, decision_id=decision_id, kind="escalated") == 1
    # The page after the post shows the status as soon as it is parsed; its deferred script, which
    # binds the shortcuts, runs just before DOMContentLoaded (on a busy machine, noticeably later).
    page.wait_for_load_state("domcontentloaded")
    page.keyboard.press("c")
    expect(page.get_by_label("Category")).to_be_focused()


@ONE_ENGINE
def test_hostile_ticket_text_shows_as_text_and_runs_nothing(service, page):
    _, base = service
    triage_pasted(page, base, HOSTILE + " my payment was declined", subject=HOSTILE)
    expect(page.get_by_test_id("ticket-text")).to_contain_text("<script>alert(1)</script><img src=x onerror=alert(2)>")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE)
    page.goto(f"{base}/console/")
    expect(page.get_by_role("link", name=HOSTILE).first).to_be_visible()
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert page.dialogs == []


@ONE_ENGINE
def test_an_agent_cannot_open_the_lead_pages_and_forms_need_their_token(service, page):
    rt, base = service
    with rt.db.session() as s:
        _, key = access.create(session=s, name="amy", role="agent")
    try:
        page.goto(f"{base}/console/models")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        expect(page.get_by_role("main")).to_contain_text("has role 'agent'; this needs 'admin'")
        page.goto(f"{base}/console/")
        nav = page.get_by_role("navigation", name="Console")
        expect(nav.get_by_role("link", name="Queue")).to_be_visible()
        expect(nav.get_by_role("link", name="Models")).to_have_count(0)
        expect(nav.get_by_role("link", name="Routing")).to_have_count(0)
        page.goto(f"{base}/console/routing")
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()

        # The same form with its CSRF token taken out is refused, and nothing is triaged.
        page.goto(f"{base}/console/")
        page.evaluate("document.querySelector('form[action$=\"/console/triage\"] input[name=csrf_token]').remove()")
        page.get_by_label("Ticket text").fill("this should not be triaged")
        page.get_by_role("button", name="Triage").click()
        expect(page.get_by_role("heading", name="Bad request")).to_be_visible()
        page.goto(f"{base}/console/")
        expect(page.get_by_role("link", name="this should not be triaged")).to_have_count(0)
    finally:
        with rt.db.session() as s:
            access.revoke(session=s, name="amy")


@ONE_ENGINE
def test_pages_work_at_a_phone_width(service, browser):
    _, base = service
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        triage_pasted(page, base, "How do I turn off the email notifications for my boards?")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width  # no sideways scrolling of the page itself
        expect(page.get_by_role("button", name="Escalate")).to_be_visible()
    finally:
        context.close()


@ONE_ENGINE
def test_a_lead_confirms_before_a_rollback_and_follows_a_training_job(service, browser):
    rt, base = service
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    answers = []  # what the person answers to each confirmation, in order
    try:
        page = context.new_page()
        page.on("dialog", lambda d: d.accept() if answers.pop(0) else d.dismiss())
        with rt.db.session() as s:
            versions = [v.id for v in registry.list_versions(session=s)]
        page.goto(f"{base}/console/models")
        answers.append(False)  # changes their mind
        page.get_by_role("button", name="Train").click()
        page.wait_for_timeout(300)
        with rt.db.session() as s:
            assert jobs.pending(session=s) is None  # nothing queued without the confirmation
        answers.append(True)
        page.get_by_role("button", name="Train").click()
        expect(page.get_by_role("status")).to_contain_text("Training job")
        with rt.db.session() as s:
            job = jobs.pending(session=s)
        assert job is not None and job.trigger == "console"
        expect(page.locator("[data-job-status]")).to_have_text("queued")
        # A worker picks the job up; the page follows its progress without a reload by hand.
        from application.worker import Worker

        Worker(rt).run_once()
        expect(page.locator("[data-job-status]")).to_have_count(0, timeout=20000)  # done: the page reloaded
        with rt.db.session() as s:
            assert len(registry.list_versions(session=s)) == len(versions) + 1
    finally:
        context.close()


@ONE_ENGINE
def test_an_editor_writes_an_article_for_a_content_gap(service, browser):
    rt, base = service
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.on("dialog", lambda d: d.accept())
        page.goto(f"{base}/console/gaps")
        cluster = page.locator("article.card").first
        proposed = cluster.get_by_role("heading").inner_text().rsplit(" ", 2)[0]  # "<title> N tickets"
        cluster.get_by_role("link", name="Write an article for these tickets").click()
        expect(page.get_by_label("Title")).to_have_value(proposed)
        expect(page.get_by_label("Body (Markdown)")).to_have_value(re.compile("^Customers asked:"))
        page.get_by_label("Id").fill("gap-answer-1")
        page.get_by_label("Body (Markdown)").press("End")
        page.get_by_label("Body (Markdown)").type("Open Settings, then Integrations, and turn on two-way sync.")
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_role("heading", name=re.compile("^Preview"))).to_be_visible()
        expect(page.locator("blockquote.passage").first).to_contain_text("Customers asked")
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_role("status")).to_contain_text("Article gap-answer-1 created and indexed")
        expect(page.get_by_role("heading", level=1)).to_have_text("Edit article gap-answer-1")
        page.get_by_role("button", name="Delete article").click()  # confirmed
        expect(page.get_by_role("status")).to_contain_text("Article gap-answer-1 deleted")
    finally:
        context.close()


@ONE_ENGINE
def test_pictures_and_the_markdown_preview_show_within_the_content_security_policy(service, page):
    rt, base = service
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    decision_id = triage_pasted(page, base, "the mobile app crashes when I open a board")
    from triage.tables import TriageDecision

    with rt.db.session() as s:
        d = s.get(TriageDecision, decision_id)
        d.route = "auto"  # as an intake system's auto-routed ticket
        category = d.category
        s.commit()
    page.goto(f"{base}/console/routing")
    expect(page.get_by_role("img", name=f"Live precision of {category} per week")).to_be_visible()
    expect(page.get_by_role("img", name="Reliability of the stated category confidence")).to_be_visible()
    page.goto(f"{base}/console/models")
    curve = page.get_by_role("img", name=re.compile("^Validation figures of each model version"))
    expect(curve).to_be_visible()
    assert curve.bounding_box()["width"] > 300  # drawn at its size, not collapsed
    page.goto(f"{base}/console/gaps")
    expect(page.get_by_role("img", name=re.compile("^Tickets per week: ")).first).to_be_visible()

    page.goto(f"{base}/console/articles/new")
    page.get_by_label("Id").fill("preview-only")
    page.get_by_label("Title").fill("Reset a password")
    page.get_by_label("Body (Markdown)").fill("## Steps\n\n- Open **Settings**\n- Press `Reset`\n\n" + HOSTILE
                                              + " [x](javascript:alert(3))")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_test_id("markdown-preview")
    expect(preview.get_by_role("heading", name="Steps")).to_be_visible()
    expect(preview.get_by_role("listitem")).to_have_count(2)
    expect(preview).to_contain_text(HOSTILE)  # the text's own markup shows as text
    expect(preview.get_by_role("link")).to_have_count(0)
    assert page.dialogs == [] and refused == []  # nothing ran, nothing was refused


@ONE_ENGINE
def test_the_sla_queue_shows_the_clocks_and_responded_stops_the_first_response_clock(service, page):
    rt, base = service
    decision_id = triage_pasted(page, base, "Since this morning all our users cannot log in, nobody can work",
                                subject="Nobody can log in")
    expect(page.get_by_text("First response due")).to_be_visible()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="SLA").click()
    expect(page.get_by_role("heading", name="SLA queue")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Nobody can log in"))
    expect(row).to_contain_text("awaiting first response")
    expect(row).to_contain_text(re.compile(r"\d+ (min|h \d+ min|d \d+ h) left"))
    row.get_by_role("button", name="Responded: Nobody can log in").click()
    expect(page.get_by_role("status")).to_contain_text("the first-response clock stopped")
    expect(row).to_contain_text("awaiting resolution")
    expect(row).to_contain_text("stopped, in time")
    expect(row.get_by_role("button", name=re.compile("^Responded"))).to_have_count(0)
    assert feedback_count(rt, decision_id=decision_id, kind="responded") == 1
    assert page.dialogs == []


@ONE_ENGINE
def test_an_admin_sets_business_hours_and_a_time_zone_on_an_sla_policy(service, page):
    rt, base = service
    page.goto(f"{base}/console/sla/policies")
    form = page.get_by_role("region", name="Set a policy")
    form.get_by_label("Plan").fill("browser-plan")
    form.get_by_label("Priority").fill("P3")
    form.get_by_label("First response (minutes)").fill("120")
    form.get_by_label("Resolution (minutes)").fill("960")
    form.get_by_label("Business hours").fill("Mon-Fri 08:00-16:00")
    form.get_by_label("Time zone").fill("Atlantis/Capital")
    form.get_by_role("button", name="Set policy").click()
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("unknown time zone 'Atlantis/Capital'")
    expect(zone).to_have_accessible_description(re.compile("unknown time zone"))
    expect(page.get_by_label("Business hours")).to_have_value("Mon-Fri 08:00-16:00")  # kept for the fix
    expect(page.get_by_test_id("sla-policy").filter(has_text="browser-plan")).to_have_count(0)

    zone.fill("America/New_York")
    page.get_by_role("button", name="Set policy").click()
    expect(page.get_by_role("status")).to_contain_text(
        "counted in business hours Mon-Fri 08:00-16:00 (America/New_York)")
    row = page.get_by_test_id("sla-policy").filter(has_text="browser-plan")
    headers = page.get_by_role("table", name="Policies stored").get_by_role("columnheader").all_inner_texts()
    cells = row.get_by_role("cell").all_inner_texts()
    assert (cells[headers.index("Business hours")], cells[headers.index("Time zone")]) == (
        "Mon-Fri 08:00-16:00", "America/New_York")
    with rt.db.session() as s:
        assert [(p["business_hours"], p["timezone"]) for p in map(sla.view, sla.policies(session=s))
                if p["plan"] == "browser-plan"] == [("Mon-Fri 08:00-16:00", "America/New_York")]
    row.get_by_role("button", name="Remove the policy of plan browser-plan, priority P3").click()
    expect(page.get_by_role("status")).to_contain_text("is removed")
    assert page.dialogs == []
