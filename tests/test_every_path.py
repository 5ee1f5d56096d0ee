"""Every path keeps the promise (issue 22, deliverable 7): a property test over every path.

The promise: whenever a fit reports ``converged_`` (``stop_reason_ == "tol"``), its
coefficients (and intercept) are within the documented tolerance of an independent
reference; otherwise a ``ConvergenceWarning`` was raised ("max_iter" with a ``tol``, and
"stalled"; ``tol=None`` with "max_iter" is documented as silent, and is checked to be).

Problems are drawn by Hypothesis: dense and sparse (CSR) X, column offsets up to 1.5e6 times
the spread and scales from 1e-4 to 1e4, sample weights (some zero), fewer rows than columns,
duplicate, near-collinear (1e-9 to 1e-2) and one-hot columns (rank deficiency with an
intercept), one or two targets, with or without an intercept. They are fitted by ``fit``, by
``partial_fit`` over 1-4 batches (the promise checked after every batch, against the data
seen so far) and on Dask (row chunks), by every solver ("auto", "cg", "agd", textbook "gd",
"svrg" with a ``batch_size``), Gram and data form, ``tol`` in {1e-6, 1e-10, 1e-14, None},
without a penalty, with "l2" (alpha 1e-8 to 0.1), "l1" and "elasticnet".

**The reference** (NumPy only) is the minimiser in the documented coordinates (README, "Rank
deficiency"): the rows times the square roots of the normalised weights; with an intercept,
each column centred at its weighted mean and divided by its weighted standard deviation,
without one divided by its weighted root mean square. Without a penalty it is the
minimum-norm least-squares solution there (an SVD; columns with nothing to fit get no
coefficient), with ``penalty="l2"`` the ridge solution of the same system with the penalty's
rows appended (``test_ridge_reference_is_scikit_learns`` checks it against
``Ridge(alpha=alpha * sum(sample_weight), solver="svd")``). Textbook ``solver="gd"``
iterates in the user's coordinates, the intercept one of them, and its reference is the
minimum-norm solution over (coefficients, intercept) there. Centring is done as what it is,
the projection off the weighted column of ones, repeated once after subtracting the
(two-pass) mean: the mean is a rounded float, and its rounding (eps * |mean|, along the ones)
would otherwise be a spurious direction of the scaled design. For "l1" and "elasticnet" only
the claim/warning side is checked.

**The tolerance** is derived from the documented criterion (``GDLinearRegressor``'s
``tol``): the step ``s = D^-1 grad J`` (``D`` the Hessian's diagonal), in units of y
(coefficient times the column's spread), is at most ``tol`` times the largest such
coefficient plus the rounding floor (the user guide: "a few machine epsilons of the size of
the prediction's terms"). The error ``e`` then satisfies ``H e = D s`` (``H`` the Hessian,
``e`` in its range: every path starts from zero or drops null directions), so

    |e| <= |H^+ D| * sqrt(q) * (tol * max|u| + floor),

``u`` the coefficients in units of y, ``q`` the number of coordinates; ``|H^+ D|`` is the
condition number of the standardised Gram matrix (nonzero spectrum) without a penalty: the
README's "the distance to the solution is at most about the condition number times that
step". The test allows 10 times that, with the floor ``64 eps sqrt(d)`` times the terms and
y's spread (``tests/test_rank_deficiency.py`` allows the same). The terms are the centred
ones (coefficients times spreads) for in-memory Gram-form ``fit``, whose statistics are
centred exactly, and X's own (coefficients times root mean squares, plus ``|mean(y)|``)
where the passes or statistics of the path see X's own values: the data form
(``precompute=False``, "svrg" in ``fit``: ``X w - mean(x) @ w``), textbook "gd", and
statistics merged over batches (``partial_fit``) or chunks (Dask). Where the bound is vacuous
(>= 0.1), only the claim/warning consistency is asserted.

Full-rank fits that are refined on the rows (README, "Ill-conditioning": Gram-form ``fit``
by "auto", "cg" or "agd", no penalty or "l2", standardised Gram condition number above 1e6)
are also held to the accuracy of a QR solve, ``1e3 * eps * (1 + r) * (kappa + kappa**2 *
rho)``: ``kappa`` the condition number of the scaled design with unit columns, ``rho = |res| /
(sigma_max |u|)`` its relative residual (the classical perturbation bound of least squares,
which the reference's own SVD obeys too) and ``r`` the largest |mean| / spread, as the rows
are centred at a rounded mean. (On rank-deficient designs with a nearly flat direction the
minimum-norm part is fixed by the statistics only to about eps times the Gram condition
number, which the documented bound allows: there the tighter bound is not asserted.)

A singular value of the scaled design between 1e-15 and 1e-11 of the largest is at the edge
of float64: rank deficiency to some paths, resolvable to others; such a problem gets only the
consistency check.

**Violations found** by this test, now fixed and kept as regression tests below: data-form
conjugate gradients drifting along the null space of rank-deficient designs and reporting
"tol" far from the minimum (``test_data_form_cg_past_the_minimum_is_not_claimed``: the
data form's verdict now reads the spectrum and refines); refinement losing the minimum-norm
answer under offsets (``test_refinement_keeps_the_minimum_norm_with_offsets``); the Gram form
of CSR X claiming "tol" with cross-products that lost ``eps * (mean / spread)**2``
(``test_sparse_gram_with_offsets_keeps_the_promise``). **Still open**, recorded as strict
xfails whose regions the property tests skip, each skip naming its xfail: on tiny problems
(2-3 rows) with offsets 1e6 or more, data-form conjugate gradients and the Gram form of CSR X
(whose cross-products are then not even positive semi-definite) raise ``DivergenceError`` on
well-posed problems (``test_*_does_not_diverge``): an error, not a false claim.

Budget: the examples of each property are multiples of the Hypothesis profile's
(tests/conftest.py): under ``ci`` (the default, derandomised) the module takes about 45 s on
2 cores; ``HYPOTHESIS_PROFILE=long`` (25 times the examples, random) is for local runs.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from test_side_paths import near_collinear  # (the design, defined once)

from gdlinreg import DivergenceError, GDLinearRegressor

EPS = float(np.finfo(np.float64).eps)
FACTOR = {"half_mse": 0.5, "mse": 1.0}
VACUOUS = 0.1  # a relative bound this large would not tell a wrong answer
SHARP = 1e-6  # the standardised Gram condition number above which fits are refined (README)
# Singular values of the scaled design between these shares of the largest are at the edge of
# float64: rank deficiency to some paths, resolvable to others (see the module docstring).
EDGE = (1e-15, 1e-11)

# The examples of each test, multiples of the profile's (40 in "ci", 1000 in "long").
BUDGET = settings.default.max_examples


# ----------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    X: np.ndarray  # dense float64 (the container is chosen by the test)
    y: np.ndarray  # (n,) or (n, k)
    w: np.ndarray | None
    fit_intercept: bool
    label: str  # how it was made, for the failure message

    def rows(self, index):
        w = None if self.w is None else self.w[index]
        return replace(self, X=self.X[index], y=self.y[index], w=w)


@st.composite
def problems(draw, max_samples=50, max_features=6, weights=True):
    """A regression problem over the shapes and structures of the module docstring."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    d = draw(st.integers(1, max_features))
    wide = draw(st.integers(0, 3)) == 0  # n <= d + 1 in a quarter of the draws
    n = draw(st.integers(2, d + 1) if wide else st.integers(d + 2, max_samples))
    structure = draw(st.sampled_from(["plain", "plain", "collinear", "duplicate", "onehot"]))
    tame = draw(st.integers(0, 2)) == 0  # unit scales, no offsets (where "gd" converges)
    Z = rng.standard_normal((n, d))
    if draw(st.booleans()):  # zeros, for sparse X
        Z[rng.random((n, d)) < 0.5] = 0.0
    offsets = np.zeros(d)
    scales = np.ones(d)
    if not tame:
        top = draw(st.sampled_from([0.0, 1.0, 1e3, 1e6]))
        offsets = top * rng.uniform(0.5, 1.5, d) * rng.choice([-1.0, 1.0], d)
        scales = 10.0 ** rng.uniform(-4, 4, d)
    X = (Z + offsets) * scales
    label = f"seed={seed} n={n} d={d} {structure} tame={tame}"
    if d >= 2 and structure == "collinear":
        i, j = rng.choice(d, 2, replace=False)
        delta = 10.0 ** draw(st.integers(-9, -2))
        X[:, j] = X[:, i] * (scales[j] / scales[i]) + delta * scales[j] * rng.standard_normal(n)
        label += f" x{j}=x{i}+{delta:g}*noise"
    elif d >= 2 and structure == "duplicate":
        i, j = rng.choice(d, 2, replace=False)
        X[:, j] = X[:, i] * draw(st.sampled_from([1.0, -3.0, 0.1]))
        label += f" x{j}~x{i}"
    elif d >= 2 and structure == "onehot":
        m = draw(st.integers(2, min(d, 4)))
        X[:, :m] = np.eye(m)[rng.integers(0, m, n)]
        label += f" onehot({m})"
    k = draw(st.sampled_from([None, None, 2]))
    beta = rng.standard_normal((d,) if k is None else (d, k))
    beta = (beta.T / (scales * np.maximum(np.abs(Z).std(axis=0), 0.1))).T  # in units of y
    noise = draw(st.sampled_from([0.0, 1e-3, 1.0]))
    y = X @ beta + draw(st.sampled_from([0.0, 1e3])) + noise * rng.standard_normal(beta.shape[1:])
    y = y + noise * rng.standard_normal(y.shape)
    w = None
    if weights and draw(st.booleans()):
        w = rng.uniform(0.1, 2.0, n)
        w[rng.random(n) < draw(st.sampled_from([0.0, 0.3]))] = 0.0
        w[rng.choice(n, 2, replace=False)] = 1.0  # at least two weighted rows
        label += f" weights({np.sum(w == 0)} zero)"
    fit_intercept = draw(st.integers(0, 3)) > 0
    return Problem(X, y, w, fit_intercept, label)


