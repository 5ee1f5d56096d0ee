"""The numbers of inference at a least-squares solution, from the statistics or the data.

Weighted least squares on the design :math:`A = [1 \\mid X]` (or :math:`A = X` without an
intercept) with weights :math:`s_i`, as statsmodels' ``WLS``. Everything is computed in the
*centred* parametrisation :math:`\\theta_c = (b + \\bar x^\\top w,\\ w)`, whose weighted Gram
matrix :math:`\\mathrm{diag}(S, S_{xx})` is block diagonal (:math:`S = \\sum_i s_i`,
:math:`S_{xx}` the centred scatter that :class:`~gdlinreg._problem.statistics.Moments` holds), and
mapped to :math:`\\theta = (b, w)` by :math:`T = \\begin{pmatrix}1 & -\\bar x^\\top \\\\ 0 &
I\\end{pmatrix}`: large column offsets then cost no digits. Without an intercept the Gram
matrix is the uncentred :math:`S_{xx} + S\\bar x\\bar x^\\top` and :math:`T = I`.

The classical kind needs only the statistics (O(d^3)); the robust kinds one pass over row
blocks (:func:`block_parts`), each block densified to about a million values (sparse X too),
so that no n x n matrix (nor an n x d copy) is ever formed. SciPy here only for the t, F and
normal distributions (with ``_kernels.sparse``, the only modules that import SciPy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats as _dist

from .._kernels import threads as _threads

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

    from .._kernels.types import FloatArray, Matrix
    from .._problem.statistics import Moments

#: The covariance kinds, as statsmodels names them.
COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
# Values per densified row block of the robust pass (8 MB).
_BLOCK_VALUES = 1 << 20
# Eigenvalues of the scaled Gram matrix below this share of the largest are rounding: about
# the relative error with which the scatter is accumulated, per parameter.
_RANK_RTOL = 10 * np.finfo(np.float64).eps
# A parameter whose unit vector has a larger share than this in the null space of the
# design is not identified.
_IDENTIFIED_ATOL = 1e-6


@dataclass(frozen=True)
class Fit:
    """What inference reads of a fitted model: parameters, names, and its statistics (here,
    the lowest module of the package, for both readers: ``_infer`` and ``_dask``)."""

    coef: ArrayLike
    intercept: ArrayLike
    fit_intercept: bool
    feature_names: Sequence[str] | None
    stats: Moments | None


@dataclass(frozen=True)
class Bread:
    """The weighted Gram matrix of the design, inverted in the centred parametrisation.

    ``inverse`` is :math:`\\mathrm{diag}(1/S, S_{xx}^+)` (with an intercept) or
    :math:`(S_{xx} + S\\bar x\\bar x^\\top)^+`, a pseudo-inverse on the rank found; ``center``
    is :math:`\\bar x` (zeros without intercept); ``null`` holds the unidentified directions of
    :math:`\\theta` as columns, ``identified`` which parameters are estimable.
    """

    inverse: FloatArray
    center: FloatArray
    intercept: bool
    rank: int
    null: FloatArray
    identified: np.ndarray[Any, np.dtype[np.bool_]]

    def transform(self) -> FloatArray:
        """:math:`T`, from the centred parameters to ``(intercept, coef)``."""
        q = self.inverse.shape[0]
        T = np.eye(q)
        if self.intercept:
            T[0, 1:] = -self.center
        return T


def bread(stats: Moments, d: int, intercept: bool) -> Bread:
    """:class:`Bread` from the moments of ``[X | Y]``: a symmetric eigensolve of the Gram
    matrix scaled to unit diagonal (so that the rank test is independent of the units)."""
    mean = np.asarray(stats.mean, dtype=np.float64)[:d]
    sxx = np.asarray(stats.scatter, dtype=np.float64)[:d, :d]
    W = float(stats.weight_sum)
    gram = sxx if intercept else sxx + W * np.outer(mean, mean)
    diag = np.sqrt(np.diagonal(gram).copy())
    scale = np.where(diag > 0, diag, 1.0)
    values, vectors = np.linalg.eigh(gram / np.outer(scale, scale))
    keep = values > _RANK_RTOL * d * max(float(values.max()), 0.0)
    kept = vectors[:, keep] / scale[:, None]
    inv = (kept / values[keep]) @ kept.T
    null_w = vectors[:, ~keep]
    rank = int(keep.sum()) + intercept
    if intercept:
        inverse = np.zeros((d + 1, d + 1))
        inverse[0, 0] = 1.0 / W
        inverse[1:, 1:] = inv
        # A direction v of the centred columns is X v = xbar'v on every row: theta moves
        # along (-xbar'v, v) without changing a prediction.
        rel = (mean / scale) @ null_w
        off = np.linalg.norm(rel) > _IDENTIFIED_ATOL * max(1.0, float(np.linalg.norm(mean / scale)))
        identified = np.concatenate([[not off], _identified(null_w)])
        null = np.vstack([-(mean / scale) @ null_w, null_w])
        center = mean
    else:
        inverse, identified, null, center = inv, _identified(null_w), null_w, np.zeros(d)
    norms = np.linalg.norm(null, axis=0)
    null = null / np.where(norms > 0, norms, 1.0)
    return Bread(inverse, center, intercept, rank, null, identified)


def _identified(null_w: FloatArray) -> np.ndarray[Any, np.dtype[np.bool_]]:
    return np.asarray(np.linalg.norm(null_w, axis=1) <= _IDENTIFIED_ATOL)


def sums_of_squares(
    stats: Moments, d: int, coef: FloatArray, intercept: FloatArray, fit_intercept: bool
) -> tuple[FloatArray, FloatArray]:
    """Per target, the weighted residual sum of squares at ``(coef, intercept)`` and the
    total sum of squares (centred with an intercept, uncentred without), from the moments.

    :math:`\\mathrm{SSR} = S_{yy} - 2w^\\top S_{xy} + w^\\top S_{xx}w + S(\\bar y - \\bar x^\\top w
    - b)^2`: it cancels to about :math:`\\epsilon\\,S_{yy}`, a relative error of
    :math:`\\epsilon / (1 - R^2)`; with X given, :func:`block_parts` sums the residuals
    themselves instead.
    """
    mean = np.asarray(stats.mean, dtype=np.float64)
    scatter = np.asarray(stats.scatter, dtype=np.float64)
    W = float(stats.weight_sum)
    sxx, sxy, syy = scatter[:d, :d], scatter[:d, d:], np.diagonal(scatter)[d:]
    offset = mean[d:] - coef @ mean[:d] - intercept
    quad = np.einsum("kd,de,ke->k", coef, sxx, coef)
    ssr = syy - 2.0 * np.einsum("kd,dk->k", coef, sxy) + quad + W * offset**2
    tss = syy if fit_intercept else syy + W * mean[d:] ** 2
    return np.maximum(ssr, 0.0), tss


@dataclass
class Parts:
    """What one pass over row blocks sums, per target: the weighted residual sum of squares,
    the meat :math:`\\sum_i u_i^2 a_i a_i^\\top` of the HC kinds and the clusters' score sums
    :math:`\\sum_{i \\in g} s_i r_i a_i` (with their labels), the rows and the total weight."""

    ssr: FloatArray
    meat: FloatArray | None
    labels: np.ndarray[Any, Any] | None
    sums: FloatArray | None
    rows: int
    weight_sum: float
    bread: Bread | None = None

    def add(self, other: Parts) -> Parts:
        meat = None if self.meat is None or other.meat is None else self.meat + other.meat
        labels, sums = self.labels, self.sums
        if labels is None:
            labels, sums = other.labels, other.sums
        elif other.labels is not None:
            assert sums is not None and other.sums is not None
            labels, sums = _group_sums(
                np.concatenate([labels, other.labels]),
                np.concatenate([sums, other.sums], axis=1),
            )
        return Parts(
            self.ssr + other.ssr,
            meat,
            labels,
            sums,
            self.rows + other.rows,
            self.weight_sum + other.weight_sum,
            self.bread or other.bread,
        )


def _group_sums(labels: np.ndarray[Any, Any], rows: FloatArray) -> tuple[Any, FloatArray]:
    """The sums of ``rows[:, i]`` (shape (k, n, q)) by label: sorted labels, (k, G, q)."""
    unique, inverse = np.unique(labels, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(unique.size))
    return unique, np.add.reduceat(rows[:, order], starts, axis=1)


def block_parts(
    X: Matrix,
    Y: FloatArray,
    weights: FloatArray,
    model: tuple[FloatArray, FloatArray, Bread],
    cov_type: str,
    groups: np.ndarray[Any, Any] | None = None,
) -> Parts:
    """:func:`_block_parts` over one contiguous part of the rows per core, each with a
    one-thread BLAS (:mod:`gdlinreg._kernels.threads`: a threaded BLAS runs these tall, thin
    products far below its rate), merged."""
    q = model[2].inverse.shape[0]
    spans = _threads.spans(X.shape[0], _threads.n_parts(X.shape[0] * q))
    found = _threads.run_parts(
        lambda rows: _block_parts(
            X[rows],
            Y[rows],
            weights[rows],
            model,
            cov_type,
            None if groups is None else groups[rows],
        ),
        spans,
    )
    out = found[0]
    for part in found[1:]:
        out = out.add(part)
    return out


def _block_parts(
    X: Matrix,
    Y: FloatArray,
    weights: FloatArray,
    model: tuple[FloatArray, FloatArray, Bread],
    cov_type: str,
    groups: np.ndarray[Any, Any] | None = None,
) -> Parts:
    """One pass over ``X`` (dense or sparse, in densified row blocks): residuals
    :math:`r_i = y_i - x_i^\\top w - b`, the centred design rows :math:`a_i`, the leverages
    :math:`h_i = s_i a_i^\\top B a_i` (HC2, HC3; :math:`B` the bread) and the scores
    :math:`u_i = s_i r_i` scaled as the kind asks: HC0/HC1 :math:`u_i`, HC2
    :math:`u_i/\\sqrt{1-h_i}`, HC3 :math:`u_i/(1-h_i)` (MacKinnon and White, 1985)."""
    coef, intercept, B = model
    n = X.shape[0]
    k, q = Y.shape[1], B.inverse.shape[0]
    step = max(1, _BLOCK_VALUES // max(q, 1))
    parts = Parts(np.zeros(k), None, None, None, 0, 0.0, B)
    pieces: list[tuple[Any, FloatArray]] = []
    if cov_type in ("HC0", "HC1", "HC2", "HC3"):
        parts.meat = np.zeros((k, q, q))
    # Two reused buffers, the centred design rows and their scaled copy: fresh arrays of a
    # block each cost their page faults, as long as the products on them.
    design = np.ones((min(step, n), q))
    scaled = np.empty_like(design)
    lead = int(B.intercept)
    for start in range(0, n, step):
        rows = slice(start, min(start + step, n))
        x = X[rows]
        x = np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float64)
        s = weights[rows]
        r = Y[rows] - x @ coef.T - intercept
        a = design[: x.shape[0]]
        np.subtract(x, B.center, out=a[:, lead:])
        u = s[:, None] * r
        parts.ssr += s @ (r * r)
        parts.rows += int(np.count_nonzero(s > 0))
        parts.weight_sum += float(s.sum())
        if cov_type in ("HC2", "HC3"):
            h = s * np.einsum("ij,ij->i", a @ B.inverse, a)
            with np.errstate(divide="ignore", invalid="ignore"):
                u = u / (np.sqrt(1.0 - h) if cov_type == "HC2" else 1.0 - h)[:, None]
        if parts.meat is not None:
            for t in range(k):
                au = np.multiply(a, u[:, t : t + 1], out=scaled[: x.shape[0]])
                parts.meat[t] += au.T @ au
        elif cov_type == "cluster" and groups is not None:
            pieces.append(_group_sums(groups[rows], u.T[:, :, None] * a[None, :, :]))
    if pieces:
        labels = np.concatenate([piece[0] for piece in pieces])
        parts.labels, parts.sums = _group_sums(
            labels, np.concatenate([piece[1] for piece in pieces], axis=1)
        )
    return parts


@dataclass(frozen=True)
class Numbers:
    """The inference of one target, as :class:`gdlinreg.inference.InferenceResult` holds it."""

    params: FloatArray
    cov: FloatArray
    nobs: int
    rank: int
    df_resid: float
    df_model: float
    ssr: float
    tss: float
    log_weights: float
    cov_type: str
    use_t: bool
    f_stat: float
    f_df: tuple[float, float]
    identified: np.ndarray[Any, np.dtype[np.bool_]]


def numbers(
    params: FloatArray,
    B: Bread,
    counts: tuple[int, float],
    sums: tuple[float, float],
    cov_type: str,
    robust: tuple[FloatArray | None, int],
) -> Numbers:
    """The covariance and test statistics of one target.

    ``counts`` is (n, sum of log-weights); ``sums`` (SSR, TSS); ``robust`` the centred meat
    (None for the classical kind) and the number of clusters. Classical:
    :math:`\\hat\\sigma^2 T B T^\\top`, :math:`\\hat\\sigma^2 = \\mathrm{SSR}/(n - r)`; robust:
    :math:`c\\,T B M B T^\\top` with :math:`c = 1` (HC0, HC2, HC3), :math:`n/(n-r)` (HC1) or
    :math:`\\frac{G}{G-1}\\frac{n-1}{n-p}` (cluster, statsmodels' default correction). A
    saturated design (:math:`n = r`) gets :func:`_saturated`'s numbers.
    """
    n, log_weights = counts
    if saturated(n, B):
        return _saturated(params, B, counts, sums, cov_type)
    ssr, tss = sums
    meat, n_groups = robust
    p = params.size
    k_const = int(B.intercept)
    df_resid = float(n - B.rank)
    df_model = float(B.rank - k_const)
    classical = cov_type == "nonrobust"
    T = B.transform()
    if classical:
        cov = (ssr / df_resid) * (T @ B.inverse @ T.T)
    else:
        assert meat is not None
        factor = 1.0
        if cov_type == "HC1":
            factor = n / df_resid
        elif cov_type == "cluster":
            factor = n_groups / (n_groups - 1.0) * (n - 1.0) / (n - p)
        sandwich = B.inverse @ meat @ B.inverse
        cov = factor * (T @ sandwich @ T.T)
    cov = np.where(np.outer(B.identified, B.identified), cov, np.nan)
    if classical:
        f_stat = ((tss - ssr) / df_model) / (ssr / df_resid) if df_model > 0 else np.nan
        f_df = (df_model, df_resid)
    else:
        f_stat, f_df = _wald(params, cov, B, cov_type, (df_resid, n_groups))
    return Numbers(
        params=params,
        cov=cov,
        nobs=n,
        rank=B.rank,
        df_resid=df_resid,
        df_model=df_model,
        ssr=ssr,
        tss=tss,
        log_weights=log_weights,
        cov_type=cov_type,
        use_t=classical,
        f_stat=float(f_stat),
        f_df=f_df,
        identified=B.identified,
    )


def saturated(rows: int, B: Bread) -> bool:
    """Whether the design is saturated: as many rows (of positive weight) as its rank, so
    no residual degrees of freedom (the fit interpolates the data)."""
    return rows <= B.rank


def pass_kind(cov_type: str, rows: int, B: Bread) -> str:
    """The kind the residual pass sums for: on a saturated design only the residual sum of
    squares and the counts ("nonrobust"), since every leverage is 1 there (the factors
    :math:`1/(1-h_i)` are infinite, the residuals zero) and :func:`numbers` reads no meat."""
    return "nonrobust" if saturated(rows, B) else cov_type


def _saturated(
    params: FloatArray,
    B: Bread,
    counts: tuple[int, float],
    sums: tuple[float, float],
    cov_type: str,
) -> Numbers:
    """The numbers of a saturated design (``df_resid == 0``), decided here rather than left
    to 0/0 and x/0: nothing estimates the variance of the errors.

    Classical, as statsmodels' ``OLS``: :math:`\\hat\\sigma^2 = \\mathrm{SSR}/0 = \\infty`, so the
    covariance is :math:`\\infty \\cdot T B T^\\top` (infinite standard errors, t = 0, and NaN
    where an entry of :math:`T B T^\\top` is 0), the F statistic NaN. Robust kinds: NaN. Their
    residuals are zero and every leverage is 1, so HC1 is :math:`\\frac{n}{0} \\cdot 0`, HC2
    and HC3 are :math:`0/0`, the cluster factor :math:`(n-1)/(n-p)` is infinite or negative
    times a zero meat, and HC0's zero would claim a precision the data cannot show;
    statsmodels returns NaN for HC1 and rounding noise for the others (or raises).
    Unidentified parameters stay NaN.
    """
    n, log_weights = counts
    ssr, tss = sums
    q = params.size
    if cov_type == "nonrobust":
        T = B.transform()
        M = T @ B.inverse @ T.T
        cov = np.where(M == 0, np.nan, np.copysign(np.inf, M))
    else:
        cov = np.full((q, q), np.nan)
    cov = np.where(np.outer(B.identified, B.identified), cov, np.nan)
    df_model = float(B.rank - int(B.intercept))
    return Numbers(
        params=params,
        cov=cov,
        nobs=n,
        rank=B.rank,
        df_resid=float(n - B.rank),
        df_model=df_model,
        ssr=ssr,
        tss=tss,
        log_weights=log_weights,
        cov_type=cov_type,
        use_t=cov_type == "nonrobust",
        f_stat=float("nan"),
        f_df=(df_model, 0.0),
        identified=B.identified,
    )


def _wald(
    params: FloatArray, cov: FloatArray, B: Bread, cov_type: str, dfs: tuple[float, int]
) -> tuple[float, tuple[float, float]]:
    """statsmodels' robust F: the Wald statistic that every identified slope is zero over
    their number, on F(q, n - r), or F(q, G - 1) for clusters."""
    slopes = B.identified.copy()
    slopes[: int(B.intercept)] = False
    if not slopes.any():
        return float("nan"), (0.0, dfs[0])
    beta, sub = params[slopes], cov[np.ix_(slopes, slopes)]
    # As statsmodels: q is the rank of their covariance (below their number with few clusters).
    q = int(np.linalg.matrix_rank(sub))
    stat = float(beta @ np.linalg.pinv(sub) @ beta) / q
    return stat, (float(q), float(dfs[1] - 1) if cov_type == "cluster" else dfs[0])


def two_sided_p(t: FloatArray, df: float | None) -> FloatArray:
    """:math:`2P(T > |t|)`, T Student's t on ``df`` degrees of freedom (None: normal; NaN
    for no degrees of freedom, as statsmodels)."""
    if df is not None and not df > 0:
        return np.full(np.shape(t), np.nan)
    dist = _dist.norm if df is None else _dist.t(df)
    p: FloatArray = 2.0 * dist.sf(np.abs(t))
    return p


def quantile(level: float, df: float | None) -> float:
    """The ``level`` quantile of Student's t on ``df`` degrees of freedom (None: normal;
    NaN for no degrees of freedom, as statsmodels)."""
    if df is not None and not df > 0:
        return float("nan")
    return float(_dist.norm.ppf(level) if df is None else _dist.t.ppf(level, df))


def f_sf(f: float, df: tuple[float, float]) -> float:
    """:math:`P(F > f)` for F on ``df`` degrees of freedom (NaN for a NaN statistic)."""
    if not np.isfinite(f) or df[0] <= 0 or df[1] <= 0:
        return float("nan")
    return float(_dist.f.sf(f, *df))


def usable(stats: Moments | None) -> bool:
    """Whether ``stats`` hold all that classical inference reads (the full scatter, the row
    count that statistics saved by older releases lack)."""
    return stats is not None and stats.rows is not None and np.ndim(stats.scatter) == 2


def check_same_data(stats: Moments, parts: Parts) -> None:
    """Refuse data whose row count or total weight differ from those of the fit."""
    same_w = abs(parts.weight_sum - stats.weight_sum) <= 1e-9 * abs(stats.weight_sum)
    if parts.rows != stats.rows or not same_w:
        raise ValueError(
            f"X, y and sample_weight must be the data of the fit: they hold {parts.rows} rows "
            f"of positive weight (total {parts.weight_sum:.6g}), the fit saw {stats.rows} "
            f"(total {stats.weight_sum:.6g}). Pass the same data, or refit on these."
        )
