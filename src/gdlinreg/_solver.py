"""``gradient_descent``: the NumPy core under :class:`~gdlinreg.GDLinearRegressor`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn, cast

import numpy as np

from ._checks import (
    SOLVERS,
    check_arrays,
    check_options,
    confirm_magnitudes,
    initial_point,
    to_sklearn_shapes,
)
from ._driver import drive, no_improvement_test
from ._geometry import (
    condition_number,
    coordinates,
    diagonal_curvature,
    make_stop_test,
    minibatch_curvature,
)
from ._methods import (
    agd_iterates,
    cg_iterates,
    fixed_step_iterates,
    gd_iterates,
    ritz_top,
    sgd_iterates,
)
from ._objective import DataObjective, GramObjective, Moments, moments, prefer_gram
from ._problem import Problem
from ._refine import refine
from ._sparse import is_sparse
from .losses import HalfMSE, get_loss
from .penalties import get_penalty
from .schedules import Constant, get_schedule

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike, DTypeLike, NDArray

    from ._driver import Callback, ConvergedTest, Outcome
    from ._objective import Coordinates
    from ._typing import (
        ArrayData,
        Blocks,
        DataSource,
        FloatArray,
        LearningRate,
        Loss,
        Matrix,
        MiniBatchSource,
        Objective,
        Penalty,
        Prepared,
        QuadraticLoss,
        Value,
    )

    #: ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``.
    Validation = tuple[Matrix, ArrayLike] | tuple[Matrix, ArrayLike, ArrayLike | None]
    #: The user's ``callback(iteration, coef, intercept, loss)``; a true return stops the fit.
    UserCallback = Callable[[int, FloatArray, FloatArray | np.floating[Any], float], object]
    RandomState = int | np.random.RandomState | np.random.Generator | None

__all__ = ["SOLVERS", "DivergenceError", "GDResult", "gradient_descent"]


# The affine-power trick for fixed steps pays only for small problems, whose cost is
# otherwise Python's per-call overhead, not arithmetic.
# Flat directions come from an eigendecomposition of the p x p Gram matrix (p^3 flops).
_MAX_PARAMS_FOR_REFINE = 512
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
    X: Matrix,
    y: ArrayLike,
    sample_weight: ArrayLike | None,
    *,
    loss: str | Loss,
    epsilon: float,
    penalty: str | Penalty | None,
    alpha: float,
    l1_ratio: float,
    positive: bool,
    solver: str,
    learning_rate: LearningRate,
    max_iter: int,
    tol: float | None,
    momentum: float,
    line_search: bool,
    batch_size: int | None,
    n_iter_no_change: int,
    precompute: bool | str,
) -> Prepared:
    """Check the data and options and build the statistics: everything before the loop.

    Returns the keyword arguments of :func:`solve` that describe the problem.
    """
    X, Y, one_target, weights = check_arrays(X, y, sample_weight, defer=True)
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
    # NaN, infinity and extreme values pass through the moments harmlessly (rounding aside):
    # confirm_magnitudes then finds them, or proves there are none, at no extra pass over X.
    with np.errstate(all="ignore"):
        stats = moments(X, Y, weights, full=use_gram)
    confirm_magnitudes(X, weights, stats, X.shape[1])
    return {
        "stats": stats,
        "data": (X, Y, weights / weights.sum()),
        "method": method,
        "fixed": fixed,
        "one_target": one_target,
        "dtype": X.dtype,
        "use_gram": use_gram,
        "loss": loss_fn,
        "penalty": pen,
    }


def solve(
    stats: Moments,
    data: ArrayData | DataSource | None,
    *,
    method: str,
    fixed: bool,
    n_targets: int | None = None,
    one_target: bool,
    dtype: DTypeLike,
    use_gram: bool,
    loss: Loss,
    penalty: Penalty | None,
    learning_rate: LearningRate,
    max_iter: int,
    tol: float | None,
    fit_intercept: bool,
    coef_init: ArrayLike | None,
    intercept_init: ArrayLike | None,
    return_path: bool,
    verbose: int,
    positive: bool,
    momentum: float,
    nesterovs_momentum: bool,
    line_search: bool,
    batch_size: int | None,
    shuffle: bool,
    random_state: RandomState,
    validation: Validation | Moments | None,
    n_iter_no_change: int,
    callback: UserCallback | None,
    start_step: int,
) -> GDResult:
    """Run ``method`` on prepared statistics: the part of :func:`gradient_descent` that
    ``partial_fit`` reuses on accumulated statistics (then ``data`` is None, Gram form only)."""
    # Without n_targets, data are the in-memory arrays (partial_fit and Dask pass n_targets).
    k = n_targets if n_targets is not None else cast("ArrayData", data)[1].shape[1]
    d = stats.mean.size - k
    ridge = 0.0 if penalty is None else penalty.l2 / loss.curvature
    x_spread, y_spread, coords = coordinates(
        stats, d, method, fit_intercept, loss.is_quadratic, ridge
    )
    objective: Objective
    if use_gram:  # (prepare chose the Gram form only for a quadratic loss)
        objective = GramObjective(stats, d, coords, cast("QuadraticLoss", loss))
    elif hasattr(data, "objective"):  # data that build their own objective (Dask chunks)
        objective = cast("DataSource", data).objective(coords, loss)
    else:
        objective = DataObjective(*cast("ArrayData", data), coords, loss)
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
    stream = _streamed(data) if method == "sgd" else None
    # Conjugate gradients need no step size: on the data form, where the curvature bound L
    # costs tens of passes, the learning_rate_ it reports comes from CG's own Lanczos
    # coefficients instead (ritz_top), after the run.
    lanczos: list[tuple[FloatArray, FloatArray]] | None = None
    if method == "cg" and problem.objective.reads_data:
        lanczos, lipschitz = [], np.nan
    else:
        lipschitz = max(problem.lipschitz(), np.finfo(float).tiny)
    schedule, initial = (Constant(), None) if fixed else get_schedule(learning_rate)
    if fixed and learning_rate != "auto":
        base = float(cast(float, learning_rate))  # fixed, not 'auto': a number
    elif initial is not None:
        base = float(initial)
    elif method == "sgd":
        if stream is not None:  # Dask chunks know their own bound
            bound = stream.minibatch_curvature(coords, loss, lipschitz, _batch(batch_size))
        else:
            bound = minibatch_curvature(_arrays(data), coords, loss, lipschitz, _batch(batch_size))
        base = 1.0 / bound
    else:
        base = 1.0 / lipschitz

    blocks: Blocks
    if method == "cg":
        blocks = cg_iterates(problem, theta, lanczos)
    elif method == "agd":
        blocks = agd_iterates(
            problem, theta, base, line_search=line_search, safe_step=1.0 / lipschitz
        )
    elif method == "sgd":
        # Dask chunks stream themselves through the same epochs.
        iterates: Callable[..., Blocks] = (
            stream.sgd_iterates if stream is not None else partial(sgd_iterates, _arrays(data))
        )
        blocks = iterates(
            coords,
            loss,
            penalty,
            positive,
            theta,
            base,
            schedule,
            batch_size=_batch(batch_size),
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
    converged_test: ConvergedTest | None = None
    if tol is not None and method == "sgd":
        converged_test = no_improvement_test(tol, n_iter_no_change)
    elif tol is not None:

        def tol_test(
            thetas: FloatArray, values: FloatArray, grads: FloatArray | None
        ) -> NDArray[np.bool_]:
            # The full-batch methods always yield their gradients.
            steps = problem.gradient_map(thetas, cast("FloatArray", grads), curvature)
            return stop_test(thetas, steps)

        converged_test = tol_test

    value0, grad0 = problem.value_and_gradient(theta)
    at_solution = (
        converged_test is not None
        and method != "sgd"
        and bool(stop_test(theta, problem.gradient_map(theta, grad0, curvature)))
    )
    if at_solution:
        blocks = iter(())  # zero steps: the start already meets tol
    score = _validation_score(validation, coords, use_gram, d, k)
    user_callback: Callback | None = None
    if callback is not None:

        def call_user(i: int, th: FloatArray, value: float) -> object:
            c, b = to_sklearn_shapes(*coords.to_user(th), one_target, np.float64)
            return callback(i, c, b, value)

        user_callback = call_user

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
    if (
        run.reason in ("tol", "stalled")
        and tol is not None
        and use_gram
        and method in ("cg", "agd")
        and score is None
        and penalty is None
        and not positive
        and isinstance(data, tuple)
        and not is_sparse(data[0])
        and coords.n_params <= _MAX_PARAMS_FOR_REFINE
        and isinstance(objective, GramObjective)
    ):
        _refine_on_data(run, objective, data, coords, theta, factor)
    if lanczos is not None:
        top = ritz_top(lanczos)
        base = 1.0 / (top if top > 0 else max(problem.lipschitz(), np.finfo(float).tiny))
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
        coef_path, path_b = to_sklearn_shapes(*coords.to_user(path), one_target, out)
        intercept_path = np.asarray(path_b)  # (of a stack: an array already)
    n_updates = n_iter
    if method == "sgd":
        per_epoch = (
            stream.updates_per_epoch(_batch(batch_size))
            if stream is not None
            else -(-_arrays(data)[0].shape[0] // _batch(batch_size))
        )
        n_updates = n_iter * per_epoch
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


def _refine_on_data(
    run: Outcome,
    objective: GramObjective,
    data: ArrayData,
    coords: Coordinates,
    theta: FloatArray,
    factor: float,
) -> None:
    """Iterative refinement of an ill-conditioned Gram-form fit on the data (``_refine``):
    each improving iterate counts as a step; "stalled" if gains remain after its passes."""
    start = run.last if run.last is not None else theta
    refined = refine(*data, coords, start, objective.A)
    if refined is None:  # conditioned well enough for the Gram form alone
        return
    thetas, mses, done = refined
    if thetas:
        run.last = thetas[-1]
        run.losses.extend(factor * m for m in mses)
        # (read only when the path is kept; None there means no steps before these)
        steps = np.stack(thetas)
        run.path = steps if run.path is None else np.concatenate([run.path, steps])
    run.reason = "tol" if done else "stalled"


def _arrays(data: ArrayData | DataSource | None) -> ArrayData:
    # Mini-batches on data that do not stream themselves (_streamed) run on in-memory arrays.
    return cast("ArrayData", data)


def _streamed(data: ArrayData | DataSource | None) -> MiniBatchSource | None:
    # Data that run their own mini-batch epochs (Dask's row chunks, _dask_stream.ChunkStream);
    # the cast: hasattr cannot narrow to the protocol, whose methods this is the test for.
    return cast("MiniBatchSource", data) if hasattr(data, "sgd_iterates") else None


def _batch(batch_size: int | None) -> int:
    # The "sgd" method is chosen only with a batch size.
    return cast(int, batch_size)


def _generator(random_state: RandomState) -> np.random.Generator:
    """A Generator for None, an int, a Generator or a RandomState: NumPy < 2's default_rng
    refuses a RandomState; wrapping its bit generator is what NumPy 2 does."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state._bit_generator)
    return np.random.default_rng(random_state)


