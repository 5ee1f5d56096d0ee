"""The iterations: each a generator of blocks ``(thetas, values, gradients, steps)``.

A block is one or more consecutive iterates, stacked on a leading axis, with the objective and
its (smooth) gradient at each, and the step size that produced it. The driver
(:func:`.driver.drive`) counts iterations, tests ``tol``, catches divergence, early-stops and
keeps the history, so a method here is only its update rule. ``problem`` is a
:class:`~gdlinreg._loop.problem.Problem`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from .._objective import DataObjective, GramObjective
from . import newton
from .problem import Problem, rounding_slack
from .svrg import svrg

if TYPE_CHECKING:
    from .._objective import Coordinates
    from .._typing import Blocks, FloatArray, Objective, Schedule, Source, Value
    from .options import Options

# Fixed steps evaluated at once, when the objective can form their affine operators.
_BLOCK_STEPS = 512
# Conjugate gradients on the data form: a fresh gradient at least every this many steps.
_REFRESH = 25
# ... and once its squared norm has shrunk this much since the last fresh one: the recurrence
# errs by about eps * |fresh gradient| per step, here at most ~1e-8 of the gradient it updates.
_REFRESH_SHRINK = 1e-12
# Backtracking halves the trial step at most this many times.
_MAX_BACKTRACKS = 60
# The affine-power trick for fixed steps pays only for small problems, whose cost is
# otherwise Python's per-call overhead, not arithmetic.
_MAX_PARAMS_FOR_POWERS = 16
# ... and stacking a few conjugate-gradient steps for one tol test (_cg), for the same reason.
_MAX_PARAMS_FOR_STACKS = 64
_CG_STACK = 4
# ... of one target, until near the stop (small_cg_iterates)
_CG_BLOCK = 8


@dataclass
class Run:
    """What a method's iterations start from: the problem, the start, the step and the
    source (for the batches of "sgd" and "svrg")."""

    problem: Problem
    coords: Coordinates
    theta: FloatArray
    base: float
    safe_step: float
    schedule: Schedule
    options: Options
    source: Source
    gram: bool
    rng: np.random.Generator | None = None
    t0: int = 0
    lanczos: list[tuple[FloatArray, FloatArray]] | None = None


@dataclass(frozen=True)
class Method:
    """One entry of :data:`METHODS`: its update rule and what it needs and reports.

    ``standardised``: iterates on centred, standardised coordinates (else the user's);
    ``quadratic``: needs a quadratic, smooth objective; ``batches``: mini-batches from the
    source (an iteration is an epoch); ``own_steps``: chooses its steps by exact line search
    (no curvature bound needed before the run); ``plain``: plain gradient steps, stable up to
    2/L; ``refines``: may finish on the data by iterative refinement (``_refine``);
    ``certified``: yields the full objective's gradient at every iterate, which the ``tol``
    test reads (mini-batch epochs otherwise only propose a stop, see ``_certified``).
    """

    name: str
    iterates: Callable[[Run], Blocks]
    standardised: bool = True
    quadratic: bool = False
    batches: bool = False
    own_steps: bool = False
    plain: bool = False
    refines: bool = False
    certified: bool = False

    @property
    def unit(self) -> str:
        return "epoch" if self.batches else "step"


def fixed_step_iterates(problem: Problem, theta: FloatArray, step: float) -> Blocks:
    """Plain GD with one fixed step on a small Gram problem, a block of steps at a time.

    A step is the affine map ``theta -> M theta + u``; its powers are formed once, so a block of
    512 steps costs a few batched products instead of 512 rounds of Python overhead.
    """
    # Only the Gram form has affine step operators; the solver picks this method only for it.
    gram = cast(GramObjective, problem.objective)
    powers, shifts = gram.fixed_step_block(step, _BLOCK_STEPS)
    steps = np.full(_BLOCK_STEPS, step)
    while True:
        thetas = powers @ theta + shifts
        values, grads = problem.value_and_gradient(thetas)
        yield thetas, np.asarray(values), grads, steps  # (values of a stack: an array)
        theta = thetas[-1]


def gd_iterates(
    problem: Problem,
    theta: FloatArray,
    base: float,
    schedule: Schedule,
    *,
    momentum: float = 0.0,
    nesterov: bool = False,
    line_search: bool = False,
    safe_step: float = 0.0,
    t0: int = 0,
) -> Blocks:
    r"""(Proximal) gradient descent ``theta <- prox(theta - a_t grad J(theta))`` with the step
    ``a_t = base * schedule(t)``, and optional momentum :math:`\mu`: heavy-ball
    ``theta <- prox(theta - a_t grad J(theta) + mu v)`` or Nesterov's
    ``theta <- prox(theta + mu v - a_t grad J(theta + mu v))``, ``v`` being the last move.
    With ``line_search`` (no momentum) the step is backtracked from ``a_t`` until the
    (proximal) Armijo condition holds."""
    value, grad = problem.value_and_gradient(theta)
    velocity = np.zeros_like(theta)
    t = t0
    while True:
        step = base * schedule(t)
        if line_search:
            new, value, grad, step = _backtrack(problem, theta, value, grad, step, safe_step)
        else:
            if nesterov and momentum:
                look = theta + momentum * velocity
                _, g = problem.value_and_gradient(look)
                new = problem.prox(look - step * g, step)
            else:
                new = problem.prox(theta - step * grad + momentum * velocity, step)
            value, grad = problem.value_and_gradient(new)
        velocity = new - theta
        theta = new
        t += 1
        _observe(schedule, value)
        yield theta[None], [value], grad[None], [step]


def agd_iterates(
    problem: Problem,
    theta: FloatArray,
    step: float,
    *,
    line_search: bool = False,
    safe_step: float = 0.0,
) -> Blocks:
    """Nesterov's accelerated (proximal) gradient, FISTA, with O'Donoghue and Candes' adaptive
    restart: the momentum is dropped whenever it points uphill."""
    ahead, t = theta, 1.0
    while True:
        _, g_ahead = problem.value_and_gradient(ahead)
        if line_search:
            value_ahead, _ = problem.value_and_gradient(ahead)
            new, _, _, step = _backtrack(problem, ahead, value_ahead, g_ahead, step, safe_step)
        else:
            new = problem.prox(ahead - step * g_ahead, step)
        # ahead - new is the (proximal) gradient step: if the momentum went against it, restart.
        if np.sum((ahead - new) * (new - theta)) > 0:
            t = 1.0
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        ahead = new + ((t - 1.0) / t_next) * (new - theta)
        theta, t = new, t_next
        value, grad = problem.value_and_gradient(theta)
        yield theta[None], [value], grad[None], [step]


def cg_iterates(
    problem: Problem, theta: FloatArray, lanczos: list[tuple[FloatArray, FloatArray]] | None = None
) -> Blocks:
    """Conjugate gradients (Polak-Ribiere+), one target per column, for a quadratic
    ``problem`` (squared loss, at most an l2 penalty, no constraint).

    Where a gradient costs a pass over the data (``objective.reads_data``), it is updated by
    the recurrence ``g + alpha H d`` from the Hessian product the line search needs anyway:
    one pass per step instead of two. A fresh gradient replaces it every ``_REFRESH`` steps
    and whenever it has shrunk a millionfold since the last fresh one, so the stopping test
    and the stall test below read true gradients where it matters.

    Ends early when even a steepest-descent step cannot lower the objective: rounding then
    dominates and the ``tol`` asked for is out of reach in this precision.

    ``lanczos``, if given, receives ``(alpha, beta)`` of each step until the first restart:
    the coefficients of the Lanczos process CG runs implicitly (see :func:`ritz_top`).
    """
    value, grad = problem.value_and_gradient(theta)
    recur = problem.objective.reads_data
    slack = rounding_slack(problem, theta, value)
    direction = -grad
    gg = (grad * grad).sum(axis=0)
    fresh_gg, since_fresh = gg, 0
    zero = np.zeros_like(gg)
    restarted = True
    while True:
        hd = problem.hessian_product(direction)
        curv = (direction * hd).sum(axis=0)
        # Exact line search along the direction; a column already at its minimum stays put.
        alpha = np.divide(gg, curv, out=zero.copy(), where=curv > 0)
        trial = theta + alpha * direction
        new = grad + alpha * hd
        new_gg = (new * new).sum(axis=0)
        if (
            recur
            and since_fresh < _REFRESH
            and bool(np.all((new_gg > _REFRESH_SHRINK * fresh_gg) | (fresh_gg == 0)))
        ):
            # A quadratic along the line: the value follows from the same numbers.
            trial_value = value + float((alpha * (grad * direction).sum(axis=0)).sum())
            trial_value += 0.5 * float((alpha * alpha * curv).sum())
            since_fresh += 1
        else:
            trial_value, new = problem.value_and_gradient(trial)
            new_gg = (new * new).sum(axis=0)
            fresh_gg, since_fresh = new_gg, 0
            if not trial_value <= value + slack:
                if restarted:
                    return
                direction, restarted = -grad, True
                lanczos = None  # the Lanczos sequence ends at a restart
                continue
        theta, value, restarted = trial, trial_value, False
        # PR+ restarts by itself when rounding costs the directions their conjugacy.
        beta = np.divide((new * (new - grad)).sum(axis=0), gg, out=zero.copy(), where=gg > 0)
        if lanczos is not None:
            lanczos.append((alpha, np.divide(new_gg, gg, out=zero.copy(), where=gg > 0)))
        direction = -new + np.maximum(beta, 0.0) * direction
        grad, gg = new, new_gg
        yield theta[None], [value], grad[None], [float(np.max(alpha))]


def ritz_top(lanczos: list[tuple[FloatArray, FloatArray]]) -> float:
    """The largest Ritz value of the Lanczos tridiagonal that CG's steps define: a lower bound
    on the Hessian's top eigenvalue L, close to it after a few steps, at no cost in passes.

    With step lengths ``alpha_j`` and Fletcher-Reeves ratios ``beta_j = |g_j+1|^2 / |g_j|^2``:
    ``T_jj = 1/alpha_j + beta_j-1/alpha_j-1`` and ``T_j,j+1 = sqrt(beta_j)/alpha_j``. The
    largest over the targets (columns) is returned; 0.0 without steps.
    """
    top = 0.0
    if not lanczos:
        return top
    alphas = np.array([a for a, _ in lanczos])
    betas = np.array([b for _, b in lanczos])
    for col in range(alphas.shape[1]):
        a, b = alphas[:, col], betas[:, col]
        m = int(np.argmax(a <= 0)) if np.any(a <= 0) else a.size
        if m == 0:
            continue
        a, b = a[:m], b[:m]
        diag = 1.0 / a
        diag[1:] += b[:-1] / a[:-1]
        off = np.sqrt(b[:-1]) / a[:-1]
        tri = np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)
        top = max(top, float(np.linalg.eigvalsh(tri)[-1]))
    return top


def sgd_iterates(run: Run) -> Blocks:
    """Mini-batch stochastic (proximal) gradient descent; one block per epoch.

    The source yields an epoch's batches (:func:`gdlinreg._data.arrays.batches`), in segments:
    all the rows in memory, one row chunk at a time for Dask (momentum restarting at each).
    The value reported for an epoch is the mean of its batch objectives (as scikit-learn's
    MLP reports), not a separate pass over the data.
    """
    source, options, coords = run.source, run.options, run.coords
    n, theta, t = source.n_samples, run.theta, run.t0
    momentum, nesterov = options.momentum, options.nesterov
    velocity = np.zeros_like(theta)
    batch_size = cast(int, options.batch_size)  # (the "sgd" method is chosen only with one)
    _bind(run)
    while True:
        total: Value = 0.0
        step = run.base * run.schedule(t)
        rng = cast("np.random.Generator", run.rng)  # (drawn for every mini-batch method)
        for m, segment in source.epoch(rng, batch_size, options.shuffle):
            if source.segmented:
                velocity = np.zeros_like(theta)
            part: Value = 0.0
            for Xb, Yb, pb in segment:
                batch = Problem(
                    DataObjective(Xb, Yb, pb, coords, options.loss),
                    coords,
                    options.penalty,
                    options.constraint,
                )
                step = run.base * run.schedule(t)
                look = theta + momentum * velocity if nesterov else theta
                value, grad = batch.value_and_gradient(look)
                shift = 0.0 if nesterov else momentum * velocity
                new = batch.prox(look - step * grad + shift, step)
                velocity = new - theta
                theta = new
                part += value * Yb.shape[0]
                t += 1
            # A segment's mean, pooled by its size (the whole epoch: its total as it is).
            total += float(part / m) * m if source.segmented else part
        epoch_value = total / n
        _observe(run.schedule, epoch_value)
        yield theta[None], [epoch_value], None, [step]


def _backtrack(
    problem: Problem,
    theta: FloatArray,
    value: Value,
    grad: FloatArray,
    step: float,
    safe_step: float,
) -> tuple[FloatArray, Value, FloatArray, float]:
    """Largest ``step / 2**j`` meeting the proximal Armijo (sufficient decrease) condition
    ``f(new) <= f(theta) + grad.(new - theta) + |new - theta|^2 / (2 step)`` for the smooth
    part ``f``; for a smooth problem this is ``f(new) <= f(theta) - step/2 |grad|^2``.

    Near the minimum the decrease asked for falls below what the computed objective can
    resolve (a few ulps of it), and rounding would decide the test; there the guaranteed
    descent step ``safe_step`` (1/L) is taken instead of a longer one."""
    smooth = value - problem.nonsmooth_value(theta)
    resolution = 8 * np.finfo(float).eps * np.abs(smooth)
    for _ in range(_MAX_BACKTRACKS):
        new = problem.prox(theta - step * grad, step)
        move = new - theta
        if step > safe_step and np.sum(move * move) / (2.0 * step) <= resolution:
            step = safe_step
            continue
        new_value, new_grad = problem.value_and_gradient(new)
        bound = smooth + np.sum(grad * move) + np.sum(move * move) / (2.0 * step)
        if new_value - problem.nonsmooth_value(new) <= bound or step <= safe_step:
            return new, new_value, new_grad, step
        step *= 0.5
    return new, new_value, new_grad, step


def _bind(run: Run) -> None:
    """Tell a schedule that reacts to the loss (the adaptive one) the fit's base step, ``tol``
    and ``n_iter_no_change``, which its rule reads."""
    bind = getattr(run.schedule, "bind", None)
    if bind is not None:
        bind(run.base, run.options.tol, run.options.n_iter_no_change)


def _observe(schedule: Schedule, value: Value) -> None:
    observe = getattr(schedule, "observe", None)
    if observe is not None:
        observe(float(value))


def _gd(run: Run) -> Blocks:
    o, problem = run.options, run.problem
    _bind(run)
    if (
        run.gram
        and problem.smooth
        and not problem.l2
        and o.fixed
        and not o.momentum
        and not o.line_search
        and run.coords.n_params <= _MAX_PARAMS_FOR_POWERS
    ):
        return fixed_step_iterates(problem, run.theta, run.base)
    return gd_iterates(
        problem,
        run.theta,
        run.base,
        run.schedule,
        momentum=o.momentum,
        nesterov=o.nesterov,
        line_search=o.line_search,
        safe_step=run.safe_step,
        t0=run.t0,
    )


def _agd(run: Run) -> Blocks:
    return agd_iterates(
        run.problem,
        run.theta,
        run.base,
        line_search=run.options.line_search,
        safe_step=run.safe_step,
    )


def _newton(run: Run) -> Blocks:
    return newton.newton_iterates(run.problem, run.theta)


def available(method: Method, objective: Objective, n_params: int) -> Method:
    """``method``, or "agd" where it is "newton" and the objective cannot form the Hessian
    (Dask's chunks) or there are more than :data:`.newton.MAX_PARAMS` parameters."""
    if method.name == "newton" and (
        not hasattr(objective, "newton_system") or n_params > newton.MAX_PARAMS
    ):
        return METHODS["agd"]
    return method


def _cg(run: Run) -> Blocks:
    problem, theta = run.problem, run.theta
    if problem.objective.reads_data or run.coords.n_params > _MAX_PARAMS_FOR_STACKS:
        return cg_iterates(problem, theta, run.lanczos)
    # A small Gram-form step costs microseconds, and so would its own tol test: the driver
    # tests a few at once, one vectorised test, for up to _CG_STACK - 1 steps past the stop.
    if theta.shape[1] == 1:
        tol = run.options.tol or 0.0
        return small_cg_iterates(problem, theta, _CG_BLOCK, tol * tol, run.options.max_iter)
    return _stacked(cg_iterates(problem, theta), _CG_STACK)


def small_cg_iterates(
    problem: Problem, theta: FloatArray, size: int, near: float = 0.0, budget: int = 0
) -> Blocks:
    """:func:`cg_iterates` on the Gram form for one target, in blocks of ``size`` steps: the
    same arithmetic, bit for bit, at about half the cost per step.

    Each step there costs some 35 NumPy calls on (p, 1) arrays, a microsecond or less of
    arithmetic each and most of a small fit's time: here the scalars (``gg``, ``alpha``,
    ``beta``) are Python floats (IEEE division, as NumPy's), the recurrence the Gram form
    never reads is not formed, and the iterates go straight into the block.

    Where blocks end changes no result (the driver tests every iterate, and the test of a
    stack is that of each of its iterates), only the cost: a test costs about a step, and a
    block's steps past the stop are wasted. So a block also ends at the first step whose
    squared gradient falls below ``near`` times the first (``tol**2``: roughly where a
    standardised problem's ``tol`` test can start to pass), and blocks are single steps from
    there; none runs past ``budget`` steps in all (``max_iter``; 0: no limit).
    """
    value, grad = problem.value_and_gradient(theta)
    slack = rounding_slack(problem, theta, value)
    direction = -grad
    # (a (p, 1) array's full reduction adds in the order of .sum(axis=0), NumPy's pairwise
    # sum; np.add.reduce is that reduction without .sum's Python layer)
    add = np.add.reduce
    gg = float(add(grad * grad, axis=None))
    near *= gg
    restarted, done, made = True, False, 0
    while not done:
        length = min(size, budget - made) if budget > made else size
        thetas, grads = np.empty((length, *theta.shape)), np.empty((length, *theta.shape))
        values: list[Value] = []
        steps: list[float] = []
        while len(values) < length:
            hd = problem.hessian_product(direction)
            curv = float(add(direction * hd, axis=None))
            alpha = gg / curv if curv > 0 else 0.0
            trial = np.add(theta, alpha * direction, out=thetas[len(values)])
            trial_value, new = problem.value_and_gradient(trial)
            if not trial_value <= value + slack:
                if restarted:
                    done = True
                    break
                direction, restarted = -grad, True
                continue
            theta, value, restarted = trial, trial_value, False
            beta = float(add(new * (new - grad), axis=None)) / gg if gg > 0 else 0.0
            # np.maximum(beta, 0.0) of cg_iterates: NaN stays NaN, -0.0 becomes 0.0.
            beta = 0.0 if beta <= 0.0 else beta
            direction = beta * direction - new
            grad, gg = new, float(add(new * new, axis=None))
            grads[len(values)] = grad
            values.append(value)
            steps.append(alpha)
            if gg < near:  # near the stop: single steps from here
                near, size = -1.0, 1
                break
        if values:
            m = len(values)
            made += m
            yield thetas[:m], values, grads[:m], steps


def _stacked(blocks: Blocks, size: int) -> Blocks:
    """``blocks`` of one iterate each, joined ``size`` at a time (the last, possibly fewer)."""
    while True:
        group = list(itertools.islice(blocks, size))
        if not group:
            return
        thetas, values, grads, steps = zip(*group, strict=True)
        yield (
            np.concatenate(thetas),
            [v for vs in values for v in vs],
            np.concatenate(cast("tuple[FloatArray, ...]", grads)),
            [a for ss in steps for a in ss],
        )
        if len(group) < size:
            return


#: The methods, by the name ``Options.method`` gives (``solver="gd"`` with a ``batch_size``
#: runs "sgd"; ``solver="auto"`` with one and the "auto" step, "svrg"). A new method is one
#: generator of blocks and one line here.
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("gd", _gd, standardised=False, plain=True),
        Method("sgd", sgd_iterates, standardised=False, batches=True, plain=True),
        Method("cg", _cg, quadratic=True, own_steps=True, refines=True),
        Method("agd", _agd, refines=True),
        Method("svrg", svrg, batches=True, certified=True),
        Method("newton", _newton),
    )
}
