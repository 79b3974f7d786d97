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


def test_a_serving_process_runs_numpys_blas_on_one_thread_and_leaves_faiss_openmp_alone():
    from threadpoolctl import threadpool_info

    from common.threads import one_blas_thread

    before = faiss.omp_get_max_threads()
    one_blas_thread()
    pthread_pools = [i for i in threadpool_info() if i["user_api"] == "blas" and i.get("threading_layer") == "pthreads"]
    assert pthread_pools and all(i["num_threads"] == 1 for i in pthread_pools)
    assert faiss.omp_get_max_threads() == before  # per-thread OpenMP: faiss_threads_for's to set
