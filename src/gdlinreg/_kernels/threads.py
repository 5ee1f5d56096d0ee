"""Row parts of X over the cores: Python threads, each with a single-threaded BLAS.

OpenBLAS parallelises one product of a tall, thin block over its few output columns: both
threads then read the whole block, and a rank-k update (syrk) of 100 columns runs at about a
quarter of the matrix-multiply rate. One contiguous part of the rows per core, each with a
one-thread BLAS, reads X once and runs each core near its own rate; NumPy's BLAS calls and
scipy's sparse kernels release the GIL, so plain threads suffice.

The BLAS thread count is set through threadpoolctl (a dependency of scikit-learn), imported
only when a large product arrives; without it, or when BLAS already runs one thread (set by the
user, by joblib's workers or by Dask), everything runs serially in the calling thread.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

T = TypeVar("T")

# Below about 4M values per part, starting threads and switching BLAS cost more than they save.
MIN_PART_SIZE = 1 << 22

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _forget_after_fork() -> None:
    # A forked child inherits the pool object but none of its threads: work submitted to it
    # would wait forever. It starts afresh instead.
    global _lock
    _lock = threading.Lock()
    _state.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _controller() -> Any:
    with _lock:
        if "controller" not in _state:
            try:
                from threadpoolctl import ThreadpoolController

                _state["controller"] = ThreadpoolController()
            except Exception:  # not installed, or an unreadable library: stay serial
                _state["controller"] = None
        return _state["controller"]


def n_parts(size: int) -> int:
    """How many parts to split work over ``size`` values into (1: run serially)."""
    if size < 2 * MIN_PART_SIZE or threading.current_thread() is not threading.main_thread():
        # Work from another thread (a Dask or joblib worker) is already parallel.
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    controller = _controller()
    if controller is None or not cores:
        return 1
    # A user's threadpool_limits(1) (or joblib's in its workers) means one core: respect it.
    # (Inside serial_blas, the count before it.)
    threads = _state.get("outer_threads") or _blas_threads(controller)
    return max(1, min(cores, threads, size // MIN_PART_SIZE))


def spans(n: int, parts: int) -> list[slice]:
    """``parts`` contiguous slices covering ``range(n)``, as equal as can be."""
    cuts = [n * i // parts for i in range(parts + 1)]
    return [slice(a, b) for a, b in itertools.pairwise(cuts) if b > a]


@contextmanager
def serial_blas() -> Iterator[None]:
    """A one-thread BLAS for the block, when called from the main thread (elsewhere the
    thread count is not gdlinreg's to change: threadpoolctl's limits are process-wide).

    A fit's own linear algebra is small (p x p eigenvalues and solves, a part of the rows
    too small to split): threaded, it ran 10-50x slower than one thread on a busy 2-core
    machine (the statistics of 1e4 x 100 rows: 685 ms against 15 ms; eigvalsh of 101 x 101:
    about 15 ms against 0.5), each call's threads waiting for a core at every
    synchronisation, and it gained little on a quiet one. What is large runs in parts
    (:func:`run_parts`), as many as the threads BLAS had before this block (:func:`n_parts`
    reads them here, not the one set)."""
    controller = _controller() if threading.current_thread() is threading.main_thread() else None
    if controller is None or "outer_threads" in _state:  # (none, or already inside one)
        yield
        return
    _state["outer_threads"] = _blas_threads(controller)
    try:
        with controller.limit(limits=1, user_api="blas"):
            yield
    finally:
        del _state["outer_threads"]


def _blas_threads(controller: Any) -> int:
    blas = [info["num_threads"] for info in controller.info() if info["user_api"] == "blas"]
    return max(blas, default=1)


def run_parts(work: Callable[[slice], T], parts: Sequence[slice]) -> list[T]:
    """``[work(part) for part in parts]``, one thread per part, each with a one-thread BLAS
    (one part too: :func:`serial_blas`)."""
    if len(parts) == 1:
        with serial_blas():
            return [work(parts[0])]
    with _lock:
        if _state.get("pool_size", 0) < len(parts):
            if "pool" in _state:
                _state["pool"].shutdown(wait=False)
            _state["pool"] = ThreadPoolExecutor(len(parts), thread_name_prefix="gdlinreg")
            _state["pool_size"] = len(parts)
        pool: ThreadPoolExecutor = _state["pool"]
    controller = _controller()
    limit = nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")
    with limit:
        return list(pool.map(work, parts))
