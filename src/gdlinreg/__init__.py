"""gdlinreg: gradient-descent linear regression, from the textbook update to an engineered solver.

The NumPy core is :func:`gradient_descent`; :class:`GDLinearRegressor` is its scikit-learn
estimator, and :class:`GDLinearRegressorCV` cross-validates a penalty's path from one pass.
"""

from importlib.metadata import PackageNotFoundError, version

from ._cv_estimator import GDLinearRegressorCV
from ._estimator import GDLinearRegressor
from ._gradient_descent import gradient_descent
from ._loop.result import DivergenceError, GDResult

try:
    __version__ = version("gdlinreg")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "DivergenceError",
    "GDLinearRegressor",
    "GDLinearRegressorCV",
    "GDResult",
    "__version__",
    "gradient_descent",
]
