"""The objective forms the solver iterates on, and the coordinates they live in.

The solver only asks an objective for ``value_and_gradient(theta)``, ``hessian_product(v)`` (for
the quadratic losses) and ``lipschitz(rtol)``, the largest eigenvalue of the Hessian (the
curvature bound L). Two forms answer:

* :class:`GramObjective` keeps the weighted, centred sufficient statistics of ``[X | Y]``, built
  in one blocked pass over the rows; each step then costs O(d^2) whatever n is.
* :class:`DataObjective` passes over X for every gradient (large d, and any loss).

Both see the parameters through one affine change of coordinates, :class:`Coordinates`:
``z = (x - offset) / scale`` (with a column of ones appended when the intercept is a
coordinate) and ``t = y - y_offset``. Textbook GD uses the identity with an appended one;
the engineered solvers use centred, standardised columns, which decouples the intercept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ._data import threads as _threads
from ._data.sparse import can_split, few_nonzeros, is_sparse, product_blocks

if TYPE_CHECKING:
    from ._typing import FloatArray, Loss, Matrix, Product, QuadraticLoss, Value

_BLOCK_ROWS = 4096
_IN_PLACE_BLOCKS = 16
_PART_BLOCK_ROWS = 8192
_SUB_BLOCK_ROWS = 1024
_DATA_BLOCK_BYTES = 1 << 23
# The Gram form's d x d statistics stay small up to here (32 MB); beyond, one pass per gradient.
_MAX_FEATURES_FOR_GRAM = 2000
# Up to this many parameters, an exact symmetric eigensolve is cheaper than Lanczos.
_EXACT_EIGEN_MAX = 256


@dataclass(frozen=True)
class Moments:
    """Weighted moments of the joined columns ``Z = [X | Y]``.

    ``scatter`` is :math:`\\sum_i s_i (z_i - \\bar z)(z_i - \\bar z)^\\top`, unnormalised; only
    its diagonal when the statistics were built with ``full=False``. ``shift`` is the value
    subtracted before centring (its distance to the mean bounds the rounding in ``scatter``).
    ``rows`` counts the rows of positive weight and ``log_weights`` is :math:`\\sum_i \\log s_i`
    over them (the degrees of freedom and the weighted likelihood of :mod:`gdlinreg.inference`);
    None in statistics saved before they were kept, which then load unchanged.
    """

    weight_sum: float
    mean: FloatArray
    scatter: FloatArray
    shift: FloatArray | float = 0.0
    rows: int | None = None
    log_weights: float | None = None

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
        scatter = self.scatter + other.scatter + coupling * cross
        rows = None if self.rows is None or other.rows is None else self.rows + other.rows
        logs = self.log_weights, other.log_weights
        log_weights = None if None in logs else float(sum(logs))  # type: ignore[arg-type]
        return Moments(total, mean, scatter, self.shift, rows, log_weights)


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
      then by its own weighted mean (the corrected two-pass algorithm); every later block by
      the previous block's mean. A block's values then sit within about their spread of the
      shift (plus the drift between neighbouring blocks), so nothing large is ever squared,
      and :meth:`Moments.merge` (Chan et al.) joins blocks without the cancellation of
      ``X'X - n*mu*mu'``;
    * each shifted block, with a column of sqrt-weights appended, goes through one symmetric
      rank-k product (BLAS syrk, which NumPy uses for ``B.T @ B``). That product holds the
      block's scatter about the shift and, in its last row, the weighted sums that correct
      the shift to the block's mean: ``S = B'WB - w c c'``. So each block is read once by
      NumPy (shift, into a reused float64 buffer) and once by BLAS at matrix-multiply speed;
    * large X (see :mod:`._data.threads`) is cut into one contiguous part of the rows per core,
      each run as above with a one-thread BLAS and merged by the same update, every part
      shifted from the same first row.

    Only one block of rows per part is ever copied (to float64: float32 input accumulates in
    float64). ``full=False`` keeps the variances only. Sparse X is handled in :mod:`._data.sparse`.
    """
    if is_sparse(X):
        from ._data.sparse import sparse_moments

        ys = moments(Y, Y[:, :0], sample_weight, full=full)
        return counted(Moments(*sparse_moments(X, Y, sample_weight, ys, full=full)), sample_weight)
    parts = _threads.spans(X.shape[0], _threads.n_parts(X.size) if block_rows is None else 1)
    # One contiguous part of the rows per core, merged as any two blocks are.
    # In parts, BLAS runs one thread: no per-call synchronisation, so the in-place products
    # can go by sub-blocks small enough to stay in the core's cache between their two reads.
    sub_rows = None
    if len(parts) > 1:
        block_rows, sub_rows = _PART_BLOCK_ROWS, _SUB_BLOCK_ROWS
    # Every part is shifted by the same first row: their means, relative to it, merge with
    # no more rounding than two blocks of one part do.
    base = np.concatenate([X[0], Y[0]]).astype(np.float64)
    results = _threads.run_parts(
        lambda rows: _moments(
            X[rows], Y[rows], sample_weight[rows], full, block_rows, sub_rows, base
        ),
        parts,
    )
    found = [r for r in results if r is not None]  # (check_arrays refuses all-zero weights)
    acc = found[0]
    for part in found[1:]:
        acc = acc.merge(part)
    return counted(Moments(acc.weight_sum, acc.mean + base, acc.scatter, base), sample_weight)


