r"""Export to ONNX: :class:`~gdlinreg.GDLinearRegressor` for skl2onnx and onnxruntime.

A fitted model predicts :math:`\hat y = X w^\top + b` (``coef_`` is :math:`w`,
``intercept_`` is :math:`b`) whatever its loss, penalty or solver, which is exactly what
scikit-learn's ``LinearRegression`` predicts. :func:`register` therefore hands skl2onnx its
own linear-regressor shape calculator and converter: for float32 input the graph is one
``ai.onnx.ml`` ``LinearRegressor`` node (computed in float32), for float64 input a
``MatMul`` and an ``Add`` in double precision (``LinearRegressor`` outputs float32 only).
The output has shape ``(n_samples, n_targets)``, ``(n_samples, 1)`` for a single target, as
for scikit-learn's linear models.

Registration is explicit: call :func:`register` once (it is idempotent) before
``skl2onnx.to_onnx``; afterwards the model converts alone or inside any scikit-learn
``Pipeline``. Neither ``import gdlinreg`` nor ``import gdlinreg.onnx`` imports skl2onnx: it is
loaded by :func:`register`, and needs the ``onnx`` extra (``pip install ".[onnx]"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._estimator import GDLinearRegressor

__all__ = ["ALIAS", "register"]

#: The name under which skl2onnx knows GDLinearRegressor (its operator type in the topology).
ALIAS = "GdlinregGDLinearRegressor"


class _LinearView:
    """What skl2onnx's linear converter reads from a model: ``coef_`` and an array
    ``intercept_`` (its float64 path reshapes it, which a Python float would not allow)."""

    def __init__(self, model: GDLinearRegressor) -> None:
        self.coef_ = np.asarray(model.coef_)
        self.intercept_ = np.asarray(model.intercept_).reshape(-1)

    def __repr__(self) -> str:
        return f"_LinearView(coef_.shape={self.coef_.shape})"


def _shapes(operator: Any) -> None:
    """skl2onnx's shape calculator for linear regressors: ``(N, n_targets)``, ``(N, 1)`` for
    one target, of the input's float type. It runs before the converter, so it is where an
    unfitted model is refused."""
    from skl2onnx.common.shape_calculator import calculate_linear_regressor_output_shapes

    if not hasattr(operator.raw_operator, "coef_"):
        raise AttributeError(
            "This GDLinearRegressor is not fitted yet: call fit before converting it to ONNX."
        )
    calculate_linear_regressor_output_shapes(operator)


def _convert(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's converter for LinearRegression, given a view of the model: the fitted model
    itself is neither modified nor copied."""
    from skl2onnx.operator_converters.linear_regressor import convert_sklearn_linear_regressor

    view = operator.new_raw_operator(_LinearView(operator.raw_operator), operator.type)
    convert_sklearn_linear_regressor(scope, view, container)


def register() -> None:
    r"""Register GDLinearRegressor's shape calculator and converter with skl2onnx.

    Idempotent: a second call registers the same functions again. After it,
    ``skl2onnx.to_onnx(model, X[:1])`` converts a fitted model, alone or in a ``Pipeline``;
    the ONNX graph computes :math:`X w^\top + b` in the dtype of the input (float32 or
    float64; pass ``X[:1].astype(np.float64)`` for a double-precision graph).

    Raises
    ------
    ImportError
        When skl2onnx is not installed (``pip install ".[onnx]"`` in a clone of gdlinreg).

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from skl2onnx import to_onnx
    >>> from gdlinreg import GDLinearRegressor
    >>> from gdlinreg.onnx import register
    >>> register()
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = GDLinearRegressor().fit(X, 2 * X[:, 0] + 1)
    >>> onx = to_onnx(model, X[:1])  # float64: MatMul + Add
    >>> session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    >>> session.run(None, {"X": X})[0].round(6).ravel().tolist()
    [1.0, 3.0, 5.0, 7.0]
    """
    try:
        from skl2onnx import update_registered_converter
    except ImportError as err:
        raise ImportError(
            'gdlinreg.onnx.register needs skl2onnx: pip install ".[onnx]" in a clone of '
            "gdlinreg (skl2onnx and onnxruntime)."
        ) from err
    update_registered_converter(GDLinearRegressor, ALIAS, _shapes, _convert)
