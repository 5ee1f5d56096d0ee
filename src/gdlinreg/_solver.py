"""``gradient_descent``: the NumPy core under :class:`~gdlinreg.GDLinearRegressor`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_arrays, initial_point, to_sklearn_shapes
from ._methods import agd_iterates, cg_iterates, gd_iterates
from ._objective import Coordinates, DataObjective, GramObjective, moments, prefer_gram
from .losses import get_loss

__all__ = ["SOLVERS", "DivergenceError", "GDResult", "gradient_descent"]

#: Solvers: textbook "gd", conjugate gradients "cg", Nesterov-accelerated "agd", and "auto".
SOLVERS = ("auto", "gd", "cg", "agd")

# The affine-power trick for fixed steps pays only for small problems, whose cost is
# otherwise Python's per-call overhead, not arithmetic.
_MAX_PARAMS_FOR_POWERS = 16
# A loss this many times above its start (or non-finite) means the iteration diverges.
_DIVERGENCE_FACTOR = 1e4


class DivergenceError(ValueError):
    """Raised when the learning rate makes the iteration blow up.

    ``loss_history`` holds the objective for every step before the blow-up was detected, for
    plots of what divergence looks like.
    """

    def __init__(self, message: str, loss_history: np.ndarray | None = None):
        super().__init__(message)
        self.loss_history = loss_history

    def __reduce__(self):
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
        Steps taken (iterations of the solver).
    converged : bool
        True only if the ``tol`` criterion was met; always False with ``tol=None``.
    message : str
        Why the iteration stopped.
    loss_history : ndarray of shape (n_iter,)
        The objective after every step.
    learning_rate : float
        The fixed step of "gd" and "agd"; for "cg" (whose steps come from exact line searches)
        the step 1/L that plain gradient descent would use on the same problem.
    solver : str
        The solver that ran ("gd", "cg" or "agd").
    coef_path, intercept_path : ndarray or None
        With ``return_path=True``: the start and every iterate, shape (n_iter + 1, ...).
    """

    coef: np.ndarray
    intercept: float | np.ndarray
    n_iter: int
    converged: bool
    message: str
    loss_history: np.ndarray
    learning_rate: float
    solver: str
    coef_path: np.ndarray | None = None
    intercept_path: np.ndarray | None = None


