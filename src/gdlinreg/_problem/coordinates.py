"""The map between the user's coefficients and the solver's parameters, in one place.

The solver works on ``theta`` (p, k) in the coordinates ``z = (x - offset) / scale`` (with a
column of ones appended when the intercept is a coordinate) and ``t = y - y_offset``:
:class:`Coordinates` holds that affine map and its inverse; :func:`coordinates` chooses it
from the statistics (the user's own for textbook gd, centred and standardised for the
engineered methods); :class:`Start` is where a fit starts, :func:`check_start` and
:func:`initial_point` turn ``coef_init``/``intercept_init`` into the
solver's shapes and :func:`to_sklearn_shapes` turns the result back into scikit-learn's.
:meth:`Coordinates.dot` and :meth:`Coordinates.tdot` are ``Z v`` and ``Z' r`` for a block of
rows of X without forming Z (a pass over many blocks uses their two halves,
:meth:`Coordinates.dot_terms` once before and :meth:`Coordinates.tdot_from` once after), and
:meth:`Coordinates.rows` is the explicit ``Z_b`` where a dense block is needed: every data-form
pass (the data form's objective and Newton system, svrg's batches, the curvature of single
rows, iterative refinement) goes through them, so the map and its chain rule are written here
only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._kernels.sparse import is_sparse

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike

    from .._kernels.types import FloatArray, Matrix
    from .statistics import Moments


@dataclass(frozen=True)
class Coordinates:
    """The affine map between the solver's parameters ``theta`` (p, k) and ``(coef, intercept)``.

    ``theta[:d] = scale * coef``; ``theta[d]`` is the intercept when ``augment``; otherwise the
    intercept is the one that fits the offsets exactly: ``y_offset - offset @ coef``.
    """

    offset: FloatArray
    scale: FloatArray
    y_offset: FloatArray
    augment: bool

    @property
    def n_params(self) -> int:
        return int(self.offset.shape[0]) + int(self.augment)

    @property
    def plain(self) -> bool:
        """The user's own coordinates (offset 0, scale 1): ``z = x``, no arithmetic."""
        return not self.offset.any() and bool(np.all(self.scale == 1.0))

    def to_user(self, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Return ``(coef (..., d, k), intercept (..., k))`` for ``theta`` (..., p, k)."""
        coef = theta[..., : self.offset.shape[0], :] / self.scale[:, None]
        return coef, self.intercept(theta, coef)

    def intercept(self, theta: FloatArray, coef: FloatArray) -> FloatArray:
        """The intercept of :meth:`to_user`, given its ``coef``."""
        intercept: FloatArray = self.y_offset - np.einsum("j,...jk->...k", self.offset, coef)
        if self.augment:
            intercept = intercept + theta[..., self.offset.shape[0], :]
        return intercept

    def step_to_user(self, step: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The linear part of :meth:`to_user`, for a change ``step`` of theta."""
        coef = step[..., : self.offset.shape[0], :] / self.scale[:, None]
        return coef, self.intercept_step(step, coef)

    def intercept_step(self, step: FloatArray, coef: FloatArray) -> FloatArray:
        """The intercept of :meth:`step_to_user`, given its ``coef``."""
        intercept: FloatArray = -np.einsum("j,...jk->...k", self.offset, coef)
        if self.augment:
            intercept = intercept + step[..., self.offset.shape[0], :]
        return intercept

    def from_user(self, coef: FloatArray, intercept: FloatArray) -> FloatArray:
        """Inverse of :meth:`to_user` (the intercept is ignored when it is not a coordinate)."""
        # A constant column (scale inf) has no coefficient to start from.
        finite = np.isfinite(self.scale)[:, None]
        theta = np.where(finite, coef * np.where(finite, self.scale[:, None], 0.0), 0.0)
        if self.augment:
            b = intercept - self.y_offset + self.offset @ coef
            theta = np.vstack([theta, b[None, :]])
        return theta

    # The design map ``Z = [(X - offset) / scale | 1]`` (the ones only when ``augment``), for a
    # block of rows ``X_b`` (dense of any float dtype, or scipy.sparse) and ``theta`` or ``r``
    # of shape (p, k) or (n_b, k). offset and scale are float64, so the products are too,
    # whatever X's float type. A constant column (scale inf) is a column of zeros of Z.

    def dot_terms(self, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(w, shift)`` with ``Z theta = X w - shift`` for every block of rows: the weights
        ``w = theta[:d] / scale`` of X's own columns (0 for a constant column, and wherever
        the quotient is not finite) and one shift per column of theta,
        ``offset @ w - theta[d]`` (no ``theta[d]`` unless ``augment``)."""
        d = self.offset.shape[0]
        w = theta[:d] / self.scale[:, None]
        # (a finite sum of squares has finite terms: one BLAS call, cheaper than a mask)
        if not math.isfinite(np.vdot(w, w)):
            w = np.where(np.isfinite(w), w, 0.0)
        shift: FloatArray = self.offset @ w
        return w, shift - theta[d] if self.augment else shift

    @property
    def inverse_scale(self) -> FloatArray:
        """``1 / scale`` as a column (d, 1), 0 for a constant column (scale inf)."""
        finite = np.isfinite(self.scale)
        inv: FloatArray = np.where(finite, 1.0 / np.where(finite, self.scale, 1.0), 0.0)
        return inv[:, None]

    def unscale(self, g: FloatArray) -> FloatArray:
        """Sums over X's columns (d, k), of centred rows, as sums over Z's: ``g / scale``, the
        chain rule's scale part (0 for a constant column)."""
        out: FloatArray = g / self.scale[:, None]
        return out

    def tdot_from(self, xr: FloatArray, total: FloatArray) -> FloatArray:
        """``Z' r`` (p, k) from ``X' r`` (d, k) and ``sum(r)`` (k,), summed over any blocks:
        ``(X' r - offset sum(r)) / scale``, and the intercept's row ``sum(r)`` when
        ``augment``."""
        grad = self.unscale(xr - np.outer(self.offset, total))
        return np.vstack([grad, total[None, :]]) if self.augment else grad

    def dot(self, block: Matrix, theta: FloatArray) -> FloatArray:
        """``Z_b theta`` (n_b, k), computed as ``X_b w - shift`` (:meth:`dot_terms`): Z is
        never formed."""
        w, shift = self.dot_terms(theta)
        out: FloatArray = block @ w - shift
        return out

    def tdot(self, block: Matrix, r: FloatArray) -> FloatArray:
        """``Z_b' r`` (p, k), computed as :meth:`tdot_from` of ``X_b' r`` and ``sum(r)``."""
        return self.tdot_from(block.T @ r, r.sum(axis=0))

    def centre(self, block: Matrix, out: FloatArray | None = None) -> FloatArray:
        """``X_b - offset``, dense, in float64 (or the block's wider float type), into ``out``
        if given: the rows centred before they are multiplied, where ``X_b w - offset @ w``
        would cancel away small values under large offsets."""
        dense = block.toarray() if is_sparse(block) else block
        centred: FloatArray = np.subtract(dense, self.offset, out=out)
        return centred

    def rows(self, block: Matrix, intercept: bool = True) -> FloatArray:
        """The explicit ``Z_b`` (n_b, p), dense float64 (without the intercept's column of ones
        unless ``intercept``): for the few parameters of a dense block's products (Newton's
        Hessians) and the curvature of single rows."""
        z = self.centre(block)
        # (a constant column's infinite scale makes its z exactly zero)
        if not (self.augment and intercept):
            return np.divide(z, self.scale, out=z)
        ones = np.ones((z.shape[0], self.n_params))
        np.divide(z, self.scale, out=ones[:, : self.offset.shape[0]])
        return ones

    def squared_norms(self, block: Matrix) -> FloatArray:
        """``|z_i|^2`` (n_b,) for each row of the block, the intercept's 1 included. Sparse
        blocks are never densified (``|z|^2`` expanded: rounding only loosens what it bounds);
        the user's coordinates (offset 0, scale 1) need no arithmetic."""
        plain = self.plain
        if is_sparse(block):
            inv = self.inverse_scale[:, 0]
            norms = np.asarray(block.multiply(block) @ (inv * inv), dtype=np.float64).ravel()
            if not plain:
                shift = self.offset * inv * inv
                norms = np.maximum(norms - 2 * (block @ shift) + self.offset @ shift, 0.0)
        else:
            z = block.astype(np.float64, copy=False) if plain else self.rows(block, False)
            norms = np.einsum("ij,ij->i", z, z)
        out: FloatArray = norms + float(self.augment)
        return out


def coordinates(
    stats: Moments,
    d: int,
    standardised: bool,
    fit_intercept: bool,
    quadratic: bool = True,
    ridge: float = 0.0,
) -> tuple[FloatArray, FloatArray, Coordinates]:
    """Spread of each column (for the stopping test) and the solver's coordinates: the
    user's own (textbook gd), or centred and standardised (``standardised``)."""
    var = (
        stats.scatter.diagonal() / stats.weight_sum
        if stats.scatter.ndim == 2
        else (stats.scatter / stats.weight_sum)
    )
    mean = stats.mean
    second = var if fit_intercept else var + mean * mean
    spread = np.sqrt(second)
    x_spread = spread[:d]
    # A column whose spread is rounding noise is constant: it gets no coefficient (scale inf),
    # instead of a huge one fitted to noise. After shifting, identical values centre to exact
    # zeros; rounding can only come from the distance between the shift and the mean.
    noise = 16 * np.finfo(np.float64).eps * np.abs(mean - stats.shift)[:d]
    constant = var[:d] <= noise * noise if fit_intercept else x_spread == 0
    y_offset = mean[d:] if fit_intercept else np.zeros(mean.size - d)
    if not standardised:
        coords = Coordinates(np.zeros(d), np.ones(d), np.zeros(mean.size - d), fit_intercept)
    else:
        # Jacobi preconditioning of loss plus l2 penalty: each coordinate's curvature becomes
        # that of a unit-variance column, so a column of small spread under a ridge penalty
        # does not dictate a tiny step to all the others.
        scale = np.where(constant, np.inf, np.sqrt(x_spread**2 + ridge))
        # Centring eliminates the intercept exactly only for squared losses; for others it
        # stays a coordinate (of the centred problem, which keeps the conditioning gain).
        augment = fit_intercept and not quadratic
        coords = Coordinates(mean[:d] if fit_intercept else np.zeros(d), scale, y_offset, augment)
    return np.where(constant, 0.0, x_spread), spread[d:], coords


def initial_point(
    coef_init: ArrayLike | None, intercept_init: ArrayLike | None, d: int, k: int, one_target: bool
) -> tuple[FloatArray, FloatArray]:
    coef = np.zeros((d, k))
    if coef_init is not None:
        c = np.asarray(coef_init, dtype=np.float64)
        expected = (d,) if one_target else (k, d)
        if c.shape != expected:
            raise ValueError(f"coef_init must have shape {expected}; got {c.shape}.")
        if not np.isfinite(c).all():
            raise ValueError("coef_init contains NaN or infinity; pass finite values.")
        coef = c.reshape(-1, d).T.copy()
    intercept = np.zeros(k)
    if intercept_init is not None:
        b = np.asarray(intercept_init, dtype=np.float64).reshape(-1)
        if b.size not in (1, k) or not np.isfinite(b).all():
            raise ValueError(
                f"intercept_init must be a finite float or an array of shape "
                f"({k},); got {intercept_init!r}."
            )
        intercept = np.broadcast_to(b, (k,)).copy()
    return coef, intercept


def to_sklearn_shapes(
    coef: FloatArray, intercept: FloatArray, one_target: bool, dtype: DTypeLike
) -> tuple[FloatArray, FloatArray | np.floating[Any]]:
    """(..., d, k) and (..., k) into scikit-learn's shapes and the input's float dtype."""
    limit = np.finfo(dtype).max
    if np.abs(coef).max(initial=0.0) > limit or np.abs(intercept).max(initial=0.0) > limit:
        raise ValueError(
            f"The fitted coefficients exceed the range of {np.dtype(dtype).name}; pass X as "
            "float64 (or rescale X and y)."
        )
    coef = np.swapaxes(coef, -1, -2).astype(dtype)
    intercept = np.asarray(intercept).astype(dtype)
    if one_target:
        coef, intercept = coef[..., 0, :], intercept[..., 0]
        if intercept.ndim == 0:
            intercept = intercept.dtype.type(intercept)
    return coef, intercept


@dataclass(frozen=True)
class Start:
    """Where a fit starts: coefficients and intercept (None: zeros), and the step counter
    of its schedule. ``label`` names what continues a fitted model ("partial_fit",
    "warm_start=True"), for the message when its shape does not match the data."""

    coef: ArrayLike | None = None
    intercept: ArrayLike | None = None
    step: int = 0
    label: str | None = None


def check_start(start: Start, d: int, k: int, one_target: bool) -> None:
    """A fitted model continues only on data of its own shape."""
    if start.label is None or start.coef is None:
        return
    expected = (d,) if one_target else (k, d)
    if np.shape(start.coef) != expected:
        raise ValueError(
            f"{start.label}: the model has coef_ of shape {np.shape(start.coef)}, which does "
            f"not match this data ({expected}); fit afresh (warm_start=False) instead."
        )
