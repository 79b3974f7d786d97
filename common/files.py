"""Files: writing them so that readers see the old content or the new, never half of either, and
reading what exports hold the same way for articles and tickets: text in UTF-8 or, as Excel saves
it, Windows-1252; CSV separated by commas, semicolons or tabs; JSON Lines and JSON documents; NUL
characters. A file that cannot be read as what it should be raises :class:`BadFile`, naming the
file and the line."""
from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import tempfile
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Callable, Iterable, Iterator

from common.errors import ValidationError


class BadFile(ValidationError):
    """Input that cannot be read as the file it should be (missing, a folder, not text, ragged CSV,
    not JSON, no rows, a missing column). The message starts with the file and, where there is
    one, the line: ``tickets.csv:7: ...``. The command line exits with status 2 on it."""


def write_atomically(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp)`` to fill a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def file_lock(path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if absent) until the block ends: one
    holder at a time among processes, and among threads of one process too (each opens its own)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


STALE_AFTER_SECONDS = 3600.0


def prune_stale_temporaries(directory: Path, *, older_than: float = STALE_AFTER_SECONDS) -> list[str]:
    """Remove what a killed writer left in ``directory``: hidden temporaries (names starting with
    ``.``, as the writers here make them) not modified for ``older_than`` seconds. A live writer's
    temporary is minutes old at most, so it is left alone. Returns the names removed."""
    import shutil
    import time

    if not directory.is_dir():
        return []
    cutoff = time.time() - older_than
    removed = []
    for entry in directory.iterdir():
        if not entry.name.startswith(".") or entry.is_symlink():
            continue
        try:
            if entry.stat().st_mtime > cutoff:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue  # another process removed or replaced it first
        removed.append(entry.name)
    return removed


def without_nul(value):
    """``value`` with NUL characters removed from its text (nested too): exports sometimes carry
    them, they mean nothing, and PostgreSQL cannot store them."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def json_lines(lines, path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSON Lines file (``lines``: the open file,
    or its text's lines); a line that is not a JSON object is named."""
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadFile(f"{path}:{n}: not JSON: {exc.msg} (column {exc.colno}); each line must be "
                              f"one JSON object", field="line") from exc
            if not isinstance(row, dict):
                raise BadFile(f"{path}:{n}: each line must be a JSON object", field="line")
            yield n, without_nul(row)


# Where help desks' APIs put the records of one page: Zendesk ("tickets", "articles", search
# "results"), ServiceNow's Table API ("result"); Freshdesk returns a plain list.
PAGE_KEYS = ("tickets", "articles", "results", "result")


def json_document(text: str, path, noun: str = "record") -> list[dict] | None:
    """The records of a file that is one JSON document: a list, an API page holding them under one
    of PAGE_KEYS, or a single record (NUL characters dropped); a record that is not a JSON object
    is named ("PATH: NOUN 2 is not a JSON object"). None when the text is not one JSON document
    (JSON Lines)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if _first_line_is_json(text):
            return None
        raise BadFile(f"{path}:{exc.lineno}: not JSON: {exc.msg} (column {exc.colno})", field="line") from exc
    if isinstance(document, dict):
        document = next((document[key] for key in PAGE_KEYS if isinstance(document.get(key), list)), [document])
    if not isinstance(document, list):
        return None
    for n, record in enumerate(document, 1):
        if not isinstance(record, dict):
            raise BadFile(f"{path}: {noun} {n} is not a JSON object", field="line")
    return without_nul(document)


def _first_line_is_json(text: str) -> bool:
    """Whether the first non-blank line is JSON on its own (JSON Lines, not a broken document)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        json.loads(first)
    except json.JSONDecodeError:
        return False
    return True


# --- Reading input files -------------------------------------------------------------------------

def input_file(path) -> Path:
    """``path`` as a file to read, or :class:`BadFile` saying why it is not one."""
    p = Path(path)
    if not p.exists():
        raise BadFile(f"{path}: no such file", field="path")
    if p.is_dir():
        raise BadFile(f"{path}: is a folder; give a file", field="path")
    if not os.access(p, os.R_OK):
        raise BadFile(f"{path}: cannot be read (permission denied)", field="path")
    return p


UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# What Excel saves a "CSV" as on Windows in western locales; its bytes 0x80-0x9f are letters and
# punctuation (curly quotes, euro sign) where Latin-1 has control characters.
FALLBACK_ENCODING = "cp1252"


def decoded_lines(raw_lines: Iterable[bytes], path, note: Callable[[str], None] = lambda m: None
                  ) -> Iterator[str]:
    """The lines of a file's bytes as text, line ends kept: UTF-8 (a byte-order mark dropped), and a
    line that is not UTF-8 as Windows-1252, which ``note`` is told once. A line that is neither is
    refused, naming its line and byte offset."""
    offset, noted = 0, False
    for n, raw in enumerate(raw_lines, 1):
        if n == 1 and raw.startswith(UTF8_BOM):
            raw, offset = raw[len(UTF8_BOM):], len(UTF8_BOM)
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            try:
                line = raw.decode(FALLBACK_ENCODING)
            except UnicodeDecodeError as bad:
                raise BadFile(f"{path}:{n}: byte 0x{raw[bad.start]:02x} at offset {offset + bad.start} is neither "
                              f"UTF-8 nor Windows-1252 text; save the file as UTF-8", field="encoding") from None
            if not noted:
                note(f"note: {path}:{n} is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {offset + exc.start}): "
                     f"read as Windows-1252, as Excel saves CSV; lines that are UTF-8 are read as UTF-8")
                noted = True
        offset += len(raw)
        yield line


