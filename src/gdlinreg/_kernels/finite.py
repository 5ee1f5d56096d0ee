"""NaN and infinity in the data: where the first one is, and the one message that says so for
X, y and ``predict`` alike (the estimator names the column by its feature name)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class NonFiniteError(ValueError):
    """Input that holds NaN or infinity: which input, which kind, and where the first is.

    ``row`` and ``column`` are positions (None where unknown: ``column`` for a 1-D ``y``,
    ``row`` where only column extremes were read). :meth:`named` gives the same error with
    the column called by its feature name.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        row: int | None,
        column: int | None,
        label: str | None = None,
    ) -> None:
        self.name, self.kind, self.row, self.column, self.label = name, kind, row, column, label
        target = "target " if name.startswith("y") else ""
        col = None if column is None else f"{target}column {label if label is not None else column}"
        if row is not None:
            at = f" at row {row}{'' if col is None else ', ' + col} (the first such value)"
        else:
            at = "" if col is None else f" in {col}"
        fix = "impute" if kind == "NaN" else "replace"
        super().__init__(f"Input {name} contains {kind}{at}; remove or {fix} those values.")

    def named(self, feature_names: Sequence[str] | None) -> NonFiniteError:
        """The same error, with X's column called by its feature name (when there are names)."""
        if feature_names is None or self.column is None or not self.name.startswith("X"):
            return self
        label = f"{feature_names[self.column]!r}"
        return NonFiniteError(self.name, self.kind, self.row, self.column, label)

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable, so that an error inside a joblib worker reaches the caller as it is.
        return type(self), (self.name, self.kind, self.row, self.column, self.label)


def first_nonfinite(name: str, a: Any, rows: bool = True) -> NonFiniteError | None:
    """The error for the first NaN or infinity of ``a`` (in row order), None if all are
    finite. ``a`` is a 1-D or 2-D NumPy array or a scipy.sparse matrix (its stored values);
    ``rows=False`` leaves the row out (``a`` is part of the rows, e.g. a Dask chunk)."""
    if hasattr(a, "tocoo"):  # scipy.sparse: only stored values can be NaN or infinite
        if _all_finite(a.data):
            return None
        coo = a.tocoo()
        bad = ~np.isfinite(coo.data)
        if not bad.any():
            return None
        r, c, v = coo.row[bad], coo.col[bad], coo.data[bad]
        i = int(np.lexsort((c, r))[0])
        return _error(name, v[i], int(r[i]), int(c[i]), rows)
    a = np.asarray(a)
    if a.dtype.kind not in "fc" or _all_finite(a):  # (integers and booleans are finite)
        return None
    bad = ~np.isfinite(a)
    if not bad.any():
        return None
    if a.ndim < 2:
        i = int(np.flatnonzero(bad.ravel())[0])
        return _error(name, a.ravel()[i], i, None, rows)
    r, c = (int(j) for j in np.argwhere(bad)[0])
    return _error(name, a[r, c], r, c, rows)


def columns_nonfinite(name: str, low: np.ndarray, high: np.ndarray) -> NonFiniteError | None:
    """The error for the first column whose minimum or maximum is NaN or infinite (the rows
    were not read: no row in the message), None if all are finite."""
    for j, pair in enumerate(zip(low.ravel(), high.ravel(), strict=True)):
        for value in pair:
            if not np.isfinite(value):
                return _error(name, value, None, j, False)
    return None


def _all_finite(a: np.ndarray) -> bool:
    """Whether every value is finite, from their sum (no temporary the size of ``a``); a sum
    that overflows although every value is finite answers False, and the caller looks."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.sum(a)))


def _error(
    name: str, value: Any, row: int | None, column: int | None, rows: bool
) -> NonFiniteError:
    kind = "NaN" if np.isnan(value) else "infinity"
    return NonFiniteError(name, kind, row if rows else None, column)
