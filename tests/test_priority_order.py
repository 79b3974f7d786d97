"""A desk's own order of its priority labels (#28): ``import-tickets --priority-order``, checked
against the file (a label outside it names the file, line and label, exit 2), stored for the desk
(safe when imports race) and followed by training (which label is the top one, escalated)."""
from __future__ import annotations

import json
import threading

from application.demo import demo_records
from tests.conftest import make_runtime
from tests.test_cli import cli, write_csv  # noqa: F401 - the fixture
from triage import priority, priority_settings
from triage.tables import PrioritySetting

METALS = {"P1": "gold", "P2": "silver", "P3": "bronze", "P4": "bronze"}


def test_a_given_order_ranks_labels_whose_words_say_nothing():
    labels = ["bronze", "gold", "silver"]
    assert priority.order(labels) == ["bronze", "gold", "silver"]  # by name: no urgency words
    assert priority.order(labels, given=["gold", "silver", "bronze"]) == ["gold", "silver", "bronze"]
    # A label the order lacks (an agent's correction) follows the given ones.
    assert priority.order(labels + ["P1"], given=["gold", "silver", "bronze"]) == ["gold", "silver", "bronze", "P1"]


def test_the_order_given_at_import_is_stored_and_training_follows_it(cli, tmp_path):  # noqa: F811
    rows = [{"subject": r["subject"], "text": r["body"], "priority": METALS[r["priority"]]}
            for r in demo_records()[:600]]
    write_csv(tmp_path / "fit.csv", rows)
    cli("import-tickets", tmp_path / "fit.csv", "--text-column", "text", "--subject-column", "subject",
        "--priority-column", "priority", "--priority-order", "gold, silver,bronze")
    cli("train")
    policy = json.loads(cli("routing", "show", "--json", "--live-days", "0").output)["priority"]["escalation"]
    assert policy["label"] == "gold"  # by words alone 'bronze' would rank first


def test_a_label_outside_the_order_names_the_file_line_and_label_and_imports_nothing(cli, tmp_path):  # noqa: F811
    write_csv(tmp_path / "t.csv", [{"id": "1", "text": "VPN down", "priority": "Major"},
                                   {"id": "2", "text": "typo", "priority": "Minor"},
                                   {"id": "3", "text": "all down", "priority": "Showstopper"}])
    bad = cli("import-tickets", tmp_path / "t.csv", "--text-column", "text", "--priority-column", "priority",
              "--id-column", "id", "--priority-order", "Blocker,Critical,Major,Minor,Trivial", ok=False)
    assert bad.exit_code == 2
    assert "t.csv:4" in bad.output and "'Showstopper'" in bad.output and "--priority-order" in bad.output
    again = cli("import-tickets", tmp_path / "t.csv", "--text-column", "text", "--priority-column", "priority",
                "--id-column", "id").output
    assert "3 imported, 0 already present" in again  # the refused import stored none of them
    listed = cli("import-tickets", tmp_path / "t.csv", "--text-column", "text", "--priority-column", "priority",
                 "--priority-order", "Major,Major", ok=False)
    assert listed.exit_code == 2 and "--priority-order" in listed.output and "twice" in listed.output
    alone = cli("import-tickets", tmp_path / "t.csv", "--text-column", "text", "--priority-order", "A,B", ok=False)
    assert alone.exit_code == 2 and "--priority-column" in alone.output


def test_imports_setting_the_order_at_once_leave_one_row_and_no_error(tmp_path):
    rt = make_runtime(tmp_path / "home")
    barrier, errors = threading.Barrier(6), []
    orders = [["a", "b", f"c{n}"] for n in range(6)]

    def put(labels):
        try:
            barrier.wait()
            with rt.db.session() as s:
                priority_settings.set_order(session=s, labels=labels, by=f"import-{labels[-1]}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(o,)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with rt.db.session() as s:
        rows = s.query(PrioritySetting).all()
        assert len(rows) == 1 and rows[0].value["labels"] in orders
        assert rows[0].updated_by == f"import-{rows[0].value['labels'][-1]}"
        assert priority_settings.order(session=s) == rows[0].value["labels"]
    rt.close()