def counted(stats: Moments, sample_weight: FloatArray) -> Moments:
    """``stats`` with the count and the log-weight sum of the rows of positive weight."""
    positive = sample_weight[sample_weight > 0]
    with np.errstate(all="ignore"):  # (non-finite weights are refused by the checks)
        logs = float(np.sum(np.log(positive)))
    return replace(stats, rows=int(positive.size), log_weights=logs)


def _moments(
    X: FloatArray,
    Y: FloatArray,
    sample_weight: FloatArray,
    full: bool,
    block_rows: int | None,
    sub_rows: int | None,
    base: FloatArray,
) -> Moments | None:
    """:func:`moments` of dense rows in one thread, means relative to ``base``; None when all
    their weights are zero."""
    n, d = X.shape
    p = d + Y.shape[1]
    # At least 4096 rows a block, and no more than 16 blocks while a block stays under 64k
    # rows: each BLAS call synchronises its threads, which costs milliseconds per call on a
    # loaded machine, while the buffer stays within 1/16 of X.
    block_rows = block_rows or max(_BLOCK_ROWS, min(n // 16, 16 * _BLOCK_ROWS))
    # Equal weights (the common case) need no per-row scaling: a scalar factor at the end.
    uniform = bool(sample_weight.min() == sample_weight.max())
    in_place = full and uniform and X.dtype == np.float64
    buf = np.ones((min(block_rows, n), p + 1))
    acc: Moments | None = None
    local = np.zeros(p)
    start = 0
    while start < n:
        shift = base + local
        fast = acc is not None and in_place and _small_offsets(acc, shift[:d])
        # In place, blocks are larger still: no buffer to bound, and syrk blocks for the
        # cache itself.
        stop = min(start + (block_rows * _IN_PLACE_BLOCKS if fast else block_rows), n)
        s = sample_weight[start:stop]
        w_sum = float(s.sum())
        start, rows = stop, slice(start, stop)
        if w_sum == 0:
            continue
        if fast and acc is not None:  # (fast implies acc; the test tells the type checker)
            # Columns centred near zero lose nothing to X'X - n*mu*mu' (at most a factor
            # 1 + mu^2/var, here <= 2): read X's rows in place, no shifted copy.
            shift[:d] = 0.0
            gram = _gram_in_place(X[rows], Y[rows], shift[d:], sub_rows)
        elif acc is None:
            # The first row may be an outlier, and this block's mean is every later block's
            # shift: it gets the full corrected two-pass treatment.
            block = buf[: stop - rows.start]
            np.subtract(X[rows], shift[:d], out=block[:, :d])
            np.subtract(Y[rows], shift[d:p], out=block[:, d:p])
            acc = _first_block(block, s, w_sum, full, uniform)
            local = acc.mean
            continue
        else:
            gram = _shifted_gram(X[rows], Y[rows], s, shift, buf, full, uniform)
        if uniform:
            gram *= s[0]
        # shift - base is exact (Sterbenz) whenever the offsets are large against the spread.
        rel = shift - base
        correction = gram[p, :p] / w_sum if full else gram[1] / w_sum
        if full:
            scatter = gram[:p, :p] - w_sum * np.outer(correction, correction)
        else:
            scatter = gram[0] - w_sum * correction * correction
        part = Moments(w_sum, rel + correction, scatter)
        acc = acc.merge(part)
        local = part.mean
    return acc


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
    s: FloatArray,
    shift: FloatArray,
    buf: FloatArray,
    full: bool,
    uniform: bool,
) -> FloatArray:
    """:func:`_syrk` of ``[X_b - shift | sqrt(s)]``, shifted into ``buf``, rows scaled by
    ``sqrt(s)`` unless the weights are equal. (Cut into cache-sized sub-blocks like the
    in-place path, it was measured 5-10% slower: syrk loses more to short blocks than the
    cache gains.)"""
    d, p = xb.shape[1], shift.size
    block = buf[: xb.shape[0]]
    np.subtract(xb, shift[:d], out=block[:, :d])
    np.subtract(yb, shift[d:], out=block[:, d:p])
    if not uniform:
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
        scatter = (z.T @ z) * s[0]
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
    d x d matrix (32 MB) also stops being small. Sparse X: also ``_data.sparse.few_nonzeros``.
    """
    small = bool(X.shape[1] <= _MAX_FEATURES_FOR_GRAM)
    return small and (not is_sparse(X) or few_nonzeros(X))


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


class GramObjective:
    """Quadratic objective :math:`c\\sum_k(\\theta_k^\\top A\\theta_k - 2\\theta_k^\\top B_k
    + T_{kk})` from sufficient statistics, with :math:`A = \\sum_i p_i z_i z_i^\\top`,
    :math:`B = \\sum_i p_i z_i t_i^\\top` and :math:`T = \\sum_i p_i t_i t_i^\\top`.

    ``value_and_gradient`` accepts a stack of parameters (..., p, k), which lets textbook
    gradient descent evaluate a whole block of iterates at once.
    """

    #: A gradient costs O(p^2), not a pass over the data.
    reads_data = False
    #: Passes over the data made by this objective (none: the statistics are at hand).
    passes = 0

    def __init__(
        self, stats: Moments, n_features: int, coords: Coordinates, loss: QuadraticLoss
    ) -> None:
        d = n_features
        cov = stats.scatter / stats.weight_sum
        dx = stats.mean[:d] - coords.offset
        dy = stats.mean[d:] - coords.y_offset
        inv = 1.0 / coords.scale
        # (np.outer(u, v) is u[:, None] * v, behind a Python function: 2 us a call here)
        a = (cov[:d, :d] + dx[:, None] * dx) * (inv[:, None] * inv)
        b = (cov[:d, d:] + dx[:, None] * dy) * inv[:, None]
        if coords.augment:
            a = np.block([[a, (dx * inv)[:, None]], [(dx * inv)[None, :], np.ones((1, 1))]])
            b = np.vstack([b, dy[None, :]])
        self.A, self.B = a, b
        self.t_sum = float(cov[d:, d:].trace() + dy @ dy)
        self.factor = loss.factor
        self._twice = 2.0 * self.factor
        # The Hessian and the gradient's constant, kept: a textbook step's gradient is then
        # two NumPy calls. (2c is 1 or 2, so these products are exact: the same numbers as
        # value_and_gradient's.)
        self._hessian, self._shift = self._twice * a, self._twice * b

    def value_and_gradient(self, theta: FloatArray) -> tuple[Value, FloatArray]:
        grad_half = self.A @ theta - self.B
        # theta'A theta - 2 theta'B = theta'(A theta - B) - theta'B. (np.add.reduce is
        # np.sum's reduction without its Python dispatch: a microsecond of a small step.)
        quad = np.add.reduce(theta * (grad_half - self.B), axis=(-2, -1))
        value = self.factor * (quad + self.t_sum)
        return value, self._twice * grad_half

    def gradient(self, theta: FloatArray) -> FloatArray:
        # The same numbers as value_and_gradient's gradient, without the value: textbook
        # steps need only this, a few NumPy calls on (p, k) arrays.
        return self._hessian @ theta - self._shift

    def hessian_product(self, v: FloatArray) -> FloatArray:
        return self._hessian @ v

    #: A's eigenvalues, ascending, once :meth:`lipschitz` has computed them (small A only).
    spectrum: FloatArray | None = None

    def lipschitz(self, rtol: float = 1e-3) -> float:
        if 0 < self.A.shape[0] <= _EXACT_EIGEN_MAX:
            # Kept: iterative refinement reads them to skip its own eigendecomposition of A
            # when the problem is well conditioned beyond doubt.
            self.spectrum = np.linalg.eigvalsh(self.A)
            return 2.0 * self.factor * float(self.spectrum[-1])
        return 2.0 * self.factor * _largest_eigenvalue(self.A, rtol)


class DataObjective:
    """Objective evaluated from X itself: one blocked pass over X per gradient, for any loss.

    Each row block is read once for both ``Z theta`` and ``Z' r``; float32 blocks are promoted
    to float64 one block at a time, so no copy of X is ever made.
    """

    #: A gradient costs a pass over X (conjugate gradients then update it by recurrence).
    reads_data = True

    def __init__(
        self,
        X: Matrix,
        Y: FloatArray,
        weights: FloatArray,
        coords: Coordinates,
        loss: Loss,
        block_rows: int | None = None,
    ) -> None:
        self.X, self.Y, self.weights, self.coords, self.loss = X, Y, weights, coords, loss
        self.sparse = is_sparse(X)
        self.passes = 0
        n, d = X.shape
        # Large X is cut into one part of the rows per core (sparse: CSR only). scipy's sparse
        # products are single-threaded; for dense X, parts with a one-thread BLAS each also
        # beat one multi-threaded BLAS call per block (measured interleaved at n=1e6, d=100:
        # 0.11 vs 0.14 s in float64, 0.11 vs 0.19 s in float32, whose promotion to float64
        # then runs on both cores too).
        self.parts = [slice(0, n)]
        if not self.sparse or can_split(X):
            self.parts = _threads.spans(n, _threads.n_parts(X.nnz if self.sparse else X.size))
        if len(self.parts) > 1:
            # No threads to synchronise per call: 16 MB blocks, few Python steps per part.
            rows = max(256, 2 * _DATA_BLOCK_BYTES // (8 * d))
        else:
            # Blocks of at least 8 MB (two matrix-vector products per block, the second
            # partly from cache) and at most 16 of them: every multi-threaded BLAS call
            # synchronises its threads, which costs milliseconds per call on a loaded machine.
            rows = max(256, _DATA_BLOCK_BYTES // (8 * d), -(-n // 16))
        self.block_rows = block_rows or rows
        #: Half-MSE on the same data's full moments, where the source built them: the
        #: curvature bound without Lanczos passes over X (a loss of curvature at most c has
        #: a Hessian below c times half-MSE's).
        self.bound: GramObjective | None = None

    def _pass(
        self,
        theta: FloatArray,
        residual_fn: Callable[[FloatArray, slice], tuple[FloatArray, float]],
    ) -> tuple[float, FloatArray]:
        """Accumulate ``sum_block Z_b' f(Z_b theta)`` and the sum of f's second output."""
        self.passes += 1
        d = self.X.shape[1]
        w = theta[:d] / self.coords.scale[:, None]
        w = np.where(np.isfinite(w), w, 0.0)
        shift = self.coords.offset @ w - (theta[d] if self.coords.augment else 0.0)

        def part(span: slice) -> tuple[float, FloatArray, FloatArray]:
            total, g_x, g_1 = 0.0, np.zeros_like(w), np.zeros(theta.shape[1])
            for rows, dot, tdot in self._blocks(span):
                weighted, value = residual_fn(dot(w) - shift, rows)
                total += value
                g_x += tdot(weighted)
                g_1 += weighted.sum(axis=0)
            return total, g_x, g_1

        totals, g_xs, g_1s = zip(*_threads.run_parts(part, self.parts), strict=True)
        total, g_x, g_1 = sum(totals), np.sum(g_xs, axis=0), np.sum(g_1s, axis=0)
        scale = np.where(np.isfinite(self.coords.scale), self.coords.scale, np.inf)
        grad = (g_x - np.outer(self.coords.offset, g_1)) / scale[:, None]
        if self.coords.augment:
            grad = np.vstack([grad, g_1[None, :]])
        return total, grad

    def _blocks(self, span: slice) -> Iterator[tuple[slice, Product, Product]]:
        """``(rows, v -> X_rows v, r -> X_rows' r)`` for row blocks covering ``span``."""
        if self.sparse:
            for rows, product in product_blocks(self.X, span, split=len(self.parts) > 1):
                yield rows, product.dot, product.tdot
            return
        d = self.X.shape[1]
        start, stop = span.start or 0, span.stop if span.stop is not None else self.X.shape[0]
        # float32 blocks are promoted into one reused buffer (never two blocks alive at once).
        size = min(self.block_rows, stop - start)
        buf = None if self.X.dtype == np.float64 else np.empty((size, d))
        for a in range(start, stop, self.block_rows):
            rows = slice(a, min(a + self.block_rows, stop))
            block = self.X[rows]
            if buf is not None:
                block = buf[: rows.stop - a]
                np.copyto(block, self.X[rows])
            yield rows, block.__matmul__, block.T.__matmul__

    def value_and_gradient(self, theta: FloatArray) -> tuple[Value, FloatArray]:
        def residual_fn(pred: FloatArray, rows: slice) -> tuple[FloatArray, float]:
            r = pred - (self.Y[rows] - self.coords.y_offset)
            p = self.weights[rows]
            return self.loss.derivative(r) * p[:, None], self.loss.value(r, p)

        return self._pass(theta, residual_fn)

    def gradient(self, theta: FloatArray) -> FloatArray:
        return self.value_and_gradient(theta)[1]

    def hessian_product(self, v: FloatArray) -> FloatArray:
        # Z v is linear in v (the offsets live inside Z), so the same pass serves.
        c = self.loss.curvature
        return self._pass(v, lambda zv, rows: (c * zv * self.weights[rows][:, None], 0.0))[1]

    def newton_system(self, theta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """The value, the gradient and the Hessians ``Z' diag(p_i l''(r_ik)) Z``, one per
        target (shape (k, p, p)), in one pass: each block of rows is formed as ``Z_b``
        (dense, p columns: Newton runs only for a few hundred parameters), and its Hessian
        share is ``A'A`` with ``A = diag(sqrt(p_i l''(r_i))) Z_b`` (a symmetric rank-k
        update, half the work of a general product)."""
        p, k = theta.shape
        d, coords = self.X.shape[1], self.coords
        second = self.loss.second_derivative  # type: ignore[attr-defined]
        self.passes += 1

        def part(span: slice) -> tuple[float, FloatArray, FloatArray]:
            total, grad, hess = 0.0, np.zeros((p, k)), np.zeros((k, p, p))
            start, stop = span.start or 0, span.stop if span.stop is not None else len(self.Y)
            for a in range(start, stop, self.block_rows):
                rows = slice(a, min(a + self.block_rows, stop))
                block = self.X[rows]
                block = block.toarray() if self.sparse else block
                z = np.ones((block.shape[0], p))
                # (a constant column's infinite scale makes its z exactly zero)
                np.divide(block - coords.offset, coords.scale, out=z[:, :d])
                r = z @ theta - (self.Y[rows] - coords.y_offset)
                weights = self.weights[rows]
                total += self.loss.value(r, weights)
                grad += z.T @ (self.loss.derivative(r) * weights[:, None])
                root = np.sqrt(second(r) * weights[:, None])
                for j in range(k):
                    a_j = z * root[:, j : j + 1]
                    hess[j] += a_j.T @ a_j
            return total, grad, hess

        totals, grads, hessians = zip(*_threads.run_parts(part, self.parts), strict=True)
        return sum(totals), np.sum(grads, axis=0), np.sum(hessians, axis=0)

    def lipschitz(self, rtol: float = 1e-2) -> float:
        if self.bound is not None:
            return self.loss.curvature * self.bound.lipschitz(rtol)
        # Each Lanczos step costs a pass over X: two digits, from above (the Ritz value plus
        # its residual bound), are what a step size and the stopping test need.
        p = self.coords.n_params
        if rtol < 1e-3 and p <= _EXACT_EIGEN_MAX:
            # Precision asked for and few parameters: the whole Hessian costs one pass.
            return float(np.linalg.eigvalsh(self.hessian_product(np.eye(p)))[-1])
        return _lanczos(lambda v: self.hessian_product(v[:, None])[:, 0], p, rtol=rtol)


def _largest_eigenvalue(a: FloatArray, rtol: float) -> float:
    # A small symmetric matrix: its exact top eigenvalue costs microseconds. A large one gets
    # Lanczos iterations, which never form a factorisation.
    if a.shape[0] <= _EXACT_EIGEN_MAX:
        return float(np.linalg.eigvalsh(a)[-1]) if a.size else 0.0
    return _lanczos(lambda v: a @ v, a.shape[0], rtol=rtol)


def _lanczos(
    matvec: Callable[[FloatArray], FloatArray], p: int, *, rtol: float, max_iter: int | None = None
) -> float:
    """Top eigenvalue of a symmetric positive semi-definite operator, by Lanczos.

    Power iterations converge only geometrically in the eigengap, which is tiny for the
    well-conditioned problems (clustered spectra) that need few solver steps: hundreds of
    passes over X for three digits. Lanczos (with full reorthogonalisation, its basis being
    small) gets those digits in tens of products whatever the spectrum. It stops when the
    residual bound of the top Ritz value, ``beta_j * |last component of its Ritz vector|``,
    is below ``rtol`` times the value: a certified interval around one eigenvalue. Returns
    the top of that interval.
    """
    # The basis is kept (max_iter x p): at most 300 vectors and about 64 MB.
    max_iter = min(p, max_iter or 300, max(2, (1 << 23) // p))
    rng = np.random.default_rng(0)
    basis = np.empty((max_iter, p))
    v = rng.standard_normal(p) + 1.0
    basis[0] = v / np.linalg.norm(v)
    tri = np.zeros((max_iter, max_iter))
    theta = 0.0
    for j in range(max_iter):
        w = matvec(basis[j])
        tri[j, j] = basis[j] @ w
        done = basis[: j + 1]
        for _ in range(2):  # reorthogonalise twice: "twice is enough" (Kahan, Parlett)
            w -= done.T @ (done @ w)
        peak = float(np.max(np.abs(w)))
        # w is of the order of L ~ |x|^2; w @ w itself would overflow beyond |x| ~ 1e77.
        beta = peak * float(np.linalg.norm(w / peak)) if peak > 0 else 0.0
        values, vectors = np.linalg.eigh(tri[: j + 1, : j + 1])
        theta = float(values[-1])
        if theta <= 0.0 and beta == 0.0:
            return 0.0
        bound = beta * abs(float(vectors[-1, -1]))
        if bound <= rtol * abs(theta) or j + 1 == max_iter:
            # theta rises to the top eigenvalue from below; adding the bound errs on the
            # safe side for a step size (1/L never too long).
            return theta + bound
        basis[j + 1] = w / beta
        tri[j, j + 1] = tri[j + 1, j] = beta
    return theta
