r"""Newton's method for a smooth, non-quadratic loss (Huber): ``solver_ == "newton"``.

Huber's loss is piecewise quadratic: its generalised Hessian in the standardised coordinates is

.. math:: H(\theta) = Z^\top \mathrm{diag}(p_i\, \ell''(r_i))\, Z + \lambda D^2, \qquad
   \ell''(r) = [\,|r| \le \varepsilon\,],

so a Newton step is a weighted least-squares solve on the current inliers. Once the inlier
set of the minimiser is found the model is exact and one more step lands on the minimum: the
method converges in a handful of steps (semismooth Newton, Qi and Sun 1993), where gradient
methods are held back by the curvature bound (1, that of the quadratic part) while only a few
points are inliers. Each step forms ``H`` in one pass over the data, O(n p^2), for at most
:data:`~gdlinreg._loop.options.NEWTON_MAX_PARAMS` parameters.

Safeguards: where fewer points are inliers than there are parameters ``H`` is singular, so the
step solves ``(H + mu I) d = -g`` with Levenberg-Marquardt's ``mu = c min(1, |G| / |G_0|)``
(``G`` the gradient map, per target) shrinking with the gradient, ``c`` starting at 1e-2 and
divided by 10 after a full step, multiplied by 10 after a shortened one (within [1e-12, 1]);
a backtracking (Armijo) line search keeps every step a descent. With an l1 part or a sign
constraint the step is proximal Newton's (Lee, Sun and Saunders 2014): ``d = u - theta``
where ``u`` minimises the quadratic model plus the non-smooth part, found by FISTA on the
p x p model (no pass over the data) to a gradient map ``min(0.1, |G| / |G_0|)`` times the outer
one (superlinear) and finished by an exact solve on its support, and the line search
asks ``F(theta + s d) <= F(theta) + 1e-4 s (g'd + h(theta + d) - h(theta))``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._problem.composite import rounding_slack

if TYPE_CHECKING:
    from .._kernels.types import Blocks, FloatArray
    from .._problem.composite import Problem

_ARMIJO = 1e-4
# Levenberg-Marquardt's first c in mu = c min(1, |G| / |G_0|), against a Hessian whose diagonal
# is at most 1 (standardised columns). With c fixed, measured on load_diabetes and outlier data,
# 1e-2 took 4 - 23 steps where 1 took 11 - 170 (damped steps while few points are inliers).
_DAMPING = 1e-2
# ... never below this (against the unit diagonal), so that H + mu I is never singular.
_FLOOR = 1e-12
_MAX_BACKTRACKS = 60
# Iterations of the inner FISTA on the quadratic model (each O(p^2), no pass over the data).
_MAX_INNER = 2000


def newton_iterates(problem: Problem, theta: FloatArray) -> Blocks:
    """(Proximal) Newton steps with a line search; see the module docstring. Ends (the driver
    says "stalled") when no step can lower the objective beyond its rounding."""
    value, grad, hess = problem.newton_system(theta)
    # (the data form's newton_system is a pass: its own a few eps of the value suffice)
    gram = not problem.objective.reads_data
    slack = rounding_slack(problem, theta, value) if gram else 0.0
    eye = np.eye(theta.shape[0])
    eps = np.finfo(float).eps
    # On the Gram form the objective is quadratic and its Hessian exact: no damping, so the
    # first step lands on the minimum (of the smooth part; a path's warm start is close).
    first, damping = None, (_FLOOR if gram else _DAMPING)
    while True:
        size = np.sqrt(np.sum(problem.gradient_map(theta, grad, 1.0) ** 2, axis=0))
        if first is None:
            first = np.where(size > 0, size, 1.0)
        ratio = np.minimum(size / first, 1.0)
        system = hess + (damping * ratio + _FLOOR)[:, None, None] * eye
        if problem.smooth:
            direction = -np.linalg.solve(system, grad.T[:, :, None])[:, :, 0].T
        else:
            forcing = np.minimum(ratio, 0.1) * size
            direction = _model_minimiser(problem, theta, grad, system, forcing) - theta
        h0 = problem.nonsmooth_value(theta)
        predicted = float(
            np.sum(grad * direction) + problem.nonsmooth_value(theta + direction) - h0
        )
        if not np.any(direction):
            return
        # Near the minimum rounding in h's two values can outweigh g'd: no decrease is then
        # asked for beyond what the objective resolves (the test below).
        predicted = min(predicted, 0.0)
        # (On the Gram form the value's rounding is that of its terms, not of the residual
        # it amounts to: rounding_slack. On the data form it is a few eps of the value.)
        resolution = max(8 * eps * abs(float(value)), float(np.max(slack)))
        s, accepted = 1.0, False
        for _ in range(_MAX_BACKTRACKS):
            trial = theta + s * direction
            trial_value, trial_grad = problem.value_and_gradient(trial)
            trial_value = float(trial_value)
            if trial_value <= value + _ARMIJO * s * predicted:
                accepted = True
                break
            # The decrease asked for is below what the computed objective resolves: rounding,
            # not the step, decides the test; a step that does not raise it is taken.
            if -s * predicted <= resolution:
                accepted = bool(trial_value <= value + resolution)
                break
            s *= 0.5
        if not accepted:
            return
        theta = trial
        # Levenberg-Marquardt's adaptation: a full step accepted means the model was good
        # (less damping), a shortened one that it was not (more).
        damping = max(damping / 10, _FLOOR) if s == 1.0 else min(damping * 10, 1.0)
        if gram:  # (the Hessian of the statistics is constant: the line search's evaluation)
            value, grad = trial_value, trial_grad
        else:
            value, grad, hess = problem.newton_system(theta)
        yield theta[None], [value], grad[None], [s]


def _model_minimiser(
    problem: Problem, theta: FloatArray, grad: FloatArray, system: FloatArray, target: FloatArray
) -> FloatArray:
    """``argmin_u g'(u - theta) + (u - theta)' A (u - theta) / 2 + h(u)``, one column per
    target with its own ``A`` (``system``, (k, p, p)): FISTA with adaptive restart, until each
    column's gradient map of the model is below ``target``."""
    step = (1.0 / np.linalg.eigvalsh(system)[:, -1])[None, :]
    u = ahead = theta
    t = 1.0
    for _ in range(_MAX_INNER):
        model_grad = grad + np.einsum("kij,jk->ik", system, ahead - theta)
        new = problem.prox(ahead - step * model_grad, step)
        if np.all(np.sqrt(np.sum((ahead - new) ** 2, axis=0)) <= target * step[0]):
            u = new
            break
        if np.sum((ahead - new) * (new - u)) > 0:
            t = 1.0  # the momentum points uphill: restart
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        ahead = new + ((t - 1.0) / t_next) * (new - u)
        u, t = new, t_next
    return _polish(problem, theta, grad, system, u)


