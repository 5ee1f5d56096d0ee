"""The Gram form of a quadratic objective: each step O(p^2) from the statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._kernels.lanczos import EXACT_EIGEN_MAX, largest_eigenvalue

if TYPE_CHECKING:
    from .._kernels.types import FloatArray, Value
    from .._protocols.registry import QuadraticLoss
    from .coordinates import Coordinates
    from .statistics import Moments


class GramObjective:
    """Quadratic objective :math:`c\\sum_k(\\theta_k^\\top A\\theta_k - 2\\theta_k^\\top B_k
    + T_{kk})` from sufficient statistics, with :math:`A = \\sum_i p_i z_i z_i^\\top`,
    :math:`B = \\sum_i p_i z_i t_i^\\top` and :math:`T = \\sum_i p_i t_i t_i^\\top`.

    ``value_and_gradient`` accepts a stack of parameters (..., p, k), which lets textbook
    gradient descent evaluate a whole block of iterates at once.
    """

    #: A gradient costs O(p^2), not a pass over the data.
    reads_data = False
    #: Passes over the data made by this objective (none: the statistics are at hand).
    passes = 0

    def __init__(
        self, stats: Moments, n_features: int, coords: Coordinates, loss: QuadraticLoss
    ) -> None:
        d = n_features
        cov = stats.scatter / stats.weight_sum
        dx = stats.mean[:d] - coords.offset
        dy = stats.mean[d:] - coords.y_offset
        inv = 1.0 / coords.scale
        # (np.outer(u, v) is u[:, None] * v, behind a Python function: 2 us a call here)
        a = (cov[:d, :d] + dx[:, None] * dx) * (inv[:, None] * inv)
        b = (cov[:d, d:] + dx[:, None] * dy) * inv[:, None]
        if coords.augment:
            a = np.block([[a, (dx * inv)[:, None]], [(dx * inv)[None, :], np.ones((1, 1))]])
            b = np.vstack([b, dy[None, :]])
        self.A, self.B = a, b
        #: The relative error of A beyond a few eps (sparse cross-products; Moments.rounding).
        self.rounding = float(getattr(stats, "rounding", 0.0))
        self.t_sum = float(cov[d:, d:].trace() + dy @ dy)
        self.factor = loss.factor
        #: The objective at theta = 0 (the size of its terms: see rounding_slack).
        self.value_at_zero = self.factor * self.t_sum
        self._twice = 2.0 * self.factor
        # The Hessian and the gradient's constant, kept: a textbook step's gradient is then
        # two NumPy calls. (2c is 1 or 2, so these products are exact: the same numbers as
        # value_and_gradient's.)
        self._hessian, self._shift = self._twice * a, self._twice * b

    def value_and_gradient(self, theta: FloatArray) -> tuple[Value, FloatArray]:
        grad_half = self.A @ theta - self.B
        # theta'A theta - 2 theta'B = theta'(A theta - B) - theta'B. (np.add.reduce is
        # np.sum's reduction without its Python dispatch: a microsecond of a small step.)
        quad = np.add.reduce(theta * (grad_half - self.B), axis=(-2, -1))
        value = self.factor * (quad + self.t_sum)
        return value, self._twice * grad_half

    def gradient(self, theta: FloatArray) -> FloatArray:
        """The gradient at one ``theta`` (p, k), without the value: what a textbook step
        needs. (``ndarray.dot`` for one (p, k) operand: half the cost of ``@`` on arrays this
        small, where a step is a few NumPy calls.)"""
        gradient: FloatArray = self._hessian.dot(theta) - self._shift
        return gradient

    def hessian_product(self, v: FloatArray) -> FloatArray:
        product: FloatArray = self._hessian.dot(v)  # (v is (p, k): as gradient's .dot)
        return product

    def newton_system(self, theta: FloatArray) -> tuple[Value, FloatArray, FloatArray]:
        """The value, the gradient and the Hessian ``2c A``, one copy per target (shape
        (k, p, p), as the data form's): Newton's method on the statistics, where a step is
        one p x p solve and no pass (the penalty paths of cross-validation)."""
        value, grad = self.value_and_gradient(theta)
        hess = np.broadcast_to(self._hessian, (theta.shape[1], *self._hessian.shape)).copy()
        return value, grad, hess

    #: The eigenvalues, ascending, of ``A + diag(spectrum_ridge)`` (``A``'s own where that is
    #: None), once :meth:`lipschitz` has computed them (small A only).
    spectrum: FloatArray | None = None
    spectrum_ridge: FloatArray | None = None

    def lipschitz(self, rtol: float = 1e-3, l2_diagonal: FloatArray | None = None) -> float:
        """The largest curvature of the objective plus ``theta' diag(l2_diagonal) theta / 2``
        (an l2 penalty's Hessian diagonal, in the gradient's units; none if None)."""
        ridge = None if l2_diagonal is None else l2_diagonal / self._twice
        if 0 < self.A.shape[0] <= EXACT_EIGEN_MAX:
            # Kept: the verdict reads them (iterative refinement's test of conditioning), and
            # so does condition_number_ without a penalty: one eigvalsh serves all three.
            self.spectrum = np.linalg.eigvalsh(self.A if ridge is None else self.A + np.diag(ridge))
            self.spectrum_ridge = ridge
            return self._twice * float(self.spectrum[-1])
        # (Weyl: the diagonal adds at most its largest entry)
        top = largest_eigenvalue(self.A, rtol) + (0.0 if ridge is None else float(ridge.max()))
        return self._twice * top
