"""Regression losses: value, derivative and curvature bound; one registry.

A loss here is a function :math:`\\ell(r)` of the residual :math:`r = \\hat y - y`. The objective
that the solvers minimise is its weighted mean over samples, summed over targets,

.. math:: J(w, b) = \\sum_i p_i \\sum_k \\ell(x_i^\\top w_k + b_k - y_{ik}),
   \\qquad p_i = s_i / \\textstyle\\sum_j s_j,

where :math:`s_i` are the sample weights (all ones by default, so :math:`p_i = 1/n`).

To add a loss, write one small class with ``name``, ``value``, ``derivative`` and ``curvature``
(and, optionally, ``second_derivative``, for Newton's method) and add one line to
:data:`LOSSES`; the contract test in ``tests/test_losses.py`` picks it up.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._kernels.types import FloatArray
    from ._protocols.registry import Loss

__all__ = ["LOSSES", "MSE", "HalfMSE", "Huber", "get_loss"]


class _ScaledSquare:
    """:math:`\\ell(r) = c\\,r^2` for a constant ``factor`` :math:`c`."""

    name: str = ""
    factor: float = 1.0
    #: The objective is a quadratic in the coefficients, so the solver may use sufficient
    #: statistics (the Gram form) and exact line searches (conjugate gradients).
    is_quadratic: bool = True

    def value(self, residual: np.ndarray, weights: np.ndarray) -> float:
        """Weighted mean loss :math:`\\sum_i p_i \\sum_k c\\,r_{ik}^2`.

        ``residual`` has shape (n, k); ``weights`` are the normalised :math:`p_i`, shape (n,).
        """
        return float(self.factor * (weights @ np.square(residual)).sum())

    def derivative(self, residual: np.ndarray) -> np.ndarray:
        """:math:`\\ell'(r) = 2c\\,r`."""
        return (2.0 * self.factor) * residual

    @property
    def curvature(self) -> float:
        """An upper bound on :math:`\\ell''(r)`; here exactly :math:`2c` everywhere."""
        return 2.0 * self.factor

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class HalfMSE(_ScaledSquare):
    """Half mean squared error, ``loss="half_mse"``.

    .. math:: J = \\frac{1}{2n}\\sum_i r_i^2, \\qquad
       \\nabla_w J = \\frac{1}{n} X^\\top r, \\qquad \\nabla_b J = \\frac{1}{n}\\sum_i r_i,

    with :math:`\\sum_i s_i` in place of :math:`n` and :math:`s_i r_i` in place of :math:`r_i`
    under sample weights. The factor 1/2 cancels the 2 of the derivative. This is what
    scikit-learn calls ``"squared_error"`` in its SGD and gradient-boosting models.

    Examples
    --------
    >>> import numpy as np
    >>> HalfMSE().value(np.array([[1.0], [3.0]]), np.array([0.5, 0.5]))
    2.5
    """

    name = "half_mse"
    factor = 0.5


class MSE(_ScaledSquare):
    """Mean squared error, ``loss="mse"``.

    .. math:: J = \\frac{1}{n}\\sum_i r_i^2, \\qquad
       \\nabla_w J = \\frac{2}{n} X^\\top r, \\qquad \\nabla_b J = \\frac{2}{n}\\sum_i r_i.

    It is exactly twice :class:`HalfMSE`, so it has the same minimiser (the least-squares
    solution). Its gradient is twice as large, so gradient descent with learning rate ``a`` on
    MSE takes exactly the steps of gradient descent with ``2 * a`` on half-MSE.

    Examples
    --------
    >>> import numpy as np
    >>> MSE().value(np.array([[1.0], [3.0]]), np.array([0.5, 0.5]))
    5.0
    """

    name = "mse"
    factor = 1.0


class Huber:
    """Huber's robust loss, ``loss="huber"``, with threshold ``epsilon`` :math:`\\varepsilon`:

    .. math::

        \\ell(r) = \\begin{cases} r^2/2 & \\text{if } |r| \\le \\varepsilon, \\\\
        \\varepsilon |r| - \\varepsilon^2/2 & \\text{otherwise,} \\end{cases} \\qquad
        \\ell'(r) = \\mathrm{clip}(r, -\\varepsilon, \\varepsilon), \\qquad 0 \\le \\ell'' \\le 1.

    Quadratic (half-MSE) for small residuals, linear for large ones, so outliers pull on the
    fit with a bounded force. ``epsilon`` is in the units of y (scikit-learn's ``SGDRegressor``
    uses the same definition; ``HuberRegressor`` also estimates a scale). Not a quadratic, so
    it runs on the data, not on sufficient statistics: by Newton's method by default, its
    generalised Hessian being the inlier indicator :meth:`second_derivative`.

    Examples
    --------
    >>> import numpy as np
    >>> Huber(epsilon=1.0).value(np.array([[0.5], [3.0]]), np.array([0.5, 0.5]))
    1.3125
    """

    name = "huber"
    is_quadratic = False
    curvature = 1.0

    def __init__(self, epsilon: float = 1.35) -> None:
        self.epsilon = epsilon

    def value(self, residual: FloatArray, weights: FloatArray) -> float:
        a = np.abs(residual)
        eps = self.epsilon
        per = np.where(a <= eps, 0.5 * residual * residual, eps * a - 0.5 * eps * eps)
        return float((weights @ per).sum())

    def derivative(self, residual: FloatArray) -> FloatArray:
        return np.clip(residual, -self.epsilon, self.epsilon)

    def second_derivative(self, residual: FloatArray) -> FloatArray:
        """:math:`\\ell''(r) = 1` for :math:`|r| \\le \\varepsilon` (an inlier), else 0: the
        generalised Hessian of Newton's method (``solver_ == "newton"``), which makes each
        Newton step a weighted least-squares solve on the current inliers."""
        return (np.abs(residual) <= self.epsilon).astype(float)

    def check_scale(self, y_spread: FloatArray) -> None:
        """Refuse an ``epsilon`` too small for y's spread (the optional hook through which a
        loss checks its own parameters against the data)."""
        spread = float(np.max(y_spread, initial=0.0))
        if self.epsilon < 1e-8 * spread:
            raise ValueError(
                f"epsilon={self.epsilon:g} is below 1e-8 times the spread of y ({spread:.3g}): "
                "the Huber gradient would vanish under rounding. Use a larger epsilon (it is "
                "in the units of y)."
            )

    def __repr__(self) -> str:
        return f"Huber(epsilon={self.epsilon!r})"


#: The loss registry: ``loss=<key>`` in the estimator and in :func:`gradient_descent`.
LOSSES: dict[str, type[HalfMSE] | type[MSE] | type[Huber]] = {
    HalfMSE.name: HalfMSE,
    MSE.name: MSE,
    Huber.name: Huber,
}


_PARAMETERS: dict[type, frozenset[str]] = {}


def _parameters(cls: type) -> frozenset[str]:
    # inspect.signature of a class without __init__ parses object's text signature: about
    # 0.3 ms, an eighth of a small fit. Computed once per class.
    if cls not in _PARAMETERS:
        _PARAMETERS[cls] = frozenset(inspect.signature(cls).parameters)
    return _PARAMETERS[cls]


def get_loss(loss: str | Loss, **params: float) -> Loss:
    """Return the loss object for a registry name (built with those of ``params`` its class
    takes, e.g. ``epsilon``), or the object itself.

    Examples
    --------
    >>> get_loss("mse")
    MSE()
    """
    if isinstance(loss, str):
        try:
            cls = LOSSES[loss]
        except KeyError:
            raise ValueError(
                f"loss={loss!r} is not a known loss; use one of {sorted(LOSSES)}."
            ) from None
        accepted = _parameters(cls)
        return cls(**{k: v for k, v in params.items() if k in accepted})
    if all(hasattr(loss, a) for a in ("value", "derivative", "curvature", "is_quadratic")):
        return loss
    raise TypeError(
        f"loss must be a string among {sorted(LOSSES)} or a loss object with value, derivative, "
        f"curvature and is_quadratic; got {type(loss).__name__}."
    )
