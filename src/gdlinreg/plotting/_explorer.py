"""The learning-rate explorer: :func:`gdlinreg.plotting.explore_learning_rate` and the
:class:`~gdlinreg.plotting.LearningRateExplorer` (a figure with sliders) that it returns.

matplotlib is imported inside the methods only: :mod:`gdlinreg.plotting` imports this module
at import time, and ``import gdlinreg.plotting`` must not import matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import gdlinreg.plotting._common as base

from .._gradient_descent import gradient_descent
from .._loop.result import DivergenceError
from ..losses import get_loss

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle
    from matplotlib.widgets import Slider
    from numpy.typing import ArrayLike

    from .._kernels.types import FloatArray
    from .._protocols.registry import Loss

# The step slider runs from 1 % of 1/L to 4/L: past 2(1 + beta)/L for every momentum up to
# 0.95, so the unstable side shows whatever the momentum.
_RATE_RANGE = (0.01, 4.0)


class LearningRateExplorer:
    r"""A loss-contour figure with sliders for the step and the momentum; see
    :func:`~gdlinreg.plotting.explore_learning_rate`, which makes it.

    Moving a slider (by hand, or ``slider.set_val(value)`` in code) reruns textbook gradient
    descent from the start with the new step :math:`a` and momentum :math:`\beta` and redraws
    the path and the loss curve.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    rate_slider : matplotlib.widgets.Slider
        The step :math:`a`, from :math:`0.01/L` to :math:`4/L`.
    momentum_slider : matplotlib.widgets.Slider
        The heavy-ball momentum :math:`\beta`.
    path_line : matplotlib.lines.Line2D
        The iterates (slope, intercept) on the contours, the start first; up to the blow-up
        if the run diverged.
    curve_line : matplotlib.lines.Line2D
        The excess loss :math:`J(\theta_k) - J^*` at steps :math:`k = 0, 1, \dots`.
    stable_span : matplotlib.patches.Rectangle
        On the step slider: the stable steps, :math:`a < 2(1 + \beta)/L`.
    momentum_span : matplotlib.patches.Rectangle
        On the momentum slider: the momenta that keep the current step stable,
        :math:`\beta > aL/2 - 1`.
    lipschitz : float
        :math:`L`, the largest eigenvalue of the loss's Hessian.
    optimum : float
        :math:`J^*`, the loss at the least-squares line.
    diverged : bool
        Whether the current run blew up (gradient descent raised
        :class:`~gdlinreg.DivergenceError`).

    Examples
    --------
    >>> from gdlinreg.datasets import load_seed_example
    >>> from gdlinreg.plotting import explore_learning_rate
    >>> X, y = load_seed_example()
    >>> explorer = explore_learning_rate(X, y, learning_rate=0.01, max_iter=50)
    >>> explorer.path_line.get_xdata().shape  # the start and 50 steps
    (51,)
    >>> explorer.rate_slider.set_val(0.15)
    >>> bool(explorer.curve_line.get_ydata()[-1] < explorer.curve_line.get_ydata()[0])
    True
    """

    def __init__(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        loss: str | Loss = "half_mse",
        learning_rate: float | None = None,
        momentum: float = 0.0,
        max_iter: int = 200,
        start: tuple[float, float] = (0.0, 0.0),
        sample_weight: ArrayLike | None = None,
        extent: Sequence[float] | None = None,
        resolution: int = 60,
        max_momentum: float = 0.95,
    ) -> None:
        self._X, self._y, self._weights = base.data(X, y, sample_weight)
        if self._X.shape[1] != 1 or self._y.ndim != 1:
            raise ValueError("explore_learning_rate needs one feature and one target.")
        if not 0.0 <= momentum <= max_momentum < 1.0:
            raise ValueError(
                f"need 0 <= momentum <= max_momentum < 1; got {momentum}, {max_momentum}."
            )
        self._loss = get_loss(loss)
        self._max_iter = int(max_iter)
        self._start = (float(start[0]), float(start[1]))
        hessian = base.hessian(self._X, self._weights, self._loss, True)
        self.lipschitz = float(np.linalg.eigvalsh(hessian)[-1])
        plane = base.line_plane(
            self._X, self._y, self._weights, self._loss, np.array([start[0]]), np.array([start[1]])
        )
        self._plane = plane
        self.optimum = plane.value(*plane.star)
        self.diverged = False
        rate = 1.0 / self.lipschitz if learning_rate is None else float(learning_rate)
        self._layout(extent or self._box(hessian), resolution)
        self._sliders(rate, momentum, max_momentum)
        self._update()

    def _box(self, hessian: FloatArray) -> tuple[float, ...]:
        # Below 2/L each eigen-component of the error keeps at most its starting size, so the
        # iterates stay in the box star +- sum_i |c_i(0)| |v_i|; momentum can overshoot it.
        _, V = np.linalg.eigh(hessian)
        star = np.array(self._plane.star)
        c0 = V.T @ (np.array(self._start) - star)
        half = 1.5 * np.maximum(np.abs(V) @ np.abs(c0), 0.1)
        return (star[0] - half[0], star[0] + half[0], star[1] - half[1], star[1] + half[1])

    def _layout(self, extent: Sequence[float], resolution: int) -> None:
        import matplotlib.pyplot as plt

        self.figure: Figure = plt.figure(figsize=(10, 5.6), layout="constrained")
        axes = self.figure.subplot_mosaic(
            [["surface", "curve"], ["rate", "rate"], ["momentum", "momentum"]],
            height_ratios=[1.0, 0.07, 0.07],
        )
        self._axes: dict[str, Axes] = axes
        grid = self._plane.grid(extent, resolution)
        _, surface, path_line = base.draw_contours(axes["surface"], self._plane, grid)
        self.path_line: Line2D = path_line
        surface.set_xlim(extent[0], extent[1])
        surface.set_ylim(extent[2], extent[3])
        surface.set_xlabel("slope")
        surface.set_ylabel("intercept")
        surface.legend(loc="upper right")
        curve = axes["curve"]
        (self.curve_line,) = curve.plot([], [], color="red")
        curve.set_yscale("log")
        curve.set_xlabel("step")
        curve.set_ylabel("excess loss $J - J^*$")

    def _sliders(self, rate: float, momentum: float, max_momentum: float) -> None:
        from matplotlib.widgets import Slider

        low, high = (r / self.lipschitz for r in _RATE_RANGE)
        self.rate_slider: Slider = Slider(
            self._axes["rate"],
            "step a",
            low,
            max(high, rate),
            valinit=rate,
            valfmt="%.4g",
        )
        self.momentum_slider: Slider = Slider(
            self._axes["momentum"], "momentum β", 0.0, max_momentum, valinit=momentum
        )
        for slider in (self.rate_slider, self.momentum_slider):
            slider.drawon = False
        self.stable_span: Rectangle = self._span(self._axes["rate"])
        self.momentum_span: Rectangle = self._span(self._axes["momentum"])
        for rate_mark, label in ((1.0, "1/L"), (2.0, "2/L")):
            x = rate_mark / self.lipschitz
            self._axes["rate"].axvline(x, color="black", lw=1)
            self._axes["rate"].text(
                x, 1.1, label, transform=self._axes["rate"].get_xaxis_transform(), ha="center"
            )
        self.rate_slider.on_changed(self._changed)
        self.momentum_slider.on_changed(self._changed)

    @staticmethod
    def _span(ax: Axes) -> Rectangle:
        from matplotlib.patches import Rectangle

        # A band under the slider's track, in (data x, axes y) coordinates, so the slider's
        # own fill does not hide it; resized on every redraw.
        span = Rectangle(
            (0.0, 0.0), 0.0, 0.25, transform=ax.get_xaxis_transform(), color="tab:green", zorder=3
        )
        ax.add_patch(span)
        return span

    def _changed(self, _: float) -> None:
        # The sliders draw nothing themselves (drawon=False): one draw per change, not two
        # (on a non-interactive canvas such as Agg, draw_idle draws at once).
        self._update()
        self.figure.canvas.draw_idle()

    def _update(self) -> None:
        """Rerun gradient descent at the sliders' values and update the artists."""
        rate, beta = float(self.rate_slider.val), float(self.momentum_slider.val)
        iterates, losses, self.diverged = self._descend(rate, beta)
        self.path_line.set_data(iterates[:, 0], iterates[:, 1])
        excess = losses - self.optimum
        self.curve_line.set_data(np.arange(len(losses)), np.where(excess > 0, excess, np.nan))
        curve = self._axes["curve"]
        curve.relim()
        curve.autoscale_view()
        bound = 2.0 * (1.0 + beta) / self.lipschitz
        self.stable_span.set_x(self.rate_slider.valmin)
        self.stable_span.set_width(min(bound, self.rate_slider.valmax) - self.rate_slider.valmin)
        low = min(max(0.0, rate * self.lipschitz / 2.0 - 1.0), self.momentum_slider.valmax)
        self.momentum_span.set_x(low)
        self.momentum_span.set_width(self.momentum_slider.valmax - low)
        verdict = "diverges" if self.diverged else "converges"
        curve.set_title(
            f"a = {rate:.4g} = {rate * self.lipschitz:.3g}/L, β = {beta:.2f}: {verdict}"
        )

    def _descend(self, rate: float, beta: float) -> tuple[FloatArray, FloatArray, bool]:
        """The start and every iterate, the loss at each, and whether the run blew up."""
        iterates = [self._start]
        losses = [self._plane.value(*self._start)]

        def record(_: int, coef: FloatArray, intercept: Any, loss: float) -> None:
            iterates.append((float(coef[0]), float(intercept)))
            losses.append(float(loss))

        try:
            gradient_descent(
                self._X,
                self._y,
                sample_weight=self._weights,
                loss=self._loss,
                solver="gd",
                learning_rate=rate,
                momentum=beta,
                max_iter=self._max_iter,
                tol=None,
                coef_init=[self._start[0]],
                intercept_init=self._start[1],
                callback=record,
            )
        except DivergenceError:
            return np.array(iterates), np.array(losses), True
        return np.array(iterates), np.array(losses), False


