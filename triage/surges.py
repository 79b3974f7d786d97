"""Surges: many tickets about the same thing arriving at once (an outage, a broken release, a
confusing change), noticed as they come in, so the intake system can link them to one incident and
L1 can answer them with one status message instead of twelve investigations.

Every triaged ticket's vector is kept (table ``ticket_vectors``) and held in memory for
``BASELINE``; after any erasure each process drops the erased ones (the ids the table no longer
holds; it reads ids, not vectors). A new
ticket's similar tickets (cosine >= ``SIMILAR``) are counted in the last ``window`` and in the
baseline before it. The ticket is part of a surge when the window count, itself included, reaches
``min_tickets`` and would be unlikely at the baseline's rate (Poisson tail below ``ALPHA``). Kinds
of ticket that always come often need many more to count as a surge. A surge's tickets are
paraphrases that do not all resemble each other, so a ticket also joins the surge of a window
ticket it is very close to (cosine ``LIST_SIMILAR``) when that ticket passes the test.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
from scipy.stats import poisson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.db import as_utc
from kb.service import nearest_article
from models.clustering import centre, distinctive_terms, proposed_title
from triage.tables import Erasure, Ticket, TicketVector, TriageDecision

SIMILAR = 0.6  # cosine at which two tickets count as the same kind (scripts/bench_surges.py)
BASELINE = timedelta(days=7)
ALPHA = 1e-4  # a window count this unlikely at the baseline's rate is a surge
# Tickets shown as similar: a stricter cosine, at which 81-97% of pairs of Banking77, CLINC150 and
# it_tickets training texts share their label (docs/benchmarks.md, "Surges").
LIST_SIMILAR = 0.75
MIN_EXPECTED = 0.25  # the expected count per window while the baseline is short or empty
MAX_KEPT = 50_000  # tickets held in memory (the newest); 50k vectors are 75 MB
REFRESH_OVERLAP = timedelta(minutes=5)  # rows committed late by another process are still found
FETCH_CHUNK = 1000  # ids per query when reading the vectors of tickets not held yet
LISTED = 3  # similar tickets listed per decision
SURGE_IDS_SHOWN = 5
JOIN_CANDIDATES = 5  # a ticket's most similar window tickets checked as a surge it joins


def _epoch(t: datetime) -> float:
    return as_utc(t).timestamp()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def erasure_mark(session: Session) -> int:
    """The newest erasure's id (0 before any): a process that sees it change drops what it holds
    in memory about erased tickets."""
    return session.scalar(select(func.max(Erasure.id))) or 0


@dataclass(frozen=True)
class SurgePolicy:
    window: timedelta = timedelta(minutes=60)
    min_tickets: int = 5
    similar: float = SIMILAR
    alpha: float = ALPHA
    baseline: timedelta = BASELINE
    # A ticket this similar to a window ticket that passes the test joins its surge (None: never).
    # The listing's cosine: close enough to show as a similar ticket (docs/benchmarks.md, "Surges").
    join: float | None = LIST_SIMILAR

    def expected(self, baseline_count: int, at: float, oldest: float) -> float:
        """Similar tickets expected in the window ending at ``at`` (epoch s), at the rate of the
        ``baseline_count`` similar ones before it, the oldest held from ``oldest``."""
        w = self.window.total_seconds()
        span = min(at - w - oldest, self.baseline.total_seconds() - w)
        if span < w:
            return MIN_EXPECTED
        return max(MIN_EXPECTED, baseline_count * w / span)

    def is_surge(self, count: int, expected: float) -> bool:
        """``count``: similar tickets in the window, the new one included."""
        return count >= self.min_tickets and poisson.sf(count - 1, expected) < self.alpha


def _vector_rows(encoder: str):
    """The stored (ticket id, time, vector) rows of ``encoder``'s vectors, to narrow further."""
    return select(TicketVector.ticket_id, TicketVector.created_at, TicketVector.vector).where(
        TicketVector.encoder == encoder)


