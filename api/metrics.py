"""Prometheus metrics of the service at ``GET /metrics``: request latency per endpoint, decisions by
route, decisions in a surge, and what is loaded (active model version, indexed passages, an index
rebuild under way, whether the service is degraded).

Each app has its own registry, so several apps in one process (tests, the CLI) do not collide.
The latency histogram's buckets sit around the single-ticket triage times measured in
docs/benchmarks.md (5-20 ms) and a training request's quick answer.
"""
from __future__ import annotations

import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from common import heap
from models import registry as versions

BUCKETS = (0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    def __init__(self, runtime):
        self.registry = CollectorRegistry()
        self.requests = Histogram("kbtriage_http_request_duration_seconds", "HTTP requests by endpoint and status",
                                  ["method", "endpoint", "status"], buckets=BUCKETS, registry=self.registry)
        self.decisions = Counter("kbtriage_decisions_total", "Triage decisions made by the API",
                                 ["route", "gap"], registry=self.registry)
        # Alert on increase(kbtriage_surge_decisions_total[10m]) > 0: many tickets about one thing.
        self.surges = Counter("kbtriage_surge_decisions_total", "Triage decisions flagged as part of a surge",
                              registry=self.registry)
        self.feedback = Counter("kbtriage_feedback_events_total", "Feedback events stored", ["kind"],
                                registry=self.registry)
        version = Gauge("kbtriage_active_model_version", "Id of the active model version (0: none)",
                        registry=self.registry)
        version.set_function(lambda: _active_version(runtime))
        passages = Gauge("kbtriage_indexed_passages", "Passages in the vector index", registry=self.registry)
        passages.set_function(runtime.store.count)
        # While the passages are embedded again (after an encoder change): how many are left, else 0.
        pending = Gauge("kbtriage_index_rebuild_pending_passages",
                        "Passages still to embed while the index is rebuilt for a new encoder (0: none)",
                        registry=self.registry)
        pending.set_function(lambda: _rebuild_pending(runtime.store))
        degraded = Gauge("kbtriage_degraded", "1 when /healthz reports degraded (a retired model or a stale index)",
                        registry=self.registry)
        degraded.set_function(lambda: float(bool(runtime.problems())))
        # Objects the loaded model version left out of the garbage collector's full passes (0 until
        # this process loaded one; common/heap.py).
        frozen = Gauge("kbtriage_heap_frozen_objects",
                       "Objects of this process kept out of full garbage collections since its model version loaded",
                       registry=self.registry)
        frozen.set_function(heap.frozen_objects)

    def decided(self, decisions: list[dict]) -> None:
        for d in decisions:
            self.decisions.labels(route=d["route"], gap=str(bool(d["gap"])).lower()).inc()
            if (d.get("surge") or {}).get("flag"):
                self.surges.inc()

    def recorded(self, events: list[dict]) -> None:
        for e in events:
            self.feedback.labels(kind=e["kind"]).inc()


def _active_version(runtime) -> int:
    with runtime.db.session() as session:
        active = versions.active(session=session)
    return active.id if active else 0


def _rebuild_pending(store) -> int:
    state = store.rebuilding
    return state["total"] - state["done"] if state else 0


def current() -> Metrics:
    return current_app.extensions["kbtriage.metrics"]


def register(app: Flask, runtime) -> None:
    app.extensions["kbtriage.metrics"] = metrics = Metrics(runtime)

    @app.before_request
    def _start_clock():
        g.started = time.perf_counter()

    @app.after_request
    def _observe(response):
        if "started" in g:
            metrics.requests.labels(method=request.method, endpoint=request.endpoint or "unknown",
                                    status=str(response.status_code)).observe(time.perf_counter() - g.started)
        return response

    def export():
        return Response(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", export)
