"""The descent film behind :func:`gdlinreg.plotting.animate_descent`: the ``FuncAnimation``
subclass, the choice of frames and the two panels.

Imports matplotlib at module level (the animation subclasses its ``FuncAnimation``), so the
package imports this module only inside ``animate_descent`` (in ``_figures``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

import gdlinreg.plotting._common as base

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.text import Text
    from numpy.typing import NDArray

    from .._kernels.types import FloatArray
    from .._protocols.registry import Loss
    from ._common import Run

    IntArray = NDArray[np.int64]


# matplotlib's JavaScript player takes its button icons from Font Awesome on a CDN; these text
# symbols stand in, so the player works offline (the documentation, a notebook without network).
_ICONS = {
    "fa fa-minus": "\u2212",
    "fa fa-fast-backward": "\u23ee",
    "fa fa-step-backward": "\u2039",
    "fa fa-play fa-flip-horizontal": "\u25c0",
    "fa fa-pause": "\u23f8",
    "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u203a",
    "fa fa-fast-forward": "\u23ed",
    "fa fa-plus": "+",
}
_CDN_STYLESHEET = re.compile(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">')
_ICON = re.compile(r'<i class="(fa [^"]+)"></i>')


class DescentAnimation(FuncAnimation):
    """A ``FuncAnimation`` of a fit that also says which step each frame shows."""

    def __init__(
        self,
        figure: Figure,
        steps: IntArray,
        run_path: tuple[FloatArray, FloatArray],
        artists: tuple[Line2D, Line2D, Line2D, Text],
        interval: int,
    ) -> None:
        self.figure = figure
        self.steps = steps
        self._coef_path, self._intercept_path = run_path
        self._fit_line, self._trail, self._point, self._title = artists
        self._grid = np.asarray(self._fit_line.get_xdata(), dtype=np.float64)
        self._keep = base.thin(len(self._intercept_path))
        super().__init__(figure, self.show_frame, frames=len(steps), interval=interval)

    def show_frame(self, i: int) -> tuple[Artist, ...]:
        """Draw frame ``i``: the line, the path so far and the point at step ``steps[i]``."""
        k = int(self.steps[i])
        slope, intercept = self._coef_path[k, 0], self._intercept_path[k]
        self._fit_line.set_ydata(slope * self._grid + intercept)
        drawn = np.append(self._keep[self._keep < k], k)
        self._trail.set_data(self._coef_path[drawn, 0], self._intercept_path[drawn])
        self._point.set_data([slope], [intercept])
        self._title.set_text(f"after {k:,} steps")
        return self._fit_line, self._trail, self._point, self._title

    def to_jshtml(self, *args: Any, **kwargs: Any) -> str:
        """matplotlib's HTML player, with text symbols for its buttons and no stylesheet from
        the network (what ``_repr_html_`` and the gallery embed)."""
        html = _CDN_STYLESHEET.sub("", str(super().to_jshtml(*args, **kwargs)))
        return _ICON.sub(lambda m: _ICONS.get(m.group(1), m.group(0)), html)


def frame_steps(n_iter: int, frames: int | Sequence[int]) -> IntArray:
    """Step 0 and up to ``frames - 1`` distinct, geometrically spaced steps ending at n_iter."""
    if not isinstance(frames, int):
        steps = np.asarray(frames, dtype=np.int64)
        if steps.ndim != 1 or len(steps) == 0 or steps.min() < 0 or steps.max() > n_iter:
            raise ValueError(f"frames must be steps in 0..{n_iter} (the run's); got {frames!r}.")
        return steps
    if frames < 2:
        raise ValueError(f"frames must be at least 2 (the start and the end); got {frames}.")
    # Rounding merges the first geometric steps (1, 1, 2, 2, ...): ask for more points until
    # frames - 1 distinct ones remain, or the run has no more steps to give.
    count = frames - 1
    while True:
        steps = np.unique(np.rint(np.geomspace(1, max(n_iter, 1), count)).astype(np.int64))
        if len(steps) >= min(frames - 1, n_iter) or count > 10 * frames:
            break
        count += 1
    steps = steps[steps <= n_iter]
    return np.concatenate([[0], steps[: frames - 1]]).astype(np.int64)


def descent_film(
    run: Run,
    X: FloatArray,
    y: FloatArray,
    weights: FloatArray,
    frames: int | Sequence[int],
    interval: int,
    loss: str | Loss | None,
    extent: Sequence[float] | None,
    resolution: int,
    *,
    draw_data: Callable[..., object],
) -> DescentAnimation:
    """The film of ``run``: the fitted line over the data (drawn by ``draw_data``,
    :func:`gdlinreg.plotting.plot_fit_progress`) beside its path on the loss surface."""
    plot_fit_progress = draw_data

    coef_path, intercept_path = base.one_feature_path(run, X, "animate_descent")
    steps = frame_steps(len(coef_path) - 1, frames)
    fig = plt.figure(figsize=(10, 4.2), layout="constrained")
    data_ax, surface_ax = fig.subplots(1, 2)
    plot_fit_progress(run, X, y, steps=(), sample_weight=weights, ax=data_ax)
    grid = base.line_grid(X[:, 0])
    (fit_line,) = data_ax.plot(grid, np.zeros_like(grid), color="red", lw=2, label="fit")
    data_ax.set_title("the fitted line")
    data_ax.legend(loc="upper left")
    plane = base.plane(run, X, y, weights, base.loss_of(run, loss), (0, 1))
    if extent is None:
        extent = base.extent(plane.path_a, plane.path_b, *plane.star)
    _, _, trail = base.draw_contours(surface_ax, plane, plane.grid(extent, resolution))
    (point,) = surface_ax.plot([], [], "o", color="red", mec="black", ms=9, label="now")
    surface_ax.set_xlim(extent[0], extent[1])
    surface_ax.set_ylim(extent[2], extent[3])
    surface_ax.set_xlabel("slope")
    surface_ax.set_ylabel("intercept")
    surface_ax.set_title(f"{plane.loss.name} loss and the path")
    surface_ax.legend(loc="lower left")
    title = fig.suptitle("")
    artists = (fit_line, trail, point, title)
    film = DescentAnimation(fig, steps, (coef_path, intercept_path), artists, interval)
    film.show_frame(0)
    # Lay the figure out once: constrained layout would otherwise rerun on every frame,
    # doubling the time to save or embed the film, for positions that never change.
    fig.canvas.draw()
    fig.set_layout_engine("none")
    return film
