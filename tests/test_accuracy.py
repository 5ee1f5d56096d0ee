"""Numerical accuracy of ``GDLinearRegressor`` against exact rational least squares.

The reference is independent of NumPy's linear algebra: every float of the data (and of the
sample weights) is converted exactly with :class:`fractions.Fraction`, the normal equations of
``[1 | X]`` are formed in integer arithmetic and solved by exact Gauss-Jordan elimination. The
reference is itself checked against NIST StRD's certified values (Longley, Wampler1-5).

Requirements asserted (componentwise relative error of every coefficient, and relative error of
the intercept, both against the exact solution of the float data):

* default settings, ``GDLinearRegressor().fit(X, y)``: <= 1e-6 for designs whose Gram matrix,
  after centring and scaling the columns to unit (weighted) variance, has condition number up
  to 1e4, features with large offsets included;
* ``TIGHT`` settings (tol=1e-15, max_iter=10000): <= 1e-6 for such condition numbers up to
  about 1e7 (NIST Wampler: 2.66e6).

Known shortfalls are strict ``xfail`` with the measured numbers in their reasons. Run this file
as a script (``python tests/test_accuracy.py``) to print the whole table of errors, condition
numbers, iteration counts and the errors of ``numpy.linalg.lstsq`` and scikit-learn's
``LinearRegression`` (for comparison only; never asserted).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from _reference import exact_lstsq
from scipy.stats import random_correlation
from sklearn.linear_model import LinearRegression

from gdlinreg import GDLinearRegressor, gradient_descent

DATA = Path(__file__).parent / "data"

#: The accuracy every requirement asks for.
REQUIRED = 1e-6
EPS = np.finfo(np.float64).eps
#: Standardised Gram condition numbers covered by the default settings / by ``TIGHT``.
DEFAULT_COND = 1e4
TIGHT_COND = 1e7
#: The tight settings: tol=1e-14 is not enough for NIST Wampler4 (intercept 1.8e-6, see
#: test_tol_1e14_is_not_tight_enough_for_wampler4), tol=1e-15 is. But a tol the stopping test
#: cannot reach lets CG wander for max_iter steps (test_running_on_to_max_iter_...).
TIGHT = {"tol": 1e-15, "max_iter": 10_000}
#: No stopping test: the fit runs until no progress is left (issue 22: before, conjugate
#: gradients drifted on to max_iter, NIST Wampler3 from 2e-14 to 2e-7).
EXHAUSTIVE = {"tol": None, "max_iter": 100_000}


# ---------------------------------------------------------------------------------------------
# The exact reference
# ---------------------------------------------------------------------------------------------


def relative_errors(coef, intercept, exact) -> tuple[float, float]:
    """(max_j |coef_j - exact_j| / |exact_j|, |intercept - exact_b| / |exact_b|), exactly."""
    b, w = exact
    assert b != 0 and all(e != 0 for e in w), "relative errors need a nonzero exact solution"
    coef_err = max(abs(Fraction(float(c)) - e) / abs(e) for c, e in zip(coef, w, strict=True))
    intercept_err = abs(Fraction(float(intercept)) - b) / abs(b)
    return float(coef_err), float(intercept_err)


def standardised_condition(X, sample_weight=None) -> float:
    """Condition number of the Gram matrix of the centred columns scaled to unit variance."""
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    p = w / w.sum()
    centred = X - p @ X
    centred -= p @ centred  # corrected two-pass: removes the rounding error of the mean
    z = centred / np.sqrt(p @ centred**2)
    s = np.linalg.svd(np.sqrt(p)[:, None] * z, compute_uv=False)
    return float((s[0] / s[-1]) ** 2)


#: The constant of the rounding floor, ``FLOOR_FACTOR * cond * eps``: the standardised Gram
#: matrix's entries, the moments and the solver's own arithmetic each carry a few eps of
#: rounding. Measured, TIGHT's errors stay below a quarter of the floor at 16 (SkylakeX,
#: Haswell, Sandybridge and Prescott kernels; 1, 2 and 8 threads), which leaves a factor 4 for
#: other kernels and thread counts.
FLOOR_FACTOR = 16


def rounding_floor(X, y, sample_weight, exact, cond) -> tuple[float, float]:
    """The relative errors of (coef, intercept) that rounding alone may cause: a bound from
    the conditioning, for a solve from a Gram matrix whose entries are accurate to a few eps
    (gdlinreg's blocked sums are; the refinement on the data only does better).

    In the standardised coordinates ``z_j = (x_j - mean_j) / s_j`` the coefficients are
    ``theta_j = w_j * s_j``, and solving with the Gram matrix of ``z`` (condition number
    ``cond``) from entries rounded to a few eps gives, to first order, the normwise forward
    error ``|dtheta| <= c * cond * eps * |theta|``. Componentwise, ``|dw_j| / |w_j| =
    |dtheta_j| / |theta_j| <= c * cond * eps * |theta| / min_j |theta_j|``. The intercept
    ``b = mean(y) - sum_j theta_j * mean_j / s_j`` adds ``|mean / s| * |dtheta|`` (Cauchy-Schwarz)
    to the rounding of the means and of that sum, ``c * eps * (|mean(y)| + sum_j |mean_j w_j|)``.
    ``c`` is FLOOR_FACTOR. The intercept's floor carries the cancellation: it is large when
    ``|b|`` is small next to ``mean(X) @ w``.
    """
    p = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    p = p / p.sum()
    b, w = float(exact[0]), np.array([float(v) for v in exact[1]])
    mean = p @ X
    centred = X - mean
    centred -= p @ centred
    s = np.sqrt(p @ centred**2)
    theta = np.linalg.norm(w * s)
    coef = FLOOR_FACTOR * cond * EPS * theta / np.min(np.abs(w * s))
    rounding = abs(p @ y) + np.sum(np.abs(mean * w))
    intercept = FLOOR_FACTOR * EPS * (cond * np.linalg.norm(mean / s) * theta + rounding) / abs(b)
    return float(coef), float(intercept)


# ---------------------------------------------------------------------------------------------
# The data
# ---------------------------------------------------------------------------------------------

# NIST StRD Wampler data: x = 0..20 and the responses (public domain). Wampler1 is the exact
# polynomial; Wampler3-5 add noise orthogonal to the model, so their certified coefficients
# are all exactly 1 (checked below in exact arithmetic).
WAMPLER_X = np.arange(21.0)
WAMPLER_Y = {
    1: sum(np.arange(21) ** k for k in range(6)).astype(np.float64),
    2: "1.00000 1.11111 1.24992 1.42753 1.65984 1.96875 2.38336 2.94117 3.68928 4.68559 "
    "6.00000 7.71561 9.92992 12.75603 16.32384 20.78125 26.29536 33.05367 41.26528 51.16209 "
    "63.00000",
    3: "760 -2042 2111 -1684 3888 1858 11379 17560 39287 64382 113159 175108 273291 400186 "
    "581243 811568 1121004 1506550 2002767 2611612 3369180",
    4: "75901 -204794 204863 -204436 253665 -200894 214131 -185192 221249 -138370 315911 "
    "-27644 455253 197434 783995 608816 1370781 1303798 2205519 2408860 3444321",
    5: "7590001 -20479994 20480063 -20479636 25231365 -20476094 20489331 -20460392 18417449 "
    "-20413570 20591111 -20302844 18651453 -20077766 21059195 -19666384 26348481 -18971402 "
    "22480719 -17866340 10958421",
}
# NIST's certified Longley values (15 significant digits): intercept, then the six coefficients.
LONGLEY_CERTIFIED = (
    -3482258.63459582,
    15.0618722713733,
    -0.358191792925910e-01,
    -2.02022980381683,
    -1.03322686717359,
    -0.511041056535807e-01,
    1829.15146461355,
)


def wampler_design() -> np.ndarray:
    # Integer powers, exact: NumPy < 2's float power is not correctly rounded (13.0**4 gives
    # 28560.999999999996 with NumPy 1.24).
    return np.column_stack([np.arange(21) ** k for k in range(1, 6)]).astype(np.float64)


def wampler_y(k: int) -> np.ndarray:
    y = WAMPLER_Y[k]
    return y.copy() if isinstance(y, np.ndarray) else np.array([float(v) for v in y.split()])


def perturbation(n: int) -> np.ndarray:
    """A fixed, deterministic perturbation: +1, -2, +3, ..., period 7."""
    return np.array([(-1.0) ** i * (i % 7 + 1) for i in range(n)])


def longley_strings() -> tuple[list[str], list[list[str]]]:
    lines = [ln for ln in (DATA / "longley.csv").read_text().splitlines() if ln[:1] != "#"]
    header, *rows = (ln.split(",") for ln in lines)
    return header, rows


def longley() -> tuple[np.ndarray, np.ndarray]:
    """Longley (1967): y = TOTEMP, X = GNPDEFL, GNP, UNEMP, ARMED, POP, YEAR (16 x 6)."""
    _, rows = longley_strings()
    a = np.array([[float(v) for v in r] for r in rows])
    return a[:, 1:], a[:, 0]


def _design_parts(n, p, cond, seed, offset, spread):
    """``X = offset + spread * z``, ``theta`` and a noise vector orthogonal to ``[1 | z]``.

    ``z`` has mean 0 and correlation matrix C, a random correlation matrix with eigenvalues
    spread geometrically over [1, 1/cond]. As in NIST's Wampler3-5, the noise is orthogonal to
    the model, so the exact coefficients stay near ``theta`` (none near 0, which keeps
    componentwise relative errors meaningful) while the residual is not zero.
    """
    rng = np.random.default_rng(seed)
    eig = np.geomspace(1.0, 1.0 / cond, p)
    corr = random_correlation.rvs(eig * (p / eig.sum()), random_state=rng)
    g = rng.standard_normal((n, p))
    q, _ = np.linalg.qr(g - g.mean(axis=0))
    z = np.sqrt(n) * q @ np.linalg.cholesky(corr).T
    theta = rng.choice([-1.0, 1.0], p) * rng.uniform(0.5, 1.5, p)
    e = rng.standard_normal(n)
    e -= e.mean()
    e -= q @ (q.T @ e)
    return offset + spread * z, z, theta, e / np.sqrt(np.mean(e * e))


def design(n, p, cond, seed, offset=0.0, spread=1.0):
    """Standardised Gram condition ``cond``; ``y = 3 + z @ theta + 0.1 * noise``."""
    X, z, theta, e = _design_parts(n, p, cond, seed, offset, spread)
    return X, 3.0 + z @ theta + 0.1 * e


def cancelling_design(n, p, cond, seed, offset, spread, ratio):
    """As :func:`design`, but y carries the offsets: ``y = b + X @ w + 0.1 * noise`` with
    ``w = theta / spread`` and ``b = mean(X) @ w / ratio``, so the intercept comes out of a
    cancellation ``mean(y) - mean(X) @ w`` that loses ``log10(ratio)`` digits."""
    X, _, theta, e = _design_parts(n, p, cond, seed, offset, spread)
    w = theta / spread
    return X, float(X.mean(axis=0) @ w) / ratio + X @ w + 0.1 * e


@dataclass(frozen=True)
class Case:
    """One regression problem. ``cond`` is its nominal standardised condition number, which
    decides the requirement: default settings when <= 1e4, ``TIGHT`` in any case."""

    name: str
    cond: float
    build: Callable[[], tuple]
    default_xfail: str | None = None
    tight_xfail: str | None = None
    tight_skip: str | None = None

    def data(self):
        X, y, *rest = self.build()
        return X, y, (rest[0] if rest else None)


def _scaled(x_scale, y_scale):
    def build():
        X, y = design(200, 6, 1e4, 4)
        return X * x_scale, y * y_scale

    return build


def _weighted(seed, offset, spread, weights):
    def build():
        X, y = design(200, 6, 1e4, seed, offset, spread)
        return X, y, weights(len(y))

    return build


WAMPLER_COND = 2.66e6
MIXED_OFFSETS = np.array([0.0, 1e3, 1e6, 1e8, -1e7, 1e5])
MIXED_SPREADS = np.array([1.0, 1e-2, 1e2, 1e-1, 1e4, 1e-2])
_MOMENTS = "the centred moments keep an n*(error of the mean)^2 term"
_CASES = [
    # NIST-style ill-conditioned polynomial designs: x, x^2, ..., x^5 for x = 0..20.
    Case("wampler1", WAMPLER_COND, lambda: (wampler_design(), wampler_y(1))),
    Case("wampler2", WAMPLER_COND, lambda: (wampler_design(), wampler_y(2))),
    Case("wampler3", WAMPLER_COND, lambda: (wampler_design(), wampler_y(3))),
    Case("wampler4", WAMPLER_COND, lambda: (wampler_design(), wampler_y(4))),
    Case(
        "wampler5",
        WAMPLER_COND,
        lambda: (wampler_design(), wampler_y(5)),
    ),
    Case(
        "wampler1 + perturbation",
        WAMPLER_COND,
        lambda: (wampler_design(), wampler_y(1) + 100.0 * perturbation(21)),
    ),
    Case(
        "wampler2 + perturbation",
        WAMPLER_COND,
        lambda: (wampler_design(), wampler_y(2) + 1e-3 * perturbation(21)),
    ),
    # Longley: years 1947..1962 and columns in the 1e5 range. Its measured cond, 1.22e4, is a
    # little above 1e4; asserted at default settings too, being the classic certified problem.
    Case("longley", 1.22e4, longley),
    Case("longley, weights 1..16", 1.0e4, lambda: (*longley(), np.arange(1.0, 17.0))),
    # Conditioning classes, no offsets.
    Case("cond 1e2", 1e2, lambda: design(200, 8, 1e2, 1)),
    Case("cond 1e4", 1e4, lambda: design(200, 8, 1e4, 1)),
    Case("cond 1e6", 1e6, lambda: design(200, 8, 1e6, 1)),
    Case("cond 1e7", 1e7, lambda: design(200, 8, 1e7, 1)),
    # Large offsets, offset / spread from 1e6 to 1e12.
    Case("cond 1e2, offset 1e6 spread 1", 1e2, lambda: design(200, 8, 1e2, 1, 1e6, 1.0)),
    Case("cond 1e4, offset 1e6 spread 1", 1e4, lambda: design(200, 8, 1e4, 1, 1e6, 1.0)),
    Case("cond 1e6, offset 1e6 spread 1", 1e6, lambda: design(200, 8, 1e6, 1, 1e6, 1.0)),
    Case("cond 1e7, offset 1e6 spread 1", 1e7, lambda: design(200, 8, 1e7, 1, 1e6, 1.0)),
    Case("cond 1e2, offset 1e8 spread 1e-2", 1e2, lambda: design(200, 8, 1e2, 1, 1e8, 1e-2)),
    Case("cond 1e4, offset 1e8 spread 1e-2", 1e4, lambda: design(200, 8, 1e4, 1, 1e8, 1e-2)),
    Case("cond 1e6, offset 1e8 spread 1e-1", 1e6, lambda: design(200, 8, 1e6, 1, 1e8, 1e-1)),
    Case(
        "cond 1e6, offset 1e8 spread 1e-2",
        1e6,
        lambda: design(200, 8, 1e6, 8, 1e8, 1e-2),
    ),
    Case(
        "cond 1e7, offset 1e8 spread 1e-2",
        1e7,
        lambda: design(200, 8, 1e7, 1, 1e8, 1e-2),
    ),
    Case(
        "cond 1e4, offset 1e8 spread 1e-3",
        1e4,
        lambda: design(200, 8, 1e4, 9, 1e8, 1e-3),
    ),
    Case(
        "cond 1e4, offset 1e8 spread 1e-4",
        1e4,
        lambda: design(200, 6, 1e4, 2, 1e8, 1e-4),
    ),
    Case(
        "cond 1e4, offset 1e6 spread 1e-6",
        1e4,
        lambda: design(200, 6, 1e4, 2, 1e6, 1e-6),
    ),
    Case(
        "cond 1e4, mixed offsets 0..1e8, spreads 1e-2..1e4",
        1e4,
        lambda: design(200, 6, 1e4, 6, MIXED_OFFSETS, MIXED_SPREADS),
    ),
    # y carries the offsets: the intercept is 1e3 (1e2) times smaller than mean(X) @ coef.
    Case(
        "cond 1e4, offset 1e6 spread 1, intercept cancels 1e3",
        1e4,
        lambda: cancelling_design(200, 6, 1e4, 0, 1e6, 1.0, 1e3),
    ),
    Case(
        "cond 1e4, offset 1e8 spread 1e-2, intercept cancels 1e2",
        1e4,
        lambda: cancelling_design(200, 6, 1e4, 3, 1e8, 1e-2, 1e2),
    ),
    # Tiny and huge scales.
    Case("cond 1e4, X * 1e-8", 1e4, _scaled(1e-8, 1.0)),
    Case("cond 1e4, X * 1e8", 1e4, _scaled(1e8, 1.0)),
    Case("cond 1e4, y * 1e-10", 1e4, _scaled(1.0, 1e-10)),
    Case("cond 1e4, y * 1e10", 1e4, _scaled(1.0, 1e10)),
    Case("cond 1e4, X * 1e-8, y * 1e10", 1e4, _scaled(1e-8, 1e10)),
    Case("cond 1e4, X * 1e8, y * 1e-10", 1e4, _scaled(1e8, 1e-10)),
    Case(
        "cond 1e4, columns * 1e-8 .. 1e8",
        1e4,
        lambda: design(200, 6, 1e4, 7, 0.0, np.array([1e-8, 1e8, 1e-4, 1e4, 1.0, 1e-8])),
    ),
    # Sample weights.
    Case(
        "cond 1e4, offset 1e6 spread 1, weights 0.5..2",
        1e4,
        _weighted(3, 1e6, 1.0, lambda n: np.linspace(0.5, 2.0, n)),
    ),
    Case(
        "cond 1e4, offset 1e8 spread 1e-2, weights 0..3 (zeros)",
        1e4,
        _weighted(3, 1e8, 1e-2, lambda n: np.arange(n) % 4.0),
    ),
    Case(
        "cond 1e4, offset 1e8 spread 1e-2, weights 1e-6 * (0.5..1.5)",
        1e4,
        _weighted(3, 1e8, 1e-2, lambda n: 1e-6 * np.linspace(0.5, 1.5, n)),
    ),
    Case(
        "cond 1e4, offset 1e8 spread 1e-2, weights 1e4 * (0.5..1.5)",
        1e4,
        _weighted(3, 1e8, 1e-2, lambda n: 1e4 * np.linspace(0.5, 1.5, n)),
    ),
    Case(
        "many rows: n=50000, offset 1e8 spread 1e-3",
        1.0,
        lambda: design(50_000, 2, 1.0 + 1e-9, 8, 1e8, 1e-3),
    ),
]
CASES = {c.name: c for c in _CASES}


# ---------------------------------------------------------------------------------------------
# Measurements (cached: each case is solved exactly once)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    coef_err: float
    intercept_err: float
    n_iter: int
    converged: bool
    warnings: tuple[str, ...]

    @property
    def err(self) -> float:
        return max(self.coef_err, self.intercept_err)

    def __str__(self) -> str:
        flag = "" if self.converged else " (not converged)"
        warned = f" [{len(self.warnings)} warning(s)]" if self.warnings else ""
        return f"{self.coef_err:.1e} / {self.intercept_err:.1e}, n_iter {self.n_iter}{flag}{warned}"


@dataclass(frozen=True)
class Result:
    cond: float
    default: Fit
    tight: Fit
    #: ``tol=None`` (EXHAUSTIVE): run until no progress is left.
    exhaustive: Fit
    lstsq: tuple[float, float]
    linreg: tuple[float, float]
    #: (coef, intercept): the rounding floor of the relative errors, see rounding_floor.
    floor: tuple[float, float]


def fit_gd(X, y, sample_weight, exact, **params) -> Fit:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GDLinearRegressor(**params).fit(X, y, sample_weight=sample_weight)
    return Fit(
        *relative_errors(model.coef_, model.intercept_, exact),
        model.n_iter_,
        model.converged_,
        tuple(f"{w.category.__name__}: {w.message}" for w in caught),
    )


@cache
def exact_solution(name: str) -> tuple[Fraction, list[Fraction]]:
    X, y, sw = CASES[name].data()
    return exact_lstsq(X.tolist(), y.tolist(), None if sw is None else sw.tolist())


@cache
def measure(name: str) -> Result:
    X, y, sw = CASES[name].data()
    exact = exact_solution(name)
    a = np.column_stack([np.ones(len(y)), X])
    root = np.ones(len(y)) if sw is None else np.sqrt(sw)
    # numpy's lstsq with its default rcond, and LinearRegression as shipped: for comparison.
    sol = np.linalg.lstsq(a * root[:, None], y * root, rcond=None)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr = LinearRegression().fit(X, y, sample_weight=sw)
    return Result(
        cond=standardised_condition(X, sw),
        default=fit_gd(X, y, sw, exact),
        tight=fit_gd(X, y, sw, exact, **TIGHT),
        exhaustive=fit_gd(X, y, sw, exact, **EXHAUSTIVE),
        lstsq=relative_errors(sol[1:], sol[0], exact),
        linreg=relative_errors(lr.coef_, lr.intercept_, exact),
        floor=rounding_floor(X, y, sw, exact, standardised_condition(X, sw)),
    )


def applies(case: Case, kind: str) -> bool:
    """Whether the default (cond <= 1e4) or tight (cond <= 1e7) requirement covers ``case``.

    The 25% (10%) margin lets Longley's 1.22e4 in: the classic certified problem.
    """
    return case.cond <= (1.25 * DEFAULT_COND if kind == "default" else 1.1 * TIGHT_COND)


def _params(kind: str):
    out = []
    for case in _CASES:
        if not applies(case, kind):
            continue
        reason = case.default_xfail if kind == "default" else case.tight_xfail
        marks = []
        if reason:
            marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)]
        if kind == "tight" and case.tight_skip:
            marks = [pytest.mark.skip(reason=case.tight_skip)]
        out.append(pytest.param(case.name, id=case.name, marks=marks))
    return out


# ---------------------------------------------------------------------------------------------
# The reference itself
# ---------------------------------------------------------------------------------------------


def test_reference_reproduces_nist_longley():
    """NIST's decimal Longley data, solved exactly, gives the certified values (15 digits)."""
    _, rows = longley_strings()
    b, w = exact_lstsq([r[1:] for r in rows], [r[0] for r in rows])
    for got, certified in zip([b, *w], LONGLEY_CERTIFIED, strict=True):
        assert abs(float(got) - certified) <= 5e-15 * abs(certified)


@pytest.mark.parametrize("k", [1, 3, 4, 5])
def test_reference_reproduces_nist_wampler_exactly(k):
    """Wampler1, 3, 4, 5: the certified coefficients are exactly 1 (y is an integer vector)."""
    b, w = exact_lstsq(wampler_design().tolist(), wampler_y(k).tolist())
    assert [b, *w] == [1] * 6


def test_reference_reproduces_nist_wampler2_exactly():
    """Wampler2 in decimal is exactly 1 + 0.1 x + ... + 1e-5 x^5; as floats, close to it."""
    b, w = exact_lstsq(wampler_design().tolist(), WAMPLER_Y[2].split())
    assert [b, *w] == [Fraction(1, 10**k) for k in range(6)]
    b, w = exact_solution("wampler2")
    assert np.allclose([float(v) for v in [b, *w]], [10.0**-k for k in range(6)], rtol=1e-12)


def test_reference_agrees_with_lstsq_when_well_conditioned():
    X, y = design(50, 3, 10.0, 0)
    b, w = exact_lstsq(X.tolist(), y.tolist())
    sol = np.linalg.lstsq(np.column_stack([np.ones(50), X]), y, rcond=None)[0]
    np.testing.assert_allclose(sol, [float(v) for v in [b, *w]], rtol=1e-13)


def test_reference_weights_are_row_repetitions():
    """Integer weights solve exactly like repeated rows."""
    X, y = design(12, 2, 10.0, 0)
    sw = np.arange(12) % 3.0
    rep = np.repeat(np.arange(12), sw.astype(int))
    assert exact_lstsq(X.tolist(), y.tolist(), sw.tolist()) == exact_lstsq(
        X[rep].tolist(), y[rep].tolist()
    )


# ---------------------------------------------------------------------------------------------
# The requirements
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_condition_number_is_as_designed(name):
    """The standardised Gram condition number of each case (the table reports it)."""
    cond = measure(name).cond
    nominal = CASES[name].cond
    assert nominal / 1.1 <= cond <= nominal * 1.1, f"{name}: standardised cond {cond:.3g}"


@pytest.mark.parametrize("name", _params("default"))
def test_default_settings_meet_1e6(name):
    """GDLinearRegressor() at default settings: <= 1e-6 up to standardised cond 1e4."""
    fit = measure(name).default
    assert not fit.warnings, fit.warnings
    assert fit.converged
    assert fit.err <= REQUIRED, f"{name}: coef / intercept error {fit}"


@pytest.mark.parametrize("name", _params("tight"))
def test_tight_settings_meet_1e6(name):
    """GDLinearRegressor(tol=1e-15, max_iter=10000): <= 1e-6 up to standardised cond 1e7."""
    fit = measure(name).tight
    assert not fit.warnings, fit.warnings
    assert fit.converged
    assert fit.err <= REQUIRED, f"{name}: coef / intercept error {fit}"


@pytest.mark.parametrize("name", [c.name for c in _CASES if not c.tight_skip])
def test_tight_settings_are_no_worse_than_default(name):
    """Each relative error (coef, intercept) of TIGHT is at most twice the default's, or within
    the rounding floor of rounding_floor, a bound from the conditioning that holds for both.

    Where both settings reach the floor (most cases at cond <= 1e4), which of the two is
    smaller is decided by rounding, and so by the BLAS kernel and thread count: the
    intercept of "intercept cancels 1e3" is 1.7e-10 at default and 1.1e-9 tight under the
    SkylakeX and Haswell kernels, 1.7e-9 for both under Sandybridge, below its floor 1.2e-7
    (the cancellation amplifies the coefficients' rounding 4e3 times) in all of them. For the
    Wampler designs, whose standardised coefficients span five decades, the componentwise
    floor is above 1e-6: there test_tight_settings_meet_1e6 is the stronger check.
    """
    r = measure(name)
    coef_floor, intercept_floor = r.floor
    detail = f"default {r.default}; tight {r.tight}; floor {coef_floor:.1e} / {intercept_floor:.1e}"
    assert r.tight.coef_err <= max(2 * r.default.coef_err, coef_floor), detail
    assert r.tight.intercept_err <= max(2 * r.default.intercept_err, intercept_floor), detail


@pytest.mark.parametrize("name", [c.name for c in _CASES if not c.tight_skip])
def test_no_stopping_test_is_no_worse_than_default(name):
    """More precision never gives less (issue 22, deliverable 4): with ``tol=None`` each
    relative error (coef, intercept) is at most twice the default's, or within the rounding
    floor (as test_tight_settings_are_no_worse_than_default), and such a fit is reported
    exact ("tol") or "stalled", never a drift to max_iter."""
    r = measure(name)
    coef_floor, intercept_floor = r.floor
    detail = f"default {r.default}; tol=None {r.exhaustive}; floor {coef_floor:.1e}"
    assert r.exhaustive.coef_err <= max(2 * r.default.coef_err, coef_floor), detail
    assert r.exhaustive.intercept_err <= max(2 * r.default.intercept_err, intercept_floor), detail
    assert r.exhaustive.n_iter < EXHAUSTIVE["max_iter"], detail


_EXTENDED = np.finfo(np.longdouble).eps < np.finfo(np.float64).eps


@pytest.mark.skipif(
    not _EXTENDED,
    reason="this platform's long double is float64: refinement sums its residuals in float64",
)
@pytest.mark.parametrize("name", [c.name for c in _CASES if c.name.startswith("wampler")])
def test_default_is_at_least_as_accurate_as_lstsq_on_certified_polynomials(name):
    """NIST's Wampler polynomials (standardised condition number 2.7e6): the default fit's
    log relative error is at least numpy.linalg.lstsq's, coefficients and intercept each
    (issue 14, deliverable 4). Refinement on the data sums residuals in extended precision
    for small problems (gdlinreg._loop.refine._extended_gradient); before it did, Wampler 3
    and 4 came out at 2e-7 and 5e-7 where lstsq reaches 2e-10 and 1.4e-8."""
    r = measure(name)
    assert not r.default.warnings, r.default.warnings
    assert r.default.converged
    # The intercept's floor: rounding each coefficient to float64 alone moves the intercept
    # by eps * sum_j |mean_j w_j| (here some 6e5 times the intercept itself), which lstsq may
    # undercut by luck.
    X, _, sw = CASES[name].data()
    b, w = exact_solution(name)
    means = np.average(X, axis=0, weights=sw)
    terms = np.abs(means) @ np.abs([float(v) for v in w])
    floor = 4 * np.finfo(float).eps * terms / abs(float(b))
    assert r.default.coef_err <= max(r.lstsq[0], 1e-15), f"{name}: {r.default} vs {r.lstsq}"
    assert r.default.intercept_err <= max(r.lstsq[1], floor), f"{name}: {r.default}, {floor:.1e}"


def test_rounding_floor_is_below_the_requirement():
    """The floor does not make the test above vacuous: where the default settings are held
    to 1e-6, it is at most a quarter of that."""
    for case in _CASES:
        if applies(case, "default"):
            assert max(measure(case.name).floor) <= REQUIRED / 4, case.name


# Each requirement class over five random designs, so that no pass above is a lucky draw.
_CLASSES = [
    ("cond 1e4", 1e4, 0.0, 1.0, {}),
    ("cond 1e4, offset 1e6 spread 1", 1e4, 1e6, 1.0, {}),
    ("cond 1e4, offset 1e8 spread 1e-2", 1e4, 1e8, 1e-2, {}),
    ("cond 1e6, offset 1e8 spread 1e-1, tight", 1e6, 1e8, 1e-1, TIGHT),
    ("cond 1e7, tight", 1e7, 0.0, 1.0, TIGHT),
    ("cond 1e7, offset 1e6 spread 1, tight", 1e7, 1e6, 1.0, TIGHT),
]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(
    ("cond", "offset", "spread", "params"),
    [pytest.param(*c[1:], id=c[0]) for c in _CLASSES],
)
def test_requirement_holds_across_seeds(cond, offset, spread, params, seed):
    X, y = design(200, 8, cond, seed, offset, spread)
    fit = fit_gd(X, y, None, exact_lstsq(X.tolist(), y.tolist()), **params)
    assert not fit.warnings, fit.warnings
    assert fit.err <= REQUIRED, str(fit)


def test_running_on_to_max_iter_does_not_degrade_the_fit():
    bad = []
    for seed in range(5):
        X, y = cancelling_design(200, 6, 1e4, seed, 1e6, 1.0, 1e3)
        exact = exact_lstsq(X.tolist(), y.tolist())
        res = gradient_descent(X, y, tol=1e-15, max_iter=10_000, return_path=True)
        # The fit that max_iter=k would return is the path's k-th iterate.
        for k in range(1000, res.n_iter + 1, 1000):
            err = max(relative_errors(res.coef_path[k], res.intercept_path[k], exact))
            if err > REQUIRED:
                bad.append(f"seed {seed}, max_iter={k}: {err:.1e}")
    assert not bad, bad


def test_tol_1e14_is_tight_enough_for_wampler4():
    X, y, _ = CASES["wampler4"].data()
    fit = fit_gd(X, y, None, exact_solution("wampler4"), tol=1e-14, max_iter=10_000)
    assert fit.err <= REQUIRED, str(fit)


def test_unit_weights_match_no_weights():
    X, y, _ = CASES["cond 1e4, offset 1e8 spread 1e-2"].data()
    a = GDLinearRegressor().fit(X, y)
    b = GDLinearRegressor().fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_scaling_all_weights_does_not_change_the_fit():
    X, y, _ = CASES["cond 1e4, offset 1e8 spread 1e-2"].data()
    a = GDLinearRegressor().fit(X, y)
    b = GDLinearRegressor().fit(X, y, sample_weight=np.full(len(y), 1e4))
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


def table() -> str:
    head = (
        "| case | std. cond | gdlinreg default (coef / intercept, n_iter) | gdlinreg tight "
        "| lstsq | LinearRegression | requirement |"
    )
    lines = [head, "|" + "---|" * 7]
    for case in _CASES:
        r = measure(case.name)
        verdicts = []
        if applies(case, "default"):
            verdicts.append("default " + ("PASS" if r.default.err <= REQUIRED else "FAIL"))
        verdicts.append("tight " + ("PASS" if r.tight.err <= REQUIRED else "FAIL"))
        lines.append(
            f"| {case.name} | {r.cond:.3g} | {r.default} | {r.tight} "
            f"| {r.lstsq[0]:.1e} / {r.lstsq[1]:.1e} | {r.linreg[0]:.1e} / {r.linreg[1]:.1e} "
            f"| {', '.join(verdicts)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
