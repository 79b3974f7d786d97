"""Keep BLAS single-threaded while the service answers a few tickets.

OpenBLAS parks its worker threads in a busy-wait after each call (about 0.1 s by default). On a
2-core machine one small matrix product in a single-ticket decision (the nearest-ticket vote)
leaves a worker spinning on one core while ONNX Runtime, which has its own thread pool, encodes the
next ticket on both: single-ticket triage measured about 20% slower (docs/benchmarks.md). Inside
:func:`single_threaded_blas` the BLAS libraries run on the calling thread only, so nothing spins.

The limit is process-wide, so concurrent callers share it: the first to enter sets it, the last to
leave restores the previous thread counts (a plain ``threadpool_limits`` per call would, when two
calls overlap, restore the limit of the other call and leave BLAS single-threaded for good).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_active = 0
_controller = None
_restore = None


def _blas():
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    global _active, _restore
    with _lock:
        if _active == 0:
            _restore = _blas().limit(limits=1)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _restore is not None:
                _restore.restore_original_limits()
                _restore = None


def active_callers() -> int:
    """How many callers are inside :func:`single_threaded_blas` now (for tests and diagnostics)."""
    return _active
