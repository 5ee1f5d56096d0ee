"""Penalties on the coefficients (never the intercept): value, smooth part, prox; one registry.

With ``alpha`` :math:`\\alpha` and ``l1_ratio`` :math:`\\rho`, the penalised objective is

.. math:: J(w, b) + \\alpha\\Big(\\rho\\,\\|w\\|_1 + \\frac{1-\\rho}{2}\\|w\\|_2^2\\Big),

the parametrisation of scikit-learn's ``ElasticNet`` and ``SGDRegressor``: with
``loss="half_mse"`` the minimiser is exactly ``ElasticNet(alpha, l1_ratio)``'s,
``Lasso(alpha)``'s for "l1", and ``Ridge(alpha=n * alpha)``'s for "l2" (Ridge's loss is the
*sum* of squares, :math:`2n` times half-MSE; with sample weights, :math:`\\sum_i s_i` in place of
:math:`n`). With ``loss="mse"`` the loss is doubled, so the same minimisers need ``alpha``
doubled.

A penalty splits into a smooth quadratic part (handled with the gradient, and by conjugate
gradients) and an :math:`\\ell_1` part handled by its proximal map, soft-thresholding, so that
coefficients reach exact zeros. ``weights`` scale the penalty per coordinate (the solver works
on standardised coordinates); a weight of 0 leaves a coordinate unpenalised.

To add a penalty, write one small class with ``l2`` (the curvature of its smooth part),
``is_smooth``, ``value``, ``nonsmooth_value``, ``smooth_gradient`` and ``prox`` (or subclass
:class:`ElasticNet` with other ``l1`` and ``l2`` shares) and add one line to :data:`PENALTIES`;
``tests/test_penalties.py`` checks every entry. A constraint (:class:`NonNegative`) is a penalty
whose value is 0 on its set and whose proximal map is the projection onto it; it has its own
registry, :data:`CONSTRAINTS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ._kernels.types import FloatArray, Value
    from ._protocols.registry import Constraint, Penalty

__all__ = [
    "CONSTRAINTS",
    "L1",
    "L2",
    "PENALTIES",
    "ElasticNet",
    "NonNegative",
    "get_constraint",
    "get_penalty",
]


class ElasticNet:
    """:math:`\\alpha(\\rho\\|w\\|_1 + \\frac{1-\\rho}{2}\\|w\\|_2^2)`.

    Examples
    --------
    >>> import numpy as np
    >>> pen = ElasticNet(alpha=1.0, l1_ratio=0.5)
    >>> float(pen.value(np.array([[2.0], [-1.0]])))
    2.75
    >>> pen.prox(np.array([[2.0], [-0.2]]), step=1.0)
    array([[1.5],
           [0. ]])
    """

    name = "elasticnet"

    def __init__(self, alpha: float = 1e-4, l1_ratio: float = 0.15) -> None:
        self.alpha = alpha
        self.l1_ratio = l1_ratio

    @property
    def l1(self) -> float:
        """The weight of :math:`\\|w\\|_1`."""
        return self.alpha * self.l1_ratio

    @property
    def l2(self) -> float:
        """The curvature of the smooth part :math:`\\frac{l_2}{2}\\|w\\|_2^2`."""
        return self.alpha * (1.0 - self.l1_ratio)

    @property
    def is_smooth(self) -> bool:
        """Whether the penalty is all smooth part (no proximal step, so conjugate gradients
        apply)."""
        return self.l1 == 0

    def nonsmooth_value(self, coef: FloatArray, weights: FloatArray | float = 1.0) -> Value:
        """The part of :meth:`value` that :meth:`prox` handles (the backtracking line search
        tests the decrease of the rest)."""
        if self.l1 == 0:
            return 0.0
        total: Value = np.sum(np.asarray(weights) * np.abs(coef), axis=(-2, -1))
        return self.l1 * total

    def value(self, coef: FloatArray, weights: FloatArray | float = 1.0) -> Value:
        """The penalty of ``coef`` of shape (..., p, k), summed over the last two axes."""
        w = np.asarray(weights)
        # (np.add.reduce: np.sum's reduction without its Python layer; a conjugate-gradient
        # step on a small ridge problem evaluates this once)
        l2: Value = np.add.reduce(w * w * coef * coef, axis=(-2, -1))
        if self.l1 == 0:  # (ridge: the l1 term is 0 times the sum, which adds nothing)
            return 0.5 * self.l2 * l2
        l1: Value = np.add.reduce(w * np.abs(coef), axis=(-2, -1))
        return self.l1 * l1 + 0.5 * self.l2 * l2

    def smooth_gradient(self, coef: FloatArray, weights: FloatArray | float = 1.0) -> FloatArray:
        """Gradient of the smooth part, :math:`l_2\\,\\mathrm{diag}(weights)^2 w`."""
        w = np.asarray(weights)
        grad: FloatArray = self.l2 * (w * w) * coef
        return grad

    def prox(
        self, coef: FloatArray, step: FloatArray | float, weights: FloatArray | float = 1.0
    ) -> FloatArray:
        """Soft-thresholding, :math:`\\mathrm{sign}(v)\\max(|v| - step\\,l_1 w, 0)`: the proximal
        map of the :math:`\\ell_1` part (the smooth part goes with the gradient)."""
        if self.l1 == 0:
            return coef
        threshold = step * self.l1 * np.asarray(weights)
        # "+ 0.0" turns the -0.0 of thresholded negatives into plain zeros.
        return np.sign(coef) * np.maximum(np.abs(coef) - threshold, 0.0) + 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha!r}, l1_ratio={self.l1_ratio!r})"


class L2(ElasticNet):
    """:math:`\\frac{\\alpha}{2}\\|w\\|_2^2` (ridge): ``ElasticNet`` with ``l1_ratio=0``.

    Examples
    --------
    >>> import numpy as np
    >>> float(L2(alpha=2.0).value(np.array([[3.0]])))
    9.0
    """

    name = "l2"

    def __init__(self, alpha: float = 1e-4, l1_ratio: float | None = None) -> None:
        super().__init__(alpha, 0.0)


class L1(ElasticNet):
    """:math:`\\alpha\\|w\\|_1` (lasso): ``ElasticNet`` with ``l1_ratio=1``.

    Examples
    --------
    >>> import numpy as np
    >>> L1(alpha=0.5).prox(np.array([[2.0], [0.3]]), step=1.0)
    array([[1.5],
           [0. ]])
    """

    name = "l1"

    def __init__(self, alpha: float = 1e-4, l1_ratio: float | None = None) -> None:
        super().__init__(alpha, 1.0)


#: The penalty registry: ``penalty=<key>``.
PENALTIES: dict[str, type[ElasticNet]] = {cls.name: cls for cls in (L2, L1, ElasticNet)}


class NonNegative:
    """The constraint :math:`w \\ge 0` (``positive=True``): the indicator of the non-negative
    orthant, whose proximal map is the projection onto it (skglm's ``IndicatorBox``). It acts
    on the coefficients only, never on the intercept.

    Examples
    --------
    >>> import numpy as np
    >>> theta, is_coef = np.array([[-1.0], [2.0], [-3.0]]), np.array([[True], [True], [False]])
    >>> NonNegative().project(theta, is_coef)
    array([[ 0.],
           [ 2.],
           [-3.]])
    """

    name = "positive"

    def project(self, theta: FloatArray, is_coef: NDArray[np.bool_]) -> FloatArray:
        """The nearest point of the constraint set: ``theta`` with its coefficient rows
        (``is_coef``) clipped at zero."""
        projected: FloatArray = np.where(is_coef, np.maximum(theta, 0.0), theta)
        return projected

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


#: The constraint registry: ``positive=True`` is ``CONSTRAINTS["positive"]``.
CONSTRAINTS: dict[str, type[NonNegative]] = {NonNegative.name: NonNegative}


def get_constraint(positive: bool) -> Constraint | None:
    """The constraint object for ``positive`` (None: unconstrained).

    Examples
    --------
    >>> get_constraint(True)
    NonNegative()
    """
    return CONSTRAINTS["positive"]() if positive else None


def get_penalty(penalty: str | Penalty | None, alpha: float, l1_ratio: float) -> Penalty | None:
    """The penalty object for ``penalty`` (None, a registry name, or an object).

    Examples
    --------
    >>> get_penalty("l1", alpha=0.5, l1_ratio=0.15)
    L1(alpha=0.5, l1_ratio=1.0)
    """
    if penalty is None:
        return None
    if isinstance(penalty, str):
        if penalty not in PENALTIES:
            raise ValueError(
                f"penalty={penalty!r} is not known; use None or one of {sorted(PENALTIES)}."
            )
        return PENALTIES[penalty](alpha=alpha, l1_ratio=l1_ratio)
    return penalty
