"""Read rows of tickets from CSV, JSONL or JSON files (or standard input) for import and batch triage.

A JSON file may be a help desk's API page as saved: Zendesk's ``{"tickets": [...]}`` (or a search's
``{"results": [...]}``), ServiceNow's ``{"result": [...]}``, Freshdesk's list. Fields nested in
objects are named by their path (``via.channel``, ``assignment_group.display_value``)."""
from __future__ import annotations

import csv
import sys
from contextlib import contextmanager
from pathlib import Path
from itertools import islice
from typing import Iterable, Iterator

from common.errors import ValidationError, some_of
from common.files import json_document, json_lines, without_nul
from triage.tables import ticket_text

csv.field_size_limit(10_000_000)


def detect_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "json" if suffix == ".json" else "csv"


def field_paths(row: dict, prefix: str = "") -> Iterator[str]:
    """The names a row's fields go by: its keys, and the dotted paths of fields in nested objects."""
    for key, value in row.items():
        yield prefix + key
        if isinstance(value, dict):
            yield from field_paths(value, f"{prefix}{key}.")


def value(row: dict, column: str | None):
    """The value of ``column`` in ``row``: a key, or a dotted path into nested objects."""
    if not column:
        return None
    if column in row:
        return row[column]
    for part in column.split("."):
        if not isinstance(row, dict) or part not in row:
            return None
        row = row[part]
    return row


class RowFile:
    """A CSV/JSONL file of tickets (or CSV on standard input when ``path`` is '-'), read row by row
    so that a file of any size is triaged in bounded memory; or a JSON document (an API page),
    which is read whole.

    :meth:`open` reads a file through once: it learns the column names (a JSONL file's are the keys
    of all its lines; ``fields`` adds the dotted paths of nested fields), counts the rows, and finds
    a malformed line before any work starts, naming it. Standard input is read once, as it streams:
    its count is unknown (``None``) and :meth:`rows` can be iterated only once. NUL characters are
    dropped from the text (:func:`without_nul`)."""

    def __init__(self, path: str, fmt: str, columns: list[str], count: int | None, stdin_reader=None,
                 fields: list[str] | None = None, document: list[dict] | None = None):
        self.path, self.fmt, self.columns, self.count = path, fmt, columns, count
        self.fields = fields or columns
        self._stdin_reader, self._document = stdin_reader, document

    @classmethod
    def open(cls, path: str, fmt: str | None = None) -> "RowFile":
        fmt = fmt or ("csv" if path == "-" else detect_format(path))
        if path == "-":
            reader = csv.DictReader(sys.stdin)
            return cls(path, fmt, _csv_columns(reader, path), None, stdin_reader=reader)
        with _open(path) as handle:
            if fmt == "json":
                document = json_document(handle.read(), path)
                if document is None:  # JSON Lines in a .json file
                    return cls.open(path, "jsonl")
                columns = dict.fromkeys(key for row in document for key in row)
                fields = dict.fromkeys(key for row in document for key in field_paths(row))
                return cls(path, fmt, list(columns), len(document), fields=list(fields), document=document)
            if fmt == "jsonl":
                columns, fields, count = {}, {}, 0
                for _, row in json_lines(handle, path):
                    columns.update(dict.fromkeys(row))
                    fields.update(dict.fromkeys(field_paths(row)))
                    count += 1
                return cls(path, fmt, list(columns), count, fields=list(fields))
            reader = csv.DictReader(handle)
            columns = _csv_columns(reader, path)
            return cls(path, fmt, columns, sum(1 for _ in _csv_rows(reader, path)))

    def rows(self) -> Iterator[dict]:
        if self._document is not None:
            yield from self._document
            return
        if self.path == "-":
            reader, self._stdin_reader = self._stdin_reader, None
            if reader is None:
                raise RuntimeError("standard input can be read only once")
            yield from _csv_rows(reader, self.path)
            return
        with _open(self.path) as handle:
            if self.fmt == "jsonl":
                yield from (row for _, row in json_lines(handle, self.path))
            else:
                yield from _csv_rows(csv.DictReader(handle), self.path)


def read_rows(path: str, fmt: str | None = None) -> tuple[list[str], list[dict]]:
    """(field names, nested paths included, rows) of a whole :class:`RowFile`, in memory."""
    source = RowFile.open(path, fmt)
    return source.fields, list(source.rows())


def _open(path: str):
    if not Path(path).is_file():
        raise ValidationError(f"{path}: no such file", field="path")
    return open(path, encoding="utf-8", newline="")


@contextmanager
def _csv_errors(reader: csv.DictReader, path: str):
    """The csv module's errors (a field past the size limit) as a validation error naming the line."""
    try:
        yield
    except csv.Error as exc:
        raise ValidationError(f"{path}:{reader.line_num + 1}: not valid CSV: {exc}", field="line") from exc


def _csv_columns(reader: csv.DictReader, path: str) -> list[str]:
    with _csv_errors(reader, path):
        return without_nul(list(reader.fieldnames or []))


def _csv_rows(reader: csv.DictReader, path: str) -> Iterator[dict]:
    with _csv_errors(reader, path):
        yield from (without_nul(r) for r in reader)


def require_columns(columns: list[str], wanted: dict[str, str | None], path: str) -> None:
    """Raise naming the option whose column is missing from the file."""
    for option, column in wanted.items():
        if column and column not in columns:
            raise ValidationError(f"{path}: no column {column!r} (given by {option}); columns are "
                                  f"{some_of(columns, 40, repr)}", field=option)


def iter_text(row: dict, text_column: str, subject_column: str | None) -> str:
    subject = str(value(row, subject_column) or "").strip()
    body = str(value(row, text_column) or "").strip()
    return ticket_text(subject, body)


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of ``size`` items (the last one shorter), taken from any iterable as they are needed."""
    it = iter(items)
    while part := list(islice(it, size)):
        yield part
