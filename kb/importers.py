"""Read articles from a folder of Markdown files with front matter, or from JSONL / CSV files."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import yaml

from kb.tables import Article
from kbtriage.errors import ValidationError
from kbtriage.files import without_nul

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.S)


def _tags(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = re.split(r"[;,|]", value)
    return [str(t).strip() for t in value if str(t).strip()]


def normalise(raw: dict, where: str) -> dict:
    """One article record with checked fields: id, title, body, category, tags (NUL characters
    dropped, as from ticket files)."""
    raw = without_nul(raw)
    category = raw.get("category")
    record = {
        "id": str(raw.get("id") or "").strip(),
        "title": str(raw.get("title") or "").strip(),
        "body": str(raw.get("body") or "").strip(),
        "category": str(category).strip() if category not in (None, "") else None,
        "tags": _tags(raw.get("tags")),
    }
    if not record["id"]:
        raise ValidationError(f"{where}: article has no id", field="id")
    if not record["title"]:
        raise ValidationError(f"{where}: article {record['id']!r} has no title", field="title")
    for name in ("id", "title", "category"):  # as the table stores them (PostgreSQL refuses longer)
        limit = Article.__table__.c[name].type.length
        if record[name] is not None and len(record[name]) > limit:
            raise ValidationError(f"{where}: article {record['id'][:40]!r}: {name} longer than {limit} characters",
                                  field=name)
    return record


def parse_markdown(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    match = _FRONT.match(text)
    if not match:
        raise ValidationError(f"{path}: no front matter (--- id/title/category/tags ---)", field="front_matter")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ValidationError(f"{path}: front matter is not valid YAML: {exc}", field="front_matter") from exc
    body = match.group(2).strip()
    # The first heading usually repeats the title; keep the body as written otherwise.
    meta.setdefault("id", path.stem)
    return normalise({**meta, "body": body}, str(path))


def read_articles(path: str | Path) -> list[dict]:
    """All articles under ``path``: a folder of .md files, a .jsonl/.json file or a .csv file."""
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{path}: no such file or folder", field="path")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.md") if p.name.lower() != "readme.md")
        items = [parse_markdown(p) for p in files]
    elif path.suffix.lower() in (".jsonl", ".json"):
        items = []
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        items.append(normalise(json.loads(line), f"{path}:{n}"))
                    except json.JSONDecodeError as exc:
                        raise ValidationError(f"{path}:{n}: not JSON: {exc}", field="line") from exc
    elif path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"id", "title", "body"} - set(reader.fieldnames or [])
            if missing:
                raise ValidationError(f"{path}: missing columns {sorted(missing)}", field="columns")
            items = [normalise(row, f"{path}:{n}") for n, row in enumerate(reader, 2)]
    elif path.suffix.lower() == ".md":
        items = [parse_markdown(path)]
    else:
        raise ValidationError(f"{path}: expected a folder of .md files, .jsonl or .csv", field="path")
    seen: set[str] = set()
    for item in items:
        if item["id"] in seen:
            raise ValidationError(f"{path}: article id {item['id']!r} appears twice", field="id")
        seen.add(item["id"])
    return items
