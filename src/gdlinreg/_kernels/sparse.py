"""Sparse X (scipy.sparse matrices and arrays): used as they come, never densified.

SciPy is imported only here and only when sparse input arrives. Centring stays implicit: the
objectives form ``X w - offset @ w`` and ``X'r - offset * sum(r)``, never ``X - offset``.
CSR and CSC are used in place; other formats are converted to CSR (a copy, as scikit-learn
does). Products run in float64: float32 values are promoted one row block at a time. Large
CSR X is read one part of the rows per core, through scipy's compiled kernels on X's own
arrays (they release the GIL; scipy's public products are single-threaded).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .finite import first_nonfinite

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .types import FloatArray, Matrix

    class Moments(Protocol):
        """What :func:`sparse_moments` reads of Y's statistics (``gdlinreg._problem``'s
        ``Moments``, named here by shape: the kernels import nothing of gdlinreg)."""

        @property
        def mean(self) -> FloatArray: ...

        @property
        def scatter(self) -> FloatArray: ...

        @property
        def shift(self) -> FloatArray | float: ...

    #: ``(rows, cols, values)`` of stored entries; rows None unless asked for.
    _Entries = tuple[NDArray[np.integer[Any]] | None, NDArray[np.integer[Any]], FloatArray]

# Nonzeros per row block of the products and of the one-pass moments: large, because scipy's
# per-call overhead, not the cache, dominates below about a million; the exact two-pass
# moments' bincounts use small blocks, to bound their temporaries.
_BLOCK_NNZ = 1 << 22
_MOMENT_BLOCK_NNZ = 1 << 16
# Sparse Gram form ("auto") only while X'X costs few sparse products per nonzero; beyond,
# scipy's sparse-sparse product is slower than the passes over X that it would save.
_MAX_ROW_NNZ_FOR_GRAM = 16


def is_sparse(X: object) -> bool:
    # A scipy.sparse object can only exist once scipy.sparse has been imported: no import here.
    # (An ndarray, the common case, is answered without a call into scipy.)
    if type(X) is np.ndarray:
        return False
    module = sys.modules.get("scipy.sparse")
    return module is not None and bool(module.issparse(X))


def check_sparse(X: Matrix, defer: bool = False) -> Matrix:
    """The checks of ``check_arrays`` for sparse X; returns CSR or CSC, float32 or float64.

    ``defer=True`` leaves the values' finiteness to the magnitude check (from the moments)."""
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, (n_samples, n_features); got {X.ndim}-D.")
    if X.dtype.kind not in "fiub":
        raise ValueError(f"X must hold real numbers; got dtype {X.dtype}.")
    if X.format not in ("csr", "csc"):
        X = X.tocsr()
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if not X.has_canonical_format:
        # Duplicate entries would be counted twice by the moments: sum them, on a copy.
        X = X.copy()
        X.sum_duplicates()
    if not defer and not np.isfinite(X.data).all():  # one pass; where only on failure
        found = first_nonfinite("X", X)
        if found is not None:
            raise found
    return X


def few_nonzeros(X: Matrix) -> bool:
    """The sparse half of the "auto" cost model (see ``_problem.statistics.prefer_gram``): few
    enough stored values per row for scipy's X'X to cost less than the passes it saves."""
    return bool(X.nnz <= _MAX_ROW_NNZ_FOR_GRAM * X.shape[0])


class _Product:
    """``dot(v) = X_b v`` and ``tdot(r) = X_b' r`` for one block of rows, in float64."""

    def __init__(self, X: Matrix) -> None:
        self.X = X

    def dot(self, v: FloatArray) -> FloatArray:
        return np.asarray(self.X @ v)

    def tdot(self, r: FloatArray) -> FloatArray:
        return np.asarray(self.X.T @ r)


