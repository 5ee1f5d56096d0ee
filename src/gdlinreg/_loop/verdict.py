"""The stop verdict: why a fit ended, decided in one place.

The driver (:mod:`.driver`) ends the loop for one of its reasons; this room builds the ``tol``
test it applies and, once the loop is over, decides the reason the result reports
(:func:`decide`), and nowhere else is a stop reason rewritten:

* the ``tol`` test (:func:`make_stop_test`): the step a method would take, measured on the
  user's coefficients and intercept in units of y, with the rounding floor of what it
  measures (so ``tol=0`` means "to rounding");
* a start that already meets it takes no step ("tol" at zero steps);
* on the Gram form, a fit goes on past ``tol`` to the accuracy of the statistics
  (:class:`.polish.Polish`), and is "tol" if the criterion held there and holds at the end;
* mini-batch epochs only propose stops, certified on the full objective (:func:`certified`);
* with ``tol=None``, a method that can make no more progress (on the Gram form: polished to
  the floor of the statistics) is exact ("tol") where the ``tol=0`` criterion holds, else
  "stalled";
* an ill-conditioned Gram-form fit is handed to iterative refinement on the data
  (:mod:`.refine`), whose findings (iterates, losses, certified or not) decide the reason;
* a blow-up raises :class:`~gdlinreg.DivergenceError` with the largest stable step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, cast

import numpy as np

from .._data.arrays import refinement_reader
from .._problem.gram import GramObjective
from .driver import stop_proposal
from .messages import count
from .polish import GATE, Polish, confirm
from .refine import eigen, refine, unresolved, without_null
from .result import DivergenceError

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from .._kernels.types import Blocks, FloatArray, Value
    from .._problem.composite import Problem
    from .._problem.coordinates import Coordinates
    from .._problem.statistics import Moments
    from .._protocols.registry import Loss, QuadraticLoss
    from .._protocols.source import Reader
    from .driver import ConvergedTest, Outcome
    from .run import Method, Run

    #: The ``tol`` test: ``(thetas, steps) -> one bool per stacked iterate``.
    StopTest = Callable[[FloatArray, FloatArray], NDArray[np.bool_]]

# Flat directions come from an eigendecomposition of the p x p Gram matrix (p^3 flops).
_MAX_PARAMS_FOR_REFINE = 512
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Verdict:
    """The ``tol`` test of one fit (``converged``, for the driver; None with ``tol=None``) and
    what deciding its stop reason needs. ``at_start``: the start meets it already (no step is
    taken); ``scored``: a validation set scores the iterates (early stopping decides)."""

    run: Run
    method: Method
    stop_test: StopTest
    curvature: FloatArray
    converged: ConvergedTest | None
    polish: Polish | None
    at_start: bool
    scored: bool


def prepare(
    run: Run,
    method: Method,
    stats: Moments,
    spreads: tuple[FloatArray, FloatArray],
    scored: bool,
    grad0: FloatArray,
) -> Verdict:
    """The verdict of a fit about to start from ``run.theta``, where the gradient is
    ``grad0``; ``spreads``: the columns' and the targets' spreads (the units of the test)."""
    problem, coords, options = run.problem, run.coords, run.options
    d = coords.offset.size
    # The test measures Newton-like steps grad_j / H_jj (the Hessian's diagonal), not grad / L:
    # on badly scaled coordinates (textbook gd on raw data) grad / L is tiny along every
    # direction but the stiffest, and would stop far from the solution.
    curvature = diagonal_curvature(stats, d, coords, options.loss, problem)
    stop_test = make_stop_test(coords, stats, d, *spreads, options.tol or 0.0)
    converged = None if options.tol is None else tol_test(problem, stop_test, curvature)
    polish = None
    if run.options.gram and method.own_steps and not scored:
        # Past tol to the accuracy of the statistics: a step here is O(p^2) (.polish). With
        # tol=None too, from where the default criterion holds: once the gradient is at its
        # floor no progress is left (decide then asks whether the fit is exact); running on
        # to max_iter would only stir rounding, and conjugate gradients drift as they do.
        gram = cast("GramObjective", problem.objective)
        if converged is None:
            gate = make_stop_test(coords, stats, d, *spreads, GATE)
            converged = tol_test(problem, gate, curvature)
        converged = polish = Polish(converged, gram, coords.n_params)
    at_start = False
    if options.tol is not None and polish is None and not method.batches:
        step = problem.gradient_map(run.theta, grad0, curvature)
        at_start = bool(stop_test(run.theta, step))
    return Verdict(run, method, stop_test, curvature, converged, polish, at_start, scored)


def iterates(verdict: Verdict) -> Blocks:
    """The method's blocks as the driver should see them: none when the start meets ``tol``;
    mini-batch epochs with their proposed stops certified (:func:`certified`)."""
    run, method = verdict.run, verdict.method
    if verdict.at_start:
        return iter(())
    blocks = method.iterates(run)
    if method.batches and not method.certified and verdict.converged and not verdict.scored:
        blocks = certified(blocks, verdict)
    return blocks


def decide(verdict: Verdict, outcome: Outcome, value0: Value) -> int:
    """Write into the driver's ``outcome`` the stop reason the result reports, decided once
    (see the module docstring), with refinement's iterates and losses appended; return the
    passes over the data that deciding made."""
    run, method, problem = verdict.run, verdict.method, verdict.run.problem
    if outcome.reason == "diverged":
        _raise_divergence(outcome, run, method, value0)
    reason = "tol" if verdict.at_start else outcome.reason
    exhausted = reason == "stalled" or (reason == "tol" and verdict.polish is not None)
    if run.options.tol is None:
        if exhausted and not method.batches:
            reason = _exact(outcome, verdict)
    elif verdict.polish is not None:
        reason = confirm(verdict.polish, reason, outcome.last, problem)
    outcome.reason = reason
    if reason not in ("tol", "stalled") or not _judged(verdict):
        return 0
    gram = _statistics(verdict)
    ridge = _ridge(problem, gram)
    hessian = gram.A if ridge is None else gram.A + np.diag(ridge)
    eig = eigen(hessian, _spectrum(gram, ridge), gram.rounding)
    if eig is None:  # conditioned well enough for the statistics alone
        return 0
    read = refinement_reader(run.source)
    blocker = _blocker(verdict, read)
    if blocker is not None:
        # The statistics alone resolve the minimiser only to cond * eps along the flat
        # directions: "tol" there would promise digits the fit does not have.
        cond = unresolved(eig)
        if cond is not None and reason == "tol":
            outcome.reason = "stalled"
            outcome.detail = _unresolved_message(cond, blocker)
        smooth = problem.penalty is None and problem.constraint is None
        if cond is None and smooth and outcome.last is not None:
            # Directions the statistics cannot tell from null ones get no coefficient (the
            # minimum norm): the method may have put rounding there, divided by rounding.
            outcome.last = without_null(eig, outcome.last)
        return 0
    start = outcome.last if outcome.last is not None else run.theta
    thetas, values, done, passes = refine(cast("Reader", read), run.coords, start, eig, ridge)
    outcome.reason = "tol" if done else "stalled"
    if thetas:
        steps = np.stack(thetas)
        outcome.path = steps if outcome.path is None else np.concatenate([outcome.path, steps])
        # (a squared loss: the objective is factor * (sum p r^2 + theta' diag(ridge) theta))
        outcome.losses.extend(gram.factor * v for v in values)
        outcome.last = thetas[-1]
    return passes


def _judged(verdict: Verdict) -> bool:
    """Whether the conditioning of the statistics decides this fit's verdict: a squared loss
    in the standardised coordinates (whose conditioning is the problem's own), not scored by a
    validation set, of up to 512 parameters (the flat directions come from an
    eigendecomposition, p^3 flops)."""
    run = verdict.run
    return (
        run.options.loss.is_quadratic
        and verdict.method.standardised
        and not verdict.scored
        and run.coords.n_params <= _MAX_PARAMS_FOR_REFINE
    )


def _statistics(verdict: Verdict) -> GramObjective:
    """The Gram form of the fit's problem: its own, or, for a data-form fit, built from the
    source's full statistics (one pass over the rows, counted by the source). The step test
    of the data form is first order: along a direction of curvature ``lambda`` it passes at
    a distance of ``step / lambda``, so without the spectrum a near-collinear design would
    stop far from its minimum and call it "tol"."""
    run = verdict.run
    if run.options.gram:
        return cast("GramObjective", run.problem.objective)
    stats = run.source.statistics(full=True)
    loss = cast("QuadraticLoss", run.options.loss)
    return GramObjective(stats, run.source.n_features, run.coords, loss)


def _spectrum(gram: GramObjective, ridge: FloatArray | None) -> FloatArray | None:
    """The eigenvalues of ``A + diag(ridge)`` if the step bound computed them, else None."""
    known = gram.spectrum_ridge
    same = known is None if ridge is None else known is not None and np.array_equal(known, ridge)
    return gram.spectrum if same else None


def _ridge(problem: Problem, gram: GramObjective) -> FloatArray | None:
    """An l2 penalty's Hessian diagonal in the units of the Gram matrix ``A`` (the objective
    being ``factor * (sum p r^2 + theta' diag(ridge) theta)``); None without one."""
    if not problem.l2:
        return None
    ridge: FloatArray = problem.l2 * problem.weights[:, 0] ** 2 / (2.0 * gram.factor)
    return ridge


def _blocker(verdict: Verdict, read: Reader | None) -> tuple[str, str] | None:
    """Why iterative refinement cannot finish this ill-conditioned fit, and what would, in
    words; None where it can: a method that declares it, at most an l2 penalty, no
    constraint, rows to read."""
    problem = verdict.run.problem
    if problem.constraint is not None:
        return "refinement on the rows does not handle positive=True", "use positive=False"
    if problem.penalty is not None and not problem.penalty.is_smooth:
        why = "refinement on the rows handles only the l2 penalty"
        return why, "use penalty='l2' or None, or a larger alpha"
    if not verdict.method.refines:
        why = f"solver={verdict.method.name!r} is not refined on the rows"
        return why, "use solver='auto'"
    if read is None:
        why = "partial_fit keeps only the statistics, with no rows to refine on"
        return why, "fit all the rows with fit() (refined to the accuracy of a QR solve)"
    return None


def _unresolved_message(cond: float, blocker: tuple[str, str]) -> str:
    why, remedy = blocker
    return (
        f"the Gram matrix of the standardised columns has condition number {cond:.3g}, so "
        f"its statistics resolve the coefficients only to about {cond * _EPS:.1g} relative, "
        f"and {why}. To resolve them, {remedy}, or drop or combine near-collinear columns"
    )


def tol_test(problem: Problem, stop_test: StopTest, curvature: FloatArray) -> ConvergedTest:
    """The driver's ``converged_test``: ``stop_test`` at each iterate's gradient map."""

    def test(thetas: FloatArray, values: FloatArray, grads: FloatArray | None) -> NDArray[np.bool_]:
        # The full-batch methods always yield their gradients; mini-batches only the full
        # gradient at a candidate stop (see certified).
        if grads is None:
            return np.zeros(len(values), dtype=bool)
        return stop_test(thetas, problem.gradient_map(thetas, grads, curvature))

    return test


def diagonal_curvature(
    stats: Moments, d: int, coords: Coordinates, loss: Loss, problem: Problem
) -> FloatArray:
    """The Hessian's diagonal in the solver's coordinates, shape (p, 1), from the moments:
    ``curvature * sum_i p_i z_ij^2`` (the loss's curvature bound for non-quadratic losses),
    plus the l2 penalty's."""
    scatter = stats.scatter if stats.scatter.ndim == 1 else stats.scatter.diagonal()
    var = scatter[:d] / stats.weight_sum
    second = (var + (stats.mean[:d] - coords.offset) ** 2) / coords.scale**2
    if coords.augment:
        second = np.append(second, 1.0)
    diag = loss.curvature * second[:, None] + problem.l2 * problem.weights**2
    # A constant column's coordinate has no curvature and no gradient; any value serves.
    return np.where(diag > 0, diag, max(float(diag.max()), np.finfo(float).tiny))


def make_stop_test(
    coords: Coordinates,
    stats: Moments,
    d: int,
    x_spread: FloatArray,
    y_spread: FloatArray,
    tol: float,
) -> StopTest:
    """The ``tol`` criterion, vectorised over stacked iterates; see ``GDLinearRegressor``.

    The step (``grad_j / H_jj``, or the proximal gradient map) is mapped to the user's
    coefficients and intercept and measured in units of y. Each test also allows the rounding
    floor of what it measures, so that any ``tol >= 0`` is attainable (``tol=0`` means "to
    rounding"): a gradient is a sum of terms, each a coefficient times its column as the
    solver sees it (centred or not), and carries a few eps of their total size; an intercept
    recovered as ``mean(y) - mean(x) @ w`` carries that error amplified by
    ``|mean(x)| / std(x)``.
    """
    eps = np.finfo(np.float64).eps
    noise = 16 * eps * np.sqrt(d)
    x_mean = stats.mean[:d]
    magnitude = np.sqrt(x_spread**2 + (x_mean - coords.offset) ** 2)[:, None]
    recovered = not coords.augment and bool(coords.offset.any())
    spread = np.where(x_spread > 0, x_spread, np.inf)
    amplification = 1.0 + np.sum(np.abs(x_mean) / spread) if recovered else 1.0
    y_floor = eps * y_spread
    scale, spread_col = coords.scale[:, None], x_spread[:, None]

    def test(thetas: FloatArray, steps: FloatArray) -> NDArray[np.bool_]:
        # The coefficients as Coordinates.to_user and step_to_user compute them; the
        # intercepts (two einsums) only once some iterate passes the coefficient test, which
        # is where a small fit spends most of its tests.
        dw, w = steps[..., :d, :] / scale, thetas[..., :d, :] / scale
        v = np.abs(w * spread_col).max(axis=-2)
        dv = np.abs(dw * spread_col).max(axis=-2)
        terms = (np.abs(w) * magnitude).sum(axis=-2)
        b = coords.intercept(thetas, w) if coords.augment else None
        if b is not None:
            terms = terms + np.abs(b)
        floor = noise * terms + y_floor
        ok: NDArray[np.bool_] = (dv <= tol * v + floor).all(axis=-1)
        if not ok.any():
            return ok
        b = coords.intercept(thetas, w) if b is None else b
        db = coords.intercept_step(steps, dw)
        ok_intercept = np.abs(db) <= tol * np.maximum(np.abs(b), v) + floor * amplification
        ok &= ok_intercept.all(axis=-1)
        return ok

    return test


def certified(blocks: Blocks, verdict: Verdict) -> Blocks:
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
    run, stop_test, curvature = verdict.run, verdict.stop_test, verdict.curvature
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


def _exact(outcome: Outcome, verdict: Verdict) -> str:
    """With ``tol=None``, a method that can make no more progress is "exact" (reported
    "tol") where the ``tol=0`` criterion holds at its last iterate: the step is within the
    rounding floor of the coefficients and intercept; otherwise it "stalled"."""
    if outcome.last is None:
        return outcome.reason
    theta, problem = outcome.last, verdict.run.problem
    grad = problem.value_and_gradient(theta)[1]
    step = problem.gradient_map(theta, grad, verdict.curvature)
    exact = bool(verdict.stop_test(theta, step))
    return "tol" if exact else "stalled"


def _raise_divergence(outcome: Outcome, run: Run, method: Method, value0: Value) -> NoReturn:
    problem, loss, base = run.problem, run.options.loss, run.base
    # Quote the bound to more digits than the step needed.
    lipschitz = max(problem.lipschitz(rtol=1e-10), np.finfo(float).tiny)
    plain = method.plain
    bound = (2.0 if plain else 1.0) / lipschitz
    step = outcome.steps[-1] if outcome.steps else base
    ran = count(len(outcome.losses) + 1, method.unit)
    where = (
        " for full batches; mini-batch gradients are noisier and can need smaller steps"
        if method.batches
        else ""
    )
    raise DivergenceError(
        f"learning_rate={step:.6g} makes {method.name!r} diverge: the {loss.name} loss went "
        f"from {value0:.4g} to {outcome.diverged_at:.4g} in {ran}. The "
        f"largest stable step for this data and loss is {bound:.6g} "
        f"({'2/L' if plain else '1/L'}, L = {lipschitz:.6g} being the largest eigenvalue of "
        f"the loss Hessian){where}; use a smaller learning_rate or learning_rate='auto'.",
        np.asarray(outcome.losses),
    )
