"""On the Gram form, a fit goes on past ``tol`` to the accuracy the statistics allow.

A step there costs O(p^2), nothing next to the pass that built the statistics, and the
statistics resolve the minimiser to about ``cond * eps`` (they are centred as they are built),
far below what the default ``tol=1e-10`` certifies: stopping at ``tol`` would leave digits on
the table that a few more steps recover for free. So once the ``tol`` criterion holds, the
iteration continues while the gradient still shrinks, and ends where it reaches its rounding
floor, stops shrinking (its best over a window of ``_WINDOW`` steps is not a quarter of the
best before it: conjugate gradients' gradient is not monotone, and a slow but real descent
shrinks it that much over a window where rounding does not), or has taken twice as many
further steps as there are parameters (conjugate gradients end in ``p`` steps in exact
arithmetic).

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

#: Past ``tol``, stop once the best squared gradient of the last ``_WINDOW`` steps is not
#: below this share of the best before them: conjugate gradients then only stir rounding.
#: (Per step, a rule of "4x in 3 steps" stopped CG at 1e-10 on a design of condition number
#: 360 whose statistics resolve it to 1e-14: it converges by about 0.8 a step there.)
_SHRINK = 0.25
_WINDOW = 10
#: With ``tol=None`` the extra steps start where the default criterion (``tol=1e-10``) holds.
GATE = 1e-10
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
        self.budget = max(2 * _WINDOW, 2 * n_params)
        self.met = False
        # The best squared gradient at the start of the current window, and within it.
        self.before = self.best = np.inf
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
                self.met, self.before = True, size
            else:
                self.extra += 1
                self.since += 1
                self.best = min(self.best, size)
                if self.since == _WINDOW:
                    if not self.best < _SHRINK * self.before:
                        out[i] = True
                        break
                    self.before, self.best, self.since = self.best, np.inf, 0
            done = self.extra >= self.budget
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
