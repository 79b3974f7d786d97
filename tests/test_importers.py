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
