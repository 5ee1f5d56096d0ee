"""Conjugate gradients for the quadratic problems (squared loss, at most an l2 penalty)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._problem.composite import rounding_slack

if TYPE_CHECKING:
    from .._kernels.types import Blocks, FloatArray, Value
    from .._problem.composite import Problem

# On the data form: a fresh gradient at least every this many steps.
_REFRESH = 25
# ... and once its squared norm has shrunk this much since the last fresh one: the recurrence
# errs by about eps * |fresh gradient| per step, here at most ~1e-8 of the gradient it updates.
_REFRESH_SHRINK = 1e-12


def cg_iterates(
    problem: Problem,
    theta: FloatArray,
    lanczos: list[tuple[FloatArray, FloatArray]] | None = None,
    block: int = 1,
    near: float = 0.0,
    budget: int = 0,
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

    Steps are handed to the driver up to ``block`` at a time: where a step costs microseconds
    (a small Gram form), so would the driver's test of it alone, and one test of a block costs
    about a step. Where blocks end changes no result (the driver tests every iterate), only
    the cost, since a block's steps past the stop are wasted: a block also ends at the first
    step whose squared gradient falls below ``near`` times the first (``tol**2``: roughly
    where a standardised problem's ``tol`` test can start to pass), and blocks are single
    steps from there; no block runs past ``budget`` steps in all (``max_iter``; 0: no limit).
    """
    # (one inner product per target, np.add.reduce(a * b, axis=0): .sum's reduction without
    # its Python layer, a few of them a step)
    dots = np.add.reduce
    value, grad = problem.value_and_gradient(theta)
    recur = problem.objective.reads_data
    slack = rounding_slack(problem, theta, value)
    direction = -grad
    gg = dots(grad * grad, axis=0)
    fresh_gg, since_fresh = gg, 0
    zero = np.zeros_like(gg)
    restarted = True
    near *= float(dots(gg))
    thetas: list[FloatArray] = []
    values: list[Value] = []
    grads: list[FloatArray] = []
    steps: list[float] = []
    made = 0
    while True:
        hd = problem.hessian_product(direction)
        curv = dots(direction * hd, axis=0)
        # Exact line search along the direction; a column already at its minimum stays put.
        alpha = np.divide(gg, curv, out=zero.copy(), where=curv > 0)
        trial = theta + alpha * direction
        recurred = False
        if recur and since_fresh < _REFRESH:
            new = grad + alpha * hd
            new_gg = dots(new * new, axis=0)
            recurred = bool(np.all((new_gg > _REFRESH_SHRINK * fresh_gg) | (fresh_gg == 0)))
        if recurred:
            # A quadratic along the line: the value follows from the same numbers.
            trial_value = value + float((alpha * dots(grad * direction, axis=0)).sum())
            trial_value += 0.5 * float((alpha * alpha * curv).sum())
            since_fresh += 1
        else:
            trial_value, new = problem.value_and_gradient(trial)
            new_gg = dots(new * new, axis=0)
            fresh_gg, since_fresh = new_gg, 0
            if not trial_value <= value + slack:
                if restarted:
                    if thetas:
                        yield np.array(thetas), values, np.array(grads), steps
                    return
                direction, restarted = -grad, True
                lanczos = None  # the Lanczos sequence ends at a restart
                continue
        theta, value, restarted = trial, trial_value, False
        # PR+ restarts by itself when rounding costs the directions their conjugacy.
        beta = np.divide(dots(new * (new - grad), axis=0), gg, out=zero.copy(), where=gg > 0)
        if lanczos is not None:
            lanczos.append((alpha, np.divide(new_gg, gg, out=zero.copy(), where=gg > 0)))
        direction = np.maximum(beta, 0.0) * direction - new
        grad, gg = new, new_gg
        thetas.append(theta)
        values.append(value)
        grads.append(grad)
        # (np.maximum.reduce: alpha.max() without its Python layer, a microsecond a step)
        steps.append(float(np.maximum.reduce(alpha)))
        made += 1
        if dots(gg) < near:  # near the stop: single steps from here
            block, near = 1, -1.0
        if len(thetas) >= block or made == budget:
            yield np.array(thetas), values, np.array(grads), steps
            thetas, values, grads, steps = [], [], [], []


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
