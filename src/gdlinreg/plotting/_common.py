"""What the figures of :mod:`gdlinreg.plotting` share: data, paths, least-squares references,
loss planes and contours, axes, and the check that matplotlib is installed.

Nothing here imports matplotlib at module level: ``import gdlinreg.plotting`` must stay free
of it, so each helper that needs it imports it when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

import numpy as np

from ..losses import get_loss
from ..penalties import get_penalty

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.lines import Line2D
    from numpy.typing import ArrayLike, NDArray

    from .._estimator import GDLinearRegressor
    from .._kernels.types import FloatArray
    from .._loop.result import DivergenceError, GDResult
    from .._protocols.registry import Loss

#: A fit with its path: a fitted estimator or a ``GDResult``.
Run: TypeAlias = "GDLinearRegressor | GDResult"
#: What the loss curves accept: a run, a ``DivergenceError`` or an array of loss values.
Curve: TypeAlias = "GDLinearRegressor | GDResult | DivergenceError | ArrayLike"

# The loss surface draws at most about this many iterates of a long path.
MAX_PATH_POINTS = 2000

# gdlinreg is on no package index yet, so "pip install gdlinreg[plot]" would fetch somebody
# else's package: the hint names the extra as installed from a clone or a built wheel.
INSTALL_HINT = (
    "gdlinreg.plotting needs matplotlib: install gdlinreg with its 'plot' extra "
    "(from a clone: pip install '.[plot]'; from a wheel: pip install 'gdlinreg-<version>-"
    "py3-none-any.whl[plot]'), or pip install matplotlib"
)


def require_matplotlib() -> None:
    """Raise a ModuleNotFoundError that names the ``plot`` extra when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ModuleNotFoundError as error:
        # Only matplotlib itself missing gets the hint: a broken matplotlib (one of its own
        # dependencies missing) keeps its original message, which names the real culprit.
        if error.name != "matplotlib":
            raise
        raise ModuleNotFoundError(INSTALL_HINT, name="matplotlib") from error


def axes(ax: Axes | None, projection: str | None = None) -> tuple[Figure | SubFigure, Axes]:
    if ax is not None:
        if projection == "3d" and getattr(ax, "name", "") != "3d":
            raise ValueError("kind='surface' needs a 3-D axes (projection='3d').")
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig = plt.figure(layout="constrained")
    return fig, fig.add_subplot(projection=projection)


def colors(n: int) -> list[tuple[float, float, float, float]]:
    import matplotlib as mpl

    cmap = mpl.colormaps["plasma"]
    return [cmap(0.15 + 0.7 * t) for t in np.linspace(0.0, 1.0, n)] if n > 1 else [cmap(0.15)] * n


