import threading

import numpy as np
from threadpoolctl import ThreadpoolController

from kbtriage.threads import active_callers, single_threaded_blas


def _blas_threads() -> list[int]:
    return [lib.num_threads for lib in ThreadpoolController().select(user_api="blas").lib_controllers]


def test_blas_is_single_threaded_inside_and_restored_after_overlapping_callers():
    np.ones((4, 4)) @ np.ones((4, 4))  # BLAS is loaded
    before = _blas_threads()
    assert before, "numpy links a BLAS library"
    entered, release = threading.Event(), threading.Event()

    def other_caller():
        with single_threaded_blas():
            entered.set()
            release.wait(10)

    worker = threading.Thread(target=other_caller)
    worker.start()
    assert entered.wait(10)
    with single_threaded_blas():
        assert active_callers() == 2
        assert set(_blas_threads()) == {1}
    # The other caller is still inside: the limit must hold until it leaves too.
    assert set(_blas_threads()) == {1}
    release.set()
    worker.join(10)
    assert active_callers() == 0
    assert _blas_threads() == before


def test_the_limit_is_released_when_the_body_raises():
    before = _blas_threads()
    try:
        with single_threaded_blas():
            raise ValueError("boom")
    except ValueError:
        pass
    assert active_callers() == 0
    assert _blas_threads() == before