class _Rows(_Product):
    """Rows of CSR X through scipy's own kernels, on X's arrays in place.

    ``indptr`` is the rows' slice of X's (not rebased: the kernels read ``indices[indptr[i]]``),
    so no constructor runs (scipy's would copy views of X's arrays) and threads can share X.
    """

    def __init__(self, indptr: Any, indices: Any, data: FloatArray, d: int) -> None:
        self.indptr, self.indices, self.data, self.d = indptr, indices, data, d

    def dot(self, v: FloatArray) -> FloatArray:
        m, k = self.indptr.size - 1, v.shape[1]
        out = np.zeros(m * k)
        tools = _kernels()
        args = (self.indptr, self.indices, self.data, np.ascontiguousarray(v).ravel(), out)
        if k == 1:
            tools.csr_matvec(m, self.d, *args)
        else:
            tools.csr_matvecs(m, self.d, k, *args)
        return out.reshape(m, k)

    def tdot(self, r: FloatArray) -> FloatArray:
        m, k = self.indptr.size - 1, r.shape[1]
        out = np.zeros(self.d * k)
        tools = _kernels()
        # X_b' as CSC: the same three arrays, read column by column.
        args = (self.indptr, self.indices, self.data, np.ascontiguousarray(r).ravel(), out)
        if k == 1:
            tools.csc_matvec(self.d, m, *args)
        else:
            tools.csc_matvecs(self.d, m, k, *args)
        return out.reshape(self.d, k)


def _kernels() -> Any:
    """scipy's compiled sparse kernels (a private module: None if a release moves it)."""
    try:
        from scipy.sparse import _sparsetools
    except ImportError:  # pragma: no cover - present from scipy 1.8 to at least 1.17
        return None
    return _sparsetools if hasattr(_sparsetools, "csc_matvecs") else None


def can_split(X: Matrix) -> bool:
    """Whether X can be cut into row parts read in place (CSR, with scipy's kernels)."""
    return bool(X.format == "csr") and _kernels() is not None


def product_blocks(
    X: Matrix, span: slice = slice(None), split: bool = False
) -> Iterator[tuple[slice, _Product]]:
    """The ``(rows, product)`` pairs the data form multiplies with, covering ``span``.

    With ``split`` (CSR, see :func:`can_split`), the rows of ``span`` through scipy's kernels:
    float64 in place, float32 promoted in blocks. Otherwise float64 X whole through scipy's
    public products, float32 X in promoted row blocks.
    """
    if split:
        start, stop = span.indices(X.shape[0])[:2]
        indptr = X.indptr
        for r0, r1 in _cuts(indptr, start, stop, _BLOCK_NNZ if X.dtype != np.float64 else None):
            rows = slice(r0, r1)
            if X.dtype == np.float64:
                yield rows, _Rows(indptr[r0 : r1 + 1], X.indices, X.data, X.shape[1])
            else:
                a, b = indptr[r0], indptr[r1]
                data = X.data[a:b].astype(np.float64)
                yield rows, _Rows(indptr[r0 : r1 + 1] - a, X.indices[a:b], data, X.shape[1])
    elif X.dtype == np.float64:
        yield slice(None), _Product(X)
    else:
        for rows, block in row_blocks(X):
            yield rows, _Product(block)


def _cuts(indptr: Any, start: int, stop: int, block_nnz: int | None) -> list[tuple[int, int]]:
    """Row ranges covering ``[start, stop)`` of about ``block_nnz`` stored values each."""
    if block_nnz is None:
        return [(start, stop)]
    a, b = indptr[start], indptr[stop]
    inner = np.searchsorted(indptr, np.arange(a + block_nnz, b, block_nnz))
    cuts = np.unique(np.concatenate([[start], np.clip(inner, start, stop), [stop]]))
    return list(itertools.pairwise(cuts.tolist()))


