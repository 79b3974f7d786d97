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


def test_a_file_lock_has_one_holder_at_a_time_also_among_threads(tmp_path):
    import threading

    from common.files import file_lock

    path = tmp_path / "sub" / "x.lock"  # the folder is made
    order: list[str] = []
    held, release = threading.Event(), threading.Event()

    def first():
        with file_lock(path):
            order.append("first in")
            held.set()
            release.wait(30)
            order.append("first out")

    def second():
        held.wait(30)
        with file_lock(path):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    held.wait(30)
    threads[1].join(0.5)  # the second waits for the lock as long as the first holds it
    assert threads[1].is_alive() and order == ["first in"]
    release.set()
    for t in threads:
        t.join(30)
    assert order == ["first in", "first out", "second in"]
