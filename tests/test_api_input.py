"""Strict API input (issue #26, items 6-10): what a JSON body may hold, how a refusal names the
field, and that every text limit the document states fits the column the text is stored in."""
from __future__ import annotations

import json
import math
import uuid
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field, StringConstraints
from pydantic import ValidationError as PydanticError
from sqlalchemy import String, func, inspect, select

from api import errors, schemas
from api.openapi import openapi_document
from application import access
from application.schema import metadata
from common.errors import ValidationError
from kb.tables import Article
from models.tables import TrainingJob
from tests.conftest import make_runtime
from triage import feedback
from triage.tables import FeedbackEvent, RoutingRule, Ticket, TriageDecision


def count(app, table):
    with app.extensions["kbtriage"].db.session() as s:
        return s.scalar(select(func.count()).select_from(table))


def strict_json(response):
    """The response body read as JSON proper: NaN and Infinity are no JSON numbers."""
    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")
    return json.loads(response.get_data(as_text=True), parse_constant=refuse)


def refused(response, field, code="invalid", status=422):
    assert response.status_code == status, strict_json(response)
    error = strict_json(response)["error"]
    assert (error["code"], error["field"]) == (code, field), error
    assert error["message"]
    return error


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """A service of its own (empty database, no model, no worker) with an admin key: for requests
    that store odd values or need a key, away from the shared trained service."""
    from api.app import create_app

    rt = make_runtime(tmp_path_factory.mktemp("input") / "home")
    app = create_app(runtime=rt, start_worker=False)
    with rt.db.session() as s:
        _, key = access.create(session=s, name="input-admin", role="admin")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    yield app, client
    rt.close()


def body_operations(document):
    """(method, path with its parameters filled in) of every operation that takes a JSON body."""
    fill = {"{article_id}": "reset-password", "{part}": "category", "{label}": "billing"}
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            if isinstance(op, dict) and "requestBody" in op:
                for name, value in fill.items():
                    path = path.replace(name, value)
                yield method, path


# Item 6: a document nested ~1,000 deep was a RecursionError (500) on every JSON endpoint.
@pytest.mark.parametrize("depth", [schemas.MAX_DEPTH + 1, 1000, 100_000])
def test_a_deeply_nested_body_is_refused_on_every_json_endpoint(own, depth):
    app, client = own
    before = count(app, Ticket), count(app, Article), count(app, FeedbackEvent), count(app, TrainingJob)
    operations = list(body_operations(openapi_document()))
    assert len(operations) >= 10
    for nested in ("[" * depth + "]" * depth, '{"meta": {"a": ' + "[" * depth + "]" * depth + "}}",
                   '{"a":' * depth + "1" + "}" * depth):
        for method, path in operations:
            r = client.open(path, method=method.upper(), data=nested, content_type="application/json")
            error = refused(r, "body", code="invalid_json")
            assert "deep" in error["message"], (method, path, error)
    assert (count(app, Ticket), count(app, Article), count(app, FeedbackEvent), count(app, TrainingJob)) == before


def test_nesting_within_the_limit_is_judged_by_the_schema(client):
    """Just under the limit the document is read, and the schema names what is wrong."""
    inner = "[" * (schemas.MAX_DEPTH - 3) + "]" * (schemas.MAX_DEPTH - 3)
    r = client.post("/v1/triage", data='{"body": "vpn", "meta": {"a": ' + inner + "}}", content_type="application/json")
    refused(r, "meta.a")