def _validation_score(
    validation: Validation | Moments | None, coords: Coordinates, use_gram: bool, d: int, k: int
) -> Callable[[FloatArray], FloatArray] | None:
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
    objective: Objective
    if use_gram:
        objective = GramObjective(stats, d, coords, HalfMSE())
    else:
        objective = DataObjective(Xv, Yv, wv / wv.sum(), coords, HalfMSE())
    scatter = stats.scatter if stats.scatter.ndim == 1 else np.diagonal(stats.scatter)
    total = float(np.sum(scatter[d:]) / stats.weight_sum)

    def score(thetas: FloatArray) -> FloatArray:
        if use_gram:
            values = objective.value_and_gradient(thetas)[0]
        else:
            values = np.array([objective.value_and_gradient(t)[0] for t in thetas])
        errors = 2.0 * np.asarray(values)  # half-MSE is half the mean squared error
        if total == 0:  # a constant y_val: scikit-learn's r2_score convention
            return np.where(errors == 0, 1.0, 0.0)
        return 1.0 - errors / total

    return score


def _raise_divergence(
    run: Outcome, problem: Problem, method: str, loss: Loss, base: float, value0: Value
) -> NoReturn:
    # Quote the bound to more digits than the step needed.
    lipschitz = max(problem.lipschitz(rtol=1e-10), np.finfo(float).tiny)
    plain = method in ("gd", "sgd")
    bound = (2.0 if plain else 1.0) / lipschitz
    step = run.steps[-1] if run.steps else base
    where = (
        " for full batches; mini-batch gradients are noisier and can need smaller steps"
        if method == "sgd"
        else ""
    )
    raise DivergenceError(
        f"learning_rate={step:.6g} makes {method!r} diverge: the {loss.name} loss went "
        f"from {value0:.4g} to {run.diverged_at:.4g} in {_count(len(run.losses) + 1, method)}. The "
        f"largest stable step for this data and loss is {bound:.6g} "
        f"({'2/L' if plain else '1/L'}, L = {lipschitz:.6g} being the largest eigenvalue of "
        f"the loss Hessian){where}; use a smaller learning_rate or learning_rate='auto'.",
        np.asarray(run.losses),
    )


