"""The names of the arrays the package passes around, for static type checking only.

The ground floor: every room may name these, and they name nothing of gdlinreg.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

#: A float array: parameters ``theta`` (p, k) or stacks of them (..., p, k), gradients,
#: moments, coefficients. float64 inside the solver; X and the fitted coefficients may be
#: float32.
FloatArray: TypeAlias = NDArray[np.floating[Any]]

#: X as the core reads it: a dense float array or a scipy.sparse matrix or array (CSR or
#: CSC; Dask chunks in ``_data.dask_chunks``). SciPy ships no type information, so to the
#: type checker this is ``Any``: the alias only says what a signature takes.
Matrix: TypeAlias = Any

#: An objective value: a float for one ``theta`` (p, k), an array for a stack (..., p, k).
Value: TypeAlias = "float | FloatArray"

#: One block of iterates from a method: ``(thetas, values, gradients, steps)``, stacked on a
#: leading axis; the gradients are None where the method has none (mini-batches).
Block: TypeAlias = tuple[
    FloatArray, Sequence[Value] | FloatArray, FloatArray | None, Sequence[float] | FloatArray
]
Blocks: TypeAlias = Iterator[Block]

#: One block's product with a vector or matrix: ``v -> X_b v`` or ``r -> X_b' r``.
Product: TypeAlias = Callable[[FloatArray], FloatArray]

#: A step-size schedule: ``t -> factor`` (see :mod:`gdlinreg.schedules`).
Schedule: TypeAlias = Callable[[int], float]

#: ``learning_rate``: a float, "auto", a schedule name, or a schedule callable.
LearningRate: TypeAlias = "float | str | Schedule"

#: The data of the data form: ``(X, Y, p)``, p the normalised sample weights.
ArrayData: TypeAlias = "tuple[Matrix, FloatArray, FloatArray]"

#: One mini-batch ``(X_b, Y_b, p_b)``, its weights scaled to estimate the full gradient.
Batch: TypeAlias = "tuple[Matrix, FloatArray, FloatArray]"
