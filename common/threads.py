"""How many threads faiss may use for a search, by its size.

A search for a few queries finishes in well under a millisecond, but when faiss runs it on its
OpenMP pool the idle pool threads keep spinning afterwards on the other core of a small machine,
and the next step of the same request (the encoder of the next ticket) measured ~1 ms slower
(docs/benchmarks.md, single-ticket latency). So a few queries are searched on the calling thread
alone; batches keep the pool.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

# A request of fewer tickets than this is "a few": its faiss searches run on the calling thread
# alone, and models/features.py and models/classifier.py compute its TF-IDF rows and SVM scores
# without scikit-learn's per-call checks; larger batches take the pooled and scikit-learn paths, faster for them.
FEW_QUERIES = 20


@contextmanager
def faiss_threads_for(n_queries: int):
    """Run the block with faiss on one thread when ``n_queries`` is below ``FEW_QUERIES``.

    OpenMP's thread count is a per-thread setting, so this changes nothing for other threads
    (a server answering requests in parallel) and is restored on exit."""
    if n_queries >= FEW_QUERIES:
        yield
        return
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def one_blas_thread() -> None:
    """Run the process-wide BLAS pools loaded in this process (numpy's and scipy's OpenBLAS, built
    on pthreads) on one thread, from now on.

    For a serving process: a request's matrix products are small, and after each one OpenBLAS's
    pool threads busy-wait for the next, so under a steady flow of requests they hold the other
    core: 600 short triage requests in one process, one after another, kept a pool thread busy for
    8.6 CPU-seconds (the thread answering them used 11.4, start-up included; docs/benchmarks.md). faiss's
    OpenBLAS runs on OpenMP, whose thread count is each thread's own (:func:`faiss_threads_for`
    sets it per search); it is left alone. Training, which profits from the pools, runs in a child
    process by default, which this does not touch."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS, so that the limit reaches it too)
    from threadpoolctl import ThreadpoolController

    for library in ThreadpoolController().lib_controllers:
        if library.user_api == "blas" and getattr(library, "threading_layer", None) == "pthreads":
            library.set_num_threads(1)


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity (which taskset and container runtimes
    set), not the host's count. A CPU quota without pinned cores is not seen."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform
        return os.cpu_count() or 1


def background_priority(niceness: int) -> None:
    """Run this process's threads from now on at ``niceness`` (1-19; 0 or less: unchanged, and a
    process already lower is left so): a training process on the web workers' cores then takes
    the CPU they leave, and requests keep their latency while a job runs (docs/benchmarks.md,
    "Production shape"). Call it before starting threads: on Linux a thread's niceness is its own,
    and the threads it starts inherit it."""
    if niceness <= 0 or not hasattr(os, "setpriority"):
        return
    target = min(19, niceness)
    if os.getpriority(os.PRIO_PROCESS, 0) < target:
        os.setpriority(os.PRIO_PROCESS, 0, target)
