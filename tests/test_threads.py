import threading

import faiss

from common.threads import FEW_QUERIES, faiss_threads_for
import pytest

pytestmark = pytest.mark.engine_independent  # the PostgreSQL pass leaves it out (tests/conftest.py)


def test_a_few_queries_run_faiss_on_the_calling_thread_alone_and_restore_it():
    before = faiss.omp_get_max_threads()
    seen_elsewhere = []
    with faiss_threads_for(1):
        assert faiss.omp_get_max_threads() == 1
        # A per-thread setting: a request served on another thread keeps the pool.
        other = threading.Thread(target=lambda: seen_elsewhere.append(faiss.omp_get_max_threads()))
        other.start()
        other.join()
    assert faiss.omp_get_max_threads() == before
    assert seen_elsewhere == [before]
    with faiss_threads_for(FEW_QUERIES):
        assert faiss.omp_get_max_threads() == before


def test_the_thread_count_is_restored_when_the_search_fails():
    before = faiss.omp_get_max_threads()
    try:
        with faiss_threads_for(1):
            raise ValueError("search failed")
    except ValueError:
        pass
    assert faiss.omp_get_max_threads() == before
