"""The kbtriage command line through its console entry point, on a fresh database per test."""
import csv
import fcntl
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from tests.conftest import fresh_database_url


@pytest.fixture
def cli(tmp_path):
    env = {"KBTRIAGE_HOME": str(tmp_path / "home"), "DATABASE_URL": fresh_database_url(tmp_path)}
    runner = CliRunner()

    def run(*args, ok=True, input=None, catch=False):
        result = runner.invoke(main, [str(a) for a in args], env=env, input=input, catch_exceptions=catch)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_help_documents_every_command():
    out = subprocess.run([shutil.which("kbtriage") or sys.executable, "--help"] if shutil.which("kbtriage")
                         else [sys.executable, "-m", "cli.main", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for command in ("import-articles", "import-tickets", "train", "triage", "init-demo", "serve", "routing"):
        assert command in out
    sub = CliRunner().invoke(main, ["triage", "--help"]).output
    assert "suggested_articles" in sub and "--text-column" in sub


def test_banking77_import_train_triage_round_trip(cli, tmp_path, banking_rows, monkeypatch):
    rng = random.Random(3)
    by_cat: dict[str, list] = {}
    for row in banking_rows:
        by_cat.setdefault(row["category"], []).append(row)
    cats = sorted(by_cat)[:12]
    fit, held = [], []
    for c in cats:
        rows = by_cat[c][:]
        rng.shuffle(rows)
        fit += rows[:40]
        held += rows[40:45]
    # Rows without text (an export's blank lines) teach nothing: skipped, and named by row number
    blank = {"text": "  ", "category": cats[0]}
    write_csv(tmp_path / "fit.csv", fit[:4] + [blank] + fit[4:98] + [dict(blank, text="")] + fit[98:])
    write_csv(tmp_path / "held.csv", held + [dict(blank, text=" \n ")])
    assert "480 imported, 0 already present, 2 skipped with no text (rows 5, 100)" in cli(
        "import-tickets", tmp_path / "fit.csv", "--text-column", "text", "--category-column", "category").output
    out = cli("train").output
    report = json.loads(out[out.index("{"):out.rindex("}") + 1])
    assert report["status"] == "active" and report["report"]["category"]["validation"]["accuracy"] > 0.6
    cli("triage", tmp_path / "held.csv", "--text-column", "text", "--out", tmp_path / "pred.csv")
    with open(tmp_path / "pred.csv", newline="") as fh:
        pred = list(csv.DictReader(fh))
    assert len(pred) == len(held) + 1
    empty = pred.pop()  # the blank row: kept in the output, unclassified, for a person
    assert (empty["route"], empty["category"], empty["suggested_articles"], empty["gap"]) == ("review", "", "", "false")
    assert empty["reason"].startswith("empty ticket")
    for col in ("text", "category", "category_confidence", "tier", "tier_confidence", "route",
                "suggested_articles", "suggestion_scores", "gap"):
        assert col in pred[0]
    accuracy = sum(p["category"] == h["category"] for p, h in zip(pred, held)) / len(held)
    assert accuracy > 0.7

    # The file is triaged batch by batch as it is read; small batches give the same decisions, as JSONL
    cli("triage", tmp_path / "held.csv", "--text-column", "text", "--batch-size", "7", "--out", tmp_path / "p.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert [(r["text"], r["category"], r["route"], r["suggested_articles"]) for r in lines[:-1]] == [
        (p["text"], p["category"], p["route"], p["suggested_articles"]) for p in pred]
    assert [float(r["category_confidence"]) for r in lines[:-1]] == pytest.approx(
        [float(p["category_confidence"]) for p in pred], abs=1e-6)
    _triage_fails_half_way_and_loses_nothing(cli, tmp_path, monkeypatch)

    # Routing policy: one category's auto-routing off, applied to the next triage without retraining
    shown = cli("routing", "show", "--part", "category").output
    assert "default target precision 0.95" in shown and all(c in shown for c in cats)
    target = pred[0]["category"]
    assert "auto-routing off" in cli("routing", "set", "category", target, "--off", "--by", "lead").output
    policy = json.loads(cli("routing", "show", "--json").output)
    assert policy["rules"][0]["label"] == target and policy["category"]["classes"][target]["basis"] == "off"
    cli("triage", tmp_path / "held.csv", "--text-column", "text", "--out", tmp_path / "pred2.csv")
    with open(tmp_path / "pred2.csv", newline="") as fh:
        pred2 = list(csv.DictReader(fh))[:-1]
    mine = [p for p in pred2 if p["category"] == target]
    assert mine and all(p["route"] == "review" and f"auto-routing is off for category '{target}'" in p["reason"]
                        for p in mine)
    assert [p["category"] for p in pred2] == [p["category"] for p in pred]
    result = cli("routing", "set", "category", "no_such_category", "--precision", "0.9", ok=False)
    assert result.exit_code == 1 and "[label]" in result.output
    result = cli("routing", "set", "category", target, ok=False)
    assert result.exit_code == 1 and "--precision" in result.output
    assert "rule removed" in cli("routing", "reset", "category", target).output
    assert json.loads(cli("routing", "show", "--json").output)["rules"] == []


def _triage_fails_half_way_and_loses_nothing(cli, tmp_path, monkeypatch):
    """A run that stops half-way (here the second batch fails) leaves the earlier output file as it
    was, keeps the tickets it finished, and goes on from there with --resume when the input, the
    options and the model are unchanged; a malformed line is named before any ticket is triaged."""
    from triage.engine import TriageEngine

    pred, held = tmp_path / "pred.csv", tmp_path / "held2.csv"
    before = pred.read_bytes()
    umask = os.umask(0o022)
    os.umask(umask)
    assert pred.stat().st_mode & 0o777 == 0o666 & ~umask  # as a plain open() makes it
    held.write_bytes((tmp_path / "held.csv").read_bytes())
    with open(held, newline="") as fh:
        texts = [r["text"].strip() for r in csv.DictReader(fh)]
    decide, seen, fail_at = TriageEngine.decide, [], [texts[10]]

    def failing(self, batch, **kw):
        seen.extend(batch)
        if set(fail_at) & set(batch):
            os.kill(os.getpid(), signal.SIGTERM)  # as `kill` or a service manager stops the run
        return decide(self, batch, **kw)

    monkeypatch.setattr(TriageEngine, "decide", failing)
    result = cli("triage", held, "--batch-size", "10", "--out", pred, ok=False)
    assert result.exit_code == 1 and "stopped after 10 tickets; they are kept" in result.output
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is the command's only
    assert pred.read_bytes() == before and (tmp_path / ".pred.csv.partial").exists()
    monkeypatch.undo()

    # Going on needs the same input, options and model
    stat = held.stat()
    held.write_bytes(held.read_bytes() + b"one more ticket,x\r\n")
    result = cli("triage", held, "--batch-size", "10", "--out", pred, "--resume", ok=False)
    assert result.exit_code == 1 and "the input file changed" in result.output and "[--resume]" in result.output
    held.write_bytes((tmp_path / "held.csv").read_bytes())
    os.utime(held, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = cli("triage", held, "-k", "2", "--out", pred, "--resume", ok=False)
    assert result.exit_code == 1 and "-k differs" in result.output and "they are kept" not in result.output

    with open(tmp_path / ".pred.csv.partial", "a") as fh:
        fh.write("half of a batch written after the last progress record, then")  # cut off on going on
        fcntl.flock(fh, fcntl.LOCK_EX)  # as a run still writing into pred.csv holds it
        result = cli("triage", held, "--out", pred, ok=False)
        assert result.exit_code == 1 and "another kbtriage triage is writing" in result.output
        assert "starting over" not in result.output
        fcntl.flock(fh, fcntl.LOCK_UN)
    seen.clear()
    fail_at.clear()
    monkeypatch.setattr(TriageEngine, "decide", failing)
    result = cli("triage", held, "--batch-size", "10", "--out", pred, "--resume")
    assert "10 of them from the stopped run" in result.output
    assert not set(texts[:10]) & set(seen) and set(texts[10:]) <= set(seen)  # the first ten not decided again
    with open(pred, newline="") as fh:
        resumed = list(csv.DictReader(fh))
    straight = list(csv.DictReader(io.StringIO(before.decode(), newline="")))
    assert [(r["text"], r["category"], r["route"], r["suggested_articles"]) for r in resumed] == [
        (r["text"], r["category"], r["route"], r["suggested_articles"]) for r in straight]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".pred")) == []
    assert "no stopped run into" in cli("triage", held, "--out", pred, "--resume").output
    assert pred.read_bytes() == before

    seen.clear()
    (tmp_path / "bad.jsonl").write_text('{"text": "vpn down"}\n{"text": "printer"\n{"text": "wifi"}\n')
    result = cli("triage", tmp_path / "bad.jsonl", "--out", pred, ok=False)
    assert result.exit_code == 2 and "bad.jsonl:2: not JSON" in result.output and seen == []
    assert pred.read_bytes() == before
    monkeypatch.undo()


def test_articles_import_history_and_suggestions(cli, tmp_path, banking_rows):
    cats = sorted({r["category"] for r in banking_rows})[:10]
    write_csv(tmp_path / "articles.csv", [{"id": c, "title": c.replace("_", " ").capitalize(),
                                          "body": c.replace("_", " ")} for c in cats])
    history = [{"text": r["text"], "article": r["category"]} for r in banking_rows if r["category"] in cats]
    random.Random(1).shuffle(history)
    write_csv(tmp_path / "history.csv", history[:-30])
    write_csv(tmp_path / "val.csv", [{"text": h["text"]} for h in history[-30:]])
    assert "10 created" in cli("import-articles", tmp_path / "articles.csv").output
    assert "10 unchanged" in cli("import-articles", tmp_path / "articles.csv").output
    cli("import-tickets", tmp_path / "history.csv", "--text-column", "text", "--article-column", "article")
    out = cli("train").output
    assert "category model skipped" in out and "suggestions" in out
    result = cli("triage", "-", "-k", "3", input=(tmp_path / "val.csv").read_text())
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert len(rows) == 30
    hits = sum(r["suggested_articles"].split(";")[0] == h["article"] for r, h in zip(rows, history[-30:]))
    assert hits >= 20
    assert all(len(r["suggested_articles"].split(";")) == 3 for r in rows)


def test_bad_input_gets_a_clear_error(cli, tmp_path):
    write_csv(tmp_path / "t.csv", [{"body": "hello"}])
    result = cli("import-tickets", tmp_path / "t.csv", "--text-column", "text", ok=False)
    assert result.exit_code == 2 and "--text-column" in result.output and "'text'" in result.output
    result = cli("import-tickets", tmp_path / "missing.csv", "--text-column", "text", ok=False)
    assert result.exit_code == 2 and "no such file" in result.output
    result = cli("train", ok=False)
    assert result.exit_code == 1 and "nothing to train on" in result.output


def test_a_help_desk_export_is_imported_and_a_withdrawn_article_leaves_the_index(cli, tmp_path):
    """A Zendesk Guide export (HTML bodies) imports as text; imported again after an article went
    back to draft, that article is taken out, so it is never suggested again."""
    def export(draft: bool) -> Path:
        path = tmp_path / "zendesk.json"
        path.write_text(json.dumps({"articles": [
            {"id": 101, "html_url": "https://acme.zendesk.com/hc/en-us/articles/101", "title": "Replace a paper jam in the printer", "draft": False,
             "body": "<p>Open the <b>front tray</b>, pull the jammed paper out slowly.</p>", "label_names": ["printer"]},
            {"id": 102, "html_url": "https://acme.zendesk.com/hc/en-us/articles/102", "title": "Connect to the office VPN", "draft": draft,
             "body": "<h2>Steps</h2><ol><li>Start the VPN client</li><li>Sign in with SSO</li></ol>",
             "label_names": ["vpn"]}]}))
        return path

    assert "2 created" in cli("import-articles", export(draft=False)).output
    vpn = "the vpn client will not connect when I sign in"
    rows = list(csv.DictReader(cli("triage", "-", "-k", "1", input=f"text\n{vpn}\n").stdout.splitlines()))
    assert rows[0]["suggested_articles"] == "102"

    out = cli("import-articles", export(draft=True)).output
    assert "1 unchanged" in out and "not imported, not published (1 draft): 102" in out
    assert "taken out of the index, where an earlier import had put them: 102" in out
    rows = list(csv.DictReader(cli("triage", "-", "-k", "3", input=f"text\n{vpn}\n").stdout.splitlines()))
    assert rows[0]["suggested_articles"] == "101"
    assert "taken out" not in cli("import-articles", export(draft=True)).output  # nothing left to take out

    # An export is the whole knowledge base: --prune deletes what it no longer holds
    page = json.loads((tmp_path / "zendesk.json").read_text())
    page["articles"] = page["articles"][1:] + [{"id": 103, "html_url": "https://acme.zendesk.com/hc/en-us/articles/103",
                                                "title": "Order toner", "body": "<p>Use the supplies form.</p>"}]
    (tmp_path / "zendesk.json").write_text(json.dumps(page))
    out = cli("import-articles", tmp_path / "zendesk.json").output
    assert "1 created" in out and "(2 passages indexed)" in out and "deleted" not in out
    out = cli("import-articles", tmp_path / "zendesk.json", "--prune").output
    assert "deleted 1 articles that" in out and "(--prune): 101" in out
    rows = list(csv.DictReader(cli("triage", "-", "-k", "3", input=f"text\n{vpn}\n").stdout.splitlines()))
    assert rows[0]["suggested_articles"] == "103"
    (tmp_path / "drafts.json").write_text(json.dumps({"articles": [dict(page["articles"][0], draft=True)]}))
    result = cli("import-articles", tmp_path / "drafts.json", "--prune", ok=False)
    assert result.exit_code == 1 and "would delete every article" in result.output


def test_ticket_exports_import_and_triage_as_saved(cli, tmp_path, banking_rows):
    """Past tickets from a ServiceNow incident page, new ones from a Zendesk tickets page: no
    conversion, nested fields named by their path."""
    cats = sorted({r["category"] for r in banking_rows})[:6]
    rows = [r for r in banking_rows if r["category"] in cats]
    random.Random(5).shuffle(rows)
    past, new = rows[:240], rows[240:260]
    (tmp_path / "incidents.json").write_text(json.dumps({"result": [
        {"number": f"INC{n:07d}", "short_description": "", "description": r["text"], "category": r["category"],
         "contact_type": {"display_value": "Email" if n % 2 else "Phone", "value": "email" if n % 2 else "phone"}}
        for n, r in enumerate(past)]}, indent=1))
    out = cli("import-tickets", tmp_path / "incidents.json", "--text-column", "description", "--subject-column",
              "short_description", "--category-column", "category", "--id-column", "number",
              "--channel-column", "contact_type.value").output
    assert "240 imported" in out
    result = cli("import-tickets", tmp_path / "incidents.json", "--text-column", "description",
                 "--channel-column", "contact_type.label", ok=False)
    assert result.exit_code == 2 and "no column 'contact_type.label' (given by --channel-column)" in result.output
    assert "'contact_type.value'" in result.output
    cli("train")

    (tmp_path / "new.json").write_text(json.dumps({"tickets": [
        {"id": 900 + n, "subject": "", "description": r["text"], "via": {"channel": "web"}} for n, r in enumerate(new)],
        "next_page": None}))
    cli("triage", tmp_path / "new.json", "--text-column", "description", "--subject-column", "subject",
        "--out", tmp_path / "pred.jsonl")
    pred = [json.loads(line) for line in (tmp_path / "pred.jsonl").read_text().splitlines()]
    assert [p["id"] for p in pred] == [900 + n for n in range(len(new))] and pred[0]["via"] == {"channel": "web"}
    assert sum(p["category"] == r["category"] for p, r in zip(pred, new)) >= 15


def test_routing_show_prints_the_priority_part_and_its_escalation(trained_runtime):
    """``kbtriage routing show`` in text says what GET /v1/routing holds under ``priority``: the
    priority classes' thresholds and the top priority's auto-escalation."""
    env = {"KBTRIAGE_HOME": str(trained_runtime.settings.home), "DATABASE_URL": trained_runtime.settings.database_url}
    runner = CliRunner()
    view = json.loads(runner.invoke(main, ["routing", "show", "--json"], env=env, catch_exceptions=False).output)
    esc = view["priority"]["escalation"]
    assert esc and esc["label"] == "P1"  # the demo's most urgent label
    for args in (["routing", "show"], ["routing", "show", "--part", "priority"]):
        result = runner.invoke(main, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        text = result.output
        assert "priority: validation precision" in text
        assert all(f" {label} " in text for label in view["priority"]["classes"])
        line = next(line for line in text.splitlines() if line.strip().startswith("escalation of P1"))
        if esc["threshold"] is None:
            assert f"no threshold ({esc['basis']})" in line
        else:
            assert f"threshold {esc['threshold']:.2f}" in line and f"precision {esc['precision']:.2f}" in line
    only = runner.invoke(main, ["routing", "show", "--part", "priority"], env=env).output
    assert "category:" not in only and "tier:" not in only
    assert "category: validation precision" in runner.invoke(main, ["routing", "show"], env=env).output
