"""Teaching figures: fit progress, loss surface with the descent path, loss and distance curves,
the error along the Hessian's eigenvectors, the descent as a film, a learning-rate explorer.

Install with the ``plot`` extra (from a clone, ``pip install ".[plot]"``); without matplotlib every
function here raises a :class:`ModuleNotFoundError` that says so. Each figure takes a fitted
:class:`~gdlinreg.GDLinearRegressor` or a :class:`~gdlinreg.GDResult` (a "run") and returns a
:class:`matplotlib.figure.Figure`. The figures that draw iterates need the path: fit with
``store_path=True``, or call :func:`~gdlinreg.gradient_descent` with ``return_path=True``.
The curves also accept a :class:`~gdlinreg.DivergenceError` (its ``loss_history``) or a plain
array of loss values. :func:`animate_descent` returns a matplotlib ``FuncAnimation``, and
:func:`explore_learning_rate` a :class:`LearningRateExplorer` (a figure with sliders).

matplotlib is imported only when a function here is called: ``import gdlinreg.plotting``
alone does not import it. Pass ``ax=`` to draw into an existing axes; otherwise a new figure
is made with :mod:`matplotlib.pyplot` (close it with ``plt.close(fig)`` when done).

The least-squares reference in these figures is :func:`numpy.linalg.lstsq` on the (weighted)
data, not the library's own solver.
"""

from ._explorer import LearningRateExplorer, explore_learning_rate
from ._figures import (
    animate_descent,
    plot_distance_to_solution,
    plot_error_modes,
    plot_fit_progress,
    plot_loss_curves,
    plot_loss_surface,
)

__all__ = [
    "LearningRateExplorer",
    "animate_descent",
    "explore_learning_rate",
    "plot_distance_to_solution",
    "plot_error_modes",
    "plot_fit_progress",
    "plot_loss_curves",
    "plot_loss_surface",
]

# The submodules import one another by name (``from ._common import Run``,
# ``import gdlinreg.plotting._common as base``), never ``from . import``: that imports this
# package, whose __init__ imports them (an import cycle).

# Documented, doctested and pickled as gdlinreg.plotting's: their home modules are private.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
