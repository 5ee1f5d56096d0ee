"""On the Gram form, a fit goes on past ``tol`` to the accuracy the statistics allow.

A step there costs O(p^2), nothing next to the pass that built the statistics, and the
statistics resolve the minimiser to about ``cond * eps`` (they are centred as they are built),
far below what the default ``tol=1e-10`` certifies: stopping at ``tol`` would leave digits on
the table that a few more steps recover for free. So once the ``tol`` criterion holds, the
iteration continues while the gradient still shrinks, and ends where it reaches its rounding
floor, stops shrinking, or has taken as many further steps as there are parameters.

The verdict is still the ``tol`` criterion's: the fit is reported "tol" because the criterion
held, and held again at the iterate returned (:func:`confirm`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._kernels.types import FloatArray
    from .._problem.composite import Problem
    from .._problem.gram import GramObjective
    from .driver import ConvergedTest

#: Past ``tol``, stop once the squared gradient has not fallen below this share of its best
#: for ``_PATIENCE`` steps in a row: conjugate gradients then only stir rounding.
_SHRINK = 0.25
_PATIENCE = 3
#: The gradient ``2c (A theta - B)`` carries a few eps of the terms it sums.
_FLOOR_EPS = 8 * np.finfo(np.float64).eps


class Polish:
    """A ``ConvergedTest`` for the Gram form: ``tol_test`` first, then the rounding floor.

    ``met`` tells whether ``tol_test`` has held at some iterate (its verdict after the run,
    with :func:`confirm`)."""

    def __init__(self, tol_test: ConvergedTest, gram: GramObjective, n_params: int) -> None:
        self.tol_test = tol_test
        self.abs_A, self.abs_B = np.abs(gram.A), np.abs(gram.B)
        self.twice = 2.0 * gram.factor
        self.budget = max(10, n_params)
        self.met = False
        self.best = np.inf
        self.since = self.extra = 0

    def __call__(
        self, thetas: FloatArray, values: FloatArray, grads: FloatArray | None
    ) -> NDArray[np.bool_]:
        out = np.zeros(len(values), dtype=bool)
        if grads is None:
            return out
        passed = None if self.met else self.tol_test(thetas, values, grads)
        sizes = np.einsum("ijk,ijk->i", grads, grads).tolist()
        for i, size in enumerate(sizes):
            if not self.met:
                if not passed[i]:  # type: ignore[index]  # (computed while not met)
                    continue
                self.met, self.best = True, size
            else:
                self.extra += 1
                if size < _SHRINK * self.best:
                    self.best, self.since = size, 0
                else:
                    self.since += 1
                    self.best = min(self.best, size)
            done = self.since >= _PATIENCE or self.extra >= self.budget
            if done or size <= self._floor(thetas[i]):
                out[i] = True
                break
        return out

    def _floor(self, theta: FloatArray) -> float:
        terms = self.abs_A @ np.abs(theta) + self.abs_B
        return float(np.sum((_FLOOR_EPS * self.twice * terms) ** 2))


def confirm(polish: Polish, reason: str, last: FloatArray | None, problem: Problem) -> str:
    """The stop reason of a polished fit: "tol" where the criterion held before the extra
    steps and holds at the iterate returned (``last``), whatever ended those steps (a stall
    of the method, ``max_iter``); ``reason`` otherwise."""
    if not polish.met or reason not in ("stalled", "max_iter") or last is None:
        return reason
    grad = problem.value_and_gradient(last)[1]
    ok = polish.tol_test(last[None], np.zeros(1), grad[None])
    return "tol" if bool(ok[0]) else reason
