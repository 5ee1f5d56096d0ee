"""Nesterov's accelerated (proximal) gradient method, FISTA."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .gd import backtrack

if TYPE_CHECKING:
    from .._kernels.types import Blocks
    from .run import Run


def agd_iterates(run: Run) -> Blocks:
    """Nesterov's accelerated (proximal) gradient, FISTA, with O'Donoghue and Candes' adaptive
    restart: the momentum is dropped whenever it points uphill. The step is ``run.base``
    (1/L, or the number given), backtracked with ``line_search``."""
    problem, theta, step = run.problem, run.theta, run.base
    line_search = run.options.line_search
    ahead, t = theta, 1.0
    while True:
        value_ahead, g_ahead = problem.value_and_gradient(ahead)
        if line_search:
            new, _, _, step = backtrack(problem, ahead, value_ahead, g_ahead, step, run)
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
