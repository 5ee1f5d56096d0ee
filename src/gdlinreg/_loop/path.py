"""A penalty path on the statistics: the fits of ``GDLinearRegressorCV``, one per alpha.

Along a grid of alphas in descending order the coefficients move a little from one to the
next (from zero, at the alpha that zeroes every coefficient of an l1 penalty), so each fit is
(proximal) Newton's method on the Gram form, warm-started from the fit before: one p x p solve
and no pass, a step or two.

What does not depend on alpha is built once per path (:class:`Split`): the coordinates, the
Gram objective, the eigenvalues of its matrix ``A`` and the ``tol`` criterion. A fit at one
alpha is then the method under the driver and the criterion, as in
:func:`~gdlinreg._loop.solve.solve`, with the verdict on conditioning read from bounds:
the penalised Hessian ``A + diag(r)`` has its eigenvalues within
``[lambda_min(A) + min r, lambda_max(A) + max r]`` (Weyl), and where even those bounds say
the statistics resolve the minimiser (:func:`~gdlinreg._loop.refine.resolved`), no
refinement is due and "tol" is the verdict. Any other fit (a bound that does not settle it,
``tol`` not met, a divergence, ``tol=None``) goes through :func:`solve` itself, whose verdict
decides. (A full ``solve`` per alpha cost 0.5-0.8 ms of fixed work, 250 of them for 5 folds
and 50 alphas: several times the pass that built the statistics.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._data.arrays import MomentsSource, form_objective
from .._problem.composite import Problem
from .._problem.coordinates import Start, coordinates, initial_point, to_sklearn_shapes
from .driver import drive
from .newton import newton_iterates
from .options import path_options
from .refine import resolved
from .solve import DIVERGENCE_FACTOR, solve
from .verdict import diagonal_curvature, make_stop_test, tol_test

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from .._kernels.types import FloatArray
    from .._problem.gram import GramObjective
    from .._problem.statistics import Moments
    from .._protocols.source import Source
    from .options import Options


@dataclass(frozen=True)
class PathFit:
    """One fit of a path, in scikit-learn's shapes; ``converged``: its ``tol`` verdict."""

    coef: FloatArray
    intercept: float | np.floating[Any] | np.ndarray
    converged: bool


def penalty_path(stats: Moments, source: Source, path: Sequence[Options]) -> list[PathFit]:
    """The fits on ``stats`` (the statistics of some rows of ``source``, which says their
    shape) with each of the options of ``path`` (:func:`path_fits`), in order, each from the
    one before (see the module doc)."""
    solved = MomentsSource(stats, source)
    split: Split | None = None
    theta: FloatArray | None = None  # (in the split's coordinates)
    coef: FloatArray | None = None
    out = []
    for options in path:
        options = options.for_source(solved)
        if split is None and options.method == "newton" and options.tol is not None:
            split = Split(solved, options)
        fit = None
        if split is not None:
            theta = split.start(coef) if theta is None else theta
            fit, theta = split.fit(options, theta)
        if fit is None:
            result, _ = solve(solved, options, Start(coef))
            fit = PathFit(result.coef, result.intercept, result.converged)
        out.append(fit)
        coef = np.asarray(fit.coef)  # (the intercept follows from the means)
    return out


def path_fits(params: Mapping[str, Any], alphas: Iterable[float]) -> list[Options]:
    """The options of a path's fits at ``alphas``, in order; ``params``: the fit's parameters
    but ``alpha`` (the names of ``Options``). (Built once for every split's path.)"""
    return [path_options(params, float(alpha)) for alpha in alphas]


class Split:
    """What the fits of one path share (see the module doc): the statistics' coordinates,
    Gram objective and the eigenvalues of its matrix, and the ``tol`` criterion."""

    def __init__(self, source: MomentsSource, options: Options) -> None:
        stats, d = source.stats, source.n_features
        # Centred and standardised, without the ridge's share in the scaling (solve's
        # coordinates have it, for the first-order methods' steps): Newton's steps do not
        # depend on the scaling, and one set of coordinates serves every alpha.
        x_spread, y_spread, coords = coordinates(stats, d, True, options.fit_intercept)
        gram = form_objective(source, stats, coords, options.loss, "gram")
        self.gram: GramObjective = gram  # type: ignore[assignment]  # (the "gram" form)
        self.gram.lipschitz()  # (its spectrum: the bounds of every alpha's Hessian)
        self.source, self.stats, self.coords = source, stats, coords
        self.stop_test = make_stop_test(coords, stats, d, x_spread, y_spread, options.tol or 0)
        # The objective's value is never below zero: this many times its size at zero means
        # the iteration diverges (as solve's limit).
        self.limit = DIVERGENCE_FACTOR * max(self.gram.t_sum * self.gram.factor, 1e-300)

    def start(self, coef: FloatArray | None) -> FloatArray:
        """``coef`` (zero if None) in the split's coordinates."""
        src = self.source
        k, d = src.n_targets, src.n_features
        return self.coords.from_user(*initial_point(coef, None, d, k, src.one_target))

    def fit(self, options: Options, theta: FloatArray) -> tuple[PathFit | None, FloatArray | None]:
        """The fit at ``options``' alpha from ``theta`` and its end, in the split's
        coordinates; (None, None) where its verdict needs :func:`solve` (see the module
        doc)."""
        spectrum = self.gram.spectrum
        problem = Problem(self.gram, self.coords, options.penalty, options.constraint)
        ridge = problem.l2 * problem.weights[:, 0] ** 2 / (2.0 * self.gram.factor)
        if spectrum is None or not resolved(
            spectrum[0] + ridge.min(), spectrum[-1] + ridge.max(), self.gram.rounding
        ):
            return None, None
        d = self.source.n_features
        curvature = diagonal_curvature(self.stats, d, self.coords, options.loss, problem)
        # (From the fit before, at another alpha, the start does not meet tol: no test there.)
        with np.errstate(all="ignore"):
            outcome = drive(
                newton_iterates(problem, theta),
                max_iter=options.max_iter,
                limit=self.limit,
                converged_test=tol_test(problem, self.stop_test, curvature),
            )
        if outcome.reason != "tol" or outcome.last is None:
            return None, None
        coef, intercept = to_sklearn_shapes(
            *self.coords.to_user(outcome.last), self.source.one_target, np.float64
        )
        return PathFit(coef, intercept, True), outcome.last
