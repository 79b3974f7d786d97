"""Read rows of tickets from CSV or JSONL files (or standard input) for import and batch triage."""
from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Iterator

from kbtriage.errors import ValidationError
from kbtriage.files import without_nul
from triage.tables import ticket_text

csv.field_size_limit(10_000_000)


def detect_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    return "csv"


def read_rows(path: str, fmt: str | None = None) -> tuple[list[str], list[dict]]:
    """(column names, rows) from a CSV/JSONL file, or from standard input when ``path`` is '-'.
    NUL characters are dropped from the text (:func:`without_nul`)."""
    fmt = fmt or ("csv" if path == "-" else detect_format(path))
    if path == "-":
        handle = io.StringIO(sys.stdin.read())
    else:
        if not Path(path).is_file():
            raise ValidationError(f"{path}: no such file", field="path")
        handle = open(path, encoding="utf-8", newline="")
    with handle:
        if fmt == "jsonl":
            rows = []
            for n, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ValidationError(f"{path}:{n}: not JSON: {exc}", field="line") from exc
                    if not isinstance(row, dict):
                        raise ValidationError(f"{path}:{n}: each line must be a JSON object", field="line")
                    rows.append(without_nul(row))
            columns = list(dict.fromkeys(c for r in rows for c in r))
            return columns, rows
        reader = csv.DictReader(handle)
        rows = [without_nul(row) for row in reader]
        return without_nul(list(reader.fieldnames or [])), rows


def require_columns(columns: list[str], wanted: dict[str, str | None], path: str) -> None:
    """Raise naming the option whose column is missing from the file."""
    for option, column in wanted.items():
        if column and column not in columns:
            raise ValidationError(f"{path}: no column {column!r} (given by {option}); columns are {columns}",
                                  field=option)


def iter_text(row: dict, text_column: str, subject_column: str | None) -> str:
    subject = str(row.get(subject_column) or "").strip() if subject_column else ""
    body = str(row.get(text_column) or "").strip()
    return ticket_text(subject, body)


def batched(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
