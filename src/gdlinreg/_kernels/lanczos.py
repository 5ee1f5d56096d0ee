"""The top eigenvalue of a symmetric positive semi-definite operator (the curvature bound L)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating[Any]]

# Up to this many parameters, an exact symmetric eigensolve is cheaper than Lanczos.
EXACT_EIGEN_MAX = 256


def largest_eigenvalue(a: FloatArray, rtol: float) -> float:
    # A small symmetric matrix: its exact top eigenvalue costs microseconds. A large one gets
    # Lanczos iterations, which never form a factorisation.
    if a.shape[0] <= EXACT_EIGEN_MAX:
        return float(np.linalg.eigvalsh(a)[-1]) if a.size else 0.0
    return lanczos(lambda v: a @ v, a.shape[0], rtol=rtol)


def lanczos(
    matvec: Callable[[FloatArray], FloatArray], p: int, *, rtol: float, max_iter: int | None = None
) -> float:
    """Top eigenvalue of a symmetric positive semi-definite operator, by Lanczos.

    Power iterations converge only geometrically in the eigengap, which is tiny for the
    well-conditioned problems (clustered spectra) that need few solver steps: hundreds of
    passes over X for three digits. Lanczos (with full reorthogonalisation, its basis being
    small) gets those digits in tens of products whatever the spectrum. It stops when the
    residual bound of the top Ritz value, ``beta_j * |last component of its Ritz vector|``,
    is below ``rtol`` times the value: a certified interval around one eigenvalue. Returns
    the top of that interval.
    """
    # The basis is kept (max_iter x p): at most 300 vectors and about 64 MB.
    max_iter = min(p, max_iter or 300, max(2, (1 << 23) // p))
    rng = np.random.default_rng(0)
    basis = np.empty((max_iter, p))
    v = rng.standard_normal(p) + 1.0
    basis[0] = v / np.linalg.norm(v)
    tri = np.zeros((max_iter, max_iter))
    theta = 0.0
    for j in range(max_iter):
        w = matvec(basis[j])
        tri[j, j] = basis[j] @ w
        done = basis[: j + 1]
        for _ in range(2):  # reorthogonalise twice: "twice is enough" (Kahan, Parlett)
            w -= done.T @ (done @ w)
        peak = float(np.max(np.abs(w)))
        # w is of the order of L ~ |x|^2; w @ w itself would overflow beyond |x| ~ 1e77.
        beta = peak * float(np.linalg.norm(w / peak)) if peak > 0 else 0.0
        values, vectors = np.linalg.eigh(tri[: j + 1, : j + 1])
        theta = float(values[-1])
        if theta <= 0.0 and beta == 0.0:
            return 0.0
        bound = beta * abs(float(vectors[-1, -1]))
        if bound <= rtol * abs(theta) or j + 1 == max_iter:
            # theta rises to the top eigenvalue from below; adding the bound errs on the
            # safe side for a step size (1/L never too long).
            return theta + bound
        basis[j + 1] = w / beta
        tri[j, j + 1] = tri[j + 1, j] = beta
    return theta
