"""``gradient_descent``: the NumPy core under :class:`~gdlinreg.GDLinearRegressor`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from ._checks import SOLVERS, check_arrays, check_options, initial_point, to_sklearn_shapes
from ._driver import drive, no_improvement_test
from ._geometry import (
    condition_number,
    coordinates,
    diagonal_curvature,
    make_stop_test,
    minibatch_curvature,
)
from ._methods import agd_iterates, cg_iterates, fixed_step_iterates, gd_iterates, sgd_iterates
from ._objective import DataObjective, GramObjective, Moments, moments, prefer_gram
from ._problem import Problem
from .losses import HalfMSE, get_loss
from .penalties import get_penalty
from .schedules import Constant, get_schedule

__all__ = ["SOLVERS", "DivergenceError", "GDResult", "gradient_descent"]


# The affine-power trick for fixed steps pays only for small problems, whose cost is
# otherwise Python's per-call overhead, not arithmetic.
_MAX_PARAMS_FOR_POWERS = 16
# A loss this many times above its start (or non-finite) means the iteration diverges.
_DIVERGENCE_FACTOR = 1e4


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
        Iterations: steps for the full-batch solvers, epochs for mini-batches.
    converged : bool
        True only if the ``tol`` criterion was met (for mini-batches: no improvement of the
        epoch loss by more than ``tol`` for ``n_iter_no_change`` epochs); False with
        ``tol=None``, and when early stopping or a callback ended the fit.
    message : str
        Why the iteration stopped, in words.
    loss_history : ndarray of shape (n_iter,)
        The objective (loss plus penalty) after every iteration; for mini-batches, the mean
        of the epoch's batch objectives.
    learning_rate : float
        The last step size used; for "cg" (whose steps come from exact line searches) the
        step 1/L that plain gradient descent would use on the same problem.
    solver : str
        The solver that ran ("gd", "sgd", "cg" or "agd").
    stop_reason : str
        "tol", "max_iter", "early_stopping", "callback" or "stalled" (rounding errors
        dominate before ``tol`` is met).
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
    intercept: float | np.ndarray
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
    epsilon=1.35,
    penalty=None,
    alpha=1e-4,
    l1_ratio=0.15,
    positive=False,
    momentum=0.0,
    nesterovs_momentum=False,
    line_search=False,
    batch_size=None,
    shuffle=True,
    random_state=None,
    validation=None,
    n_iter_no_change=5,
    callback=None,
    start_step=0,
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
    prepared = prepare(
        X,
        y,
        sample_weight,
        loss=loss,
        epsilon=epsilon,
        penalty=penalty,
        alpha=alpha,
        l1_ratio=l1_ratio,
        positive=positive,
        solver=solver,
        learning_rate=learning_rate,
        max_iter=max_iter,
        tol=tol,
        momentum=momentum,
        line_search=line_search,
        batch_size=batch_size,
        n_iter_no_change=n_iter_no_change,
        precompute=precompute,
    )
    return solve(
        **prepared,
        learning_rate=learning_rate,
        max_iter=max_iter,
        tol=tol,
        fit_intercept=fit_intercept,
        coef_init=coef_init,
        intercept_init=intercept_init,
        return_path=return_path,
        verbose=verbose,
        positive=positive,
        momentum=momentum,
        nesterovs_momentum=nesterovs_momentum,
        line_search=line_search,
        batch_size=batch_size,
        shuffle=shuffle,
        random_state=random_state,
        validation=validation,
        n_iter_no_change=n_iter_no_change,
        callback=callback,
        start_step=start_step,
    )


def prepare(
    X,
    y,
    sample_weight,
    *,
    loss,
    epsilon,
    penalty,
    alpha,
    l1_ratio,
    positive,
    solver,
    learning_rate,
    max_iter,
    tol,
    momentum,
    line_search,
    batch_size,
    n_iter_no_change,
    precompute,
):
    """Check the data and options and build the statistics: everything before the loop.

    Returns the keyword arguments of :func:`solve` that describe the problem.
    """
    X, Y, one_target, weights = check_arrays(X, y, sample_weight)
    loss_fn = get_loss(loss, epsilon=epsilon)
    pen = get_penalty(penalty, alpha, l1_ratio)
    method, fixed = check_options(
        solver=solver,
        learning_rate=learning_rate,
        loss=loss_fn,
        penalty=pen,
        positive=positive,
        max_iter=max_iter,
        tol=tol,
        momentum=momentum,
        line_search=line_search,
        batch_size=batch_size,
        n_iter_no_change=n_iter_no_change,
    )
    use_gram = method != "sgd" and _use_gram(precompute, loss_fn, X)
    return dict(
        stats=moments(X, Y, weights, full=use_gram),
        data=(X, Y, weights / weights.sum()),
        method=method,
        fixed=fixed,
        one_target=one_target,
        dtype=X.dtype,
        use_gram=use_gram,
        loss=loss_fn,
        penalty=pen,
    )


def solve(
    stats,
    data,
    *,
    method,
    fixed,
    n_targets=None,
    one_target,
    dtype,
    use_gram,
    loss,
    penalty,
    learning_rate,
    max_iter,
    tol,
    fit_intercept,
    coef_init,
    intercept_init,
    return_path,
    verbose,
    positive,
    momentum,
    nesterovs_momentum,
    line_search,
    batch_size,
    shuffle,
    random_state,
    validation,
    n_iter_no_change,
    callback,
    start_step,
):
    """Run ``method`` on prepared statistics: the part of :func:`gradient_descent` that
    ``partial_fit`` reuses on accumulated statistics (then ``data`` is None, Gram form only)."""
    k = n_targets if n_targets is not None else data[1].shape[1]
    d = stats.mean.size - k
    ridge = 0.0 if penalty is None else penalty.l2 / loss.curvature
    x_spread, y_spread, coords = coordinates(
        stats, d, method, fit_intercept, loss.is_quadratic, ridge
    )
    if use_gram:
        objective = GramObjective(stats, d, coords, loss)
    elif hasattr(data, "objective"):  # data that build their own objective (Dask chunks)
        objective = data.objective(coords, loss)
    else:
        objective = DataObjective(*data, coords, loss)
    problem = Problem(objective, coords, penalty, positive)
    epsilon = getattr(loss, "epsilon", None)
    if epsilon is not None and epsilon < 1e-8 * float(np.max(y_spread, initial=0.0)):
        raise ValueError(
            f"epsilon={epsilon:g} is below 1e-8 times the spread of y ({np.max(y_spread):.3g}): "
            "the Huber gradient would vanish under rounding. Use a larger epsilon (it is in "
            "the units of y)."
        )

    coef0, intercept0 = initial_point(coef_init, intercept_init, d, k, one_target)
    theta = coords.from_user(coef0, intercept0)
    lipschitz = max(problem.lipschitz(), np.finfo(float).tiny)
    schedule, initial = (Constant(), None) if fixed else get_schedule(learning_rate)
    if fixed and learning_rate != "auto":
        base = float(learning_rate)
    elif initial is not None:
        base = float(initial)
    elif method == "sgd":
        bound = getattr(data, "minibatch_curvature", None)  # Dask chunks know their own
        if bound is None:
            bound = partial(minibatch_curvature, data)
        base = 1.0 / bound(coords, loss, lipschitz, batch_size)
    else:
        base = 1.0 / lipschitz

    if method == "cg":
        blocks = cg_iterates(problem, theta)
    elif method == "agd":
        blocks = agd_iterates(
            problem, theta, base, line_search=line_search, safe_step=1.0 / lipschitz
        )
    elif method == "sgd":
        # Dask chunks stream themselves through the same epochs.
        iterates = getattr(data, "sgd_iterates", None) or partial(sgd_iterates, data)
        blocks = iterates(
            coords,
            loss,
            penalty,
            positive,
            theta,
            base,
            schedule,
            batch_size=batch_size,
            shuffle=shuffle,
            rng=_generator(random_state),
            momentum=momentum,
            nesterov=nesterovs_momentum,
            t0=start_step,
        )
    elif (
        use_gram
        and problem.smooth
        and not problem.l2
        and fixed
        and not momentum
        and not line_search
        and coords.n_params <= _MAX_PARAMS_FOR_POWERS
    ):
        blocks = fixed_step_iterates(problem, theta, base)
    else:
        blocks = gd_iterates(
            problem,
            theta,
            base,
            schedule,
            momentum=momentum,
            nesterov=nesterovs_momentum,
            line_search=line_search,
            safe_step=1.0 / lipschitz,
            t0=start_step,
        )

    # The test measures Newton-like steps grad_j / H_jj (the Hessian's diagonal), not grad / L:
    # on badly scaled coordinates (textbook gd on raw data) grad / L is tiny along every
    # direction but the stiffest, and would stop far from the solution.
    curvature = diagonal_curvature(stats, d, coords, loss, problem)
    stop_test = make_stop_test(coords, stats, d, x_spread, y_spread, tol or 0.0)
    if tol is None:
        converged_test = None
    elif method == "sgd":
        converged_test = no_improvement_test(tol, n_iter_no_change)
    else:

        def converged_test(thetas, values, grads):
            return stop_test(thetas, problem.gradient_map(thetas, grads, curvature))

    value0, grad0 = problem.value_and_gradient(theta)
    at_solution = (
        converged_test is not None
        and method != "sgd"
        and bool(stop_test(theta, problem.gradient_map(theta, grad0, curvature)))
    )
    if at_solution:
        blocks = iter(())  # zero steps: the start already meets tol
    score = _validation_score(validation, coords, use_gram, d, k)
    user_callback = None
    if callback is not None:

        def user_callback(i, th, value):
            c, b = to_sklearn_shapes(*coords.to_user(th), one_target, np.float64)
            return callback(i, c, b, value)

    factor = getattr(loss, "factor", 0.5)
    with np.errstate(all="ignore"):
        run = drive(
            blocks,
            max_iter=max_iter,
            converged_test=converged_test,
            score=score,
            n_iter_no_change=n_iter_no_change,
            tol=tol or 0.0,
            callback=user_callback,
            limit=_DIVERGENCE_FACTOR * max(value0, 1e-6 * factor * y_spread @ y_spread),
            keep_path=return_path,
            verbose=verbose,
            unit="epoch" if method == "sgd" else "step",
        )
    if run.reason == "diverged":
        _raise_divergence(run, problem, method, loss, base, value0)
    if at_solution:
        run.reason = "tol"
    n_iter = len(run.losses)
    final = run.last if run.last is not None else theta
    best_iter = None
    if score is not None and run.best_theta is not None:
        final, best_iter = run.best_theta, run.best_iter
    out = dtype if dtype == np.float32 else np.float64
    coef, intercept = to_sklearn_shapes(*coords.to_user(final), one_target, out)
    coef_path = intercept_path = None
    if return_path:
        path = theta[None] if run.path is None else np.concatenate([theta[None], run.path])
        coef_path, intercept_path = to_sklearn_shapes(*coords.to_user(path), one_target, out)
    n_updates = n_iter
    if method == "sgd":
        per_epoch = getattr(data, "updates_per_epoch", None)
        n_updates = n_iter * (
            per_epoch(batch_size) if per_epoch else -(-data[0].shape[0] // batch_size)
        )
    return GDResult(
        coef=coef,
        intercept=intercept,
        n_iter=n_iter,
        converged=run.reason == "tol",
        message=_message(run.reason, n_iter, max_iter, tol, method),
        loss_history=np.asarray(run.losses, dtype=np.float64),
        learning_rate=float(run.steps[-1] if method != "cg" and run.steps else base),
        solver=method,
        stop_reason=run.reason,
        n_updates=n_updates,
        validation_scores=None if score is None else np.asarray(run.scores),
        best_iter=best_iter,
        condition_number=condition_number(stats, d, fit_intercept, penalty, loss),
        coef_path=coef_path,
        intercept_path=intercept_path,
    )


def _generator(random_state):
    """A Generator for None, an int, a Generator or a RandomState: NumPy < 2's default_rng
    refuses a RandomState; wrapping its bit generator is what NumPy 2 does."""
    if isinstance(random_state, np.random.RandomState):
        random_state = random_state._bit_generator
    return np.random.default_rng(random_state)


def _validation_score(validation, coords, use_gram, d, k):
    """R^2 on a validation set (pooled over targets), vectorised over stacked iterates."""
    if validation is None:
        return None
    if isinstance(validation, Moments):  # Dask: the validation set's full moments
        stats, use_gram = validation, True
    else:
        X_val, y_val, *rest = validation
        Xv, Yv, _, wv = check_arrays(X_val, y_val, rest[0] if rest else None)
        if Xv.shape[1] != d:
            raise ValueError(f"X_val has {Xv.shape[1]} features; the training X has {d}.")
        if Yv.shape[1] != k:
            raise ValueError(f"y_val has {Yv.shape[1]} target(s); the training y has {k}.")
        stats = moments(Xv, Yv, wv, full=use_gram)
    if use_gram:
        objective = GramObjective(stats, d, coords, HalfMSE())
    else:
        objective = DataObjective(Xv, Yv, wv / wv.sum(), coords, HalfMSE())
    scatter = stats.scatter if stats.scatter.ndim == 1 else np.diagonal(stats.scatter)
    total = float(np.sum(scatter[d:]) / stats.weight_sum)

    def score(thetas):
        if use_gram:
            values = objective.value_and_gradient(thetas)[0]
        else:
            values = np.array([objective.value_and_gradient(t)[0] for t in thetas])
        errors = 2.0 * np.asarray(values)  # half-MSE is half the mean squared error
        if total == 0:  # a constant y_val: scikit-learn's r2_score convention
            return np.where(errors == 0, 1.0, 0.0)
        return 1.0 - errors / total

    return score


def _raise_divergence(run, problem, method, loss, base, value0):
    # Quote the bound to more digits than the step needed.
    lipschitz = max(problem.lipschitz(rtol=1e-10), np.finfo(float).tiny)
    plain = method in ("gd", "sgd")
    bound = (2.0 if plain else 1.0) / lipschitz
    step = run.steps[-1] if run.steps else base
    unit = "epochs" if method == "sgd" else "steps"
    where = (
        " for full batches; mini-batch gradients are noisier and can need smaller steps"
        if method == "sgd"
        else ""
    )
    raise DivergenceError(
        f"learning_rate={step:.6g} makes {method!r} diverge: the {loss.name} loss went "
        f"from {value0:.4g} to {run.diverged_at:.4g} in {len(run.losses) + 1} {unit}. The "
        f"largest stable step for this data and loss is {bound:.6g} "
        f"({'2/L' if plain else '1/L'}, L = {lipschitz:.6g} being the largest eigenvalue of "
        f"the loss Hessian){where}; use a smaller learning_rate or learning_rate='auto'.",
        np.asarray(run.losses),
    )


def _message(reason, n_iter, max_iter, tol, method):
    unit = "epochs" if method == "sgd" else "steps"
    criterion = "no stopping test (tol=None)" if tol is None else f"the tol={tol:g} criterion"
    if reason == "tol":
        return f"converged: {criterion} was met after {n_iter} {unit}"
    if reason == "max_iter":
        if tol is None:
            return f"ran max_iter={max_iter} {unit} (tol=None: no stopping test)"
        return f"max_iter={max_iter} {unit} ran before {criterion} was met"
    if reason == "early_stopping":
        return (
            f"early stopping: the validation score stopped improving; {n_iter} {unit} ran "
            "and the best iterate is returned"
        )
    if reason == "callback":
        return f"a callback stopped the fit after {n_iter} {unit}"
    return (
        f"stalled after {n_iter} {unit}: rounding errors dominate before {criterion} is "
        "met (the problem is too ill-conditioned for it)"
    )


def _use_gram(precompute, loss_fn, X):
    if precompute == "auto":
        return loss_fn.is_quadratic and prefer_gram(X)
    if precompute is True and not loss_fn.is_quadratic:
        raise ValueError("precompute=True needs a quadratic loss (half_mse or mse).")
    if not isinstance(precompute, bool):
        raise ValueError(f"precompute must be 'auto', True or False; got {precompute!r}.")
    return precompute
