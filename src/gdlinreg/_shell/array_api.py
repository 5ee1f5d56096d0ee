"""Array API input (scikit-learn's ``array_api_dispatch``, sklearn >= 1.9): X's namespace
and device, the arrays that follow X there, and the moves to the host. The source that reads
such input is the core's (:mod:`gdlinreg._data.xp_source`)."""

from __future__ import annotations

from functools import partial
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np

from .._data.xp_source import Namespace, check_array_input, follow
from .fit import is_dask

if TYPE_CHECKING:
    from .._kernels.types import Matrix

try:  # scikit-learn >= 1.9: Array API input stays in its namespace and device
    from sklearn.utils._array_api import check_same_namespace, get_namespace_and_device, move_to
except ImportError:  # older: every input is converted to NumPy, as with dispatch off
    move_to = check_same_namespace = None

__all__ = ["SUPPORTED", "Namespace", "as_float", "check_predict", "follow", "host", "namespace"]

#: Whether this scikit-learn keeps Array API input in its namespace (the estimator's tag).
SUPPORTED = move_to is not None


def namespace(X: object) -> Namespace | None:
    """X's Array API namespace and device, when ``array_api_dispatch`` is on and X is not
    NumPy (nor sparse, nor a list); None otherwise: the NumPy path, converting as today."""
    if move_to is None or isinstance(X, np.ndarray):  # (NumPy: no namespace to look up)
        return None
    xp, is_xp, device = get_namespace_and_device(X)
    if not is_xp or xp.__name__ in ("numpy", "array_api_compat.numpy"):
        return None
    check_array_input(X, xp)
    to_host = partial(move_to, xp=np, device="cpu")
    return Namespace(xp, device, to_host, partial(move_to, xp=xp, device=device))


def host(a: Any) -> Any:
    """A fitted attribute, a starting point or inference's data as NumPy (it may live on a
    device; scipy.sparse and Dask arrays stay as they are, as does everything under
    scikit-learn < 1.9, which has no Array API moves)."""
    plain = a is None or isinstance(a, (np.ndarray, np.generic, Real, list, tuple)) or is_dask(a)
    return a if plain or move_to is None else move_to(a, xp=np, device="cpu")


def as_float(X: Matrix) -> Matrix:
    """X as float32 or float64 (as it is when it is one of them), in its own namespace."""
    space = namespace(X)
    if space is None:
        return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)
    xp = space.xp
    return X if X.dtype in (xp.float32, xp.float64) else xp.astype(X, xp.float64)


def check_predict(X: object, estimator: object) -> None:
    """Refuse X of another namespace or device than the fitted ``coef_``."""
    if check_same_namespace is not None:
        check_same_namespace(X, estimator, attribute="coef_", method="predict")
