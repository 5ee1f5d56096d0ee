"""The data form of an objective: one blocked pass over X per gradient, for any loss."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from .._kernels import threads as _threads
from .._kernels.lanczos import EXACT_EIGEN_MAX, lanczos
from .._kernels.sparse import can_split, is_sparse, product_blocks

if TYPE_CHECKING:
    from .._kernels.types import FloatArray, Matrix, Product, Value
    from .._protocols.registry import Loss
    from .coordinates import Coordinates
    from .gram import GramObjective

_DATA_BLOCK_BYTES = 1 << 23


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
        # Z_b theta = X_b w - shift for every block; Z' r from X' r and sum(r), once at the end.
        w, shift = self.coords.dot_terms(theta)

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
        return total, self.coords.tdot_from(g_x, g_1)

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
        coords = self.coords
        second = self.loss.second_derivative  # type: ignore[attr-defined]
        self.passes += 1

        def part(span: slice) -> tuple[float, FloatArray, FloatArray]:
            total, grad, hess = 0.0, np.zeros((p, k)), np.zeros((k, p, p))
            start, stop = span.start or 0, span.stop if span.stop is not None else len(self.Y)
            for a in range(start, stop, self.block_rows):
                rows = slice(a, min(a + self.block_rows, stop))
                z = coords.rows(self.X[rows])
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
        if rtol < 1e-3 and p <= EXACT_EIGEN_MAX:
            # Precision asked for and few parameters: the whole Hessian costs one pass.
            return float(np.linalg.eigvalsh(self.hessian_product(np.eye(p)))[-1])
        return lanczos(lambda v: self.hessian_product(v[:, None])[:, 0], p, rtol=rtol)
