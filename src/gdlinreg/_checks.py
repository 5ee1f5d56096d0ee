"""Input checks and shape conventions of the NumPy core; NumPy only, no scikit-learn."""

import numpy as np

from ._sparse import check_sparse, is_sparse


def check_arrays(X, y, sample_weight):
    # Neither path copies float32 or float64 X, C- or F-ordered: the objectives read it in place.
    X = check_sparse(X) if is_sparse(X) else np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise ValueError(f"X must hold real numbers; got dtype {X.dtype}.")
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D, (n_samples, n_features); got {X.ndim}-D. For one "
            "feature use X.reshape(-1, 1)."
        )
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X needs at least 1 sample and 1 feature; got shape {X.shape}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    Y = np.asarray(y)
    if Y.dtype.kind not in "fiub":
        raise ValueError(f"y must hold real numbers; got dtype {Y.dtype}.")
    if Y.ndim not in (1, 2) or Y.shape[0] != X.shape[0] or (Y.ndim == 2 and Y.shape[1] < 1):
        raise ValueError(
            f"y must have shape ({X.shape[0]},) or ({X.shape[0]}, n_targets) to "
            f"match X; got {Y.shape}."
        )
    one_target = Y.ndim == 1
    Y = Y.reshape(X.shape[0], -1).astype(np.float64, copy=False)
    for name, a in (("X", X.data if is_sparse(X) else X), ("y", Y)):
        if not _all_finite(a):
            raise ValueError(f"{name} contains NaN or infinity; remove or impute those values.")
    if sample_weight is None:
        weights = np.ones(X.shape[0])
    else:
        weights = np.asarray(sample_weight, dtype=np.float64)
        if weights.ndim == 0:
            weights = np.full(X.shape[0], float(weights))
        if weights.shape != (X.shape[0],):
            raise ValueError(f"sample_weight must have shape ({X.shape[0]},); got {weights.shape}.")
        if not np.isfinite(weights).all():
            raise ValueError("sample_weight contains NaN or infinity; pass finite weights.")
        if (weights < 0).any():
            raise ValueError(
                f"sample_weight must be >= 0; got {int((weights < 0).sum())} negative weight(s)."
            )
        if weights.sum() <= 0:
            raise ValueError(
                "sample_weight is all zero: give at least one sample a positive weight."
            )
    return X, Y, one_target, weights


def _all_finite(a) -> bool:
    # A sum is NaN or infinite if any term is: one read of the array and no boolean mask of its
    # size. Only a sum that overflows on finite values needs the exact elementwise test.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(a)):
            return True
    return bool(np.isfinite(a).all())


def initial_point(coef_init, intercept_init, d, k, one_target):
    coef = np.zeros((d, k))
    if coef_init is not None:
        c = np.asarray(coef_init, dtype=np.float64)
        expected = (d,) if one_target else (k, d)
        if c.shape != expected:
            raise ValueError(f"coef_init must have shape {expected}; got {c.shape}.")
        if not np.isfinite(c).all():
            raise ValueError("coef_init contains NaN or infinity; pass finite values.")
        coef = c.reshape(-1, d).T.copy()
    intercept = np.zeros(k)
    if intercept_init is not None:
        b = np.asarray(intercept_init, dtype=np.float64).reshape(-1)
        if b.size not in (1, k) or not np.isfinite(b).all():
            raise ValueError(
                f"intercept_init must be a finite float or an array of shape "
                f"({k},); got {intercept_init!r}."
            )
        intercept = np.broadcast_to(b, (k,)).copy()
    return coef, intercept


def to_sklearn_shapes(coef, intercept, one_target, dtype):
    """(..., d, k) and (..., k) into scikit-learn's shapes and the input's float dtype."""
    coef = np.swapaxes(coef, -1, -2).astype(dtype)
    intercept = np.asarray(intercept).astype(dtype)
    if one_target:
        coef, intercept = coef[..., 0, :], intercept[..., 0]
        if intercept.ndim == 0:
            intercept = intercept.dtype.type(intercept)
    return coef, intercept
