"""The estimator's checks of NaN and infinity, with the core's one message
(:class:`gdlinreg._kernels.finite.NonFiniteError`): X's column named by its feature name,
y checked before scikit-learn's ``validate_data`` words it otherwise, and y without columns
called what it is (no targets, not "0 feature(s)")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._kernels.finite import NonFiniteError, first_nonfinite
from .._kernels.sparse import is_sparse
from .array_api import namespace
from .fit import is_dask

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["NonFiniteError", "check_finite", "check_target"]


def check_target(y: Any, name: str = "y") -> None:
    """Refuse a ``y`` with no target columns, or with NaN or infinity (where the first is),
    before scikit-learn's checks. y of an Array API namespace, Dask, sparse or of no numeric
    dtype is left to them."""
    if y is None or is_dask(y) or is_sparse(y) or namespace(y) is not None:
        return
    try:
        Y = np.asarray(y)
    except (TypeError, ValueError):  # ragged lists and the like: scikit-learn says why
        return
    if Y.ndim == 2 and Y.shape[1] == 0:
        raise ValueError(
            f"{name} has shape {Y.shape}: no target columns. Pass {name} of shape "
            "(n_samples,) for one target or (n_samples, n_targets) with n_targets >= 1."
        )
    found = first_nonfinite(name, Y)
    if found is not None:
        raise found


def check_finite(X: Any, name: str, feature_names: Sequence[str] | None) -> None:
    """Refuse validated X (NumPy, scipy.sparse or an Array API array) with NaN or infinity,
    naming the first one's row and column (by feature name when there are names)."""
    space = namespace(X)
    if space is not None:  # on the device: one reduction, and the host only on failure
        if bool(space.xp.all(space.xp.isfinite(X))):
            return
        X = space.to_host(X)
    found = first_nonfinite(name, X)
    if found is not None:
        raise found.named(feature_names)
