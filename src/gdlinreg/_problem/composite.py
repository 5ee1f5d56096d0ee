"""The composite problem the methods iterate on: a loss objective plus a penalty and constraint.

The penalty acts on the user's coefficients ``w = theta / scale``; in the solver's coordinates
that is the same penalty with per-coordinate weights ``1 / scale`` (0 for the intercept
coordinate and for constant columns, which are never penalised). The constraint acts on the
coefficient rows of ``theta`` (a positive scale keeps the sign).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .._kernels.types import FloatArray, Value
    from .._problem.coordinates import Coordinates
    from .._protocols.registry import Constraint, Penalty
    from .._protocols.source import Objective


class Problem:
    """``objective(theta) + penalty(theta / scale)`` subject to ``constraint``. The smooth part
    of the penalty joins the gradient; its non-smooth part and the constraint are applied by
    :meth:`prox`."""

    def __init__(
        self,
        objective: Objective,
        coords: Coordinates,
        penalty: Penalty | None = None,
        constraint: Constraint | None = None,
    ) -> None:
        self.objective, self.penalty, self.constraint = objective, penalty, constraint
        self.coords = coords
        inv = coords.inverse_scale[:, 0]
        if coords.augment:
            inv = np.append(inv, 0.0)
        self.weights: FloatArray = inv[:, None]
        self.is_coef = (np.arange(coords.n_params) < coords.offset.size)[:, None]
        self.l2 = 0.0 if penalty is None else penalty.l2
        # The l2 penalty's Hessian, diagonal in these coordinates (kept: a product per step).
        self._l2_diagonal = self.l2 * self.weights**2
        self.smooth = (penalty is None or penalty.is_smooth) and constraint is None
        if penalty is None:
            # Without a penalty these are the objective's own: one Python call less per
            # evaluation, which is a tenth of a small conjugate-gradient step.
            self.value_and_gradient = objective.value_and_gradient  # type: ignore[method-assign]
            self.gradient = objective.gradient  # type: ignore[method-assign]
            self.hessian_product = objective.hessian_product  # type: ignore[method-assign]
        if self.smooth:
            self.prox = _identity  # type: ignore[method-assign]

    def nonsmooth_value(self, theta: FloatArray) -> Value:
        if self.penalty is None:
            return 0.0
        return self.penalty.nonsmooth_value(theta, self.weights)

    def value_and_gradient(self, theta: FloatArray) -> tuple[Value, FloatArray]:
        """The whole objective (loss + penalty) and the gradient of its smooth part."""
        value, grad = self.objective.value_and_gradient(theta)
        if self.penalty is not None:
            value = value + self.penalty.value(theta, self.weights)
            grad = grad + self.penalty.smooth_gradient(theta, self.weights)
        return value, grad

    def gradient(self, theta: FloatArray) -> FloatArray:
        """The gradient of the smooth part alone (on the Gram form, without the value's
        cost)."""
        grad = self.objective.gradient(theta)
        if self.penalty is not None:
            grad = grad + self.penalty.smooth_gradient(theta, self.weights)
        return grad

    def newton_system(self, theta: FloatArray) -> tuple[Value, FloatArray, FloatArray]:
        """:meth:`value_and_gradient` and the smooth part's Hessians, one per target (k, p, p):
        the objective's (its ``newton_system``) plus the l2 penalty's diagonal."""
        value, grad, hess = self.objective.newton_system(theta)  # type: ignore[attr-defined]
        if self.penalty is not None:
            value = value + self.penalty.value(theta, self.weights)
            grad = grad + self.penalty.smooth_gradient(theta, self.weights)
        if self.l2:
            p = theta.shape[0]
            hess = hess.copy()
            hess[:, np.arange(p), np.arange(p)] += self.l2 * self.weights[:, 0] ** 2
        return value, grad, hess

    def hessian_product(self, v: FloatArray) -> FloatArray:
        out = self.objective.hessian_product(v)
        return out + self._l2_diagonal * v if self.l2 else out

    def lipschitz(self, rtol: float = 1e-3) -> float:
        if self.l2 and not self.objective.reads_data:
            # The Gram form's eigenvalues of the penalised Hessian: the verdict reads them.
            return self.objective.lipschitz(rtol, self._l2_diagonal[:, 0])  # type: ignore[call-arg]
        return self.objective.lipschitz(rtol) + self.l2 * float(np.max(self.weights**2))

    def prox(self, theta: FloatArray, step: FloatArray | float) -> FloatArray:
        """The proximal map of the non-smooth part for a step ``step`` (identity if smooth)."""
        if self.penalty is not None and not self.penalty.is_smooth:
            theta = self.penalty.prox(theta, step, self.weights)
        if self.constraint is not None:
            theta = self.constraint.project(theta, self.is_coef)
        return theta

    def gradient_map(
        self, theta: FloatArray, grad: FloatArray, curvature: FloatArray | float
    ) -> FloatArray:
        """``theta - prox(theta - grad / h)``, zero exactly at a minimiser: the step of a
        (proximal) gradient method scaled by ``curvature`` ``h``, a number or one per
        coordinate (p, 1)."""
        if self.smooth:
            return grad / curvature
        return theta - self.prox(theta - grad / curvature, 1.0 / curvature)


def _identity(theta: FloatArray, step: FloatArray | float) -> FloatArray:
    # The proximal map of a smooth problem, without prox's tests at every textbook step.
    return theta


def rounding_slack(problem: Problem, theta: FloatArray, value: Value) -> Value:
    """How far a computed objective may rise by rounding alone: a few eps of its size.

    On the Gram form the value is ``c - b'theta + theta'A theta / 2``, whose rounding is a few
    eps of its terms (of ``c``, the value at zero), not of the residual it amounts to: from a
    warm start near the minimum (``partial_fit``), the value is far below ``c``, and a slack
    relative to it alone would read rounding as a failed descent (a false "stalled")."""
    size = np.abs(value)
    at_zero = getattr(problem.objective, "value_at_zero", None)  # (a pass on the data form)
    if at_zero is not None:  # (no penalty has a value at zero)
        size = np.maximum(size, at_zero)
    return 64 * np.finfo(float).eps * size