# Item 7: NaN, Infinity and 1e400 (read as infinity) were stored; SQLite then answered `Infinity`
# (no JSON), PostgreSQL a 500.
@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("path,template,field", [
    ("/v1/triage", '{"body": "vpn drops", "meta": {"a": %s}}', "meta.a"),
    ("/v1/triage", '{"body": "vpn drops", "k": %s}', "k"),
    ("/v1/triage/batch", '{"tickets": [{"body": "a"}, {"body": "b", "meta": {"x": "y", "n": %s}}]}', "tickets.1.meta.n"),
    ("/v1/feedback", '{"kind": "resolved", "ticket_id": %s}', "ticket_id"),
    ("/v1/feedback", '{"events": [{"kind": "escalated", "ticket_id": 1}, {"kind": "resolved", "decision_id": %s}]}',
     "events.1.decision_id"),
    ("/v1/gaps/handled", '{"ticket_ids": [1, %s]}', "ticket_ids.1"),
    ("/v1/tickets/erase", '{"ticket_ids": [%s]}', "ticket_ids.0"),
])
def test_numbers_that_are_not_finite_are_refused_naming_the_field(client, app, number, path, template, field):
    before = count(app, Ticket), count(app, TriageDecision), count(app, FeedbackEvent)
    r = client.post(path, data=template % number, content_type="application/json")
    error = refused(r, field)
    assert "finite" in error["message"]
    assert (count(app, Ticket), count(app, TriageDecision), count(app, FeedbackEvent)) == before


def test_a_routing_rule_with_a_target_that_is_not_finite_changes_nothing(client):
    before = client.get("/v1/routing").get_json()["rules"]
    for number in ("NaN", "1e400"):
        r = client.put("/v1/routing/rules/category/billing", data='{"target_precision": %s}' % number,
                       content_type="application/json")
        refused(r, "target_precision")
    assert client.get("/v1/routing").get_json()["rules"] == before


def test_large_finite_numbers_are_kept_and_read_back_as_json(client):
    meta = {"big": 1.7976931348623157e308, "small": -2.2250738585072014e-308, "whole": 10**18, "half": 0.5}
    r = client.post("/v1/triage", data=json.dumps({"body": "vpn drops every hour", "meta": meta}),
                    content_type="application/json")
    assert r.status_code == 201, r.get_json()
    record = strict_json(client.get(f"/v1/tickets/{r.get_json()['ticket_id']}"))
    assert record["meta"] == meta and all(math.isfinite(v) for v in record["meta"].values())


# Item 8: text and true/false were read as the integers and booleans the document states.
@pytest.mark.parametrize("path,payload,field", [
    ("/v1/triage", {"body": "vpn drops", "k": "3"}, "k"),
    ("/v1/triage", {"body": "vpn drops", "k": True}, "k"),
    ("/v1/triage/batch", {"tickets": [{"body": "vpn drops"}], "k": "2"}, "k"),
    ("/v1/feedback", {"kind": "escalated", "decision_id": "2"}, "decision_id"),
    ("/v1/feedback", {"kind": "escalated", "ticket_id": True}, "ticket_id"),
    ("/v1/feedback", {"kind": "resolved", "ticket_id": 1, "first_touch": "yes"}, "first_touch"),
    ("/v1/feedback", {"kind": "resolved", "ticket_id": 1, "first_touch": 1}, "first_touch"),
    ("/v1/feedback", {"events": [{"kind": "escalated", "ticket_id": 1},
                                 {"kind": "escalated", "ticket_id": "1"}]}, "events.1.ticket_id"),
    ("/v1/gaps/handled", {"ticket_ids": [1, "2"]}, "ticket_ids.1"),
])
def test_text_and_booleans_are_not_read_as_numbers_in_a_body(client, app, path, payload, field):
    before = count(app, Ticket), count(app, TriageDecision), count(app, FeedbackEvent)
    refused(client.post(path, json=payload), field)
    assert (count(app, Ticket), count(app, TriageDecision), count(app, FeedbackEvent)) == before


def test_routing_rules_take_only_a_boolean_and_a_number(client):
    before = client.get("/v1/routing").get_json()["rules"]
    for payload, field in [({"auto_route": "false"}, "auto_route"), ({"auto_route": 0}, "auto_route"),
                           ({"target_precision": "0.9"}, "target_precision"),
                           ({"target_precision": True}, "target_precision")]:
        refused(client.put("/v1/routing/rules/category/billing", json=payload), field)
    assert client.get("/v1/routing").get_json()["rules"] == before


