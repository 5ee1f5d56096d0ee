"""Every source answers the same questions the same way (the contracts of
``gdlinreg._protocols.source``), checked against NumPy on the raw arrays; and every source
honours, whole, each protocol it declares, and no other."""

import inspect

import numpy as np
import pytest
import scipy.sparse as sp

from gdlinreg._data.arrays import ArraySource, accumulate, refinement_reader, validation_score
from gdlinreg._data.stream import StreamSource
from gdlinreg._loop.options import Options
from gdlinreg._problem.coordinates import coordinates, initial_point
from gdlinreg._protocols.source import (
    Batches,
    DataForm,
    RowParts,
    Rows,
    Source,
    Validated,
    honours,
)
from gdlinreg.losses import HalfMSE


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
    assert merged.prefer_gram() and not isinstance(merged, Rows | RowParts)
    assert refinement_reader(merged) is None


def _xp_source(X, y, w):
    xp = pytest.importorskip("array_api_strict")
    from gdlinreg._data.xp_source import Namespace, XpSource

    cpu, device = xp.Device("CPU_DEVICE"), xp.Device("device1")
    space = Namespace(
        xp,
        device,
        lambda a: np.from_dlpack(xp.asarray(a, device=cpu)),
        lambda a: xp.asarray(a, device=device),
    )
    put = space.to_device
    return XpSource(put(X), put(y), put(w), space)


PROTOCOLS = (Source, DataForm, Batches, Rows, RowParts, Validated)
EVERY = set(PROTOCOLS)

#: Every kind of source, built on small data, and the protocols its class declares (its
#: docstring, and the table of gdlinreg._protocols.source): all of them, and no other.
CONTRACTS = {
    "dense": (SOURCES["dense"], EVERY - {RowParts}),
    "sparse": (SOURCES["sparse"], EVERY - {RowParts}),
    "dense, validated": (
        lambda X, y, w: ArraySource(X, y, w, (X[:20], y[:20])),
        EVERY - {RowParts},
    ),
    "dask": (_dask_source, EVERY - {Rows}),
    "array api": (_xp_source, EVERY - {Validated, RowParts}),
    "partial_fit": (lambda X, y, w: accumulate(ArraySource(X, y, w), None), {Source}),
    "partial_fit, streamed": (
        lambda X, y, w: StreamSource(
            ArraySource(X, y, w), accumulate(ArraySource(X, y), None).stats
        ),
        {Source, DataForm, Batches},
    ),
}


def _calls(source):
    """A call of every method of every protocol, on ``source``'s own statistics."""
    stats = source.statistics(full=True, minibatch=True)
    d, k = source.n_features, source.n_targets
    coords = coordinates(stats, d, True, True)[2]
    theta = coords.from_user(*initial_point(None, None, d, k, source.one_target))
    loss, rng = HalfMSE(), np.random.default_rng(0)
    return {
        "prefer_gram": lambda: source.prefer_gram(),
        "statistics": lambda: source.statistics(full=False),
        "data_objective": lambda: [
            source.data_objective(stats, coords, loss, batches).value_and_gradient(theta)
            for batches in (False, True)
        ],
        "default_batch": lambda: source.default_batch(),
        "batch_curvature": lambda: source.batch_curvature(coords, loss, 1.0, 8),
        "epoch": lambda: [list(segment) for _, segment in source.epoch(rng, 8, True)],
        "updates_per_epoch": lambda: source.updates_per_epoch(8),
        "rows": lambda: source.rows(),
        "map_rows": lambda: source.map_rows(lambda X, Y, p: float(np.sum(p))),
        "validation_objective": lambda: source.validation_objective(coords, True, loss),
    }


def _members(protocol):
    """A protocol's attributes and methods, its bases' included."""
    names = set()
    for cls in protocol.__mro__:
        if cls in EVERY:
            names |= set(vars(cls).get("__annotations__", {}))
            names |= {n for n, v in vars(cls).items() if inspect.isfunction(v)}
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("kind", sorted(CONTRACTS))
def test_every_source_honours_whole_the_protocols_it_declares_and_no_other(kind):
    build, declared = CONTRACTS[kind]
    source = build(*_data())
    cls = type(source)
    assert {p for p in PROTOCOLS if isinstance(source, p)} == declared
    assert {p for p in PROTOCOLS if honours(source, p)} == declared  # (remembered by class)
    # No stubs: nothing the class defines raises NotImplementedError ...
    assert "NotImplementedError" not in inspect.getsource(cls)
    # ... and every method of every declared protocol answers on real data.
    calls = _calls(source)
    methods = {n for p in PROTOCOLS for n in _members(p) if callable(getattr(p, n, None))}
    assert methods == set(calls)  # (a new method of a protocol needs a call here)
    for name in sorted(set().union(*(_members(p) for p in declared))):
        assert hasattr(source, name), name
        if name in calls:
            calls[name]()
    # What the loop asks for beyond the statistics, each source answers or declines by its
    # declaration: refinement's rows (all of them, weights normalised), and the validation
    # score.
    read = refinement_reader(source)
    assert (read is None) == (not declared & {Rows, RowParts})
    if read is not None:
        assert sum(read(lambda X, Y, p: float(np.sum(p)))) == pytest.approx(1.0)
        assert sum(read(lambda X, Y, p: X.shape[0])) == source.n_samples
    coords = coordinates(source.statistics(full=True), source.n_features, True, True)[2]
    scored = validation_score(source, coords, True) is not None
    assert scored == (kind == "dense, validated")  # (none of the others was given one)


def test_the_merged_statistics_refuse_what_needs_the_rows():
    # Options.for_source holds a source to what the method and the form need (partial_fit
    # asks the merged statistics for neither; a caller who did would be told so by name).
    merged = accumulate(ArraySource(*_data()), None)
    with pytest.raises(ValueError, match="batch_size=8: mini-batches read the rows"):
        Options.from_params({"batch_size": 8}).for_source(merged)
    with pytest.raises(ValueError, match="precompute=False: the data form reads the rows"):
        Options.from_params({"precompute": False}).for_source(merged)
    assert Options.from_params({}).for_source(merged).gram
