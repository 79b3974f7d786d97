"""Shared fixtures: real databases (a temp SQLite file, or a fresh PostgreSQL schema when
TEST_DATABASE_URL is set), a real faiss index on disk and the real packaged encoder, loaded once."""
from __future__ import annotations

import csv
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from common.config import Settings
from application.runtime import Runtime

PG_URL = os.environ.get("TEST_DATABASE_URL")
DATASETS = Path(os.environ.get("KBTRIAGE_DATASETS", Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
_SCHEMAS: list[str] = []
_LEFT_OUT: list[str] = []  # engine_independent tests the PostgreSQL pass left out
# The demo runtimes' embedding cache, shared: the first demo runtime of a session encodes the demo
# articles and tickets; the others start from a copy of its cache (content-keyed, as a retrain's),
# so each module's runtime trains on the same vectors without encoding them again.
_EMBEDDINGS = Path(tempfile.mkdtemp(prefix="kbt-test-embeddings-")) / "embeddings.sqlite"


def pytest_collection_modifyitems(config, items):
    """The PostgreSQL pass (TEST_DATABASE_URL set) leaves out the tests marked
    ``engine_independent``: the SQLite pass runs them, and nothing in them depends on the engine."""
    if not PG_URL:
        return
    left_out = [item for item in items if item.get_closest_marker("engine_independent")]
    _LEFT_OUT.extend(item.nodeid for item in left_out)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("engine_independent")]


def fresh_database_url(tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or a new schema in the test PostgreSQL database."""
    if not PG_URL:
        return f"sqlite:///{tmp_path / 'kbt.db'}"
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    _SCHEMAS.append(schema)
    return f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"


def pytest_sessionfinish(session, exitstatus):
    if PG_URL and _LEFT_OUT and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK  # all chosen tests were engine_independent: run on SQLite
    shutil.rmtree(_EMBEDDINGS.parent, ignore_errors=True)
    if PG_URL and _SCHEMAS:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in _SCHEMAS:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def make_runtime(home: Path, **overrides) -> Runtime:
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=home, database_url=fresh_database_url(home), **overrides)
    return Runtime(settings).start()


@pytest.fixture
def runtime(tmp_path) -> Runtime:
    """An empty, migrated database with its own data directory."""
    rt = make_runtime(tmp_path / "home")
    yield rt
    rt.close()


@pytest.fixture
def session(runtime):
    with runtime.db.session() as s:
        yield s


def demo_subset(n_tickets: int = 700) -> list[dict]:
    """The first ``n_tickets`` demo tickets as import records."""
    from application.demo import demo_records

    return demo_records()[:n_tickets]


_seeded = [0]  # how many demo tickets the shared cache holds


def demo_runtime(home: Path, n_tickets: int, versions: int = 1) -> Runtime:
    """A runtime with the demo articles and the first ``n_tickets`` demo tickets, trained
    ``versions`` times (each later version promoted, so the earlier ones are retired)."""
    from kb import service as kb_service
    from kb.importers import read_articles
    from application.demo import DEMO_DIR
    from application.training import train
    from triage import service as triage_service

    cache = home / "cache" / "embeddings.sqlite"
    if _EMBEDDINGS.exists() and not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_EMBEDDINGS, cache)
    rt = make_runtime(home)
    with rt.db.session() as s:
        kb_service.upsert_many(session=s, store=rt.store, items=read_articles(DEMO_DIR / "articles"))
        triage_service.import_tickets(session=s, records=demo_subset(n_tickets))
        for n in range(versions):
            train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings,
                  promote="always" if n else "auto")
    if n_tickets > _seeded[0] and cache.exists():  # the demo subsets are prefixes: keep the largest
        shutil.copyfile(cache, _EMBEDDINGS)
        _seeded[0] = n_tickets
    return rt


@pytest.fixture(scope="session")
def trained_runtime(tmp_path_factory) -> Runtime:
    """Demo articles plus part of the demo ticket history, trained once for the whole session."""
    rt = demo_runtime(tmp_path_factory.mktemp("trained"), 700)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def app(trained_runtime):
    from api.app import create_app

    app = create_app(runtime=trained_runtime)
    yield app
    app.extensions["kbtriage.worker"].stop(timeout=60)  # before the database goes away


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def banking_rows():
    """A slice of Banking77 (from ../shared/datasets), or a skip when the datasets are absent."""
    path = DATASETS / "banking77" / "train.csv"
    if not path.exists():
        pytest.skip(f"datasets not found at {DATASETS} (set KBTRIAGE_DATASETS)")
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
