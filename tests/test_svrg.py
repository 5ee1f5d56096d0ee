"""Variance-reduced mini-batches, ``solver="svrg"`` (issue 14, deliverable 1).

References only from outside gdlinreg: scikit-learn's LinearRegression, Ridge and Lasso,
NumPy's lstsq, a Huber minimiser from scipy.optimize finished by exact Newton steps, and a
hand-written SVRG loop. In memory (dense, sparse) and on Dask (threads and a LocalCluster).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LinearRegression, Ridge

from gdlinreg import DivergenceError, GDLinearRegressor, gradient_descent

EPS = np.finfo(float).eps


def _fit(model, X, y, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, **kwargs)
    return [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def _relative(a, b):
    return float(np.linalg.norm(np.ravel(a) - np.ravel(b)) / np.linalg.norm(np.ravel(b)))


def _lstsq(X, y, w=None):
    """Weighted least squares with an intercept, by lstsq on the centred, weighted design."""
    w = np.ones(len(y)) if w is None else w
    mean = np.average(X, axis=0, weights=w)
    Z = np.c_[X - mean, np.ones(len(y))] * np.sqrt(w)[:, None]
    sol = np.linalg.lstsq(Z, (y.T * np.sqrt(w)).T, rcond=None)[0]
    return sol[:-1].T, sol[-1] - mean @ sol[:-1]


def _huber_reference(X, y, w, eps):
    """Minimiser of sum_i p_i huber(x_i'coef + b - y_i): L-BFGS-B, then Newton steps on the
    piecewise quadratic (exact once the set of residuals inside [-eps, eps] is right)."""
    n, d = X.shape
    p = w / w.sum()
    mean = p @ X
    sd = np.sqrt(p @ (X - mean) ** 2)
    Z = np.c_[(X - mean) / sd, np.ones(n)]

    def f(v):
        r = Z @ v - y
        a = np.abs(r)
        value = p @ np.where(a <= eps, 0.5 * r * r, eps * a - 0.5 * eps * eps)
        return value, Z.T @ (p * np.clip(r, -eps, eps))

    v = minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                 options={"ftol": 0, "gtol": 1e-13, "maxiter": 10_000}).x  # fmt: skip
    for _ in range(20):
        inside = np.abs(Z @ v - y) <= eps
        H = Z[inside].T @ (p[inside, None] * Z[inside])
        v = v - np.linalg.solve(H, f(v)[1])
    coef = v[:d] / sd
    return coef, v[d] - mean @ coef


def _robust_problem(n=300, d=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 20, d) + rng.uniform(-50, 50, d)
    y = X @ (rng.normal(size=d) / X.std(0)) + 4 + rng.standard_t(2, size=n)
    y[rng.choice(n, n // 15, replace=False)] += 50
    return X, y, rng.uniform(0.2, 2.0, n)


# ------------------------------------------------------------------- the target


@pytest.mark.parametrize("random_state", [0, 3, 11])
def test_diabetes_batch_32_reaches_least_squares(random_state):
    X, y = load_diabetes(return_X_y=True)
    ref = LinearRegression().fit(X, y)
    model = GDLinearRegressor(batch_size=32, random_state=random_state)
    assert _fit(model, X, y) == []
    assert model.solver_ == "svrg" and model.converged_ and model.stop_reason_ == "tol"
    assert model.n_iter_ <= 1000
    assert _relative(model.coef_, ref.coef_) <= 1e-6
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-6)
    # The constant-step method, by name, is still there (and still stops at its floor).
    sgd = GDLinearRegressor(solver="gd", batch_size=32, random_state=random_state)
    assert _fit(sgd, X, y) and sgd.solver_ == "sgd" and not sgd.converged_


@pytest.mark.parametrize("batch_size", [3, 7, 100, 442, 10_000])
def test_any_batch_size_and_sparse_reach_least_squares(batch_size):
    X, y = load_diabetes(return_X_y=True)
    ref = LinearRegression().fit(X, y)
    model = GDLinearRegressor(solver="svrg", batch_size=batch_size, random_state=0)
    assert _fit(model, sp.csr_matrix(X), y) == [] and model.stop_reason_ == "tol"
    assert _relative(model.coef_, ref.coef_) <= 1e-6
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-6)
    assert model.t_ == model.n_iter_ * -(-442 // batch_size)


def test_weights_offsets_and_several_targets():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 6)) * rng.uniform(0.1, 50, 6) + rng.uniform(-1e3, 1e3, 6)
    Y = X @ rng.normal(size=(6, 2)) + [3.0, -1.0] + rng.normal(size=(500, 2))
    w = rng.uniform(0, 3, 500)
    X0, Y0 = X.copy(), Y.copy()
    model = GDLinearRegressor(batch_size=16, random_state=1)
    assert _fit(model, X, Y, sample_weight=w) == [] and model.solver_ == "svrg"
    coef, intercept = _lstsq(X, Y, w)
    spread = X.std(axis=0)
    # In units of y: each coefficient times its column's spread.
    assert np.max(np.abs((model.coef_ - coef) * spread)) <= 1e-7 * np.max(np.abs(coef * spread))
    np.testing.assert_allclose(model.intercept_, intercept, rtol=1e-6)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)


# ------------------------------------------------------------------- penalties, Huber


def test_l2_equals_ridge():
    X, y = load_diabetes(return_X_y=True)
    alpha = 1e-3
    ref = Ridge(alpha=alpha * len(y), tol=1e-14, solver="cholesky").fit(X, y)
    model = GDLinearRegressor(penalty="l2", alpha=alpha, batch_size=32, random_state=0)
    assert _fit(model, X, y) == [] and model.solver_ == "svrg" and model.converged_
    assert _relative(model.coef_, ref.coef_) <= 1e-7
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-7)


@pytest.mark.parametrize("alpha", [0.05, 0.5])
def test_l1_equals_lasso_with_its_zeros(alpha):
    X, y = load_diabetes(return_X_y=True)
    ref = Lasso(alpha=alpha, tol=1e-15, max_iter=1_000_000).fit(X, y)
    model = GDLinearRegressor(penalty="l1", alpha=alpha, batch_size=32, random_state=0)
    assert _fit(model, X, y) == [] and model.converged_
    assert _relative(model.coef_, ref.coef_) <= 1e-6
    np.testing.assert_array_equal(model.coef_ == 0, ref.coef_ == 0)  # the prox's exact zeros
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-6)


def test_positive_equals_nonnegative_least_squares():
    X, y = load_diabetes(return_X_y=True)
    ref = LinearRegression(positive=True).fit(X, y)
    model = GDLinearRegressor(positive=True, batch_size=32, random_state=0, tol=1e-12)
    assert _fit(model, X, y) == [] and model.converged_
    assert np.all(model.coef_ >= 0)
    assert _relative(model.coef_, ref.coef_) <= 1e-6


def test_huber_reaches_the_exact_minimiser():
    X, y, w = _robust_problem()
    coef, intercept = _huber_reference(X, y, w, 1.35)
    model = GDLinearRegressor(loss="huber", batch_size=16, random_state=0)
    assert _fit(model, X, y, sample_weight=w) == [] and model.solver_ == "svrg"
    spread = X.std(axis=0)
    assert np.max(np.abs((model.coef_ - coef) * spread)) <= 1e-7 * np.max(np.abs(coef * spread))
    assert model.intercept_ == pytest.approx(intercept, rel=1e-7)


def test_huber_on_diabetes_within_max_iter():
    X, y = load_diabetes(return_X_y=True)
    coef, intercept = _huber_reference(X, y, np.ones(len(y)), 1.35)
    model = GDLinearRegressor(loss="huber", batch_size=32, random_state=0)
    assert _fit(model, X, y) == [] and model.stop_reason_ == "tol"
    assert _relative(model.coef_, coef) <= 1e-6
    assert model.intercept_ == pytest.approx(intercept, rel=1e-6)


# ------------------------------------------------------------------- the update rule


def _textbook_svrg(X, y, batch, step, epochs):
    """Accelerated SVRG written out, unshuffled, on the centred, standardised half-MSE."""
    n = len(y)
    mean, sd = X.mean(0), X.std(0)
    Z, t = (X - mean) / sd, y - y.mean()
    theta = ahead = np.zeros(X.shape[1])
    k, path = 1.0, []
    for _ in range(epochs):
        full = Z.T @ (Z @ theta - t) / n
        x = ahead
        for a in range(0, n, batch):
            Zb = Z[a : a + batch]
            x = x - step * (Zb.T @ (Zb @ (x - theta)) / len(Zb) + full)
        if (ahead - x) @ (x - theta) > 0:
            k = 1.0
        k_next = (1 + np.sqrt(1 + 4 * k * k)) / 2
        ahead = x + (k - 1) / k_next * (x - theta)
        theta, k = x, k_next
        path.append(theta / sd)
    return np.array(path)


def test_iterates_are_the_textbook_ones():
    X, y = load_diabetes(return_X_y=True)
    model = GDLinearRegressor(
        solver="svrg", batch_size=50, learning_rate=0.05, shuffle=False, max_iter=8, tol=None,
        store_path=True,
    )  # fmt: skip
    assert _fit(model, X, y) == []
    expected = _textbook_svrg(X, y, 50, 0.05, 8)
    np.testing.assert_allclose(model.coef_path_[1:], expected, rtol=1e-9, atol=1e-9 * 1e3)


def test_a_numeric_step_too_large_diverges():
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(DivergenceError, match="learning_rate"):
        GDLinearRegressor(solver="svrg", batch_size=32, learning_rate=100.0).fit(X, y)


def test_max_iter_warns_and_is_not_converged():
    X, y = load_diabetes(return_X_y=True)
    model = GDLinearRegressor(batch_size=32, random_state=0, max_iter=3)
    caught = _fit(model, X, y)
    assert len(caught) == 1 and "max_iter" in str(caught[0].message)
    assert model.stop_reason_ == "max_iter" and not model.converged_ and model.n_iter_ == 3
    # tol=None: exactly max_iter epochs, no test, no warning.
    none = GDLinearRegressor(batch_size=32, random_state=0, max_iter=3, tol=None)
    assert _fit(none, X, y) == [] and none.stop_reason_ == "max_iter"


def test_passes_are_a_full_gradient_and_an_epoch_each(full_passes):
    X, y = load_diabetes(return_X_y=True)
    full_passes["rows"] = len(y)
    res = gradient_descent(X, y, batch_size=32, max_iter=7, tol=None, random_state=0)
    assert res.solver == "svrg" and res.n_iter == 7 and res.n_updates == 7 * 14
    assert full_passes["n"] >= 7 + 1  # a full gradient at every snapshot, the start's too
    assert res.n_passes == 1 + full_passes["n"] + 7  # statistics, full gradients, epochs
    assert len(res.loss_history) == 7


# ------------------------------------------------------------------- choice and errors


@pytest.mark.parametrize(
    ("params", "method"),
    [
        ({"batch_size": 8}, "svrg"),
        ({"batch_size": 8, "solver": "svrg", "learning_rate": 0.01}, "svrg"),
        ({"batch_size": 8, "solver": "gd"}, "sgd"),
        ({"batch_size": 8, "learning_rate": 0.01}, "sgd"),
        ({"batch_size": 8, "learning_rate": "invscaling"}, "sgd"),
        ({"batch_size": 8, "momentum": 0.5}, "sgd"),
    ],
)
def test_which_method_runs(params, method):
    X, y = load_diabetes(return_X_y=True)
    model = GDLinearRegressor(max_iter=2, tol=None, random_state=0, **params).fit(X, y)
    assert model.solver_ == method


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"batch_size": 8, "momentum": 0.5},
        {"batch_size": 8, "learning_rate": "invscaling"},
    ],
)
def test_svrg_refuses_what_it_cannot_do(params):
    X, y = load_diabetes(return_X_y=True)
    model = GDLinearRegressor(solver="svrg", **params)
    with pytest.raises(ValueError, match="solver='svrg' needs a batch_size"):
        model.fit(X, y)


def test_a_failed_refit_keeps_the_model():
    X, y = load_diabetes(return_X_y=True)
    model = GDLinearRegressor(batch_size=32, random_state=0).fit(X, y)
    coef = model.coef_.copy()
    model.set_params(learning_rate=100.0, solver="svrg")
    with pytest.raises(DivergenceError):
        model.fit(X, y)
    np.testing.assert_array_equal(model.coef_, coef)


# ------------------------------------------------------------------- the property


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(20, 120),
    d=st.integers(1, 5),
    noise=st.sampled_from([0.0, 0.1]),
    offset=st.sampled_from([0.0, 10.0]),
    batch=st.integers(1, 40),
    solver=st.sampled_from(["svrg", "sgd"]),
)
def test_converged_means_within_the_documented_tolerance(seed, n, d, noise, offset, batch, solver):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ (np.eye(d) + 0.3 * rng.standard_normal((d, d))) + offset
    y = X @ rng.standard_normal(d) + 1.0 + noise * rng.standard_normal(n)
    tol = 1e-8
    params = dict(tol=tol, max_iter=300, random_state=seed, batch_size=batch)
    params["solver"] = "gd" if solver == "sgd" else "svrg"
    model = GDLinearRegressor(**params)
    _fit(model, X, y)
    assert model.solver_ == solver
    if not model.converged_:
        assert model.stop_reason_ != "tol"
        return
    coef, b = _lstsq(X, y)
    # The documented criterion bounds the step grad_j / H_jj in units of y by tol times the
    # largest effect (plus the rounding floor); the error is at most cond times that step.
    std = X.std(axis=0)
    C = np.atleast_2d(np.corrcoef(X, rowvar=False)) if d > 1 else np.ones((1, 1))
    eig = np.linalg.eigvalsh(C)
    cond = eig[-1] / eig[0]
    v = np.abs(coef * std).max()
    bound = 10 * cond * (tol * v + 1e3 * EPS * (v + np.abs(y).max()))
    assert np.abs((model.coef_ - coef) * std).max() <= bound
    amplification = 1 + np.sum(np.abs(X.mean(0)) / std)
    assert abs(model.intercept_ - b) <= bound * amplification + tol * abs(b)


# ------------------------------------------------------------------- Dask


def _dask_problem(X, y, chunks):
    da = pytest.importorskip("dask.array")
    return da.from_array(X, chunks=(chunks, X.shape[1])), da.from_array(y, chunks=(chunks,))


def _dask_fits(X, y, w, chunks):
    """Squared loss (full gradient from the statistics) and Huber (one reduction over the
    chunks per snapshot) on Dask, against LinearRegression and the Huber minimiser."""
    da = pytest.importorskip("dask.array")
    Xd, yd = _dask_problem(X, y, chunks)
    wd = da.from_array(w, chunks=(chunks,))
    ref = LinearRegression().fit(X, y, sample_weight=w)
    model = GDLinearRegressor(batch_size=16, random_state=0)
    assert _fit(model, Xd, yd, sample_weight=wd) == [] and model.solver_ == "svrg"
    assert model.stop_reason_ == "tol" and _relative(model.coef_, ref.coef_) <= 1e-6
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-6)
    coef, intercept = _huber_reference(X, y, w, 1.35)
    huber = GDLinearRegressor(loss="huber", batch_size=16, random_state=0)
    assert _fit(huber, Xd, yd, sample_weight=wd) == [] and huber.stop_reason_ == "tol"
    spread = X.std(axis=0)
    assert np.max(np.abs((huber.coef_ - coef) * spread)) <= 1e-7 * np.max(np.abs(coef * spread))
    assert huber.intercept_ == pytest.approx(intercept, rel=1e-7)


def test_dask_threads():
    dask = pytest.importorskip("dask")
    X, y, w = _robust_problem()
    with dask.config.set(scheduler="threads"):
        _dask_fits(X, y, w, (1, 120, 37, 142))  # uneven chunks, one of a single row


def test_dask_local_cluster():
    distributed = pytest.importorskip("distributed")
    X, y, w = _robust_problem()
    # In-process workers (tests/test_dask.py runs worker processes): a fraction of a second
    # to start instead of seconds, and the same client path (chunks computed ahead, gathered).
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
        client.as_current(),
    ):
        _dask_fits(X, y, w, 150)


def test_dask_streams_chunks_and_reaches_least_squares():
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    from dask.callbacks import Callback

    class Largest(Callback):
        largest = 0

        def _posttask(self, key, result, dsk, state, worker_id):
            self.largest = max(self.largest, getattr(result, "nbytes", 0))

    n = 40_000
    X = da.random.default_rng(1).normal(size=(n, 6), chunks=(4000, 6)) * 3.0 + 5.0
    y = X @ np.arange(1.0, 7.0) + 1.0 + da.random.default_rng(2).normal(size=n, chunks=4000)
    Xn, yn = X.compute(), y.compute()
    watch = Largest()
    with dask.config.set(scheduler="threads"), watch:
        model = GDLinearRegressor(batch_size=500, random_state=0)
        assert _fit(model, X, y) == []
    assert watch.largest <= X.nbytes / 5  # one chunk at a time, never X
    ref = LinearRegression().fit(Xn, yn)
    assert model.solver_ == "svrg" and model.converged_
    assert _relative(model.coef_, ref.coef_) <= 1e-6
