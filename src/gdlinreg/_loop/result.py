"""What a fit returns (:class:`GDResult`) and how it fails (:class:`DivergenceError`).

Public through :mod:`gdlinreg`; defined here, below the loop that builds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class DivergenceError(ValueError):
    """Raised when the learning rate makes the iteration blow up.

    ``loss_history`` holds the objective for every step before the blow-up was detected, for
    plots of what divergence looks like.

    Examples
    --------
    >>> from gdlinreg import DivergenceError, gradient_descent
    >>> from gdlinreg.datasets import load_seed_example
    >>> X, y = load_seed_example()
    >>> try:
    ...     gradient_descent(X, y, solver="gd", learning_rate=0.2, max_iter=100, tol=None)
    ... except DivergenceError as error:
    ...     print(len(error.loss_history), error.loss_history[-1] > error.loss_history[0])
    14 True
    """

    def __init__(self, message: str, loss_history: np.ndarray | None = None) -> None:
        super().__init__(message)
        self.loss_history = loss_history

    def __reduce__(self) -> tuple[type[DivergenceError], tuple[str, np.ndarray | None]]:
        # Picklable with its history, so a divergence inside joblib workers reaches the caller.
        return type(self), (self.args[0], self.loss_history)


@dataclass(frozen=True)
class GDResult:
    """The outcome of :func:`gradient_descent`.

    Attributes
    ----------
    coef : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept : float or ndarray of shape (n_targets,)
    n_iter : int
        Iterations: steps for the full-batch solvers, epochs for mini-batches.
    converged : bool
        True only if the ``tol`` criterion was met on the full objective ("svrg": tested at
        every snapshot; "sgd": where the epoch loss has not improved by more than ``tol`` for
        ``n_iter_no_change`` epochs); with ``tol=None``, only if the fit is exact (the method
        made no more progress and the ``tol=0`` criterion holds). False when early stopping
        or a callback ended the fit.
    message : str
        Why the iteration stopped, in words.
    loss_history : ndarray of shape (n_iter,)
        The objective (loss plus penalty) after every iteration; for "sgd", the mean of the
        epoch's batch objectives ("svrg": the full objective at each snapshot).
    learning_rate : float
        The last step size used; for "cg" (whose steps come from exact line searches) the
        step 1/L that plain gradient descent would use on the same problem.
    solver : str
        The solver that ran ("gd", "sgd", "cg", "agd", "newton" or "svrg").
    stop_reason : str
        "tol", "max_iter", "early_stopping", "callback" or "stalled" (rounding errors
        dominate before ``tol`` is met; for mini-batches, the epoch loss stopped improving
        before the criterion held on the full objective).
    n_updates : int
        Parameter updates made (mini-batch steps; equal to ``n_iter`` otherwise).
    validation_scores : ndarray or None
        With a validation set: the validation R^2 (pooled over targets) after every iteration.
    condition_number : float or None
        The condition number of the standardised Gram matrix (the columns' correlation
        matrix, plus the l2 penalty's share), when it is cheap to know: squared losses on the
        Gram form with at most 256 features. The Gram form resolves coefficients to about
        ``eps * condition_number`` relative.
    best_iter : int or None
        With a validation set: the iteration whose parameters are returned (the best score).
    coef_path, intercept_path : ndarray or None
        With ``return_path=True``: the start and every iterate, shape (n_iter + 1, ...).
    n_passes : int
        Passes over the training data, as scipy's ``nfev`` counts evaluations: building the
        statistics counts one, as does every data-form value, gradient or Hessian product
        (Lanczos iterations for a curvature bound included), every mini-batch epoch and
        every pass of iterative refinement ("svrg": two per epoch, its snapshot's full
        gradient and the epoch; one on Dask where the gradient comes from the statistics). A
        Gram-form fit is typically one pass.

    Examples
    --------
    >>> from gdlinreg import gradient_descent
    >>> from gdlinreg.datasets import load_seed_example
    >>> X, y = load_seed_example()
    >>> res = gradient_descent(X, y, solver="gd", learning_rate=0.01, max_iter=10, tol=None,
    ...                        return_path=True)
    >>> res.n_iter, res.converged, res.stop_reason, res.coef_path.shape
    (10, False, 'max_iter', (11, 1))
    """

    coef: np.ndarray
    intercept: float | np.floating[Any] | np.ndarray
    n_iter: int
    converged: bool
    message: str
    loss_history: np.ndarray
    learning_rate: float
    solver: str
    stop_reason: str = "max_iter"
    n_updates: int = 0
    validation_scores: np.ndarray | None = None
    best_iter: int | None = None
    condition_number: float | None = None
    coef_path: np.ndarray | None = None
    intercept_path: np.ndarray | None = None
    n_passes: int = 0

    def __repr__(self) -> str:
        """The fields, with arrays as their shapes (the coefficients in full up to
        :data:`_SHOWN` values): a line or two, whatever the number of steps."""
        fields = []
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, np.ndarray) and not (
                name in ("coef", "intercept") and value.size <= _SHOWN
            ):
                value = _Shape(value, last=name.endswith(("history", "scores")))
            elif isinstance(value, (np.ndarray, np.floating, float)):
                value = _Numbers(value)
            fields.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(fields)})"


#: Up to this many coefficients (or intercepts), ``repr(GDResult)`` shows their values.
_SHOWN = 10


class _Shape:
    """An array in a repr: its shape and dtype, and the last value of a history."""

    def __init__(self, array: np.ndarray, last: bool) -> None:
        self.array, self.last = array, last

    def __repr__(self) -> str:
        a = self.array
        last = f", last {a[-1]:.6g}" if self.last and a.size else ""
        return f"<{a.dtype} array of shape {a.shape}{last}>"


class _Numbers:
    """Numbers in a repr, to 8 significant digits."""

    def __init__(self, value: np.ndarray | np.floating[Any] | float) -> None:
        self.value = value

    def __repr__(self) -> str:
        if isinstance(self.value, np.ndarray):
            return np.array2string(self.value, precision=8, separator=", ")
        return f"{float(self.value):.8g}"