def test_an_erasure_by_ticket_ids_given_as_text_erases_nothing(own):
    app, client = own
    ticket_id = client.post("/v1/triage", json={"body": "please erase me later"}).get_json()["ticket_id"]
    r = client.post("/v1/tickets/erase", json={"ticket_ids": [str(ticket_id)]})
    refused(r, "ticket_ids.0")
    assert client.get(f"/v1/tickets/{ticket_id}").status_code == 200
    # the document's integers, an integer-valued number included (as JSON Schema reads 1.0)
    r = client.post("/v1/tickets/erase", json={"ticket_ids": [float(ticket_id)]})
    assert r.status_code == 200 and r.get_json()["tickets"] == 1
    assert client.get(f"/v1/tickets/{ticket_id}").status_code == 404


def test_query_parameters_stay_text_read_as_numbers(client):
    r = client.get("/v1/decisions", query_string={"limit": "2", "gap": "false"})
    assert r.status_code == 200 and r.get_json()["limit"] == 2


# The examples above, for every body model: each number or boolean the document states refuses
# text and true/false (and takes an integer-valued number where it says integer).
VALID = {"TriageRequest": {"body": "vpn"}, "TriageBatch": {"tickets": [{"body": "vpn"}]},
         "FeedbackRequest": {"kind": "resolved", "decision_id": 1},
         "FeedbackBatch": {"events": [{"kind": "resolved", "decision_id": 1}]},
         "GapsHandled": {"ticket_ids": [1]}, "EraseRequest": {"ticket_ids": [1]},
         "RoutingRuleRequest": {"target_precision": 0.9}, "ApiKeyCreate": {"name": "a", "role": "agent"},
         "TrainRequest": {}, "ArticleCreate": {"id": "a", "title": "t"}, "ArticleUpdate": {},
         "ArticleReplace": {"title": "t"}}
SCALARS = {"integer", "number", "boolean"}


def _typed(schema: dict) -> set[str]:
    kinds = schema.get("type", [])
    kinds = {kinds} if isinstance(kinds, str) else set(kinds)
    for option in schema.get("anyOf", []):
        kinds |= _typed(option)
    return kinds


def test_every_number_and_boolean_of_every_body_model_is_strict():
    components = openapi_document()["components"]["schemas"]
    checked = 0
    for name, base in VALID.items():
        model = getattr(schemas, name)
        model.model_validate(base)  # the base body is valid
        for prop, schema in components[name].get("properties", {}).items():
            kinds, in_array = _typed(schema), False
            if "array" in kinds and SCALARS & _typed(schema.get("items", {})):
                kinds, in_array = _typed(schema["items"]), True
            kind = next(iter(SCALARS & kinds), None)
            if kind is None:
                continue
            items = schema.get("items", {}) if in_array else schema
            minimum = next((o.get("minimum") for o in [items, *items.get("anyOf", [])] if "minimum" in o), None)
            assert (minimum is not None) == (kind != "boolean"), (name, prop, schema)  # bounds stated as JSON Schema's
            good = False if kind == "boolean" else minimum if kind == "integer" else max(minimum, 0.9)
            field = f"{prop}.0" if in_array else prop
            for bad in (str(good).lower(), True if kind != "boolean" else 0):
                data = {**base, prop: [bad] if in_array else bad}
                with pytest.raises(PydanticError) as caught:
                    model.model_validate(data)
                assert errors.invalid(caught.value, data).field == field, (name, prop, bad)
            if kind == "integer":
                data = {**base, prop: [float(good)] if in_array else float(good)}
                assert getattr(model.model_validate(data), prop) == ([good] if in_array else good)
            checked += 1
    assert checked >= 10


