"""The table of inference: :class:`gdlinreg.inference.InferenceResult` (its intervals,
``summary``, ``to_frame`` and HTML table), and its making from one target's numbers
(``_statistics.Numbers``).
"""

from __future__ import annotations

import html
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

import gdlinreg.inference._statistics as _core

if TYPE_CHECKING:
    from .._kernels.types import FloatArray

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
        :math:`\\hat\\sigma^2 = \\sum_i s_i r_i^2 / (n - r)`; ``inf`` when ``df_resid`` is 0
        (a saturated design, as statsmodels' ``scale``: see the user guide).
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


def _frozen(a: FloatArray) -> FloatArray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def from_numbers(names: tuple[str, ...], num: _core.Numbers) -> InferenceResult:
    """The :class:`InferenceResult` of one target, its parameters named ``names``."""
    se = np.sqrt(np.diagonal(num.cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = num.params / se
    df = num.df_resid if num.use_t else None
    n, r = num.nobs, num.rank
    with np.errstate(divide="ignore"):  # an exact fit (SSR = 0): an infinite likelihood
        log_ssr = np.log(num.ssr / n)
    llf = -n / 2 * (np.log(2 * np.pi) + log_ssr + 1) + num.log_weights / 2
    r2 = 1 - num.ssr / num.tss if num.tss > 0 else np.nan
    # No residual degrees of freedom (a saturated design): statsmodels' inf and NaN.
    free = num.df_resid > 0
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
        sigma2=float(num.ssr / num.df_resid) if free else float("inf"),
        r2=float(r2),
        r2_adj=float(1 - (n - (r - num.df_model)) / num.df_resid * (1 - r2)) if free else np.nan,
        f_stat=num.f_stat,
        f_p_value=_core.f_sf(num.f_stat, num.f_df),
        log_likelihood=float(llf),
        aic=float(-2 * llf + 2 * r),
        bic=float(-2 * llf + np.log(n) * r),
        use_t=num.use_t,
        unidentified=tuple(nm for nm, ok in zip(names, num.identified, strict=True) if not ok),
    )
