"""The decision maker: category, tier, route, reason and article suggestions for ticket texts.

It serves the active model version and notices within ``RELOAD_SECONDS`` when another process
activates a different one, swapping models without a restart (requests in flight keep the bundle
they started with).
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Callable

import numpy as np

from kb import service as kb_service
from kb.suggest import GAP_MIN_HISTORY, GAP_NEIGHBOURS, apply_rejections, fuse, rejection_memory, warm_probabilities
from common.config import Settings
from common.db import Database
from models import jobs, registry
from models.calibration import positive_proba, tier_features
from models.neighbours import mean_nearest_similarity
from models.version import ModelVersionArtifact
from models.metadata import WithMetadata
from triage import feedback, language, multi_issue, priority, priority_settings, routing, sla
from triage.surges import SurgeMemory, SurgePolicy, erasure_mark

log = logging.getLogger(__name__)

RELOAD_SECONDS = 2.0
COLD_GAP_SCORE = 0.35  # without history, a best passage scoring below this (hybrid score) is a gap
STRONG_MATCH = 0.6
LIVE_REJECTIONS_MAX = 5000  # the newest rejections taken live when a version is loaded
# encode_tickets holds word-piece states (up to 128 x 384 floats, ~200 KB a ticket) for this many
# tickets at a time, not for a whole batch or file.
STATES_CHUNK = 64


class _LiveRejections:
    """The version's rejection memory, plus the rejections agents recorded after it was trained:
    a rejected article drops for similar tickets within ``RELOAD_SECONDS``, not at the next retrain."""

    def __init__(self, bundle: ModelVersionArtifact | None):
        self.memory = bundle.rejections if bundle else None
        self.after = bundle.rejections_through_event if bundle else 0

    def refresh(self, session, encoder_factory) -> None:
        new = feedback.rejections(session=session, after_id=self.after, limit=LIVE_REJECTIONS_MAX)
        if not new:
            return
        vectors = encoder_factory().encode([text for *_, text in new])
        self.memory = rejection_memory([aid for _, _, aid, _ in new], vectors, base=self.memory)
        self.after = new[-1][0]


def _remedy(session) -> str:
    """What brings a version for this encoder: the training job already queued or running, if any."""
    job = jobs.pending(session=session)
    if job is None:
        return "run `kbtriage train`"
    return f"training job {job.id} ({job.status}) will replace it"


def _unit_parts(found: dict[int, list], tickets: list[int], flat: list[str], vectors: np.ndarray, cat_model,
                scale: float = 1.0) -> dict[int, tuple[int, list[list[int]]]]:
    """For each ticket of ``tickets``, in that order: the row of its first unit in ``flat`` (the
    texts of the tickets' units, ``found``, one after another, with their ``vectors``) and the parts
    :func:`multi_issue.group` makes of its units by the category model's reading of them. Only the
    units that may ask something are read (:func:`multi_issue.asking`): ``group`` reads no other
    row, and the others' rows of ``vectors`` may be left empty."""
    asks = multi_issue.asking([u for i in tickets for u in found[i]])
    read = vectors[asks]
    proba = np.zeros((len(flat), len(cat_model.classes_)), dtype=np.float64)
    proba[asks] = cat_model.predict_proba_features(cat_model.features_.transform([flat[j] for j in asks], read), read)
    out, row = {}, 0
    for i in tickets:
        n = len(found[i])
        out[i] = (row, multi_issue.group(found[i], proba[row:row + n], scale))
        row += n
    return out


class TriageEngine:
    def __init__(self, *, db: Database, store, encoder_factory, settings: Settings):
        self.db = db
        self.store = store
        self._encoder_factory = encoder_factory
        self.settings = settings
        self._lock = threading.Lock()
        self._loaded: tuple[int | None, ModelVersionArtifact | None] = (None, None)  # under the routing rules
        self._version: tuple[int | None, ModelVersionArtifact | None] = (None, None)  # as trained
        self._rules: dict | None = None
        self._checked = 0.0
        self._invalidated = 0  # bumped by invalidate(): a reload that began before it does not count
        self._fresh_generation = -1  # ``_invalidated`` as of the last reload that counted
        self._rejections: _LiveRejections | None = None
        self._erasures: int | None = None  # the newest erasure seen (any process's)
        self._problem: str | None = None
        self.priority_matrix: dict | None = None  # the team's impact x urgency matrix (None: ITIL's)
        self.sla_terms: tuple[sla.Terms, ...] = ()  # the stored SLA policies, as of the last reload
        self.model_problem: str | None = None  # why the active version is not used, and what mends it
        # Called with the newest erasure's id when this process first sees it: the runtime keeps
        # the machine's vector cache clear of tickets erased on another machine.
        self.on_erasure: Callable[[int], object] | None = None
        # Called with the version's id (None: none active) after one is loaded; a server process
        # settles its heap then (api/app.serving, common/heap.py).
        self.on_load: Callable[[int | None], object] | None = None
        self.surges = SurgeMemory(SurgePolicy(window=timedelta(minutes=settings.surge_window_minutes),
                                              min_tickets=settings.surge_min_tickets))

    def priority_order(self) -> list[str]:
        """The active version's priority labels, most urgent first (empty: the rules' P1-P4)."""
        bundle = self.current()[1]
        return list(bundle.stats.get("priority_order", [])) if bundle is not None else []

    def current(self) -> tuple[int | None, ModelVersionArtifact | None]:
        """(version id, bundle) of the active model version, reloaded when it changes; its
        auto-route thresholds follow the routing rules in force."""
        if time.monotonic() - self._checked < RELOAD_SECONDS:
            return self._loaded
        # Due by the clock alone (nothing invalidated since the last reload): while another thread
        # reloads, serve what is loaded instead of queueing behind it.
        timely = self._rejections is not None and self._invalidated == self._fresh_generation
        if not self._lock.acquire(blocking=not timely):
            return self._loaded
        try:
            now = time.monotonic()
            if now - self._checked < RELOAD_SECONDS:
                return self._loaded  # another thread reloaded while this one waited
            generation, loaded = self._invalidated, False
            with self.db.session() as session:
                version = registry.active(session=session)
                vid = version.id if version else None
                rules = routing.rules(session=session)
                stored = priority_settings.matrix(session=session)
                self.priority_matrix = None if stored["default"] else stored["matrix"]
                self.sla_terms = sla.in_force(session=session)
                erasures = erasure_mark(session)
                if vid != self._version[0] or self._rejections is None:
                    try:
                        # Trained on another machine: its artifacts come from the database once.
                        folder = registry.local_folder(session, version, self.settings.models_dir) if version else None
                        bundle = registry.read_bundle(folder) if folder else None
                        self._problem = (f"the artifacts of model version {vid} are neither on this machine nor in "
                                         "the database" if version and folder is None
                                         else self._encoder_problem(vid, bundle))
                    except registry.OutdatedVersion as exc:
                        bundle, self._problem = None, f"model version {vid} cannot be served: {exc.message}"
                    if self._problem:
                        log.warning("%s", self._problem)
                        bundle = None  # its models read another encoder's vectors: decide without them
                    self._version = (vid, bundle)
                    self._rejections = _LiveRejections(bundle)
                    self._rules = None
                    loaded = True
                elif erasures != self._erasures:
                    # Tickets were erased (by any process): rejections are taken again from the
                    # feedback still stored, and this machine's copies of the versions pruned
                    # for the erasure go.
                    self._rejections = _LiveRejections(self._version[1])
                    registry.forget_copies(session=session, models_dir=self.settings.models_dir)
                if erasures != self._erasures and self.on_erasure is not None:
                    self.on_erasure(erasures)
                self._erasures = erasures
                if rules != self._rules:
                    self._loaded = (vid if self._version[1] is not None else None,
                                    routing.apply(self._version[1], rules, self.settings.route_precision))
                    self._rules = rules
                self._rejections.refresh(session, self._encoder_factory)
                self.surges.refresh(session, self.settings.encoder, erasures=erasures)
                self.model_problem = self._problem and f"{self._problem}: {_remedy(session)}"
            if loaded and self.on_load is not None:
                self.on_load(self._version[0])
            if generation == self._invalidated:  # else invalidated meanwhile: read again on the next call
                self._checked, self._fresh_generation = now, generation
            return self._loaded
        finally:
            self._lock.release()

    def _encoder_problem(self, version_id: int | None, bundle: ModelVersionArtifact | None) -> str | None:
        """Why the active version's models cannot read this process's ticket vectors, if they
        cannot: they were trained on another encoder's (the encoder setting changed since)."""
        if bundle is None:
            return None
        trained, serving = bundle.encoder, self.settings.encoder
        if trained == serving and bundle.encoder_dim == self._encoder_factory().dim:
            return None
        return (f"model version {version_id} was trained with encoder {trained!r} and this service encodes with "
                f"{serving!r}")

    def invalidate(self) -> None:
        """Look at the active version, the routing rules, the priority matrix and the SLA policies
        again on the next call (this process changed one of them; other processes notice within
        ``RELOAD_SECONDS``)."""
        self._invalidated += 1
        self._checked = float("-inf")

    def encode(self, texts: list[str]) -> np.ndarray:
        """Ticket texts' vectors, as decisions read them."""
        return self._encoder_factory().encode(texts)

    def encode_tickets(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray | None] | None]:
        """Ticket texts' vectors and, per ticket, its multi-issue units read in the context of the
        same encoding (``multi_issue.in_context``; None for a ticket with too few units or units it
        cannot read), which :meth:`decide` reads to spare most tickets their units' own encodings.
        The second is None when the encoder cannot give its word pieces' states (the torch backend):
        every ticket's units are then encoded alone. Word-piece states are held for at most
        STATES_CHUNK tickets at a time."""
        encoder = self._encoder_factory()
        if not hasattr(encoder, "encode_token_states"):
            return encoder.encode(texts), None
        vectors = np.empty((len(texts), encoder.dim), dtype=np.float32)
        read: list[np.ndarray | None] = [None] * len(texts)
        for start in range(0, len(texts), STATES_CHUNK):
            part = texts[start:start + STATES_CHUNK]
            vectors[start:start + len(part)], states = encoder.encode_token_states(part)
            for j, text in enumerate(part):
                found = multi_issue.units(text)
                if multi_issue.read_in_context_first(found):
                    read[start + j] = multi_issue.in_context(text, found, states[j])
        return vectors, read

    def remember(self, tickets, vectors: np.ndarray) -> None:
        """Stored tickets (with ids) join the recent tickets that later decisions compare with."""
        self.surges.add([t.id for t in tickets], [t.created_at for t in tickets], vectors)

    def decide(self, texts: list[str], *, k: int | None = None, vectors: np.ndarray | None = None,
               arrivals: list[datetime] | None = None, split: bool = True,
               metadata: list[dict] | None = None, in_context: list[np.ndarray | None] | None = None) -> list[dict]:
        """One decision dict per text. With ``arrivals`` (the tickets' times, for tickets coming in
        live), each also lists its similar recent tickets and the surge test. ``metadata``: per
        text, its fields by name (a file's row, or the ticket's meta with its ``channel``); a
        priority model trained on the plan, channel or feature columns reads them. ``vectors`` and
        ``in_context``: what :meth:`encode_tickets` gave for ``texts`` (encoded here when not
        given). A blank text (a file row without text; the API refuses those) goes to review as an
        empty ticket, unclassified."""
        said = [i for i, t in enumerate(texts) if t.strip()]
        if len(said) < len(texts):
            if arrivals is not None:
                raise ValueError("live tickets must have text")
            decided = iter(self.decide([texts[i] for i in said], k=k,
                                       vectors=vectors[said] if vectors is not None else None,
                                       metadata=[metadata[i] for i in said] if metadata is not None else None,
                                       in_context=[in_context[i] for i in said] if in_context else None)
                           if said else [])
            version_id = self.current()[0]
            return [next(decided) if t.strip() else {
                "model_version": version_id, "category": None, "category_confidence": None, "top_categories": [],
                "tier": None, "tier_confidence": None, "priority": None, "priority_confidence": None,
                "priority_reason": None, "escalate": False, "suggestions": [], "gap": False, "route": "review",
                "queue": None, "reason": EMPTY_REASON, "multi_issue": False, "parts": []} for t in texts]
        k = k or self.settings.suggestions_k
        version_id, bundle = self.current()
        bundle = bundle or NO_MODELS
        if vectors is None:
            vectors, in_context = self.encode_tickets(texts)
        emb = vectors
        cat_model, tier_model, art_model = bundle.category_model, bundle.tier_model, bundle.article_model
        computed: dict[int, object] = {}

        def rows(model):
            # The models of one version share their feature extractor: compute features once.
            key = id(model.features_)
            if key not in computed:
                computed[key] = model.features_.transform(texts, emb)
            return computed[key]

        def proba(model):
            return model.predict_proba_features(rows(model), embeddings=emb)

        cat_proba = proba(cat_model) if cat_model else None
        tier_proba = proba(tier_model) if tier_model else None
        priority_model = getattr(bundle, "priority_model", None)  # None in versions trained before priority
        priority_proba, weighed = None, [()] * len(texts)
        if isinstance(priority_model, WithMetadata):
            records = [priority.metadata_record(m, (m or {}).get("channel"), sla.plan_of(m))
                       for m in (metadata if metadata is not None else [{}] * len(texts))]
            text_rows = rows(priority_model)
            priority_proba = priority_model.predict_proba_features(text_rows, records, embeddings=emb)
            weighed = priority_model.weighed(text_rows, records, priority_proba)
        elif priority_model:
            priority_proba = proba(priority_model)
        warm = warm_probabilities(art_model, texts, emb, proba(art_model) if art_model else None)
        gap_threshold = bundle.gap_threshold if art_model else COLD_GAP_SCORE
        guard = bundle.route_familiarity
        routine = (mean_nearest_similarity(emb, guard["keys"], routing.FAMILIAR_NEIGHBOURS) if guard
                   else [None] * len(texts))
        familiar = [None] * len(texts)
        if art_model is not None and bundle.gap_similarity_threshold is not None:
            familiar = mean_nearest_similarity(emb, bundle.gap_history_keys, GAP_NEIGHBOURS)
        with self.db.session() as session:
            cold = kb_service.search_passages(session=session, store=self.store, vectors=emb, texts=texts,
                                                 k=max(k, 20), adaptation=bundle.article_adaptation)
            # History knows the articles of its training run: one deleted since is not offered.
            warm = kb_service.only_existing(session=session, warm=warm)
            ranked = [fuse(c, w, k + 5) for c, w in zip(cold, warm)]
            apply_rejections(ranked, emb, self._rejections.memory)  # may reorder: cut to k after
            ranked = [row[:k] for row in ranked]
            kb_service.fill_missing_passages(session=session, suggestions=ranked)
        if tier_proba is not None and bundle.tier_combiner is not None:
            best = np.array([r[0]["score"] if r else 0.0 for r in ranked])
            second = positive_proba(bundle.tier_combiner, tier_features(tier_proba[:, 1], best))
            tier_proba = np.column_stack([1 - second, second])
        calibrator = bundle.suggestion_calibrator if art_model else None
        flat = [s for row in ranked for s in row]
        if calibrator is not None and flat:
            # Scores become the probability, learnt from history, that the article resolves the
            # ticket; the version's gap threshold is on the same scale.
            for s, p in zip(flat, calibrator.predict([s["score"] for s in flat])):
                s["score"] = float(p)
        elif calibrator is None:
            # Cold scores are hybrid similarities: the cosine plus a lexical bonus, which passes 1
            # on near-verbatim matches (0.1-0.2% of suggestions on Banking77 and CLINC150). Shown
            # capped at 1, after ranking; no gap or tier test reads the part above 1.
            for s in flat:
                s["score"] = min(s["score"], 1.0)
        escalation = (bundle.priority_thresholds or {}).get("escalation") if priority_proba is not None else None
        top_priority = (bundle.stats.get("priority_order") or [None])[0] if priority_proba is not None else None
        share = self.settings.foreign_text_share
        if not language.english_encoder(bundle.encoder or self.settings.encoder):
            share = 0.0  # a multilingual encoder reads other languages: no flag
        decisions = []
        for i in range(len(texts)):
            decisions.append(self._decision(
                bundle, version_id, ranked[i], gap_threshold, familiar[i], routine[i],
                cat_proba[i] if cat_proba is not None else None,
                tier_proba[i] if tier_proba is not None else None,
                language.assess(texts[i], share) if share else None,
            ))
            decisions[-1].update(
                priority.by_model(priority_model.classes_, priority_proba[i], bundle.stats.get("priority_order", []),
                                  bundle.stats.get("priority_trained_on", 0), weighed[i])
                if priority_proba is not None else priority.by_rules(texts[i], self.priority_matrix))
            decisions[-1].update(priority.escalate(decisions[-1], escalation, top_priority))
        if split and cat_model is not None:
            self._split_issues(texts, decisions, cat_model, k, metadata, in_context)
        if arrivals is not None:
            for d, related in zip(decisions, self.surges.assess(emb, arrivals)):
                d.update(related)
                surge = related["surge"]
                if surge["flag"]:
                    joined = surge["joined"]  # the window ticket whose surge this one joins, if it does
                    core, like = (joined, f"like ticket {joined['ticket_id']}, which has ") if joined else (surge, "")
                    d["reason"] += (f"; surge: {like}{core['similar_in_window']} similar tickets in the last "
                                    f"{surge['window_minutes']:g} min (about {core['expected']:g} expected)")
        return decisions

    def _split_issues(self, texts: list[str], decisions: list[dict], cat_model, k: int,
                      metadata: list[dict] | None = None, in_context: list[np.ndarray | None] | None = None) -> None:
        """Tickets holding several requests get ``multi_issue`` and their ``parts``, each decided as
        a ticket of its own with the ticket's metadata (triage/multi_issue.py). A ticket whose units
        were read in context (``in_context``, from :meth:`encode_tickets`) has them encoded alone only
        when that reading cuts it in two."""
        found = {i: multi_issue.units(t) for i, t in enumerate(texts)}
        found = {i: u for i, u in found.items() if multi_issue.may_split(u)}
        if in_context is not None and found:
            found = self._might_split(found, cat_model, in_context)
        if not found:
            return
        tickets = sorted(found)
        flat = [u.text for i in tickets for u in found[i]]
        # Greetings, sign-offs and units of a few words start no part and weigh in no part's reading:
        # only the others are encoded (0.68x the texts for 600 demo tickets; being short, they cost
        # little time: docs/benchmarks.md "Units read in context first").
        asks = multi_issue.asking([u for i in tickets for u in found[i]])
        read = self.encode([flat[j] for j in asks])
        unit_vectors = np.zeros((len(flat), read.shape[1]), dtype=np.float32)
        unit_vectors[asks] = read
        candidates, reused = {}, []
        for i, (row, parts) in _unit_parts(found, tickets, flat, unit_vectors, cat_model).items():
            if len(parts) >= 2:
                candidates[i] = multi_issue.part_texts(found[i], parts)
                # A part of one unit is that unit's text: its vector is already there (such a unit
                # always may ask something: only those start a part, and a first part holds one).
                reused += [row + members[0] if len(members) == 1 else None for members in parts]
        if not candidates:
            return
        pieces = [p for i in sorted(candidates) for p in candidates[i]]
        metas = ([metadata[i] for i in sorted(candidates) for _ in candidates[i]] if metadata is not None else None)
        vectors = unit_vectors[[0 if r is None else r for r in reused]]  # a copy; row 0 holds the places to encode
        todo = [j for j, r in enumerate(reused) if r is None]
        if todo:
            vectors[todo] = self.encode([pieces[j] for j in todo])
        decided = iter(self.decide(pieces, k=k, split=False, metadata=metas, vectors=vectors))
        for i in sorted(candidates):
            parts = [next(decided) for _ in candidates[i]]
            if multi_issue.keep(parts):
                decisions[i]["multi_issue"] = True
                decisions[i]["parts"] = [
                    {"text": text, **{key: d[key] for key in PART_FIELDS}}
                    for text, d in zip(candidates[i], parts)]
                decisions[i]["reason"] += (f"; {len(parts)} requests in one ticket: "
                                           + ", ".join(f"'{d['category']}'" for d in parts))

    @staticmethod
    def _might_split(found: dict[int, list], cat_model, in_context: list[np.ndarray | None]) -> dict[int, list]:
        """The tickets of ``found`` whose units, read in the context of the whole ticket, fall into
        two parts or more, and those whose units were not read so."""
        kept = {i: u for i, u in found.items() if in_context[i] is None}
        judged = [i for i in sorted(found) if in_context[i] is not None]
        if judged:
            flat = [u.text for i in judged for u in found[i]]
            vectors = np.vstack([in_context[i] for i in judged])
            parts = _unit_parts(found, judged, flat, vectors, cat_model, multi_issue.IN_CONTEXT_SCALE)
            kept.update({i: found[i] for i, (_, groups) in parts.items() if len(groups) >= 2})
        return kept

    def _decision(self, bundle, version_id, suggestions, gap_threshold, familiar, routine, cat_row, tier_row,
                  foreign: language.Verdict | None = None) -> dict:
        """``familiar``: similarity to the tickets articles resolved (the gap test); ``routine``:
        to the labelled tickets (the auto-routing guard); ``foreign``: the language verdict."""
        best = suggestions[0] if suggestions else None
        gap = best is None or best["score"] < gap_threshold
        # Unlike every ticket an article resolved (and the best article has a history to judge by).
        unfamiliar = (not gap and familiar is not None and familiar < bundle.gap_similarity_threshold
                      and bundle.article_history.get(best["article_id"], 0) >= GAP_MIN_HISTORY)
        gap = gap or unfamiliar
        out: dict = {"model_version": version_id, "category": None, "category_confidence": None,
                     "top_categories": [], "tier": None, "tier_confidence": None,
                     "suggestions": [_public(s) for s in suggestions], "gap": bool(gap),
                     "multi_issue": False, "parts": []}  # _split_issues fills these in
        if cat_row is not None:
            classes = bundle.category_model.classes_
            order = np.argsort(-cat_row)[:3]
            out["top_categories"] = [{"category": str(classes[j]), "confidence": round(float(cat_row[j]), 4)}
                                     for j in order]
            out["category"] = str(classes[order[0]])
            out["category_confidence"] = round(float(cat_row[order[0]]), 4)
        if tier_row is not None:
            classes = bundle.tier_model.classes_
            j = int(np.argmax(tier_row))
            out["tier"], out["tier_confidence"] = str(classes[j]), round(float(tier_row[j]), 4)
        else:
            # No tier labels to learn from: a strong article match argues for L1, none for tier 2.
            out["tier"] = "L1" if not gap else "L2"
            out["tier_confidence"] = round(float(best["score"]) if best and not gap else 1.0 - float(best["score"] if best else 0.0), 4)
        out["route"], out["queue"], uncertain = self._route(bundle, out, routine, foreign)
        out["reason"] = self._reason(bundle, out, best, gap, uncertain,
                                     f"unlike the tickets articles resolved ({familiar:.2f})" if unfamiliar else
                                     "no article matches well enough")
        return out

    def _route(self, bundle, d, routine=None, foreign=None) -> tuple[str, str | None, list[str]]:
        """(route, queue, what fell short of its auto-route threshold)."""
        uncertain: list[str] = []
        if d["category"] is None:
            return "review", None, uncertain
        if foreign is not None and foreign.flag:
            uncertain.append(foreign.describe())
        guard = bundle.route_familiarity
        if guard and routine is not None and routine < guard["threshold"]:
            uncertain.append(f"unlike past tickets ({routine:.2f} < {guard['threshold']:.2f}), a new kind of request")
        uncertain.extend(_short_of(bundle.thresholds, "category", d["category"], d["category_confidence"]))
        if bundle.tier_model is not None:
            uncertain.extend(_short_of(bundle.tier_thresholds, "tier", d["tier"], d["tier_confidence"]))
        queue = f"{d['tier']}/{d['category']}"
        return ("review" if uncertain else "auto"), queue, uncertain

    def _reason(self, bundle, d, best, gap, uncertain: list[str], gap_reason: str) -> str:
        parts = []
        if d["tier"] == "L1" and best is not None and not gap:
            parts.append(f"L1: article '{best.get('title') or best['article_id']}' matches "
                         f"{'strongly' if best['score'] >= STRONG_MATCH else 'well enough'} ({best['score']:.2f})")
        else:
            stats = bundle.stats.get("tier_by_category", {}).get(d["category"] or "")
            text = f"{d['tier'] or 'tier 2'}"
            if stats:
                total = sum(stats.values())
                share = stats.get(d["tier"], 0) / total if total else 0
                if share >= 0.5:
                    text += f": category '{d['category']}' goes to {d['tier']} in {share:.0%} of {total} past tickets"
                else:
                    # The tier model read this ticket against its category's habit: say so.
                    text += (f": the wording points to {d['tier']} ({d['tier_confidence']:.2f}) although category "
                             f"'{d['category']}' goes there in only {share:.0%} of {total} past tickets")
            parts.append(text + (f"; {gap_reason}" if gap else ""))
        if d["category"] is None:
            parts.append(f"{self.model_problem or 'no category model trained yet'}: needs review")
        elif d["route"] == "auto":
            parts.append(f"auto-routed: category '{d['category']}' at {d['category_confidence']:.2f}")
        else:
            parts.append(f"needs review: {', '.join(uncertain)}")
        return "; ".join(parts)


