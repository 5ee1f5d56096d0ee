"""Iterative refinement on the data, for problems too ill-conditioned for the Gram form alone.

The Gram form squares the condition number. Along a direction ``v`` whose curvature
``lambda = v'Av`` is near ``eps * lambda_max``, the statistics ``A`` hold nothing but rounding,
so no method working from them alone finds the minimum there (near-collinear columns, such as
``x`` and ``x + 1e-8 * noise``; high-degree polynomial designs); along directions a little
stiffer, it finds it only to ``eps * lambda_max / lambda``. The data still resolve them: ``Z v``
and the residual ``r`` are computed to ``eps * |Z|``, far below their true sizes.

So a Gram-form fit of an ill-conditioned problem (``lambda_min < SHARP * lambda_max``) is
finished by iterative refinement: each pass over the data forms the residual and, from it, the
exact gradient ``Z'Pr`` and, for the flat directions ``V`` (``lambda < FLAT * lambda_max``), the
restricted curvature ``(ZV)'P(ZV)``. The correction is a Newton step: through ``A``'s
eigendecomposition along the directions ``A`` resolves, and on the data along the flat ones,
the two blocks solved together (``_joint_step``: the flat block after the resolved one is
eliminated, since the flat eigenvectors of the rounded ``A`` lean slightly into it).
Directions that are flat in the data too (duplicate columns, more features than samples) get
no step, so the minimum-norm answer of rank-deficient problems is kept. It stops when a
step no longer contracts (or is at the rounding of the parameters): the rest is noise, and the
fit is certified; otherwise (passes run out while steps still contract) it is "stalled".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, cast

import numpy as np

from .._kernels.sparse import is_sparse

if TYPE_CHECKING:
    from .._kernels.types import FloatArray, Matrix
    from .._problem.coordinates import Coordinates
    from .._protocols.source import Reader

_EPS = float(np.finfo(np.float64).eps)
#: Problems with a smaller ratio of extreme curvatures are refined on the data.
SHARP = 1e-6
#: Directions whose curvature is below this share of the largest are solved on the data.
FLAT = 1e-10
#: A refinement step below this share of the largest parameter is rounding: the fit is done;
#: so is one that is not below ``_CONTRACT`` times the step before it.
_TINY = 16 * np.finfo(np.float64).eps
_CONTRACT = 0.5
#: A step that no longer contracts certifies the fit only if its predicted gain is below this
#: share of the loss (plus the rounding of the residuals).
_GAIN = 1e-13
_PASSES = 6
#: ``spectrum`` (A's eigenvalues from eigvalsh, ``GramObjective.spectrum``) this far above
#: the threshold decides "well conditioned" without eigh: the two LAPACK paths differ by a few
#: ``p * eps * lambda_max`` (both backward stable), far below this margin of 1e-10, so eigh's
#: eigenvalues would decide the same; nearer the threshold, eigh decides.
_MARGIN = 1e-10
#: Without a known spectrum, A's eigenvalues are computed first up to this size.
_EIGENVALUES_FIRST = 512
_BLOCK_BYTES = 8 << 20
#: Up to this many values of X (a pass in long double costs some 36 ms per million values, 50
#: times float64's BLAS), the residual and gradient of each pass are summed in extended
#: precision (:func:`_extended_gradient`); beyond, in float64.
_EXTENDED_VALUES = 1_000_000


class Eigen(NamedTuple):
    """The eigendecomposition of the (penalised) Hessian ``A + D`` that refinement steps
    through, ascending, and the relative error of ``A`` beyond a few eps (``rounding``)."""

    values: FloatArray
    vectors: FloatArray
    rounding: float = 0.0


def eigen(A: FloatArray, spectrum: FloatArray | None = None, rounding: float = 0.0) -> Eigen | None:
    """``A``'s eigendecomposition where it is ill-conditioned enough for refinement
    (``lambda_min < sharp * lambda_max``: :func:`sharpness`, SHARP for statistics accurate to
    a few eps, more where ``rounding``, their relative error, is larger); None, without eigh
    where ``spectrum`` (its eigenvalues, if known) already says so, when it is not."""
    sharp = sharpness(rounding)
    if spectrum is None and A.shape[0] <= _EIGENVALUES_FIRST:
        # The eigenvalues alone cost a fraction of eigh (no back-transformation); most
        # problems are decided by them.
        spectrum = np.linalg.eigvalsh(A)
    if spectrum is not None and resolved(spectrum[0], spectrum[-1], rounding):
        return None
    values, vectors = np.linalg.eigh(A)
    if not values.size or values[0] >= sharp * values[-1]:
        return None
    return Eigen(values, vectors, rounding)


def resolved(lowest: float, highest: float, rounding: float = 0.0) -> bool:
    """Whether curvatures from ``lowest`` to ``highest`` (eigenvalues, or bounds on them) are
    conditioned well enough for the statistics alone to resolve the minimiser (no
    refinement): ``lowest >= sharpness * highest``, with a margin."""
    return bool(highest > 0 and lowest >= (sharpness(rounding) + _MARGIN) * highest)


def sharpness(rounding: float) -> float:
    """The ratio of extreme curvatures below which the statistics alone do not resolve the
    minimiser to the rounding floor: SHARP (1e-6) where they are accurate to a few eps, scaled
    up with their relative error ``rounding`` (at most 1: then every problem is refined)."""
    return min(1.0, SHARP * max(1.0, rounding / _EPS))


def _null_level(eig: Eigen) -> float:
    # Below 64 p eps of the largest curvature a direction cannot be told from an exact null
    # direction. (Statistics of a larger rounding blur more: those directions are ambiguous,
    # unresolved, not null.)
    return float(64 * eig.values.size * _EPS * eig.values[-1])


def without_null(eig: Eigen, theta: FloatArray) -> FloatArray:
    """``theta`` without its components along the directions the statistics cannot tell
    from null ones (the minimum-norm answer of the statistics alone)."""
    null = eig.vectors[:, eig.values <= _null_level(eig)]
    out: FloatArray = theta - null @ (null.T @ theta)
    return out


def unresolved(eig: Eigen) -> float | None:
    """The condition number the statistics alone cannot resolve: ``lambda_max / lambda`` of
    the flattest direction whose curvature is above the rounding of ``A`` (``64 p eps`` of
    the largest: below it the statistics cannot tell the direction from an exact null
    direction, and like one it gets no coefficient, the minimum-norm answer) and below the
    sharpness threshold (:func:`sharpness`) or the blur of statistics less accurate than eps
    (``64 p rounding``); None if there is none."""
    values = eig.values
    top, null, sharp = values[-1], _null_level(eig), sharpness(eig.rounding)
    blur = 64 * values.size * eig.rounding
    if blur >= 1:  # the statistics' own rounding reaches every direction
        return float(1 / eig.rounding)
    # (between the null level and the statistics' blur, a direction may be real or null)
    between = values[(values > null) & (values < max(sharp, blur) * top)]
    return float(top / between[0]) if between.size else None


def refine(
    read: Reader,
    coords: Coordinates,
    theta: FloatArray,
    eig: Eigen,
    ridge: FloatArray | None = None,
) -> tuple[list[FloatArray], list[float], bool, int]:
    """Refine ``theta`` (the squared loss, solver coordinates) on the data; see the module doc.

    ``read`` reads the rows (dense, CSR or Dask chunks) with their normalised weights;
    ``eig`` is the eigendecomposition of the Hessian ``A + diag(ridge)`` (:func:`eigen`);
    ``ridge`` (p,): an l2 penalty's Hessian diagonal in the units of ``A`` (the objective
    then being ``sum p r^2 + theta' diag(ridge) theta``). Returns ``(thetas, values, done,
    passes)``: the successive iterates that improved the fit (possibly none), their
    objectives in those units (summed over targets), whether the fit is certified (the
    corrections reached rounding, or stopped contracting with no gain beyond rounding), and
    the passes over X made.
    """
    # (statistics of relative error above eps resolve fewer directions: more are flat)
    flat = eig.values < min(1.0, FLAT * max(1.0, eig.rounding / _EPS)) * eig.values[-1]
    U, lam, V = eig.vectors[:, ~flat], eig.values[~flat], eig.vectors[:, flat]
    D = np.zeros(theta.shape[0]) if ridge is None else ridge
    # The rounding of Z V's columns (unit spread): each centred value carries eps times its
    # offset (the rounded mean) over its spread.
    shift = float(np.max(np.abs(coords.offset) * coords.inverse_scale[:, 0], initial=0.0))
    level = (64 * _EPS * (1.0 + shift)) ** 2 * coords.offset.shape[0]
    thetas: list[FloatArray] = []
    mses: list[float] = []
    last = np.inf
    floor = np.inf
    for passes in range(1, _PASSES + 1):
        mse, grad, a, Q, G, total = _penalised(_sums(read, coords, theta, V), theta, V, D)
        # Gains below this are rounding: the residuals carry a few eps of y's size.
        floor = min(floor, (64 * np.finfo(np.float64).eps) ** 2 * total)
        if mses:
            mses[-1] = mse  # measured, where it was predicted
        along = U.T @ grad
        step, gain = _joint_step(along, lam, G @ U, a, Q, (level, V.T @ theta))
        move = U @ step[0] + V @ step[1]
        size = float(np.max(np.abs(move), initial=0.0))
        # The steps of iterative refinement contract while they are real; once one does not
        # (or is at the rounding of theta itself), the rest is noise: the fit is as good as
        # the data resolve it if that step also gains nothing beyond rounding, and "stalled"
        # if it still predicts a real gain (a design beyond float64). The gain alone cannot
        # end it: with a large residual it falls below the loss's own rounding while the
        # steps are still many digits above theta's.
        if size <= _TINY * float(np.max(np.abs(theta))):
            return thetas, mses, True, passes
        if not size < _CONTRACT * last:
            return thetas, mses, not gain > _GAIN * mse + floor, passes
        last, theta = size, theta + move
        thetas.append(theta)
        mses.append(mse - gain)
    mses[-1] = _penalised(_sums(read, coords, theta, V), theta, V, D)[0]
    return thetas, mses, False, _PASSES + 1


#: What a pass sums over the rows: ``(sum p r^2, Z'Pr, (ZV)'Pr, (ZV)'P(ZV), (ZV)'PZ,
#: sum p t^2)``.
Sums = tuple[float, "FloatArray", "FloatArray", "FloatArray", "FloatArray", float]


def _sums(read: Reader, coords: Coordinates, theta: FloatArray, V: FloatArray) -> Sums:
    """One pass: :func:`_pass` over every part of the rows, summed."""
    parts = read(lambda X, Y, p: _pass(X, Y, p, coords, theta, V))
    out = cast("Sums", parts[0])
    for part in parts[1:]:
        out = cast("Sums", tuple(a + b for a, b in zip(out, part, strict=True)))
    return out


def _penalised(sums: Sums, theta: FloatArray, V: FloatArray, D: FloatArray) -> Sums:
    """The sums of a pass with the l2 penalty ``theta' diag(D) theta`` added: its value, its
    gradient ``D theta``, and its curvature on the flat directions and their coupling."""
    mse, grad, a, Q, G, total = sums
    if not D.any():
        return sums
    Dtheta = D[:, None] * theta
    DV = D[:, None] * V
    return (
        mse + float(np.sum(theta * Dtheta)),
        grad + Dtheta,
        a + V.T @ Dtheta,
        Q + V.T @ DV,
        G + DV.T,
        total,
    )


def _pass(
    X: Matrix, Y: FloatArray, p: FloatArray, coords: Coordinates, theta: FloatArray, V: FloatArray
) -> Sums:
    """``(sum p r^2, Z'Pr, (ZV)'Pr, (ZV)'P(ZV), (ZV)'PZ, sum p t^2)`` at ``theta``, in one
    blocked pass over X (dense, or CSR).

    Each dense block is centred (shifted by the solver's offsets, :meth:`Coordinates.centre`)
    before it is multiplied: with large offsets, ``X v - offset @ v`` would cancel away the
    small values that matter here. A sparse block is never densified: its products are
    shifted after (:func:`_sparse_products`). (A squared loss: the intercept is never a
    coordinate.)
    """
    n, d = X.shape
    k, m = theta.shape[1], V.shape[1]
    sparse = is_sparse(X)
    extended = n * d <= _EXTENDED_VALUES and not sparse
    # X's own weights of theta and V: (X - offset) @ maps is Z [theta, V]; no shift. (By the
    # reciprocal of the scale, not a division: at the edge of float64, where refinement works,
    # its verdict can turn on the last bit.)
    inv = coords.inverse_scale
    maps = np.hstack([theta[:d] * inv, V[:d] * inv])
    rows = max(256, _BLOCK_BYTES // (8 * d))
    buf = np.empty((0 if sparse else min(rows, n), d))
    mse, total, grad = 0.0, 0.0, np.zeros((d, k))
    a, Q, G = np.zeros((m, k)), np.zeros((m, m)), np.zeros((m, d))
    for start in range(0, n, rows):
        t = Y[start : start + rows] - coords.y_offset
        w = p[start : start + rows, None]
        if sparse:
            block = X[start : start + rows]
            r, zv, block_grad, block_g = _sparse_products(block, t, w, coords, maps)
        else:
            block = coords.centre(X[start : start + rows], out=buf[: min(rows, n - start)])
            if extended:
                r, block_grad = _extended_gradient(
                    X[start : start + rows], Y[start : start + rows], w[:, 0], coords, maps[:, :k]
                )
                zv = block @ maps[:, k:]
            else:
                prod = block @ maps
                r, zv = prod[:, :k] - t, prod[:, k:]
                block_grad = block.T @ (r * w)
            block_g = (zv * w).T @ block
        pr = r * w
        grad += block_grad
        mse += float(np.sum(pr * r))
        total += float(np.sum(t * t * w))
        a += zv.T @ pr
        Q += zv.T @ (zv * w)
        G += block_g
    return mse, grad * inv, a, Q, G * inv.T, total


def _sparse_products(
    block: Matrix, t: FloatArray, w: FloatArray, coords: Coordinates, maps: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(r, ZV, (X - offset)'Pr, (ZV)'P(X - offset))`` of a CSR block, through scipy's
    kernels: ``(X - offset) M = X M - offset M`` and ``(X - offset)' u = X'u - offset sum(u)``
    (sums of the sparse values and one correction, float64 throughout)."""
    k = t.shape[1]
    prod = np.asarray(block @ maps) - coords.offset @ maps
    r, zv = prod[:, :k] - t, prod[:, k:]
    pr, pzv = r * w, zv * w
    grad = np.asarray(block.T @ pr) - np.outer(coords.offset, pr.sum(axis=0))
    g = (np.asarray(block.T @ pzv) - np.outer(coords.offset, pzv.sum(axis=0))).T
    return r, zv, grad, g


def _extended_gradient(
    X: Matrix, Y: FloatArray, p: FloatArray, coords: Coordinates, coef: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The residual ``r`` and the gradient part ``Z'Pr`` of a block of rows, in extended
    precision (``numpy.longdouble``), rounded to float64 at the end.

    Near the minimum the gradient is a sum of terms far larger than itself, so float64 leaves
    it a noise of about ``eps * sum|z_i p_i r_i|``, which the step turns into an error of
    ``cond * eps`` relative, as large as the data's own ill-conditioning allows. Summed in
    extended precision (Wilkinson's recipe for iterative refinement: residuals in twice the
    working precision, where the platform's long double has it), the refinement reaches
    digits that float64 arithmetic cannot see.
    """
    L = np.longdouble
    block = coords.centre(np.asarray(X, dtype=L))  # (offset exact in long double)
    r = block @ coef.astype(L) - (np.asarray(Y, dtype=L) - coords.y_offset.astype(L))
    grad = block.T @ (r * p.astype(L)[:, None])
    return r.astype(np.float64), grad.astype(np.float64)


def _joint_step(
    along: FloatArray,
    lam: FloatArray,
    C: FloatArray,
    a: FloatArray,
    Q: FloatArray,
    null: tuple[float, FloatArray],
) -> tuple[tuple[FloatArray, FloatArray], float]:
    """The Newton step on the data over the resolved directions ``U`` and the flat ones ``V``
    together, and its gain: ``(-(x, t), gain)`` in those bases.

    ``along = U'Z'Pr`` and ``lam`` (A's eigenvalues on U) hold the resolved block of the
    Hessian; ``C = (ZV)'P(ZU)`` couples it to the flat block ``Q = (ZV)'P(ZV)``. The flat
    directions are eigenvectors of the rounded A, each off the data's own flat directions by
    up to ``eps * |A| / gap`` along the resolved ones; the data see only that part of them
    (a curvature of its square). Solved on their own, they would take a step of the inverse
    of that size along the directions the data do not determine (n < d: a huge multiple of
    the null space, far from the minimum-norm answer) to reduce a residual that the step
    along ``U`` already removes. Eliminating ``U`` first (the Schur complement
    ``Q - C Lambda^-1 C'``) leaves, along ``V``, only what ``U`` cannot reach.
    """
    alpha = along / lam[:, None]
    coupling = C / lam  # C Lambda^-1
    t, gain = _subspace_step(a - C @ alpha, Q - coupling @ C.T, *null)
    x = -alpha - coupling.T @ t
    return (x, t), gain + float(np.sum(along * alpha))


def _subspace_step(
    a: FloatArray, Q: FloatArray, level: float, along: FloatArray
) -> tuple[FloatArray, float]:
    """The minimiser ``t = -Q^+ a`` of ``sum p (r + ZV t)^2`` and its gain ``a' Q^+ a``.

    Eigenvalues of ``Q`` at ``level``, the rounding of ``Z V`` (``(64 eps (1 + |offset| /
    spread))^2 d`` against Z's unit columns: centred values carry eps times their offset),
    belong to directions that are flat in the data too: there the step only removes theta's
    component (``along``: ``V' theta``), which keeps the minimum-norm solution of
    rank-deficient problems (the Gram form may have put rounding there, divided by rounding).
    """
    if not Q.size:
        return np.zeros_like(a), 0.0
    values, vectors = np.linalg.eigh(Q)
    keep = values > level
    basis = vectors[:, keep]
    coeffs = (basis.T @ a) / values[keep][:, None]
    null = vectors[:, ~keep]
    t = -(basis @ coeffs) - null @ (null.T @ along)
    return t, float(np.sum((basis.T @ a) * coeffs))
