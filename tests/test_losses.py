"""Contract test over every entry of the loss registry, against scipy and finite differences."""

import numpy as np
import pytest
from scipy.optimize import check_grad

from gdlinreg.losses import LOSSES, MSE, HalfMSE, get_loss


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4))
    y = rng.standard_normal(30)
    p = rng.uniform(0.1, 2.0, 30)
    return X, y, p / p.sum()


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_registry_entry_is_consistent(name):
    loss = get_loss(name)
    assert loss.name == name
    assert isinstance(loss, LOSSES[name])
    assert get_loss(loss) is loss


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradient_matches_finite_differences(name, problem):
    X, y, p = problem
    loss = get_loss(name)

    def value(w):
        return loss.value((X @ w - y)[:, None], p)

    def grad(w):
        return X.T @ (p * loss.derivative(X @ w - y))

    for seed in range(3):
        w = np.random.default_rng(seed).standard_normal(4)
        assert check_grad(value, grad, w) < 1e-6 * max(1.0, np.linalg.norm(grad(w)))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_curvature_bounds_second_derivative(name):
    loss = get_loss(name)
    r = np.linspace(-50, 50, 201)
    h = 1e-3
    second = (loss.derivative(r + h) - loss.derivative(r - h)) / (2 * h)
    assert np.all(second <= loss.curvature * (1 + 1e-9))
    # For the quadratic losses the bound is attained: it is the exact Hessian scale.
    if loss.is_quadratic:
        np.testing.assert_allclose(second, loss.curvature, rtol=1e-9)


def test_exact_formulas(problem):
    X, y, p = problem
    r = (X @ np.ones(4) - y)[:, None]
    n = len(y)
    uniform = np.full(n, 1.0 / n)
    assert HalfMSE().value(r, uniform) == pytest.approx(np.sum(r**2) / (2 * n), rel=1e-14)
    assert MSE().value(r, uniform) == pytest.approx(np.mean(r**2), rel=1e-14)
    assert MSE().value(r, p) == pytest.approx(2 * HalfMSE().value(r, p), rel=1e-15)


def test_unknown_loss_names_the_choices():
    with pytest.raises(ValueError, match=r"loss='quantile'.*half_mse.*huber.*mse"):
        get_loss("quantile")
    with pytest.raises(TypeError, match="loss must be"):
        get_loss(3.0)
