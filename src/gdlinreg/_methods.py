"""The iterations: each a generator of blocks ``(thetas, values, gradients)``.

A block is one or more consecutive iterates, stacked on a leading axis. The driver in
``_solver`` counts steps, tests ``tol``, catches divergence and keeps the history, so a method
here is only its update rule.
"""

import numpy as np

# Fixed steps evaluated at once, when the objective can form their affine operators.
_BLOCK_STEPS = 512


def gd_iterates(objective, theta, step, fast):
    """Textbook gradient descent, ``theta <- theta - step * grad J(theta)``."""
    if fast:
        powers, shifts = objective.fixed_step_block(step, _BLOCK_STEPS)
        while True:
            thetas = powers @ theta + shifts
            values, grads = objective.value_and_gradient(thetas)
            yield thetas, values, grads
            theta = thetas[-1]
    _, grad = objective.value_and_gradient(theta)
    while True:
        theta = theta - step * grad
        value, grad = objective.value_and_gradient(theta)
        yield theta[None], [value], grad[None]


def cg_iterates(objective, theta):
    """Conjugate gradients (Polak-Ribiere+, fresh gradients), one target per column.

    Ends early when even a steepest-descent step cannot lower the objective: rounding then
    dominates and the ``tol`` asked for is out of reach in this precision.
    """
    value, grad = objective.value_and_gradient(theta)
    slack = 64 * np.finfo(float).eps * abs(value)
    direction = -grad
    gg = np.sum(grad * grad, axis=0)
    zero = np.zeros_like(gg)
    restarted = True
    while True:
        curv = np.sum(direction * objective.hessian_product(direction), axis=0)
        # Exact line search along the direction; a column already at its minimum stays put.
        alpha = np.divide(gg, curv, out=zero.copy(), where=curv > 0)
        trial = theta + alpha * direction
        trial_value, new = objective.value_and_gradient(trial)
        if not trial_value <= value + slack:
            if restarted:
                return
            direction, restarted = -grad, True
            continue
        theta, value, restarted = trial, trial_value, False
        # Recomputing the gradient (not updating it by recurrence) keeps the iteration honest
        # once rounding dominates; PR+ then restarts by itself when directions lose conjugacy.
        beta = np.divide(np.sum(new * (new - grad), axis=0), gg, out=zero.copy(), where=gg > 0)
        direction = -new + np.maximum(beta, 0.0) * direction
        grad, gg = new, np.sum(new * new, axis=0)
        yield theta[None], [value], grad[None]


def agd_iterates(objective, theta, step):
    """Nesterov's accelerated gradient with adaptive (gradient) restart."""
    ahead, t = theta, 1.0
    while True:
        _, g_ahead = objective.value_and_gradient(ahead)
        new = ahead - step * g_ahead
        # O'Donoghue & Candes: restart the momentum when it points uphill.
        if np.sum(g_ahead * (new - theta)) > 0:
            t = 1.0
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        ahead = new + ((t - 1.0) / t_next) * (new - theta)
        theta, t = new, t_next
        value, grad = objective.value_and_gradient(theta)
        yield theta[None], [value], grad[None]