PART_FIELDS = ("category", "category_confidence", "tier", "tier_confidence", "priority", "priority_confidence",
               "escalate", "route", "suggestions", "gap")  # escalate: the part's own top-priority escalation
NO_MODELS = ModelVersionArtifact(encoder="", encoder_dim=0)  # decisions before any version serves
EMPTY_REASON = "empty ticket: no text to classify or match; needs review"


def _short_of(thresholds: dict | None, part: str, label: str, confidence: float) -> list[str]:
    """Why ``label`` at ``confidence`` may not be auto-routed (nothing when it may)."""
    thresholds = thresholds or {}
    t = thresholds.get("per_class", {}).get(label, thresholds.get("global", routing.NEVER))
    if confidence >= t:
        return []
    row = thresholds.get("classes", {}).get(label) or {}
    if row.get("basis") == "off":
        return [f"auto-routing is off for {part} '{label}' (routing rule)"]
    if row.get("basis") == "rare":
        n = row.get("training_tickets")
        return [f"{part} '{label}' is a rare class ({n} training ticket{'s' if n != 1 else ''}): too few to "
                "validate, never auto-routed until it has more"]
    if t >= routing.NEVER:
        target = row.get("target_precision") or thresholds.get("target_precision")
        return [f"{part} '{label}' does not reach the {target:.2f} precision target on validation tickets"
                if target else f"no auto-route threshold for {part} '{label}'"]
    return [f"{part} confidence {confidence:.2f} < auto-route threshold {t:.2f}"]


def _public(s: dict) -> dict:
    out = {"article_id": s["article_id"], "title": s.get("title"), "url": s.get("url"),
           "score": round(float(s["score"]), 4), "passage": s.get("passage")}
    if "rejected_similar" in s:
        out["rejected_for_similar_ticket"] = s["rejected_similar"]  # cosine to the closest rejected ticket
    return out