# Item 9: validation internals ("function-after[strip(), constrained-str]") in the user's field.
@pytest.mark.parametrize("path,payload,field", [
    ("/v1/triage", {"body": "vpn", "meta": {"a": {"b": 1}}}, "meta.a"),
    ("/v1/triage", {"body": "vpn", "meta": {"a": [1, 2]}}, "meta.a"),
    ("/v1/triage", {"body": "vpn", "meta": {"a": "x" * 2001}}, "meta.a"),
    ("/v1/triage", {"body": "vpn", "meta": {"k" * 101: 1}}, "meta." + "k" * 101),
    ("/v1/triage", {"body": "vpn", "meta": {"int": {"str": 1}}}, "meta.int"),  # keys that read like pydantic's tags
    ("/v1/triage", {"body": "vpn", "meta": {"constrained-str": [1]}}, "meta.constrained-str"),
    ("/v1/triage", {"body": "vpn", "meta": {"list[str]": {}}}, "meta.list[str]"),
    ("/v1/triage/batch", {"tickets": [{"body": "a"}, {"body": "b"}, {"body": "c"}, {"body": ""}]}, "tickets.3.body"),
    ("/v1/triage/batch", {"tickets": [{"body": "a"}, {"subject": "no body"}]}, "tickets.1.body"),
    ("/v1/triage/batch", {"tickets": [{"body": "a", "meta": {"x": {"y": None}}}]}, "tickets.0.meta.x"),
    ("/v1/articles", {"id": "a-b", "title": "t", "tags": ["ok", 3]}, "tags.1"),
    ("/v1/feedback", {"events": [{"kind": "escalated", "ticket_id": 1},
                                 {"kind": "tier_corrected", "ticket_id": 1, "value": "T" * 21}]}, "events.1.value"),
    ("/v1/feedback", {"events": [{"kind": "escalated", "ticket_id": 1}, {"kind": "resolved"}]}, "events.1.decision_id"),
])
def test_a_refused_field_is_named_as_the_request_wrote_it(client, path, payload, field):
    error = refused(client.post(path, json=payload), field)
    assert error["message"].startswith(f"{field}: ")
    said = error["message"][len(field):]
    assert not any(internal in said for internal in ("function-", "constrained", "[key]", "list[", "'int'")), error


def test_a_value_of_no_accepted_type_is_told_what_the_field_takes(client):
    error = refused(client.post("/v1/triage", json={"body": "vpn", "meta": {"a": {"b": 1}}}), "meta.a")
    assert all(kind in error["message"] for kind in ("string", "integer", "number", "boolean")), error
    error = refused(client.post("/v1/triage", json={"body": "vpn", "meta": {"a": "x" * 2001}}), "meta.a")
    assert "2000" in error["message"] and "integer" not in error["message"], error


class _Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class _Dog(BaseModel):
    kind: Literal["dog"]
    name: Annotated[str, StringConstraints(max_length=3)]


Pet = Annotated[_Cat | _Dog, Field(discriminator="kind")]


class _Shapes(BaseModel):
    pet: Pet | None = None
    pets: list[Pet] = []
    either: list[int] | dict[str, int] | None = None
    nested: dict[str, list[int] | Annotated[str, StringConstraints(max_length=2)]] = {}


@pytest.mark.parametrize("data,field", [
    ({"pet": {"kind": "dog", "name": "Rexxx"}}, "pet.name"),            # tagged union: ('pet', 'dog', 'name')
    ({"pets": [{"kind": "cat", "lives": 9}, {"kind": "cat"}]}, "pets.1.lives"),  # missing, in a tagged union
    ({"pets": [{"kind": "cow"}]}, "pets.0"),                             # no such tag
    ({"either": "x"}, "either"),                                          # ('either', 'list[int]')
    ({"either": {"a": "b"}}, "either.a"),                                 # ('either', 'dict[str,int]', 'a')
    ({"nested": {"k": [1, "x"]}}, "nested.k.1"),                          # ('nested', 'k', 'list[int]', 1)
    ({"nested": {"dog": "long"}}, "nested.dog"),                          # ('nested', 'dog', 'constrained-str')
])
def test_pydantic_locations_become_the_users_field_path(data, field):
    with pytest.raises(PydanticError) as caught:
        _Shapes.model_validate(data)
    assert errors.invalid(caught.value, data).field == field, caught.value.errors()


