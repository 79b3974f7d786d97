"""API keys and roles through the HTTP API and the CLI, on a fresh real database."""
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api.app import create_app
from application import access
from cli.main import main
from tests.conftest import make_runtime
from triage.tables import FeedbackEvent


@pytest.fixture
def api(runtime):
    return create_app(runtime=runtime, start_worker=False).test_client()


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_open_until_the_first_key_then_roles_apply(api, runtime, session):
    assert api.get("/v1/articles").status_code == 200  # a fresh install is open
    assert api.get("/v1/articles", headers=bearer("kbt_not-a-key")).status_code == 200  # to any key presented
    keys = {role: access.create(session=session, name=f"{role}-1", role=role)[1] for role in access.ROLES}

    r = api.get("/v1/articles")
    assert r.status_code == 401
    assert r.get_json()["error"] == {"code": "unauthorized", "field": "Authorization",
                                     "message": r.get_json()["error"]["message"]}
    assert api.get("/v1/articles", headers=bearer("kbt_not-a-key")).status_code == 401
    assert api.get("/healthz").status_code == 200 and api.get("/v1/openapi.json").status_code == 200
    assert api.get("/metrics").status_code == 401 and api.get("/metrics", headers=bearer(keys["agent"])).status_code == 403
    assert api.get("/metrics", headers=bearer(keys["editor"])).status_code == 200
    assert api.get("/v1/no-such-route").status_code == 404

    assert api.get("/v1/articles", headers=bearer(keys["intake"])).status_code == 200
    assert api.get("/v1/articles", headers={"X-API-Key": keys["intake"]}).status_code == 200
    # intake may not record feedback; the refusal stores nothing and names the role needed
    r = api.post("/v1/feedback", json={"ticket_id": 1, "kind": "escalated"}, headers=bearer(keys["intake"]))
    assert r.status_code == 403 and "'agent'" in r.get_json()["error"]["message"]
    # agent passes the key check and meets the ordinary validation (no such ticket)
    r = api.post("/v1/feedback", json={"ticket_id": 999, "kind": "escalated"}, headers=bearer(keys["agent"]))
    assert r.status_code == 404 and r.get_json()["error"]["field"] == "ticket_id"
    article = {"id": "vpn", "title": "Connect to the VPN", "body": "Open the client and sign in."}
    assert api.post("/v1/articles", json=article, headers=bearer(keys["agent"])).status_code == 403
    assert api.post("/v1/articles", json=article, headers=bearer(keys["editor"])).status_code == 201
    # decisions and feedback keep the name of the key they came with (audit)
    d = api.post("/v1/triage", json={"body": "VPN drops every hour"}, headers=bearer(keys["intake"])).get_json()
    assert d["api_key"] == "intake-1"
    assert api.get(f"/v1/triage/{d['id']}", headers=bearer(keys["agent"])).get_json()["api_key"] == "intake-1"
    r = api.post("/v1/feedback", json={"decision_id": d["id"], "kind": "resolved", "article_id": "vpn"},
                 headers=bearer(keys["agent"]))
    assert r.status_code == 201 and r.get_json()["api_key"] == "agent-1"
    with runtime.db.session() as s:
        assert s.scalar(select(FeedbackEvent.api_key).where(FeedbackEvent.id == r.get_json()["id"])) == "agent-1"
    assert api.get("/v1/reports/triage", headers=bearer(keys["editor"])).status_code == 200
    # routing rules and models are the admin's
    rule = {"target_precision": 0.99}
    assert api.put("/v1/routing/rules/category/x", json=rule, headers=bearer(keys["editor"])).status_code == 403
    r = api.put("/v1/routing/rules/category/x", json=rule, headers=bearer(keys["admin"]))
    assert r.status_code == 404 and r.get_json()["error"]["field"] == "label"  # past the key check


def test_keys_are_stored_hashed_and_revoked_at_once(api, session):
    row, key = access.create(session=session, name="intake-system", role="intake")
    assert key.startswith("kbt_") and len(key) > 40
    stored = session.execute(select(access.ApiKey.name, access.ApiKey.key_hash, access.ApiKey.prefix)).one()
    assert key not in stored and stored.prefix == key[:12]
    assert api.get("/v1/articles", headers=bearer(key)).status_code == 200
    access.revoke(session=session, name="intake-system")
    # no active key remains: the API is open again, and the revoked key does not count as one
    assert not access.checking(session=session, required=False)
    access.create(session=session, name="other", role="admin")
    assert api.get("/v1/articles", headers=bearer(key)).status_code == 401


def test_expired_keys_are_refused_and_keep_the_api_closed(api, session):
    from datetime import timedelta

    from common.db import utcnow

    row, key = access.create(session=session, name="contractor", role="agent", expires_in_days=30)
    assert timedelta(days=29, hours=23) < row.expires_at - utcnow() <= timedelta(days=30)
    assert row.last_used_at is None
    assert api.get("/v1/articles", headers=bearer(key)).status_code == 200
    session.refresh(row)
    used = row.last_used_at
    assert used is not None and access.view(row)["state"] == "active"
    # a second request within LAST_USED_EVERY does not write again
    assert api.get("/v1/articles", headers=bearer(key)).status_code == 200
    session.refresh(row)
    assert row.last_used_at == used

    row.expires_at = utcnow() - timedelta(seconds=1)  # as if the 30 days had passed
    session.commit()
    r = api.get("/v1/articles", headers=bearer(key))
    assert r.status_code == 401
    error = r.get_json()["error"]
    assert error["code"] == "key_expired" and error["field"] == "Authorization" and "'contractor'" in error["message"]
    # the only key ran out, yet the API stays closed: expiry is not a decision to open it
    assert access.checking(session=session, required=False)
    assert api.get("/v1/articles").status_code == 401
    assert access.view(row)["state"] == "expired"