# ----------------------------------------------------------------------------- parameters


@st.composite
def hyperparameters(draw, batches=False, dask=False):
    """Every solver, several tols, with and without penalties. (On Dask each pass of the data
    form is a ``dask.compute``: there its budget is kept to 100 passes.)"""
    params = {"loss": draw(st.sampled_from(["half_mse", "mse"]))}
    solver = draw(st.sampled_from(["auto", "auto", "cg", "agd", "gd", "svrg"]))
    penalty = draw(st.sampled_from([None, None, None, "l2", "l2", "l1", "elasticnet"]))
    if penalty == "l2":
        params.update(penalty="l2", alpha=draw(st.sampled_from([1e-8, 1e-4, 1e-1])))
    elif penalty is not None:
        params.update(penalty=penalty, alpha=draw(st.sampled_from([1e-6, 1e-3])))
        if solver == "cg":  # (refused: conjugate gradients take at most an l2 penalty)
            solver = "agd"
    if solver == "svrg":
        params["batch_size"] = draw(st.integers(1, 16))
    params["solver"] = solver
    tol = draw(st.sampled_from([1e-6, 1e-10, 1e-10, 1e-14, None]))
    params["tol"] = tol
    params["max_iter"] = draw(st.sampled_from([30, 1000])) if tol is None else 1000
    if solver == "gd":
        params["max_iter"] = 3000
    if not batches:
        params["precompute"] = draw(st.sampled_from(["auto", "auto", False]))
    if dask and (params.get("precompute") is False or solver == "svrg"):
        params["max_iter"] = min(params["max_iter"], 100)
    params["random_state"] = 0
    return params


