"""Small data sets: the tutorial's five points, and synthetic least-squares problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._kernels.types import FloatArray

__all__ = ["SEED_LEARNING_RATE", "SEED_START", "SEED_STEPS", "load_seed_example", "make_problem"]

#: The tutorial's starting guess (slope, intercept).
SEED_START = (0.48, 0.75)
#: The tutorial's step size.
SEED_LEARNING_RATE = 0.01
#: The step counts at which the tutorial shows the fit (the last one for the MSE run).
SEED_STEPS = (10, 100, 1000, 1_000_000)


def load_seed_example() -> tuple[FloatArray, FloatArray]:
    """Return the tutorial's five points as ``(X, y)``, X of shape (5, 1).

    Their least-squares line is y = 0.8 x + 0.6.

    Examples
    --------
    >>> X, y = load_seed_example()
    >>> X.ravel(), y
    (array([1., 2., 3., 4., 5.]), array([1., 3., 3., 3., 5.]))
    """
    X = np.arange(1.0, 6.0).reshape(-1, 1)
    y = np.array([1.0, 3.0, 3.0, 3.0, 5.0])
    return X, y


def make_problem(
    n_samples: int = 100,
    n_features: int = 3,
    *,
    n_targets: int | None = None,
    offset: float = 0.0,
    scale: float = 1.0,
    noise: float = 0.1,
    random_state: int | np.random.Generator | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, float | FloatArray]:
    """A random linear problem ``y = X w + b + noise``, returned as ``(X, y, coef, intercept)``.

    ``offset`` and ``scale`` shift and stretch every column of X (large offsets make the
    uncentred problem ill-conditioned). ``coef`` has shape (n_features,), or
    (n_targets, n_features) when ``n_targets`` is given.

    Examples
    --------
    >>> X, y, coef, intercept = make_problem(10, 2, random_state=0)
    >>> X.shape, y.shape, coef.shape
    ((10, 2), (10,), (2,))
    """
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n_samples, n_features)) * scale + offset
    k = 1 if n_targets is None else n_targets
    coef = rng.standard_normal((k, n_features))
    intercept = rng.standard_normal(k)
    y = X @ coef.T + intercept + noise * rng.standard_normal((n_samples, k))
    if n_targets is None:
        return X, y[:, 0], coef[0], float(intercept[0])
    return X, y, coef, intercept
