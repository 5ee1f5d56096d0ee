"""The figures of :mod:`gdlinreg.plotting`: fit progress, the loss surface with the descent
path, loss and distance curves, the error along the Hessian's eigenvectors, and the front of
the descent film (:func:`animate_descent`; the film itself is ``_film``, which imports
matplotlib at module level, so only a call of ``animate_descent`` imports it).

Nothing here imports matplotlib at module level: ``import gdlinreg.plotting`` must stay free
of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np

import gdlinreg.plotting._common as base

from ._common import Curve, Run

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from mpl_toolkits.mplot3d import Axes3D
    from numpy.typing import ArrayLike, NDArray

    from .._kernels.types import FloatArray
    from .._loop.result import GDResult
    from .._protocols.registry import Loss
    from ._film import DescentAnimation

# The accepted ``kind`` of plot_loss_surface, and what each draws.
_KINDS = {"contour": "contour", "surface": "surface", "3d": "surface"}


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
    base.require_matplotlib()
    X, y, weights = base.data(X, y, sample_weight)
    coef_path, intercept_path = base.one_feature_path(run, X, "plot_fit_progress")
    n_iter = len(coef_path) - 1
    for k in steps:
        if not 0 <= k <= n_iter:
            raise ValueError(f"step {k} is not in the run, which took {n_iter} steps.")
    (slope,), intercept = base.lstsq(X, y, weights, base.fit_intercept(run))
    fig, ax = base.axes(ax)
    x = X[:, 0]
    grid = base.line_grid(x)
    ax.scatter(x, y, color="black", zorder=3, label="data")
    ax.plot(grid, coef_path[0, 0] * grid + intercept_path[0], ls=":", color="gray", label="start")
    for k, color in zip(steps, base.colors(len(steps)), strict=True):
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
    slice except at its end). The star marks the least-squares solution (on a slice, its two
    coefficients: the slice's minimum once the run has converged), the white dot the start.
    Of a path longer than 2000 steps, the early steps and geometrically spaced later ones are
    drawn, the last included.

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
    kind : {"contour", "surface", "3d"}, default="contour"
        Filled contours in the plane, or a 3-D surface with the path on it (``"3d"`` is
        another name for ``"surface"``).
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
    >>> [line.get_label() for line in ax.get_lines()]
    ['path', 'start', 'least squares']
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, _KINDS))}; got {kind!r}.")
    base.require_matplotlib()
    X, y, weights = base.data(X, y, sample_weight)
    plane = base.plane(run, X, y, weights, base.loss_of(run, loss), coefs)
    star = plane.star
    if extent is None:
        extent = base.extent(plane.path_a, plane.path_b, *star)
    grid = plane.grid(extent, resolution)
    if _KINDS[kind] == "surface":
        fig, ax = _surface_3d(ax, plane, grid)
    else:
        fig, ax, _ = base.draw_contours(ax, plane, grid)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel(plane.labels[0])
    ax.set_ylabel(plane.labels[1])
    title = f"{plane.loss.name} loss surface and descent path"
    ax.set_title(f"{title} (slice)" if plane.sliced else title)
    ax.legend()
    return fig


def _surface_3d(
    ax: Axes | None, plane: base.Plane, grid: tuple[FloatArray, FloatArray, FloatArray]
) -> tuple[Figure | SubFigure, Axes]:
    keep = base.thin(len(plane.path_a))
    a, b = plane.path_a[keep], plane.path_b[keep]
    z = np.array([plane.value(ai, bi) for ai, bi in zip(a, b, strict=True)])
    fig, ax = base.axes(ax, projection="3d")
    ax3d = cast("Axes3D", ax)  # (a 3-D axes: base.axes checked or made one)
    ax3d.plot_surface(*grid, cmap="viridis", alpha=0.6, linewidth=0)
    ax.plot(a, b, z, color="red", marker=".", markersize=3, label="path")
    ax.plot(a[:1], b[:1], z[:1], "o", color="white", mec="black", label="start")
    star_z = plane.value(*plane.star)
    ax.plot([plane.star[0]], [plane.star[1]], [star_z], "*", color="black", label="least squares")
    ax3d.set_zlabel(f"{plane.loss.name} loss")
    return fig, ax


def plot_loss_curves(
    runs: Curve | dict[str, Curve],
    X: ArrayLike | None = None,
    y: ArrayLike | None = None,
    *,
    sample_weight: ArrayLike | None = None,
    loss: str | Loss | None = None,
    optimum: float | dict[str, float] | None = None,
    logx: bool = False,
    ax: Axes | None = None,
) -> Figure | SubFigure:
    """The loss after every step, log-scaled, for one run or several side by side.

    A run's ``loss_curve_`` (``loss_history``) has one entry per iteration, the value *after*
    it: entry ``k - 1`` is drawn at step ``k``. Given ``X`` and ``y``, runs that kept their path
    also get the starting value at step 0, the objective at their first iterate.

    Parameters
    ----------
    runs : run or dict of str to run
        Each run a fitted :class:`~gdlinreg.GDLinearRegressor` (``loss_curve_``), a
        :class:`~gdlinreg.GDResult` (``loss_history``), a :class:`~gdlinreg.DivergenceError`
        (the losses before the blow-up) or an array of loss values; a dict labels them.
    X : array-like of shape (n_samples, n_features), default=None
    y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
        The training data: with them, step 0 is drawn for runs with a path (fitted with
        ``store_path=True`` or ``return_path=True``).
    sample_weight : array-like of shape (n_samples,), default=None
    loss : str or loss object, default=None
        The loss of step 0; by default the estimator's ``loss`` (and its penalty is added), or
        ``"half_mse"`` for a :class:`~gdlinreg.GDResult`, which does not record its loss.
    optimum : float or dict of str to float, default=None
        Subtract this minimum value (per label with a dict), so the curve shows the excess
        loss :math:`J - J^*`; values at or below zero (rounding) are not drawn.
    logx : bool, default=False
        Log-scale the step axis too (step 0 is then not drawn).
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
    ...                                 max_iter=100, tol=None, store_path=True).fit(X, y)
    ...         for name in ("half_mse", "mse")}
    >>> fig = plot_loss_curves(runs, X, y, optimum={"half_mse": 0.16, "mse": 0.32})
    >>> ax = fig.axes[0]
    >>> ax.get_yscale(), [line.get_label() for line in ax.get_lines()]
    ('log', ['half_mse', 'mse'])
    >>> ax.get_lines()[0].get_xdata()[[0, -1]]  # step 0, the start, to step 100
    array([  0, 100])
    """
    base.require_matplotlib()
    runs = base.labelled(runs)
    fig, ax = base.axes(ax)
    for label, run in runs.items():
        steps, values = _curve(run, X, y, sample_weight, loss)
        if optimum is not None:
            values = values - (optimum[label] if isinstance(optimum, dict) else optimum)
            values = np.where(values > 0, values, np.nan)
        if logx and steps[0] == 0:
            steps, values = steps[1:], values[1:]
        ax.plot(steps, values, label=label)
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss" if optimum is None else "excess loss $J - J^*$")
    ax.set_title("Loss per step")
    ax.legend()
    return fig


def _curve(
    run: Curve,
    X: ArrayLike | None,
    y: ArrayLike | None,
    sample_weight: ArrayLike | None,
    loss: str | Loss | None,
) -> tuple[NDArray[np.int64], FloatArray]:
    """``(steps, values)``: the history at steps 1..n, with step 0 in front when known."""
    values = base.history(run)
    start = None
    if X is not None and y is not None:
        start = base.objective(run, *base.data(X, y, sample_weight), loss, 0)
    if start is None:
        return np.arange(1, len(values) + 1, dtype=np.int64), values
    return np.arange(len(values) + 1, dtype=np.int64), np.concatenate([[start], values])


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
    base.require_matplotlib()
    X, y, weights = base.data(X, y, sample_weight)
    runs = base.labelled(runs)
    fig, ax = base.axes(ax)
    for label, run in runs.items():
        coef_path, intercept_path = base.path(run)
        coef, intercept = base.lstsq(X, y, weights, base.fit_intercept(run))
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


def plot_error_modes(
    run: Run,
    X: ArrayLike,
    y: ArrayLike,
    *,
    loss: str | Loss | None = None,
    learning_rate: float | None = None,
    sample_weight: ArrayLike | None = None,
    ax: Axes | None = None,
) -> Figure | SubFigure:
    r"""The error along each eigenvector of the Hessian, per step, beside its formula.

    A squared loss is a quadratic in :math:`\theta = (w, b)` with constant Hessian
    :math:`H = \ell''\,\tilde X^\top P \tilde X` (:math:`\tilde X = [X, \mathbf 1]`,
    :math:`P = \mathrm{diag}(s)/\sum_i s_i`, :math:`\ell'' = 1` for half-MSE and 2 for MSE).
    Write :math:`H = \sum_i \lambda_i v_i v_i^\top` and split the error of iterate
    :math:`k` along the eigenvectors, :math:`c_i(k) = v_i^\top(\theta_k - \theta^*)`. A step
    of plain gradient descent multiplies each component by its own factor:

    .. math:: c_i(k) = (1 - a\lambda_i)^k\, c_i(0).

    The figure draws :math:`|c_i(k)|` (solid) and the formula (dashed) for every mode, slowest
    (smallest :math:`\lambda`) first, on a log scale; the legend gives the share
    :math:`|1 - a\lambda_i|^n` of each mode's error left after the run's ``n`` steps. The
    formula holds for a constant step without momentum; with a schedule or momentum the solid
    lines still show the run.

    Parameters
    ----------
    run : GDLinearRegressor or GDResult
        A one-target, unpenalised fit with a squared loss and its path (``store_path=True``
        or ``return_path=True``).
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    loss : str or loss object, default=None
        By default the estimator's ``loss`` (``"half_mse"`` for a
        :class:`~gdlinreg.GDResult`, which does not record its loss).
    learning_rate : float, default=None
        The step :math:`a` of the formula; by default the run's (``learning_rate_``, or the
        ``learning_rate`` of a :class:`~gdlinreg.GDResult`).
    sample_weight : array-like of shape (n_samples,), default=None
    ax : matplotlib.axes.Axes, default=None

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    The tutorial's run: after 1000 steps at :math:`a = 0.01` the slow mode keeps 18 % of its
    error, the fast one none to speak of.

    >>> from gdlinreg import GDLinearRegressor
    >>> from gdlinreg.datasets import load_seed_example
    >>> from gdlinreg.plotting import plot_error_modes
    >>> X, y = load_seed_example()
    >>> model = GDLinearRegressor(solver="gd", learning_rate=0.01, max_iter=1000, tol=None,
    ...                           store_path=True)
    >>> model = model.fit(X, y, coef_init=[0.48], intercept_init=0.75)
    >>> fig = plot_error_modes(model, X, y)
    >>> [line.get_label() for line in fig.axes[0].get_lines()[::2]]
    ['slow mode, $\\lambda$ = 0.169', 'fast mode, $\\lambda$ = 11.8']
    >>> print(fig.axes[0].get_lines()[1].get_label())
    $(1 - a\lambda)^k$: 0.184 left after 1000 steps
    """
    base.require_matplotlib()
    X, y, weights = base.data(X, y, sample_weight)
    lam, modes = _error_modes(run, X, y, weights, loss)
    rate = _learning_rate(run) if learning_rate is None else float(learning_rate)
    steps = np.arange(len(modes))
    n = int(steps[-1])
    fig, ax = base.axes(ax)
    for name, lam_i, c, color in zip(
        _mode_names(len(lam)), lam, modes.T, base.colors(len(lam)), strict=True
    ):
        ax.plot(
            steps,
            np.where(c > 0, c, np.nan),
            color=color,
            label=rf"{name}, $\lambda$ = {lam_i:.3g}",
        )
        factor = abs(1.0 - rate * lam_i)
        formula = c[0] * factor**steps
        label = rf"$(1 - a\lambda)^k$: {factor**n:.3g} left after {n} steps"
        ax.plot(
            steps, np.where(formula > 0, formula, np.nan), ls="--", color=color, lw=1, label=label
        )
    ax.set_yscale("log")
    # Below rounding the formula keeps falling (to 1e-55 for the tutorial's fast mode) while the
    # iterates cannot: show down to a little under the rounding level only.
    top = float(np.max(modes[0])) if np.any(modes[0] > 0) else 1.0
    ax.set_ylim(max(ax.get_ylim()[0], 1e-18 * top), 10.0 * top)
    ax.text(
        0.98,
        0.97,
        r"$c_i(k) = (1 - a\lambda_i)^k\,c_i(0)$",
        transform=ax.transAxes,
        ha="right",
        va="top",
    )
    ax.set_xlabel("step $k$")
    ax.set_ylabel(r"$|c_i(k)| = |v_i^\top(\theta_k - \theta^*)|$")
    ax.set_title(f"Error along the Hessian's eigenvectors, a = {rate:g}")
    ax.legend(loc="center right")
    return fig


def _error_modes(
    run: Run, X: FloatArray, y: FloatArray, weights: FloatArray, loss: str | Loss | None
) -> tuple[FloatArray, FloatArray]:
    """The Hessian's eigenvalues (ascending) and ``|c_i(k)|``, shape (n_iter + 1, n_modes)."""
    coef_path, intercept_path = base.path(run)
    if coef_path.ndim != 2:
        raise ValueError("plot_error_modes needs a one-target fit.")
    if getattr(run, "penalty", None) is not None:
        # A penalty moves both the minimiser and the Hessian away from least squares.
        raise ValueError("plot_error_modes needs an unpenalised fit (penalty=None).")
    with_b = base.fit_intercept(run)
    lam, V = np.linalg.eigh(base.hessian(X, weights, base.loss_of(run, loss), with_b))
    coef, intercept = base.lstsq(X, y, weights, with_b)
    if with_b:
        theta, star = np.column_stack([coef_path, intercept_path]), np.append(coef, intercept)
    else:
        theta, star = coef_path, coef
    return lam, np.abs((theta - star) @ V)


