"""Train the category, tier and article models from stored tickets and feedback; write a version.

A run fits each model on most of the data, evaluates it on a held-back validation slice (the
report and the auto-routing thresholds come from there), then refits on everything and writes
the artifacts as a new model version.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Callable

import numpy as np
from sklearn.model_selection import train_test_split
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import service as kb_service
from kb.store import IndexStore
from kb.suggest import fuse, warm_probabilities
from kb.tables import Article
from kbtriage.config import Settings
from kbtriage.errors import NotReady
from models import registry
from models.classifier import HybridTextClassifier
from models.metrics import classification_report, threshold_for_precision
from models.tables import ModelVersion
from triage.tables import FeedbackEvent, Ticket

Progress = Callable[[str], None]
VALIDATION_FRACTION = 0.15
MAX_VALIDATION = 4000
SEED = 7


def training_examples(*, session: Session) -> list[dict]:
    """Every stored ticket with its labels, agents' corrections applied (the latest wins)."""
    corrections: dict[int, dict] = defaultdict(dict)
    events = session.execute(
        select(FeedbackEvent.ticket_id, FeedbackEvent.kind, FeedbackEvent.value, FeedbackEvent.article_id)
        .where(FeedbackEvent.kind.in_(("category_corrected", "tier_corrected", "resolved")))
        .order_by(FeedbackEvent.id)
    )
    for ticket_id, kind, value, article_id in events:
        if kind == "category_corrected":
            corrections[ticket_id]["category"] = value
        elif kind == "tier_corrected":
            corrections[ticket_id]["tier"] = value
        elif kind == "resolved" and article_id:
            corrections[ticket_id]["article"] = article_id
    rows = session.execute(select(Ticket.id, Ticket.subject, Ticket.body, Ticket.category, Ticket.tier,
                                  Ticket.resolved_by_article_id).order_by(Ticket.id))
    examples = []
    for tid, subject, body, category, tier, article in rows:
        fix = corrections.get(tid, {})
        examples.append({
            "id": tid,
            "text": f"{subject}\n{body}".strip() if subject else body,
            "category": fix.get("category", category),
            "tier": fix.get("tier", tier),
            "article": fix.get("article", article),
        })
    return examples


