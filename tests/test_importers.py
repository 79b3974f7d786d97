"""Reading KB articles and ticket files: formats (help desks' exports and HTML bodies too), and
clear errors for bad input."""
import json

import pytest

from kb.chunking import chunk_article
from kb.importers import read_articles
from kb.markup import html_page, html_to_text, looks_like_html
from common.errors import ValidationError


def test_markdown_folder_jsonl_and_csv(tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text("---\nid: sso-reset\ntitle: Reset SSO\ncategory: login\ntags: [sso, okta]\n---\n"
                                 "# Reset SSO\n\nGo to Settings.\n")
    (folder / "README.md").write_text("not an article")
    [art] = read_articles(folder)
    assert art == {"id": "sso-reset", "title": "Reset SSO", "body": "# Reset SSO\n\nGo to Settings.",
                   "category": "login", "tags": ["sso", "okta"], "url": None}
    (tmp_path / "a.jsonl").write_text('{"id": "x", "title": "X", "body": "b", "tags": "p;q"}\n')
    assert read_articles(tmp_path / "a.jsonl")[0]["tags"] == ["p", "q"]
    (tmp_path / "a.csv").write_text("id,title,body\ny,Y,some body\n")
    assert read_articles(tmp_path / "a.csv")[0]["body"] == "some body"


@pytest.mark.parametrize("name,content,field", [
    ("bad.csv", "id,title\nx,X\n", "columns"),
    ("dup.csv", "id,title,body\nx,X,b\nx,Y,c\n", "id"),
    ("notitle.jsonl", '{"id": "x", "body": "b"}\n', "title"),
    ("broken.jsonl", '{"id": \n', "line"),
    ("a.txt", "hello", "path"),
    ("long.jsonl", '{"id": "x", "title": "%s"}\n' % ("t" * 501), "title"),
    ("cat.jsonl", '{"id": "x", "title": "X", "category": "%s"}\n' % ("c" * 201), "category"),
])
def test_bad_article_files_name_the_problem(tmp_path, name, content, field):
    (tmp_path / name).write_text(content)
    with pytest.raises(ValidationError) as err:
        read_articles(tmp_path / name)
    assert err.value.field == field


def test_html_keeps_the_structure_that_splits_passages_and_drops_the_rest():
    html = """<h2>Reset your password</h2>
    <p>Forgot it?&nbsp;Open the <a href="/signin">sign-in page</a> &amp; click <strong>Forgot password</strong>.</p>
    <ol><li><p>Enter your email</p></li><li>Open the link<br>within 30 minutes<li>Done</ol>
    <script>var track = 1;</script><style>p {color: red}</style>
    <table><tr><th>Plan</th><th>Limit</th></tr><tr><td>Basic</td><td>5 GB</td></tr></table>
    <div><p>Still stuck?</p>Call the desk.</div><p></p><img src="x.png" alt="diagram"><hr>"""
    assert html_to_text(html) == (
        "## Reset your password\n\n"
        "Forgot it? Open the sign-in page & click Forgot password.\n\n"
        "- Enter your email\n- Open the link\nwithin 30 minutes\n- Done\n\n"
        "Plan | Limit\nBasic | 5 GB\n\n"
        "Still stuck?\n\nCall the desk.")
    assert looks_like_html("  <!-- generated --><p>Hi</p>") and looks_like_html("<DIV class='x'>Hi</DIV>")
    assert not looks_like_html("Use the <b> key") and not looks_like_html("# Heading\n\n<br> inside Markdown")
    page = ("<html><head><title>VPN - Help Center</title></head><body><nav>Home | KB</nav>"
            "<article><h1>Connect to the VPN</h1><p>Open the client.</p></article><footer>(c) Acme</footer></body></html>")
    assert html_page(page) == ("Connect to the VPN", "Open the client.")
    assert html_page(page.replace("<h1>Connect to the VPN</h1>", "")) == ("VPN - Help Center", "Open the client.")


def test_help_desk_exports_and_article_files_in_one_folder(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    # Zendesk Guide: GET /api/v2/help_center/articles, one page as returned
    (kb / "zendesk-page-1.json").write_text(json.dumps({"articles": [
        {"id": 360001, "html_url": "https://acme.zendesk.com/hc/en-us/articles/360001", "title": "Reset your SSO password",
         "body": "<p>Open <b>Settings</b>, then <i>Security</i>.</p>", "label_names": ["sso", "password"],
         "draft": False, "section_id": 12},
        {"id": 360002, "title": "Unfinished", "body": "<p>TODO</p>", "draft": True, "section_id": 12,
         "label_names": []}], "next_page": None, "count": 2}, indent=2))
    # Freshdesk: GET /api/v2/solutions/folders/ID/articles, a list
    (kb / "freshdesk.json").write_text(json.dumps([
        {"id": 5, "folder_id": 4, "category_id": 3, "title": "Printer offline", "status": 2, "tags": ["printer"],
         "description": "Turn the printer <b>off and on</b>", "description_text": "Turn the printer off and on"},
        {"id": 6, "folder_id": 4, "title": "Draft", "status": 1, "description": "<p>x</p>"}]))
    # ServiceNow: GET /api/now/table/kb_knowledge
    (kb / "servicenow.json").write_text(json.dumps({"result": [
        {"sys_id": "a1b2", "number": "KB0010001", "short_description": "VPN drops every hour",
         "text": "<div><h3>Cause</h3><p>Idle timeout.</p></div>", "workflow_state": "published", "meta": "vpn, timeout"},
        {"sys_id": "c3d4", "number": "KB0010002", "short_description": "Old fax guide", "text": "<p>fax</p>",
         "workflow_state": "retired"}]}))
    # kb-triage's own formats: JSONL (HTML detected, or said to be text), Markdown, a saved HTML page
    (kb / "more.jsonl").write_text(
        json.dumps({"id": "wifi", "title": "Guest Wi-Fi", "body": "<p>Network <em>acme-guest</em></p>"}) + "\n" +
        json.dumps({"id": "tags", "title": "HTML tags in mail", "body": "<p> stays", "body_format": "text"}) + "\n")
    (kb / "mfa.md").write_text("---\nid: mfa\ntitle: Set up MFA\ntags: [mfa]\n---\nInstall the app.\n")
    (kb / "README.md").write_text("not an article")
    (kb / "saved").mkdir()
    (kb / "saved" / "disk-full.html").write_text("<html><body><h1>Disk full</h1><p>Empty the trash.</p></body></html>")

    left_out = {}
    items = {a["id"]: a for a in read_articles(kb, left_out=left_out.__setitem__)}
    assert left_out == {"360002": "draft", "6": "draft", "KB0010002": "retired"}
    assert sorted(items) == ["360001", "5", "KB0010001", "disk-full", "mfa", "tags", "wifi"]
    assert items["360001"] | {"tags": sorted(items["360001"]["tags"])} == {
        "id": "360001", "title": "Reset your SSO password", "body": "Open Settings, then Security.",
        "category": None, "tags": ["password", "sso"], "url": "https://acme.zendesk.com/hc/en-us/articles/360001"}
    assert items["5"]["body"] == "Turn the printer off and on" and items["5"]["tags"] == ["printer"]
    assert items["KB0010001"]["title"] == "VPN drops every hour"
    assert items["KB0010001"]["body"] == "### Cause\n\nIdle timeout." and items["KB0010001"]["tags"] == ["vpn", "timeout"]
    assert items["wifi"]["body"] == "Network acme-guest" and items["tags"]["body"] == "<p> stays"
    assert items["mfa"]["body"] == "Install the app." and items["disk-full"] == {
        "id": "disk-full", "title": "Disk full", "body": "Empty the trash.", "category": None, "tags": [], "url": None}


@pytest.mark.parametrize("content, field, message", [
    ('{"id": "a", "title": "A", "body": "x", "body_format": "pdf"}', "body_format", "body_format must be one of"),
    ('[{"id": "a", "title": "A"}, "not an article"]', "line", "article 2 is not a JSON object"),
    ('{"articles": [{"id": 1, "html_url": "https://a.example/1", "body": "<p>x</p>"}]}', "title", "has no title"),
    ('{"id": "a", "title": "A"}\n{"id": "a", "title": "B"}\n', "id", "appears twice"),
    ('{"id": "a", "title": "A", "url": "javascript:alert(1)"}', "url", "url must be an http(s) address"),
])
def test_bad_article_documents_name_the_problem(tmp_path, content, field, message):
    path = tmp_path / "articles.json"
    path.write_text(content)
    with pytest.raises(ValidationError) as err:
        read_articles(path)
    assert err.value.field == field and message in str(err.value)


def test_chunks_carry_the_title_and_respect_the_budget():
    body = "\n\n".join(" ".join(f"w{i}" for i in range(50)) for _ in range(5))
    chunks = chunk_article("Title", body, words=120)
    assert len(chunks) == 3
    assert all(c.startswith("Title. ") for c in chunks)
    assert chunk_article("Only title", "") == ["Only title"]


def test_nul_characters_in_files_are_dropped_and_the_tickets_stored(tmp_path, session):
    """Exports sometimes carry NUL characters; PostgreSQL cannot store them (the import failed)."""
    from triage import service as triage_service
    from triage.importers import read_rows
    from triage.tables import Ticket

    (tmp_path / "t.csv").write_text('subject,body\nhello,"my printer\x00 is broken"\n')
    (tmp_path / "t.jsonl").write_text('{"body": "vpn \\u0000down", "meta": {"k\\u0000": "v\\u0000"}}\n')
    (_, [csv_row]), (_, [json_row]) = read_rows(str(tmp_path / "t.csv")), read_rows(str(tmp_path / "t.jsonl"))
    assert csv_row["body"] == "my printer is broken" and json_row == {"body": "vpn down", "meta": {"k": "v"}}
    triage_service.import_tickets(session=session, records=[{"subject": csv_row["subject"], "body": csv_row["body"]},
                                                            {"body": json_row["body"]}])
    assert sorted(t.body for t in session.query(Ticket)) == ["my printer is broken", "vpn down"]
    (tmp_path / "a.jsonl").write_text('{"id": "x", "title": "X\\u0000", "body": "b\\u0000", "tags": ["t\\u0000"]}\n')
    assert read_articles(tmp_path / "a.jsonl")[0] == {"id": "x", "title": "X", "body": "b", "category": None,
                                                      "tags": ["t"], "url": None}


def test_a_value_longer_than_its_column_refuses_the_import_and_names_it(session):
    """PostgreSQL refused such an import with an SQL error; now every database refuses it the same
    way, naming the ticket and the field, and stores nothing."""
    from triage import service as triage_service
    from triage.tables import Ticket

    # The ticket is named by its position among the records, skipped ones (no text) counted
    records = [{"body": "vpn is down", "tier": "L1"}, {"body": " ", "subject": ""},
               {"body": "printer jams", "tier": "tier-2-network-escalations"}]
    with pytest.raises(ValidationError) as err:
        triage_service.import_tickets(session=session, records=records)
    assert err.value.field == "tier" and "ticket 3" in err.value.message
    assert session.query(Ticket).count() == 0


def test_row_files_are_read_lazily_with_their_columns_and_count_known_up_front(tmp_path):
    """Batch triage reads a file row by row: the columns (a JSONL file's, from every line) and the
    number of rows are known when it is opened, and malformed input is named before any row is
    used."""
    import csv as csv_module

    from triage.importers import RowFile, batched

    (tmp_path / "t.jsonl").write_text('{"text": "a"}\n\n{"text": "b", "channel": "chat"}\n{"id": 3, "text": "c"}\n')
    source = RowFile.open(str(tmp_path / "t.jsonl"))
    assert (source.columns, source.count) == (["text", "channel", "id"], 3)
    rows = source.rows()
    assert next(rows) == {"text": "a"}  # a generator: nothing past the first row was read for it
    assert [len(b) for b in batched(source.rows(), 2)] == [2, 1]
    (tmp_path / "t.csv").write_text('id,text\n1,"line one\nline two"\n2,x\n')
    source = RowFile.open(str(tmp_path / "t.csv"))
    assert (source.columns, source.count) == (["id", "text"], 2)
    assert [r["text"] for r in source.rows()] == ["line one\nline two", "x"]

    limit = csv_module.field_size_limit(50)
    try:
        (tmp_path / "big.csv").write_text("id,text\n1,short\n2," + "x" * 60 + "\n")
        with pytest.raises(ValidationError) as err:
            RowFile.open(str(tmp_path / "big.csv"))
    finally:
        csv_module.field_size_limit(limit)
    assert "big.csv:3: not valid CSV" in str(err.value) and err.value.field == "line"


def test_ticket_exports_are_read_as_saved_with_nested_fields_by_path(tmp_path):
    """A help desk's API page (one JSON document) is read whole; fields inside objects are named by
    their dotted path; a .json file that holds JSON Lines is read as lines."""
    from triage.importers import RowFile, iter_text, value

    (tmp_path / "zendesk.json").write_text(json.dumps({"tickets": [
        {"id": 35436, "subject": "Printer on fire", "description": "The fire is very colourful.",
         "via": {"channel": "email", "source": {"from": {"address": "a@example.com"}}}, "tags": ["hardware"]},
        {"id": 35437, "subject": "VPN", "description": "Drops hourly", "via": {"channel": "web"}}],
        "next_page": None, "count": 2}, indent=2))
    source = RowFile.open(str(tmp_path / "zendesk.json"))
    assert source.count == 2 and source.columns == ["id", "subject", "description", "via", "tags"]
    assert {"via.channel", "via.source.from.address"} <= set(source.fields)
    rows = list(source.rows())
    assert [value(r, "via.channel") for r in rows] == ["email", "web"]
    assert value(rows[0], "via.source.from.address") == "a@example.com" and value(rows[1], "via.nowhere") is None
    assert iter_text(rows[0], "description", "subject") == "Printer on fire\nThe fire is very colourful."

    (tmp_path / "servicenow.json").write_text(json.dumps({"result": [
        {"number": "INC0010001", "short_description": "Email down", "description": "Outlook cannot connect",
         "category": "network", "assignment_group": {"display_value": "Service Desk", "value": "8a5055c9"}}]}))
    [row] = RowFile.open(str(tmp_path / "servicenow.json")).rows()
    assert value(row, "assignment_group.display_value") == "Service Desk"

    (tmp_path / "lines.json").write_text('{"text": "a"}\n{"text": "b"}\n')
    source = RowFile.open(str(tmp_path / "lines.json"))
    assert (source.fmt, source.count, [r["text"] for r in source.rows()]) == ("jsonl", 2, ["a", "b"])
    (tmp_path / "bad.json").write_text('[{"text": "a"}, ["not", "a", "ticket"]]')
    with pytest.raises(ValidationError) as err:
        RowFile.open(str(tmp_path / "bad.json"))
    assert "bad.json: record 2 is not a JSON object" in str(err.value) and err.value.field == "line"