@pytest.mark.parametrize("days", [0, -1, 3651, 1.5, "7", True])
def test_bad_expiry_is_refused(session, days):
    with pytest.raises(access.ValidationError) as err:
        access.create(session=session, name="temp", role="agent", expires_in_days=days)
    assert err.value.field == "expires_in_days"
    assert access.list_keys(session=session) == []


@pytest.mark.parametrize("name,role,field", [("ok", "root", "role"), ("has space", "agent", "name"),
                                             ("", "agent", "name")])
def test_bad_key_requests_are_refused_by_field(session, name, role, field):
    with pytest.raises(access.ValidationError) as err:
        access.create(session=session, name=name, role=role)
    assert err.value.field == field
    assert access.list_keys(session=session) == []


def test_required_keys_close_a_fresh_install(tmp_path):
    rt = make_runtime(tmp_path / "home", require_api_key=True)
    try:
        client = create_app(runtime=rt, start_worker=False).test_client()
        assert client.get("/v1/articles").status_code == 401
        assert client.get("/healthz").status_code == 200
    finally:
        rt.close()


def test_cli_creates_lists_and_revokes_keys(runtime):
    env = {"KBTRIAGE_HOME": str(runtime.settings.home), "DATABASE_URL": runtime.settings.database_url}
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    assert "no API keys" in run("api-key", "list").output
    created = run("api-key", "create", "helpdesk", "--role", "agent")
    assert created.exit_code == 0
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("kbt_")
    listed = run("api-key", "list").output
    assert "helpdesk" in listed and "agent" in listed and key[:12] in listed and key not in listed
    again = run("api-key", "create", "helpdesk", "--role", "agent")
    assert again.exit_code != 0 and "exists" in again.output
    assert run("api-key", "create", "x", "--role", "root").exit_code != 0
    temp = run("api-key", "create", "temp", "--role", "intake", "--expires-days", "7")
    assert temp.exit_code == 0 and "expires" in temp.output
    listed = run("api-key", "list").output
    assert "never used" in listed and "expires" in listed
    bad = run("api-key", "create", "temp2", "--role", "intake", "--expires-days", "0")
    assert bad.exit_code == 2 and "--expires-days" in bad.output  # the option as the user typed it
    assert "revoked key 'helpdesk'" in run("api-key", "revoke", "helpdesk").output
    assert "revoked" in run("api-key", "list").output
    assert run("api-key", "revoke", "nobody").exit_code != 0


def test_admins_manage_keys_over_the_api_but_the_first_key_comes_from_the_server(api, session):
    r = api.post("/v1/api-keys", json={"name": "intruder", "role": "admin"})
    assert r.status_code == 403 and "kbtriage api-key create" in r.get_json()["error"]["message"]
    assert access.list_keys(session=session) == []  # an open install cannot mint keys over the API

    _, admin = access.create(session=session, name="ops", role="admin")
    _, editor = access.create(session=session, name="kb-team", role="editor")
    assert api.post("/v1/api-keys", json={"name": "x", "role": "agent"}, headers=bearer(editor)).status_code == 403

    created = api.post("/v1/api-keys", json={"name": "console", "role": "agent", "expires_in_days": 30},
                       headers=bearer(admin))
    assert created.status_code == 201
    body = created.get_json()
    assert body["key"].startswith("kbt_") and body["state"] == "active" and body["expires_at"]
    console = body["key"]
    assert api.get("/v1/articles", headers=bearer(console)).status_code == 200
    listed = api.get("/v1/api-keys", headers=bearer(admin)).get_json()["items"]
    assert [k["name"] for k in listed] == ["ops", "kb-team", "console"]
    assert all("key" not in k and "key_hash" not in k for k in listed)

    for payload, field, status in (({"name": "console", "role": "agent"}, "name", 409),
                                   ({"name": "y", "role": "root"}, "role", 422),
                                   ({"name": "bad name!", "role": "agent"}, "name", 422),
                                   ({"name": "z", "role": "agent", "expires_in_days": 0}, "expires_in_days", 422),
                                   ({"role": "agent"}, "name", 422)):
        r = api.post("/v1/api-keys", json=payload, headers=bearer(admin))
        assert r.status_code == status and r.get_json()["error"]["field"] == field, payload
    assert len(access.list_keys(session=session)) == 3

    revoked = api.delete("/v1/api-keys/console", headers=bearer(admin))
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "revoked"
    assert api.get("/v1/articles", headers=bearer(console)).status_code == 401
    assert api.delete("/v1/api-keys/no-such", headers=bearer(admin)).status_code == 404
    # The last usable admin key stays: revoking it would leave no one to manage keys over the API.
    r = api.delete("/v1/api-keys/ops", headers=bearer(admin))
    assert r.status_code == 409 and "last usable admin key" in r.get_json()["error"]["message"]
    second = api.post("/v1/api-keys", json={"name": "ops-2", "role": "admin"}, headers=bearer(admin)).get_json()["key"]
    assert api.delete("/v1/api-keys/ops", headers=bearer(second)).status_code == 200
    assert api.get("/v1/api-keys", headers=bearer(admin)).status_code == 401