def gradient_descent(
    X,
    y,
    *,
    loss="half_mse",
    learning_rate="auto",
    max_iter=1000,
    tol=1e-10,
    fit_intercept=True,
    solver="auto",
    sample_weight=None,
    coef_init=None,
    intercept_init=None,
    return_path=False,
    precompute="auto",
    verbose=0,
) -> GDResult:
    """Fit a linear model by first-order minimisation of ``loss``; NumPy only.

    Parameters are those of :class:`~gdlinreg.GDLinearRegressor`, plus ``sample_weight``,
    ``coef_init``, ``intercept_init`` (as in its ``fit``), ``return_path`` (keep every iterate)
    and ``precompute`` (True: Gram form, False: data form, "auto": the cost model of
    ``GDLinearRegressor``). X may be scipy.sparse.

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
    X, Y, one_target, weights = check_arrays(X, y, sample_weight)
    loss_fn = get_loss(loss)
    solver = _check_solver(solver, learning_rate, loss_fn)
    if isinstance(max_iter, bool) or not (
        isinstance(max_iter, (int, np.integer)) and max_iter >= 1
    ):
        raise ValueError(f"max_iter must be an integer >= 1; got {max_iter!r}.")
    if tol is not None and not (np.isscalar(tol) and tol >= 0):
        raise ValueError(
            f"tol must be a float >= 0, or None to run exactly max_iter steps; got {tol!r}."
        )
    d, k = X.shape[1], Y.shape[1]
    use_gram = _use_gram(precompute, loss_fn, X)
    stats = moments(X, Y, weights, full=use_gram)
    x_spread, y_spread, coords = _coordinates(stats, d, solver, fit_intercept)
    if use_gram:
        objective = GramObjective(stats, d, coords, loss_fn)
    else:
        objective = DataObjective(X, Y, weights / weights.sum(), coords, loss_fn)

    coef0, intercept0 = initial_point(coef_init, intercept_init, d, k, one_target)
    theta = coords.from_user(coef0, intercept0)
    lipschitz = max(objective.lipschitz(), np.finfo(float).tiny)
    step = 1.0 / lipschitz if learning_rate == "auto" else float(learning_rate)

    if solver == "cg":
        blocks = cg_iterates(objective, theta)
    elif solver == "agd":
        blocks = agd_iterates(objective, theta, step)
    else:
        fast = isinstance(objective, GramObjective) and coords.n_params <= _MAX_PARAMS_FOR_POWERS
        blocks = gd_iterates(objective, theta, step, fast)

    stop_test = _stop_test(coords, stats.mean[:d], x_spread, y_spread, lipschitz, tol)

    value0, grad0 = objective.value_and_gradient(theta)
    at_solution = tol is not None and bool(stop_test(theta, grad0))
    if at_solution:
        blocks = iter(())  # zero steps: the start already meets tol
    with np.errstate(all="ignore"):
        run = _drive(
            blocks,
            max_iter=max_iter,
            tol=tol,
            stop_test=stop_test if tol is not None else None,
            limit=_DIVERGENCE_FACTOR * max(value0, 1e-6 * loss_fn.factor * y_spread @ y_spread),
            keep_path=return_path,
            verbose=verbose,
        )
    thetas, losses, converged, diverged_at = run
    converged = converged or at_solution
    if diverged_at is not None:
        # Quote the bound to more digits than the step needed.
        lipschitz = max(objective.lipschitz(rtol=1e-10), np.finfo(float).tiny)
        bound = (2.0 if solver == "gd" else 1.0) / lipschitz
        raise DivergenceError(
            f"learning_rate={step:.6g} makes {solver!r} diverge: the {loss_fn.name} loss went "
            f"from {value0:.4g} to {diverged_at:.4g} in {len(losses) + 1} steps. The largest "
            f"stable step for this data and loss is {bound:.6g} "
            f"({'2/L' if solver == 'gd' else '1/L'}, L = {lipschitz:.6g} being the largest "
            "eigenvalue of the loss Hessian); use a smaller learning_rate or "
            "learning_rate='auto'.",
            losses,
        )
    n_iter = len(losses)
    if tol is None:
        message = f"ran max_iter={max_iter} steps (tol=None: no stopping test)"
    elif converged:
        message = f"converged: the step 1/L * gradient is below tol={tol:g} after {n_iter} steps"
    elif n_iter < max_iter:
        message = (
            f"stalled after {n_iter} steps: rounding errors dominate before the "
            f"tol={tol:g} criterion is met (the problem is too ill-conditioned for it)"
        )
    else:
        message = f"max_iter={max_iter} steps ran before the tol={tol:g} criterion was met"

    out = X.dtype if X.dtype == np.float32 else np.float64
    coef, intercept = coords.to_user(thetas[-1] if n_iter else theta)
    coef_path = intercept_path = None
    if return_path:
        path = np.concatenate([theta[None], thetas]) if n_iter else theta[None]

        cp, ip = coords.to_user(path)
        coef_path, intercept_path = to_sklearn_shapes(cp, ip, one_target, out)
    coef, intercept = to_sklearn_shapes(coef, intercept, one_target, out)
    return GDResult(
        coef=coef,
        intercept=intercept,
        n_iter=n_iter,
        converged=bool(converged),
        message=message,
        loss_history=np.asarray(losses, dtype=np.float64),
        learning_rate=float(step),
        solver=solver,
        coef_path=coef_path,
        intercept_path=intercept_path,
    )


def _stop_test(coords, x_mean, x_spread, y_spread, lipschitz, tol):
    """The ``tol`` criterion, vectorised over stacked iterates; see ``GDLinearRegressor``.

    The safe step ``grad / L`` is mapped to the user's coefficients and intercept and measured
    in units of y. Each test also allows the rounding floor of what it measures, so that any
    ``tol >= 0`` is attainable (``tol=0`` means "to rounding"): the gradient carries an error of
    a few eps times the coefficients, and the intercept, recovered as ``mean(y) - mean(x) @ w``,
    that error amplified by ``|mean(x)| / std(x)``.
    """
    eps = np.finfo(np.float64).eps
    noise = 16 * eps * np.sqrt(x_spread.size)
    spread = np.where(x_spread > 0, x_spread, np.inf)
    amplification = 1.0 + np.sum(np.abs(x_mean) / spread)
    y_floor = eps * y_spread

    def test(thetas, grads):
        dw, db = coords.step_to_user(grads / lipschitz)
        w, b = coords.to_user(thetas)
        v = np.abs(w * x_spread[:, None]).max(axis=-2)
        dv = np.abs(dw * x_spread[:, None]).max(axis=-2)
        ok_coef = dv <= (tol + noise) * v + y_floor
        ok_intercept = np.abs(db) <= (
            tol * np.maximum(np.abs(b), v) + noise * amplification * v + y_floor
        )
        return (ok_coef & ok_intercept).all(axis=-1)

    return test


def _drive(blocks, *, max_iter, tol, stop_test, limit, keep_path, verbose):
    """Consume blocks of iterates: count steps, stop on ``tol``, catch divergence, record."""
    losses, kept = [], []
    done, converged = 0, False
    every = max(1, max_iter // 10)
    last = None
    for thetas, values, grads in blocks:
        take = min(len(values), max_iter - done)
        thetas, values, grads = thetas[:take], np.asarray(values[:take]), grads[:take]
        bad = ~np.isfinite(values) | (values > limit)
        if bad.any():
            first = int(np.argmax(bad))
            losses.extend(values[:first].tolist())
            return None, np.asarray(losses), False, float(values[first])
        if stop_test is not None:
            ok = stop_test(thetas, grads)
            if ok.any():
                cut = int(np.argmax(ok)) + 1
                thetas, values, grads, converged = thetas[:cut], values[:cut], grads[:cut], True
        if verbose:
            for i in range(len(values)):
                if (done + i + 1) % every == 0 or (converged and i == len(values) - 1):
                    gnorm = float(np.sqrt(np.sum(grads[i] ** 2)))
                    print(f"step {done + i + 1:>8d}  loss {values[i]:.10g}  |grad| {gnorm:.3e}")
        losses.extend(values.tolist())
        if keep_path:
            kept.append(thetas)
        last = thetas[-1:]
        done += len(values)
        if converged or done >= max_iter:
            break
    if keep_path:
        last = np.concatenate(kept) if kept else None
    return last, np.asarray(losses), converged, None


def _check_solver(solver, learning_rate, loss_fn):
    if solver not in SOLVERS:
        raise ValueError(f"solver={solver!r} is not a known solver; use one of {SOLVERS}.")
    if isinstance(learning_rate, str):
        if learning_rate != "auto":
            raise ValueError(
                f"learning_rate={learning_rate!r} is not valid; use a float > 0 or 'auto'."
            )
    elif not (np.isscalar(learning_rate) and np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a float > 0 or 'auto'; got {learning_rate!r}.")
    if solver == "cg" and learning_rate != "auto":
        raise ValueError(
            "solver='cg' chooses its own steps by exact line search; use "
            "learning_rate='auto' with it, or solver='agd' for a fixed step."
        )
    if solver == "auto":
        return "cg" if learning_rate == "auto" and loss_fn.is_quadratic else "agd"
    return solver


def _use_gram(precompute, loss_fn, X):
    if precompute == "auto":
        return loss_fn.is_quadratic and prefer_gram(X)
    if precompute is True and not loss_fn.is_quadratic:
        raise ValueError("precompute=True needs a quadratic loss (half_mse or mse).")
    if not isinstance(precompute, bool):
        raise ValueError(f"precompute must be 'auto', True or False; got {precompute!r}.")
    return precompute


def _coordinates(stats, d, solver, fit_intercept):
    """Spread of each column (for the stopping test) and the solver's coordinates."""
    var = (
        np.diagonal(stats.scatter) / stats.weight_sum
        if stats.scatter.ndim == 2
        else (stats.scatter / stats.weight_sum)
    )
    mean = stats.mean
    second = var if fit_intercept else var + mean * mean
    spread = np.sqrt(second)
    x_spread = spread[:d]
    # A column whose spread is rounding noise is constant: it gets no coefficient (scale inf),
    # instead of a huge one fitted to noise. After shifting, identical values centre to exact
    # zeros; rounding can only come from the distance between the shift and the mean.
    noise = 16 * np.finfo(np.float64).eps * np.abs(mean - stats.shift)[:d]
    constant = var[:d] <= noise * noise if fit_intercept else x_spread == 0
    y_offset = mean[d:] if fit_intercept else np.zeros(mean.size - d)
    if solver == "gd":
        coords = Coordinates(np.zeros(d), np.ones(d), np.zeros(mean.size - d), fit_intercept)
    else:
        scale = np.where(constant, np.inf, x_spread)
        coords = Coordinates(mean[:d] if fit_intercept else np.zeros(d), scale, y_offset, False)
    return np.where(constant, 0.0, x_spread), spread[d:], coords
