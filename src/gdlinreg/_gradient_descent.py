"""``gradient_descent``: the NumPy function at the face of the core, beside
:class:`~gdlinreg.GDLinearRegressor`. It builds the same :class:`~._loop.options.Options` and an
in-memory source, and calls :func:`~._loop.solve.solve`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._data.arrays import ArraySource
from ._loop.messages import clipped_batch
from ._loop.options import DEFAULTS, Options
from ._loop.solve import solve
from ._problem.coordinates import Start

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ._kernels.types import LearningRate, Matrix
    from ._loop.result import GDResult
    from ._loop.solve import RandomState, UserCallback
    from ._protocols.registry import Loss, Penalty

    #: ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``.
    Validation = tuple[Matrix, ArrayLike] | tuple[Matrix, ArrayLike, ArrayLike | None]

__all__ = ["gradient_descent"]


def gradient_descent(
    X: Matrix,
    y: ArrayLike,
    *,
    loss: str | Loss = "half_mse",
    learning_rate: LearningRate = "auto",
    max_iter: int = 1000,
    tol: float | None = 1e-10,
    fit_intercept: bool = True,
    solver: str = "auto",
    sample_weight: ArrayLike | None = None,
    coef_init: ArrayLike | None = None,
    intercept_init: ArrayLike | None = None,
    return_path: bool = False,
    precompute: bool | str = "auto",
    verbose: int = 0,
    epsilon: float = 1.35,
    penalty: str | Penalty | None = None,
    alpha: float = 1e-4,
    l1_ratio: float = 0.15,
    positive: bool = False,
    momentum: float = 0.0,
    nesterovs_momentum: bool = False,
    line_search: bool = False,
    batch_size: int | None = None,
    shuffle: bool = True,
    random_state: RandomState = None,
    validation: Validation | None = None,
    n_iter_no_change: int = 5,
    callback: UserCallback | None = None,
    start_step: int = 0,
) -> GDResult:
    """Fit a linear model by first-order minimisation of ``loss`` (plus ``penalty``); NumPy only.

    Parameters are those of :class:`~gdlinreg.GDLinearRegressor`, plus ``sample_weight``,
    ``coef_init``, ``intercept_init`` (as in its ``fit``), ``return_path`` (keep every
    iterate), ``validation`` (a tuple ``(X_val, y_val)`` or ``(X_val, y_val, weights)``: stop
    when its R^2 has not improved by more than ``tol`` for ``n_iter_no_change`` iterations,
    and return the best iterate), ``callback`` (``callback(iteration, coef, intercept, loss)``
    after every iteration; a true return value stops the fit) and ``start_step`` (the step
    counter a schedule starts from, to continue a fit). ``precompute`` is True (Gram form),
    False (data form) or "auto" (the cost model of ``GDLinearRegressor``). X may be
    scipy.sparse (CSR or CSC), never densified.

    Returns
    -------
    GDResult

    Raises
    ------
    DivergenceError
        If a numeric ``learning_rate`` makes the iteration diverge; the message gives the
        largest stable step for this data and loss.

    Examples
    --------
    The tutorial's five points, its start and step, 1000 textbook steps:

    >>> from gdlinreg import gradient_descent
    >>> from gdlinreg.datasets import load_seed_example
    >>> X, y = load_seed_example()
    >>> res = gradient_descent(X, y, solver="gd", learning_rate=0.01, max_iter=1000, tol=None,
    ...                        coef_init=[0.48], intercept_init=0.75)
    >>> res.n_iter, res.coef.round(4), round(float(res.intercept), 4)
    (1000, array([0.7887]), 0.6408)
    >>> gradient_descent(X, y).coef.round(12)  # the default solver: least squares
    array([0.8])
    """
    # The "how" arguments, by the names Options reads (its DEFAULTS): everything but the data,
    # the start and the callback. (locals() here holds exactly the arguments.)
    params = {name: value for name, value in locals().items() if name in DEFAULTS}
    source = ArraySource(X, y, sample_weight, validation)
    options = Options.from_params(params)
    clipped_batch(options.method, options.batch_size, source.n_samples)
    start = Start(coef_init, intercept_init, start_step)
    return solve(source, options, start, lambda: callback)[0]
