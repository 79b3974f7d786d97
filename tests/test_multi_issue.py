"""Several issues in one ticket: where a ticket is cut, a split proposed with each part decided as a
ticket of its own (API, CLI), and a ticket about one problem left whole."""
from __future__ import annotations

import csv
import io

import numpy as np
from click.testing import CliRunner

from cli.main import main
from triage import multi_issue

TWO_REQUESTS = ("I can't log in with SSO, it loops back to the sign-in page after Okta approves me.\n\n"
                "Also, I was charged twice for this month's invoice, please refund the extra charge.")
LISTED = ("Two things:\n1. The mobile app crashes when I open a project on Android.\n"
          "2. How do I export all our tasks to CSV?")
ONE_PROBLEM = ("Calendar not updating\nHi,\n\nI changed due dates in Northdeck this morning and Google Calendar "
               "still shows the old dates. It has been four hours now. How often does the sync refresh? We rely "
               "on the calendar for our deadlines.\n\nThanks,\nMaria")


def test_a_ticket_is_cut_into_units_that_say_how_strongly_they_start_something_new():
    found = multi_issue.units("Subject line here\nHello,\nMy card was declined. Also my app crashes on start.\n\n"
                              "1. first point is this\n2. second point is that")
    assert [(u.text, u.strong) for u in found] == [
        ("Subject line here", False), ("Hello,", False), ("My card was declined.", False),
        ("Also my app crashes on start.", True), ("first point is this", True), ("second point is that", True)]
    assert found[0].summary and found[0].words == 0 and found[1].words == 0  # decide nothing
    inner = multi_issue.units("My transfer failed and also my card is blocked")
    assert [u.text for u in inner] == ["My transfer failed", "also my card is blocked"] and inner[1].strong


def test_two_requests_are_split_and_each_part_decided_on_its_own(trained_runtime):
    two, listed, one = trained_runtime.engine.decide([TWO_REQUESTS, LISTED, ONE_PROBLEM])
    assert two["multi_issue"] and [p["category"] for p in two["parts"]] == ["login_sso", "billing"]
    assert two["parts"][1]["text"].startswith("Also, I was charged twice")
    assert all(p["suggestions"] and p["priority"] for p in two["parts"])
    assert "2 requests in one ticket: 'login_sso', 'billing'" in two["reason"]
    assert listed["multi_issue"] and [p["category"] for p in listed["parts"]] == ["mobile_app", "data_export"]
    assert not one["multi_issue"] and one["parts"] == [] and one["category"] == "integrations"


def test_a_part_of_one_unit_is_decided_from_the_units_vector_as_if_sent_alone(trained_runtime):
    """The split encodes the units once; a part that is one unit is not encoded again, and its
    decision is the one its text gets when triaged on its own."""
    engine = trained_runtime.engine
    encoded: list[str] = []
    encode, encode_tickets = engine.encode, engine.encode_tickets
    engine.encode = lambda texts: encoded.extend(texts) or encode(texts)
    engine.encode_tickets = lambda texts: encoded.extend(texts) or encode_tickets(texts)
    try:
        [two] = engine.decide([TWO_REQUESTS])
    finally:
        del engine.encode, engine.encode_tickets
    parts = [p["text"] for p in two["parts"]]
    assert len(parts) == 2 and all(len(multi_issue.units(p)) == 1 for p in parts)  # one unit each
    # the ticket, then its units, once each; no part again
    assert encoded == [TWO_REQUESTS, *(u.text for u in multi_issue.units(TWO_REQUESTS))]
    alone = engine.decide(parts, split=False)
    for part, own in zip(two["parts"], alone):
        assert part["category"] == own["category"] and part["priority"] == own["priority"]
        assert abs(part["category_confidence"] - own["category_confidence"]) < 1e-4
        assert [s["article_id"] for s in part["suggestions"]] == [s["article_id"] for s in own["suggestions"]]


