"""The weighted, centred sufficient statistics of ``[X | Y]``: :class:`Moments`, built in one
blocked pass over the rows (:func:`moments`), merged exactly over parts, batches and chunks.

``Moments`` is persisted with a fitted model (its statistics, for ``partial_fit`` and
inference) under the type path ``gdlinreg._objective.Moments``, which pickles and skops trust
lists name: that path stays, through the compatibility module ``gdlinreg._objective``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .._kernels import threads as _threads
from .._kernels.sparse import few_nonzeros, is_sparse

if TYPE_CHECKING:
    from .._kernels.types import FloatArray, Matrix

_IN_PLACE_BLOCKS = 16
# The first block of a part is centred in two passes (its mean is every later shift's start):
# at most this many rows, a few hundred microseconds, where a whole block was 40% of 1e4 rows.
_FIRST_ROWS = 1024
_MIN_BLOCK_ROWS = 128
_PART_BLOCK_ROWS = 8192
_SUB_BLOCK_ROWS = 1024
# A shifted block's buffer: about what a core's cache holds between the copy and the product.
_BUFFER_BYTES = 1 << 20
# The Gram form's d x d statistics stay small up to here (32 MB); beyond, one pass per gradient.
MAX_FEATURES_FOR_GRAM = 2000


@dataclass(frozen=True)
class Moments:
    """Weighted moments of the joined columns ``Z = [X | Y]``.

    ``scatter`` is :math:`\\sum_i s_i (z_i - \\bar z)(z_i - \\bar z)^\\top`, unnormalised; only
    its diagonal when the statistics were built with ``full=False``. ``shift`` is the value
    subtracted before centring (its distance to the mean bounds the rounding in ``scatter``).
    ``rows`` counts the rows of positive weight and ``log_weights`` is :math:`\\sum_i \\log s_i`
    over them (the degrees of freedom and the weighted likelihood of :mod:`gdlinreg.inference`);
    None in statistics saved before they were kept, which then load unchanged. ``rounding``
    bounds the relative error of the standardised scatter where it is worse than a few eps:
    sparse X's cross-products ``X'WX - W mean mean'`` lose ``eps (mean / spread)^2``.
    """

    weight_sum: float
    mean: FloatArray
    scatter: FloatArray
    shift: FloatArray | float = 0.0
    rows: int | None = None
    log_weights: float | None = None
    rounding: float = 0.0

    def merge(self, other: Moments) -> Moments:
        # Chan et al.'s pairwise update: merging centred blocks keeps every digit that the
        # spread has, where the raw sum X'X - n*mu*mu' would cancel them away under large offsets.
        if other.weight_sum == 0:
            return self
        if self.weight_sum == 0:
            return other
        total = self.weight_sum + other.weight_sum
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.weight_sum / total)
        coupling = self.weight_sum * other.weight_sum / total
        cross = np.outer(delta, delta) if self.scatter.ndim == 2 else delta * delta
        # (In place: a merge's p x p temporaries are a fit's peak memory on small X.)
        cross *= coupling
        scatter = self.scatter + other.scatter
        scatter += cross
        rows = None if self.rows is None or other.rows is None else self.rows + other.rows
        logs = self.log_weights, other.log_weights
        log_weights = None if None in logs else float(sum(logs))  # type: ignore[arg-type]
        rounding = max(self.rounding, other.rounding)
        return Moments(total, mean, scatter, self.shift, rows, log_weights, rounding)


def moments(
    X: Matrix,
    Y: FloatArray,
    sample_weight: FloatArray,
    *,
    full: bool = True,
    block_rows: int | None = None,
) -> Moments:
    """Weighted centred moments of ``[X | Y]`` in one pass over row blocks.

    Accuracy comes from shifting, speed from one matrix product per block:

    * every value is shifted before anything is summed: the first block by its first row and
      then by its own weighted mean (the corrected two-pass algorithm); later blocks by that
      mean, their products summed while each block's mean stays within half a spread of it,
      and by the mean of the block that drifted further once one does. A block's values
      then sit within about their spread of the shift, so nothing large is ever squared,
      and :meth:`Moments.merge` (Chan et al.) joins the runs of blocks without the
      cancellation of ``X'X - n*mu*mu'``;
    * each shifted block, with a column of sqrt-weights appended, goes through one symmetric
      rank-k product (BLAS syrk, which NumPy uses for ``B.T @ B``). That product holds the
      block's scatter about the shift and, in its last row, the weighted sums that correct
      the shift to the block's mean: ``S = B'WB - w c c'``. So each block is read once by
      NumPy (shift, into a reused float64 buffer) and once by BLAS at matrix-multiply speed;
    * large X (see :mod:`gdlinreg._kernels.threads`) is cut into one contiguous part of the
      rows per core, each run as above with a one-thread BLAS and merged by the same update,
      every part shifted from the same first row.

    Only one block of rows per part is ever copied (to float64: float32 input accumulates in
    float64). ``full=False`` keeps the variances only. Sparse X is handled in
    :mod:`gdlinreg._kernels.sparse`.
    """
    if is_sparse(X):
        from .._kernels.sparse import sparse_moments

        ys = moments(Y, Y[:, :0], sample_weight, full=full)
        w_sum, mean, scatter, shift = sparse_moments(X, Y, sample_weight, ys, full=full)
        d = X.shape[1]
        spread = np.sqrt(
            np.maximum(scatter.diagonal()[:d] if scatter.ndim == 2 else scatter[:d], 0) / w_sum
        )
        with np.errstate(all="ignore"):
            ratio = np.where(spread > 0, np.abs(mean[:d]) / spread, 0.0)
        rounding = 4 * float(np.finfo(np.float64).eps) * float(np.max(ratio, initial=0.0)) ** 2
        stats = Moments(w_sum, mean, scatter, shift, rounding=rounding)
        return counted(stats, sample_weight)
    parts = _threads.spans(X.shape[0], _threads.n_parts(X.size) if block_rows is None else 1)
    # One contiguous part of the rows per core, merged as any two blocks are.
    # BLAS runs one thread (threads.run_parts, one part too): no per-call synchronisation,
    # so the in-place products can go by sub-blocks small enough to stay in the core's cache
    # between their two reads.
    # Every part is shifted by the same first row: their means, relative to it, merge with
    # no more rounding than two blocks of one part do.
    base = np.concatenate([X[0], Y[0]]).astype(np.float64)
    if block_rows is None:
        part = X.shape[0] // len(parts)
        # A shifted block's float64 buffer is at most 1/32 of the part's bytes (and
        # _BUFFER_BYTES): the extra memory of a fit stays a few percent of X at every n,
        # float32 X too. Blocks read in place need no buffer: they are larger.
        budget = min(_BUFFER_BYTES, part * X.shape[1] * X.dtype.itemsize // 32)
        block = max(_MIN_BLOCK_ROWS, budget // (8 * (base.size + 1)))
        in_place = _IN_PLACE_BLOCKS * min(_PART_BLOCK_ROWS, max(_MIN_BLOCK_ROWS, part // 16))
        how = _Pass(full, base, block, in_place, _SUB_BLOCK_ROWS)
    else:
        how = _Pass(full, base, block_rows, _IN_PLACE_BLOCKS * block_rows, None)
    results = _threads.run_parts(
        lambda rows: _moments(X[rows], Y[rows], sample_weight[rows], how), parts
    )
    found = [r for r in results if r is not None]  # (check_arrays refuses all-zero weights)
    acc = found[0]
    for stats in found[1:]:
        acc = acc.merge(stats)
    return counted(Moments(acc.weight_sum, acc.mean + base, acc.scatter, base), sample_weight)


def counted(stats: Moments, sample_weight: FloatArray) -> Moments:
    """``stats`` with the count and the log-weight sum of the rows of positive weight."""
    low, high = sample_weight.min(initial=np.inf), sample_weight.max(initial=-np.inf)
    if low == high and low > 0:  # equal weights (the common case): no copy of n values
        n = int(sample_weight.size)
        return replace(stats, rows=n, log_weights=float(n * np.log(low)))
    positive = sample_weight[sample_weight > 0]
    with np.errstate(all="ignore"):  # (non-finite weights are refused by the checks)
        logs = float(np.sum(np.log(positive)))
    return replace(stats, rows=int(positive.size), log_weights=logs)


@dataclass(frozen=True)
class _Pass:
    """How one thread reads its rows: ``full`` statistics or variances only, the ``base``
    every mean is relative to, the rows of a shifted block (copied into a buffer) and of a
    block read in place, and the in-place products' sub-blocks (None: one a block)."""

    full: bool
    base: FloatArray
    block: int
    in_place: int
    sub: int | None


