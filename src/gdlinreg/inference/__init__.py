"""Inference at the least-squares solution: :class:`InferenceResult`, what
:meth:`gdlinreg.GDLinearRegressor.inference` returns.

The numbers are those of statsmodels' ``OLS`` / ``WLS`` (Greene, *Econometric Analysis*,
ch. 4 and 9; MacKinnon and White, 1985; Cameron and Miller, 2015): see
:meth:`gdlinreg.GDLinearRegressor.inference` and the user guide's "Inference" page.
"""

from ._result import InferenceResult

__all__ = ["InferenceResult"]

# The submodules import one another by name (``from ._statistics import Fit``,
# ``import gdlinreg.inference._statistics as _core``), never ``from . import``: that
# imports this package, whose __init__ imports them (an import cycle).

# Documented, doctested and pickled as gdlinreg.inference's: its home module is private.
InferenceResult.__module__ = __name__
