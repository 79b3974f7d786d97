"""Triage of a whole file of tickets (a backlog), as ``kbtriage triage`` runs it.

The file is read, decided and written batch by batch, so memory stays bounded by the batch size
however long the file is. Output to a file goes to a partial file beside it
(``.NAME.partial``), renamed over the output only when every ticket is done: a run that stops
leaves an earlier output as it was. After every batch the partial file is flushed to disk and a
small progress record (``.NAME.progress``) says how many tickets and bytes are done, so a stopped
run can go on from there (``resume``) instead of starting again, if the input file, the options
and the active model version are still those of the stopped run.
"""
from __future__ import annotations

import csv
import fcntl
import json
import os
import sys
from contextlib import contextmanager
import dataclasses
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Callable

from common.errors import Conflict, ValidationError
from common.files import write_atomically
from triage.importers import RowFile, batched, iter_text

OUTPUT_COLUMNS = ["category", "category_confidence", "tier", "tier_confidence", "priority", "priority_confidence",
                  "route", "queue", "reason",
                  "suggested_articles", "suggestion_scores", "gap", "multi_issue", "parts"]


def decision_columns(d: dict) -> dict:
    """A triage decision as the output file's columns (OUTPUT_COLUMNS)."""
    return {
        "category": d["category"] or "",
        "category_confidence": d["category_confidence"] if d["category_confidence"] is not None else "",
        "tier": d["tier"] or "", "tier_confidence": d["tier_confidence"] if d["tier_confidence"] is not None else "",
        "priority": d["priority"] or "",
        "priority_confidence": d["priority_confidence"] if d["priority_confidence"] is not None else "",
        "route": d["route"], "queue": d["queue"] or "", "reason": d["reason"],
        "suggested_articles": ";".join(s["article_id"] for s in d["suggestions"]),
        "suggestion_scores": ";".join(f"{s['score']:.4f}" for s in d["suggestions"]),
        "gap": "true" if d["gap"] else "false",
        "multi_issue": "true" if d.get("multi_issue") else "false",
        "parts": ";".join(p["category"] or "" for p in d.get("parts", [])),
    }


@dataclass
class Progress:
    """What a run has written so far, and what it ran on (a resumed run must match ``run``)."""
    run: dict
    tickets: int = 0
    bytes: int = 0
    auto: int = 0
    gaps: int = 0
    resumed: int = 0  # tickets done by the stopped run this one went on from


def partial_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.partial")


def progress_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.progress")


