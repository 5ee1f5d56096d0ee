"""Early stopping's validation set: the pairing of one passed (``X_val``, ``y_val``), the
split of in-memory rows (:func:`hold_out`), and Dask's split, per row chunk (:class:`HoldOut`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from sklearn.utils import check_random_state

from .._data.checks import check_sample_weight

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .._gradient_descent import Validation
    from .._kernels.types import FloatArray, Matrix

    #: What scikit-learn's ``random_state`` parameter takes.
    RandomState: TypeAlias = int | np.integer[Any] | np.random.RandomState | None


def validation_set(
    X_val: Matrix | None, y_val: ArrayLike | None, sample_weight_val: ArrayLike | None
) -> tuple[Matrix, ArrayLike, ArrayLike | None] | None:
    """``(X_val, y_val, sample_weight_val)``, None without any, or the error for half a set."""
    if X_val is None and y_val is None and sample_weight_val is None:
        return None
    if X_val is None or y_val is None:
        raise ValueError(
            "Pass both X_val and y_val (and sample_weight_val only with them), or none of them."
        )
    return X_val, y_val, sample_weight_val


def hold_out(
    X: Matrix,
    y: FloatArray,
    sample_weight: ArrayLike | None,
    fraction: float,
    random_state: RandomState,
) -> tuple[Matrix, FloatArray, FloatArray | None, Validation]:
    """Early stopping's split of in-memory data: ``ceil(fraction * n)`` samples, drawn by
    the estimator's ``random_state``, held out for validation."""
    n = X.shape[0]
    n_val = int(np.ceil(fraction * n))
    if n - n_val < 1:
        raise ValueError(
            f"early_stopping=True holds out validation_fraction={fraction} "
            f"of {n} samples, leaving none to train on; use more data or a smaller "
            "validation_fraction."
        )
    # The caller's weights are checked before they are split, so that the errors name
    # the shapes passed (and a scalar is spread over all samples first).
    w = None if sample_weight is None else check_sample_weight(sample_weight, n)
    order = check_random_state(random_state).permutation(n)
    val, train = order[:n_val], np.sort(order[n_val:])
    if w is not None and not np.any(w[train] > 0):
        raise ValueError(
            "early_stopping=True held out every sample with a positive sample_weight, "
            "leaving none to train on; lower validation_fraction, change random_state, "
            "or pass X_val and y_val."
        )
    if w is not None and not np.any(w[val] > 0):
        raise ValueError(
            "early_stopping=True held out only samples of zero sample_weight, which give "
            "no validation score; raise validation_fraction, change random_state, or pass "
            "X_val and y_val."
        )
    validation = (X[val], y[val], None if w is None else w[val])
    return X[train], y[train], None if w is None else w[train], validation


@dataclass(frozen=True)
class HoldOut:
    """Dask's early-stopping split: ``fraction`` of every row chunk, drawn from ``seed`` and
    the chunk's index (:func:`gdlinreg._data.dask_chunks.held_out`)."""

    fraction: float
    seed: int

    @classmethod
    def drawn(cls, fraction: float, random_state: RandomState) -> HoldOut:
        """The split for the estimator's ``random_state``: an int is the seed itself."""
        if isinstance(random_state, (int, np.integer)):
            return cls(fraction, int(random_state))
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        return cls(fraction, seed)
