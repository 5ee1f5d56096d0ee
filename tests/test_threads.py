"""Row parts over threads: the same numbers as one serial pass, whatever the cut.

Real inputs are cut into parts only above ~8M values; here ``n_parts`` is forced, so that
small problems take the threaded paths. References: unblocked NumPy statistics and products on
the dense array, and ``numpy.linalg.lstsq``.
"""

import os
import threading
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import exact_moments, unblocked
from _reference import objective as reference_objective
from threadpoolctl import threadpool_info, threadpool_limits

from gdlinreg import GDLinearRegressor, gradient_descent
from gdlinreg._kernels import threads as _threads
from gdlinreg._problem import statistics as _statistics
from gdlinreg._problem.coordinates import Coordinates
from gdlinreg._problem.data import DataObjective
from gdlinreg._problem.statistics import moments
from gdlinreg.losses import get_loss


@pytest.fixture(params=[2, 3, 7])
def parts(request, monkeypatch):
    monkeypatch.setattr(_threads, "n_parts", lambda size: request.param)
    return request.param


def test_spans_cover_the_rows_once():
    for n in (1, 5, 1000):
        for k in (1, 2, 3, 7):
            cut = _threads.spans(n, k)
            assert np.array_equal(np.concatenate([np.arange(n)[c] for c in cut]), np.arange(n))


@pytest.mark.parametrize("offset", [0.0, 1e6])
@pytest.mark.parametrize("weights", ["equal", "random", "zero part"])
@pytest.mark.parametrize("blocks", [None, (256, 100)])
def test_dense_moments_in_parts_equal_unblocked(parts, offset, weights, blocks, monkeypatch):
    if blocks is not None:  # several blocks per part, and in-place sub-blocks within them
        monkeypatch.setattr(_statistics, "_PART_BLOCK_ROWS", blocks[0])
        monkeypatch.setattr(_statistics, "_SUB_BLOCK_ROWS", blocks[1])
    rng = np.random.default_rng(parts)
    n = 3000
    X = offset + rng.standard_normal((n, 4)) * [1e-3, 1.0, 1e3, 5.0]
    Y = rng.standard_normal((n, 2))
    s = {"equal": np.ones(n), "random": rng.uniform(0, 3, n)}.get(weights)
    if s is None:  # every part but the last has zero weight: it must drop out
        s = np.zeros(n)
        s[-3:] = [1.0, 2.0, 0.5]
    got = moments(X, Y, s)
    mean, scatter = unblocked(np.hstack([X, Y]), s)
    spread = np.sqrt(np.diagonal(scatter))
    assert got.weight_sum == pytest.approx(s.sum(), rel=1e-14)
    assert np.all(np.abs(got.mean - mean) <= 1e-12 * (spread + np.abs(mean)))
    assert np.all(np.abs(got.scatter - scatter) <= 1e-11 * np.outer(spread, spread) + 1e-300)


def test_dense_moments_in_parts_keep_every_digit_under_huge_offsets(parts):
    # Values 2^36 + k/4 are exact in float64: so are their moments, in rational arithmetic.
    rng = np.random.default_rng(3)
    X = 2.0**36 + rng.integers(-400, 400, (300, 2)) / 4.0
    Y = (-(2.0**30) + rng.integers(-400, 400, 300) / 4.0)[:, None]
    s = rng.integers(0, 4, 300).astype(float)
    s[0] = 1.0
    got = moments(X, Y, s)
    mean, scatter = exact_moments(np.hstack([X, Y]), s)
    spread = np.sqrt(np.diagonal(scatter) / s.sum())
    assert np.all(np.abs(got.mean - mean) <= 1e-14 * (np.abs(mean) + spread))
    assert np.allclose(got.scatter, scatter, rtol=1e-12, atol=1e-9 * np.abs(scatter).max())


def sparse_problem(n=2000, d=30, k=1, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.1, format="csr", random_state=seed, dtype=np.float64)
    X.data = rng.standard_normal(X.nnz) * 2.0 + 1.0
    Y = X.toarray() @ rng.standard_normal((d, k)) + 3.0 + 0.1 * rng.standard_normal((n, k))
    return X.astype(dtype), Y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3])
def test_sparse_gradient_in_parts_equals_dense(parts, dtype, k):
    X, Y = sparse_problem(k=k, dtype=dtype)
    n, d = X.shape
    rng = np.random.default_rng(1)
    s = rng.uniform(0, 2, n)
    coords = Coordinates(rng.standard_normal(d), rng.uniform(0.5, 2, d), np.zeros(k), True)
    objective = DataObjective(X, Y, s / s.sum(), coords, get_loss("half_mse"))
    assert len(objective.parts) == parts
    theta = rng.standard_normal((d + 1, k))
    value, grad = objective.value_and_gradient(theta)
    # The reference objective with the intercept last, on the solver's coordinates.
    Z = (X.toarray().astype(np.float64) - coords.offset) / coords.scale
    want_value, want_grad = reference_objective(Z, Y, s, "half_mse")(theta)
    assert value == pytest.approx(want_value, rel=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ["half_mse", "huber"])
