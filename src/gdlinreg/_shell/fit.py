"""The estimator's one way into the core: :func:`fit_model`, for ``fit``, ``partial_fit``,
Dask and Array API input alike. No scikit-learn here: the estimator has validated its
parameters and data."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from .._data.arrays import ArraySource, accumulate
from .._loop.messages import clipped_batch
from .._loop.options import Options
from .._loop.solve import solve
from .._problem.coordinates import Start, check_start
from .._problem.statistics import MAX_FEATURES_FOR_GRAM
from ..losses import get_loss
from .early_stopping import HoldOut
from .streamed import fit_streamed, streams

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import ArrayLike

    from .._data.arrays import Validation as ArrayValidation
    from .._data.dask_chunks import ValidationArrays
    from .._data.xp_source import Namespace
    from .._kernels.types import Matrix
    from .._loop.result import GDResult
    from .._loop.solve import Callbacks
    from .._problem.statistics import Moments
    from .._protocols.source import Batches, Source

    #: ``(X_val, y_val, sample_weight_val)``, in memory or Dask.
    Validation = tuple[Any, ...]


@dataclass(frozen=True)
class Fitted:
    """What :func:`fit_model` hands back: the result; the statistics to keep (the Gram
    form's, merged over ``partial_fit`` batches, and the running statistics of a streamed
    Huber ``partial_fit``; None for the data form); and whether the
    ``tol`` test ran (not in one ``partial_fit`` epoch), so that a missed one is worth a
    warning."""

    result: GDResult
    memory: Moments | None
    tested: bool


def fit_model(
    params: Mapping[str, Any],
    X: Matrix,
    y: object,
    sample_weight: ArrayLike | None,
    start: Start,
    *,
    validation: Validation | HoldOut | None = None,
    memory: Moments | None = None,
    partial: bool = False,
    callbacks: Callbacks | None = None,
    namespace: Namespace | None = None,
) -> Fitted:
    """Fit on in-memory or Dask data as ``params`` (the names of ``_loop.options.DEFAULTS``) say.

    ``partial``: one ``partial_fit`` step. For the squared losses (up to 2000 features) the
    batch's statistics are merged into ``memory`` (those of the batches before) and the
    solver runs on all of them; for other losses it is one epoch of mini-batch SGD over the
    batch (batches of ``batch_size``, or the whole batch; for Dask, the largest chunk): with
    the "auto" step in the coordinates of the running statistics, merged into ``memory``
    (:mod:`.streamed`), with any other in the user's.

    ``namespace``: X, y and ``sample_weight`` are arrays of that Array API namespace (see
    :mod:`gdlinreg._data.xp_source`), without a validation set.
    """
    if namespace is not None:
        from .._data.xp_source import xp_source

        source: Batches = xp_source(X, y, sample_weight, namespace)
    else:
        source = _source(X, y, sample_weight, validation)
    check_start(start, source.n_features, source.n_targets, source.one_target)
    tested, gram = True, False
    if partial:
        loss = get_loss(params["loss"], epsilon=params["epsilon"])
        gram = loss.is_quadratic and source.n_features <= MAX_FEATURES_FOR_GRAM
        if gram:  # every batch's statistics, one solve on all of them, whatever batch_size
            # The statistics have no rows to sample: the full-batch limit runs (svrg's: "cg"
            # for the "auto" step, textbook "gd" for a number; sgd's: textbook "gd").
            limit = {"svrg": "auto", "sgd": "gd"}
            solver = limit.get(params["solver"], params["solver"])
            params = {**params, "batch_size": None, "precompute": True, "solver": solver}
        elif not loss.is_quadratic and streams(params):  # Huber with the "auto" step
            result, running = fit_streamed(params, source, start, memory, callbacks)
            return Fitted(result, running, tested=False)
        else:  # one epoch of mini-batch SGD over this batch: no convergence to test
            batch = params["batch_size"] or source.default_batch()
            params = {**params, "batch_size": batch, "solver": "gd", "max_iter": 1, "tol": None}
            tested = False
    options = Options.from_params(params)
    if not partial:  # (a partial_fit batch is what the stream gives: no warning per batch)
        clipped_batch(options.method, options.batch_size, source.n_samples)
    if gram and options.method != "gd":
        # The standardised methods solve afresh on all the statistics, from fit's start: a
        # warm start would keep the earlier solution's part along directions the data seen
        # so far leave free (n <= d, one-hot columns), and the answer would not be fit's
        # minimum-norm one. (Textbook gd continues: its steps are the budget it counts.)
        start = Start(step=start.step, label=start.label)
    solved: Source = accumulate(source, memory) if gram else source
    result, stats = solve(solved, options, start, callbacks)
    # One SGD epoch leaves the statistics of earlier batches as they were.
    return Fitted(result, memory if partial and not gram else stats, tested)


def _source(
    X: Matrix, y: object, sample_weight: ArrayLike | None, validation: Validation | HoldOut | None
) -> Batches:
    arrays = validation[:2] if isinstance(validation, tuple) else ()
    if is_dask(X, y, sample_weight, *arrays):
        from .._data.dask_source import DaskSource

        if isinstance(validation, HoldOut):
            return DaskSource(X, y, sample_weight, split=(validation.fraction, validation.seed))
        return DaskSource(X, y, sample_weight, validation=cast("ValidationArrays", validation))
    if isinstance(validation, HoldOut):  # pragma: no cover - the estimator splits in memory
        raise TypeError("a HoldOut split is for Dask input")
    return ArraySource(X, cast("ArrayLike", y), sample_weight, cast("ArrayValidation", validation))


def is_dask(*arrays: object) -> bool:
    # Dask data can only exist once Dask is imported; asking sys.modules keeps gdlinreg from
    # importing it.
    dask = sys.modules.get("dask")
    return dask is not None and any(dask.is_dask_collection(a) for a in arrays)