def data(
    X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape[:1] != X.shape[:1]:
        raise ValueError(f"X must be 2-D with one row per sample of y; got {X.shape}, {y.shape}.")
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    return X, y, w


def maybe_path(run: Any) -> tuple[FloatArray, FloatArray] | None:
    """The run's ``(coef_path, intercept_path)``, or None when it kept no path."""
    prefix = "_" if hasattr(run, "coef_") else ""  # a fitted estimator: coef_path_
    coef_path = getattr(run, f"coef_path{prefix}", None)
    intercept_path = getattr(run, f"intercept_path{prefix}", None)
    if coef_path is None or intercept_path is None:
        return None
    return np.asarray(coef_path, dtype=np.float64), np.asarray(intercept_path, dtype=np.float64)


def path(run: Run) -> tuple[FloatArray, FloatArray]:
    found = maybe_path(run)
    if found is None:
        raise ValueError(
            "this figure needs the iterates: fit GDLinearRegressor with store_path=True, or "
            "call gradient_descent with return_path=True."
        )
    return found


def one_feature_path(run: Run, X: FloatArray, name: str) -> tuple[FloatArray, FloatArray]:
    coef_path, intercept_path = path(run)
    if X.shape[1] != 1 or coef_path.ndim != 2 or coef_path.shape[1] != 1:
        raise ValueError(f"{name} needs a one-feature, one-target fit.")
    return coef_path, intercept_path


def history(run: Curve) -> FloatArray:
    for name in ("loss_curve_", "loss_history"):
        if hasattr(run, name):
            values = getattr(run, name)
            if values is None:
                raise ValueError("this run has no loss history.")
            return np.asarray(values, dtype=np.float64)
    return np.asarray(run, dtype=np.float64)


def labelled(runs: Any) -> dict[str, Any]:
    return dict(runs) if isinstance(runs, dict) else {"run": runs}


def fit_intercept(run: Run) -> bool:
    return bool(getattr(run, "fit_intercept", True))


def feature_names(run: Run, d: int) -> list[str]:
    names = getattr(run, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else [f"coef[{i}]" for i in range(d)]


def loss_of(run: Any, loss: str | Loss | None) -> Loss:
    """``loss``, or the estimator's own (with its ``epsilon``); ``"half_mse"`` for a GDResult,
    which does not record its loss."""
    name = loss if loss is not None else getattr(run, "loss", "half_mse")
    return get_loss(name, epsilon=getattr(run, "epsilon", 1.35))


def lstsq(
    X: FloatArray, y: FloatArray, weights: FloatArray, with_intercept: bool
) -> tuple[FloatArray, Any]:  # the intercept: a float for 1-D y, else an array
    """Weighted least squares by :func:`numpy.linalg.lstsq`: ``(coef, intercept)``."""
    A = np.hstack([X, np.ones((len(X), 1))]) if with_intercept else X
    root = np.sqrt(weights)
    rhs = y * (root if y.ndim == 1 else root[:, None])
    theta, *_ = np.linalg.lstsq(A * root[:, None], rhs, rcond=None)
    if with_intercept:
        return theta[:-1].T, theta[-1]
    return theta.T, np.zeros(theta.shape[1:]) if theta.ndim == 2 else 0.0


def objective(
    run: Any, X: FloatArray, y: FloatArray, weights: FloatArray, loss: str | Loss | None, k: int
) -> float | None:
    """The run's objective (loss plus the estimator's penalty) at iterate ``k`` of its path,
    as its ``loss_curve_`` / ``loss_history`` counts it; None for a run without a path."""
    found = maybe_path(run)
    if found is None:
        return None
    coef, intercept = found[0][k], found[1][k]
    residual = (X @ coef.T + intercept - y).reshape(len(y), -1)
    value = loss_of(run, loss).value(residual, weights / weights.sum())
    penalty = get_penalty(
        getattr(run, "penalty", None), getattr(run, "alpha", 1e-4), getattr(run, "l1_ratio", 0.15)
    )
    if penalty is not None:
        value += float(penalty.value(np.atleast_2d(coef).T))
    return value


def design(X: FloatArray, with_intercept: bool) -> FloatArray:
    """The parameters' design matrix: ``[X, 1]`` with an intercept, else ``X``."""
    return np.hstack([X, np.ones((len(X), 1))]) if with_intercept else X


def hessian(X: FloatArray, weights: FloatArray, loss: Loss, with_intercept: bool) -> FloatArray:
    """:math:`H = \\ell''\\,\\tilde X^\\top P \\tilde X` of a squared loss, in (w, b)."""
    if not loss.is_quadratic:
        raise ValueError(f"this figure needs a squared loss (half_mse or mse); got {loss!r}.")
    A = design(X, with_intercept)
    p = weights / weights.sum()
    H: FloatArray = loss.curvature * (A.T * p) @ A
    return H


def thin(n: int) -> NDArray[np.int64]:
    """Indices of the iterates drawn of a path of ``n``: all of a short one; of a long one,
    every early step, then geometrically spaced ones, and the last."""
    if n <= MAX_PATH_POINTS:
        return np.arange(n, dtype=np.int64)
    keep = np.unique(np.geomspace(1, n, MAX_PATH_POINTS).astype(np.int64) - 1)
    return np.union1d(np.arange(MAX_PATH_POINTS // 4, dtype=np.int64), keep)


def extent(
    path_a: FloatArray, path_b: FloatArray, ls_a: float | None, ls_b: float | None
) -> tuple[float, ...]:
    a = np.append(path_a, [] if ls_a is None else [ls_a])
    b = np.append(path_b, [] if ls_b is None else [ls_b])
    bounds = []
    for values in (a, b):
        low, high = float(values.min()), float(values.max())
        pad = max(0.25 * (high - low), 0.05 * max(abs(low), abs(high)), 0.1)
        bounds += [low - pad, high + pad]
    return tuple(bounds)


class Plane(NamedTuple):
    """The loss over two parameters (a, b): residual ``base + a u + b v``, weights ``p``."""

    u: FloatArray
    v: FloatArray
    base: FloatArray
    p: FloatArray
    loss: Loss
    path_a: FloatArray
    path_b: FloatArray
    labels: tuple[str, str]
    star: tuple[float, float]  # the least-squares point (on a slice: its two coefficients)
    sliced: bool

    def value(self, a: float, b: float) -> float:
        return self.loss.value((self.base + a * self.u + b * self.v)[:, None], self.p)

    def grid(self, bounds: Any, resolution: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        a = np.linspace(bounds[0], bounds[1], resolution)
        b = np.linspace(bounds[2], bounds[3], resolution)
        A, B = np.meshgrid(a, b)
        return A, B, np.array([[self.value(ai, bi) for ai in a] for bi in b])


def line_plane(
    X: FloatArray,
    y: FloatArray,
    weights: FloatArray,
    loss: Loss,
    path_a: FloatArray,
    path_b: FloatArray,
) -> Plane:
    """The loss of a one-feature problem over (slope, intercept): residual ``a x + b - y``."""
    (slope,), intercept = lstsq(X, y, weights, True)
    star = (float(slope), float(intercept))
    p = weights / weights.sum()
    labels = ("slope", "intercept")
    return Plane(X[:, 0], np.ones_like(y), -y, p, loss, path_a, path_b, labels, star, False)


def plane(
    run: Run,
    X: FloatArray,
    y: FloatArray,
    weights: FloatArray,
    loss: Loss,
    coefs: tuple[int, int],
) -> Plane:
    """(slope, intercept) for one feature; else the slice through coefficients ``coefs`` with
    the others and the intercept held at the run's final values."""
    coef_path, intercept_path = path(run)
    if coef_path.ndim != 2:
        raise ValueError("plot_loss_surface needs a one-target fit.")
    if X.shape[1] == 1:
        return line_plane(X, y, weights, loss, coef_path[:, 0], intercept_path)
    i, j = coefs
    if i == j or not (0 <= i < X.shape[1] and 0 <= j < X.shape[1]):
        raise ValueError(f"coefs must be two different feature indices; got {coefs!r}.")
    fixed = coef_path[-1].copy()
    fixed[[i, j]] = 0.0
    names = feature_names(run, X.shape[1])
    coef, _ = lstsq(X, y, weights, fit_intercept(run))
    return Plane(
        X[:, i],
        X[:, j],
        X @ fixed + intercept_path[-1] - y,
        weights / weights.sum(),
        loss,
        coef_path[:, i],
        coef_path[:, j],
        (names[i], names[j]),
        (float(coef[i]), float(coef[j])),
        True,
    )


def draw_contours(
    ax: Axes | None, plane: Plane, grid: tuple[FloatArray, FloatArray, FloatArray]
) -> tuple[Figure | SubFigure, Axes, Line2D]:
    """Filled contours, the (thinned) path, the start and the least-squares star; returns the
    path's line too (the film moves it)."""
    A, B, Z = grid
    fig, ax = axes(ax)
    low, high = float(Z.min()), float(Z.max())
    # Levels crowd towards the minimum, so the flat valley floor shows its shape.
    levels = low + np.geomspace((high - low) * 1e-4, high - low, 15) if high > low else None
    if levels is not None:
        levels = np.concatenate([[low], levels])
    filled = ax.contourf(A, B, Z, levels=levels, cmap="viridis")
    fig.colorbar(filled, ax=ax, label=f"{plane.loss.name} loss")
    keep = thin(len(plane.path_a))
    a, b = plane.path_a[keep], plane.path_b[keep]
    (path_line,) = ax.plot(a, b, color="red", marker=".", markersize=3, label="path")
    ax.plot(a[:1], b[:1], "o", color="white", mec="black", label="start")
    ax.plot(*plane.star, "*", color="black", markersize=12, label="least squares")
    return fig, ax, path_line


def line_grid(x: FloatArray) -> FloatArray:
    """Two x values just beyond the data's: where the fitted lines are drawn."""
    span = np.ptp(x) if np.ptp(x) > 0 else 1.0
    return np.linspace(x.min() - 0.1 * span, x.max() + 0.1 * span, 2)