class SurgeMemory:
    """The recent tickets' ids, times and vectors, in append buffers (arrival order, not sorted);
    thread-safe. Readers get views that later appends and evictions never change."""

    def __init__(self, policy: SurgePolicy | None = None, max_kept: int = MAX_KEPT):
        self.policy = policy or SurgePolicy()
        self.max_kept = max_kept
        self._lock = threading.Lock()
        self._n = 0
        self._ids = np.zeros(0, dtype=np.int64)
        self._times = np.zeros(0, dtype=np.float64)
        self._vectors: np.ndarray | None = None
        self._held: set[int] = set()
        self._newest = float("-inf")
        self._loaded_through: float | None = None  # newest created_at read from the database
        self._erasures: int | None = None  # the newest erasure seen: a new one means reload

    def __len__(self) -> int:
        return self._n

    def _view(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        n = self._n
        return self._ids[:n], self._times[:n], (self._vectors[:n] if self._vectors is not None else None)

    # -- contents -----------------------------------------------------------------------------
    def add(self, ids, times, vectors: np.ndarray) -> None:
        """Remember tickets (``times``: datetimes or epoch seconds); ids already held are skipped."""
        if len(ids) == 0:
            return
        times = np.array([_epoch(t) if isinstance(t, datetime) else float(t) for t in times])
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        with self._lock:
            if self._vectors is not None and vectors.shape[1] != self._vectors.shape[1]:
                self._clear()  # another encoder's vectors: start again with this one's
            keep = [i for i, tid in enumerate(ids) if int(tid) not in self._held]
            if not keep:
                return
            k, n = len(keep), self._n
            if self._vectors is None or n + k > len(self._ids):
                self._resize(max(1024, 2 * (n + k)), vectors.shape[1])
            # New arrays on resize and eviction, writes only past the readers' views otherwise.
            self._ids[n:n + k] = [int(ids[i]) for i in keep]
            self._times[n:n + k] = times[keep]
            self._vectors[n:n + k] = vectors[keep]
            self._n = n + k
            self._held.update(int(ids[i]) for i in keep)
            self._newest = max(self._newest, float(times[keep].max()))
            self._evict()

    def _resize(self, capacity: int, dim: int) -> None:
        n = self._n
        ids, times = np.zeros(capacity, np.int64), np.zeros(capacity, np.float64)
        vectors = np.zeros((capacity, dim), np.float32)
        if n:
            ids[:n], times[:n], vectors[:n] = self._view()
        self._ids, self._times, self._vectors = ids, times, vectors

    def _take(self, keep: np.ndarray) -> None:
        """Keep the rows ``keep`` marks, in new arrays (readers hold views of the old ones)."""
        ids, times, vectors = self._view()
        self._ids, self._times = ids[keep], times[keep]
        self._vectors = vectors[keep] if vectors is not None else None
        self._n = len(self._ids)
        self._held = set(self._ids.tolist())

    def _clear(self) -> None:
        self._n = 0
        self._ids, self._times, self._vectors = np.zeros(0, np.int64), np.zeros(0, np.float64), None
        self._held = set()
        self._newest = float("-inf")
        self._loaded_through = None

    def _evict(self) -> None:
        """Drop tickets older than the baseline (once an hour's worth has aged out) and the oldest
        beyond ``max_kept`` (down to 90% of it), so that eviction copies rarely."""
        times = self._times[:self._n]
        oldest_kept = self._newest - self.policy.baseline.total_seconds()
        if self._n > self.max_kept:
            drop = self._n - int(0.9 * self.max_kept)  # the oldest this many go
            oldest_kept = max(oldest_kept, float(np.partition(times, drop)[drop]))
        elif times.min() >= oldest_kept - 3600:
            return
        self._take(times >= oldest_kept)

    # -- the database -------------------------------------------------------------------------
    def refresh(self, session: Session, encoder: str, now: datetime | None = None,
                erasures: int | None = None) -> None:
        """Take the vectors other processes stored since the last look (all of the baseline the
        first time) and, after an erasure, drop the erased tickets (``erasures``: the caller's
        :func:`erasure_mark`, when it read it already)."""
        erasures = erasure_mark(session) if erasures is None else erasures
        if erasures != self._erasures:
            if self._erasures is not None:
                self._forget_erased(session, encoder)
            self._erasures = erasures
        now = now or datetime.now(timezone.utc)
        if self._loaded_through is None:  # the whole baseline, once
            since = now - self.policy.baseline
            rows = session.execute(_vector_rows(encoder).where(TicketVector.created_at >= since)
                                   .order_by(TicketVector.created_at.desc()).limit(self.max_kept)).all()
            newest = rows[0][1] if rows else None  # newest first
        else:
            since = datetime.fromtimestamp(self._loaded_through, timezone.utc) - REFRESH_OVERLAP
            rows, newest = self._missing(session, encoder, since)
        if rows:
            self.add([r[0] for r in rows], [r[1] for r in rows], np.vstack([from_blob(r[2]) for r in rows]))
        if newest is not None:
            # A ticket stamped in the future (clients send created_at) must not make the next
            # refreshes skip the tickets stored meanwhile.
            at = min(_epoch(newest), _epoch(now))
            self._loaded_through = max(at, self._loaded_through or at)
        elif self._loaded_through is None:
            self._loaded_through = _epoch(since)

    def _missing(self, session: Session, encoder: str, since: datetime) -> tuple[list, datetime | None]:
        """(id, created_at, vector) of the tickets stored since ``since`` that are not held, and the
        newest time stored since then (None: none): the newest time, the ids, then the vectors of the
        missing ones only. The overlap re-reads every ticket id of its minutes on each refresh (15,000
        at 50 tickets a second): reading their vectors took 28% of a busy web worker's sampled time,
        and their times three quarters of what was left (docs/benchmarks.md, "The surge memory's
        refresh and int8 in blocks", "Full garbage collections and the surge refresh")."""
        conn = session.connection()
        recent = (TicketVector.encoder == encoder, TicketVector.created_at >= since)
        # The newest time first: a ticket committed between the two reads is read again next time.
        newest = conn.execute(select(func.max(TicketVector.created_at)).where(*recent)).scalar()
        if newest is None:
            return [], None
        seen = conn.execute(select(TicketVector.ticket_id).where(*recent).order_by(
            TicketVector.created_at.desc()).limit(self.max_kept)).scalars().all()
        with self._lock:
            missing = [tid for tid in seen if tid not in self._held]
        rows = []
        for start in range(0, len(missing), FETCH_CHUNK):
            rows += conn.execute(_vector_rows(encoder).where(
                TicketVector.ticket_id.in_(missing[start:start + FETCH_CHUNK]))).all()
        return rows, newest

    def _forget_erased(self, session: Session, encoder: str) -> None:
        """Drop the held tickets whose vectors the table no longer has. A ticket is remembered only
        after its vector is committed, so every id held before the query is in its answer unless
        erased; tickets added meanwhile are kept."""
        with self._lock:
            ids, times, _ = self._view()
            if not len(ids):
                return
            held, oldest = ids.copy(), float(times.min())
        present = np.fromiter(session.scalars(
            select(TicketVector.ticket_id).where(
                TicketVector.encoder == encoder,
                TicketVector.created_at >= datetime.fromtimestamp(oldest, timezone.utc) - REFRESH_OVERLAP)),
            dtype=np.int64)
        erased = held[~np.isin(held, present)]
        if len(erased):
            with self._lock:
                self._take(~np.isin(self._ids[:self._n], erased))

    # -- questions ----------------------------------------------------------------------------
    def assess(self, vectors: np.ndarray, times: list[datetime]) -> list[dict]:
        """For each new ticket (in arrival order, each also counting the earlier ones of the same
        batch): its most similar recent tickets and whether it is part of a surge."""
        p = self.policy
        w = p.window.total_seconds()
        q = np.asarray(vectors, dtype=np.float32)
        at = np.array([_epoch(t) for t in times])
        with self._lock:
            ids, held_times, held = self._view()
        sims = (q @ held.T) if held is not None and len(ids) else np.zeros((len(q), 0))
        batch = q @ q.T
        oldest = float(held_times.min()) if len(held_times) else float("inf")  # no baseline yet
        out = []
        for i in range(len(q)):
            similar = sims[i] >= p.similar
            before = held_times <= at[i]
            window = before & (held_times > at[i] - w)
            base = held_times <= at[i] - w
            in_window, in_base = similar & window, similar & base
            earlier = [j for j in range(i) if batch[i, j] >= p.similar and at[i] - w < at[j] <= at[i]]
            count = int(in_window.sum()) + len(earlier) + 1
            expected = p.expected(int(in_base.sum()), at[i], oldest)
            flag = p.is_surge(count, expected)
            joined = None if flag or p.join is None else self._joined(
                sims[i], in_window, window, base, held, ids, at[i], oldest)
            order = np.flatnonzero((sims[i] >= LIST_SIMILAR) & before)
            order = order[np.argsort(-sims[i][order])][:LISTED]
            window_ids = np.flatnonzero(in_window)
            window_ids = window_ids[np.argsort(-sims[i][window_ids])][:SURGE_IDS_SHOWN]
            out.append({
                "similar_tickets": [{"ticket_id": int(ids[j]), "created_at": _iso(held_times[j]),
                                     "similarity": round(float(sims[i][j]), 4)} for j in order],
                "surge": {"similar_in_window": count, "window_minutes": round(w / 60, 2),
                          "expected": round(expected, 2), "flag": bool(flag or joined is not None),
                          "ticket_ids": [int(ids[j]) for j in window_ids], "joined": joined},
            })
        return out

    def _joined(self, sims_i, in_window, window, base, held, ids, at: float, oldest: float) -> dict | None:
        """The surge a ticket joins, if any: of its most similar tickets in the window, the first
        whose own similar tickets in the window (this one included) pass the surge test. A surge's
        tickets are paraphrases that do not all resemble each other; its later tickets still join it.
        Masks over the held tickets, as :meth:`assess` made them: ``in_window``, the ticket's similar
        ones in the window; ``window`` and ``base``, every one in the window and in the baseline."""
        p = self.policy
        candidates = np.flatnonzero(in_window & (sims_i >= p.join))
        if not len(candidates):
            return None
        candidates = candidates[np.argsort(-sims_i[candidates])][:JOIN_CANDIDATES]
        similar = (held[candidates] @ held.T) >= p.similar  # candidates x every held ticket
        counts = (similar & window).sum(1) + 1  # the candidate itself is among them; +1: this ticket
        for j, count, in_base in zip(candidates, counts, (similar & base).sum(1)):
            expected = p.expected(int(in_base), at, oldest)
            if p.is_surge(int(count), expected):
                return {"ticket_id": int(ids[j]), "similar_in_window": int(count), "expected": round(expected, 2)}
        return None

    def window(self, now: datetime) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, epoch times, vectors) of the tickets in the last window before ``now``."""
        end = _epoch(now)
        with self._lock:
            ids, times, vectors = self._view()
        if vectors is None:
            return ids, times, np.zeros((0, 1), np.float32)
        keep = (times > end - self.policy.window.total_seconds()) & (times <= end)
        return ids[keep], times[keep], vectors[keep]

    def baseline_rate(self, vector: np.ndarray, now: datetime) -> float:
        """Tickets similar to ``vector`` expected per window at the baseline's rate before ``now``."""
        p = self.policy
        end, w = _epoch(now), p.window.total_seconds()
        with self._lock:
            _, times, vectors = self._view()
        if vectors is None or not len(times):
            return MIN_EXPECTED
        count = int(((vectors[times <= end - w] @ vector) >= p.similar).sum())
        return p.expected(count, end, float(times.min()))


