r"""Exact leave-one-out errors of the l2 path, for every alpha at once (``cv=None``).

With an unpenalised intercept and the l2 penalty on the coefficients in the user's
coordinates, the fitted values are :math:`\hat y = H y` with the hat matrix

.. math:: H = \mathbf 1 \mathbf p^\top + X_c (C + a I)^{-1} X_c^\top P, \qquad
          C = X_c^\top P X_c = V \Lambda V^\top,

where :math:`X_c` is X centred at its weighted means, :math:`P` the normalised weights and
:math:`a` the ridge of the solver's equations (``alpha`` for half-MSE, ``alpha / 2`` for MSE).
The two parts are orthogonal in the weighted inner product, so the intercept needs no
special care. One pass forms :math:`U = X_c V` and :math:`c = U^\top P y_c`; then for each
alpha, in :math:`O(nd)`, the leverages :math:`h_i = p_i + p_i \sum_j U_{ij}^2 / (\lambda_j + a)`,
the residuals :math:`r = y_c - U\,\mathrm{diag}(1 / (\lambda + a))\, c`, and the leave-one-out
residuals :math:`r_i / (1 - h_i)` (RidgeCV's formula, weighted as its scorers weight).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._kernels.sparse import is_sparse

if TYPE_CHECKING:
    from .._kernels.types import FloatArray, Matrix


def ridge_loo_mse(
    X: Matrix, Y: FloatArray, weights: FloatArray, ridges: FloatArray, fit_intercept: bool
) -> FloatArray:
    """The weighted mean squared leave-one-out error, shape (len(ridges), k), of the ridge
    fits with these ``ridges`` (see the module doc); without an intercept nothing is
    centred and the leverage has no ``p_i`` term."""
    p = weights / weights.sum()
    dense = X.toarray() if is_sparse(X) else np.asarray(X, dtype=np.float64)
    x_mean = p @ dense if fit_intercept else np.zeros(dense.shape[1])
    y_mean = p @ Y if fit_intercept else np.zeros(Y.shape[1])
    Xc, Yc = dense - x_mean, Y - y_mean
    root = np.sqrt(p)[:, None]
    # C = Xc' P Xc from the square-root-weighted rows: its eigenvectors V, and U = Xc V.
    lam, V = np.linalg.eigh((Xc * root).T @ (Xc * root))
    lam = np.maximum(lam, 0.0)
    U = Xc @ V
    c = U.T @ (p[:, None] * Yc)
    base = p if fit_intercept else np.zeros_like(p)
    squares = U * U
    out = np.empty((len(ridges), Y.shape[1]))
    for i, a in enumerate(ridges):
        inv = 1.0 / (lam + a)
        leverage = base + p * (squares @ inv)
        residual = Yc - U @ (inv[:, None] * c)
        loo = residual / (1.0 - leverage)[:, None]
        out[i] = p @ (loo * loo)
    return out
