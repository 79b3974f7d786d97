"""Files: writing them so that readers see the old content or the new, never half of either, and
reading what exports hold (NUL characters, JSON Lines) the same way for articles and tickets."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from common.errors import ValidationError


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
                raise ValidationError(f"{path}:{n}: not JSON: {exc}", field="line") from exc
            if not isinstance(row, dict):
                raise ValidationError(f"{path}:{n}: each line must be a JSON object", field="line")
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
    except json.JSONDecodeError:
        return None
    if isinstance(document, dict):
        document = next((document[key] for key in PAGE_KEYS if isinstance(document.get(key), list)), [document])
    if not isinstance(document, list):
        return None
    for n, record in enumerate(document, 1):
        if not isinstance(record, dict):
            raise ValidationError(f"{path}: {noun} {n} is not a JSON object", field="line")
    return without_nul(document)
