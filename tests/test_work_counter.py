"""``GDResult.n_passes`` counts the passes over the training data, as scipy's ``nfev`` counts
evaluations. The reference count is taken independently, by wrapping the data-form
objective's evaluations (each one pass over X) and counting those over the whole X."""

import numpy as np
import pytest

from gdlinreg import GDLinearRegressor, gradient_descent


def _problem(n=300, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 + 0.1 * rng.standard_normal(n)
    return X, y


def test_the_gram_form_reads_the_data_once():
    X, y = _problem()
    res = gradient_descent(X, y)
    assert res.solver == "cg" and res.n_iter > 1
    assert res.n_passes == 1
    assert GDLinearRegressor(solver="agd").fit(X, y).n_iter_ > 1


@pytest.mark.parametrize("solver", ["gd", "agd", "cg"])
def test_data_form_passes_are_its_evaluations_plus_the_statistics(full_passes, solver):
    X, y = _problem()
    full_passes["rows"] = X.shape[0]
    res = gradient_descent(X, y, solver=solver, precompute=False, max_iter=30, tol=None)
    assert res.n_iter == 30
    # Every step evaluates at least one gradient over all of X.
    assert full_passes["n"] >= res.n_iter
    assert res.n_passes == full_passes["n"] + 1


def test_minibatch_epochs_count_one_pass_each(full_passes):
    X, y = _problem()
    full_passes["rows"] = X.shape[0]
    res = gradient_descent(X, y, solver="gd", batch_size=32, max_iter=7, tol=None, random_state=0)
    assert res.solver == "sgd" and res.n_iter == 7
    assert res.n_passes == 1 + full_passes["n"] + 7


def test_refinement_passes_are_counted():
    # Near-collinear columns: the Gram form alone cannot resolve them, refinement reads X.
    rng = np.random.default_rng(3)
    x = rng.standard_normal(400)
    X = np.column_stack([x, x + 1e-7 * rng.standard_normal(400), rng.standard_normal(400)])
    y = X @ np.array([1.0, -1.0, 0.5]) + 0.01 * rng.standard_normal(400)
    res = gradient_descent(X, y)
    assert res.condition_number > 1e6
    assert res.n_passes > 1


def test_dask_statistics_are_one_pass_over_the_chunks():
    da = pytest.importorskip("dask.array")
    X, y = _problem(n=400)
    from gdlinreg._problem.coordinates import Start
    from gdlinreg._shell.fit import fit_model

    chunked = da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    res = fit_model({}, *chunked, None, Start()).result
    reference, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)
    np.testing.assert_allclose(res.coef, reference[:-1], rtol=1e-8)
    assert res.n_passes == 1
