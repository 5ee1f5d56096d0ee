r"""Textbook gradient descent: the update a learner writes down, and the one that runs.

For every problem, ``solver="gd"`` performs

.. math:: \theta_{t+1} = \mathrm{prox}_{a_t}\bigl(\theta_t - a_t \nabla J(\theta_t)\bigr),
          \qquad a_t = \text{base} \cdot \text{schedule}(t),

once per step, in :func:`gd_iterates` (the line marked "the textbook update"). The proximal
map is the identity without an l1 penalty or a constraint, so the tutorial's fit is exactly
``theta - step * grad``. Momentum and a backtracking line search are variants of the same
loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .._kernels.types import Blocks, FloatArray, Value
    from .._problem.composite import Problem
    from .run import Run

# Iterates per block handed to the driver when their values can wait: the driver tests,
# records and reports a block at once, so its own cost is paid once per block, not per step.
# Blocks start small and double, so that a fit stopped by tol early computes few steps past
# its stop.
_FIRST_BLOCK = 8
_BLOCK = 512
# Backtracking halves the trial step at most this many times.
_MAX_BACKTRACKS = 60


def gd_iterates(run: Run) -> Blocks:
    r"""(Proximal) gradient descent ``theta <- prox(theta - a_t grad J(theta))`` with the step
    ``a_t = base * schedule(t)``, and optional momentum :math:`\mu`: heavy-ball
    ``theta <- prox(theta - a_t grad J(theta) + mu v)`` or Nesterov's
    ``theta <- prox(theta + mu v - a_t grad J(theta + mu v))``, ``v`` being the last move.
    With ``line_search`` (no momentum) the step is backtracked from ``a_t`` until the
    (proximal) Armijo condition holds.

    Where the objective's value is needed at every step (a pass over the data gives it with
    the gradient; a line search or a schedule that reacts to the loss reads it), each step is
    its own block. Otherwise (the Gram form: a gradient costs O(p^2)) a step computes only
    the gradient, and the values of a block of steps come from one evaluation of the stack.
    """
    problem, schedule, options = run.problem, run.schedule, run.options
    momentum, nesterov, line_search = options.momentum, options.nesterov, options.line_search
    base, t, reacts = run.base, run.t0, schedule.reacts_to_loss
    if reacts:
        schedule.bind(base, options.tol, options.n_iter_no_change)
    each_step = problem.objective.reads_data or line_search or reacts
    size = 1 if each_step else _FIRST_BLOCK
    # Never past max_iter: a breakpoint on the update stops exactly once per step taken. (Past
    # a tol stop, the rest of its block is computed and dropped by the driver.)
    left = options.max_iter
    gradient, prox = problem.gradient, problem.prox
    plain = not (momentum or line_search)
    theta = run.theta
    value, grad = problem.value_and_gradient(theta)
    velocity = np.zeros_like(theta)
    while left > 0:
        size = min(size, left)
        left -= size
        # (lists, stacked once per block: cheaper per step than writing into arrays)
        thetas: list[FloatArray] = []
        steps: list[float] = []
        for _ in range(size):
            step = base * schedule(t)
            if plain:
                theta = prox(theta - step * grad, step)  # the textbook update
            elif line_search:
                theta, value, grad, step = backtrack(problem, theta, value, grad, step, run)
            else:
                previous = theta
                if nesterov:
                    look = theta + momentum * velocity
                    theta = prox(look - step * gradient(look), step)
                else:
                    theta = prox(theta - step * grad + momentum * velocity, step)
                velocity = theta - previous
            if not each_step:
                grad = gradient(theta)
            elif not line_search:
                value, grad = problem.value_and_gradient(theta)
            if reacts:
                schedule.observe(float(value))
            thetas.append(theta)
            steps.append(step)
            t += 1
        if each_step:
            yield theta[None], [value], grad[None], steps
        else:
            stack = np.array(thetas)  # (np.stack: three times the cost per iterate)
            values, grads = problem.value_and_gradient(stack)
            yield stack, np.asarray(values), grads, steps
            size = min(2 * size, _BLOCK)


def backtrack(
    problem: Problem, theta: FloatArray, value: Value, grad: FloatArray, step: float, run: Run
) -> tuple[FloatArray, Value, FloatArray, float]:
    """Largest ``step / 2**j`` meeting the proximal Armijo (sufficient decrease) condition
    ``f(new) <= f(theta) + grad.(new - theta) + |new - theta|^2 / (2 step)`` for the smooth
    part ``f``; for a smooth problem this is ``f(new) <= f(theta) - step/2 |grad|^2``.

    Near the minimum the decrease asked for falls below what the computed objective can
    resolve (a few ulps of it), and rounding would decide the test; there the guaranteed
    descent step ``run.safe_step`` (1/L) is taken instead of a longer one."""
    safe_step = run.safe_step
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
