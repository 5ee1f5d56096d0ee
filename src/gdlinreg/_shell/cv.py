"""The splits of ``GDLinearRegressorCV`` as row sets that share a membership, and its
scorers: scikit-learn's side of cross-validation from one pass.

A splitter's ``split`` gives, per split, the training and the test rows. Rows that play the
same part in every split (K-fold: the rows of one test fold; ShuffleSplit, TimeSeriesSplit:
whatever patterns arise) are one *group*: one pass over the rows builds each group's
statistics, and a split's training (test) statistics are the merge of the groups that train
(test) in it. K-fold has K groups; any splitter works, with as many groups as patterns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._kernels.types import FloatArray

#: A row's part in one split.
_OUT, _TRAIN, _TEST = 0, 1, 2


@dataclass(frozen=True)
class Membership:
    """``labels``: each row's group; ``parts`` (n_groups, n_splits): each group's part in each
    split (0: neither, 1: training, 2: test); ``tests``: each split's test rows (the scorers
    that need predictions read them)."""

    labels: NDArray[np.intp]
    parts: NDArray[np.int8]
    tests: list[NDArray[np.intp]]

    @property
    def n_groups(self) -> int:
        return int(self.parts.shape[0])

    @property
    def n_splits(self) -> int:
        return int(self.parts.shape[1])

    def groups(self, split: int, part: int) -> list[int]:
        return [int(g) for g in np.flatnonzero(self.parts[:, split] == part)]

    def training(self, split: int) -> list[int]:
        return self.groups(split, _TRAIN)

    def test(self, split: int) -> list[int]:
        return self.groups(split, _TEST)


def membership(splits: list[tuple[Any, Any]], n_samples: int) -> Membership:
    """The groups of rows that share their part in every split of ``splits``."""
    # (one row of the transposed table per split: each split's rows are written contiguously)
    columns = np.zeros((len(splits), n_samples), dtype=np.int8)
    tests = []
    for j, (train, test) in enumerate(splits):
        train, test = np.asarray(train, dtype=np.intp), np.asarray(test, dtype=np.intp)
        if not len(train) or not len(test):
            raise ValueError(f"cv's split {j} has an empty training or test set.")
        column = columns[j]
        column[train] = _TRAIN
        if np.any(column[test]):
            raise ValueError(f"cv's split {j} has rows in both its training and its test set.")
        column[test] = _TEST
        tests.append(test)
    table = columns.T
    powers = 3 ** np.arange(min(len(splits), 39), dtype=np.int64)
    if len(splits) <= 12:  # each row's parts as one base-3 number below 3^12: no sort at all
        codes = powers @ columns.astype(np.int64)
        present = np.flatnonzero(np.bincount(codes))
        lookup = np.zeros(int(present[-1]) + 1, dtype=np.intp)
        lookup[present] = np.arange(present.size)
        labels = lookup[codes]
        parts = (present[:, None] // powers % 3).astype(np.int8)
    elif len(splits) <= 39:  # base 3 still fits an int64: a 1-d unique, no row sort
        codes = table.astype(np.int64) @ powers
        _, first, labels = np.unique(codes, return_index=True, return_inverse=True)
        parts = table[first]
    else:
        parts, labels = np.unique(table, axis=0, return_inverse=True)
    return Membership(labels.reshape(-1).astype(np.intp), parts, tests)


class FixedPredictions(RegressorMixin, BaseEstimator):
    """A fitted regressor whose ``predict`` returns the predictions it holds: a
    scikit-learn scorer applied to predictions made from a path's coefficients."""

    def __init__(self, predictions: FloatArray | None = None) -> None:
        self.predictions = predictions

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def predict(self, X: object) -> FloatArray:
        assert self.predictions is not None  # (set by whoever scores them)
        return self.predictions