# ----------------------------------------------------------------------------- reference


@dataclass
class Reference:
    coef: np.ndarray  # (d, k): the minimiser's coefficients
    intercept: np.ndarray  # (k,)
    u: np.ndarray  # (d, k): coefficients in units of y (times the column's spread)
    spread: np.ndarray  # (d,)
    bound: np.ndarray  # (k,): the relative error of u that a "tol" claim allows
    intercept_bound: np.ndarray  # (k,): the intercept's absolute error allowed
    kappa: float  # the condition number of the scaled design, unit columns (nonzero spectrum)
    offset_ratio: float  # the largest |mean| / spread of a column (weighted rows)
    refined_bound: np.ndarray  # (k,): the accuracy of a QR solve (refined paths)
    edge: bool  # a singular value at the edge of float64: consistency only
    deficient: bool  # rank deficient (without a penalty): the minimum norm decides


def reference(problem: Problem, params: dict, tol: float | None, raw: bool = False) -> Reference:
    """The minimiser of ``problem`` under ``params`` in the documented coordinates, and the
    error a "tol" claim allows (see the module docstring). ``raw``: the path forms its
    predictions from X's own values (the data form), whose terms are then the floor's."""
    X, fit_intercept = problem.X, problem.fit_intercept
    n, d = X.shape
    Y = problem.y.reshape(n, -1)
    s = np.ones(n) if problem.w is None else problem.w
    p = s / s.sum()
    root = np.sqrt(p)[:, None]
    live = p > 0
    # Columns with nothing to fit (on the weighted rows): constant with an intercept, zero
    # without one. They get no coefficient.
    constant = np.ptp(X[live], axis=0) == 0 if fit_intercept else ~X[live].any(axis=0)
    mean = p @ X
    # Corrected two-pass: the rounding of the mean is a multiple of the column of ones, which
    # centring would otherwise turn into a spurious direction of size eps * |mean| / spread.
    mean = mean + p @ (X - mean)
    offset = mean if fit_intercept else np.zeros(d)
    spread = np.where(constant, 0.0, np.sqrt(p @ (X - offset) ** 2))
    unit = np.where(spread > 0, spread, 1.0)
    y_offset = p @ Y if fit_intercept else np.zeros(Y.shape[1])
    y_spread = np.sqrt(p @ (Y - y_offset) ** 2)
    c = FACTOR[params.get("loss", "half_mse")]
    ridge = params.get("alpha", 1e-4) / (2 * c) if params.get("penalty") == "l2" else 0.0
    gd = params.get("solver") == "gd"
    if gd:
        # The user's coordinates, the intercept one of them: theta = (w, b).
        M = root * (np.c_[X, np.ones(n)] if fit_intercept else X)
        target = root * Y
        to_u = np.r_[spread, 1.0] if fit_intercept else spread
        lam = np.r_[np.full(d, ridge), 0.0] if fit_intercept else np.full(d, ridge)
    else:
        M = root * (X - offset) / unit
        M[:, constant] = 0.0
        target = root * (Y - y_offset)
        if fit_intercept:
            # Centring is the projection off the weighted column of ones; the mean is rounded
            # to a float (eps * |mean| off), which would leave a spurious direction of
            # eps * |mean| / spread along the ones: project it off once more, at the scale
            # of the centred values.
            M -= root * (root.T @ M)
            target = target - root * (root.T @ target)
        to_u = np.ones(d)
        lam = ridge / unit**2
    q = M.shape[1]
    # One SVD of the (penalty-augmented) scaled design A, H = A'A: the minimiser (minimum
    # norm without a penalty) and H^+, both without forming H (which squares the condition).
    A, b = M, target
    if ridge:  # the l2 penalty's rows appended: min |M t - target|^2 + sum lam t^2
        A = np.vstack([M, np.diag(np.sqrt(lam))])
        b = np.vstack([target, np.zeros((q, Y.shape[1]))])
    U, sv, Vt = np.linalg.svd(A, full_matrices=False)
    top = sv[0] if sv.size and sv[0] > 0 else 1.0
    edge = bool(np.any((sv > EDGE[0] * top) & (sv < EDGE[1] * top)))
    keep = sv > 1e-13 * top  # (inside EDGE: which side a singular value falls matters not)
    V, kept = Vt[keep].T, sv[keep]
    theta = V @ ((U[:, keep].T @ b) / kept[:, None])
    residual = A @ theta - b
    Hplus = (V / kept**2) @ V.T
    curvature = np.sum(A * A, axis=0)  # H's diagonal
    # The condition number of A with unit columns (the solver's Jacobi-scaled Hessian is
    # A'A's with a unit diagonal): what decides refinement and what a QR solve resolves.
    # (Without a penalty the columns of M are unit already, or zero.)
    unit_columns = np.sqrt(np.where(curvature > 0, curvature, 1.0))
    scaled = np.linalg.svd(A / unit_columns, compute_uv=False)
    scaled = scaled[scaled > 1e-13 * scaled[0]] if scaled.size and scaled[0] > 0 else [1.0]
    kappa = float(scaled[0] / scaled[-1])
    if gd:
        coef = theta[:d]
        intercept = theta[d] if fit_intercept else np.zeros(Y.shape[1])
        u = coef * spread[:, None]
    else:
        u = theta
        coef = theta / unit[:, None]
        coef[constant] = 0.0
        intercept = y_offset - offset @ coef
    # |H^+ D| in units of y: the error of the coefficients per unit of the tested step.
    # (A constant column's coordinate has no curvature; the solver gives it any: the largest.)
    curvature[curvature <= 0] = max(float(curvature.max()), np.finfo(float).tiny)
    if np.all(to_u > 0):
        T = (to_u[:, None] * Hplus * curvature[None, :]) / to_u[None, :]
        F = float(np.linalg.norm(T, 2))
    else:
        F = np.inf  # (gd: a constant column, whose step the test does not see)
    # The tested step: tol times the largest coefficient (in units of y; with gd's intercept
    # among the coordinates, also the intercept) plus the rounding floor: a few eps of the
    # terms of the prediction and of y's spread.
    magnitude = np.sqrt(spread**2 + (mean - (0.0 if raw else offset)) ** 2)
    terms = np.abs(coef).T @ magnitude
    if raw:  # X w - mean(x) @ w, against y - mean(y)
        terms = 2 * terms + np.abs(y_offset)
    largest = np.max(np.abs(u), axis=0)
    if gd and fit_intercept:
        terms = terms + np.abs(intercept)
        largest = np.maximum(largest, np.abs(intercept))
    floor = 64 * EPS * np.sqrt(d) * (terms + y_spread)
    step = np.sqrt(q) * ((tol or 0.0) * largest + floor)
    size = np.linalg.norm(u, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(size > 0, 10 * F * step / size, np.inf)
        # The intercept follows the coefficients (b = mean(y) - mean(x) @ w), plus rounding.
        lever = np.linalg.norm(np.where(spread > 0, mean / unit, 0.0))
        intercept_bound = bound * size * (1 + lever) + 64 * EPS * (
            np.abs(y_offset) + np.abs(coef).T @ np.abs(mean) + np.abs(intercept)
        )
        rho = np.linalg.norm(residual, axis=0) / (top * size)
        # (1 + r: the rows are centred at a rounded mean, eps * |mean| off, as a QR solve of
        # the raw design would be perturbed)
        ratio = np.max(np.abs(mean) / unit, initial=0.0) if fit_intercept else 0.0
        refined_bound = 1e3 * EPS * (1 + ratio) * (kappa + kappa**2 * rho)
    return Reference(
        coef=coef,
        intercept=np.asarray(intercept, dtype=float).reshape(-1),
        u=u,
        spread=spread,
        bound=np.nan_to_num(bound, nan=np.inf),
        intercept_bound=np.nan_to_num(intercept_bound, nan=np.inf),
        kappa=kappa,
        offset_ratio=float(np.max(np.abs(mean) / unit, initial=0.0)),
        refined_bound=np.nan_to_num(refined_bound, nan=np.inf),
        edge=edge,
        deficient=bool(kept.size < q),
    )


# ----------------------------------------------------------------------------- the check


def raw_terms(params: dict, how: str, container: str) -> bool:
    """Whether the fit's gradients or statistics carry the rounding of X's own values, not of
    the centred ones, so that the floor is the user guide's "a few machine epsilons of the size
    of the prediction's terms" with the terms as X's: the data form (``precompute=False``, and
    "svrg"'s passes in ``fit``), which forms ``X w - mean(x) @ w``; and statistics merged from
    batches (``partial_fit``) or chunks (Dask), whose means differ by rounded amounts."""
    data_form = how == "fit" and (
        params.get("precompute", "auto") is False or params.get("solver") == "svrg"
    )
    plain = params.get("solver") == "gd"  # (X's own coordinates)
    return data_form or plain or how == "partial_fit" or container == "dask"


def refined_path(params: dict, how: str, container: str) -> bool:
    """Whether the fit is refined on the rows where ill-conditioned (user guide, "What is
    refined"): a Gram-form ``fit`` (not ``partial_fit``) of a squared loss with no penalty
    or "l2", by "auto", "cg" or "agd"."""
    return (
        how == "fit"
        and params.get("solver", "auto") in ("auto", "cg", "agd")
        and params.get("penalty") in (None, "l2")
        and params.get("precompute", "auto") != False  # noqa: E712  ("auto" or True)
        and "batch_size" not in params
    )


@dataclass
class Outcome:
    coef: np.ndarray
    intercept: np.ndarray
    converged: bool
    stop_reason: str
    warned: list


def outcome(model, caught) -> Outcome:
    return Outcome(
        coef=np.array(model.coef_, dtype=float, copy=True),
        intercept=np.array(model.intercept_, dtype=float, copy=True),
        converged=bool(model.converged_),
        stop_reason=str(model.stop_reason_),
        warned=list(caught),
    )


def call(method, *args, **kwargs):
    """Run ``method`` recording every warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        method(*args, **kwargs)
    return caught


def check_promise(out: Outcome, problem: Problem, params: dict, how: str, container: str):
    """A "tol" claim is within the tolerance of the reference; any other stop warned."""
    tol = params.get("tol", 1e-10)
    # A batch_size above the (training) rows is clipped, and says so; never without one.
    clipped = [w for w in out.warned if "is larger than the" in str(w.message)]
    batch = params.get("batch_size")
    assert not clipped or batch is not None, [str(w.message) for w in clipped]
    if how == "fit" and batch is not None and batch > len(problem.y):
        assert clipped, (problem.label, params, container)
    categories = {w.category for w in out.warned if w not in clipped}
    assert categories <= {ConvergenceWarning}, [str(w.message) for w in out.warned]
    context = f"{problem.label} {params} {how} {container}: {out.stop_reason}"
    if not out.converged:
        assert out.stop_reason in ("max_iter", "stalled"), context
        if out.stop_reason == "max_iter" and tol is None:
            assert not categories, context  # documented: no warning
        else:
            assert ConvergenceWarning in categories, context
        return
    assert out.stop_reason == "tol", context
    if params.get("penalty") in ("l1", "elasticnet"):
        return  # (the claim/warning side only)
    ref = reference(problem, params, tol, raw=raw_terms(params, how, container))
    if ref.edge:
        return
    d = problem.X.shape[1]
    coef = out.coef.reshape(-1, d).T  # (d, k)
    intercept = out.intercept.reshape(-1)
    bound = ref.bound
    refined = refined_path(params, how, container)
    if refined and not ref.deficient and ref.kappa**2 > 10 / SHARP:
        bound = np.minimum(bound, ref.refined_bound)
    error = np.linalg.norm((coef - ref.coef) * ref.spread[:, None], axis=0)
    size = np.linalg.norm(ref.u, axis=0)
    relative = error / np.where(size > 0, size, 1.0)
    for j in np.flatnonzero((bound < VACUOUS) & (size > 0)):
        assert relative[j] <= bound[j], (
            f"{context}: relative error {relative[j]:.3g} > bound {bound[j]:.3g} "
            f"(kappa {ref.kappa:.3g}, target {j})"
        )
        gap = abs(intercept[j] - ref.intercept[j])
        assert gap <= ref.intercept_bound[j], (
            f"{context}: intercept error {gap:.3g} > {ref.intercept_bound[j]:.3g} (target {j})"
        )


# ----------------------------------------------------------------------------- containers


def as_container(problem: Problem, container: str, chunks=None):
    X, y, w = problem.X, problem.y, problem.w
    if container == "csr":
        return sp.csr_matrix(X), y, w
    if container == "dask":
        import dask.array as da

        rows = chunks or max(1, X.shape[0] // 3)
        Xd = da.from_array(X, chunks=(rows, -1))
        yd = da.from_array(y, chunks=(rows, *y.shape[1:]))
        wd = None if w is None else da.from_array(w, chunks=rows)
        return Xd, yd, wd
    return X, y, w


def data_form_cg(params: dict, how: str, container: str) -> bool:
    """Conjugate gradients on the data form (dense, CSR or Dask), the path of the known
    violations of test_data_form_cg_past_the_minimum_* (xfail): they go on past the minimum,
    and can raise DivergenceError or drift to a far point that they then report converged."""
    return (
        how == "fit"
        and params.get("solver", "auto") in ("auto", "cg")
        and params.get("precompute", "auto") is False
        and params.get("penalty") in (None, "l2")
        and "batch_size" not in params
    )


def sparse_cross_products(params: dict, how: str, container: str) -> bool:
    """The known violation of test_sparse_gram_with_offsets_keeps_the_promise (xfail):
    the Gram form of CSR X forms its cross-products as ``X'WX - W mean mean'``, which loses
    ``eps * (|mean| / spread)**2`` relative, and the fit still reports "tol"."""
    gram = how == "partial_fit" or (
        params.get("precompute", "auto") is not False and "batch_size" not in params
    )
    return container == "csr" and gram


def offset_ratio(problem: Problem) -> float:
    """The largest |mean| / spread of a column (weighted rows), with an intercept."""
    if not problem.fit_intercept:
        return 0.0
    w = np.ones(len(problem.X)) if problem.w is None else problem.w
    mean = np.average(problem.X, axis=0, weights=w)
    spread = np.sqrt(np.average((problem.X - mean) ** 2, axis=0, weights=w))
    return float(np.max(np.abs(mean) / np.where(spread > 0, spread, np.inf), initial=0.0))


def fit_or_known_divergence(method, problem, params, how, container, *args, **kwargs):
    """``call(method, ...)``, or None where it raises one of the recorded DivergenceErrors."""
    try:
        return call(method, *args, **kwargs)
    except DivergenceError:
        if data_form_cg(params, how, container):
            return None  # (xfail: test_data_form_cg_past_the_minimum_does_not_diverge)
        if sparse_cross_products(params, how, container) and offset_ratio(problem) > 100:
            return None  # (xfail: test_sparse_gram_with_offsets_does_not_diverge)
        raise


def fit_and_check(problem: Problem, params: dict, container: str):
    model = GDLinearRegressor(fit_intercept=problem.fit_intercept, **params)
    X, y, w = as_container(problem, container)
    caught = fit_or_known_divergence(
        model.fit, problem, params, "fit", container, X, y, sample_weight=w
    )
    if caught is not None:
        check_promise(outcome(model, caught), problem, params, "fit", container)


# ----------------------------------------------------------------------------- properties

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


@settings(max_examples=20 * BUDGET, deadline=None, suppress_health_check=_SLOW)
@given(
    problem=problems(),
    params=hyperparameters(),
    container=st.sampled_from(["dense", "dense", "csr"]),
)
def test_fit_keeps_the_promise(problem, params, container):
    fit_and_check(problem, params, container)


@settings(max_examples=10 * BUDGET, deadline=None, suppress_health_check=_SLOW)
@given(
    problem=problems(),
    params=hyperparameters(batches=True),
    container=st.sampled_from(["dense", "csr"]),
    cuts=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=3),
)
def test_partial_fit_keeps_the_promise_after_every_batch(problem, params, container, cuts):
    n = problem.X.shape[0]
    edges = np.unique(np.r_[0, np.round(np.array(cuts) * n).astype(int), n])
    edges = np.unique(np.clip(edges, 0, n))
    if problem.w is not None:
        # Each batch needs a positive weight (a batch of zero weights is refused).
        w = problem.w.copy()
        for a, b in itertools.pairwise(edges):
            if not w[a:b].any():
                w[a] = 1.0
        problem = replace(problem, w=w)
    model = GDLinearRegressor(fit_intercept=problem.fit_intercept, **params)
    for a, b in itertools.pairwise(edges):
        X, y, w = as_container(problem.rows(slice(a, b)), container)
        seen = problem.rows(slice(0, b))
        method = model.partial_fit
        caught = fit_or_known_divergence(
            method, seen, params, "partial_fit", container, X, y, sample_weight=w
        )
        if caught is None:
            return
        check_promise(outcome(model, caught), seen, params, "partial_fit", container)


@settings(max_examples=BUDGET, deadline=None, suppress_health_check=_SLOW)
@given(problem=problems(max_samples=30), params=hyperparameters(dask=True))
def test_dask_fit_keeps_the_promise(problem, params):
    pytest.importorskip("dask.array")
    fit_and_check(problem, params, "dask")


# ----------------------------------------------------------------------------- examples


def centred_lstsq(X, y):
    """Least squares on the centred columns scaled to unit spread, mapped back."""
    xm, ym = X.mean(axis=0), y.mean()
    sd = X.std(axis=0)
    coef = np.linalg.lstsq((X - xm) / sd, y - ym, rcond=None)[0] / sd
    return coef, ym - xm @ coef


def relative(coef, expected):
    return float(np.max(np.abs(coef - expected)) / np.max(np.abs(expected)))


@pytest.mark.parametrize("tol", [1e-10, 1e-15])
def test_sparse_near_collinear_is_refined_or_warns(tol):
    # Issue 22: CSR was reported "tol" at relative error 1.6e-2.
    X, y = near_collinear()
    model = GDLinearRegressor(tol=tol)
    caught = call(model.fit, sp.csr_matrix(X), y)
    expected = centred_lstsq(X, y)[0]
    if model.converged_:
        assert relative(model.coef_, expected) <= 1e-6
    else:
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
    problem = Problem(X, y, None, True, "issue 22 near-collinear")
    check_promise(outcome(model, caught), problem, {"tol": tol}, "fit", "csr")


def test_partial_fit_of_near_collinear_data_is_accurate_or_stalled():
    # Issue 22: four batches of the same data were reported "tol" at relative error 4e-4.
    # The statistics alone resolve the coefficients to about 7e-4 (Gram condition 3e12): the
    # fit now says "stalled" after every batch, with a warning that says so.
    X, y = near_collinear()
    expected = centred_lstsq(X, y)[0]
    model = GDLinearRegressor()
    for part in np.array_split(np.arange(len(y)), 4):
        caught = call(model.partial_fit, X[part], y[part])
        seen = Problem(X[: part[-1] + 1], y[: part[-1] + 1], None, True, "issue 22")
        check_promise(outcome(model, caught), seen, {}, "partial_fit", "dense")
    if model.converged_:
        assert relative(model.coef_, expected) <= 1e-6
    else:
        assert model.stop_reason_ == "stalled"
        messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
        assert any("stalled" in message for message in messages), messages


@pytest.mark.parametrize("sparse", [False, True])
def test_one_hot_partial_fit_equals_fit_and_the_minimum_norm_answer(sparse):
    # Issue 22: partial_fit in two batches was 2.2e-2 from the minimum-norm answer.
    rng = np.random.default_rng(0)
    n = 200
    cat = rng.integers(0, 3, n)
    X = np.c_[rng.standard_normal(n) * 10 + 50, np.eye(3)[cat]]
    y = 2 * X[:, 0] + np.array([1.0, -2.0, 0.5])[cat] + rng.standard_normal(n)
    wrap = sp.csr_matrix if sparse else np.asarray
    fitted = GDLinearRegressor()
    caught = call(fitted.fit, wrap(X), y)
    assert fitted.converged_ and not caught
    streamed = GDLinearRegressor()
    for part in (slice(0, 100), slice(100, 200)):
        caught = call(streamed.partial_fit, wrap(X[part]), y[part])
    assert streamed.converged_ and not caught
    problem = Problem(X, y, None, True, "issue 22 one-hot")
    ref = reference(problem, {}, 1e-10)
    assert ref.bound[0] < 1e-6
    for model in (fitted, streamed):
        error = np.linalg.norm((model.coef_ - ref.coef[:, 0]) * ref.spread)
        assert error <= ref.bound[0] * np.linalg.norm(ref.u)
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-9, atol=1e-12)
    # The centred one-hot columns sum to zero: the null direction is (0, s1, s2, s3) in
    # standardised coordinates (s the columns' spreads), and the minimum-norm answer is
    # orthogonal to it.
    u = streamed.coef_ * ref.spread
    assert abs(u[1:] @ ref.spread[1:]) <= 1e-9 * np.linalg.norm(u) * np.linalg.norm(ref.spread)


@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_reference_is_scikit_learns(weighted):
    # The module's l2 reference equals Ridge(alpha * S, solver="svd") (tests/conftest.py's
    # independence: on well-scaled data, where Ridge's SVD of the raw columns is accurate).
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 4)) + 1.0
    y = X @ [1.0, -2.0, 0.5, 3.0] + rng.standard_normal(30)
    w = rng.uniform(0.5, 2.0, 30) if weighted else None
    S = 30.0 if w is None else w.sum()
    for loss, alpha in (("half_mse", 1e-2), ("mse", 1e-1)):
        params = {"penalty": "l2", "alpha": alpha, "loss": loss}
        ref = reference(Problem(X, y, w, True, "ridge"), params, 1e-10)
        ridge = Ridge(alpha=alpha * S * 0.5 / FACTOR[loss], solver="svd").fit(X, y, w)
        np.testing.assert_allclose(ref.coef[:, 0], ridge.coef_, rtol=1e-10)
        np.testing.assert_allclose(ref.intercept[0], ridge.intercept_, rtol=1e-10)


# ----------------------------------------------------------------------------- found here


# Families of small problems on which data-form conjugate gradients fail (their rounding
# decides which members fail: a few in every family under every BLAS kernel tried).


def exact_line(seed):
    # y = 3.9 x exactly, tol=None: 14-22 of 200 raise DivergenceError. E.g. x = (-4, 5, -2),
    # y = x: one step reaches the minimum (loss 3e-31), the second raises the loss to 4.2,
    # the third takes a step of 1.5e31.
    x = np.random.default_rng(seed).standard_normal(10)
    return x[:, None], 3.9 * x, {"tol": None, "max_iter": 30}


def offset_column(seed):
    # One column about 3e6 with spread 1, the default tol: 59-81 of 200 diverge. E.g. x =
    # (3.3e6, 3.3e6 - 0.86, 3.3e6 - 0.86), y = (0, -0.625, -0.624): step 1 reaches the
    # minimum (loss 2.7e-8), the test fails there, step 2 raises the loss to 0.043.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(3) + 3e6
    return x[:, None], 0.7 * (x - 3e6) + 1e-3 * rng.standard_normal(3), {}


def rank_one(seed):
    # Three rows with two equal, two one-hot columns and a third, tol=None: 3-5 of 200
    # claim "tol" far from the minimum. E.g. X = ((0, 1, 1), (1, 0, 4), (1, 0, 4)),
    # y = (-2, -3, 0): steps 1-13 sit at the minimum-norm answer (0.1667, -0.1667, 0.0556);
    # step 14 jumps to (-1.9e15, 7.5e15, 3.1e15), intercept -1.1e16 (its loss_curve_ entry
    # 0.19, below the minimum 0.75: cancellation), and the fit stops there, "tol".
    rng = np.random.default_rng(seed)
    X = np.c_[np.eye(2)[rng.integers(0, 2, 3)], rng.integers(-5, 6, 3)]
    return X, rng.integers(-5, 6, 3).astype(float), {"tol": None, "max_iter": 30}


def two_offset_rows(seed):
    # Two rows, columns offset 1e5 to 1e7, the default tol: some 50 of 200 claim "tol" far
    # from the minimum-norm answer (and 105-120 diverge). E.g. X = ((9999998.25, 999999.5),
    # (10000001.0, 999999.25)), y = (-1.25, -0.5): "tol" at (-17.9, -200.4), the answer being
    # (0.136, -1.5): relative error 133 where the criterion allows 3e-6.
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, 3)) + rng.choice([1e6, -1e7, 1e5], 3)
    return X, rng.standard_normal(2), {}


@pytest.mark.xfail(
    strict=True,
    raises=DivergenceError,
    reason="data-form conjugate gradients go on past the minimum (with tol=None; and with a "
    "tol where the rounding of their passes, eps * offset / spread, keeps the test from "
    "passing there): the next line search divides rounding by rounding and the fit raises "
    "DivergenceError on a well-posed problem (found by test_fit_keeps_the_promise)",
)
@pytest.mark.parametrize("family", [exact_line, offset_column], ids=lambda f: f.__name__)
def test_data_form_cg_past_the_minimum_does_not_diverge(family):
    for seed in range(200):
        X, y, params = family(seed)
        call(GDLinearRegressor(precompute=False, **params).fit, X, y)


@pytest.mark.parametrize("family", [rank_one, two_offset_rows], ids=lambda f: f.__name__)
def test_data_form_cg_past_the_minimum_is_not_claimed(family):
    for seed in range(600 if family is rank_one else 200):
        X, y, params = family(seed)
        model = GDLinearRegressor(precompute=False, **params)
        try:
            call(model.fit, X, y)
        except DivergenceError:
            continue  # (test_data_form_cg_past_the_minimum_does_not_diverge)
        if model.converged_:
            ref = reference(Problem(X, y, None, True, "rank deficient"), {}, 0.0, raw=True)
            np.testing.assert_allclose(model.coef_, ref.coef[:, 0], rtol=1e-6, err_msg=seed)


@pytest.mark.parametrize("container", ["dense", "csr"])
def test_refinement_keeps_the_minimum_norm_with_offsets(container):
    # Three rows, three columns and an intercept: rank 2, one null direction. The minimum-norm
    # answer is (0.65, -0.7, -1.05) (kappa 1.25: the documented criterion allows 1.2e-9
    # relative). The data form, partial_fit, and offsets up to 1e3 give it to 1e-15; the
    # default fit returns (-1.8e-4, -2.0004, -3.0005), relative error 1.36, after three
    # refinement steps, reported "tol" without a warning.
    X = np.array([[1e4, 0.0, 1.0], [1e4 + 1, 1.0, 0.0], [1e4 + 3, 0.0, 0.0]])
    y = np.array([1.0, 2.0, 4.0])
    model = GDLinearRegressor()
    caught = call(model.fit, sp.csr_matrix(X) if container == "csr" else X, y)
    ref = reference(Problem(X, y, None, True, "rank 2"), {}, 1e-10)
    np.testing.assert_allclose(ref.coef[:, 0], [0.65, -0.7, -1.05], rtol=1e-12)
    assert model.converged_ and not caught  # the claim: "tol", no warning
    # (before issue 22's fix: (-1.8e-4, -2.0004, -3.0005), relative error 1.36)
    np.testing.assert_allclose(model.coef_, ref.coef[:, 0], rtol=1e-6)


def sparse_offset_rows(seed):
    # Three rows, six columns offset 1e7 times their spread (or 1e5), CSR X: the Gram form's
    # cross-products lose eps * 1e14 relative, the Gram matrix is no longer positive
    # semi-definite, and some 2 in 100 fits raise DivergenceError (the loss going to -inf).
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3, 6)) + rng.choice([1e5, 1e7], 6) * rng.choice([-1, 1], 6)
    return X, rng.standard_normal(3)


@pytest.mark.xfail(
    strict=True,
    raises=DivergenceError,
    reason="CSR X's Gram form forms the cross-products as X'WX - W mean mean', which on "
    "columns offset 1e7 times their spread leaves a Gram matrix that is not positive "
    "semi-definite: the default fit raises DivergenceError (found by "
    "test_fit_keeps_the_promise)",
)
def test_sparse_gram_with_offsets_does_not_diverge():
    for seed in range(300):
        X, y = sparse_offset_rows(seed)
        call(GDLinearRegressor().fit, sp.csr_matrix(X), y)


def offset_columns():
    """Columns of spread 1 about 1e6, stored in full as CSR."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2)) + 1e6
    return X, X @ [1.0, -1.0] + rng.standard_normal(20)


@pytest.mark.parametrize("how", ["fit", "partial_fit"])
@pytest.mark.parametrize(
    ("X", "y"),
    [
        # kappa 1.9: the criterion allows 2.4e-9. Dense X (and CSR with precompute=False)
        # reach 2e-16; CSR reports "tol" at 1.2e-3.
        offset_columns(),
        # Two rows, so rank 1 after centring; column 0 has mean 9.89 and spread 0.30. The
        # minimum-norm answer is (1.220, 0.383) (the criterion allows 5e-10); dense X gets
        # it, CSR reports "tol" at (-0.635, 0.965), relative error 1.5.
        (np.array([[10.189, 9.477], [9.587, 7.559]]), np.array([1.144, -0.325])),
    ],
    ids=["offset-1e6", "rank-deficient-offset-33"],
)
def test_sparse_gram_with_offsets_keeps_the_promise(X, y, how):
    model = GDLinearRegressor()
    caught = call(getattr(model, how), sp.csr_matrix(X), y)
    ref = reference(Problem(X, y, None, True, "offsets"), {}, 1e-10)
    assert ref.kappa < 2 and ref.bound[0] < 3e-9
    error = np.linalg.norm((model.coef_ - ref.coef[:, 0]) * ref.spread) / np.linalg.norm(ref.u)
    # Before (issue 22's property test found it): "tol", no warning, errors 1.2e-3 and 1.5.
    # fit refines on the rows; partial_fit, which has none, stalls and says so.
    if model.converged_:
        assert not caught and error <= ref.bound[0], error
    else:
        assert how == "partial_fit" and model.stop_reason_ == "stalled"
        assert any("condition number" in str(w.message) for w in caught)
