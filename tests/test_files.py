import os
import time

from models import registry


def _aged(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_prune_removes_only_stale_temporaries_of_killed_runs(session, runtime):
    models_dir = runtime.settings.models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    (models_dir / ".text_features-old-123").mkdir()
    (models_dir / ".text_features-old-123" / "rows.npz").write_bytes(b"x" * 100)
    _aged(models_dir / ".text_features-old-123", 2 * 3600)
    (models_dir / ".v7-abcd").mkdir()
    _aged(models_dir / ".v7-abcd", 2 * 3600)
    (models_dir / ".text_features-young").mkdir()  # another process may be writing it now
    (models_dir / "text_features").mkdir()  # the live cache
    _aged(models_dir / "text_features", 2 * 3600)

    registry.prune(session=session, models_dir=models_dir)

    left = sorted(p.name for p in models_dir.iterdir())
    assert left == [".text_features-young", "text_features"]
