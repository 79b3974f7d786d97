"""Reading KB articles and ticket files: formats, and clear errors for bad input."""
import pytest

from kb.chunking import chunk_article
from kb.importers import read_articles
from kbtriage.errors import ValidationError


def test_markdown_folder_jsonl_and_csv(tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text("---\nid: sso-reset\ntitle: Reset SSO\ncategory: login\ntags: [sso, okta]\n---\n"
                                 "# Reset SSO\n\nGo to Settings.\n")
    (folder / "README.md").write_text("not an article")
    [art] = read_articles(folder)
    assert art == {"id": "sso-reset", "title": "Reset SSO", "body": "# Reset SSO\n\nGo to Settings.",
                   "category": "login", "tags": ["sso", "okta"]}
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
                                                      "tags": ["t"]}


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