def explore_learning_rate(
    X: ArrayLike,
    y: ArrayLike,
    *,
    loss: str | Loss = "half_mse",
    learning_rate: float | None = None,
    momentum: float = 0.0,
    max_iter: int = 200,
    start: tuple[float, float] = (0.0, 0.0),
    sample_weight: ArrayLike | None = None,
    extent: Sequence[float] | None = None,
    resolution: int = 60,
    max_momentum: float = 0.95,
) -> LearningRateExplorer:
    r"""A figure with sliders for the step and the momentum of textbook gradient descent.

    For a one-feature problem with a squared loss: the path of ``max_iter`` steps of
    ``gradient_descent(solver="gd", learning_rate=a, momentum=beta)`` from ``start`` on the
    loss contours over (slope, intercept), and its excess loss :math:`J(\theta_k) - J^*` per
    step (step 0 the start), both redrawn whenever a slider moves. With :math:`L` the
    Hessian's largest eigenvalue, plain gradient descent is stable for :math:`a < 2/L`, and
    heavy-ball momentum :math:`\beta` stretches that to :math:`a < 2(1 + \beta)/L` (the
    iteration :math:`e_{k+1} = (1 + \beta - a\lambda) e_k - \beta e_{k-1}` along an eigenvector
    is stable iff :math:`0 < a\lambda < 2(1 + \beta)`). The step slider shades the stable steps
    for the current momentum and marks :math:`1/L` and :math:`2/L`; the momentum slider shades
    the momenta that keep the current step stable.

    The sliders work in any matplotlib backend: drag them in an interactive window or in
    Jupyter with ``%matplotlib widget`` (keep a reference to the returned object, or the
    sliders stop responding), or set them in code with ``explorer.rate_slider.set_val(0.1)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, 1)
    y : array-like of shape (n_samples,)
    loss : {"half_mse", "mse"} or loss object, default="half_mse"
        A squared loss (the stable region is exact for a quadratic).
    learning_rate : float, default=None
        The step to start with; by default :math:`1/L`.
    momentum : float, default=0.0
        The momentum to start with.
    max_iter : int, default=200
        Steps per run.
    start : tuple (slope, intercept), default=(0.0, 0.0)
    sample_weight : array-like of shape (n_samples,), default=None
    extent : tuple (xmin, xmax, ymin, ymax), default=None
        The (slope, intercept) ranges of the contours; by default a box around the
        least-squares point that holds every iterate of plain gradient descent below
        :math:`2/L` (the start and its mirror image through the minimum), padded by half.
    resolution : int, default=60
        Contour grid points along each axis.
    max_momentum : float, default=0.95
        The momentum slider's upper end (below 1). The step slider runs to :math:`4/L`.

    Returns
    -------
    LearningRateExplorer
        The figure (``figure``), its sliders (``rate_slider``, ``momentum_slider``) and the
        redrawn artists.

    Examples
    --------
    >>> from gdlinreg.datasets import load_seed_example
    >>> from gdlinreg.plotting import explore_learning_rate
    >>> X, y = load_seed_example()
    >>> explorer = explore_learning_rate(X, y, start=(0.48, 0.75))
    >>> round(explorer.lipschitz, 4), round(explorer.rate_slider.val, 4)  # L and 1/L
    (11.831, 0.0845)
    >>> explorer.rate_slider.set_val(0.2)  # above 2/L = 0.169: the run blows up
    >>> explorer.diverged
    True
    >>> explorer.momentum_slider.set_val(0.5)  # 2(1 + 0.5)/L = 0.254: stable again
    >>> explorer.diverged
    False
    """
    base.require_matplotlib()
    return LearningRateExplorer(
        X,
        y,
        loss=loss,
        learning_rate=learning_rate,
        momentum=momentum,
        max_iter=max_iter,
        start=start,
        sample_weight=sample_weight,
        extent=extent,
        resolution=resolution,
        max_momentum=max_momentum,
    )
