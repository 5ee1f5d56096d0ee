"""Where the numbers of a fit come from: in-memory arrays (dense, sparse, in row parts), or
statistics accumulated by ``partial_fit``. Dask's row chunks are :mod:`.dask_source`.

A Source checks its data, builds their statistics
(:class:`~gdlinreg._problem.statistics.Moments`) and the
objective the solver iterates on (the Gram form from the statistics, or the data form that
passes over X), yields the mini-batches of an SGD epoch, and scores a validation set. The
solver never asks what kind of source it has, only what it can do: every source answers
:class:`gdlinreg._protocols.source.Source` (the statistics), and each of the narrower
protocols there it honours whole (:class:`ArraySource` all of them, :class:`MomentsSource`
none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from .._problem.data import DataObjective
from .._problem.gram import GramObjective
from .._problem.statistics import MAX_FEATURES_FOR_GRAM, moments, prefer_gram
from .._protocols.source import RowParts, Rows, Validated, honours
from ..losses import HalfMSE
from .checks import check_arrays, check_statistics, confirm_magnitudes

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from numpy.typing import ArrayLike

    from .._kernels.types import ArrayData, Batch, FloatArray, Matrix
    from .._problem.coordinates import Coordinates
    from .._problem.statistics import Moments
    from .._protocols.registry import Loss, QuadraticLoss
    from .._protocols.source import DataForm, Objective, Reader, Source

    #: ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``.
    Validation = tuple[Matrix, ArrayLike] | tuple[Matrix, ArrayLike, ArrayLike | None]


def batches(
    X: Matrix, Y: FloatArray, p: FloatArray, rng: np.random.Generator, size: int, shuffle: bool
) -> Iterator[Batch]:
    """One pass over rows in batches of ``size`` (shuffled with ``rng``), each weighted by
    ``p_i * n / size`` so that its gradient estimates the full gradient without bias."""
    n = X.shape[0]
    order = rng.permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, size):
        rows = np.sort(order[start : start + size])
        yield X[rows], Y[rows], p[rows] * (n / rows.size)


def minibatch_curvature(
    data: tuple[Matrix, FloatArray, FloatArray],
    coords: Coordinates,
    loss: Loss,
    lipschitz: float,
    batch_size: int,
    block_rows: int = 4096,
) -> float:
    """A curvature bound for batches of ``batch_size`` rows: ``L + (L_max - L) / b``, where
    ``L_max`` bounds a single (weighted) sample's curvature ``n p_i |z_i|^2`` in the solver's
    coordinates (``z_i = (x_i - offset) / scale``, plus the intercept's 1). It is exact for
    single samples, tends to the full-batch ``L`` for whole batches, and keeps small batches
    from diverging at the full-batch step."""
    X, _, p = data
    n = X.shape[0]
    largest = 0.0
    for start in range(0, n, block_rows):
        rows = coords.squared_norms(X[start : start + block_rows])
        largest = max(largest, float(np.max(p[start : start + block_rows] * n * rows)))
    return batch_curvature(lipschitz, loss.curvature * largest, batch_size)


def batch_curvature(lipschitz: float, sample: float, batch_size: int) -> float:
    """``L + (L_max - L) / b``: the bound of :func:`minibatch_curvature` from its two ends."""
    return max(lipschitz + (sample - lipschitz) / batch_size, lipschitz)


class ArraySource:
    """In-memory X (dense or scipy.sparse, used in place), y and sample weights, and an
    optional validation set: every protocol of :mod:`gdlinreg._protocols.source` (Source,
    DataForm, Batches, Rows, Validated)."""

    #: One segment per epoch: momentum runs on from one epoch into the next.
    segmented = False

    def __init__(
        self,
        X: Matrix,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        validation: Validation | None = None,
    ) -> None:
        self.X, self.Y, self.one_target, self.weights = check_arrays(
            X, y, sample_weight, defer=True
        )
        self.n_samples, self.n_features = (int(n) for n in self.X.shape)
        self.n_targets = int(self.Y.shape[1])
        self.dtype = self.X.dtype
        self.validation = validation
        self.passes = 0
        self._p: FloatArray | None = None

    @property
    def p(self) -> FloatArray:
        """The weights normalised to sum to one: built when a pass over the rows needs them
        (the Gram form never does: a vector of n floats less at its peak)."""
        if self._p is None:
            self._p = self.weights / self.weights.sum()
        return self._p

    def prefer_gram(self) -> bool:
        return prefer_gram(self.X)

    def default_batch(self) -> int:
        return self.n_samples

    def statistics(self, full: bool, minibatch: bool = False) -> Moments:
        # NaN, infinity and extreme values pass through the moments harmlessly (rounding
        # aside): confirm_magnitudes then finds them, or proves there are none, at no extra
        # pass over X.
        # Mini-batches take their curvature bound from the full moments while they are small
        # (the same pass; Lanczos would cost a pass per iteration).
        full = full or (minibatch and self.n_features <= MAX_FEATURES_FOR_GRAM)
        with np.errstate(all="ignore"):
            stats = moments(self.X, self.Y, self.weights, full=full)
        confirm_magnitudes(self.X, self.weights, stats, self.n_features)
        self.passes += 1
        return stats

    def data_objective(
        self, stats: Moments, coords: Coordinates, loss: Loss, batches: bool
    ) -> Objective:
        objective = DataObjective(self.X, self.Y, self.p, coords, loss)
        if batches and stats.scatter.ndim == 2:
            objective.bound = GramObjective(stats, self.n_features, coords, HalfMSE())
        return objective

    def batch_curvature(
        self, coords: Coordinates, loss: Loss, lipschitz: float, batch_size: int
    ) -> float:
        return minibatch_curvature(self.rows_any(), coords, loss, lipschitz, batch_size)

    def epoch(
        self, rng: np.random.Generator, batch_size: int, shuffle: bool
    ) -> Iterator[tuple[int, Iterator[Batch]]]:
        """The segments of one epoch, ``(rows, batches)``: here one, all the rows."""
        yield self.n_samples, batches(self.X, self.Y, self.p, rng, batch_size, shuffle)

    def updates_per_epoch(self, batch_size: int) -> int:
        return -(-self.n_samples // batch_size)

    def rows_any(self) -> ArrayData:
        return self.X, self.Y, self.p

    def rows(self) -> ArrayData | None:
        """The rows for iterative refinement on the data (dense, or CSR)."""
        return self.X, self.Y, self.p

    def validation_objective(
        self, coords: Coordinates, gram: bool, loss: QuadraticLoss
    ) -> tuple[Objective, Moments] | None:
        """The objective (``loss``) and the moments of the validation set, None without."""
        if self.validation is None:
            return None
        X_val, y_val, *rest = self.validation
        Xv, Yv, _, wv = check_arrays(X_val, y_val, rest[0] if rest else None)
        d, k = self.n_features, self.n_targets
        if Xv.shape[1] != d:
            raise ValueError(f"X_val has {Xv.shape[1]} features; the training X has {d}.")
        if Yv.shape[1] != k:
            raise ValueError(f"y_val has {Yv.shape[1]} target(s); the training y has {k}.")
        stats = moments(Xv, Yv, wv, full=gram)
        if gram:
            return GramObjective(stats, d, coords, loss), stats
        return DataObjective(Xv, Yv, wv / wv.sum(), coords, loss), stats


class MomentsSource:
    """The statistics of every batch ``partial_fit`` has seen, merged: the Gram form only,
    with no rows left to read. It honours :class:`~gdlinreg._protocols.source.Source` and
    no more: no data form, no mini-batches (``partial_fit`` on a loss without a Gram form
    runs an SGD epoch on the batch's own source instead), no refinement on the rows, no
    validation set (``partial_fit`` refuses early stopping)."""

    def __init__(self, stats: Moments, source: Source) -> None:
        self.stats = stats
        self.n_samples, self.n_features = source.n_samples, source.n_features
        self.n_targets, self.one_target = source.n_targets, source.one_target
        self.dtype, self.passes = source.dtype, source.passes

    def prefer_gram(self) -> bool:
        return True

    def statistics(self, full: bool, minibatch: bool = False) -> Moments:
        return self.stats  # (full: they are all there is)


def accumulate(source: Source, previous: Moments | None) -> MomentsSource:
    """``source``'s full statistics merged into ``previous`` (Chan's update): the data of a
    ``partial_fit`` batch join all the batches seen before."""
    stats = source.statistics(full=True)
    merged = stats if previous is None else previous.merge(stats)
    check_statistics(merged)  # the merge of in-range batches can still overflow
    return MomentsSource(merged, source)


def form_objective(
    source: Source, stats: Moments, coords: Coordinates, loss: Loss, form: str
) -> Objective:
    """The objective ``form`` of ``source``: "gram" from the statistics, whatever the source
    (chosen only for a quadratic loss); "data", or "batches" for the full objective of a
    mini-batch run, from the source's rows (:class:`~gdlinreg._protocols.source.DataForm`)."""
    if form == "gram":
        return GramObjective(stats, source.n_features, coords, _quadratic(loss))
    # (Options.for_source chooses the data form only for a source that has one)
    rows = cast("DataForm", source)
    return rows.data_objective(stats, coords, loss, batches=form == "batches")


def refinement_reader(source: Source) -> Reader | None:
    """How iterative refinement reads the rows (:data:`.._loop.refine.Reader`): in memory,
    dense or CSR, or from a device in blocks (one part), or Dask's chunks where they live;
    None for a source with no rows to read (the merged statistics of ``partial_fit``)."""
    if honours(source, RowParts):
        return cast("RowParts", source).map_rows
    rows = cast("Rows", source).rows() if honours(source, Rows) else None
    if rows is None:
        return None
    X, Y, p = rows
    return lambda fn: [fn(X, Y, p)]


def validation_score(
    source: Source, coords: Coordinates, gram: bool
) -> Callable[[FloatArray], FloatArray] | None:
    """R^2 on the source's validation set (pooled over targets), vectorised over stacked
    iterates (on the Gram form; iterate by iterate on the data form); None without one."""
    if not honours(source, Validated):
        return None
    found = cast("Validated", source).validation_objective(coords, gram, HalfMSE())
    if found is None:
        return None
    objective, stats = found
    if stats.rows is not None and stats.rows < 2:
        # scikit-learn's r2_score is undefined there (it warns and returns NaN): a score that
        # cannot change would stop every fit after n_iter_no_change iterations.
        raise ValueError(
            f"early stopping scores R^2 on the validation set, which is undefined for fewer "
            f"than 2 samples; this one has {stats.rows} (of positive weight). Pass X_val and "
            "y_val with at least 2 rows, or a validation_fraction that holds out at least 2."
        )
    stacked = isinstance(objective, GramObjective)
    scatter = stats.scatter if stats.scatter.ndim == 1 else np.diagonal(stats.scatter)
    total = float(np.sum(scatter[source.n_features :]) / stats.weight_sum)

    def score(thetas: FloatArray) -> FloatArray:
        if stacked:
            values = objective.value_and_gradient(thetas)[0]
        else:
            values = np.array([objective.value_and_gradient(t)[0] for t in thetas])
        errors = 2.0 * np.asarray(values)  # half-MSE is half the mean squared error
        if total == 0:  # a constant y_val: scikit-learn's r2_score convention
            return np.where(errors == 0, 1.0, 0.0)
        return 1.0 - errors / total

    return score


def _quadratic(loss: Loss) -> QuadraticLoss:
    # The Gram form is chosen only for quadratic losses, which have the factor it reads.
    return loss  # type: ignore[return-value]
