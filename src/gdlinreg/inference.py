"""Inference at the least-squares solution: :class:`InferenceResult`, what
:meth:`gdlinreg.GDLinearRegressor.inference` returns.

The numbers are those of statsmodels' ``OLS`` / ``WLS`` (Greene, *Econometric Analysis*,
ch. 4 and 9; MacKinnon and White, 1985; Cameron and Miller, 2015): see
:meth:`gdlinreg.GDLinearRegressor.inference` and the user guide's "Inference" page.
"""

from __future__ import annotations

import html
import importlib
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _inference as _core
from . import _warnings
from ._checks import check_arrays

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

    from ._objective import Moments
    from ._typing import FloatArray

__all__ = ["InferenceResult"]

_KINDS = {
    "nonrobust": "nonrobust",
    "HC0": "HC0 (White)",
    "HC1": "HC1 (n/(n-r))",
    "HC2": "HC2 (leverage)",
    "HC3": "HC3 (jackknife)",
    "cluster": "cluster (one-way)",
}


@dataclass(frozen=True)
class InferenceResult:
    """Inference for one target of a least-squares fit, in the order ``names``
    (``"intercept"`` first when the model has one, then the features).

    Attributes
    ----------
    names : tuple of str
    coef : ndarray of shape (p,)
        The fitted parameters :math:`\\hat\\theta` (the intercept first).
    std_err : ndarray of shape (p,)
        :math:`\\sqrt{\\mathrm{diag}\\,\\Sigma}`; NaN for unidentified parameters.
    t_stat, p_value : ndarray of shape (p,)
        :math:`\\hat\\theta_j / \\mathrm{se}_j` and its two-sided p-value on Student's t with
        ``df_resid`` degrees of freedom (``use_t``, the classical kind) or on the normal
        distribution (the robust kinds), as statsmodels' defaults.
    cov : ndarray of shape (p, p)
        :math:`\\Sigma`, the estimated covariance of :math:`\\hat\\theta`.
    cov_type : str
    nobs : int
        The rows of positive weight, :math:`n`.
    rank : int
        The rank :math:`r` of the design (intercept column included).
    df_resid, df_model : float
        :math:`n - r` and :math:`r - 1` (:math:`r` without an intercept).
    sigma2 : float
        :math:`\\hat\\sigma^2 = \\sum_i s_i r_i^2 / (n - r)`.
    r2, r2_adj : float
        :math:`1 - \\mathrm{SSR}/\\mathrm{TSS}` (TSS centred on the weighted mean; uncentred
        without an intercept, as statsmodels) and :math:`1 - \\frac{n - k_c}{n - r}(1 - R^2)`.
    f_stat, f_p_value : float
        The F test that every slope is zero: :math:`\\frac{(\\mathrm{TSS} - \\mathrm{SSR}) /
        (r - k_c)}{\\hat\\sigma^2}` (classical), or the Wald statistic over its degrees of
        freedom with the robust covariance (on :math:`F(q, n - r)`; :math:`F(q, G - 1)` for
        :math:`G` clusters).
    log_likelihood, aic, bic : float
        :math:`\\ell = -\\frac n2\\left(\\log 2\\pi + \\log\\frac{\\mathrm{SSR}}{n} + 1\\right) +
        \\frac12\\sum_i\\log s_i`, :math:`-2\\ell + 2r` and :math:`-2\\ell + r\\log n`.
    use_t : bool
    unidentified : tuple of str
        The parameters the data do not determine (rank deficiency).

    Examples
    --------
    >>> import numpy as np
    >>> from gdlinreg import GDLinearRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 2))
    >>> y = 1.0 + X @ [2.0, 0.0] + rng.standard_normal(200)
    >>> res = GDLinearRegressor().fit(X, y).inference()
    >>> res.names
    ('intercept', 'x0', 'x1')
    >>> bool(res.p_value[1] < 1e-6), bool(res.p_value[2] > 0.01)
    (True, True)
    >>> res.conf_int(alpha=0.05).shape
    (3, 2)
    >>> robust = GDLinearRegressor().fit(X, y).inference(X, y, cov_type="HC3")
    >>> robust.use_t, robust.cov_type
    (False, 'HC3')
    """

    names: tuple[str, ...]
    coef: FloatArray
    std_err: FloatArray
    t_stat: FloatArray
    p_value: FloatArray
    cov: FloatArray
    cov_type: str
    nobs: int
    rank: int
    df_resid: float
    df_model: float
    sigma2: float
    r2: float
    r2_adj: float
    f_stat: float
    f_p_value: float
    log_likelihood: float
    aic: float
    bic: float
    use_t: bool
    unidentified: tuple[str, ...]

    def conf_int(self, alpha: float = 0.05) -> FloatArray:
        """The :math:`1 - \\alpha` confidence intervals
        :math:`\\hat\\theta_j \\pm q_{1-\\alpha/2}\\,\\mathrm{se}_j`, one row ``(low, high)`` per
        parameter, with ``q`` from t on ``df_resid`` (``use_t``) or the normal distribution.

        Parameters
        ----------
        alpha : float, default=0.05
            In (0, 1).

        Returns
        -------
        ndarray of shape (p, 2)
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), e.g. 0.05 for 95% intervals; got {alpha}.")
        q = _core.quantile(1 - alpha / 2, self.df_resid if self.use_t else None)
        return np.column_stack([self.coef - q * self.std_err, self.coef + q * self.std_err])

    def _rows(self, alpha: float = 0.05) -> list[tuple[str, ...]]:
        ci = self.conf_int(alpha)
        return [
            (name, *(f"{v:.6g}" for v in (c, s, t, p, lo, hi)))
            for name, c, s, t, p, (lo, hi) in zip(
                self.names, self.coef, self.std_err, self.t_stat, self.p_value, ci, strict=True
            )
        ]

    def _header(self) -> list[str]:
        stat = "t" if self.use_t else "z"
        return ["", "coef", "std err", stat, f"P>|{stat}|", "[0.025", "0.975]"]

    def summary(self) -> str:
        """An aligned text table, in the spirit of statsmodels' ``summary()``: the fit's
        statistics, then one row per parameter with its 95% interval."""
        info = [
            ("Covariance", _KINDS[self.cov_type]),
            ("Observations", str(self.nobs)),
            ("Df residuals", f"{self.df_resid:g}"),
            ("Df model", f"{self.df_model:g}"),
            ("R-squared", f"{self.r2:.4f}"),
            ("Adj. R-squared", f"{self.r2_adj:.4f}"),
            ("F-statistic", f"{self.f_stat:.4g}"),
            ("Prob (F)", f"{self.f_p_value:.3g}"),
            ("Log-likelihood", f"{self.log_likelihood:.5g}"),
            ("AIC", f"{self.aic:.5g}"),
            ("BIC", f"{self.bic:.5g}"),
        ]
        table = [tuple(self._header()), *self._rows()]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        lines = [
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
            for r in table
        ]
        rule = "=" * max(len(line) for line in lines)
        left = max(len(k) for k, _ in info)
        out = ["Least-squares inference (gdlinreg)", rule]
        out += [f"{k.ljust(left)}  {v}" for k, v in info]
        out += [rule, lines[0], "-" * len(rule), *lines[1:], rule]
        if self.unidentified:
            out.append("Not identified (rank deficiency): " + ", ".join(self.unidentified))
        return "\n".join(out)

    def to_frame(self) -> Any:
        """The parameter table as a pandas ``DataFrame`` indexed by ``names`` (pandas must be
        installed): columns coef, std_err, t (or z), p_value, ci_low, ci_high (95%)."""
        try:
            pd = importlib.import_module("pandas")  # (by name: pandas ships no types)
        except ImportError as exc:  # pragma: no cover - pandas is a test dependency
            raise ImportError("to_frame needs pandas: pip install pandas.") from exc
        ci = self.conf_int()
        stat = "t" if self.use_t else "z"
        columns = {
            "coef": self.coef,
            "std_err": self.std_err,
            stat: self.t_stat,
            "p_value": self.p_value,
            "ci_low": ci[:, 0],
            "ci_high": ci[:, 1],
        }
        return pd.DataFrame(columns, index=list(self.names))

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._header())
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self._rows()
        )
        caption = (
            f"{html.escape(_KINDS[self.cov_type])} covariance, n = {self.nobs}, "
            f"R<sup>2</sup> = {self.r2:.4f}"
        )
        return f"<table><caption>{caption}</caption><tr>{head}</tr>{body}</table>"


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


def _frozen(a: FloatArray) -> FloatArray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _result(names: tuple[str, ...], num: _core.Numbers) -> InferenceResult:
    se = np.sqrt(np.diagonal(num.cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = num.params / se
    df = num.df_resid if num.use_t else None
    n, r = num.nobs, num.rank
    llf = -n / 2 * (np.log(2 * np.pi) + np.log(num.ssr / n) + 1) + num.log_weights / 2
    r2 = 1 - num.ssr / num.tss if num.tss > 0 else np.nan
    return InferenceResult(
        names=names,
        coef=_frozen(num.params),
        std_err=_frozen(se),
        t_stat=_frozen(t),
        p_value=_frozen(_core.two_sided_p(t, df)),
        cov=_frozen(num.cov),
        cov_type=num.cov_type,
        nobs=n,
        rank=r,
        df_resid=num.df_resid,
        df_model=num.df_model,
        sigma2=float(num.ssr / num.df_resid) if num.df_resid > 0 else float("nan"),
        r2=float(r2),
        r2_adj=float(1 - (n - (r - num.df_model)) / num.df_resid * (1 - r2)),
        f_stat=num.f_stat,
        f_p_value=_core.f_sf(num.f_stat, num.f_df),
        log_likelihood=float(llf),
        aic=float(-2 * llf + 2 * r),
        bic=float(-2 * llf + np.log(n) * r),
        use_t=num.use_t,
        unidentified=tuple(nm for nm, ok in zip(names, num.identified, strict=True) if not ok),
    )


@dataclass(frozen=True)
class Fit:
    """What inference reads of a fitted model: parameters, names, and its statistics."""

    coef: ArrayLike
    intercept: ArrayLike
    fit_intercept: bool
    feature_names: Sequence[str] | None
    stats: Moments | None


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
        results.append(_result(names, num))
    if B.rank < len(names):
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
        from ._data import dask_inference

        return dask_inference.reduce(fit, (coef, intercept), data, cov_type, groups)
    X, Y, _, weights = check_arrays(X, y, w)
    g = _groups(groups, X.shape[0])
    if not usable:
        from ._objective import moments

        stats = moments(X, Y, weights)
    assert stats is not None
    B = _core.bread(stats, X.shape[1], fit.fit_intercept)
    parts = _core.block_parts(X, Y, weights, (coef, intercept, B), cov_type, g)
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