# Item 10: tier_corrected took 200 characters; the ticket's tier column holds 20 (a 500 on PostgreSQL).
# Each text field of a body that is stored, and where ("Component.property" -> columns).
STORED = {
    "TriageRequest.subject": [Ticket.subject], "TriageRequest.body": [Ticket.body],
    "TriageRequest.channel": [Ticket.channel], "TriageRequest.external_id": [Ticket.external_id],
    "TriageRequest.meta": [Ticket.meta],
    "TicketFields.subject": [Ticket.subject], "TicketFields.body": [Ticket.body],
    "TicketFields.channel": [Ticket.channel], "TicketFields.external_id": [Ticket.external_id],
    "TicketFields.meta": [Ticket.meta],
    **{f"{m}.{p}": c for m in ("ArticleCreate", "ArticleUpdate", "ArticleReplace") for p, c in {
        "id": [Article.id], "title": [Article.title], "body": [Article.body], "category": [Article.category],
        "tags": [Article.tags], "url": [Article.url], "body_format": []}.items()},
    "FeedbackRequest.kind": [FeedbackEvent.kind], "FeedbackRequest.article_id": [Article.id],
    "FeedbackRequest.reason": [FeedbackEvent.reason], "FeedbackRequest.value": [FeedbackEvent.value],
    "FeedbackRequest.agent_id": [FeedbackEvent.agent_id],
    "FeedbackRequest.idempotency_key": [FeedbackEvent.idempotency_key],
    "GapsHandled.handled_by": [Ticket.gap_handled_by],
    "EraseRequest.external_ids": [Ticket.external_id],  # looked up, not stored
    "RoutingRuleRequest.updated_by": [RoutingRule.updated_by],
    "ApiKeyCreate.name": [access.ApiKey.name], "ApiKeyCreate.role": [access.ApiKey.role],
    "TrainRequest.promote": [TrainingJob.promote],
}
# ... and a correction's value is written on the ticket too (triage/feedback.py, _apply).
CORRECTION_COLUMNS = {"category_corrected": Ticket.category, "tier_corrected": Ticket.tier}


def _texts(schema: dict):
    """(maxLength, longest enum value) of the text a property takes, in itself, its array items,
    its object keys and values."""
    parts = [schema, *schema.get("anyOf", [])]
    for part in list(parts):
        for inner in ("items", "additionalProperties", "propertyNames"):
            if isinstance(part.get(inner), dict):
                parts += [part[inner], *part[inner].get("anyOf", [])]
    for part in parts:
        if "maxLength" in part:
            yield part["maxLength"]
        if "enum" in part or "const" in part:
            values = part.get("enum", [part.get("const")])
            yield max((len(v) for v in values if isinstance(v, str)), default=0)


def _column_lengths(app):
    """Each column's length: (as the tables declare it, as the migrated database has it)."""
    engine = app.extensions["kbtriage"].db.engine
    live = inspect(engine)
    lengths = {}
    for table in metadata().sorted_tables:
        reflected = {c["name"]: getattr(c["type"], "length", None) for c in live.get_columns(table.name)}
        for column in table.columns:
            declared = column.type.length if isinstance(column.type, String) else None
            lengths[column] = (declared, reflected.get(column.name))
    return lengths


def _column(attribute):
    return attribute.property.columns[0] if hasattr(attribute, "property") else attribute


def test_every_text_limit_of_the_document_fits_its_column(app):
    components = openapi_document()["components"]["schemas"]
    lengths = _column_lengths(app)
    too_long, unknown, checked = [], [], 0
    for name, component in components.items():
        if name not in VALID and name != "TicketFields":
            continue
        for prop, schema in component.get("properties", {}).items():
            limits = list(_texts(schema))
            if not limits:
                continue
            key = f"{name}.{prop}"
            if key not in STORED:
                unknown.append(key)
                continue
            for column in map(_column, STORED[key]):
                for holds in lengths[column]:
                    checked += 1
                    if holds is not None and max(limits) > holds:
                        too_long.append(f"{key}: up to {max(limits)} characters, {column} holds {holds}")
    # The value of a correction, under each kind: the limit the document states for that kind.
    feedback_schema = components["FeedbackRequest"]
    for kind, column in CORRECTION_COLUMNS.items():
        limit = feedback_schema["properties"]["value"]["anyOf"][0]["maxLength"]
        for rule in feedback_schema["allOf"]:
            if kind in rule["if"]["properties"]["kind"]["enum"]:
                limit = min([limit, *_texts(rule["then"].get("properties", {}).get("value", {}))])
        for holds in lengths[_column(column)]:
            checked += 1
            if holds is not None and limit > holds:
                too_long.append(f"FeedbackRequest.value ({kind}): up to {limit} characters, {column} holds {holds}")
    assert not unknown, f"text fields of a body not in STORED (say where each is stored): {unknown}"
    assert not too_long, "\n".join(too_long)
    assert checked >= 40