def _count(n: int, method: str) -> str:
    """``n`` iterations in words: "1 step", "3 steps", "1 epoch" (mini-batches)."""
    unit = "epoch" if method == "sgd" else "step"
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _message(reason: str, n_iter: int, max_iter: int, tol: float | None, method: str) -> str:
    criterion = "no stopping test (tol=None)" if tol is None else f"the tol={tol:g} criterion"
    ran = _count(n_iter, method)
    if reason == "tol":
        return f"converged: {criterion} was met after {ran}"
    if reason == "max_iter":
        limit = f"max_iter={_count(max_iter, method)}"
        if tol is None:
            return f"ran {limit} (tol=None: no stopping test)"
        return f"{limit} ran before {criterion} was met"
    if reason == "early_stopping":
        return (
            f"early stopping: the validation score stopped improving; {ran} ran "
            "and the best iterate is returned"
        )
    if reason == "callback":
        return f"a callback stopped the fit after {ran}"
    return (
        f"stalled after {ran}: rounding errors dominate before {criterion} is "
        "met (the problem is too ill-conditioned for it)"
    )


def _use_gram(precompute: bool | str, loss_fn: Loss, X: Matrix) -> bool:
    if precompute == "auto":
        return loss_fn.is_quadratic and prefer_gram(X)
    if precompute is True and not loss_fn.is_quadratic:
        raise ValueError("precompute=True needs a quadratic loss (half_mse or mse).")
    if not isinstance(precompute, bool):
        raise ValueError(f"precompute must be 'auto', True or False; got {precompute!r}.")
    return precompute
