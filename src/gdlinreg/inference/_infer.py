"""The body of :meth:`gdlinreg.GDLinearRegressor.inference`: the checks of the model and
its arguments, the statistics (the fit's, or one pass over X: NumPy, sparse, or Dask in
``_dask``), the residual pass of the robust kinds, and one
:class:`~gdlinreg.inference.InferenceResult` per target.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

import gdlinreg.inference._statistics as _core

from .._data.checks import check_arrays
from .._kernels import warnings as _warnings
from ._result import InferenceResult, from_numbers
from ._statistics import Fit

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .._kernels.types import FloatArray
    from .._problem.statistics import Moments

__all__ = ["Fit", "check_model", "infer"]


def check_model(params: dict[str, Any], stop_reason: str, X: object, y: object) -> str | None:
    """Refuse fits whose estimates are not least squares; the doubt about a fit that did not
    reach its minimum (for a warning), or None."""
    if (X is None) != (y is None):
        raise ValueError("Pass both X and y (the data of the fit), or neither.")
    why = None
    if params["loss"] == "huber":
        why = "loss='huber' is a robust M-estimate, not least squares"
    elif params["penalty"] is not None and params["alpha"] > 0:
        why = f"penalty={params['penalty']!r} with alpha > 0 shrinks the estimates (bias)"
    elif params["positive"]:
        why = "positive=True constrains the estimates (their distribution is truncated)"
    if why is not None:
        raise ValueError(
            f"Classical and robust standard errors assume the least-squares estimate; {why}. "
            "Use a bootstrap (refit on resampled rows) for its uncertainty, or refit with "
            "loss='half_mse', penalty=None and positive=False."
        )
    if stop_reason != "tol":
        return (
            f"This fit stopped by {stop_reason!r}, not at the least-squares minimum that the "
            "standard errors assume: refit with a larger max_iter (and early_stopping=False), "
            "or use a bootstrap of the procedure as fitted."
        )
    return None


def infer(
    fit: Fit,
    data: tuple[Any, Any, ArrayLike | None] | None,
    cov_type: str,
    groups: ArrayLike | None,
) -> InferenceResult | list[InferenceResult]:
    """The estimator's :meth:`~gdlinreg.GDLinearRegressor.inference`, after its checks:
    ``data`` is ``(X, y, sample_weight)`` or None."""
    if cov_type not in _core.COV_TYPES:
        raise ValueError(f"cov_type must be one of {', '.join(_core.COV_TYPES)}; got {cov_type!r}.")
    if cov_type != "nonrobust" and data is None:
        raise ValueError(
            f"cov_type={cov_type!r} needs the data of the fit: pass X and y (and the fit's "
            "sample_weight), for one more pass over them. cov_type='nonrobust' needs none."
        )
    if cov_type == "cluster" and groups is None:
        raise ValueError("cov_type='cluster' needs groups: one cluster label per row of X.")
    if cov_type != "cluster" and groups is not None:
        raise ValueError(f"groups is used only with cov_type='cluster'; got cov_type={cov_type!r}.")
    coef = np.atleast_2d(np.asarray(fit.coef, dtype=np.float64))
    k, d = coef.shape
    intercept = np.broadcast_to(np.asarray(fit.intercept, dtype=np.float64), (k,))
    stats, parts = _pass(fit, coef, intercept, data, cov_type, groups)
    B = parts.bread if parts is not None and parts.bread is not None else None
    B = B or _core.bread(stats, d, fit.fit_intercept)
    ssr_stats, tss = _core.sums_of_squares(stats, d, coef, intercept, fit.fit_intercept)
    ssr = ssr_stats if parts is None else parts.ssr
    names = (("intercept",) if fit.fit_intercept else ()) + tuple(
        fit.feature_names if fit.feature_names is not None else (f"x{j}" for j in range(d))
    )
    assert stats.rows is not None and stats.log_weights is not None
    results = []
    for t in range(k):
        params = np.concatenate([intercept[t : t + 1], coef[t]]) if fit.fit_intercept else coef[t]
        robust = _meat(parts, t)
        num = _core.numbers(
            params, B, (stats.rows, stats.log_weights), (ssr[t], tss[t]), cov_type, robust
        )
        results.append(from_numbers(names, num))
    if _core.saturated(stats.rows, B):
        _warn_saturated(stats.rows, B, names, cov_type)
    elif B.rank < len(names):
        _warn_rank(B, names)
    one_target = np.ndim(fit.coef) == 1
    return results[0] if one_target else results


def _meat(parts: _core.Parts | None, t: int) -> tuple[FloatArray | None, int]:
    if parts is None:
        return None, 0
    if parts.sums is not None and parts.labels is not None:
        return parts.sums[t].T @ parts.sums[t], int(parts.labels.size)
    return (None if parts.meat is None else parts.meat[t]), 0


def _pass(
    fit: Fit,
    coef: FloatArray,
    intercept: FloatArray,
    data: tuple[Any, Any, ArrayLike | None] | None,
    cov_type: str,
    groups: ArrayLike | None,
) -> tuple[Moments, _core.Parts | None]:
    """The statistics (the fit's, or built from ``data`` in one pass when the model kept none)
    and, with ``data``, the residual pass."""
    stats = fit.stats
    usable = _core.usable(stats)
    if data is None:
        if stats is None:
            raise ValueError(
                "This model keeps no training statistics (fitted on the data form: "
                "precompute=False, many features, sparse X, mini-batches; or after "
                "discard_statistics()): pass X and y (and sample_weight) of the fit."
            )
        if not usable:
            raise ValueError(
                "This model's statistics were saved by an older gdlinreg, without the row "
                "count that the degrees of freedom need: pass X and y (and sample_weight)."
            )
        assert stats is not None
        return stats, None
    X, y, w = data
    dask = sys.modules.get("dask")
    if dask is not None and any(dask.is_dask_collection(a) for a in (X, y, w, groups)):
        from ._dask import reduce

        return reduce(fit, (coef, intercept), data, cov_type, groups)
    X, Y, _, weights = check_arrays(X, y, w)
    g = _groups(groups, X.shape[0])
    if not usable:
        from .._problem.statistics import moments

        stats = moments(X, Y, weights)
    assert stats is not None
    B = _core.bread(stats, X.shape[1], fit.fit_intercept)
    assert stats.rows is not None
    kind = _core.pass_kind(cov_type, stats.rows, B)
    parts = _core.block_parts(X, Y, weights, (coef, intercept, B), kind, g)
    _core.check_same_data(stats, parts)
    return stats, parts


def _groups(groups: ArrayLike | None, n: int) -> np.ndarray[Any, Any] | None:
    if groups is None:
        return None
    g = np.asarray(groups)
    if g.shape != (n,):
        raise ValueError(f"groups must have shape ({n},), one label per row of X; got {g.shape}.")
    return g


def _warn_rank(B: _core.Bread, names: tuple[str, ...]) -> None:
    lost = [nm for nm, ok in zip(names, B.identified, strict=True) if not ok]
    directions = []
    for v in B.null.T[:3]:
        big = np.argsort(-np.abs(v))[:4]
        directions.append(" + ".join(f"{v[j]:.3g}*{names[j]}" for j in big if abs(v[j]) > 1e-3))
    _warnings.warn(
        f"The design has rank {B.rank} < {len(names)} parameters: the data do not determine "
        f"{', '.join(lost) or 'some combinations of the parameters'} (their std_err, t_stat "
        f"and p_value are NaN). Predictions do not change along: {'; '.join(directions)}. "
        "Drop or combine collinear features to test them.",
        UserWarning,
    )


def _warn_saturated(n: int, B: _core.Bread, names: tuple[str, ...], cov_type: str) -> None:
    p = len(names)
    if cov_type == "nonrobust":
        what = "sigma2 and std_err are inf, t_stat 0, p_value, conf_int and f_stat NaN"
    else:
        what = f"the {cov_type} std_err, t_stat, p_value, conf_int and f_stat are NaN"
    lost = [nm for nm, ok in zip(names, B.identified, strict=True) if not ok]
    also = (
        f" The data also do not determine {', '.join(lost)} (rank {B.rank} < {p} "
        "parameters): their std_err, t_stat and p_value are NaN."
        if lost
        else ""
    )
    _warnings.warn(
        f"The design is saturated: n = {n} rows and rank {B.rank}, so df_resid = n - rank = "
        f"{n - B.rank}. With no residual degrees of freedom the fit interpolates the data and "
        f"the variance of the errors cannot be estimated: {what}.{also} Fit more rows than "
        f"parameters (n > {p}), or fewer columns.",
        UserWarning,
    )
