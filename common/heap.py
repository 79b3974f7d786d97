"""A serving process's heap as Python's cyclic garbage collector sees it.

A web worker holds a model version's objects (vocabularies, estimators, the passage lexicon) for
hours. Python's full collections walk every object that may hold references, each time: in a busy
web worker they took 110-236 ms about once every two minutes, with the interpreter lock held, so
that every request of the process waited (docs/benchmarks.md, "Full garbage collections and the
surge refresh"). Once a version is loaded, its objects are moved out of the collector's sight
(``gc.freeze``); reference counting still frees what they stop using, and the next version's load
collects and freezes again.
"""
from __future__ import annotations

import gc
import time


def settle() -> float:
    """Collect everything once, then freeze what is alive (the loaded models, the modules), so that
    later full collections look only at objects made since. Seconds spent (one full collection)."""
    started = time.perf_counter()
    gc.unfreeze()  # what the last settle froze is looked at again: the garbage of the old version goes
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started


def frozen_objects() -> int:
    """Objects kept out of the collector's sight by :func:`settle`."""
    return gc.get_freeze_count()