def row_blocks(X: Matrix, block_nnz: int = _BLOCK_NNZ) -> Iterator[tuple[slice, Matrix]]:
    """``(rows, block)`` pairs covering X, each block float64 and sharing X's index arrays.

    CSR is cut into row blocks of about ``block_nnz`` nonzeros (views of X's arrays), each
    serving both ``X b`` and ``X' r``. CSC cannot be cut by rows without a copy: it is
    one block (its float32 values promoted once per pass).
    """
    if X.format == "csc":
        yield slice(None), _as_float64(X)
        return
    indptr = X.indptr
    for r0, r1 in _cuts(indptr, 0, X.shape[0], block_nnz):
        a, b = indptr[r0], indptr[r1]
        block = type(X)(
            (X.data[a:b], X.indices[a:b], indptr[r0 : r1 + 1] - a), shape=(r1 - r0, X.shape[1])
        )
        yield slice(r0, r1), _as_float64(block)


def _as_float64(X: Matrix) -> Matrix:
    if X.dtype == np.float64:
        return X
    return type(X)((X.data.astype(np.float64), X.indices, X.indptr), shape=X.shape)


def _nonzeros(X: Matrix, with_rows: bool = True) -> Iterator[_Entries]:
    """``(rows, cols, values)`` of X's stored entries, in blocks (values in float64); rows is
    None unless asked for (only unequal weights need them)."""
    for rows, block in row_blocks(X, _MOMENT_BLOCK_NNZ):
        counts = np.diff(block.indptr)
        if X.format == "csr":
            r = None
            if with_rows:
                r = np.repeat(np.arange(block.shape[0]) + (rows.start or 0), counts)
            yield r, block.indices, block.data
        else:
            yield block.indices, np.repeat(np.arange(block.shape[1]), counts), block.data


def sparse_moments(
    X: Matrix, Y: FloatArray, sample_weight: FloatArray, ys: Moments, *, full: bool
) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    """:func:`gdlinreg._problem.statistics.moments` for sparse X, without densifying it: the
    fields ``(weight_sum, mean, scatter, shift)`` of the moments of ``[X | Y]``, given ``ys``,
    those of Y (which ``moments`` builds, so that this kernel needs nothing of gdlinreg).

    The variances come from one pass of sums and sums of squares where that keeps their digits
    (:func:`_column_moments`), else from sums of non-negative terms, exact to rounding whatever
    the offsets: a column's zeros contribute ``mean^2`` times their total weight, its stored
    values ``(x - mean)^2``. The cross-products of the Gram form are ``X'WX - W mean mean'`` from
    scipy's sparse product: accurate when a column's mean is not large against its spread,
    which holds for sparse columns (a column with a fraction f of nonzeros that share one value
    has mean / spread = sqrt(f / (1 - f))). They need a float64 (and, with unequal weights, a
    weighted) copy of X's stored values.
    """
    d = X.shape[1]
    s = sample_weight
    w_sum = float(s.sum())
    uniform = bool(s.min() == s.max())
    yc = (Y - ys.mean) * s[:, None]
    exact, xy = None, None
    # The cross-products X'Y only enter the Gram form's full scatter.
    if can_split(X):
        sums, var, xy, exact = _column_moments(X, s, w_sum, yc if full else yc[:, :0])
    if exact is None or exact.any():
        two_pass = _two_pass_moments(X, s, w_sum, uniform)
        sums, var = two_pass if exact is None else np.where(exact, two_pass, (sums, var))
    mean = sums / w_sum
    if full:
        xy = _rmatmat(X, yc) if xy is None else xy
        cross = xy - np.outer(mean, yc.sum(axis=0))
        X64 = _as_float64(X)
        weighted = X64 if uniform else X64.multiply(s[:, None]).tocsr()
        xx = np.asarray((X64.T @ weighted).toarray())
        if uniform:
            xx *= s[0]
        xx -= w_sum * np.outer(mean, mean)
        np.fill_diagonal(xx, var)
        scatter = np.block([[xx, cross], [cross.T, ys.scatter]])
    else:
        scatter = np.concatenate([var, ys.scatter])
    shift = np.concatenate([np.zeros(d), np.broadcast_to(ys.shift, ys.mean.shape)])
    return w_sum, np.concatenate([mean, ys.mean]), scatter, shift


