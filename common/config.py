"""The one place that reads the environment: settings with defaults and casts.

Every setting can be overridden by an environment variable of the same name prefixed with
``KBTRIAGE_`` (``DATABASE_URL`` is also read bare, as most deployments set it), or by passing a
mapping to :func:`load`.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

DEFAULT_ENCODER = "packaged:all-MiniLM-L6-v2"
log = logging.getLogger("kbtriage.config")
# Variables with the prefix that are read elsewhere, not settings of the service.
NOT_SETTINGS = frozenset({"KBTRIAGE_DATASETS"})


@dataclass(frozen=True)
class Settings:
    """Runtime settings of the service and the CLI."""

    home: Path = field(default_factory=lambda: Path.home() / ".kbtriage")
    database_url: str = ""
    encoder: str = DEFAULT_ENCODER
    # onnx: the encoder exported locally and run by ONNX Runtime (same vectors, ~3x faster per
    # ticket); onnx-int8: that export with 8-bit weights in blocks and int8 arithmetic (cosine
    # ~0.9997 to fp32's, checked at first use; 1.1-1.9x faster again on some processors, 1.2-1.6x
    # slower on an AMD EPYC without VNNI); auto: onnx-int8 where it is faster than
    # onnx on this machine (timed once per machine), else onnx; onnx-int8-fast: ONNX Runtime's
    # dynamic quantisation (cosine ~0.993; 1.5-3.3x; docs/operations.md); torch:
    # sentence-transformers, the reference.
    encoder_backend: str = "auto"
    encoder_cache: Path = field(default_factory=lambda: Path.home() / ".cache" / "kb-triage" / "onnx")
    # Tickets are encoded up to this many word pieces (0: the model's own limit, 256 for MiniLM);
    # article passages always up to the model's limit. MiniLM was trained on 128: on it_tickets
    # the cut saved ~28% of the encoding time with no accuracy cost (docs/benchmarks.md).
    ticket_max_tokens: int = 128
    # Threads of one encoding call (ONNX Runtime) in any process, 0: the cores this process may run
    # on, shared out among the web worker processes under `kbtriage serve --workers N`: with as many
    # processes as cores, a second thread per call cut no request's wait and cost about a third more
    # CPU (docs/benchmarks.md).
    encoder_threads: int = 0
    host: str = "127.0.0.1"
    port: int = 8080
    # Routing: auto-route only when the category confidence reaches this (overridden per version
    # by the threshold chosen on validation data for the target precision).
    route_precision: float = 0.95
    suggestions_k: int = 3
    chunk_words: int = 120
    max_batch: int = 500
    # A batch's request body in bytes: with max_batch, bounds the CPU one request holds a thread
    # for (1 MB of long tickets: ~3.4 s on 2 cores); larger sets go through `kbtriage triage FILE`.
    max_batch_bytes: int = 1_000_000
    # Serving limits, so that a handful of slow or idle clients cannot lock everyone out.
    max_request_bytes: int = 8 * 1024 * 1024  # any request body (413 beyond)
    connection_limit: int = 1000  # open connections per waitress process (kbtriage serve)
    # A client silent this long in the middle of a request (or idle between requests) is closed.
    client_timeout: float = 10.0
    # gunicorn (kbtriage serve --workers N): a web worker that does not report for this long is
    # killed and replaced; on a stop, workers get graceful_timeout seconds to finish their requests.
    request_timeout: float = 60.0
    graceful_timeout: float = 30.0
    # The guardrail: a new version is promoted automatically only when no guarded metric on the
    # validation slice is worse than the active version's by more than this.
    promotion_tolerance: float = 0.01
    # ... and no class (with 20+ slice tickets) may lose more than this much F1.
    promotion_class_tolerance: float = 0.05
    # A class with fewer labelled tickets than this is a rare class (a desk's long tail): the model
    # learns it, but tickets are never auto-routed to it, and decisions say why (triage/routing.py).
    rare_class_min: int = 10
    # A ticket is never auto-routed when at least this share of it is not English (words outside
    # the Latin script, or German/French/... function words among its function words): the English
    # encoder reads it poorly (triage/language.py). 0: off (set it with a multilingual encoder).
    foreign_text_share: float = 0.5
    keep_versions: int = 5
    train_jobs: int = 2  # parallel fits during model selection (threads)
    retrain_after_feedback: int = 0  # queue a training job after this many feedback events; 0 = off
    retrain_every_hours: float = 0.0  # queue one on this schedule; 0 = off
    # Erase tickets (with their decisions, feedback, cached vectors and the model versions that may
    # hold them) once they are older than this many days; the worker checks hourly. 0 = keep all.
    retention_days: int = 0
    # Surges (triage/surges.py): a ticket is part of one when this many similar tickets, itself
    # included, came within the window, far more than the last 7 days' rate leads one to expect.
    surge_window_minutes: float = 60.0
    surge_min_tickets: int = 5
    # Training jobs hold a lease: their worker renews it (a heartbeat) while it trains; a job whose
    # lease lapsed lost its worker and is queued again, at most job_attempts times in all.
    job_lease_seconds: float = 60.0
    job_attempts: int = 3
    worker: str = "embedded"  # embedded: a worker thread inside the service; external: `kbtriage worker`
    # The embedded worker trains in a child process, so the serving process never holds a training
    # run's memory (nor torch); off: in the worker thread itself (less start-up per job).
    train_in_child: bool = True
    # Training processes (`kbtriage worker`, the embedded worker's child) run at this niceness
    # (0-19; 0: the same as the service), so that on shared cores requests come first.
    training_nice: int = 10
    # API keys (application/access.py) are checked once one exists; with this set, also before that,
    # so a deployment cannot start open by mistake.
    require_api_key: bool = False
    # Signs the web console's session cookies. Empty: one is made once and kept in the data
    # directory; replicas behind one load balancer must share one, set here.
    console_secret: str = ""
    # Reverse proxies in front of the service whose X-Forwarded-For/-Proto/-Host headers are
    # trusted (0: none). Behind one TLS-terminating proxy, 1: the console's cookie is then Secure.
    proxy_hops: int = 0

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'common.db'}"


def _cast(kind, raw: str):
    if kind in (bool, "bool"):
        if raw.strip().lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ValueError(f"expected a yes/no value (1/0, true/false), got {raw!r}")
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    if kind in (Path, "Path"):
        return Path(raw).expanduser()
    return raw


def load(overrides: dict | None = None, environ: dict | None = None) -> Settings:
    """Settings from defaults, then the environment, then ``overrides``."""
    env = os.environ if environ is None else environ
    values: dict = {}
    for f in fields(Settings):
        raw = env.get(f"KBTRIAGE_{f.name.upper()}")
        if f.name == "database_url" and raw is None:
            raw = env.get("DATABASE_URL")
        if raw not in (None, ""):
            values[f.name] = _cast(f.type, raw)
    known = {f"KBTRIAGE_{f.name.upper()}" for f in fields(Settings)} | NOT_SETTINGS
    for name in sorted(n for n in env if n.startswith("KBTRIAGE_") and n not in known):
        log.warning("%s is not a kb-triage setting and is ignored (docs/operations.md lists them)", name)
    settings = replace(Settings(), **values)
    if overrides:
        clean = {k.lower(): v for k, v in overrides.items() if k.lower() in {f.name for f in fields(Settings)}}
        if "home" in clean:
            clean["home"] = Path(clean["home"]).expanduser()
        settings = replace(settings, **clean)
    return settings