def report(*, session: Session, memory: SurgeMemory, store=None, now: datetime | None = None,
           min_size: int | None = None, limit: int = 20) -> dict:
    """The surges under way: groups of similar tickets in the last window, each far above its
    kind's baseline rate, biggest first, with what the tickets say, how they were triaged and the
    nearest article (the one L1 may answer them with)."""
    from sklearn.cluster import DBSCAN

    p = memory.policy
    now = now or datetime.now(timezone.utc)
    min_size = min_size or p.min_tickets
    ids, times, vectors = memory.window(now)
    out = {"window_minutes": round(p.window.total_seconds() / 60, 2), "tickets_in_window": int(len(ids)),
           "surges": []}
    if len(ids) < min_size:
        return out
    # Dense groups: tickets with min_size - 1 similar ones in the window, and their neighbours.
    labels = DBSCAN(eps=1 - p.similar, min_samples=min_size, metric="cosine").fit_predict(vectors)
    groups = []
    for c in set(labels) - {-1}:
        centroid, idx = centre(vectors, np.flatnonzero(labels == c))
        expected = memory.baseline_rate(centroid, now)
        if len(idx) >= min_size and p.is_surge(len(idx), expected):
            groups.append((idx, centroid, expected))
    if not groups:
        return out
    wanted = [int(ids[i]) for idx, _, _ in groups for i in idx]
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(wanted)))}
    decided: dict[int, TriageDecision] = {}
    for d in session.scalars(select(TriageDecision).where(TriageDecision.ticket_id.in_(wanted))
                             .order_by(TriageDecision.id)):
        decided[d.ticket_id] = d  # the latest decision per ticket
    texts = {tid: t.text for tid, t in tickets.items()}
    members = [[int(ids[i]) for i in idx if int(ids[i]) in tickets] for idx, _, _ in groups]
    flat = [tid for m in members for tid in m]
    terms = distinctive_terms([texts[t] for t in flat],
                                   np.repeat(np.arange(len(members)), [len(m) for m in members]))
    rows = []
    for g, ((idx, centroid, expected), member) in enumerate(zip(groups, members)):
        if len(member) < min_size:
            continue  # erased while the memory still held them
        cats: dict[str, int] = {}
        for tid in member:
            cat = decided[tid].category if tid in decided else None
            cats[cat or "unknown"] = cats.get(cat or "unknown", 0) + 1
        seen = times[idx]
        rows.append({
            "size": len(member), "expected": round(expected, 2),
            "first_seen": _iso(float(seen.min())), "last_seen": _iso(float(seen.max())),
            "proposed_title": proposed_title([tickets[t].subject for t in member[:5]], terms.get(g, [])),
            "terms": terms.get(g, []),
            "categories": dict(sorted(cats.items(), key=lambda kv: -kv[1])),
            "gaps": sum(1 for t in member if t in decided and decided[t].gap),
            "auto_routed": sum(1 for t in member if t in decided and decided[t].route == "auto"),
            "nearest_article": (nearest_article(session=session, store=store, centroid=centroid)
                                if store is not None else None),
            "representative_tickets": [{"ticket_id": t, "text": texts[t][:300]} for t in member[:3]],
            "ticket_ids": member,
        })
    rows.sort(key=lambda r: (-r["size"], r["first_seen"]))
    out["surges"] = rows[:limit]
    return out
