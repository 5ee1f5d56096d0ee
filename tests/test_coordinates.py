"""The design map of ``Coordinates``: ``Z v``, ``Z' r``, the explicit ``Z_b`` and its row norms.

The reference is the explicit ``Z = [(X - offset) / scale | 1]`` built with NumPy in float64
(the ones only when the intercept is a coordinate), never the code under test.
"""

from itertools import pairwise

import numpy as np
import pytest
import scipy.sparse as sp

from gdlinreg._problem.coordinates import Coordinates

N, D, K = 37, 4, 2
EPS = np.finfo(np.float64).eps


def _case(augment, dtype, seed=0):
    """X with large offsets and one constant column (scale inf), its coordinates, and the
    explicit Z."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D)) * [1.0, 3.0, 0.5, 1.0] + [10.0, -4.0, 0.25, 0.0]
    X[:, 3] = 7.0  # constant
    X = X.astype(dtype)
    offset = X.astype(np.float64).mean(axis=0)
    scale = np.array([1.5, 2.5, 0.75, np.inf])
    coords = Coordinates(offset, scale, np.zeros(K), augment)
    Z = (X.astype(np.float64) - offset) / scale
    if augment:
        Z = np.hstack([Z, np.ones((N, 1))])
    return X, coords, Z


def _block(X, kind):
    return sp.csr_matrix(X) if kind == "csr" else X


def _close(got, want, size):
    # A few eps of the size of the terms summed: the map cancels offsets of up to 10 here.
    np.testing.assert_allclose(got, want, rtol=0, atol=4 * EPS * float(np.max(size)))


@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("augment", [False, True])
def test_dot_and_tdot_match_the_explicit_design(kind, dtype, augment):
    X, coords, Z = _case(augment, dtype)
    rng = np.random.default_rng(1)
    theta = rng.standard_normal((coords.n_params, K))
    theta[3] = 5.0  # a constant column's parameter has no effect
    r = rng.standard_normal((N, K))
    size = np.abs(X).max() * np.abs(theta).sum(axis=0) / 0.75 + np.abs(theta).max()
    got = coords.dot(_block(X, kind), theta)
    assert got.shape == (N, K) and got.dtype == np.float64
    _close(got, Z @ theta, size)
    got = coords.tdot(_block(X, kind), r)
    assert got.shape == (coords.n_params, K) and got.dtype == np.float64
    _close(got, Z.T @ r, N * np.abs(X).max() / 0.75)
    assert np.all(got[3] == 0.0)  # no gradient for a constant column


@pytest.mark.parametrize("augment", [False, True])
def test_the_halves_over_blocks_add_up_to_the_whole(augment):
    """What a blocked pass does: ``dot_terms`` once, ``X_b w - shift`` per block, ``X_b' r`` and
    ``sum(r)`` summed over the blocks, ``tdot_from`` once."""
    X, coords, Z = _case(augment, np.float64)
    rng = np.random.default_rng(2)
    theta, r = rng.standard_normal((coords.n_params, K)), rng.standard_normal((N, K))
    w, shift = coords.dot_terms(theta)
    assert w.shape == (D, K) and shift.shape == (K,) and np.all(w[3] == 0.0)
    cuts = [0, 5, 6, 30, N]
    parts = [X[a:b] @ w - shift for a, b in pairwise(cuts)]
    size = np.abs(X).max() / 0.75 * N
    _close(np.vstack(parts), Z @ theta, size * np.abs(theta).max() / N)
    xr = sum(X[a:b].T @ r[a:b] for a, b in pairwise(cuts))
    _close(coords.tdot_from(xr, r.sum(axis=0)), Z.T @ r, size * np.abs(r).max())
    # Centred rows: the scale part of the chain rule alone.
    _close(coords.unscale((X - coords.offset).T @ r), Z[:, :D].T @ r, size * np.abs(r).max())


@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("augment", [False, True])
def test_rows_is_the_explicit_design(kind, dtype, augment):
    X, coords, Z = _case(augment, dtype)
    got = coords.rows(_block(X, kind))
    assert got.shape == (N, coords.n_params) and got.dtype == np.float64
    np.testing.assert_array_equal(got, Z)  # the same operations, so the same numbers
    assert np.all(got[:, 3] == 0.0)


@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("augment", [False, True])
@pytest.mark.parametrize("plain", [False, True])
def test_squared_norms_are_those_of_the_rows_of_z(kind, dtype, augment, plain):
    X, coords, Z = _case(augment, dtype)
    if plain:  # the user's own coordinates
        coords = Coordinates(np.zeros(D), np.ones(D), np.zeros(K), augment)
        Z = X.astype(np.float64)
        Z = np.hstack([Z, np.ones((N, 1))]) if augment else Z
    assert coords.plain == plain
    got = coords.squared_norms(_block(X, kind))
    assert got.shape == (N,) and got.dtype == np.float64
    want = np.sum(Z * Z, axis=1)
    # Sparse: |z|^2 expanded, which cancels |x|^2 / scale^2 against the offsets; float32
    # values are squared in float32 (a curvature bound needs no more).
    rtol = 1e-6 if kind == "csr" and dtype == np.float32 else 1e-12
    scale = float(np.max(X.astype(np.float64) ** 2)) / 0.75**2
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale)


def test_centre_keeps_a_wider_float_type_and_fills_out():
    X, coords, _ = _case(False, np.float32)
    out = np.empty((N, D))
    assert coords.centre(X, out=out) is out
    np.testing.assert_array_equal(out, X.astype(np.float64) - coords.offset)
    wide = coords.centre(X.astype(np.longdouble))
    assert wide.dtype == np.longdouble
    exact = X.astype(np.longdouble) - coords.offset.astype(np.longdouble)
    np.testing.assert_array_equal(wide, exact)
    np.testing.assert_array_equal(coords.centre(sp.csr_matrix(X)), out)


def test_inverse_scale_is_the_reciprocal_with_zero_for_constant_columns():
    coords = Coordinates(np.zeros(3), np.array([2.0, np.inf, 0.5]), np.zeros(1), False)
    np.testing.assert_array_equal(coords.inverse_scale, [[0.5], [0.0], [2.0]])
