"""Array API input (PyTorch, CuPy, array-api-strict, ...) as a Source: the statistics where
the data live, the iteration on the host.

With scikit-learn's ``array_api_dispatch`` on, the estimator hands the core X, y and the
sample weights in their own namespace and device, with a :class:`Namespace` that says how to
reach the host. Arrays in host memory are read in place through zero-copy NumPy views
(:func:`xp_source`): NumPy's moments are then where the data live. On a device (a GPU), what
costs O(n d^2), the one-pass weighted centred moments of ``[X | y]`` (the Gram statistics),
runs there, in blocks of rows, by the Array API standard alone; the ``(d + k) x (d + k)``
result (a few hundred kB) is then copied to the host, where the solver iterates on it as on
any other :class:`~gdlinreg._problem.statistics.Moments`. The iteration stays on the host
because it is
O(d^2) per step and sequential: tens to hundreds of small matrix-vector products, each of
which would cost a kernel launch and a device synchronisation (the stop test, the step size)
on an accelerator, for less arithmetic than the launch itself; and the solver's numerics
(eigensolves, Lanczos, the certificates) are NumPy's.

The data form (Huber, mini-batch SGD, ``precompute=False``, more than 2000 features) reads X
at every step; there the source copies X, y and the weights to the host once and runs as
:class:`~.arrays.ArraySource` (the cost: one device-to-host copy of X, and host memory for
it). Iterative refinement on the data (for problems whose Gram matrix is numerically
singular, see :mod:`.._loop.refine`) reads X from the device a block of rows at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np

from .._problem.statistics import MAX_FEATURES_FOR_GRAM, Moments, counted
from .arrays import ArraySource
from .checks import check_range, check_sample_weight, check_statistics, moments_in_range

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .._kernels.types import ArrayData, Batch, FloatArray
    from .._problem.coordinates import Coordinates
    from .._protocols.registry import Loss
    from .._protocols.source import Batches, Objective

# A block of rows, converted to the accumulation dtype, holds at most this many values
# (64 MB in float64): large enough for matrix-multiply speed, small next to device memory.
_BLOCK_VALUES = 1 << 23
# DLPack's device type of host memory (kDLCPU).
_DLPACK_CPU = 1


@dataclass(frozen=True)
class Namespace:
    """An input's Array API namespace (array_api_compat's, from the estimator), its device,
    and the conversions to the host (NumPy) and back to the device."""

    xp: Any
    device: Any
    to_host: Callable[[Any], Any]
    to_device: Callable[[Any], Any]

    def adopt(self, estimator: object) -> None:
        """Every fitted array of ``estimator`` (``coef_``, ``intercept_``, ``loss_curve_``,
        ...) into this namespace and device, as scikit-learn's Array API estimators keep
        them; the statistics ``partial_fit`` continues from stay on the host."""
        for key, value in list(vars(estimator).items()):
            if key.endswith("_") and isinstance(value, (np.ndarray, np.floating)):
                setattr(estimator, key, self.to_device(np.asarray(value)))


def follow(space: Namespace | None, host: bool, *arrays: Any) -> list[Any]:
    """Arrays into X's namespace and device ``space`` (y and the weights follow X, as in
    scikit-learn), or all onto the host; None and scalars as they are, and all of them
    without a namespace (NumPy input, or dispatch off)."""
    if space is None:
        return list(arrays)
    move = space.to_host if host else space.to_device
    return [a if a is None or _scalar(a) else move(a) for a in arrays]


def check_array_input(X: Any, xp: Any) -> None:
    """Refuse, by name, what the Array API path cannot read: sparse tensors of a namespace
    (scipy.sparse is read as always) and tensors that record gradients."""
    layout = str(getattr(X, "layout", "strided"))
    if "sparse" in layout:
        raise TypeError(
            f"X is a sparse array of {xp.__name__.rsplit('.', 1)[-1]} (layout {layout}): "
            "gdlinreg reads dense "
            "arrays of an Array API namespace, and sparse X only as a scipy.sparse matrix or "
            "array. Pass X.to_dense(), or a scipy.sparse CSR/CSC matrix."
        )
    if getattr(X, "requires_grad", False):
        raise TypeError(
            "X requires grad (a PyTorch tensor recording operations for autograd): gdlinreg "
            "does not differentiate through a fit. Pass X.detach()."
        )


def accumulation_dtype(space: Namespace) -> Any:
    """float64 where the device has it (float32 input then accumulates in float64, as on
    the host); float32 on devices without float64 (Apple's MPS), whose statistics then carry
    float32 rounding."""
    xp = space.xp
    floats = xp.__array_namespace_info__().dtypes(kind="real floating", device=space.device)
    return xp.float64 if "float64" in floats else xp.float32


def xp_moments(space: Namespace, X: Any, Y: Any, weights: FloatArray | None) -> Moments:
    r"""Weighted centred moments of ``[X | Y]``, computed in X's namespace and device.

    Every value is first shifted by the first row. Each block of rows :math:`B` (in the
    accumulation dtype, see :func:`accumulation_dtype`) is then centred on its own weighted
    mean :math:`\bar b`, by the corrected two-pass algorithm:
    :math:`S_B = C^\top W C - w\,c c^\top` with :math:`C = B - \bar b` and
    :math:`c = \sum_i s_i C_i / w`; blocks are merged by Chan et al.'s update
    :math:`S = S_1 + S_2 + \frac{w_1 w_2}{w_1 + w_2}\delta\delta^\top`, so no large
    offset is ever squared. ``weights`` are the host copy of the sample weights (None: all
    equal, no per-row scaling): the block weight sums come from them, the per-row products
    from their device copy. Only the result, ``(d + k)^2`` numbers, goes to the host.
    """
    xp, acc = space.xp, accumulation_dtype(space)
    n, p = X.shape[0], X.shape[1] + Y.shape[1]
    w_dev = None if weights is None else space.to_device(weights.astype(np.float64))
    w_dev = None if w_dev is None else xp.astype(w_dev, acc)
    rows = max(1024, _BLOCK_VALUES // p)
    # Every value is first shifted by the first row, so that a constant column becomes exact
    # zeros (which the solver then recognises as constant) and large offsets cancel exactly.
    base = xp.concat([xp.astype(X[0, :], acc), xp.astype(Y[0, :], acc)])
    total, mean, scatter = 0.0, None, None
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        w = float(stop - start) if weights is None else float(weights[start:stop].sum())
        if w == 0:  # (zero-weight rows add nothing; check_sample_weight refuses all-zero)
            continue
        parts = [xp.astype(X[start:stop, :], acc), xp.astype(Y[start:stop, :], acc)]
        block = xp.concat(parts, axis=1) - base
        s = None if w_dev is None else w_dev[start:stop]
        b_mean = _weighted_sum(xp, block, s) / w
        centred = block - b_mean
        c = _weighted_sum(xp, centred, s) / w
        weighted = centred if s is None else centred * s[:, None]
        b_scatter = xp.matmul(weighted.T, centred) - w * (c[:, None] * c[None, :])
        b_mean = b_mean + c
        if mean is None or scatter is None:
            total, mean, scatter = w, b_mean, b_scatter
            continue
        merged = total + w
        delta = b_mean - mean
        mean = mean + delta * (w / merged)
        scatter = scatter + b_scatter + (total * w / merged) * (delta[:, None] * delta[None, :])
        total = merged
    shift = np.asarray(space.to_host(base), dtype=np.float64).reshape(p)
    host_mean = np.asarray(space.to_host(mean), dtype=np.float64).reshape(p)
    host_scatter = np.asarray(space.to_host(scatter), dtype=np.float64).reshape(p, p)
    return Moments(total, host_mean + shift, host_scatter, shift)


def _weighted_sum(xp: Any, block: Any, s: Any | None) -> Any:
    if s is None:
        return xp.sum(block, axis=0)
    return xp.matmul(s[None, :], block)[0, :]


def xp_source(X: Any, y: Any, sample_weight: Any | None, space: Namespace) -> Batches:
    """The source of Array API input: :class:`~.arrays.ArraySource` on zero-copy NumPy views
    when the arrays are in host memory (DLPack's CPU device: PyTorch CPU tensors,
    array-api-strict's devices, NumPy-backed), where NumPy's blocked, threaded moments run
    where the data live and the fit equals a NumPy fit bit for bit; else (a GPU)
    :class:`XpSource`, on the device."""
    arrays = [X, y] if sample_weight is None or _scalar(sample_weight) else [X, y, sample_weight]
    try:
        if not all(a.__dlpack_device__()[0] == _DLPACK_CPU for a in arrays):
            return XpSource(X, y, sample_weight, space)
        views = [np.from_dlpack(a) for a in arrays]
    except (AttributeError, BufferError, RuntimeError, TypeError, ValueError):
        return XpSource(X, y, sample_weight, space)  # (no DLPack export: on the device)
    return ArraySource(views[0], views[1], views[2] if len(views) == 3 else sample_weight)


def _scalar(a: Any) -> bool:
    return isinstance(a, (Real, np.generic))


class XpSource:
    """X, y (and sample weights) of an Array API namespace: the Gram statistics on their
    device, everything else through a host copy (:class:`~.arrays.ArraySource`), made on
    first need. The estimator has validated shapes and dtypes (X float32 or float64).

    It honours :class:`~gdlinreg._protocols.source.Source`, ``DataForm``, ``Batches`` and
    ``Rows``; not ``Validated``: early stopping runs on host copies (the estimator splits
    there, and hands those to an :class:`~.arrays.ArraySource`)."""

    segmented = False

    def __init__(self, X: Any, y: Any, sample_weight: Any | None, space: Namespace) -> None:
        xp = space.xp
        self.space, self.X = space, X
        self.n_samples, self.n_features = int(X.shape[0]), int(X.shape[1])
        self.one_target = y.ndim == 1
        self.Y = xp.reshape(y, (self.n_samples, -1))
        self.n_targets = int(self.Y.shape[1])
        self.dtype = np.dtype(np.float32 if X.dtype == xp.float32 else np.float64)
        # The weights (n numbers) are checked on the host, with check_sample_weight's errors.
        self.uniform = sample_weight is None or _scalar(sample_weight)
        host_w = sample_weight if self.uniform else space.to_host(sample_weight)
        self.weights = check_sample_weight(host_w, self.n_samples)
        self.passes = 0
        self._host: ArraySource | None = None
        self._host_y: FloatArray | None = None

    def host(self) -> ArraySource:
        """The data on the host, copied once: for the data form and mini-batches."""
        if self._host is None:
            X, Y = self.space.to_host(self.X), self.space.to_host(self.Y)
            Y = Y[:, 0] if self.one_target else Y
            self._host = ArraySource(np.asarray(X), np.asarray(Y), self.weights)
        return self._host

    def prefer_gram(self) -> bool:
        return self.n_features <= MAX_FEATURES_FOR_GRAM

    def default_batch(self) -> int:
        return self.n_samples

    def statistics(self, full: bool, minibatch: bool = False) -> Moments:
        self.passes += 1
        if not full:  # the data form's column moments: it reads X on the host anyway
            return self.host().statistics(full, minibatch)
        # NaN, infinity and extreme values pass through the moments harmlessly: _check finds
        # them (for namespaces built on NumPy, without its warnings).
        with np.errstate(all="ignore"):
            weights = None if self.uniform else self.weights
            stats = xp_moments(self.space, self.X, self.Y, weights)
        self._check(stats)
        return counted(stats, self.weights)  # (the row count inference needs)

    def _check(self, stats: Moments) -> None:
        """check_arrays' range checks of y and X, from the moments where they show all is
        well, else from each column's extremes (one reduction on the device)."""
        heaviest, xp = float(self.weights.max()), self.space.xp
        d = self.n_features
        parts = [("y", self.Y, slice(d, None))]
        if not moments_in_range(self.weights, stats, d):
            parts.append(("X", self.X, slice(0, d)))
        for name, a, _ in parts:
            low = np.asarray(self.space.to_host(xp.min(a, axis=0)), dtype=np.float64)
            high = np.asarray(self.space.to_host(xp.max(a, axis=0)), dtype=np.float64)
            check_range(name, low, high, heaviest)
        check_statistics(stats)

    def data_objective(
        self, stats: Moments, coords: Coordinates, loss: Loss, batches: bool
    ) -> Objective:
        return self.host().data_objective(stats, coords, loss, batches)

    def batch_curvature(
        self, coords: Coordinates, loss: Loss, lipschitz: float, batch_size: int
    ) -> float:
        return self.host().batch_curvature(coords, loss, lipschitz, batch_size)

    def epoch(
        self, rng: np.random.Generator, batch_size: int, shuffle: bool
    ) -> Iterator[tuple[int, Iterator[Batch]]]:
        return self.host().epoch(rng, batch_size, shuffle)

    def updates_per_epoch(self, batch_size: int) -> int:
        return -(-self.n_samples // batch_size)

    def rows(self) -> ArrayData | None:
        """The rows for iterative refinement: X stays on its device, read in blocks (see
        :class:`_HostRows`); y (n k numbers) is copied to the host once."""
        if self._host_y is None:
            Y = np.asarray(self.space.to_host(self.Y), dtype=np.float64)
            self._host_y = Y.reshape(self.n_samples, self.n_targets)
        return _HostRows(self.X, self.space), self._host_y, self.weights / self.weights.sum()


class _HostRows:
    """X on its device as iterative refinement reads it (:func:`.._loop.refine._pass`):
    ``shape`` and row slices, each slice copied to the host when taken, so that X is never
    copied whole. Refinement runs only for numerically singular Gram matrices, a few passes."""

    def __init__(self, X: Any, space: Namespace) -> None:
        self.X, self.space = X, space
        self.shape = (int(X.shape[0]), int(X.shape[1]))

    def __getitem__(self, rows: slice) -> FloatArray:
        # (NumPy clamps a slice's stop to the rows there are; the standard leaves it open)
        rows = slice(rows.start, min(rows.stop, self.shape[0]))
        block: FloatArray = np.asarray(self.space.to_host(self.X[rows, :]))
        return block
