"""Cross-validation from one pass: each test fold's centred statistics, their merges, and a
fold's held-out mean squared error, all from the statistics.

Every row belongs to one test fold (the splitters whose test folds partition the rows), so one
pass over the rows, each row read once into the statistics of its fold, gives everything a
K-fold path needs: a fold's *training* statistics are the merge of the other folds' (Chan's
update of centred blocks: no subtraction of the fold from the total, which would cancel the
digits that the spread holds under large offsets), and all the rows' are the merge of every
fold's (the refit, without another pass).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._kernels.threads import n_parts, run_parts, spans
from .._problem.statistics import Moments, moments

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._kernels.types import FloatArray, Matrix


def fold_moments(
    X: Matrix, Y: FloatArray, weights: FloatArray, labels: NDArray[np.intp], n_folds: int
) -> list[Moments]:
    """The statistics of the rows of each fold ``0 .. n_folds - 1`` (``labels``: one per
    row), each row read once: a fold's rows are gathered (a copy of them, dense or CSR; a
    view where they are contiguous, as KFold's without shuffling) and summed by
    :func:`~gdlinreg._problem.statistics.moments`.

    A fold is too small for ``moments`` to split over the cores, and one BLAS call on a
    fold's thin block, threaded, ran 2-20x slower than serial on a busy 2-core machine: each
    fold's rows are cut into one contiguous piece per core instead, every core sums its piece
    of every fold with a one-thread BLAS, and each fold's pieces are merged."""
    found = [np.flatnonzero(labels == fold) for fold in range(n_folds)]
    cores = n_parts(X.shape[0] * (X.shape[1] + Y.shape[1]))

    def gather(core: slice) -> list[Moments]:
        out = []
        for rows in found:
            piece = rows[spans(len(rows), cores)[core.start]] if len(rows) >= cores else rows
            if core.start and len(rows) < cores:
                piece = piece[:0]  # (a fold of fewer rows than cores: the first core's)
            out.append(_piece_moments(X, Y, weights, piece))
        return out

    groups = run_parts(gather, spans(cores, cores))
    return [merged([group[fold] for group in groups]) for fold in range(n_folds)]


def _piece_moments(
    X: Matrix, Y: FloatArray, weights: FloatArray, rows: NDArray[np.intp]
) -> Moments:
    """:func:`moments` of ``rows`` (a view where they are contiguous); no statistics (weight
    0) where they have no weight."""
    if not len(rows) or not np.any(weights[rows] > 0):
        p = X.shape[1] + Y.shape[1]
        return Moments(0.0, np.zeros(p), np.zeros((p, p)))
    index: NDArray[np.intp] | slice = rows
    if rows[-1] - rows[0] + 1 == len(rows):  # (KFold without shuffling: a view, no copy)
        index = slice(int(rows[0]), int(rows[-1]) + 1)
    with np.errstate(all="ignore"):  # (the caller checks the merged statistics)
        return moments(X[index], Y[index], weights[index])


def merged(parts: list[Moments]) -> Moments:
    """The statistics of the union of ``parts``: merged pairwise, as a balanced tree (each
    merge adds a rounding of its two sides; a tree keeps their depth at log2 of the parts)."""
    while len(parts) > 1:
        pairs = [parts[i].merge(parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0]


def training(folds: list[Moments], held: int) -> Moments:
    """The training statistics of fold ``held``: the merge of every other fold's."""
    return merged([f for i, f in enumerate(folds) if i != held])


def held_out_mse(
    test: Moments, n_features: int, coef: FloatArray, intercept: FloatArray
) -> FloatArray:
    r"""The weighted mean squared error on a fold's rows of the models ``coef`` (m, k, d) and
    ``intercept`` (m, k), shape (m, k), from the fold's centred statistics alone:

    .. math:: \frac{1}{W}\sum_i w_i (y_{ik} - b_k - x_i^\top w_k)^2
              = \frac{v^\top S v}{W} + (\bar y_k - b_k - \bar x^\top w_k)^2,
              \qquad v = (w_k, -e_k),

    with :math:`S` the fold's centred scatter of :math:`[X \mid y]`. The statistics are centred,
    so nothing large is squared; what is left is the cancellation between the variance of y
    and the part the model explains: the error relative to the MSE is about
    :math:`\varepsilon / (1 - R^2)` (1e-10 at :math:`R^2 = 1 - 10^{-6}`), far below what
    tells two alphas apart.
    """
    d = n_features
    k = test.mean.shape[0] - d
    m = coef.shape[0]
    v = np.zeros((m, k, d + k))
    v[:, :, :d] = coef
    v[:, np.arange(k), d + np.arange(k)] = -1.0
    spread = np.einsum("mki,ij,mkj->mk", v, test.scatter, v) / test.weight_sum
    bias = test.mean[d:] - intercept - np.einsum("mkd,d->mk", coef, test.mean[:d])
    out: FloatArray = np.maximum(spread, 0.0) + bias * bias
    return out


def targets(stats: Moments, n_features: int, chosen: list[int]) -> Moments:
    """The statistics of ``[X | y_chosen]``: a fit of some of the targets (one alpha each,
    ``alpha_per_target``)."""
    keep = np.r_[np.arange(n_features), n_features + np.asarray(chosen, dtype=np.intp)]
    shift = stats.shift if np.ndim(stats.shift) == 0 else np.asarray(stats.shift)[keep]
    return type(stats)(
        stats.weight_sum,
        stats.mean[keep],
        stats.scatter[np.ix_(keep, keep)],
        shift,
        stats.rows,
        stats.log_weights,
        stats.rounding,
    )


def largest_alpha(stats: Moments, n_features: int, fit_intercept: bool, positive: bool) -> float:
    """``max_j |sum_i p_i x_ij y_ik|`` over the columns and targets, centred when the
    intercept is fitted: the smallest alpha at which an l1 penalty (half-MSE, ``l1_ratio=1``)
    zeroes every coefficient (the gradient at zero); with ``positive=True`` only positive
    correlations count."""
    d = n_features
    cross = stats.scatter[:d, d:] / stats.weight_sum
    if not fit_intercept:
        cross = cross + np.outer(stats.mean[:d], stats.mean[d:])
    values = cross if positive else np.abs(cross)
    return float(np.max(values, initial=0.0))