def test_the_split_comes_through_the_api_and_is_stored_with_the_decision(client):
    r = client.post("/v1/triage", json={"subject": "Two problems", "body": TWO_REQUESTS})
    assert r.status_code == 201
    d = r.get_json()
    assert d["multi_issue"] and len(d["parts"]) == 2
    stored = client.get(f"/v1/triage/{d['id']}").get_json()
    assert stored["multi_issue"] and stored["parts"] == d["parts"]
    single = client.post("/v1/triage", json={"body": ONE_PROBLEM}).get_json()
    assert single["multi_issue"] is False and single["parts"] == []


def test_kbtriage_triage_writes_multi_issue_and_the_parts_categories(trained_runtime):
    env = {"KBTRIAGE_HOME": str(trained_runtime.settings.home), "DATABASE_URL": trained_runtime.settings.database_url}
    rows = io.StringIO()
    writer = csv.DictWriter(rows, fieldnames=["text"])
    writer.writeheader()
    writer.writerows([{"text": TWO_REQUESTS}, {"text": ONE_PROBLEM}])
    result = CliRunner().invoke(main, ["triage", "-", "--text-column", "text"], input=rows.getvalue(), env=env)
    assert result.exit_code == 0, result.output
    out = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["multi_issue"], r["parts"]) for r in out] == [("true", "login_sso;billing"), ("false", "")]


# A long first problem told with context, then a short second one announced by "Also, unrelated:".
LONG_THEN_ANNOUNCED = ("Board is slow\nI'm covering for our admin this week, so bear with me. Since Monday nobody in our office "
                       "can open the Roadmap board, it spins for a minute and then shows ERR-503. The status page says "
                       "everything is fine. We restarted laptops and tried two browsers.\n\n"
                       "Also, unrelated: I deactivated a user and the next day they were active again. Why?")
CHAT_ANNOUNCED = ("Chat with Camille\nCamille: Moving a card on our main board takes 3-4 seconds to register.\n"
                  "Camille: Everyone on the team has the same since last week.\n"
                  "Camille: One more thing - how do we delete our workspace and all data?\nCamille: We're not using it anymore.")
# One problem wrapped in pressure and a signature, and one whose PS adds to the same problem.
ONE_PROBLEM_PRESSED = ("Outlook calendar sync\nWe use Outlook and Exchange for everything. Is there a two-way sync so moving a "
                       "meeting in Outlook updates the due date in Northdeck? Right now people copy dates by hand and they "
                       "drift.\n\nWe pay for Business and this is not acceptable.\n\nReply ASAP.\n\nSam Lindqvist, Paloma Travel")
ONE_PROBLEM_PS = ONE_PROBLEM.replace("Thanks,", "PS: the Google Calendar sync also missed the cards I created yesterday.\n\n"
                                                "Thanks,")


def test_words_that_announce_another_matter_start_a_part_and_context_lines_ask_nothing():
    for opener in ("PS: ", "P.S. ", "Also, unrelated: ", "One more thing - ", "Second question: ",
                   "And while I have you: ", "Also (different issue): ", "On a separate note, "):
        found = multi_issue.units(f"My card was declined at the shop today. {opener}how do I change my email address?")
        assert [u.announced for u in found] == [False, True] and found[1].strong, opener
    plain = multi_issue.units("My card was declined. Also my app crashes on start.")
    assert plain[1].strong and not plain[1].announced  # "also" alone may go on about the same problem
    chat = multi_issue.units("Ana: the export is stuck\nAna: One more thing - how do I add a guest?")
    assert [u.announced for u in chat] == [False, True]
    for line in ("We pay for Business and this is not acceptable.", "Reply ASAP.", "Please escalate.",
                 "For context I'm not very technical.", "Sam Lindqvist, Paloma Travel", "Dmitri Park, Quartzline Engineering"):
        assert multi_issue.Unit(line, True).words == 0, line
    for line in ("Please escalate this, the import lost our data.", "Last Saturday, I was charged twice."):
        assert multi_issue.Unit(line, True).words > 0, line


