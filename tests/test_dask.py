"""Dask input: fit, partial_fit, predict and score on the threaded scheduler and on a real
distributed.LocalCluster (2 worker processes on loopback), against the in-memory fit on the
same data and against numpy.linalg.lstsq."""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from dask.callbacks import Callback  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402

from gdlinreg import GDLinearRegressor  # noqa: E402

# A chunk of one row, chunks of uneven sizes.
ROW_CHUNKS = (1, 700, 1, 1299, 2000, 37)


def _cluster(**kwargs):
    # Loopback only; no dashboard port to collide with other clusters on the machine.
    return distributed.LocalCluster(
        n_workers=kwargs.pop("n_workers", 2),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        **kwargs,
    )


@pytest.fixture(scope="module")
def client():
    # Each worker gets less memory than the out-of-core test's data. Spilling and pausing are off
    # (they would only add disk traffic and stalls to this small cluster); the nanny still
    # kills a worker that passes 95% of its limit, which would fail the test.
    memory = {
        "distributed.worker.memory.target": False,
        "distributed.worker.memory.spill": False,
        "distributed.worker.memory.pause": False,
    }
    with (
        dask.config.set(memory),
        _cluster(memory_limit="1GiB") as cluster,
        distributed.Client(cluster, set_as_default=False) as c,
    ):
        yield c


@pytest.fixture(params=["threads", "distributed"])
def scheduler(request):
    if request.param == "threads":
        with dask.config.set(scheduler="threads"):
            yield "threads"
    else:
        c = request.getfixturevalue("client")
        # as_current, not dask.config: a worker restarted by its nanny gets a copy of the
        # config, and a Client in it cannot be pickled.
        with c.as_current():
            assert dask.base.get_scheduler() == c.get
            yield c


def _problem(n=None, d=5, k=None, seed=0, raw=True):
    n = sum(ROW_CHUNKS) if n is None else n
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if raw:  # unscaled columns with offsets, as real data have
        X = X * rng.uniform(0.1, 100, d) + rng.uniform(-1e3, 1e3, d)
    coef = rng.normal(size=(d,) if k is None else (d, k))
    y = X @ coef + 2.0 + rng.normal(size=(n,) if k is None else (n, k))
    w = rng.uniform(0, 3, n)
    w[rng.choice(n, 20, replace=False)] = 0.0
    return X, y, w


def _lstsq(X, y, w):
    root = np.sqrt(w)[:, None]
    A = np.hstack([X, np.ones((X.shape[0], 1))]) * root
    sol = np.linalg.lstsq(A, y * (root if y.ndim == 2 else root[:, 0]), rcond=None)[0]
    return sol[:-1].T, sol[-1]


def _close(a, b, rtol):
    a, b = np.asarray(a), np.asarray(b)
    assert np.max(np.abs(a - b)) <= rtol * np.max(np.abs(b)), (a, b)


