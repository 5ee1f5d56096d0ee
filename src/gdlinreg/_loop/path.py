"""A penalty path on the statistics: the fits of ``GDLinearRegressorCV``, one per alpha.

Each fit is an ordinary fit (:func:`~gdlinreg._loop.solve.solve`, its verdict included) of the
Gram form of the statistics it is given, from the fit at the alpha before: along a grid of
alphas in descending order, the coefficients move a little from one to the next (from zero, at
the alpha that zeroes every coefficient of an l1 penalty), so each fit is warm-started close
to its answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._data.arrays import MomentsSource
from .._problem.coordinates import Start
from .options import path_options
from .solve import solve

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .._problem.statistics import Moments
    from .._protocols.source import Source
    from .result import GDResult


def penalty_path(
    stats: Moments, source: Source, params: Mapping[str, Any], alphas: Iterable[float]
) -> list[GDResult]:
    """The fits on ``stats`` (the statistics of some rows of ``source``, which says their
    shape) at each of ``alphas``, in order, each from the one before (see the module doc);
    ``params``: the fit's parameters but ``alpha`` (the names of ``Options``)."""
    solved = MomentsSource(stats, source)
    start = Start()
    out = []
    for alpha in alphas:
        result, _ = solve(solved, path_options(params, float(alpha)), start)
        out.append(result)
        start = Start(result.coef)  # (the intercept follows from the means)
    return out