def _learning_rate(run: Run) -> float:
    # An estimator's learning_rate may be "auto" or a schedule: learning_rate_ is the step taken.
    if hasattr(run, "coef_"):
        return float(getattr(run, "learning_rate_", np.nan))
    return float(cast("GDResult", run).learning_rate)


def _mode_names(n: int) -> list[str]:
    return ["slow mode", "fast mode"] if n == 2 else [f"mode {i + 1}" for i in range(n)]


def animate_descent(
    run: Run,
    X: ArrayLike,
    y: ArrayLike,
    *,
    frames: int | Sequence[int] = 60,
    interval: int = 80,
    loss: str | Loss | None = None,
    sample_weight: ArrayLike | None = None,
    extent: Sequence[float] | None = None,
    resolution: int = 60,
) -> DescentAnimation:
    """The descent as a film: the fitted line over the data and the point on the loss contours.

    Each frame shows one step of a one-feature fit: on the left the data, the start, the
    least-squares line and the line at that step; on the right the loss contours over
    (slope, intercept) (as :func:`plot_loss_surface` draws them), the path so far and the
    current point. The steps are spaced geometrically, so a run of a million steps plays in
    a few seconds: 60 frames at 80 ms each by default. Save it as a GIF with matplotlib's
    Pillow writer, ``anim.save("descent.gif", writer="pillow")``, or show it in Jupyter with
    ``IPython.display.HTML(anim.to_jshtml())``.

    Parameters
    ----------
    run : GDLinearRegressor or GDResult
        A one-feature, one-target fit with its path (``store_path=True`` or
        ``return_path=True``).
    X : array-like of shape (n_samples, 1)
    y : array-like of shape (n_samples,)
    frames : int or sequence of int, default=60
        The number of frames (step 0, then at most ``frames - 1`` geometrically spaced
        steps up to the last, each once), or the steps to show.
    interval : int, default=80
        Milliseconds per frame.
    loss : str or loss object, default=None
        The loss of the contours; by default the estimator's ``loss`` (``"half_mse"`` for a
        :class:`~gdlinreg.GDResult`).
    sample_weight : array-like of shape (n_samples,), default=None
    extent : tuple (xmin, xmax, ymin, ymax), default=None
        The (slope, intercept) ranges of the contours; by default the path and the
        least-squares point, padded.
    resolution : int, default=60
        Contour grid points along each axis.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        With three more attributes: ``figure`` (its figure), ``steps`` (the step shown in
        each frame, an int array) and ``show_frame(i)`` (draw frame ``i``: what the animation
        calls; it returns the moving artists: the fitted line, the path so far, the current
        point and the title).

    Examples
    --------
    >>> import os, tempfile
    >>> from gdlinreg import GDLinearRegressor
    >>> from gdlinreg.datasets import load_seed_example
    >>> from gdlinreg.plotting import animate_descent
    >>> X, y = load_seed_example()
    >>> model = GDLinearRegressor(solver="gd", learning_rate=0.01, max_iter=1000, tol=None,
    ...                           store_path=True)
    >>> model = model.fit(X, y, coef_init=[0.48], intercept_init=0.75)
    >>> anim = animate_descent(model, X, y, frames=8, resolution=20)
    >>> anim.steps
    array([   0,    1,    3,   10,   32,  100,  316, 1000])
    >>> anim.save(os.path.join(tempfile.mkdtemp(), "descent.gif"), writer="pillow")
    """
    base.require_matplotlib()
    from ._film import descent_film

    X, y, weights = base.data(X, y, sample_weight)
    # The film's data panel is plot_fit_progress, handed over: _film importing it back from
    # here would make an import cycle.
    film = (frames, interval, loss, extent, resolution)
    return descent_film(run, X, y, weights, *film, draw_data=plot_fit_progress)