def test_dense_gradient_in_parts_equals_numpy(parts, dtype, loss):
    rng = np.random.default_rng(parts)
    n, d, k = 3000, 7, 2
    X = (rng.standard_normal((n, d)) * 3 + 1).astype(dtype)
    Y = rng.standard_normal((n, k)) * 5
    p = rng.uniform(0, 2, n)
    p /= p.sum()
    coords = Coordinates(X.mean(axis=0, dtype=np.float64), rng.uniform(0.5, 2, d), Y.mean(0), True)
    objective = DataObjective(X, Y, p, coords, get_loss(loss), block_rows=100)
    assert len(objective.parts) == parts
    theta = rng.standard_normal((d + 1, k))
    value, grad = objective.value_and_gradient(theta)
    Z = (X.astype(np.float64) - coords.offset) / coords.scale
    want_value, want_grad = reference_objective(Z, Y - coords.y_offset, p, loss)(theta)
    assert value == pytest.approx(want_value, rel=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_moments_in_parts_equal_dense(parts, weighted):
    X, Y = sparse_problem(n=1500, d=8, k=2, seed=4)
    dense = X.toarray()
    dense[:, 3] = 1e4 + 1e-3 * np.random.default_rng(4).standard_normal(1500)  # cancels
    dense[:, 5] = 7.0  # constant, stored in full
    X = sp.csr_matrix(dense)
    s = np.random.default_rng(5).uniform(0, 2, 1500) if weighted else np.ones(1500)
    got = moments(X, Y, s, full=False)
    mean, scatter = unblocked(np.hstack([dense, Y]), s)
    np.testing.assert_allclose(got.mean, mean, rtol=1e-13)
    # Every variance to 1e-10, the cancelling column (mean 1e7 times its spread) included.
    want = np.diagonal(scatter)
    np.testing.assert_allclose(np.delete(got.scatter, 5), np.delete(want, 5), rtol=1e-10)
    assert got.scatter[5] <= (16 * np.finfo(float).eps * 7.0) ** 2 * s.sum()


@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_gram_statistics_in_parts_equal_dense(parts, weighted):
    X, Y = sparse_problem(n=1500, d=8, k=2, seed=7)
    s = np.random.default_rng(7).uniform(0, 2, 1500) if weighted else np.ones(1500)
    got = moments(X, Y, s, full=True)
    mean, scatter = unblocked(np.hstack([X.toarray(), Y]), s)
    np.testing.assert_allclose(got.mean, mean, rtol=1e-13)
    np.testing.assert_allclose(got.scatter, scatter, rtol=1e-10, atol=1e-10 * np.abs(scatter).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_fit_in_parts_equals_lstsq(parts, dtype):
    X, Y = sparse_problem(n=3000, d=40, seed=6, dtype=dtype)
    y = Y[:, 0]
    s = np.random.default_rng(6).uniform(0, 2, 3000)
    model = GDLinearRegressor(precompute=False).fit(X, y, sample_weight=s)
    A = np.column_stack([X.toarray().astype(np.float64), np.ones(3000)]) * np.sqrt(s)[:, None]
    sol = np.linalg.lstsq(A, y * np.sqrt(s), rcond=None)[0]
    rtol = 1e-4 if dtype == np.float32 else 1e-8
    np.testing.assert_allclose(model.coef_, sol[:-1], rtol=rtol, atol=rtol)
    assert model.intercept_ == pytest.approx(sol[-1], rel=rtol)


@pytest.mark.parametrize("bad,message", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_sparse_bad_values_are_named_when_checks_read_the_moments(parts, bad, message):
    X, Y = sparse_problem(n=200, d=5)
    X.data[7] = bad
    with pytest.raises(ValueError, match=f"Input X contains {message}"):
        GDLinearRegressor().fit(X, Y[:, 0])


def blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_run_parts_uses_threads_and_restores_blas():
    before = blas_threads()
    seen = []

    def work(rows):
        seen.append((threading.current_thread().name, blas_threads()))
        return rows.stop - rows.start

    assert sum(_threads.run_parts(work, _threads.spans(100, 2))) == 100
    assert blas_threads() == before
    assert all(name.startswith("gdlinreg") for name, _ in seen)
    assert all(max(counts) == 1 for _, counts in seen)


def test_parts_respect_a_single_thread_limit_and_worker_threads():
    size = 64 * _threads.MIN_PART_SIZE
    with threadpool_limits(limits=1, user_api="blas"):
        assert _threads.n_parts(size) == 1
    out = []
    worker = threading.Thread(target=lambda: out.append(_threads.n_parts(size)))
    worker.start()
    worker.join()
    assert out == [1]
    assert _threads.n_parts(_threads.MIN_PART_SIZE) == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_working_pool():
    _threads.run_parts(lambda rows: rows.stop, _threads.spans(10, 2))  # the parent's pool
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the parts ran
        ok = False
        try:
            ok = _threads.run_parts(lambda rows: rows.stop, _threads.spans(10, 2)) == [5, 10]
        finally:
            os._exit(0 if ok else 1)
    for _ in range(200):  # up to 20 s: a hang is a failure, not a stuck suite
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        threading.Event().wait(0.1)
    os.kill(pid, 9)
    pytest.fail("the forked child's parts never ran")


def _blas_threads():
    return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


def test_a_fit_runs_its_own_linear_algebra_on_one_blas_thread_and_restores_the_count():
    # (threaded p x p products and small parts ran 10-50x slower on a busy machine)
    X = np.random.default_rng(0).standard_normal((300, 4))
    y = X @ [1.0, 2.0, 0.0, -1.0]
    seen = []

    def callback(i, coef, intercept, loss):
        seen.append(_blas_threads())

    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        gradient_descent(X, y, learning_rate=0.1, max_iter=3, callback=callback)
        assert _blas_threads() == before
    assert seen and set(seen) == {1}


def test_inside_serial_blas_the_parts_follow_the_thread_count_from_before():
    # Else a large fit inside the one-thread block would read X on one core.
    size = 8 * _threads.MIN_PART_SIZE
    with threadpool_limits(limits=2, user_api="blas"):
        outside = _threads.n_parts(size)
        with _threads.serial_blas():
            assert _blas_threads() == 1
            assert _threads.n_parts(size) == outside
    with threadpool_limits(limits=1, user_api="blas"), _threads.serial_blas():
        assert _threads.n_parts(size) == 1  # (a user's limit of one thread is kept)
