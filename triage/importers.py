"""Read rows of tickets from CSV, JSONL or JSON files (or standard input) for import and batch triage.

A JSON file may be a help desk's API page as saved: Zendesk's ``{"tickets": [...]}`` (or a search's
``{"results": [...]}``), ServiceNow's ``{"result": [...]}``, Freshdesk's list. Fields nested in
objects are named by their path (``via.channel``, ``assignment_group.display_value``)."""
from __future__ import annotations

import shutil
import sys
import tempfile
import weakref
from itertools import islice
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

from common.errors import ValidationError, some_of
from common.files import (BadFile, csv_records, decoded_lines, json_document, json_lines, read_text,
                          text_lines)
from triage.tables import Ticket, ticket_text

STDIN = "standard input"


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
    a malformed line before any work starts, naming it (:class:`common.files.BadFile`): a CSV row
    with more or fewer values than the header, a line that is not JSON, text that is neither UTF-8
    nor Windows-1252 (read with a ``note``), no rows at all. CSV is separated by ``,`` ``;`` or tab,
    as its header line shows. Standard input is copied to a temporary file first, so that it is
    checked whole, as a file is, before any work starts. NUL characters are dropped from the text
    (:func:`common.files.without_nul`)."""

    def __init__(self, path: str, fmt: str, columns: list[str], count: int | None, *,
                 fields: list[str] | None = None, document: list[dict] | None = None,
                 spool: IO[bytes] | None = None, header_line: int | None = None):
        self.path, self.fmt, self.columns, self.count = path, fmt, columns, count
        self.fields = fields or columns
        self.header_line = header_line  # a CSV file's, to name it when a column is missing
        self._document, self._spool = document, spool
        if spool is not None:
            weakref.finalize(self, spool.close)  # the temporary file goes with the RowFile

    @property
    def name(self) -> str:
        """The file as messages name it."""
        return STDIN if self.path == "-" else self.path

    @classmethod
    def open(cls, path: str, fmt: str | None = None, *, note: Callable[[str], None] = lambda m: None
             ) -> "RowFile":
        fmt = fmt or ("csv" if path == "-" else detect_format(path))
        if path == "-":
            return cls._open_stdin(note)
        if fmt == "json":
            document = json_document(read_text(path, note), path)
            if document is None:  # JSON Lines in a .json file
                return cls.open(path, "jsonl", note=note)
            if not document:
                raise BadFile(f"{path}: holds no tickets (an empty list)", field="path")
            columns = dict.fromkeys(key for row in document for key in row)
            fields = dict.fromkeys(key for row in document for key in field_paths(row))
            return cls(path, fmt, list(columns), len(document), fields=list(fields), document=document)
        with text_lines(path, note) as lines:
            if fmt == "jsonl":
                columns, fields, count = {}, {}, 0
                for _, row in json_lines(lines, path):
                    columns.update(dict.fromkeys(row))
                    fields.update(dict.fromkeys(field_paths(row)))
                    count += 1
                if not count:
                    raise BadFile(f"{path}: empty file; expected one JSON object per line", field="path")
                return cls(path, fmt, list(columns), count, fields=list(fields))
            columns, header_line, records = csv_records(lines, path)
            count = sum(1 for _ in records)
        if not count:
            raise BadFile(f"{path}: no rows after the header (line {header_line})", field="path")
        return cls(path, fmt, columns, count, header_line=header_line)

    @classmethod
    def _open_stdin(cls, note) -> "RowFile":
        spool = tempfile.TemporaryFile()
        try:
            source = getattr(sys.stdin, "buffer", None)
            if source is None:  # a text stream put in its place
                spool.write(sys.stdin.read().encode("utf-8"))
            else:
                shutil.copyfileobj(source, spool)
            spool.seek(0)
            columns, header_line, records = csv_records(decoded_lines(spool, STDIN, note), STDIN)
            count = sum(1 for _ in records)
            if not count:
                raise BadFile(f"{STDIN}: no rows after the header (line {header_line})", field="path")
        except BaseException:
            spool.close()
            raise
        return cls("-", "csv", columns, count, spool=spool, header_line=header_line)

    def numbered(self) -> Iterator[tuple[str, dict]]:
        """(where, row) for each row: where names the file and the line ("t.csv:7") or, in a JSON
        document, the record ("t.json: ticket 3")."""
        if self._document is not None:
            yield from ((f"{self.path}: ticket {n}", row) for n, row in enumerate(self._document, 1))
            return
        if self._spool is not None:
            self._spool.seek(0)
            yield from ((f"{STDIN}:{n}", row) for n, row in csv_records(decoded_lines(self._spool, STDIN), STDIN)[2])
            return
        with text_lines(self.path) as lines:
            numbered = json_lines(lines, self.path) if self.fmt == "jsonl" else csv_records(lines, self.path)[2]
            yield from ((f"{self.path}:{n}", row) for n, row in numbered)

    def rows(self) -> Iterator[dict]:
        return (row for _, row in self.numbered())

    def require(self, wanted: dict[str, str | None]) -> None:
        """Raise naming the option whose column is missing from the file, and the columns it has."""
        where = f"{self.name}:{self.header_line}" if self.header_line else self.name
        require_columns(self.fields, wanted, where)


def read_rows(path: str, fmt: str | None = None) -> tuple[list[str], list[dict]]:
    """(field names, nested paths included, rows) of a whole :class:`RowFile`, in memory."""
    source = RowFile.open(path, fmt)
    return source.fields, list(source.rows())


def require_columns(columns: list[str], wanted: dict[str, str | None], path: str) -> None:
    """Raise naming the option whose column is missing from the file (``path``: the file, or its
    header line, as "t.csv:1"), and the columns it has."""
    if not columns:  # a JSON document with no records' fields in it, e.g. {}
        raise BadFile(f"{path}: holds no tickets (no fields to read)", field="path")
    for option, column in wanted.items():
        if column and column not in columns:
            raise BadFile(f"{path}: no column {column!r} (given by {option}); the columns are "
                          f"{some_of(columns, 40, repr)}", field=option)


def check_records(records: Iterable[dict], wheres: Iterable[str]) -> None:
    """Refuse, naming the line, a record that the import would refuse: a creation time that is not
    ISO-8601, or a value longer than its column (:func:`triage.service.import_tickets` checks the
    same, naming the record's position; a file's line says more)."""
    from triage.service import _parse_time

    limits = {name: Ticket.__table__.c[name].type.length for name in ("external_id", "channel", "category", "tier", "priority")}
    for where, rec in zip(wheres, records):
        try:
            _parse_time(rec.get("created_at"))
        except ValidationError as exc:  # it names no line
            raise BadFile(f"{where}: {exc.message}", field=exc.field) from None
        for name, limit in limits.items():
            found = rec.get(name)
            if found is not None and len(str(found)) > limit:
                raise BadFile(f"{where}: {name} is longer than {limit} characters ({str(found)[:40]!r}...)",
                              field=name)


def iter_text(row: dict, text_column: str, subject_column: str | None) -> str:
    subject = str(value(row, subject_column) or "").strip()
    body = str(value(row, text_column) or "").strip()
    return ticket_text(subject, body)


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of ``size`` items (the last one shorter), taken from any iterable as they are needed."""
    it = iter(items)
    while part := list(islice(it, size)):
        yield part
