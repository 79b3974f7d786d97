"""Train the category, tier and article models from stored tickets and feedback; write a version.

Every run holds back the same validation slice: tickets picked by a hash of their id, so the slice
is stable as data grows and the active version can be re-scored on exactly the tickets the new one
is judged on. Each model is first fitted without the slice ("probe", kept with the version for
later comparisons) and scored on it; the report, the auto-routing thresholds and the gap threshold
come from there. Then the served model is refitted on everything. A new version is promoted only
when it is not worse than the active one on the slice beyond a tolerance (the guardrail).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable
from collections import Counter, defaultdict

import numpy as np
import scipy.sparse as sp
from sqlalchemy import select
from sqlalchemy.orm import Session

from application.model_selection import (
    REUSE_GROWTH,
    Progress,
    fit_labelled,
    reusable_selection,
    routing_report,
    served_keys,
)
from application.promotion import compare_with_active
from application.suggestion_training import fit_articles, fit_tier_combiner
from common.config import Settings
from common.errors import NotReady
from kb import adaptation as article_adaptation
from kb import service as kb_service
from kb.store import IndexStore
from kb.suggest import rejection_memory
from kb.tables import Article
from models import registry
from models.registry import ActiveVersionChanged
from models.feature_cache import FeatureCache
from models.metadata import MetadataFeatures
from models.tables import ModelVersion
from models.version import ModelVersionArtifact
from triage import feedback, priority, priority_settings, routing, sla
from triage.erasure import last_erasure
from triage.service import ticket_vectors
from triage.tables import FeedbackEvent, Ticket, TriageDecision, ticket_text

MIN_LABELLED = 40
# Priority weighs its classes inversely to their size: the rare urgent tickets are the ones that
# count. On jira_priority's fit part (5-fold, TF-IDF + LinearSVC) macro-F1 went 0.28 -> 0.33 for
# 1 point of accuracy (docs/benchmarks.md, "Priority").
CLASS_WEIGHT = {"priority": "balanced"}


def training_examples(*, session: Session) -> list[dict]:
    """Every stored ticket with its labels, agents' corrections applied (the latest wins).

    A ticket an agent resolved (or whose suggestion was accepted) without correcting its category
    or tier keeps the category and tier its decision predicted: the agent confirmed them.
    """
    corrections: dict[int, dict] = defaultdict(dict)
    confirmed: set[int] = set()
    events = session.execute(
        select(FeedbackEvent.ticket_id, FeedbackEvent.kind, FeedbackEvent.value, FeedbackEvent.article_id)
        .where(FeedbackEvent.kind.in_(("category_corrected", "tier_corrected", "priority_corrected", "resolved",
                                       "accepted")))
        .order_by(FeedbackEvent.id)
    )
    for ticket_id, kind, value, article_id in events:
        if kind == "category_corrected":
            corrections[ticket_id]["category"] = value
        elif kind == "tier_corrected":
            corrections[ticket_id]["tier"] = value
        elif kind == "priority_corrected":
            corrections[ticket_id]["priority"] = value
        else:
            confirmed.add(ticket_id)
            if article_id:
                corrections[ticket_id]["article"] = article_id
    predicted: dict[int, tuple] = {}
    if confirmed:
        rows = session.execute(select(TriageDecision.ticket_id, TriageDecision.category, TriageDecision.tier)
                               .where(TriageDecision.ticket_id.in_(confirmed)).order_by(TriageDecision.id))
        predicted = {tid: (cat, tier) for tid, cat, tier in rows}  # the latest decision wins
    rows = session.execute(select(Ticket.id, Ticket.subject, Ticket.body, Ticket.category, Ticket.tier,
                                  Ticket.resolved_by_article_id, Ticket.priority, Ticket.meta, Ticket.channel)
                           .order_by(Ticket.id))
    examples = []
    for tid, subject, body, category, tier, article, labelled_priority, meta, channel in rows:
        fix = corrections.get(tid, {})
        guess = predicted.get(tid, (None, None))
        examples.append({
            "id": tid,
            "text": ticket_text(subject, body),
            "category": fix.get("category", category) or guess[0],
            "tier": fix.get("tier", tier) or guess[1],
            "article": fix.get("article", article),
            "priority": fix.get("priority", labelled_priority),  # only the desk's labels: a rule's guess teaches nothing
            "metadata": priority.metadata_record(meta, channel, sla.plan_of(meta)),
            "feature_columns": priority.feature_columns(meta),
        })
    return examples


def _with_metadata(examples: list[dict], rows):
    """The priority model's rows: the tickets' metadata (plan, channel, the desk's feature columns)
    one-hot before their text rows, and the fitted extractor and records (None, None when no
    ticket carries any: the model reads text alone)."""
    fields = ["plan", "channel"] + sorted({c for e in examples for c in e["feature_columns"]} - {"plan", "channel"})
    records = [e["metadata"] for e in examples]
    meta = MetadataFeatures(fields=tuple(fields)).fit(records)
    if not meta.width:
        return rows, None, None
    return sp.hstack([meta.transform(records), rows], format="csr"), meta, records


def train(*, session: Session, store: IndexStore, encoder, settings: Settings,
          progress: Progress = lambda msg: None, promote: str = "auto",
          on_version: Callable[[int], None] = lambda version_id: None) -> ModelVersion:
    """Train every model the stored data supports and write a new version; activate it when
    ``promote`` is 'always', or 'auto' and the guardrail passes (and the version it was compared
    with still serves). ``on_version`` learns the new version's id as soon as its row exists."""
    started = time.perf_counter()
    marks: list[tuple[str, float]] = []
    announce = progress

    def progress(message: str) -> None:  # noqa: F811 - the caller's callback, plus a timing mark
        marks.append((message, time.perf_counter()))
        announce(message)

    examples = [e for e in training_examples(session=session) if (e["text"] or "").strip()]
    has_articles = session.scalar(select(Article.id).limit(1)) is not None
    if not examples and not has_articles:
        raise NotReady("nothing to train on: import tickets or articles first", field="tickets")
    version = ModelVersion(status="training", encoder=settings.encoder, report={})
    session.add(version)
    session.commit()
    on_version(version.id)
    progress("syncing the article index")
    store.sync(session=session)
    texts = [e["text"] for e in examples]
    progress(f"embedding {len(texts)} tickets (vectors stored at triage, else encoded, cached by content)")
    emb = (ticket_vectors(session=session, encoder=encoder, encoder_name=settings.encoder,
                          ids=[e["id"] for e in examples], texts=texts)
           if texts else np.zeros((0, encoder.dim), np.float32))
    progress("fitting the text features (word and character TF-IDF)")
    features, matrix, text_features = None, None, None  # every ticket's rows, computed once per run
    if texts:
        features, matrix, text_features = FeatureCache(settings.models_dir).features(
            texts, emb, encoder=settings.encoder, growth=REUSE_GROWTH)
    bundle = ModelVersionArtifact(encoder=settings.encoder, encoder_dim=int(encoder.dim), features=features)
    probes: dict = {}
    slices: dict = {}
    report: dict = {"notes": []}
    if text_features:
        report["text_features"] = text_features

    def labelled(field):
        idx = [i for i, e in enumerate(examples) if e[field]]
        return idx, [examples[i][field] for i in idx]

    active = registry.active(session=session)
    rules = routing.rules(session=session)
    rules.setdefault("priority", {})
    for field, part in (("category", "category"), ("tier", "tier"), ("priority", "priority")):
        idx, labels = labelled(field)
        if len(set(labels)) >= 2:
            # Every ticket labelled (idx lists them all, in order): the rows are the matrix itself,
            # not a copy of it held beside it through the fits (#30: 209 MB at 10,000 e-mail bodies).
            rows, meta, records = (matrix if len(idx) == matrix.shape[0] else matrix[idx]), None, None
            if part == "priority":
                rows, meta, records = _with_metadata([examples[i] for i in idx], rows)
            model, probe, rep, thr, sl, kept = fit_labelled(
                [examples[i]["id"] for i in idx], [texts[i] for i in idx], emb[idx], labels, settings.route_precision,
                progress, part, features, rows, settings.train_jobs,
                reusable_selection(active, part, len(labels)), rules[part], class_weight=CLASS_WEIGHT.get(part),
                metadata=meta, records=records)
            rare = routing.rare_classes(labels, settings.rare_class_min)
            if rare:
                # Too few tickets to validate a threshold: learnt, never auto-routed to.
                bundle.stats.setdefault("rare_classes", {})[part] = rare
                rep["rare_classes"] = {"min_tickets": settings.rare_class_min, "count": len(rare), "classes": rare}
                if kept is not None:
                    thr = routing.thresholds(kept, settings.route_precision, rules[part], classes=model.classes_,
                                             rare=rare)
                    rep["validation"].update(routing_report(thr))
                else:
                    thr = routing.thresholds(None, settings.route_precision, rules[part], fallback=thr, rare=rare)
            report[part], probes[part], slices[part] = rep, probe, sl
            if part == "category":
                bundle.category_model, bundle.thresholds = model, thr
            elif part == "tier":
                bundle.tier_model, bundle.tier_thresholds = model, thr
            else:
                bundle.priority_model, bundle.priority_thresholds = model, thr
                rep["metadata"] = ({"fields": list(meta.fields_), "columns": meta.width} if meta is not None
                                   else {"fields": [], "note": "no ticket carries a plan, channel or feature column"})
                bundle.stats["priority_order"] = priority.order(labels, given=priority_settings.order(session=session))
                bundle.stats["priority_trained_on"] = len(labels)
                rep["order"] = bundle.stats["priority_order"]
                # The top priority is escalated without a person above a threshold for the target
                # precision, like category routing; the service recomputes it under live rules.
                thr["escalation"] = rep["escalation"] = routing.escalation(
                    kept, rep["order"][0], settings.route_precision, rules["priority"], rare)
            if kept is not None:
                bundle.route_outcomes[part] = kept
            if part == "category" and "validation" in rep:
                # Tickets unlike every labelled one are held back from auto-routing.
                bundle.route_familiarity = {"threshold": rep["validation"]["familiarity_threshold"],
                                            "keys": served_keys(model, emb[idx])}
        elif part == "priority":
            report["notes"].append("priority model skipped: tickets carry fewer than two priority labels; "
                                   "priority follows the impact x urgency rules")
        else:
            report["notes"].append(f"{part} model skipped: tickets carry fewer than two {part} labels")
    if bundle.tier_model is not None:
        by_cat: dict[str, Counter] = defaultdict(Counter)
        for e in examples:
            if e["tier"] and e["category"]:
                by_cat[e["category"]][e["tier"]] += 1
        bundle.stats["tier_by_category"] = {c: dict(v) for c, v in by_cat.items()}

    known = set(session.scalars(select(Article.id)))
    art_idx = [i for i, e in enumerate(examples) if e["article"] and e["article"] in known]
    art_labels = [examples[i]["article"] for i in art_idx]
    if len(set(art_labels)) >= 2 and len(art_idx) >= MIN_LABELLED:
        model, probe, rep, gaps, sl, calibrator = fit_articles(
            session=session, store=store, ids=[examples[i]["id"] for i in art_idx],
            texts=[texts[i] for i in art_idx], emb=emb[art_idx], labels=art_labels,
            k=settings.suggestions_k, progress=progress, features=features,
            matrix=matrix[art_idx], jobs=settings.train_jobs,
            reuse=reusable_selection(active, "suggestions", len(art_labels)))
        bundle.article_model, report["suggestions"] = model, rep
        bundle.gap_threshold, bundle.gap_similarity_threshold = gaps["gap_threshold"], gaps["gap_similarity_threshold"]
        # The resolved tickets that the gap test compares new tickets with (the article model's
        # own vote keys when it keeps them), and how many each article resolved.
        bundle.gap_history_keys = served_keys(model, emb[art_idx])
        bundle.article_history = dict(Counter(art_labels))
        bundle.suggestion_calibrator = calibrator
        probes["suggestions"], slices["suggestions"] = probe, sl
    else:
        report["notes"].append(f"article history model skipped: fewer than {MIN_LABELLED} tickets "
                               "resolved by a known article")
        if texts and has_articles:
            progress(f"adapting the articles to {len(texts)} past tickets (no resolved history)")
            adapted = kb_service.adapt_to_tickets(session=session, store=store, tickets=emb)
            bundle.article_adaptation = adapted
            report["article_adaptation"] = (
                {"articles": len(adapted.article_ids), "tickets": adapted.tickets} if adapted else
                {"skipped": f"fewer than {article_adaptation.MIN_TICKETS_PER_ARTICLE} past tickets per article"})

    rejected = feedback.rejections(session=session, with_text=False)
    row_of = {e["id"]: i for i, e in enumerate(examples)}
    pairs = sorted({(row_of[t], a) for _, t, a, _ in rejected if t in row_of})
    bundle.rejections = rejection_memory([a for _, a in pairs], emb[[i for i, _ in pairs]] if pairs else emb[:0])
    # Later rejections reach the serving engine live, until the next version learns them.
    bundle.rejections_through_event = max((eid for eid, *_ in rejected), default=0)
    report["rejections_remembered"] = len(pairs)

    if probes.get("tier") is not None and slices.get("tier"):
        combined = fit_tier_combiner(
            session=session, store=store, tier_probe=probes["tier"], tier_slice=slices["tier"],
            article_probe=probes.get("suggestions"), k=settings.suggestions_k, report=report["tier"],
            target_precision=settings.route_precision, adaptation=bundle.article_adaptation,
            rules=rules["tier"])
        if combined is not None:
            bundle.tier_combiner, bundle.tier_thresholds, bundle.route_outcomes["tier"] = combined

    report["comparison"] = compare_with_active(session=session, store=store, active=active, slices=slices,
                                               models_dir=settings.models_dir,
                                               new_report=report, k=settings.suggestions_k,
                                               tolerance=settings.promotion_tolerance,
                                               class_tolerance=settings.promotion_class_tolerance,
                                               encoder=settings.encoder)
    report["training_seconds"] = round(time.perf_counter() - started, 1)
    ends = [t for _, t in marks[1:]] + [time.perf_counter()]
    report["timings"] = [{"step": m, "seconds": round(end - t, 2)} for (m, t), end in zip(marks, ends)]
    report["tickets"] = len(examples)
    progress(f"writing model version {version.id}")
    version.path = str(registry.write_bundle(settings.models_dir, version.id, bundle, probes))
    # In the transaction that makes it a candidate: every machine on the database can serve it.
    report["artifact_bytes"] = registry.store_artifacts(session, version.id, Path(version.path))
    version.status = "candidate"
    worse = report["comparison"]["worse"]
    if promote == "always" or (promote == "auto" and not worse):
        report["promotion"] = "promoted" if active else "promoted (first version)"
    elif promote == "never":
        report["promotion"] = "kept as candidate (promotion not requested)"
    else:
        report["promotion"] = "kept as candidate: worse than the active version on the validation slice"
    version.report = report
    session.commit()
    if report["promotion"].startswith("promoted"):
        # 'auto' promotes over the version it was compared with; if someone activated another
        # one meanwhile, their choice stands (checked under the activation lock).
        expected = (active.id if active else None) if promote == "auto" else registry.ANY
        try:
            registry.activate(session=session, version_id=version.id, expected_active=expected)
        except ActiveVersionChanged as exc:
            report = {**report, "promotion": f"kept as candidate: {exc.message}"}
            version.report = report
            session.commit()
    registry.prune(session=session, models_dir=settings.models_dir, keep=settings.keep_versions,
                   erased_at=last_erasure(session=session))
    progress(f"model version {version.id}: {report['promotion']} ({report['training_seconds']} s)")
    return version