def _split(n: int, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(n)
    n_val = min(MAX_VALIDATION, max(1, int(n * VALIDATION_FRACTION)))
    counts = Counter(labels)
    stratify = labels if min(counts.values()) >= 2 and n_val >= len(counts) else None
    return train_test_split(idx, test_size=n_val, random_state=SEED, stratify=stratify)


def _fit_labelled(texts, emb, labels, target_precision: float, progress: Progress, what: str):
    """Fit with a validation slice for the report and thresholds, then refit on all rows."""
    labels = list(labels)
    report: dict = {"classes": len(set(labels)), "examples": len(labels)}
    thresholds = {"global": 1.01, "per_class": {}}
    scale = None
    if len(labels) >= 40:
        fit_idx, val_idx = _split(len(labels), labels)
        fit_labels = [labels[i] for i in fit_idx]
        if len(set(fit_labels)) >= 2:
            progress(f"{what}: fitting on {len(fit_idx)} tickets, validating on {len(val_idx)}")
            probe = HybridTextClassifier().fit([texts[i] for i in fit_idx], fit_labels, embeddings=emb[fit_idx])
            scale = getattr(probe.model_, "scale_", None)
            proba = probe.predict_proba([texts[i] for i in val_idx], embeddings=emb[val_idx])
            pred = probe.classes_[proba.argmax(1)]
            conf = proba.max(1)
            truth = np.array([labels[i] for i in val_idx])
            report["validation"] = classification_report(truth, pred, conf)
            t, prec, cov = threshold_for_precision(conf, pred == truth, target_precision)
            thresholds["global"] = t
            report["validation"].update({"auto_route_threshold": round(t, 4), "auto_route_precision":
                                         round(prec, 4), "auto_route_coverage": round(cov, 4),
                                         "target_precision": target_precision})
            for cls in sorted(set(pred)):
                mask = pred == cls
                if mask.sum() >= 30:
                    ct, _, _ = threshold_for_precision(conf[mask], truth[mask] == cls, target_precision, 10)
                    thresholds["per_class"][cls] = ct
    progress(f"{what}: fitting the final model on {len(labels)} tickets")
    model = HybridTextClassifier(scale=scale).fit(texts, labels, embeddings=emb)
    return model, report, thresholds


def _gap_threshold(*, session, store, texts, emb, articles, k) -> tuple[float, dict, float | None]:
    """Pick the suggestion score below which a ticket counts as a content gap: the 5th percentile
    of the best score on validation tickets that an article did resolve."""
    fit_idx, val_idx = _split(len(articles), articles)
    probe = HybridTextClassifier().fit([texts[i] for i in fit_idx], [articles[i] for i in fit_idx],
                                       embeddings=emb[fit_idx])
    val_texts = [texts[i] for i in val_idx]
    cold = kb_service.search_passages(session=session, store=store, vectors=emb[val_idx], k=20)
    warm = warm_probabilities(probe, val_texts, emb[val_idx])
    ranked = [fuse(c, w, k) for c, w in zip(cold, warm)]
    truth = [articles[i] for i in val_idx]
    best = np.array([r[0]["score"] if r else 0.0 for r in ranked])
    hits = [([s["article_id"] for s in r] + [None])[:3] for r in ranked]
    report = {
        "n": len(val_idx),
        "hit@1": round(float(np.mean([h[0] == t for h, t in zip(hits, truth)])), 4),
        "hit@3": round(float(np.mean([t in h for h, t in zip(hits, truth)])), 4),
    }
    threshold = float(np.quantile(best, 0.05)) if len(best) else 0.0
    report["gap_threshold"] = round(threshold, 4)
    return threshold, report, getattr(probe.model_, "scale_", None)


def train(*, session: Session, store: IndexStore, encoder, settings: Settings,
          progress: Progress = lambda msg: None) -> ModelVersion:
    """Train every model the stored data supports, write a new version and activate it."""
    started = time.perf_counter()
    examples = [e for e in training_examples(session=session) if e["text"].strip()]
    n_articles = session.scalar(select(Article.id).limit(1)) is not None
    if not examples and not n_articles:
        raise NotReady("nothing to train on: import tickets or articles first", field="tickets")
    progress(f"syncing the article index")
    store.sync(session=session)
    texts = [e["text"] for e in examples]
    progress(f"encoding {len(texts)} tickets (cached by content)")
    emb = encoder.encode(texts, progress=False) if texts else np.zeros((0, encoder.dim), np.float32)
    bundle: dict = {"encoder": settings.encoder, "category_model": None, "tier_model": None,
                    "article_model": None, "thresholds": {}, "tier_thresholds": {}, "stats": {}}
    report: dict = {"notes": []}

    cat_idx = [i for i, e in enumerate(examples) if e["category"]]
    if len({examples[i]["category"] for i in cat_idx}) >= 2:
        model, rep, thr = _fit_labelled([texts[i] for i in cat_idx], emb[cat_idx],
                                        [examples[i]["category"] for i in cat_idx],
                                        settings.route_precision, progress, "category")
        bundle["category_model"], bundle["thresholds"], report["category"] = model, thr, rep
    else:
        report["notes"].append("category model skipped: tickets carry fewer than two categories")

    tier_idx = [i for i, e in enumerate(examples) if e["tier"]]
    if len({examples[i]["tier"] for i in tier_idx}) >= 2:
        model, rep, thr = _fit_labelled([texts[i] for i in tier_idx], emb[tier_idx],
                                        [examples[i]["tier"] for i in tier_idx],
                                        settings.route_precision, progress, "tier")
        bundle["tier_model"], bundle["tier_thresholds"], report["tier"] = model, thr, rep
        by_cat: dict[str, Counter] = defaultdict(Counter)
        for i in tier_idx:
            by_cat[examples[i]["category"] or ""][examples[i]["tier"]] += 1
        bundle["stats"]["tier_by_category"] = {c: dict(v) for c, v in by_cat.items() if c}
    else:
        report["notes"].append("tier model skipped: tickets carry no tier labels (or only one tier)")

    known = set(session.scalars(select(Article.id)))
    art_idx = [i for i, e in enumerate(examples) if e["article"] and e["article"] in known]
    if len({examples[i]["article"] for i in art_idx}) >= 2 and len(art_idx) >= 40:
        a_texts, a_labels = [texts[i] for i in art_idx], [examples[i]["article"] for i in art_idx]
        progress(f"articles: learning from {len(art_idx)} resolved tickets")
        gap, rep, scale = _gap_threshold(session=session, store=store, texts=a_texts,
                                         emb=emb[art_idx], articles=a_labels, k=settings.suggestions_k)
        bundle["article_model"] = HybridTextClassifier(scale=scale).fit(a_texts, a_labels, embeddings=emb[art_idx])
        bundle["gap_threshold"] = gap
        report["suggestions"] = rep
    else:
        report["notes"].append("article history model skipped: fewer than 40 tickets resolved by a known article")

    report["training_seconds"] = round(time.perf_counter() - started, 1)
    report["tickets"] = len(examples)
    version = ModelVersion(status="training", encoder=settings.encoder, report=report)
    session.add(version)
    session.commit()
    progress(f"writing model version {version.id}")
    version.path = str(registry.write_bundle(settings.models_dir, version.id, bundle))
    version.status = "candidate"
    session.commit()
    registry.activate(session=session, version_id=version.id)
    progress(f"model version {version.id} active ({report['training_seconds']} s)")
    return version