def _longest(limit: int, field: str) -> str:
    """A valid text of exactly ``limit`` characters for ``field``, unique per call."""
    if field == "url":
        return ("https://help.example.com/" + uuid.uuid4().hex + "a" * limit)[:limit]
    return (uuid.uuid4().hex + "a" * limit)[:limit]


def _limit(component: str, prop: str, kind: str | None = None) -> int:
    schema = openapi_document()["components"]["schemas"][component]
    limit = max(_texts(schema["properties"][prop]))
    for rule in schema.get("allOf", []) if kind else []:
        if kind in rule["if"]["properties"]["kind"]["enum"]:
            limit = min([limit, *_texts(rule["then"].get("properties", {}).get(prop, {}))])
    return limit


@pytest.mark.parametrize("field", ["channel", "external_id"])
def test_the_longest_ticket_fields_are_stored_and_one_more_is_refused(own, field):
    app, client = own
    limit = _limit("TriageRequest", field)
    value = _longest(limit, field)
    r = client.post("/v1/triage", json={"body": "the printer is jammed", field: value})
    assert r.status_code == 201, r.get_json()
    assert client.get(f"/v1/tickets/{r.get_json()['ticket_id']}").get_json()[field] == value
    before = count(app, Ticket)
    refused(client.post("/v1/triage", json={"body": "the printer is jammed", field: value + "a"}), field)
    assert count(app, Ticket) == before


@pytest.mark.parametrize("kind,field", [("tier_corrected", "value"), ("category_corrected", "value"),
                                        ("escalated", "agent_id"), ("escalated", "idempotency_key")])
def test_the_longest_feedback_texts_are_stored_and_one_more_is_refused(own, kind, field):
    app, client = own
    ticket_id = client.post("/v1/triage", json={"body": "the printer is jammed"}).get_json()["ticket_id"]
    limit = _limit("FeedbackRequest", field, kind)
    value = _longest(limit, field)
    event = {"kind": kind, "ticket_id": ticket_id, **({"value": "L2"} if kind.endswith("corrected") else {})}
    before = count(app, FeedbackEvent)
    refused(client.post("/v1/feedback", json={**event, field: value + "a"}), field)
    refused(client.post("/v1/feedback", json={"events": [{**event, field: value + "a"}]}), f"events.0.{field}")
    assert count(app, FeedbackEvent) == before
    r = client.post("/v1/feedback", json={**event, field: value})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()[field] == value
    record = client.get(f"/v1/tickets/{ticket_id}").get_json()
    assert record["feedback"][-1][field] == value
    if kind.endswith("corrected"):
        assert record[kind.split("_")[0]] == value


@pytest.mark.parametrize("field", ["id", "title", "category", "url"])
def test_the_longest_article_fields_are_stored_and_one_more_is_refused(own, field):
    app, client = own
    limit = _limit("ArticleCreate", field)
    value = _longest(limit, field)
    article = {"id": uuid.uuid4().hex, "title": "Printer jams", "body": "Open the tray and pull the paper out.",
               field: value}
    before = count(app, Article)
    refused(client.post("/v1/articles", json={**article, field: value + "a"}), field)
    assert count(app, Article) == before
    r = client.post("/v1/articles", json=article)
    assert r.status_code == 201, r.get_json()
    assert client.get(f"/v1/articles/{article['id']}").get_json()[field] == value


