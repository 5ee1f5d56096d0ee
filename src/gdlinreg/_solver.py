"""``gradient_descent``: the NumPy core under :class:`~gdlinreg.GDLinearRegressor`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, cast

import numpy as np

from ._data.arrays import ArraySource, form_objective, refinement_rows, validation_score
from ._loop.cg import ritz_top
from ._loop.driver import drive, stop_proposal
from ._loop.geometry import condition_number, diagonal_curvature, make_stop_test
from ._loop.messages import count, ignored_intercept, stop_message
from ._loop.methods import METHODS
from ._loop.options import DEFAULTS, SOLVERS, Options
from ._loop.polish import Polish, confirm
from ._loop.problem import Problem
from ._loop.refine import refine_outcome
from ._loop.run import Run
from ._problem.coordinates import coordinates, initial_point, to_sklearn_shapes
from ._problem.gram import GramObjective
from .schedules import Constant, get_schedule

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike, NDArray

    from ._kernels.types import Blocks, FloatArray, LearningRate, Matrix, Value
    from ._loop.driver import Callback, ConvergedTest, Outcome
    from ._loop.run import Method
    from ._problem.coordinates import Coordinates
    from ._problem.statistics import Moments
    from ._protocols.registry import Loss, Penalty
    from ._protocols.source import Batches, Source

    #: ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``.
    Validation = tuple[Matrix, ArrayLike] | tuple[Matrix, ArrayLike, ArrayLike | None]
    #: The user's ``callback(iteration, coef, intercept, loss)``; a true return stops the fit.
    UserCallback = Callable[[int, FloatArray, FloatArray | np.floating[Any], float], object]
    #: Called once the statistics are built, just before the loop: the callback to run.
    Callbacks = Callable[[], UserCallback | None]
    RandomState = int | np.random.RandomState | np.random.Generator | None

__all__ = ["SOLVERS", "DivergenceError", "GDResult", "Start", "gradient_descent", "solve"]


# Flat directions come from an eigendecomposition of the p x p Gram matrix (p^3 flops).
_MAX_PARAMS_FOR_REFINE = 512
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
    start = Start(coef_init, intercept_init, start_step)
    return solve(source, options, start, lambda: callback)[0]


@dataclass(frozen=True)
class Start:
    """Where a fit starts: coefficients and intercept (None: zeros), and the step counter
    of its schedule. ``label`` names what continues a fitted model ("partial_fit",
    "warm_start=True"), for the message when its shape does not match the data."""

    coef: ArrayLike | None = None
    intercept: ArrayLike | None = None
    step: int = 0
    label: str | None = None


def solve(
    source: Source, options: Options, start: Start, callbacks: Callbacks | None = None
) -> tuple[GDResult, Moments | None]:
    """Fit ``source`` as ``options`` say, from ``start``: the one path of every fit.

    Picks the objective form (Gram or data) and the method from :data:`METHODS`, finds the
    step, and runs the driver. Returns the result and, for the Gram form, the statistics
    (which ``partial_fit`` merges with those of its next batch)."""
    options = options.for_source(source)
    method, loss, gram = METHODS[options.method], options.loss, options.gram
    stats = source.statistics(full=gram, minibatch=method.batches)
    user = callbacks() if callbacks is not None else None
    d, k = source.n_features, source.n_targets
    ridge = 0.0 if options.penalty is None else options.penalty.l2 / loss.curvature
    standard = method.standardised
    x_spread, y_spread, coords = coordinates(
        stats, d, standard, options.fit_intercept, loss.is_quadratic, ridge
    )
    form = "gram" if gram else "batches" if method.batches else "data"
    objective = form_objective(source, stats, coords, loss, form)
    problem = Problem(objective, coords, options.penalty, options.constraint)
    check_scale = getattr(loss, "check_scale", None)  # (optional: a loss's own parameters)
    if check_scale is not None:
        check_scale(y_spread)
    theta = coords.from_user(*initial_point(start.coef, start.intercept, d, k, source.one_target))
    if start.intercept is not None and start.label is None and standard and options.fit_intercept:
        ignored_intercept(method.name)
    run = _prepare_run(problem, coords, theta, method, options, source, gram, start.step)
    # The test measures Newton-like steps grad_j / H_jj (the Hessian's diagonal), not grad / L:
    # on badly scaled coordinates (textbook gd on raw data) grad / L is tiny along every
    # direction but the stiffest, and would stop far from the solution.
    curvature = diagonal_curvature(stats, d, coords, loss, problem)
    stop_test = make_stop_test(coords, stats, d, x_spread, y_spread, options.tol or 0.0)
    converged_test = _converged_test(options, method, problem, stop_test, curvature)
    score = validation_score(source, coords, gram)
    polish = None
    if gram and method.own_steps and converged_test is not None and score is None:
        # Past tol to the accuracy of the statistics: a step here is O(p^2) (_loop.polish).
        gram_form = cast("GramObjective", objective)
        converged_test = polish = Polish(converged_test, gram_form, coords.n_params)
    value0, grad0 = problem.value_and_gradient(theta)
    factor = 0.5 * loss.curvature  # (half the curvature: a squared loss's factor)
    at_solution = (
        converged_test is not None
        and polish is None
        and not method.batches
        and bool(stop_test(theta, problem.gradient_map(theta, grad0, curvature)))
    )
    blocks = iter(()) if at_solution else method.iterates(run)  # at_solution: zero steps
    # With a validation set, its score is the mini-batch stop ("early_stopping"), as in
    # scikit-learn's SGD; without one, the epoch loss proposes stops that are certified.
    if method.batches and not method.certified and options.tol is not None and score is None:
        blocks = _certified(blocks, run, stop_test, curvature)
    with np.errstate(all="ignore"):
        outcome = drive(
            blocks,
            max_iter=options.max_iter,
            converged_test=converged_test,
            score=score,
            n_iter_no_change=options.n_iter_no_change,
            tol=options.tol or 0.0,
            callback=_wrap_callback(user, coords, source.one_target),
            limit=_DIVERGENCE_FACTOR * max(value0, 1e-6 * factor * y_spread @ y_spread),
            keep_path=options.return_path,
            verbose=options.verbose,
            unit=method.unit,
        )
    if outcome.reason == "diverged":
        _raise_divergence(outcome, problem, method, loss, run.base, value0)
    if at_solution:
        outcome.reason = "tol"
    if polish is not None:
        outcome.reason = confirm(polish, outcome.reason, outcome.last, problem)
    if outcome.reason == "stalled" and options.tol is None and not method.batches:
        outcome.reason = _exact(outcome, problem, stop_test, curvature)
    passes = source.passes + objective.passes + (len(outcome.losses) if method.batches else 0)
    if gram and score is None:
        passes += _refine(outcome, problem, method, source, run)
    result = _result(outcome, run, method, options, source, stats, score is not None, passes)
    return result, stats if gram else None


def _refine(outcome: Outcome, problem: Problem, method: Method, source: Source, run: Run) -> int:
    """Iterative refinement on in-memory rows of a Gram-form fit (never mini-batches) that
    ended "tol" or "stalled" (:mod:`._loop.refine`); the passes over the data it made."""
    rows = refinement_rows(source)
    if (
        outcome.reason not in ("tol", "stalled")
        or not method.refines
        or problem.penalty is not None
        or problem.constraint is not None
        or rows is None
        or run.coords.n_params > _MAX_PARAMS_FOR_REFINE
    ):
        return 0
    # (the Gram form of in-memory rows: a GramObjective, whose A the refinement reads)
    gram_form = cast("GramObjective", problem.objective)
    return refine_outcome(
        outcome, gram_form.A, rows, run.coords, run.theta, run.options.loss, gram_form.spectrum
    )


def check_start(start: Start, source: Source) -> None:
    """A fitted model continues only on data of its own shape."""
    if start.label is None or start.coef is None:
        return
    d, k = source.n_features, source.n_targets
    expected = (d,) if source.one_target else (k, d)
    if np.shape(start.coef) != expected:
        raise ValueError(
            f"{start.label}: the model has coef_ of shape {np.shape(start.coef)}, which does "
            f"not match this data ({expected}); fit afresh (warm_start=False) instead."
        )


def _prepare_run(
    problem: Problem,
    coords: Coordinates,
    theta: FloatArray,
    method: Method,
    options: Options,
    source: Source,
    gram: bool,
    t0: int,
) -> Run:
    """The step sizes: the base step (a number, a schedule's initial step, 1/L, or the
    mini-batch bound), the safe step 1/L, and the schedule."""
    # Conjugate gradients need no step size: on the data form, where the curvature bound L
    # costs tens of passes, the learning_rate_ it reports comes from CG's own Lanczos
    # coefficients instead (ritz_top), after the run.
    lanczos: list[tuple[FloatArray, FloatArray]] | None = None
    if method.own_steps and problem.objective.reads_data:
        lanczos, lipschitz = [], np.nan
    else:
        lipschitz = max(problem.lipschitz(), np.finfo(float).tiny)
    rate = options.learning_rate
    schedule, initial = (Constant(), None) if options.fixed else get_schedule(rate)
    if options.fixed and rate != "auto":
        base = float(cast(float, rate))  # fixed, not 'auto': a number
    elif initial is not None:
        base = float(initial)
    elif method.batches:
        batch = cast(int, options.batch_size)  # (the "sgd" method is chosen only with one)
        batches = cast("Batches", source)  # (Options.for_source: mini-batches need Batches)
        base = 1.0 / batches.batch_curvature(coords, options.loss, lipschitz, batch)
    else:
        base = 1.0 / lipschitz
    # (only mini-batches draw random numbers)
    rng = _generator(options.random_state) if method.batches else None
    return Run(
        problem,
        coords,
        theta,
        base,
        1.0 / lipschitz,
        schedule,
        options,
        source,
        gram,
        rng,
        t0,
        lanczos,
    )


def _converged_test(
    options: Options,
    method: Method,
    problem: Problem,
    stop_test: Callable[[FloatArray, FloatArray], NDArray[np.bool_]],
    curvature: FloatArray,
) -> ConvergedTest | None:
    if options.tol is None:
        return None

    def tol_test(
        thetas: FloatArray, values: FloatArray, grads: FloatArray | None
    ) -> NDArray[np.bool_]:
        # The full-batch methods always yield their gradients; mini-batches only the full
        # gradient at a candidate stop (see _certified).
        if grads is None:
            return np.zeros(len(values), dtype=bool)
        steps = problem.gradient_map(thetas, grads, curvature)
        return stop_test(thetas, steps)

    return tol_test


def _certified(
    blocks: Blocks,
    run: Run,
    stop_test: Callable[[FloatArray, FloatArray], NDArray[np.bool_]],
    curvature: FloatArray,
) -> Blocks:
    """Mini-batch epochs whose stop is certified on the full objective.

    The epoch loss is a mean of batch objectives along the way: scikit-learn's rule (no
    improvement by ``tol`` for ``n_iter_no_change`` epochs) only proposes a stop. There the
    full objective and gradient are evaluated (one pass over the data) and the gradient is
    handed to the driver's ``tol`` test, the criterion of the full-batch methods. If it fails
    but the step it measures (the full gradient over the curvature) shrank since the last
    proposal (or this is the first), the epochs go on and the rule starts afresh; otherwise
    they end: the step has reached its noise floor, and the fit is reported "stalled". (The
    objective cannot tell: near the minimum its changes fall below rounding long before the
    coefficients' do.) A schedule that votes on stops (scikit-learn's "adaptive", see
    :class:`~gdlinreg.schedules.Adaptive`) proposes instead, and its proposal is final: "tol"
    where the criterion holds, else "stalled", as scikit-learn stops there.
    """
    options, problem = run.options, run.problem
    noisy = stop_proposal(run.schedule, cast(float, options.tol), options.n_iter_no_change)
    last = np.inf
    for thetas, values, _, steps in blocks:
        if not noisy(thetas, np.asarray(values, dtype=float), None)[-1]:
            yield thetas, values, None, steps
            continue
        theta = thetas[-1]
        grad = problem.value_and_gradient(theta)[1]
        yield thetas, values, grad[None], steps
        step = problem.gradient_map(theta, grad, curvature)
        if stop_test(theta, step):
            return  # (the driver has stopped: "tol")
        size = float(np.sum(step * step))
        if not size < last or run.schedule.reacts_to_loss:
            return
        last = size
        noisy = stop_proposal(run.schedule, cast(float, options.tol), options.n_iter_no_change)


def _exact(
    outcome: Outcome,
    problem: Problem,
    stop_test: Callable[[FloatArray, FloatArray], NDArray[np.bool_]],
    curvature: FloatArray,
) -> str:
    """With ``tol=None``, a method that can make no more progress is "exact" (reported
    "tol") where the ``tol=0`` criterion holds at its last iterate: the step is within the
    rounding floor of the coefficients and intercept; otherwise it "stalled"."""
    if outcome.last is None:
        return outcome.reason
    theta = outcome.last
    grad = problem.value_and_gradient(theta)[1]
    exact = bool(stop_test(theta, problem.gradient_map(theta, grad, curvature)))
    return "tol" if exact else "stalled"


def _wrap_callback(
    callback: UserCallback | None, coords: Coordinates, one_target: bool
) -> Callback | None:
    """The user's callback, seeing coefficients and intercept in scikit-learn's shapes."""
    if callback is None:
        return None

    def call_user(i: int, th: FloatArray, value: float) -> object:
        c, b = to_sklearn_shapes(*coords.to_user(th), one_target, np.float64)
        return callback(i, c, b, value)

    return call_user


def _result(
    outcome: Outcome,
    run: Run,
    method: Method,
    options: Options,
    source: Source,
    stats: Moments,
    scored: bool,
    passes: int,
) -> GDResult:
    """The fixed fields of a finished fit, in scikit-learn's shapes and the input's dtype."""
    base, coords, theta = run.base, run.coords, run.theta
    if run.lanczos is not None:
        top = ritz_top(run.lanczos)
        base = 1.0 / (top if top > 0 else max(run.problem.lipschitz(), np.finfo(float).tiny))
    n_iter = len(outcome.losses)
    final = outcome.last if outcome.last is not None else theta
    best_iter = None
    if scored and outcome.best_theta is not None:
        final, best_iter = outcome.best_theta, outcome.best_iter
    out = source.dtype if source.dtype == np.float32 else np.float64
    coef, intercept = to_sklearn_shapes(*coords.to_user(final), source.one_target, out)
    coef_path = intercept_path = None
    if options.return_path:
        path = theta[None] if outcome.path is None else np.concatenate([theta[None], outcome.path])
        coef_path, path_b = to_sklearn_shapes(*coords.to_user(path), source.one_target, out)
        intercept_path = np.asarray(path_b)  # (of a stack: an array already)
    n_updates = n_iter
    if method.batches:
        batches = cast("Batches", source)  # (Options.for_source: mini-batches need Batches)
        n_updates = n_iter * batches.updates_per_epoch(cast(int, options.batch_size))
    steps = outcome.steps
    return GDResult(
        coef=coef,
        intercept=intercept,
        n_iter=n_iter,
        converged=outcome.reason == "tol",
        message=stop_message(outcome.reason, n_iter, options.max_iter, options.tol, method.unit),
        loss_history=np.asarray(outcome.losses, dtype=np.float64),
        learning_rate=float(steps[-1] if not method.own_steps and steps else base),
        solver=method.name,
        stop_reason=outcome.reason,
        n_updates=n_updates,
        validation_scores=np.asarray(outcome.scores) if scored else None,
        best_iter=best_iter,
        condition_number=condition_number(
            stats,
            source.n_features,
            options.fit_intercept,
            options.penalty,
            options.loss,
            _known_spectrum(run, method, options),
        ),
        coef_path=coef_path,
        intercept_path=intercept_path,
        n_passes=passes,
    )


def _known_spectrum(run: Run, method: Method, options: Options) -> FloatArray | None:
    # The eigenvalues of the standardised Gram matrix, when the step bound computed them
    # already: the correlation matrix whose conditioning condition_number_ reports.
    if not (run.gram and method.standardised and options.fit_intercept):
        return None
    return getattr(run.problem.objective, "spectrum", None)


def _generator(random_state: RandomState) -> np.random.Generator:
    """A Generator for None, an int, a Generator or a RandomState: NumPy < 2's default_rng
    refuses a RandomState; wrapping its bit generator is what NumPy 2 does."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state._bit_generator)
    return np.random.default_rng(random_state)


def _raise_divergence(
    run: Outcome, problem: Problem, method: Method, loss: Loss, base: float, value0: Value
) -> NoReturn:
    # Quote the bound to more digits than the step needed.
    lipschitz = max(problem.lipschitz(rtol=1e-10), np.finfo(float).tiny)
    plain = method.plain
    bound = (2.0 if plain else 1.0) / lipschitz
    step = run.steps[-1] if run.steps else base
    ran = count(len(run.losses) + 1, method.unit)
    where = (
        " for full batches; mini-batch gradients are noisier and can need smaller steps"
        if method.batches
        else ""
    )
    raise DivergenceError(
        f"learning_rate={step:.6g} makes {method.name!r} diverge: the {loss.name} loss went "
        f"from {value0:.4g} to {run.diverged_at:.4g} in {ran}. The "
        f"largest stable step for this data and loss is {bound:.6g} "
        f"({'2/L' if plain else '1/L'}, L = {lipschitz:.6g} being the largest eigenvalue of "
        f"the loss Hessian){where}; use a smaller learning_rate or learning_rate='auto'.",
        np.asarray(run.losses),
    )