def test_a_short_announced_second_problem_after_a_long_first_one_is_split_a_ramble_is_not(trained_runtime):
    announced, chat, pressed, same_ps = trained_runtime.engine.decide(
        [LONG_THEN_ANNOUNCED, CHAT_ANNOUNCED, ONE_PROBLEM_PRESSED, ONE_PROBLEM_PS])
    assert announced["multi_issue"] and [p["category"] for p in announced["parts"]] == ["performance", "account_admin"]
    assert announced["parts"][1]["text"].startswith("Also, unrelated: I deactivated a user")
    assert chat["multi_issue"] and [p["category"] for p in chat["parts"]] == ["performance", "account_admin"]
    assert "One more thing" in chat["parts"][1]["text"]
    for one in (pressed, same_ps):
        assert not one["multi_issue"] and one["parts"] == [] and one["category"] == "integrations"


def test_units_read_in_context_come_from_the_tickets_own_encoding(trained_runtime):
    """One vector per unit from the whole ticket's word-piece states, at no extra encoding; none
    for a unit that is not the ticket's own characters or lies past the token limit."""
    engine, encoder = trained_runtime.engine, trained_runtime.encoder
    found = multi_issue.units(TWO_REQUESTS)
    vectors, [states] = encoder.encode_token_states([TWO_REQUESTS])
    np.testing.assert_array_equal(vectors, encoder.encode([TWO_REQUESTS]))  # the same run's vectors
    assert states.states.shape == (len(states.spans), vectors.shape[1]) and not states.cut
    read = multi_issue.in_context(TWO_REQUESTS, found, states)
    assert read.shape == (len(found), vectors.shape[1])
    np.testing.assert_allclose(np.linalg.norm(read, axis=1), 1.0, atol=1e-5)
    # The category model reads the two requests apart, as it does their own encodings.
    cat = engine.current()[1].category_model
    texts = [u.text for u in found]
    for vecs in (read, engine.encode(texts)):
        proba = cat.predict_proba_features(cat.features_.transform(texts, vecs), vecs)
        assert list(cat.classes_[proba.argmax(axis=1)]) == ["login_sso", "billing"]
    # A character the tokenizer drops at the end is no cut; a text past the token limit is.
    assert multi_issue.in_context(TWO_REQUESTS + "\u200b", found,
                                  encoder.encode_token_states([TWO_REQUESTS + "\u200b"])[1][0]) is not None
    long = "My card was declined at the shop today. " * 40 + "Also, how do I export tasks to CSV?"
    [cut] = encoder.encode_token_states([long])[1]
    assert cut.cut and multi_issue.in_context(long, multi_issue.units(long), cut) is None
    # Past MAX_UNITS the last lines are joined into one unit, which is not the ticket's own characters.
    lines = "\n".join(f"Line {n} of the form asks about the printer." for n in range(multi_issue.MAX_UNITS + 2))
    assert multi_issue.in_context(lines, multi_issue.units(lines), encoder.encode_token_states([lines])[1][0]) is None
    # The engine reads in context only tickets of IN_CONTEXT_MIN_UNITS units, two of which may ask something.
    four = TWO_REQUESTS + "\n\nThe export to CSV also misses the comments column. Our auditors need those comments."
    assert len(multi_issue.units(four)) == multi_issue.IN_CONTEXT_MIN_UNITS
    _, read = engine.encode_tickets([TWO_REQUESTS, "", four])
    assert read[0] is None and read[1] is None and read[2].shape == (len(multi_issue.units(four)), vectors.shape[1])
    [blank, decided] = engine.decide(["", four], in_context=read[1:])  # a blank text keeps the others' places
    assert blank["category"] is None and decided["category"] is not None


