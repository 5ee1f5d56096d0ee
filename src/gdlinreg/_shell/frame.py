"""``GDLinearRegressor.coef_frame``: the fitted coefficients as a labelled pandas table."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence


def coef_frame(
    coef: Any, intercept: Any, fit_intercept: bool, feature_names: Sequence[str] | None
) -> Any:
    """A ``DataFrame`` with a row per parameter ("intercept" first when there is one, then
    the features, by name or as x0, x1, ...; the names :meth:`inference` uses) and a column
    per target: "coef" for one target, y0, y1, ... for several. pandas is imported here
    only, by name (it is not a dependency of gdlinreg)."""
    try:
        pd = importlib.import_module("pandas")  # (by name: pandas ships no types)
    except ImportError as exc:
        raise ImportError(
            "coef_frame needs pandas, which gdlinreg does not install: pip install pandas. "
            "Without it, dict(zip(model.feature_names_in_, model.coef_)) pairs the names "
            "and coefficients of one target."
        ) from exc
    W = np.atleast_2d(np.asarray(coef, dtype=np.float64))  # (n_targets, n_features)
    b = np.atleast_1d(np.asarray(intercept, dtype=np.float64))
    d = W.shape[1]
    names = [str(n) for n in feature_names] if feature_names is not None else []
    index = names or [f"x{j}" for j in range(d)]
    table = W.T
    if fit_intercept:
        index, table = ["intercept", *index], np.vstack([b[None, :], table])
    columns = ["coef"] if np.ndim(coef) == 1 else [f"y{t}" for t in range(W.shape[0])]
    return pd.DataFrame(table, index=index, columns=columns)