def test_the_longest_handler_and_key_name_are_stored_and_one_more_is_refused(own):
    app, client = own
    ticket_id = client.post("/v1/triage", json={"body": "the printer is jammed"}).get_json()["ticket_id"]
    handler = _longest(_limit("GapsHandled", "handled_by"), "handled_by")
    refused(client.post("/v1/gaps/handled", json={"ticket_ids": [ticket_id], "handled_by": handler + "a"}),
            "handled_by")
    r = client.post("/v1/gaps/handled", json={"ticket_ids": [ticket_id], "handled_by": handler})
    assert r.status_code == 200 and r.get_json()["handled"] == 1
    with app.extensions["kbtriage"].db.session() as s:
        assert s.get(Ticket, ticket_id).gap_handled_by == handler
    name = _longest(_limit("ApiKeyCreate", "name"), "name")
    refused(client.post("/v1/api-keys", json={"name": name + "a", "role": "agent"}), "name")
    r = client.post("/v1/api-keys", json={"name": name, "role": "agent"})
    assert r.status_code == 201 and r.get_json()["name"] == name
    assert name in [k["name"] for k in client.get("/v1/api-keys").get_json()["items"]]


def test_a_tier_too_long_for_the_ticket_is_refused_by_every_entry_point(session):
    """The domain check (CLI imports of feedback too), not only the API's schema."""
    from triage import service as triage_service

    triage_service.import_tickets(session=session, records=[{"subject": "printer", "body": "jammed"}])
    ticket = session.scalar(select(Ticket))
    limit = Ticket.__table__.c.tier.type.length
    with pytest.raises(ValidationError) as caught:
        feedback.record(session=session, event={"kind": "tier_corrected", "ticket_id": ticket.id,
                                                "value": "T" * (limit + 1)})
    assert caught.value.field == "value"
    session.rollback()
    row, created = feedback.record(session=session, event={"kind": "tier_corrected", "ticket_id": ticket.id,
                                                           "value": "T" * limit})
    session.commit()
    assert created and session.get(Ticket, ticket.id).tier == "T" * limit


# The document declares what really comes back.
def test_the_document_declares_413_500_and_the_feedback_answer(own):
    app, client = own
    document = client.get("/v1/openapi.json").get_json()
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            if isinstance(op, dict) and "responses" in op:
                assert "500" in op["responses"], (method, path)
                assert ("413" in op["responses"]) == ("requestBody" in op), (method, path)
    r = client.post("/v1/triage", data=b'{"body": "' + b"x" * (9 * 1024 * 1024) + b'"}',
                    content_type="application/json")
    refused(r, None, code="request_entity_too_large", status=413)
    ticket_id = client.post("/v1/triage", json={"body": "the printer is jammed"}).get_json()["ticket_id"]
    answer = client.post("/v1/feedback", json={"kind": "resolved", "ticket_id": ticket_id, "first_touch": True,
                                               "agent_id": "a-1"}).get_json()
    declared = document["components"]["schemas"]["Feedback"]
    assert set(declared["required"]) == set(answer) == set(declared["properties"])
    for name, value in answer.items():
        kinds = declared["properties"][name]["type"]
        kinds = [kinds] if isinstance(kinds, str) else kinds
        python = {"integer": int, "string": str, "boolean": bool, "null": type(None)}
        assert any(isinstance(value, python[k]) and not (k == "integer" and isinstance(value, bool))
                   for k in kinds), (name, value, kinds)


def test_a_corrected_priority_must_be_one_the_desk_uses(own):
    """An invented priority would be ranked with the others by the next training run, perhaps as the
    most urgent (the escalation label); a typo would become a class of its own."""
    app, client = own
    ticket_id = client.post("/v1/triage", json={"body": "the printer is jammed"}).get_json()["ticket_id"]
    before = count(app, FeedbackEvent)
    for value in ("P0", "p2", "urgent!!"):
        error = refused(client.post("/v1/feedback", json={"kind": "priority_corrected", "ticket_id": ticket_id,
                                                          "value": value}), "value")
        assert f"'{value}' is not a priority this desk uses" in error["message"] and "P1, P2, P3, P4" in error["message"]
    assert count(app, FeedbackEvent) == before
    r = client.post("/v1/feedback", json={"kind": "priority_corrected", "ticket_id": ticket_id, "value": "P2"})
    assert r.status_code == 201, r.get_json()
    # A desk's own labels, as its tickets carry them, are priorities too.
    with app.extensions["kbtriage"].db.session() as s:
        s.get(Ticket, ticket_id).priority = "Sev-1"
        s.commit()
    r = client.post("/v1/feedback", json={"kind": "priority_corrected", "ticket_id": ticket_id, "value": "Sev-1"})
    assert r.status_code == 201, r.get_json()


