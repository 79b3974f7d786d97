"""Start-up recovery lives in the application layer: a worker started on its own repairs what a
crash left, as the service does (application/startup.py)."""
import shutil

from click.testing import CliRunner

from application.demo import DEMO_DIR
from application.runtime import Runtime
from cli.main import main
from kb import service as kb_service
from kb.importers import read_articles


def test_a_worker_started_alone_brings_the_index_in_step_with_the_database(runtime, session):
    kb_service.upsert_many(session=session, store=runtime.store, items=read_articles(DEMO_DIR / "articles")[:6])
    passages = runtime.store.count()
    assert passages > 0
    # A crash after the database commit and before the index save: the articles are stored, the
    # index files are not there.
    shutil.rmtree(runtime.settings.index_dir)
    env = {"KBTRIAGE_HOME": str(runtime.settings.home), "DATABASE_URL": runtime.settings.resolved_database_url()}
    result = CliRunner().invoke(main, ["worker", "--once"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "queue empty" in result.output
    after = Runtime(runtime.settings)
    try:
        assert after.store.count() == passages and after.store.stale_reason() is None
    finally:
        after.close()