def _moments(X: FloatArray, Y: FloatArray, sample_weight: FloatArray, how: _Pass) -> Moments | None:
    """:func:`moments` of dense rows in one thread, means relative to ``how.base``; None when
    all their weights are zero."""
    n, d = X.shape
    p = d + Y.shape[1]
    # Equal weights (the common case) need no per-row scaling: a scalar factor at the end.
    uniform = bool(sample_weight.min() == sample_weight.max())
    unit = float(sample_weight[0]) if uniform else 1.0
    in_place = how.full and uniform and X.dtype == np.float64
    first = min(_FIRST_ROWS, how.block, n)
    buf = np.ones((first, p + 1))  # (in place, only the first block is copied)
    acc: Moments | None = None
    start = 0
    while acc is None and start < n:
        # The first row may be an outlier, and this block's mean is every later block's
        # shift: it gets the full corrected two-pass treatment.
        rows = slice(start, min(start + first, n))
        start = rows.stop
        s = sample_weight[rows]
        w_sum = float(s.sum())
        if w_sum > 0:
            block = buf[: rows.stop - rows.start]
            np.subtract(X[rows], how.base[:d], out=block[:, :d])
            np.subtract(Y[rows], how.base[d:], out=block[:, d:p])
            acc = _first_block(block, s, w_sum, how.full, uniform)
    if acc is None:
        return None
    local = acc.mean
    while start < n:
        shift = how.base + local
        if in_place and _small_offsets(acc, shift[:d]):
            # Columns centred near zero lose nothing to X'X - n*mu*mu' (at most a factor
            # 1 + mu^2/var, here <= 2): read X's rows in place, no shifted copy.
            rows = slice(start, min(start + how.in_place, n))
            start = rows.stop
            shift[:d] = 0.0
            gram = _gram_in_place(X[rows], Y[rows], shift[d:], how.sub) * unit
            # shift - base is exact (Sterbenz) whenever the offsets are large against the
            # spread.
            part = _corrected(gram, shift - how.base, (rows.stop - rows.start) * unit, full=True)
            acc, local = acc.merge(part), part.mean
            continue
        if buf.shape[0] < how.block:
            buf = np.ones((min(how.block, n), p + 1))
        run = _Run(shift - how.base, acc, unit, how.full)
        while start < n:
            rows = slice(start, min(start + how.block, n))
            start = rows.stop
            s = sample_weight[rows]
            w_sum = (rows.stop - rows.start) * unit if uniform else float(s.sum())
            if w_sum > 0:
                gram = _shifted_gram(X[rows], Y[rows], None if uniform else s, shift, buf, how.full)
                if not run.add(gram, w_sum):
                    break
        if run.w_sum > 0:
            acc = acc.merge(run.moments())
        # A run that drifted ends with the block that left it; the next is shifted by its mean.
        local = run.shift + run.block_mean
    return acc