def stopped_run(out: Path) -> Progress | None:
    """The progress of an earlier run into ``out`` that did not finish, if any."""
    try:
        return Progress(**json.loads(progress_path(out).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def triage_file(*, engine, source: RowFile, text_column: str, subject_column: str | None, k: int,
                batch_size: int, out: Path | None, resume: bool = False,
                done: Callable[[int], None] = lambda n: None, note: Callable[[str], None] = lambda m: None
                ) -> Progress:
    """Triage every row of ``source``; write the rows with their decisions to ``out`` (CSV, or
    JSONL for .jsonl/.json) or to standard output as CSV. ``done(n)`` is called as tickets are
    finished (first with those a resumed run skips); ``note(message)`` says whether an earlier
    stopped run is gone on with or started over. Returns the finished run's counts."""
    fieldnames = list(dict.fromkeys(source.columns + OUTPUT_COLUMNS))
    jsonl = out is not None and out.suffix.lower() in (".jsonl", ".json")
    if out is None:
        if resume:
            raise ValidationError("--resume needs --out: output on standard output cannot be gone on with",
                                  field="--resume")
        progress = Progress(run={})
        _write(engine, source.rows(), sys.stdout, None if jsonl else _csv_writer(sys.stdout, fieldnames, True),
               progress, text_column, subject_column, k, batch_size, done)
        return progress

    if resume and source.path == "-":
        raise ValidationError("--resume needs an input file: standard input cannot be read again",
                              field="--resume")
    run = _run_identity(engine, source, text_column, subject_column, k, jsonl)
    with _locked_partial(out) as fh:
        earlier = stopped_run(out)
        if earlier is not None and os.fstat(fh.fileno()).st_size < earlier.bytes:
            earlier = None  # its partial file is gone or cut short: nothing to go on with
        if resume and earlier is not None:
            _check_same_run(earlier.run, run)
            progress = dataclasses.replace(earlier, resumed=earlier.tickets)
        else:
            if earlier is not None:
                note(f"an earlier run into {out} stopped after {earlier.tickets} tickets; starting over "
                     f"(--resume goes on from there)")
            elif resume:
                note(f"no stopped run into {out} to go on from; starting with the first ticket")
            progress = Progress(run=run)
        fh.truncate(progress.bytes)  # drop a batch written after the last progress record
        fh.seek(0, os.SEEK_END)
        rows = source.rows()
        if progress.tickets:
            rows = islice(rows, progress.tickets, None)
            done(progress.tickets)
        writer = None if jsonl else _csv_writer(fh, fieldnames, not progress.tickets)
        _write(engine, rows, fh, writer, progress, text_column, subject_column, k, batch_size, done,
               after_batch=lambda: _checkpoint(fh, out, progress))
        os.replace(partial_path(out), out)
        progress_path(out).unlink(missing_ok=True)
    return progress


@contextmanager
def _locked_partial(out: Path):
    """The partial file, open for writing (created as a plain open() would make the output, 0666
    less the umask) and locked: a second run into the same output is refused while one is on."""
    fd = os.open(partial_path(out), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise Conflict(f"another kbtriage triage is writing {out}; wait for it or give another --out",
                       field="--out") from None
    with open(fd, "r+", encoding="utf-8", newline="") as fh:  # closing it releases the lock
        yield fh


def _csv_writer(fh, fieldnames: list[str], header: bool) -> csv.DictWriter:
    writer = csv.DictWriter(fh, fieldnames=fieldnames)
    if header:
        writer.writeheader()
    return writer


def _write(engine, rows, fh, writer, progress: Progress, text_column, subject_column, k, batch_size, done,
           after_batch: Callable[[], None] = lambda: None) -> None:
    for part in batched(rows, batch_size):
        decisions = engine.decide([iter_text(r, text_column, subject_column) for r in part], k=k, metadata=part)
        out_rows = [{**row, **decision_columns(d)} for row, d in zip(part, decisions)]
        if writer:
            writer.writerows(out_rows)
        else:
            fh.writelines(json.dumps(r) + "\n" for r in out_rows)
        progress.tickets += len(part)
        progress.auto += sum(d["route"] == "auto" for d in decisions)
        progress.gaps += sum(bool(d["gap"]) for d in decisions)
        after_batch()
        done(len(part))


def _checkpoint(fh, out: Path, progress: Progress) -> None:
    """Put the batch on disk, then record it: the record never counts rows that are not there."""
    fh.flush()
    os.fsync(fh.fileno())
    progress.bytes = os.fstat(fh.fileno()).st_size
    write_atomically(progress_path(out), lambda tmp: Path(tmp).write_text(json.dumps(asdict(progress)),
                                                                           encoding="utf-8"))


def _run_identity(engine, source: RowFile, text_column, subject_column, k, jsonl) -> dict:
    stat = os.stat(source.path) if source.path != "-" else None
    return {"input": str(Path(source.path).resolve()) if stat else "-",
            "input_size": stat.st_size if stat else None, "input_modified_ns": stat.st_mtime_ns if stat else None,
            "text_column": text_column, "subject_column": subject_column, "k": k,
            "format": "jsonl" if jsonl else "csv", "model_version": engine.current()[0]}


WHAT_CHANGED = {"input": "the input is another file", "input_size": "the input file changed",
                "input_modified_ns": "the input file changed", "text_column": "--text-column differs",
                "subject_column": "--subject-column differs", "k": "-k differs",
                "format": "the output format differs", "model_version": "the active model version changed"}


def _check_same_run(earlier: dict, now: dict) -> None:
    changed = [WHAT_CHANGED.get(key, key) + (f" ({earlier.get(key)} -> {now[key]})" if key == "model_version" else "")
               for key in now if earlier.get(key) != now[key]]
    if changed:
        raise ValidationError(f"cannot go on with the stopped run: {'; '.join(dict.fromkeys(changed))}. "
                              f"Run again without --resume to start over", field="--resume")
