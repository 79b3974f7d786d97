"""Read articles: a folder of Markdown files with front matter, HTML pages, JSONL / CSV files, or
the JSON that a help desk's API returns for its knowledge base (Zendesk Guide, Freshdesk solution
articles, ServiceNow kb_knowledge). HTML bodies become plain text with their paragraphs
(kb.markup); articles those help desks mark as drafts or not published are left out and named, so
a re-import after an article is retired can take it out of the suggestions."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import yaml

from kb.markup import BODY_FORMATS, body_text, html_page
from kb.rules import check_article
from common.errors import ValidationError
from common.files import BadFile, csv_records, json_document, json_lines, read_text, text_lines, without_nul

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.S)
SUFFIXES = (".md", ".html", ".htm", ".jsonl", ".json", ".csv")


_SCALARS = (str, int, float)


def _tags(value, where: str, article: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = re.split(r"[;,|]", value)
    if not isinstance(value, list) or not all(isinstance(t, _SCALARS) and not isinstance(t, bool) for t in value):
        raise BadFile(f"{where}: article {article}: tags must be a list of words or text separated by , ; or |",
                      field="tags")
    return [str(t).strip() for t in value if str(t).strip()]


def _text(raw: dict, name: str, where: str, article: str) -> str | None:
    """Field ``name`` of ``raw`` as text (numbers too: help desks' ids are), None when absent."""
    value = raw.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, _SCALARS):
        raise BadFile(f"{where}: article {article}: {name} must be text, not {type(value).__name__}", field=name)
    return str(value)


def normalise(raw: dict, where: str) -> dict:
    """One article record with checked fields: id, title, body, category, tags, url (NUL characters
    dropped, as from ticket files), held to the rules of the API (kb.rules; ids as the file gives
    them). The body is converted
    from HTML when ``body_format`` says "html", or when it is not given and the body starts with an
    HTML element."""
    raw = without_nul(raw)
    article = repr(str(raw.get("id") or "")[:40]) if raw.get("id") not in (None, "") else "without an id"
    body_format = raw.get("body_format") or None
    if body_format is not None and body_format not in BODY_FORMATS:
        raise BadFile(f"{where}: body_format must be one of {', '.join(BODY_FORMATS)}", field="body_format")
    fields = {name: (_text(raw, name, where, article) or "").strip() or None
              for name in ("id", "title", "body", "category", "url")}
    record = {"id": fields["id"] or "", "title": fields["title"] or "",
              "body": body_text(fields["body"] or "", body_format).strip(), "category": fields["category"],
              "tags": _tags(raw.get("tags"), where, article), "url": fields["url"]}
    if not record["id"]:
        raise BadFile(f"{where}: article has no id", field="id")
    if not record["title"]:
        raise BadFile(f"{where}: article {record['id']!r} has no title", field="title")
    try:
        check_article(record, new_id=False)  # a help desk's own ids are kept as they are
    except ValidationError as exc:
        raise BadFile(f"{where}: article {article}: {exc}", field=exc.field) from None
    return record


def _id_of(path: Path) -> str:
    """The id of an article file that names none: its name, in the characters an id may hold
    ("Reset your password (SSO).md": Reset-your-password-SSO)."""
    return re.sub(r"[^A-Za-z0-9_.:\-]+", "-", path.stem).strip("-._:") or path.stem


def parse_markdown(path: Path, note: Callable[[str], None] = lambda m: None) -> dict:
    text = read_text(path, note)
    match = _FRONT.match(text)
    if not match:
        raise BadFile(f"{path}:1: no front matter (--- id/title/category/tags ---)", field="front_matter")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 2  # the front matter starts on line 2
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise BadFile(f"{path}:{line}: front matter is not valid YAML: {problem}", field="front_matter") from None
    if not isinstance(meta, dict):
        raise BadFile(f"{path}:2: front matter is not a mapping of id/title/category/tags", field="front_matter")
    # The first heading usually repeats the title; keep the body as written otherwise.
    meta.setdefault("id", _id_of(path))
    return {"body_format": "text", **meta, "body": match.group(2).strip()}