def _polish(
    problem: Problem, theta: FloatArray, grad: FloatArray, system: FloatArray, u: FloatArray
) -> FloatArray:
    """FISTA's ``u`` refined by the exact minimiser of the model on its support with its signs
    (the l1 part is linear there), kept where it keeps those signs and lowers the model.

    Near the minimum the support is the minimiser's, and this solve is exact where FISTA on an
    ill-conditioned model (few inliers) would need many more iterations than it is given."""
    l1 = float(getattr(problem.penalty, "l1", 0.0))
    out: FloatArray = u.copy()
    for j in range(u.shape[1]):
        free = (u[:, j] != 0) | ~problem.is_coef[:, 0]
        sign = np.sign(u[free, j])
        rhs = -(grad[free, j] + l1 * problem.weights[free, 0] * sign)
        try:
            move = np.linalg.solve(system[j][np.ix_(free, free)], rhs)
        except np.linalg.LinAlgError:
            continue
        v = np.zeros(u.shape[0])
        v[free] = theta[free, j] + move
        coef = problem.is_coef[free, 0]
        if np.any(np.sign(v[free][coef]) != sign[coef]):
            continue
        if _model_value(problem, theta, grad, system, v, j) <= _model_value(
            problem, theta, grad, system, u[:, j], j
        ):
            out[:, j] = v
    return out


def _model_value(
    problem: Problem,
    theta: FloatArray,
    grad: FloatArray,
    system: FloatArray,
    v: FloatArray,
    j: int,
) -> float:
    """The quadratic model of target ``j`` plus its non-smooth part, at ``v``."""
    move = v - theta[:, j]
    point = theta.copy()
    point[:, j] = v
    h = problem.nonsmooth_value(point) - problem.nonsmooth_value(theta)
    return float(grad[:, j] @ move + 0.5 * move @ system[j] @ move + h)
