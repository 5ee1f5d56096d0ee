"""Every Source answers the same questions the same way (the contract of
``gdlinreg._protocols.source.Source``), checked against NumPy on the raw arrays."""

import numpy as np
import pytest
import scipy.sparse as sp

from gdlinreg._data.arrays import ArraySource, accumulate


def _data(seed=0, n=60, d=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * [1.0, 10.0, 0.1] + [5.0, -3.0, 100.0]
    y = X @ np.array([1.0, 0.5, -2.0]) + rng.standard_normal(n)
    w = rng.uniform(0.5, 2.0, n)
    return X, y, w


def _dask_source(X, y, w):
    da = pytest.importorskip("dask.array")
    from gdlinreg._data.dask_source import DaskSource

    return DaskSource(
        da.from_array(X, chunks=25), da.from_array(y, chunks=25), da.from_array(w, 25)
    )


SOURCES = {
    "dense": lambda X, y, w: ArraySource(X, y, w),
    "sparse": lambda X, y, w: ArraySource(sp.csr_matrix(X), y, w),
    "dask": _dask_source,
}


@pytest.fixture(params=sorted(SOURCES))
def source_and_data(request):
    X, y, w = _data()
    return SOURCES[request.param](X, y, w), (X, y, w)


def test_statistics_are_the_weighted_moments(source_and_data):
    source, (X, y, w) = source_and_data
    stats = source.statistics(full=True)
    Z = np.column_stack([X, y])
    mean = w @ Z / w.sum()
    np.testing.assert_allclose(stats.weight_sum, w.sum(), rtol=1e-14)
    np.testing.assert_allclose(stats.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(stats.scatter, (Z - mean).T @ ((Z - mean) * w[:, None]), rtol=1e-10)
    assert (source.n_samples, source.n_features, source.n_targets) == (60, 3, 1)
    assert source.one_target and source.passes == 1


def test_an_epoch_visits_every_row_once_with_unbiased_weights(source_and_data):
    source, (X, y, w) = source_and_data
    source.statistics(full=True, minibatch=True)
    p, n = w / w.sum(), source.n_samples
    seen, batches = [], 0
    for m, segment in source.epoch(np.random.default_rng(0), 8, shuffle=True):
        rows = 0
        for Xb, Yb, pb in segment:
            dense = Xb.toarray() if sp.issparse(Xb) else np.asarray(Xb)
            # (the rows of X are distinct: each batch row names its index)
            idx = [int(np.flatnonzero(np.all(x == X, axis=1))[0]) for x in dense]
            np.testing.assert_array_equal(Yb[:, 0], y[idx])
            # Weighted as if the batch were all the data: its gradient estimates the full one.
            np.testing.assert_allclose(pb, p[idx] * n / len(idx), rtol=1e-12)
            seen += idx
            rows += len(idx)
            batches += 1
        assert rows == m
    assert sorted(seen) == list(range(n))
    assert batches == source.updates_per_epoch(8)


def test_accumulated_statistics_are_those_of_all_the_batches():
    X, y, w = _data(1)
    first = accumulate(ArraySource(X[:25], y[:25], w[:25]), None)
    merged = accumulate(ArraySource(X[25:], y[25:], w[25:]), first.statistics(True))
    whole = ArraySource(X, y, w).statistics(full=True)
    np.testing.assert_allclose(merged.statistics(True).mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(merged.statistics(True).scatter, whole.scatter, rtol=1e-10)
    assert merged.rows() is None and merged.prefer_gram()