def test_only_tickets_their_units_in_context_would_cut_have_their_units_encoded(trained_runtime):
    """The in-context reading decides which tickets get their units encoded alone: most one-problem
    tickets are spared, and every split the units' own encodings keep is still made."""
    from application.demo import DEMO_DIR, demo_records
    from triage.tables import ticket_text

    engine = trained_runtime.engine
    records = demo_records()[700:1000]
    texts = [ticket_text(r["subject"], r["body"]) for r in records]
    vectors, read = engine.encode_tickets(texts)
    ungated = engine.decide(texts, vectors=vectors)  # nothing read in context: every ticket's units encoded
    gated = engine.decide(texts, vectors=vectors, in_context=read)
    found = {i: multi_issue.units(t) for i, t in enumerate(texts)}
    candidates = {i: u for i, u in found.items() if multi_issue.may_split(u)}
    _, bundle = engine.current()
    spared = set(candidates) - set(engine._might_split(candidates, bundle.category_model, read))
    assert len(spared) > 0.5 * len(candidates)
    # Against the demo's marks (tickets.csv `parts`: the tickets that raise a second problem): the
    # same marked tickets are split, and no more unmarked ones.
    with open(DEMO_DIR / "tickets.csv", encoding="utf-8", newline="") as fh:
        marks = {r["ticket_id"]: bool(r["parts"]) for r in csv.DictReader(fh)}
    marked = {i for i, r in enumerate(records) if marks[r["external_id"]]}
    split = {i for i, d in enumerate(ungated) if d["multi_issue"]}
    gated_split = {i for i, d in enumerate(gated) if d["multi_issue"]}
    assert split & marked and gated_split & marked == split & marked
    assert len(gated_split - marked) <= len(split - marked)
    for a, b in zip(ungated, gated):
        assert b["multi_issue"] <= a["multi_issue"] and (not b["multi_issue"] or b["parts"] == a["parts"])
        assert {key: a[key] for key in a if key not in ("multi_issue", "parts", "reason")} == {
            key: b[key] for key in b if key not in ("multi_issue", "parts", "reason")}


def test_the_parts_depend_only_on_the_units_that_may_ask_something():
    """group reads the rows of multi_issue.asking's units only, so the engine encodes and reads no
    other unit: any other rows give the same parts (every demo ticket that may split, random
    readings of its units)."""
    from application.demo import demo_records
    from triage.tables import ticket_text

    rng = np.random.default_rng(3)
    checked = 0
    for r in demo_records():
        found = multi_issue.units(ticket_text(r["subject"], r["body"]))
        if not multi_issue.may_split(found) or len(multi_issue.asking(found)) == len(found):
            continue
        for _ in range(3):
            proba = rng.dirichlet(np.full(6, 0.3), size=len(found))
            other = rng.dirichlet(np.full(6, 0.3), size=len(found))
            other[multi_issue.asking(found)] = proba[multi_issue.asking(found)]
            assert multi_issue.group(found, proba) == multi_issue.group(found, other)
            assert multi_issue.group(found, proba, 0.6) == multi_issue.group(found, other, 0.6)
        checked += 1
    assert checked > 100


def test_greetings_and_sign_offs_are_not_encoded_for_the_split(trained_runtime):
    engine = trained_runtime.engine
    ticket = f"Hi team,\n\n{TWO_REQUESTS}\n\nThanks,\nLeila Walsh, Atlas Freight Co"
    encoded: list[str] = []
    encode = engine.encode
    engine.encode = lambda texts: encoded.extend(texts) or encode(texts)
    try:
        [with_greeting] = engine.decide([ticket], in_context=[None])
    finally:
        del engine.encode
    found = multi_issue.units(ticket)
    fillers = [u.text for u in found if u.words < multi_issue.MIN_WORDS]
    assert fillers == ["Hi team,", "Thanks,", "Leila Walsh, Atlas Freight Co"]
    asking = [found[i].text for i in multi_issue.asking(found)]
    # The units that may ask, then the parts of several units (the greeting and sign-off with theirs).
    assert encoded[:len(asking)] == asking and not set(fillers) & set(encoded)
    assert encoded[len(asking):] == [p["text"] for p in with_greeting["parts"]]
    [plain] = engine.decide([TWO_REQUESTS])
    assert with_greeting["multi_issue"] and [p["category"] for p in with_greeting["parts"]] == ["login_sso", "billing"]
    assert [p["category"] for p in plain["parts"]] == ["login_sso", "billing"]
