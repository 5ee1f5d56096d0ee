"""The conditioning a fit reports (``condition_number_``), from its statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .._kernels.types import FloatArray
    from .._problem.statistics import Moments
    from .._protocols.registry import Loss, Penalty


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