@pytest.mark.parametrize("k", [None, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_fit_equals_in_memory_fit(scheduler, k, weighted):
    X, y, w = _problem(k=k)
    w = w if weighted else None
    Xd = da.from_array(X, chunks=(ROW_CHUNKS, 2))  # column chunks, too
    yd = da.from_array(y, chunks=1000)  # row chunks unlike X's
    wd = None if w is None else da.from_array(w, chunks=(ROW_CHUNKS,))
    model = GDLinearRegressor().fit(Xd, yd, sample_weight=wd)
    ref = GDLinearRegressor().fit(X, y, sample_weight=w)
    _close(model.coef_, ref.coef_, 1e-10)
    _close(model.intercept_, ref.intercept_, 1e-10)
    coef, intercept = _lstsq(X, y, np.ones(len(y)) if w is None else w)
    _close(model.coef_, coef, 1e-8)
    _close(model.intercept_, intercept, 1e-8)
    assert model.n_features_in_ == X.shape[1]


def test_predict_is_lazy_and_score_matches_sklearn(scheduler):
    X, y, w = _problem(k=2)
    Xd = da.from_array(X, chunks=(ROW_CHUNKS, 5))
    model = GDLinearRegressor().fit(Xd, da.from_array(y, chunks=500))
    pred = model.predict(Xd)
    assert isinstance(pred, da.Array)
    assert pred.chunks == (ROW_CHUNKS, (2,))
    expected = X @ model.coef_.T + model.intercept_
    _close(pred.compute(), expected, 1e-12)
    yd, wd = da.from_array(y, chunks=800), da.from_array(w, chunks=900)
    assert model.score(Xd, yd) == pytest.approx(r2_score(y, expected), rel=1e-12)
    assert model.score(Xd, yd, wd) == pytest.approx(
        r2_score(y, expected, sample_weight=w), rel=1e-12
    )
    one = GDLinearRegressor().fit(Xd, da.from_array(y[:, 0], chunks=800))
    assert one.predict(Xd).shape == (X.shape[0],)


def test_dataframe_inputs():
    # dask.dataframe needs pyarrow, whose current releases need NumPy >= 2: with the NumPy
    # floor (1.24) only the DataFrame tests are skipped, not the Dask array ones.
    dd = pytest.importorskip("dask.dataframe", exc_type=ImportError)
    X, y, w = _problem()
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    Xf = dd.from_pandas(frame, npartitions=4)
    yf = dd.from_pandas(pd.Series(y), npartitions=3)
    wf = dd.from_pandas(pd.Series(w), npartitions=5)
    with dask.config.set(scheduler="threads"):
        model = GDLinearRegressor().fit(Xf, yf, sample_weight=wf)
        ref = GDLinearRegressor().fit(X, y, sample_weight=w)
        _close(model.coef_, ref.coef_, 1e-10)
        pred = model.predict(Xf)
        assert isinstance(pred, da.Array)
        _close(pred.compute(), ref.predict(X), 1e-10)
        assert model.score(Xf, yf) == pytest.approx(ref.score(X, y), rel=1e-10)


def test_partial_fit_on_dask_chunks_equals_in_memory_partial_fit():
    # Standardised columns: a warm-started solve from near the solution of badly scaled data
    # can stop as "stalled" (in memory too), which is not what this test is about.
    X, y, _ = _problem(raw=False)
    batches = [slice(0, 1000), slice(1000, 3000), slice(3000, None)]
    ref = GDLinearRegressor()
    for rows in batches:
        ref.partial_fit(X[rows], y[rows])
    with dask.config.set(scheduler="threads"):
        model = GDLinearRegressor()
        model.partial_fit(da.from_array(X[:1000], chunks=300), da.from_array(y[:1000]))
        model.partial_fit(X[1000:3000], y[1000:3000])  # NumPy batches mix with Dask ones
        rest = da.from_array(X[3000:], chunks=(7, 5))
        model.partial_fit(rest, da.from_array(y[3000:], chunks=11))
    _close(model.coef_, ref.coef_, 1e-10)
    _close(model.intercept_, ref.intercept_, 1e-10)
    # Statistics of all batches: the model is the least-squares fit on all the data.
    coef, intercept = _lstsq(X, y, np.ones(len(y)))
    _close(model.coef_, coef, 1e-8)
    _close(model.intercept_, intercept, 1e-8)


def test_float32_stays_float32():
    X, y, _ = _problem()
    with dask.config.set(scheduler="threads"):
        model = GDLinearRegressor().fit(da.from_array(X.astype(np.float32), chunks=1000), y)
        assert model.coef_.dtype == np.float32
        assert model.predict(da.from_array(X.astype(np.float32))).dtype == np.float32


class _LargestResult(Callback):
    """The largest task result, in bytes, of a threaded computation."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def _posttask(self, key, result, dsk, state, worker_id):
        self.largest = max(self.largest, getattr(result, "nbytes", 0))


def test_no_task_holds_all_of_x():
    n = 40_000
    X = da.random.default_rng(1).normal(size=(n, 6), chunks=(4000, 6))
    y = X @ np.arange(1.0, 7.0) + 1.0
    watch = _LargestResult()
    with dask.config.set(scheduler="threads"), watch:
        model = GDLinearRegressor().fit(X, y)
        model.score(X, y)
    assert watch.largest <= X.nbytes / 5  # chunks only, never X or y gathered
    _close(model.coef_, np.arange(1.0, 7.0), 1e-10)


def test_import_does_not_import_dask():
    code = "import sys, gdlinreg; print(any(m.split('.')[0] == 'dask' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "params",
    [
        {"loss": "huber", "epsilon": 50.0},
        {"precompute": False},
        {"loss": "huber", "epsilon": 50.0, "penalty": "l1", "alpha": 0.5},
    ],
)
def test_data_form_reduces_every_gradient_over_chunks(params, scheduler):
    # Huber and precompute=False run on the data form: each gradient is one reduction over
    # the row chunks. The iterates are the in-memory ones, so the fits agree to rounding.
    X, y, w = _problem()
    X = X[:, :3]
    expected = GDLinearRegressor(**params).fit(X, y, sample_weight=w)
    chunks = (ROW_CHUNKS,)
    model = GDLinearRegressor(**params).fit(
        da.from_array(X, chunks=(ROW_CHUNKS, 3)),
        da.from_array(y, chunks=chunks),
        sample_weight=da.from_array(w, chunks=chunks),
    )
    assert model.n_iter_ == expected.n_iter_
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-9)
    np.testing.assert_allclose(model.intercept_, expected.intercept_, rtol=1e-9)


def test_minibatch_sgd_equals_in_memory_when_batches_align():
    # Unshuffled, with chunks a multiple of batch_size, the streamed batches are the in-memory
    # ones in the same order: the same iterates.
    X, y, w = _problem(n=3000, raw=False)
    params = dict(
        batch_size=100,
        shuffle=False,
        max_iter=4,
        tol=None,
        store_path=True,
        solver="gd",
        learning_rate=0.002,
    )
    ref = GDLinearRegressor(**params).fit(X, y, sample_weight=w)
    chunks = ((1000, 500, 1500),)
    with dask.config.set(scheduler="threads"):
        model = GDLinearRegressor(**params).fit(
            da.from_array(X, chunks=(*chunks, 5)),
            da.from_array(y, chunks=chunks),
            sample_weight=da.from_array(w, chunks=chunks),
        )
    assert model.solver_ == "sgd" and model.t_ == ref.t_ == 4 * 30
    _close(model.coef_path_, ref.coef_path_, 1e-12)
    _close(model.intercept_path_, ref.intercept_path_, 1e-12)
    np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=1e-12)


def test_minibatch_auto_step():
    # "auto": 1 / (L + (L_sample - L) / batch), with L the top eigenvalue of the weighted
    # second moments of [X | 1] and L_sample the largest n p_i (|x_i|^2 + 1), as in memory.
    X, y, w = _problem(n=3000, raw=False)
    with dask.config.set(scheduler="threads"):
        model = GDLinearRegressor(
            solver="gd", batch_size=100, max_iter=2, tol=None, random_state=0
        ).fit(da.from_array(X, chunks=700), y, sample_weight=da.from_array(w, chunks=900))
    A = np.hstack([X, np.ones((len(y), 1))])
    p = w / w.sum()
    L = np.linalg.eigvalsh(A.T @ (A * p[:, None]))[-1]
    sample = np.max(len(y) * p * np.sum(A * A, axis=1))
    assert model.learning_rate_ == pytest.approx(1 / (L + (sample - L) / 100), rel=1e-10)
    ref = GDLinearRegressor(solver="gd", batch_size=100, max_iter=2, tol=None)
    ref.fit(X, y, sample_weight=w)
    # In memory, L is a Lanczos bound from above, within 1e-3.
    assert model.learning_rate_ == pytest.approx(ref.learning_rate_, rel=1e-3)


def test_huber_partial_fit_runs_one_streamed_epoch():
    # As in memory: partial_fit with the Huber loss is one SGD epoch over the new data.
    X, y, _ = _problem(n=3000, raw=False)
    params = dict(loss="huber", epsilon=2.0, batch_size=100, shuffle=False, learning_rate=0.05)
    ref, model = GDLinearRegressor(**params), GDLinearRegressor(**params)
    with dask.config.set(scheduler="threads"):
        for rows in (slice(0, 2000), slice(2000, None)):
            ref.partial_fit(X[rows], y[rows])
            model.partial_fit(da.from_array(X[rows], chunks=500), da.from_array(y[rows]))
    assert model.t_ == ref.t_ == 30
    _close(model.coef_, ref.coef_, 1e-12)
    _close(model.intercept_, ref.intercept_, 1e-12)


def _textbook_sgd(X, y, sizes, batch, step, epochs, seed):
    """Mini-batch SGD on half-MSE, written out: per epoch a shuffled chunk order, then each
    chunk's rows shuffled and cut into batches, from one generator (the documented order)."""
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for c in rng.permutation(len(sizes)):
            rows = starts[c] + rng.permutation(sizes[c])
            for i in range(0, sizes[c], batch):
                xb, yb = X[rows[i : i + batch]], y[rows[i : i + batch]]
                r = xb @ w + b - yb
                w, b = w - step * xb.T @ r / len(r), b - step * r.mean()
    return w, b


def test_minibatch_sgd_shuffles_chunks_and_rows(scheduler):
    X, y, _ = _problem(raw=False)
    sizes = (1000, 700, 1300, 1038)
    model = GDLinearRegressor(
        batch_size=128, learning_rate=0.01, max_iter=3, tol=None, random_state=3
    ).fit(da.from_array(X, chunks=(sizes, 5)), da.from_array(y, chunks=(sizes,)))
    coef, intercept = _textbook_sgd(X, y, sizes, 128, 0.01, 3, seed=3)
    _close(model.coef_, coef, 1e-10)
    assert model.intercept_ == pytest.approx(intercept, rel=1e-10)
    assert model.t_ == 3 * sum(-(-m // 128) for m in sizes)


@pytest.mark.parametrize("params", [{}, {"loss": "huber", "epsilon": 2.0}])
def test_minibatch_sgd_streams_chunks(params):
    n = 40_000
    X = da.random.default_rng(1).normal(size=(n, 6), chunks=(4000, 6))
    y = X @ np.arange(1.0, 7.0) + 1.0
    watch = _LargestResult()
    with dask.config.set(scheduler="threads"), watch:
        model = GDLinearRegressor(solver="gd", batch_size=50, max_iter=30, random_state=0, **params)
        model.fit(X, y)
    assert watch.largest <= X.nbytes / 5  # one chunk at a time, never X
    assert model.converged_ and model.solver_ == "sgd"
    _close(model.coef_, np.arange(1.0, 7.0), 1e-2)


def _scores(model, X_val, y_val):
    # scikit-learn's r2_score of every stored iterate: an independent check of the scores.
    return [
        r2_score(y_val, X_val @ coef + intercept)
        for coef, intercept in zip(model.coef_path_[1:], model.intercept_path_[1:], strict=True)
    ]


@pytest.mark.parametrize("params", [{"solver": "gd"}, {"batch_size": 200, "random_state": 0}])
def test_early_stopping_with_a_validation_set(params):
    X, y, _ = _problem(raw=False)
    X_val, y_val, _ = _problem(n=1500, seed=1, raw=False)
    y_val = y_val + np.random.default_rng(2).normal(scale=3.0, size=len(y_val))
    params = dict(params, store_path=True, max_iter=200, n_iter_no_change=3, tol=1e-4)
    with dask.config.set(scheduler="threads"):
        model = GDLinearRegressor(**params).fit(
            da.from_array(X, chunks=1000),
            da.from_array(y, chunks=1000),
            X_val=da.from_array(X_val, chunks=400),
            y_val=y_val,  # in memory, beside Dask X_val
        )
    np.testing.assert_allclose(model.validation_scores_, _scores(model, X_val, y_val), rtol=1e-10)
    assert model.best_iter_ == 1 + int(np.argmax(model.validation_scores_))
    _close(model.coef_, model.coef_path_[model.best_iter_], 1e-15)
    if "batch_size" not in params:  # the full-batch path is the in-memory one
        ref = GDLinearRegressor(**params).fit(X, y, X_val=X_val, y_val=y_val)
        assert model.n_iter_ == ref.n_iter_ and model.stop_reason_ == ref.stop_reason_
        _close(model.coef_, ref.coef_, 1e-10)


def test_early_stopping_holds_out_rows_of_every_chunk(scheduler):
    X, y, w = _problem(raw=False)
    y = y + np.random.default_rng(2).normal(scale=3.0, size=len(y))
    params = dict(
        early_stopping=True,
        validation_fraction=0.2,
        random_state=5,
        solver="gd",
        store_path=True,
        n_iter_no_change=3,
        tol=1e-4,
        max_iter=200,
    )
    model = GDLinearRegressor(**params).fit(
        da.from_array(X, chunks=(ROW_CHUNKS, 5)),
        da.from_array(y, chunks=1000),
        sample_weight=da.from_array(w, chunks=700),
    )
    # The documented split, rebuilt: round(0.2 m) rows of each chunk of m rows, drawn by
    # default_rng([random_state, chunk index]).
    held = np.concatenate(
        [
            np.isin(
                np.arange(m), np.random.default_rng([5, i]).permutation(m)[: int(0.2 * m + 0.5)]
            )
            for i, m in enumerate(ROW_CHUNKS)
        ]
    )
    assert held.sum() == sum(int(0.2 * m + 0.5) for m in ROW_CHUNKS)
    scores = [
        r2_score(y[held], X[held] @ c + b, sample_weight=w[held])
        for c, b in zip(model.coef_path_[1:], model.intercept_path_[1:], strict=True)
    ]
    np.testing.assert_allclose(model.validation_scores_, scores, rtol=1e-10)
    ref = GDLinearRegressor(**dict(params, early_stopping=False)).fit(
        X[~held],
        y[~held],
        sample_weight=w[~held],
        X_val=X[held],
        y_val=y[held],
        sample_weight_val=w[held],
    )
    assert model.n_iter_ == ref.n_iter_ and model.best_iter_ == ref.best_iter_
    _close(model.coef_, ref.coef_, 1e-10)


def test_early_stopping_bad_input_raises():
    X, y, _ = _problem()
    Xd, yd = da.from_array(X, chunks=1000), da.from_array(y, chunks=1000)
    with dask.config.set(scheduler="threads"):
        with pytest.raises(ValueError, match="X_val has 4 features"):
            GDLinearRegressor().fit(Xd, yd, X_val=X[:10, :4], y_val=y[:10])
        with pytest.raises(ValueError, match="Pass both X_val and y_val"):
            GDLinearRegressor().fit(Xd, yd, X_val=X[:10])
        with pytest.raises(ValueError, match="no sample with a positive weight"):
            GDLinearRegressor().fit(
                Xd, yd, X_val=X[:10], y_val=y[:10], sample_weight_val=np.zeros(10)
            )
        w = np.zeros(len(y))
        w[0] = 1.0  # in a chunk whose held-out rows include row 0 for this seed
        seed = next(
            s for s in range(100) if 0 in np.random.default_rng([s, 0]).permutation(1000)[:100]
        )
        with pytest.raises(ValueError, match="held out every sample"):
            GDLinearRegressor(early_stopping=True, random_state=seed).fit(Xd, yd, sample_weight=w)


def test_bad_chunks_raise_clear_errors():
    X, y, w = _problem()
    X[2500, 1] = np.nan
    with dask.config.set(scheduler="threads"):
        # The in-memory messages (the chunk is scanned once its moments come out non-finite).
        with pytest.raises(ValueError, match="Input X contains NaN in column 1; remove or impute"):
            GDLinearRegressor().fit(da.from_array(X, chunks=1000), y)
        X, y, w = _problem()
        y[10] = np.inf
        with pytest.raises(ValueError, match="Input y contains infinity; remove or replace"):
            GDLinearRegressor().fit(da.from_array(X, chunks=1000), da.from_array(y, chunks=1000))
        X, y, w = _problem()
        w[3000] = -1.0
        with pytest.raises(ValueError, match="sample_weight must be >= 0"):
            GDLinearRegressor().fit(da.from_array(X, chunks=1000), y, sample_weight=w)
        with pytest.raises(ValueError, match="all zero"):
            GDLinearRegressor().fit(da.from_array(X), y, sample_weight=da.zeros(len(y)))
        Xu = da.from_array(X, chunks=1000)
        Xu = Xu[Xu[:, 0] > -np.inf]  # boolean indexing: unknown chunk sizes
        with pytest.raises(ValueError, match="unknown chunk sizes"):
            GDLinearRegressor().fit(Xu, y)


def test_dask_ml_wrappers_and_search(client):
    # dask_ml imports dask.dataframe (pyarrow, NumPy >= 2): skipped with the NumPy floor.
    wrappers = pytest.importorskip("dask_ml.wrappers", exc_type=ImportError)
    model_selection = pytest.importorskip("dask_ml.model_selection", exc_type=ImportError)
    X, y, _ = _problem(n=4000, raw=False)
    Xd, yd = da.from_array(X, chunks=1000), da.from_array(y, chunks=1000)
    ref = GDLinearRegressor().fit(X, y)
    blocks = GDLinearRegressor()
    for start in range(0, 4000, 1000):
        blocks.partial_fit(X[start : start + 1000], y[start : start + 1000])
    grid = {"penalty": ["l2"], "alpha": [0.0, 10.0]}
    # dask-ml's searches ask for the default client: a second one, on the same cluster.
    with distributed.Client(client.scheduler.address, set_as_default=True):
        # Incremental feeds one NumPy block at a time to partial_fit: the Gram engine's
        # accumulated statistics make the result the fit on all blocks.
        inc = wrappers.Incremental(GDLinearRegressor()).fit(Xd, yd)
        _close(inc.estimator_.coef_, blocks.coef_, 1e-10)
        _close(inc.estimator_.coef_, ref.coef_, 1e-8)
        post = wrappers.ParallelPostFit(GDLinearRegressor()).fit(X, y)
        assert isinstance(post.predict(Xd), da.Array)
        _close(post.predict(Xd).compute(), ref.predict(X), 1e-10)
        search = model_selection.GridSearchCV(GDLinearRegressor(), grid, cv=3).fit(Xd, yd)
        assert search.best_params_["alpha"] == 0.0


@pytest.mark.xfail(
    raises=RuntimeError,
    reason="dask-ml 2025.1.0's IncrementalSearchCV calls dask.persist inside its own "
    "coroutine, which dask 2026 refuses: 'Attempting to use an asynchronous Client in a "
    "synchronous context of `dask.compute`' (before any estimator is fitted)",
)
def test_dask_ml_incremental_search(client):
    model_selection = pytest.importorskip("dask_ml.model_selection", exc_type=ImportError)
    X, y, _ = _problem(n=4000, raw=False)
    Xd, yd = da.from_array(X, chunks=1000), da.from_array(y, chunks=1000)
    grid = {"penalty": ["l2"], "alpha": [0.0, 10.0]}
    with distributed.Client(client.scheduler.address, set_as_default=True):
        search = model_selection.IncrementalSearchCV(
            GDLinearRegressor(), grid, n_initial_parameters=2, max_iter=2, decay_rate=None
        ).fit(Xd, yd)
    assert search.best_params_["alpha"] == 0.0


def test_out_of_core_npy_files(client, tmp_path):
    # 1.2 GB of float64 in .npy files of 19 MB, one per chunk, against workers with 1 GiB
    # each (a worker's libraries alone take about 300 MB): a task loads one file, and only
    # (d + 1)^2 numbers per chunk leave a worker.
    rows, d, files = 300_000, 8, 64
    coef = np.linspace(-2.0, 3.0, d)
    rng = np.random.default_rng(7)
    for i in range(files):
        np.save(tmp_path / f"x{i:02d}.npy", rng.normal(size=(rows, d)) * 5 + 10)
    load = dask.delayed(np.load, pure=True)
    parts = [
        da.from_delayed(load(str(tmp_path / f"x{i:02d}.npy")), (rows, d), dtype=np.float64)
        for i in range(files)
    ]
    X = da.concatenate(parts)
    memory_limit = min(
        client.run(lambda dask_worker: dask_worker.memory_manager.memory_limit).values()
    )
    assert X.nbytes > memory_limit
    y = X @ coef - 4.0  # noise-free: lstsq's solution is coef itself
    with client.as_current():
        model = GDLinearRegressor().fit(X, y)
    _close(model.coef_, coef, 1e-9)
    assert model.intercept_ == pytest.approx(-4.0, rel=1e-9)


def test_killed_worker_recovers_or_raises():
    X, y, _ = _problem(n=20_000)
    ref = GDLinearRegressor().fit(X, y)

    def slow(block):
        time.sleep(0.2)
        return block

    # The default client, so that the fit in another thread uses it too.
    with _cluster() as cluster, distributed.Client(cluster, set_as_default=True) as c:
        Xd = da.from_array(X, chunks=1000).map_blocks(slow)
        outcome = {}

        def fit():
            try:
                outcome["model"] = GDLinearRegressor().fit(Xd, da.from_array(y, chunks=1000))
            except Exception as error:  # the test inspects what came back
                outcome["error"] = error

        thread = threading.Thread(target=fit)
        thread.start()
        time.sleep(1.0)  # the reduction is running: 20 slow chunks on 2 workers
        assert thread.is_alive()  # the kill lands during the fit
        pid = next(iter(c.run(os.getpid).values()))
        os.kill(pid, signal.SIGKILL)
        thread.join(timeout=60)
        assert not thread.is_alive()
    if "model" in outcome:  # Dask recomputed the lost chunks: the model is exact
        _close(outcome["model"].coef_, ref.coef_, 1e-10)
    else:
        assert isinstance(outcome["error"], distributed.KilledWorker), outcome["error"]


def test_scalar_weight_and_empty_x():
    X, y, _ = _problem()
    with dask.config.set(scheduler="threads"):
        model = GDLinearRegressor().fit(da.from_array(X, chunks=1000), y, sample_weight=2.0)
        _close(model.coef_, GDLinearRegressor().fit(X, y).coef_, 1e-10)
        with pytest.raises(ValueError, match="all zero"):
            GDLinearRegressor().fit(da.from_array(X, chunks=1000), y, sample_weight=0.0)
        with pytest.raises(ValueError, match="at least 1 sample"):
            GDLinearRegressor().fit(da.zeros((0, 3)), da.zeros(0))


def _recording_chunks(reads):
    """A ``map_blocks`` function of random chunks (seeded by the chunk's row index) that
    records the location of every chunk it generates in ``reads``."""

    def chunk(block_info=None):
        location = block_info[None]["chunk-location"]
        reads.append(location)
        rng = np.random.default_rng(location[0])
        return rng.normal(size=block_info[None]["chunk-shape"])

    return chunk


def test_fit_reads_every_chunk_once():
    # y computed from X in the same graph: the reduction must not generate X's chunks twice.
    reads = []
    chunk = _recording_chunks(reads)
    X = da.map_blocks(chunk, dtype=np.float64, chunks=((4000,) * 10, (6,)))
    y = X @ np.arange(1.0, 7.0) + 1.0
    with dask.config.set(scheduler="threads"):
        model = GDLinearRegressor().fit(X, y)
    assert sorted(reads) == [(i, 0) for i in range(10)]
    _close(model.coef_, np.arange(1.0, 7.0), 1e-10)


@pytest.mark.parametrize("kind", ["nonrobust", "HC1", "HC3", "cluster"])
def test_inference_on_chunks_equals_in_memory_and_statsmodels(scheduler, kind):
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(15)
    n = 600
    X = rng.standard_normal((n, 3)) * [1.0, 5.0, 0.2] + [0.0, 50.0, -3.0]
    y = X @ [1.0, -0.3, 2.0] + 4.0 + (0.5 + np.abs(X[:, 0])) * rng.standard_normal(n)
    w = rng.uniform(0.5, 2.0, n)
    g = rng.integers(0, 40, n)
    chunks = (150, 100, 250, 100)  # uneven row chunks
    Xd, yd = da.from_array(X, chunks=(chunks, 3)), da.from_array(y, chunks=(chunks,))
    wd, gd = da.from_array(w, chunks=(chunks,)), da.from_array(g, chunks=(chunks,))
    extra = {"groups": g} if kind == "cluster" else {}
    model = GDLinearRegressor(tol=0.0, max_iter=100_000)
    lazy = model.fit(Xd, yd, sample_weight=wd)
    if kind == "nonrobust":  # from the statistics of the chunks: no pass, nothing gathered
        on_chunks = lazy.inference()
    else:
        extra_d = {"groups": gd} if kind == "cluster" else {}
        on_chunks = lazy.inference(Xd, yd, sample_weight=wd, cov_type=kind, **extra_d)
    memory = GDLinearRegressor(tol=0.0, max_iter=100_000).fit(X, y, sample_weight=w)
    in_memory = memory.inference(X, y, sample_weight=w, cov_type=kind, **extra)
    for name in ("coef", "std_err", "t_stat", "p_value", "cov"):
        np.testing.assert_allclose(getattr(on_chunks, name), getattr(in_memory, name), rtol=1e-10)
    for name in ("r2", "f_stat", "log_likelihood", "sigma2"):
        assert getattr(on_chunks, name) == pytest.approx(getattr(in_memory, name), rel=1e-10)
    kwargs = {"cov_type": kind} if kind != "nonrobust" else {}
    if kind == "cluster":
        kwargs["cov_kwds"] = {"groups": g}
    ref = sm.WLS(y, sm.add_constant(X), weights=w).fit(**kwargs)
    np.testing.assert_allclose(on_chunks.std_err, ref.bse, rtol=1e-8)
    # dp/p is about t^2 times t's relative error.
    rtol_p = 1e-8 * (1 + np.max(np.asarray(ref.tvalues) ** 2))
    np.testing.assert_allclose(on_chunks.p_value, ref.pvalues, rtol=rtol_p)


def test_inference_reads_no_chunk_classically_and_every_chunk_once_robustly():
    reads = []
    chunk = _recording_chunks(reads)
    X = da.map_blocks(chunk, dtype=np.float64, chunks=((3000,) * 6, (4,)))
    y = X @ np.arange(1.0, 5.0) + 1.0 + da.sin(X[:, 0] * 7.0)
    with dask.config.set(scheduler="threads"):
        model = GDLinearRegressor(tol=0.0, max_iter=10_000).fit(X, y)
        reads.clear()
        classical = model.inference()
        assert reads == []
        robust = model.inference(X, y, cov_type="HC3")
    assert sorted(reads) == [(i, 0) for i in range(6)]
    assert classical.nobs == robust.nobs == 18_000
