"""``solve``: the one path of every fit, from a source of data and its options to a result.

Settles the objective form and the method (:meth:`Options.for_source`), builds the statistics,
the coordinates and the problem, finds the step, runs the driver over the method's blocks, and
leaves the stop reason to the verdict (:mod:`.verdict`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._data.arrays import form_objective, validation_score
from .._kernels.threads import serial_blas
from .._problem.composite import Problem
from .._problem.coordinates import coordinates, initial_point, to_sklearn_shapes
from ..schedules import Constant, get_schedule
from .cg import ritz_top
from .conditioning import condition_number
from .driver import drive
from .messages import ignored_intercept, stop_message
from .methods import METHODS
from .result import GDResult
from .run import Run
from .verdict import decide, iterates, prepare

if TYPE_CHECKING:
    from collections.abc import Callable

    from .._kernels.types import FloatArray
    from .._problem.coordinates import Coordinates, Start
    from .._problem.statistics import Moments
    from .._protocols.source import Batches, Source
    from .driver import Callback, Outcome
    from .options import Options
    from .run import Method

    #: The user's ``callback(iteration, coef, intercept, loss)``; a true return stops the fit.
    UserCallback = Callable[[int, FloatArray, FloatArray | np.floating[Any], float], object]
    #: Called once the statistics are built, just before the loop: the callback to run.
    Callbacks = Callable[[], UserCallback | None]
    RandomState = int | np.random.RandomState | np.random.Generator | None

# A loss this many times above its start (or non-finite) means the iteration diverges.
DIVERGENCE_FACTOR = 1e4


def solve(
    source: Source, options: Options, start: Start, callbacks: Callbacks | None = None
) -> tuple[GDResult, Moments | None]:
    """Fit ``source`` as ``options`` say, from ``start``: the one path of every fit.

    Picks the objective form (Gram or data) and the method from :data:`METHODS`, finds the
    step, and runs the driver. Returns the result and, for the Gram form, the statistics
    (which ``partial_fit`` merges with those of its next batch). Runs with a one-thread BLAS
    (:func:`~gdlinreg._kernels.threads.serial_blas`): what is large runs in parts."""
    with serial_blas():
        return _solve(source, options, start, callbacks)


def _solve(
    source: Source, options: Options, start: Start, callbacks: Callbacks | None
) -> tuple[GDResult, Moments | None]:
    options = options.for_source(source)
    method, loss, gram = METHODS[options.method], options.loss, options.gram
    stats = source.statistics(full=gram, minibatch=method.batches)
    user = callbacks() if callbacks is not None else None
    d, k = source.n_features, source.n_targets
    ridge = 0.0 if options.penalty is None else options.penalty.l2 / loss.curvature
    standard = method.standardised or options.standardise
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
    run = _prepare_run(problem, theta, method, options, source, start.step)
    score = validation_score(source, coords, gram)
    value0, grad0 = problem.value_and_gradient(theta)
    verdict = prepare(run, method, stats, (x_spread, y_spread), score is not None, grad0)
    factor = 0.5 * loss.curvature  # (half the curvature: a squared loss's factor)
    with np.errstate(all="ignore"):
        outcome = drive(
            iterates(verdict),
            max_iter=options.max_iter,
            converged_test=verdict.converged,
            score=score,
            n_iter_no_change=options.n_iter_no_change,
            tol=options.tol or 0.0,
            callback=_wrap_callback(user, coords, source.one_target),
            limit=DIVERGENCE_FACTOR * max(value0, 1e-6 * factor * y_spread @ y_spread),
            keep_path=options.return_path,
            verbose=options.verbose,
            unit=method.unit,
        )
    refined = decide(verdict, outcome, value0)
    passes = source.passes + objective.passes + (len(outcome.losses) if method.batches else 0)
    result = _result(outcome, run, method, stats, score is not None, passes + refined)
    return result, stats if gram else None


def _prepare_run(
    problem: Problem, theta: FloatArray, method: Method, options: Options, source: Source, t0: int
) -> Run:
    """The step sizes: the base step (a number, a schedule's initial step, 1/L, or the
    mini-batch bound), the safe step 1/L, and the schedule."""
    # Conjugate gradients need no step size: on the data form, where the curvature bound L
    # costs tens of passes, the learning_rate_ it reports comes from CG's own Lanczos
    # coefficients instead (ritz_top), after the run.
    coords = problem.coords
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
        problem=problem,
        coords=coords,
        theta=theta,
        base=base,
        safe_step=1.0 / lipschitz,
        schedule=schedule,
        options=options,
        source=source,
        rng=rng,
        t0=t0,
        lanczos=lanczos,
    )


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
    stats: Moments,
    scored: bool,
    passes: int,
) -> GDResult:
    """The fixed fields of a finished fit, in scikit-learn's shapes and the input's dtype."""
    base, coords, theta = run.base, run.coords, run.theta
    options, source = run.options, run.source
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
        message=stop_message(
            outcome.reason, n_iter, options.max_iter, options.tol, method.unit, outcome.detail
        ),
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
            _known_spectrum(run, method),
        )
        if options.conditioning
        else None,
        coef_path=coef_path,
        intercept_path=intercept_path,
        n_passes=passes,
    )


def _known_spectrum(run: Run, method: Method) -> FloatArray | None:
    # The eigenvalues of the standardised Gram matrix, when the step bound computed them
    # already: the correlation matrix whose conditioning condition_number_ reports.
    if not (run.options.gram and method.standardised and run.options.fit_intercept):
        return None
    if getattr(run.problem.objective, "spectrum_ridge", None) is not None:
        return None  # (of the penalised Hessian)
    return getattr(run.problem.objective, "spectrum", None)


def _generator(random_state: RandomState) -> np.random.Generator:
    """A Generator for None, an int, a Generator or a RandomState: NumPy < 2's default_rng
    refuses a RandomState; wrapping its bit generator is what NumPy 2 does."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state._bit_generator)
    return np.random.default_rng(random_state)
