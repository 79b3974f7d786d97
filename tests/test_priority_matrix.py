"""The team's impact x urgency matrix (#28): GET/PUT /v1/priority/matrix and ``kbtriage priority
matrix``, checked cell by cell, kept with who changed it, safe when admins write at once, and
followed by decisions made without a priority model, whose reason names the cell."""
from __future__ import annotations

import copy
import threading

import pytest

from api.app import create_app
from tests.conftest import make_runtime
from tests.test_cli import cli  # noqa: F401 - the fixture
from triage import priority_settings
from triage.tables import PrioritySetting

ONE_BLOCKED = "I cannot print my boarding pass"  # one person affected, work blocked: ITIL's P3


@pytest.fixture
def fresh(tmp_path):
    """A service with no model version: priority follows the matrix."""
    rt = make_runtime(tmp_path / "home")
    app = create_app(runtime=rt)
    yield rt, app.test_client()
    app.extensions["kbtriage.worker"].stop(timeout=60)
    rt.close()


def test_the_team_changes_a_cell_and_the_next_decision_follows_it_naming_the_cell(fresh):
    rt, client = fresh
    shown = client.get("/v1/priority/matrix").get_json()
    assert shown["default"] is True and shown["matrix"]["one"]["high"] == "P3"
    before = client.post("/v1/triage", json={"body": ONE_BLOCKED}).get_json()
    assert before["priority"] == "P3" and "cell impact one x urgency high = P3" in before["priority_reason"]
    assert "ITIL" in before["priority_reason"]

    changed = copy.deepcopy(shown["matrix"])
    changed["one"]["high"] = "P2"
    resp = client.put("/v1/priority/matrix", json={"matrix": changed, "updated_by": "ops-lead"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["default"] is False and resp.get_json()["updated_by"] == "ops-lead"
    after = client.post("/v1/triage", json={"body": ONE_BLOCKED}).get_json()
    assert after["priority"] == "P2"
    assert "the team's impact x urgency matrix, cell impact one x urgency high = P2" in after["priority_reason"]
    with rt.db.session() as s:
        row = s.get(PrioritySetting, "matrix")
        assert row.value["one"]["high"] == "P2" and row.updated_by == "ops-lead" and row.updated_at is not None


@pytest.mark.parametrize("change, field", [
    (lambda m: m.pop("some"), "matrix.some"),
    (lambda m: m["one"].update(low="P9"), "matrix.one.low"),
    (lambda m: m["one"].pop("medium"), "matrix.one.medium"),
    (lambda m: m.update(galaxy={"high": "P1"}), "matrix.galaxy"),
    (lambda m: m["wide"].update(critical="P1"), "matrix.wide.critical"),
])
def test_a_bad_matrix_is_refused_naming_the_cell_and_nothing_is_stored(fresh, change, field):
    rt, client = fresh
    matrix = priority_settings.default_matrix()
    change(matrix)
    resp = client.put("/v1/priority/matrix", json={"matrix": matrix})
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["field"] == field and error["code"]
    assert client.get("/v1/priority/matrix").get_json()["default"] is True


def test_not_an_object_is_a_json_error_not_a_500(fresh):
    _, client = fresh
    for body in ({"matrix": "P1"}, {"matrix": {"wide": "P1"}}, {}):
        resp = client.put("/v1/priority/matrix", json=body)
        assert resp.status_code in (400, 422) and resp.get_json()["error"]["field"].startswith("matrix")


def test_admins_setting_the_matrix_at_once_leave_one_row_and_no_error(tmp_path):
    rt = make_runtime(tmp_path / "home")
    barrier, errors = threading.Barrier(6), []
    levels = ["P1", "P2", "P3", "P4", "P1", "P2"]

    def put(n):
        try:
            matrix = priority_settings.default_matrix()
            matrix["one"]["low"] = levels[n]
            barrier.wait()
            with rt.db.session() as s:
                priority_settings.set_matrix(session=s, value=matrix, by=f"admin-{levels[n]}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with rt.db.session() as s:
        rows = s.query(PrioritySetting).all()
        assert len(rows) == 1 and rows[0].updated_by == f"admin-{rows[0].value['one']['low']}"
    rt.close()


def test_the_cli_shows_and_sets_cells_and_refuses_a_bad_one(cli):  # noqa: F811
    assert "ITIL's default" in cli("priority", "matrix", "show").output
    out = cli("priority", "matrix", "set", "one:high=P2", "some:low=P3", "--by", "ops").output
    assert "the team's, set by ops" in out
    shown = cli("priority", "matrix", "show", "--json").output
    assert '"high": "P2"' in shown
    bad = cli("priority", "matrix", "set", "one:urgent=P1", ok=False)
    assert bad.exit_code == 2 and "matrix.one.urgent" in bad.output
    bad = cli("priority", "matrix", "set", "one-high-P1", ok=False)
    assert bad.exit_code == 2 and "IMPACT:URGENCY=LEVEL" in bad.output
    assert "ITIL's default" not in cli("priority", "matrix", "reset").output
    assert "none given" in cli("priority", "order").output