def _utf16_lines(handle, path) -> Iterator[str]:
    try:
        yield from io.TextIOWrapper(handle, encoding="utf-16", newline="")
    except UnicodeDecodeError as exc:
        raise BadFile(f"{path}: not UTF-16 text, though it starts as such: {exc.reason}", field="encoding") from None


@contextmanager
def text_lines(path, note: Callable[[str], None] = lambda m: None):
    """The lines of the file at ``path`` as text (see :func:`decoded_lines`; a file starting with a
    UTF-16 byte-order mark, as Excel's "Unicode text", is read as UTF-16)."""
    p = input_file(path)
    try:
        handle = open(p, "rb")
    except OSError as exc:
        raise BadFile(f"{path}: cannot be read: {exc.strerror}", field="path") from exc
    with handle:
        if handle.peek(2)[:2] in UTF16_BOMS:
            yield _utf16_lines(handle, path)
        else:
            yield decoded_lines(handle, path, note)


def read_text(path, note: Callable[[str], None] = lambda m: None) -> str:
    """The whole text of the file at ``path``, decoded as :func:`text_lines` decodes it."""
    with text_lines(path, note) as lines:
        return "".join(lines)


csv.field_size_limit(10_000_000)  # a ticket or an article may be long; the default is 128 KB

DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab"}


def sniff_delimiter(header: str) -> str:
    """The separator of a CSV file, from its header line: whichever of ``,`` ``;`` and tab splits it
    into the most columns (quotes respected; ``,`` when none splits it)."""
    widths = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: widths[d])  # the first of equals: ',' before ';' before tab


@contextmanager
def _csv_errors(path, line: Callable[[], int]):
    """The csv module's errors (a field past the size limit) as a BadFile naming the line."""
    try:
        yield
    except csv.Error as exc:
        raise BadFile(f"{path}:{line()}: not valid CSV: {exc}", field="line") from None


def csv_records(lines: Iterable[str], path) -> tuple[list[str], int, Iterator[tuple[int, dict]]]:
    """Read a CSV file's text lines: (its column names, the line of its header, the (line, row)
    pairs of its records, read as they are iterated). The separator is found on the header line
    (:func:`sniff_delimiter`); column names are stripped of spaces; unnamed columns (an export's
    trailing separators) are left out, and must hold nothing. Blank lines are skipped. A record
    with more values than the header names, or fewer, is refused, naming its line (the line it
    starts on); so is an empty file, or a column named twice."""
    lines = iter(lines)
    before = 0
    for header in lines:
        if header.strip():
            break
        before += 1
    else:
        raise BadFile(f"{path}: empty file; expected a header line naming the columns, then a row per record",
                      field="path")
    delimiter = sniff_delimiter(header)
    consumed: list[str] = []  # the lines the reader took since the last record (for left-open quotes)

    def taken(source):
        for text in source:
            consumed.append(text)
            yield text

    reader = csv.reader(taken(chain([header], lines)), delimiter=delimiter)
    header_line = before + 1
    with _csv_errors(path, lambda: header_line):
        names = [name.strip() for name in without_nul(next(reader))]
    columns = [name for name in names if name]
    if not columns:
        raise BadFile(f"{path}:{header_line}: the header line names no columns", field="columns")
    twice = next((name for name in columns if columns.count(name) > 1), None)
    if twice is not None:
        raise BadFile(f"{path}:{header_line}: column {twice!r} appears twice in the header", field="columns")
    needed = max(i for i, name in enumerate(names) if name) + 1

    header_end = before + reader.line_num  # a quoted header may run over lines

    def records() -> Iterator[tuple[int, dict]]:
        end = header_end
        consumed.clear()
        with _csv_errors(path, lambda: end + 1):  # the line the record being read starts on
            for record in reader:
                start, end = end + 1, before + reader.line_num
                if not record:
                    consumed.clear()
                    continue  # a blank line
                if _left_open(consumed, delimiter):
                    raise BadFile(f"{path}:{start}: a '\"' opened on line {start} is never closed, so the record "
                                  f"runs to the end of the file (line {end}); close it, or double a '\"' "
                                  "inside a quoted value", field="line")
                consumed.clear()
                stray = any(value.strip() for i, value in enumerate(record) if i >= len(names) or not names[i])
                if len(record) < needed or stray:
                    if not any(value.strip() for value in record):
                        continue  # a line of spaces or separators only
                    raise BadFile(_ragged(path, start, end, len(record), len(columns), header_line, delimiter),
                                  field="line")
                yield start, without_nul({name: record[i] for i, name in enumerate(names) if name})

    return columns, header_line, records()


def _left_open(lines: list[str], delimiter: str) -> bool:
    """Whether the record read from ``lines`` ended inside a quoted value (the csv module, lenient,
    would take the rest of the file into it): told by a strict reading, when the quotes are odd."""
    if sum(text.count('"') for text in lines) % 2 == 0:
        return False
    try:
        list(csv.reader(lines, delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _ragged(path, start: int, end: int, values: int, columns: int, header_line: int, delimiter: str) -> str:
    sep = _DELIMITER_NAMES[delimiter]
    where = f"{path}:{start}: {values} value{'s' if values != 1 else ''} where the header (line {header_line}) " \
            f"names {columns} column{'s' if columns != 1 else ''}"
    if end > start:  # a quoted value that runs over several lines, perhaps to the end of the file
        return f"{where}; this record runs to line {end}: is a '\"' left open on line {start}?"
    if values > columns:
        return f"{where}; put a value that holds a {sep} in double quotes"
    return f"{where}; a value is missing, or a line break inside a value is not in double quotes"