@pytest.mark.parametrize("method, path, payload, field, meant", [
    ("post", "/v1/articles", {"id": "-bad", "title": "x"}, "id", "must start with a letter or digit"),
    ("post", "/v1/api-keys", {"name": "x 1", "role": "intake"}, "name", "must start with a letter or digit"),
    ("put", "/v1/priority/matrix", {"matrix": []}, "matrix", "Input should be an object"),
    ("get", "/v1/gaps?since=2026", None, "since", "since: expected an ISO-8601 date or time"),
    ("post", "/v1/triage", {"body": "x", "k": 1e308}, "k", "whole number"),
])
def test_a_refusal_says_what_a_rule_means_not_how_it_is_written(own, method, path, payload, field, meant):
    app, client = own
    response = getattr(client, method)(path, **({"json": payload} if payload is not None else {}))
    error = refused(response, field)
    assert meant in error["message"], error
    assert not any(internal in error["message"] for internal in
                   ("^", "[A-Za-z", "Value error", "PriorityMatrix", "input string")), error


def test_a_domain_refusal_starts_with_the_field_it_names(own):
    app, client = own
    first = client.post("/v1/triage", json={"body": "the printer is jammed"}).get_json()
    second = client.post("/v1/triage", json={"body": "my vpn drops"}).get_json()
    event = {"kind": "escalated", "decision_id": first["id"], "ticket_id": second["ticket_id"]}
    error = refused(client.post("/v1/feedback", json=event), "ticket_id")
    assert error["message"].startswith("ticket_id: decision "), error
    escalated = {"kind": "escalated", "ticket_id": first["ticket_id"]}
    error = refused(client.post("/v1/feedback", json={"events": [escalated, event]}), "events.1.ticket_id")
    assert error["message"].startswith("events.1.ticket_id: decision "), error
    error = refused(client.post("/v1/feedback", json={"events": [{"kind": "rejected", "ticket_id": first["ticket_id"],
                                                                    "article_id": "a", "reason": "outdated"}]}),
                    "events.0.article_id", code="not_found", status=404)
    assert error["message"].startswith("events.0.article_id"), error


def test_an_imported_article_id_a_new_one_may_not_take_is_served_changed_and_named_in_feedback(own, tmp_path):
    """A help desk's export (or Banking77's labels) may use ids such as 'reverted_card_payment?':
    the import keeps them, and the API can read, change and accept them."""
    from kb import service as kb_service
    from kb.importers import read_articles

    app, client = own
    rt = app.extensions["kbtriage"]
    (tmp_path / "kb.csv").write_text("id,title,body\nreverted_card_payment?,Reverted card payment,"
                                     "Why a card payment was reverted and when the money is back.\n")
    with rt.db.session() as s:
        kb_service.upsert_many(session=s, store=rt.store, items=read_articles(tmp_path / "kb.csv"))
    assert client.get("/v1/articles/reverted_card_payment%3F").status_code == 200
    r = client.patch("/v1/articles/reverted_card_payment%3F", json={"title": "A reverted card payment"})
    assert r.status_code == 200, r.get_json()
    ticket_id = client.post("/v1/triage", json={"body": "my card payment was reverted"}).get_json()["ticket_id"]
    r = client.post("/v1/feedback", json={"kind": "accepted", "ticket_id": ticket_id,
                                          "article_id": "reverted_card_payment?"})
    assert r.status_code == 201, r.get_json()
    # A new article still takes an id that any address can carry.
    refused(client.post("/v1/articles", json={"id": "new?", "title": "x"}), "id")