def _corrected(gram: FloatArray, rel: FloatArray, w_sum: float, full: bool) -> Moments:
    """The moments of rows whose products about ``rel`` (relative to the base) are ``gram``:
    their weighted sums of ``z - rel`` are its last row (``full``) or its second (variances
    only: the first holds the weighted sums of squares)."""
    p = rel.size
    correction = gram[p, :p] / w_sum if full else gram[1] / w_sum
    if full:
        cross = np.outer(correction, correction)
        cross *= w_sum
        scatter = gram[:p, :p] - cross
    else:
        scatter = gram[0] - w_sum * correction * correction
    return Moments(w_sum, rel + correction, scatter)


class _Run:
    """Shifted blocks summed about one shift while their means stay near it.

    Merging every block's moments cost some ten p x p operations a block, as much as the
    copy and the product of a cache-sized block. Blocks whose mean stays within half a
    spread (of the statistics so far) of the shift lose nothing by summing their products
    instead: the rounding of ``sum s (z - shift)^2 - W c^2`` is then at most 1.25 times that
    of the centred sum. A block that drifts further (sorted or trending rows) ends the run,
    and the next run is shifted by its mean, as every block was by its predecessor's before.
    """

    def __init__(self, shift: FloatArray, acc: Moments, unit: float, full: bool) -> None:
        self.shift, self.unit, self.full = shift, unit, full
        var = np.diagonal(acc.scatter) if acc.scatter.ndim == 2 else acc.scatter
        self.limit = var / (4 * acc.weight_sum)
        self.gram: FloatArray | None = None
        self.w_sum = 0.0
        self.block_mean: FloatArray = np.zeros(shift.size)

    def add(self, gram: FloatArray, w_sum: float) -> bool:
        """Add a block's products (with weights in units of ``unit``); False if its mean
        drifted from the shift."""
        if self.gram is None:
            self.gram = gram
        else:
            self.gram += gram
        self.w_sum += w_sum
        p = self.shift.size
        self.block_mean = (gram[p, :p] if self.full else gram[1]) * (self.unit / w_sum)
        return bool(np.all(self.block_mean * self.block_mean <= self.limit))

    def moments(self) -> Moments:
        assert self.gram is not None  # (w_sum > 0: a block was added)
        self.gram *= self.unit  # (the run is over)
        return _corrected(self.gram, self.shift, self.w_sum, self.full)


