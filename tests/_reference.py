"""Independent references shared by the test modules: the objectives written from their
formulas, weighted least squares, and the stored path as (T, d + 1, k). Nothing here imports
gdlinreg's solver code."""

import math
import operator
from fractions import Fraction

import numpy as np

# The constant c of c * mean(r^2): half-MSE and MSE.
FACTOR = {"half_mse": 0.5, "mse": 1.0}
EPSILON = 1.35  # GDLinearRegressor's default Huber threshold


def design(X, y, s):
    """``(Z, Y, p)``: X with a column of ones, y as (n, k), and the normalised weights."""
    Z = np.hstack([np.asarray(X, float), np.ones((X.shape[0], 1))])
    Y = np.asarray(y, float).reshape(X.shape[0], -1)
    w = np.ones(X.shape[0]) if s is None else np.asarray(s, float)
    return Z, Y, w / w.sum()


def objective(X, y, s, loss, epsilon=EPSILON):
    """``J(theta)`` and its gradient, theta of shape (d + 1, k) with the intercept last."""
    Z, Y, p = design(X, y, s)

    def f(theta):
        R = Z @ theta - Y
        if loss == "huber":
            a = np.abs(R)
            per = np.where(a <= epsilon, 0.5 * R**2, epsilon * a - 0.5 * epsilon**2)
            return float(p @ per.sum(axis=1)), Z.T @ (p[:, None] * np.clip(R, -epsilon, epsilon))
        c = FACTOR[loss]
        return float(c * p @ (R**2).sum(axis=1)), 2 * c * Z.T @ (p[:, None] * R)

    return f


def curvature(X, s, loss):
    """L: the largest eigenvalue of H = 2c Z'PZ (for Huber, of its bound Z'PZ)."""
    Z, _, p = design(X, np.zeros(X.shape[0]), s)
    c = 0.5 if loss == "huber" else FACTOR[loss]
    return float(np.linalg.eigvalsh(2 * c * Z.T @ (p[:, None] * Z))[-1])


def lstsq(X, y, s=None):
    """Weighted least squares, (d + 1, k) with the intercept last."""
    Z, Y, p = design(X, y, s)
    r = np.sqrt(p)[:, None]
    return np.linalg.lstsq(Z * r, Y * r, rcond=None)[0]


def model_path(model, k):
    """A fitted model's stored path as (T, d + 1, k)."""
    coef, intercept = np.asarray(model.coef_path_), np.asarray(model.intercept_path_)
    if k is None:
        coef, intercept = coef[:, None, :], intercept[:, None]
    return np.concatenate([np.swapaxes(coef, 1, 2), intercept[:, None, :]], axis=1)


def unblocked(Z, s):
    """Weighted mean and centred scatter of all rows at once (corrected two-pass)."""
    w = s.sum()
    mean = s @ Z / w
    C = Z - mean
    mean = mean + s @ C / w
    C = Z - mean
    return mean, C.T @ (C * s[:, None])


def exact_moments(Z, s):
    """Mean and scatter in rational arithmetic, rounded once at the end."""
    cols = [[Fraction(float(v)) for v in col] for col in Z.T]
    ws = [Fraction(float(v)) for v in s]
    w = sum(ws)
    mean = [sum(a * b for a, b in zip(ws, c, strict=True)) / w for c in cols]
    p = len(cols)
    scatter = np.empty((p, p))
    for i in range(p):
        for j in range(i, p):
            v = sum(
                a * (x - mean[i]) * (y - mean[j])
                for a, x, y in zip(ws, cols[i], cols[j], strict=True)
            )
            scatter[i, j] = scatter[j, i] = float(v)
    return np.array([float(m) for m in mean]), scatter


def _integer_column(values) -> tuple[list[int], int]:
    """Exact ``values`` as integers over one common denominator."""
    fracs = [Fraction(v) for v in values]
    den = math.lcm(*(f.denominator for f in fracs))
    return [f.numerator * (den // f.denominator) for f in fracs], den


def exact_lstsq(X, y, sample_weight=None) -> tuple[Fraction, list[Fraction]]:
    """Exact (weighted) least squares with an intercept: ``(intercept, coef)`` as Fractions.

    ``X`` is a sequence of rows and ``y`` a sequence; entries may be floats (converted exactly)
    or decimal strings (for NIST's decimal data). Solves the normal equations of ``[1 | X]`` in
    rational arithmetic, so the result is the least-squares solution of exactly these numbers.
    """
    rows = [list(r) for r in X]
    n, d = len(rows), len(rows[0])
    weights = [1] * n if sample_weight is None else _integer_column(sample_weight)[0]
    cols = [([1] * n, 1)] + [_integer_column([r[j] for r in rows]) for j in range(d)]
    cols.append(_integer_column(y))
    weighted = [[w * v for w, v in zip(weights, c, strict=True)] for c, _ in cols[:-1]]
    p = d + 1
    # Augmented normal equations [G | r]; the weights' denominator is common to all and drops.
    m = [
        [
            Fraction(sum(map(operator.mul, weighted[a], cols[b][0])), cols[a][1] * cols[b][1])
            for b in range(p + 1)
        ]
        for a in range(p)
    ]
    for c in range(p):
        pivot = next(r for r in range(c, p) if m[r][c] != 0)
        m[c], m[pivot] = m[pivot], m[c]
        for r in range(p):
            if r != c and m[r][c] != 0:
                f = m[r][c] / m[c][c]
                m[r] = [a - f * b for a, b in zip(m[r], m[c], strict=True)]
    solution = [m[i][p] / m[i][i] for i in range(p)]
    return solution[0], solution[1:]


def exact_mse(X, y, coef, intercept, sample_weight=None):
    """The (weighted) mean squared error of coefficients in exact rational arithmetic: with
    coefficients of 1e7 (high-degree polynomials), float64's own evaluation errs by 1e-7.
    Floats are converted exactly; Fractions are used as they are."""
    coef = [c if isinstance(c, Fraction) else Fraction(float(c)) for c in np.ravel(coef)]
    b = intercept if isinstance(intercept, Fraction) else Fraction(float(intercept))
    weights = np.ones(len(y)) if sample_weight is None else sample_weight
    total = Fraction(0)
    for row, target, w in zip(X.tolist(), y.tolist(), weights.tolist(), strict=True):
        r = sum((Fraction(x) * c for x, c in zip(row, coef, strict=True)), b) - Fraction(target)
        total += Fraction(w) * r * r
    return total / sum(map(Fraction, weights.tolist()))