def from_help_desk(raw: dict) -> tuple[dict, str | None]:
    """A record of a help desk's knowledge-base API in this importer's fields, and the state that
    leaves it out (not published: "draft", "retired", ...) or None. Records of no known help desk
    are returned as they are.

    Zendesk Guide: id, title, body (HTML), label_names, html_url, draft. Freshdesk: id, title,
    description (HTML), tags, status (1 draft, 2 published). ServiceNow kb_knowledge: number (else
    sys_id), short_description, text (HTML), meta (keywords), workflow_state."""
    if "html_url" in raw or "label_names" in raw or "section_id" in raw:
        record = {"id": raw.get("id"), "title": raw.get("title") or raw.get("name"), "body": raw.get("body"),
                  "body_format": "html", "tags": raw.get("label_names"), "url": raw.get("html_url")}
        return record, "draft" if raw.get("draft") is True else None
    if "folder_id" in raw and ("description" in raw or "description_text" in raw):
        html = raw.get("description")
        record = {"id": raw.get("id"), "title": raw.get("title"), "body": html if html is not None
                  else raw.get("description_text"), "body_format": "html" if html is not None else "text",
                  "tags": raw.get("tags")}
        return record, "draft" if raw.get("status") == 1 else None
    if "short_description" in raw and ("sys_id" in raw or "number" in raw):
        record = {"id": raw.get("number") or raw.get("sys_id"), "title": raw.get("short_description"),
                  "body": raw.get("text"), "body_format": "html", "tags": raw.get("meta")}
        state = raw.get("workflow_state")
        return record, str(state) if state not in (None, "", "published") else None
    return raw, None


def read_articles(path: str | Path, *, left_out: Callable[[str, str], None] = lambda id_, why: None,
                  note: Callable[[str], None] = lambda m: None) -> list[dict]:
    """All articles under ``path``: a folder of article files (Markdown, HTML, JSON, JSONL, CSV),
    or one such file. ``left_out(id, why)`` is called for each article a help desk's export marks
    as a draft or not published; ``note(message)`` is told of a file read as Windows-1252. A file
    that cannot be read, or holds no article, raises :class:`common.files.BadFile` naming it and,
    where it can, the line; nothing is returned then."""
    path = Path(path)
    if not path.exists():
        raise BadFile(f"{path}: no such file or folder", field="path")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()
                       and p.name.lower() != "readme.md")
        if not files:
            raise BadFile(f"{path}: a folder with no article file (.md, .html, .json, .jsonl or .csv)", field="path")
    elif path.suffix.lower() in SUFFIXES:
        files = [path]
    else:
        raise BadFile(f"{path}: expected a folder or a .md, .html, .json, .jsonl or .csv file", field="path")
    items, wheres = [], []
    for file in files:
        for raw, where in _records(file, note):
            if file.suffix.lower() in (".json", ".jsonl", ".csv"):
                raw, why = from_help_desk(raw)
                if why:
                    left_out(str(raw.get("id") or where), why)
                    continue
            items.append(normalise(raw, where))
            wheres.append(where)
    seen: dict[str, str] = {}
    for item, where in zip(items, wheres):
        if item["id"] in seen:
            raise BadFile(f"{where}: article id {item['id']!r} appears twice (first at {seen[item['id']]})",
                          field="id")
        seen[item["id"]] = where
    return items


CSV_COLUMNS = ("id", "title", "body")


def _records(path: Path, note: Callable[[str], None]):
    """(record, where) for each article in one file, as written (not yet checked); an empty file,
    or one with no article, is refused."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv_articles(path, note)
        return
    text = read_text(path, note)
    if not text.strip():
        raise BadFile(f"{path}: empty file; it holds no article", field="path")
    if suffix == ".md":
        yield parse_markdown(path, note), str(path)
    elif suffix in (".html", ".htm"):
        title, body = html_page(text)
        yield {"id": _id_of(path), "title": title, "body": body, "body_format": "text"}, str(path)
    else:
        document = json_document(text, path, "article")
        if document is not None:
            if not document:
                raise BadFile(f"{path}: holds no article (an empty list)", field="path")
            for n, raw in enumerate(document, 1):
                yield raw, f"{path}: article {n}"
            return
        for n, raw in json_lines(text.splitlines(), path):
            yield raw, f"{path}:{n}"


def _csv_articles(path: Path, note: Callable[[str], None]):
    with text_lines(path, note) as lines:
        columns, header_line, records = csv_records(lines, path)
        missing = [c for c in CSV_COLUMNS if c not in columns]
        if missing:
            raise BadFile(f"{path}:{header_line}: no column {', '.join(map(repr, missing))} (articles need "
                          f"{', '.join(CSV_COLUMNS)}); the columns are {', '.join(map(repr, columns))}",
                          field="columns")
        count = 0
        for n, row in records:
            count += 1
            yield row, f"{path}:{n}"
        if not count:
            raise BadFile(f"{path}: no rows after the header (line {header_line})", field="path")

