"""Teaching figures: fit progress, loss surface with the descent path, loss and distance curves.

Install with the ``plot`` extra (``pip install "gdlinreg[plot]"``). Each function takes a fitted
:class:`~gdlinreg.GDLinearRegressor` or a :class:`~gdlinreg.GDResult` (a "run") and returns a
:class:`matplotlib.figure.Figure`. The figures that draw iterates need the path: fit with
``store_path=True``, or call :func:`~gdlinreg.gradient_descent` with ``return_path=True``.
The curves also accept a :class:`~gdlinreg.DivergenceError` (its ``loss_history``) or a plain
array of loss values.

matplotlib is imported only when a function here is called: ``import gdlinreg.plotting``
alone does not import it. Pass ``ax=`` to draw into an existing axes; otherwise a new figure
is made with :mod:`matplotlib.pyplot` (close it with ``plt.close(fig)`` when done).

The least-squares reference in these figures is :func:`numpy.linalg.lstsq` on the (weighted)
data, not the library's own solver.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import numpy as np

from .losses import get_loss

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from mpl_toolkits.mplot3d import Axes3D
    from numpy.typing import ArrayLike

    from ._estimator import GDLinearRegressor
    from ._solver import DivergenceError, GDResult
    from ._typing import FloatArray, Loss

#: A fit with its path: a fitted estimator or a ``GDResult``.
Run: TypeAlias = "GDLinearRegressor | GDResult"
#: What the loss curves accept: a run, a ``DivergenceError`` or an array of loss values.
Curve: TypeAlias = "GDLinearRegressor | GDResult | DivergenceError | ArrayLike"

__all__ = [
    "plot_distance_to_solution",
    "plot_fit_progress",
    "plot_loss_curves",
    "plot_loss_surface",
]

# The loss surface draws at most about this many iterates of a long path.
_MAX_PATH_POINTS = 2000


def plot_fit_progress(
    run: Run,
    X: ArrayLike,
    y: ArrayLike,
    *,
    steps: Sequence[int] = (10, 100, 1000),
    sample_weight: ArrayLike | None = None,
    ax: Axes | None = None,
) -> Figure | SubFigure:
    """The data, the starting line, the lines after chosen steps and the least-squares line.

    For one-feature problems: the tutorial's figure of the fit after 10, 100 and 1000 steps.

    Parameters
    ----------
    run : GDLinearRegressor or GDResult
        A one-feature, one-target fit with its path (``store_path=True`` or
        ``return_path=True``).
    X : array-like of shape (n_samples, 1)
    y : array-like of shape (n_samples,)
    steps : sequence of int, default=(10, 100, 1000)
        Draw the line after each of these steps (each at most the run's ``n_iter``).
    sample_weight : array-like of shape (n_samples,), default=None
        Weights for the least-squares reference line.
    ax : matplotlib.axes.Axes, default=None
        Draw here instead of on a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from gdlinreg import GDLinearRegressor
    >>> from gdlinreg.datasets import load_seed_example
    >>> from gdlinreg.plotting import plot_fit_progress
    >>> X, y = load_seed_example()
    >>> model = GDLinearRegressor(solver="gd", learning_rate=0.01, max_iter=1000, tol=None,
    ...                           store_path=True)
    >>> model = model.fit(X, y, coef_init=[0.48], intercept_init=0.75)
    >>> fig = plot_fit_progress(model, X, y, steps=(10, 100, 1000))
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['start', 'after 10 steps', 'after 100 steps', 'after 1000 steps', 'least squares']
    """
    X, y, weights = _data(X, y, sample_weight)
    coef_path, intercept_path = _path(run)
    if X.shape[1] != 1 or coef_path.ndim != 2 or coef_path.shape[1] != 1:
        raise ValueError("plot_fit_progress needs a one-feature, one-target fit.")
    n_iter = len(coef_path) - 1
    for k in steps:
        if not 0 <= k <= n_iter:
            raise ValueError(f"step {k} is not in the run, which took {n_iter} steps.")
    (slope,), intercept = _lstsq(X, y, weights, _fit_intercept(run))
    fig, ax = _axes(ax)
    x = X[:, 0]
    span = np.ptp(x) if np.ptp(x) > 0 else 1.0
    grid = np.linspace(x.min() - 0.1 * span, x.max() + 0.1 * span, 2)
    ax.scatter(x, y, color="black", zorder=3, label="data")
    ax.plot(grid, coef_path[0, 0] * grid + intercept_path[0], ls=":", color="gray", label="start")
    colors = _colors(len(steps))
    for k, color in zip(steps, colors, strict=True):
        line = coef_path[k, 0] * grid + intercept_path[k]
        ax.plot(grid, line, color=color, label=f"after {k} steps")
    ax.plot(grid, slope * grid + intercept, ls="--", color="black", label="least squares")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"Fit after {', '.join(str(k) for k in steps)} steps")
    ax.legend()
    return fig


def plot_loss_surface(
    run: Run,
    X: ArrayLike,
    y: ArrayLike,
    *,
    loss: str | Loss | None = None,
    coefs: tuple[int, int] = (0, 1),
    sample_weight: ArrayLike | None = None,
    extent: Sequence[float] | None = None,
    kind: str = "contour",
    resolution: int = 60,
    ax: Axes | None = None,
) -> Figure | SubFigure:
    """The loss over two parameters, as contours or a 3-D surface, with the descent path.

    With one feature the parameters are (slope, intercept) and the path is exact. With more,
    the figure is a 2-D slice through coefficients ``coefs``, all other coefficients and the
    intercept held at the run's final values; the path drawn is the projection of the iterates
    onto those two coefficients (the other coordinates move too, so it does not lie on the
    slice except at its end). Of a path longer than 2000 steps, the early steps and
    geometrically spaced later ones are drawn, the last included.

    Parameters
    ----------
    run : GDLinearRegressor or GDResult
        A one-target fit with its path (``store_path=True`` or ``return_path=True``).
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    loss : str or loss object, default=None
        The loss to draw; by default the estimator's ``loss`` (``"half_mse"`` for a
        :class:`~gdlinreg.GDResult`).
    coefs : tuple of two int, default=(0, 1)
        The coefficients spanning the slice (ignored with one feature).
    sample_weight : array-like of shape (n_samples,), default=None
    extent : tuple (xmin, xmax, ymin, ymax), default=None
        The parameter ranges drawn; by default the path and the least-squares point, padded.
    kind : {"contour", "surface"}, default="contour"
        Filled contours in the plane, or a 3-D surface with the path on it.
    resolution : int, default=60
        Grid points along each axis.
    ax : matplotlib.axes.Axes, default=None
        Draw here (a 3-D axes for ``kind="surface"``) instead of on a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from gdlinreg import gradient_descent
    >>> from gdlinreg.datasets import load_seed_example
    >>> from gdlinreg.plotting import plot_loss_surface
    >>> X, y = load_seed_example()
    >>> res = gradient_descent(X, y, solver="gd", learning_rate=0.01, max_iter=1000, tol=None,
    ...                        coef_init=[0.48], intercept_init=0.75, return_path=True)
    >>> fig = plot_loss_surface(res, X, y)
    >>> ax = fig.axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('slope', 'intercept')
    """
    if kind not in ("contour", "surface"):
        raise ValueError(f"kind must be 'contour' or 'surface'; got {kind!r}.")
    X, y, weights = _data(X, y, sample_weight)
    coef_path, intercept_path = _path(run)
    if coef_path.ndim != 2:
        raise ValueError("plot_loss_surface needs a one-target fit.")
    loss_fn = get_loss(loss if loss is not None else getattr(run, "loss", "half_mse"))
    p = weights / weights.sum()
    names = _feature_names(run, X.shape[1])
    if X.shape[1] == 1:
        # Parameters (slope, intercept): residual = a * x + b * 1 - y.
        u, v, base = X[:, 0], np.ones_like(y), -y
        path_a, path_b = coef_path[:, 0], intercept_path
        labels = ("slope", "intercept")
        (ls_a,), ls_b = _lstsq(X, y, weights, True)
    else:
        i, j = coefs
        if i == j or not (0 <= i < X.shape[1] and 0 <= j < X.shape[1]):
            raise ValueError(f"coefs must be two different feature indices; got {coefs!r}.")
        fixed = coef_path[-1].copy()
        fixed[[i, j]] = 0.0
        u, v, base = X[:, i], X[:, j], X @ fixed + intercept_path[-1] - y
        path_a, path_b = coef_path[:, i], coef_path[:, j]
        labels = (names[i], names[j])
        ls_a, ls_b = None, None
    if extent is None:
        extent = _extent(path_a, path_b, ls_a, ls_b)
    a = np.linspace(extent[0], extent[1], resolution)
    b = np.linspace(extent[2], extent[3], resolution)
    A, B = np.meshgrid(a, b)

    def value(ai: float, bi: float) -> float:
        return loss_fn.value((base + ai * u + bi * v)[:, None], p)

    Z = np.array([[value(ai, bi) for ai in a] for bi in b])
    if len(path_a) > _MAX_PATH_POINTS:
        # Long runs: every early step, then geometrically spaced ones, and the last.
        n = len(path_a)
        keep = np.unique(np.geomspace(1, n, _MAX_PATH_POINTS).astype(int) - 1)
        keep = np.union1d(np.arange(_MAX_PATH_POINTS // 4), keep)
        path_a, path_b = path_a[keep], path_b[keep]
    if kind == "surface":
        path_z = np.array([value(ai, bi) for ai, bi in zip(path_a, path_b, strict=True)])
        fig, ax = _axes(ax, projection="3d")
        ax3d = cast("Axes3D", ax)  # (a 3-D axes: _axes checked or made one)
        ax3d.plot_surface(A, B, Z, cmap="viridis", alpha=0.6, linewidth=0)
        ax.plot(path_a, path_b, path_z, color="red", marker=".", markersize=3, label="path")
        ax3d.set_zlabel(f"{loss_fn.name} loss")
    else:
        fig, ax = _axes(ax)
        low, high = float(Z.min()), float(Z.max())
        # Levels crowd towards the minimum, so the flat valley floor shows its shape.
        levels = low + np.geomspace((high - low) * 1e-4, high - low, 15) if high > low else None
        if levels is not None:
            levels = np.concatenate([[low], levels])
        filled = ax.contourf(A, B, Z, levels=levels, cmap="viridis")
        fig.colorbar(filled, ax=ax, label=f"{loss_fn.name} loss")
        ax.plot(path_a, path_b, color="red", marker=".", markersize=3, label="path")
        ax.plot(path_a[:1], path_b[:1], "o", color="white", mec="black", label="start")
    if ls_a is not None:
        if kind == "surface":
            ax.plot([ls_a], [ls_b], [value(ls_a, ls_b)], "*", color="black", label="least squares")
        else:
            ax.plot([ls_a], [ls_b], "*", color="black", markersize=12, label="least squares")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    title = f"{loss_fn.name} loss surface and descent path"
    ax.set_title(title if X.shape[1] == 1 else f"{title} (slice)")
    ax.legend()
    return fig


def plot_loss_curves(
    runs: Curve | dict[str, Curve],
    *,
    optimum: float | dict[str, float] | None = None,
    logx: bool = False,
    ax: Axes | None = None,
) -> Figure | SubFigure:
    """The loss after every step, log-scaled, for one run or several side by side.

    Parameters
    ----------
    runs : run or dict of str to run
        Each run a fitted :class:`~gdlinreg.GDLinearRegressor` (``loss_curve_``), a
        :class:`~gdlinreg.GDResult` (``loss_history``), a :class:`~gdlinreg.DivergenceError`
        (the losses before the blow-up) or an array of loss values; a dict labels them.
    optimum : float or dict of str to float, default=None
        Subtract this minimum value (per label with a dict), so the curve shows the excess
        loss :math:`J - J^*`; values at or below zero (rounding) are not drawn.
    logx : bool, default=False
        Log-scale the step axis too.
    ax : matplotlib.axes.Axes, default=None

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from gdlinreg import GDLinearRegressor
    >>> from gdlinreg.datasets import load_seed_example
    >>> from gdlinreg.plotting import plot_loss_curves
    >>> X, y = load_seed_example()
    >>> runs = {name: GDLinearRegressor(loss=name, solver="gd", learning_rate=0.01,
    ...                                 max_iter=100, tol=None).fit(X, y)
    ...         for name in ("half_mse", "mse")}
    >>> fig = plot_loss_curves(runs, optimum={"half_mse": 0.16, "mse": 0.32})
    >>> ax = fig.axes[0]
    >>> ax.get_yscale(), [line.get_label() for line in ax.get_lines()]
    ('log', ['half_mse', 'mse'])
    """
    runs = _labelled(runs)
    fig, ax = _axes(ax)
    for label, run in runs.items():
        history = _history(run)
        if optimum is not None:
            history = history - (optimum[label] if isinstance(optimum, dict) else optimum)
            history = np.where(history > 0, history, np.nan)
        ax.plot(np.arange(1, len(history) + 1), history, label=label)
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss" if optimum is None else "excess loss $J - J^*$")
    ax.set_title("Loss per step")
    ax.legend()
    return fig


def plot_distance_to_solution(
    runs: Run | dict[str, Run],
    X: ArrayLike,
    y: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    logx: bool = False,
    ax: Axes | None = None,
) -> Figure | SubFigure:
    """The distance of every iterate to the least-squares solution, log-scaled.

    The distance is the Euclidean norm over all coefficients and the intercept, measured from
    :func:`numpy.linalg.lstsq` on the (weighted) data. Step 0 is the start.

    Parameters
    ----------
    runs : run or dict of str to run
        Fitted :class:`~gdlinreg.GDLinearRegressor` objects with ``store_path=True``, or
        :class:`~gdlinreg.GDResult` objects from ``return_path=True``; a dict labels them.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
    sample_weight : array-like of shape (n_samples,), default=None
    logx : bool, default=False
        Log-scale the step axis too (step 0 is then not drawn).
    ax : matplotlib.axes.Axes, default=None

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from gdlinreg import gradient_descent
    >>> from gdlinreg.datasets import load_seed_example
    >>> from gdlinreg.plotting import plot_distance_to_solution
    >>> X, y = load_seed_example()
    >>> res = gradient_descent(X, y, solver="gd", learning_rate=0.01, max_iter=1000, tol=None,
    ...                        return_path=True)
    >>> fig = plot_distance_to_solution({"gd, a=0.01": res}, X, y)
    >>> fig.axes[0].get_lines()[0].get_ydata().shape
    (1001,)
    """
    X, y, weights = _data(X, y, sample_weight)
    runs = _labelled(runs)
    fig, ax = _axes(ax)
    for label, run in runs.items():
        coef_path, intercept_path = _path(run)
        coef, intercept = _lstsq(X, y, weights, _fit_intercept(run))
        n = len(coef_path)
        diff = np.hstack(
            [
                (coef_path - coef).reshape(n, -1),
                (np.asarray(intercept_path) - intercept).reshape(n, -1),
            ]
        )
        distance = np.sqrt(np.sum(diff * diff, axis=1))
        distance = np.where(distance > 0, distance, np.nan)
        steps = np.arange(n)
        if logx:
            steps, distance = steps[1:], distance[1:]
        ax.plot(steps, distance, label=label)
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("distance to least squares")
    ax.set_title("Distance to the least-squares solution")
    ax.legend()
    return fig


def _axes(ax: Axes | None, projection: str | None = None) -> tuple[Figure | SubFigure, Axes]:
    if ax is not None:
        if projection == "3d" and getattr(ax, "name", "") != "3d":
            raise ValueError("kind='surface' needs a 3-D axes (projection='3d').")
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig = plt.figure(layout="constrained")
    return fig, fig.add_subplot(projection=projection)


def _colors(n: int) -> list[tuple[float, float, float, float]]:
    import matplotlib as mpl

    cmap = mpl.colormaps["plasma"]
    return [cmap(0.15 + 0.7 * t) for t in np.linspace(0.0, 1.0, n)] if n > 1 else [cmap(0.15)]


def _data(
    X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape[:1] != X.shape[:1]:
        raise ValueError(f"X must be 2-D with one row per sample of y; got {X.shape}, {y.shape}.")
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    return X, y, w


def _path(run: Run) -> tuple[FloatArray, FloatArray]:
    if hasattr(run, "coef_"):  # a fitted estimator
        coef_path = getattr(run, "coef_path_", None)
        intercept_path = getattr(run, "intercept_path_", None)
    else:
        coef_path = getattr(run, "coef_path", None)
        intercept_path = getattr(run, "intercept_path", None)
    if coef_path is None or intercept_path is None:
        raise ValueError(
            "this figure needs the iterates: fit GDLinearRegressor with store_path=True, or "
            "call gradient_descent with return_path=True."
        )
    return np.asarray(coef_path, dtype=np.float64), np.asarray(intercept_path, dtype=np.float64)


def _history(run: Curve) -> FloatArray:
    for name in ("loss_curve_", "loss_history"):
        if hasattr(run, name):
            history = getattr(run, name)
            if history is None:
                raise ValueError("this run has no loss history.")
            return np.asarray(history, dtype=np.float64)
    return np.asarray(run, dtype=np.float64)


def _labelled(runs: Any) -> dict[str, Any]:
    return dict(runs) if isinstance(runs, dict) else {"run": runs}


def _fit_intercept(run: Run) -> bool:
    return bool(getattr(run, "fit_intercept", True))


def _feature_names(run: Run, d: int) -> list[str]:
    names = getattr(run, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else [f"coef[{i}]" for i in range(d)]


def _lstsq(
    X: FloatArray, y: FloatArray, weights: FloatArray, fit_intercept: bool
) -> tuple[FloatArray, Any]:  # the intercept: a float for 1-D y, else an array
    """Weighted least squares by :func:`numpy.linalg.lstsq`: ``(coef, intercept)``."""
    A = np.hstack([X, np.ones((len(X), 1))]) if fit_intercept else X
    root = np.sqrt(weights)
    rhs = y * (root if y.ndim == 1 else root[:, None])
    theta, *_ = np.linalg.lstsq(A * root[:, None], rhs, rcond=None)
    if fit_intercept:
        return theta[:-1].T, theta[-1]
    return theta.T, np.zeros(theta.shape[1:]) if theta.ndim == 2 else 0.0


def _extent(
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