def _column_moments(
    X: Matrix, s: FloatArray, w_sum: float, R: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
    """Weighted column sums and scatters of CSR X, ``X' R``, and where the scatters cancelled.

    One pass: products of each block of rows, ``X_b' s`` with X's values and with their
    squares, and ``X_b' R_b``, through scipy's kernels, one part of the rows per core (bincount
    is 3x slower). The scatter ``sum s x^2 - w mean^2`` cancels when a column's mean is close
    to its root mean square: columns that lost more than 10 bits (scatter below 1/1024 of the
    sum of squares, such as a nearly constant column stored in full) are flagged for
    :func:`_two_pass_moments`.
    """
    from . import threads as _threads

    n, d = X.shape
    k = R.shape[1]
    tools = _kernels()

    def part(span: slice) -> FloatArray:
        out = np.zeros(d * (2 + k))
        sums, squares, xr = out[:d], out[d : 2 * d], out[2 * d :]
        for r0, r1 in _cuts(X.indptr, span.start, span.stop, _BLOCK_NNZ):
            a, b = X.indptr[r0], X.indptr[r1]
            block = (r1 - r0, X.indptr[r0 : r1 + 1] - a, X.indices[a:b])
            values = np.asarray(X.data[a:b], dtype=np.float64)
            tools.csc_matvec(d, *block, values, s[r0:r1], sums)
            tools.csc_matvec(d, *block, np.square(values), s[r0:r1], squares)
            if k:
                tools.csc_matvecs(d, *block[:1], k, *block[1:], values, R[r0:r1].ravel(), xr)
        return out

    parts = _threads.spans(n, _threads.n_parts(X.nnz))
    out = np.sum(_threads.run_parts(part, parts), axis=0)
    sums, squares, xr = out[:d], out[d : 2 * d], out[2 * d :].reshape(d, k)
    with np.errstate(all="ignore"):
        var = squares - sums * (sums / w_sum)
        exact = ~(var * 1024 >= squares)  # NaN too: the magnitude check then names it
    return sums, np.maximum(var, 0.0), xr, exact


def _two_pass_moments(
    X: Matrix, s: FloatArray, w_sum: float, uniform: bool
) -> tuple[FloatArray, FloatArray]:
    """Column sums and scatters about the mean, by two passes over the stored values: exact
    to rounding whatever the offsets, at about five times the cost of :func:`_column_moments`."""
    n, d = X.shape
    sums, w_nz, stored = np.zeros(d), np.zeros(d), np.zeros(d, dtype=np.int64)
    for r, c, v in _nonzeros(X, with_rows=not uniform):
        # Equal weights: one factor at the end, no per-entry gather of the row weights.
        sums += np.bincount(c, weights=v if uniform else s[r] * v, minlength=d)
        stored += np.bincount(c, minlength=d)
        if not uniform:
            w_nz += np.bincount(c, weights=s[r], minlength=d)
    if uniform:
        sums *= s[0]
        w_nz = s[0] * stored
    mean = sums / w_sum
    # The weight of a column's zeros; exactly 0 for a fully stored column (a constant column
    # stored in full must get variance 0, not mean^2 times the rounding of w_sum - w_nz).
    w_zero = np.where(stored == n, 0.0, np.maximum(w_sum - w_nz, 0.0))
    var = mean * mean * w_zero
    spread = np.zeros(d)
    for r, c, v in _nonzeros(X, with_rows=not uniform):
        dev = np.square(v - mean[c])
        spread += np.bincount(c, weights=dev if uniform else s[r] * dev, minlength=d)
    var += s[0] * spread if uniform else spread
    return sums, var


def _rmatmat(X: Matrix, R: FloatArray) -> FloatArray:
    """``X' R`` in float64, block by block."""
    out = np.zeros((X.shape[1], R.shape[1]))
    for rows, product in product_blocks(X):
        out += product.tdot(R[rows])
    return out
