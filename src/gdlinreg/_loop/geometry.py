"""The geometry of a problem, from its moments: the solver's coordinates, each coordinate's
curvature, the ``tol`` test and the conditioning. Shared by every method."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from .._kernels.types import FloatArray
    from .._problem.coordinates import Coordinates
    from .._problem.statistics import Moments
    from .._protocols.registry import Loss, Penalty
    from .problem import Problem

    #: The ``tol`` test: ``(thetas, steps) -> one bool per stacked iterate``.
    StopTest = Callable[[FloatArray, FloatArray], NDArray[np.bool_]]


def condition_number(
    stats: Moments,
    d: int,
    fit_intercept: bool,
    penalty: Penalty | None,
    loss: Loss,
    spectrum: FloatArray | None = None,
) -> float | None:
    """cond of the correlation-like matrix of the non-constant columns (plus the ridge share),
    the intrinsic conditioning of the problem whatever the solver; None where it would cost
    more than the fit (data form, many features). ``spectrum``: that matrix's eigenvalues,
    if known (the standardised Gram form's, with an intercept), used without a penalty when
    no column is constant."""
    if stats.scatter.ndim != 2 or d > 256:
        return None
    second = stats.scatter[:d, :d] / stats.weight_sum
    if not fit_intercept:
        second = second + np.outer(stats.mean[:d], stats.mean[:d])
    spread = np.sqrt(second.diagonal())
    keep = spread > 0
    if not keep.any():
        return None
    if spectrum is not None and spectrum.size == d and keep.all() and not (penalty and penalty.l2):
        return float(spectrum[-1] / spectrum[0]) if spectrum[0] > 0 else float("inf")
    if not keep.all():  # (np.ix_ costs a third of this function)
        second, spread = second[np.ix_(keep, keep)], spread[keep]
    scaled = second / (spread[:, None] * spread)
    if penalty is not None and penalty.l2:
        scaled = scaled + np.diag(penalty.l2 / (loss.curvature * spread**2))
    eigen = np.linalg.eigvalsh(scaled)
    return float(eigen[-1] / eigen[0]) if eigen[0] > 0 else float("inf")


def diagonal_curvature(
    stats: Moments, d: int, coords: Coordinates, loss: Loss, problem: Problem
) -> FloatArray:
    """The Hessian's diagonal in the solver's coordinates, shape (p, 1), from the moments:
    ``curvature * sum_i p_i z_ij^2`` (the loss's curvature bound for non-quadratic losses),
    plus the l2 penalty's."""
    scatter = stats.scatter if stats.scatter.ndim == 1 else stats.scatter.diagonal()
    var = scatter[:d] / stats.weight_sum
    second = (var + (stats.mean[:d] - coords.offset) ** 2) / coords.scale**2
    if coords.augment:
        second = np.append(second, 1.0)
    diag = loss.curvature * second[:, None] + problem.l2 * problem.weights**2
    # A constant column's coordinate has no curvature and no gradient; any value serves.
    return np.where(diag > 0, diag, max(float(diag.max()), np.finfo(float).tiny))


def make_stop_test(
    coords: Coordinates,
    stats: Moments,
    d: int,
    x_spread: FloatArray,
    y_spread: FloatArray,
    tol: float,
) -> StopTest:
    """The ``tol`` criterion, vectorised over stacked iterates; see ``GDLinearRegressor``.

    The step (``grad_j / H_jj``, or the proximal gradient map) is mapped to the user's
    coefficients and intercept and measured in units of y. Each test also allows the rounding
    floor of what it measures, so that any ``tol >= 0`` is attainable (``tol=0`` means "to
    rounding"): a gradient is a sum of terms, each a coefficient times its column as the
    solver sees it (centred or not), and carries a few eps of their total size; an intercept
    recovered as ``mean(y) - mean(x) @ w`` carries that error amplified by
    ``|mean(x)| / std(x)``.
    """
    eps = np.finfo(np.float64).eps
    noise = 16 * eps * np.sqrt(d)
    x_mean = stats.mean[:d]
    magnitude = np.sqrt(x_spread**2 + (x_mean - coords.offset) ** 2)[:, None]
    recovered = not coords.augment and bool(coords.offset.any())
    spread = np.where(x_spread > 0, x_spread, np.inf)
    amplification = 1.0 + np.sum(np.abs(x_mean) / spread) if recovered else 1.0
    y_floor = eps * y_spread
    scale, spread_col = coords.scale[:, None], x_spread[:, None]

    def test(thetas: FloatArray, steps: FloatArray) -> NDArray[np.bool_]:
        # The coefficients as Coordinates.to_user and step_to_user compute them; the
        # intercepts (two einsums) only once some iterate passes the coefficient test, which
        # is where a small fit spends most of its tests.
        dw, w = steps[..., :d, :] / scale, thetas[..., :d, :] / scale
        v = np.abs(w * spread_col).max(axis=-2)
        dv = np.abs(dw * spread_col).max(axis=-2)
        terms = (np.abs(w) * magnitude).sum(axis=-2)
        b = coords.intercept(thetas, w) if coords.augment else None
        if b is not None:
            terms = terms + np.abs(b)
        floor = noise * terms + y_floor
        ok: NDArray[np.bool_] = (dv <= tol * v + floor).all(axis=-1)
        if not ok.any():
            return ok
        b = coords.intercept(thetas, w) if b is None else b
        db = coords.intercept_step(steps, dw)
        ok_intercept = np.abs(db) <= tol * np.maximum(np.abs(b), v) + floor * amplification
        ok &= ok_intercept.all(axis=-1)
        return ok

    return test