def _small_offsets(acc: Moments, x_mean: FloatArray) -> bool:
    var = np.diagonal(acc.scatter)[: x_mean.size] / acc.weight_sum
    return bool(np.all(x_mean * x_mean <= var))


def _gram_in_place(
    xb: FloatArray, yb: FloatArray, y_shift: FloatArray, sub_rows: int | None
) -> FloatArray:
    """``[X_b | Y_b - y_shift | 1]' [X_b | Y_b - y_shift | 1]`` without copying X_b, summed
    over sub-blocks of ``sub_rows`` (default: one)."""
    d, k = xb.shape[1], yb.shape[1]
    xx, xa, aa = np.zeros((d, d)), np.zeros((d, k + 1)), np.zeros((k + 1, k + 1))
    step = sub_rows or xb.shape[0]
    aux = np.ones((min(step, xb.shape[0]), k + 1))
    for a in range(0, xb.shape[0], step):
        x = xb[a : a + step]
        u = aux[: x.shape[0]]
        np.subtract(yb[a : a + step], y_shift, out=u[:, :-1])
        xx += x.T @ x
        # (aux' X)' rather than X' aux: BLAS runs the narrow product some 30% faster this way.
        xa += (u.T @ x).T
        aa += u.T @ u
    gram: FloatArray = np.block([[xx, xa], [xa.T, aa]])
    return gram


def _shifted_gram(
    xb: FloatArray,
    yb: FloatArray,
    s: FloatArray | None,
    shift: FloatArray,
    buf: FloatArray,
    full: bool,
) -> FloatArray:
    """:func:`_syrk` of ``[X_b - shift | sqrt(s)]``, shifted into ``buf``, rows scaled by
    ``sqrt(s)`` (equal weights: ``s`` None, and the buffer's column of ones)."""
    d, p = xb.shape[1], shift.size
    block = buf[: xb.shape[0]]
    np.subtract(xb, shift[:d], out=block[:, :d])
    np.subtract(yb, shift[d:], out=block[:, d:p])
    if s is not None:
        root = np.sqrt(s)
        block[:, :p] *= root[:, None]
        block[:, p] = root
    return _syrk(block, full)


def _first_block(
    block: FloatArray, s: FloatArray, w_sum: float, full: bool, uniform: bool
) -> Moments:
    """Moments of one block shifted by its first row (``block[:, :-1]``; the last column is
    the buffer's column of ones), centred on its mean and corrected."""
    z = block[:, :-1]
    mean = (s @ z) / w_sum
    # Centred as the whole contiguous block, the ones column minus 0.0: NumPy loops over rows,
    # and contiguous rows of p + 1 run some 2.5x faster than the strided rows of z. (The
    # products read z itself, as before: their BLAS kernels can depend on the layout.)
    pad = np.zeros(block.shape[1])
    pad[:-1] = mean
    block -= pad
    correction = (s @ z) / w_sum
    pad[:-1] = correction
    block -= pad
    if full and uniform:  # syrk, and no weighted copy of the block
        scatter = z.T @ z
        scatter *= s[0]
    else:
        scatter = z.T @ (z * s[:, None]) if full else s @ np.square(z)
    return Moments(w_sum, mean + correction, scatter)


def _syrk(block: FloatArray, full: bool) -> FloatArray:
    """``block.T @ block`` (NumPy calls BLAS syrk for it); or, with ``full=False``, the column
    sums of squares of the data columns and the products with the last (weight) column."""
    if full:
        gram: FloatArray = block.T @ block
        return gram
    z, root = block[:, :-1], block[:, -1]
    return np.stack([np.einsum("ij,ij->j", z, z), root @ z])


def prefer_gram(X: Matrix) -> bool:
    """The "auto" cost model for quadratic losses: Gram form or data form?

    Dense X: the Gram build costs n*d^2/2 multiply-adds at matrix-multiply speed (syrk runs
    some 40 times more of them per second than a matrix-vector product, which is bound by
    memory), then O(d^2) per step; the data form costs a read of X per step. With the tens of
    steps conjugate gradients takes, the Gram form wins up to d of about 2000, where its
    d x d matrix (32 MB) also stops being small. Sparse X: also ``_kernels.sparse.few_nonzeros``.
    """
    small = bool(X.shape[1] <= MAX_FEATURES_FOR_GRAM)
    return small and (not is_sparse(X) or few_nonzeros(X))


# Pickles and skops files name the class by this path (see the module docstring).
Moments.__module__ = "gdlinreg._objective"
