r"""
The slow mode: why 1000 steps stop short of least squares
=========================================================

The tutorial ran textbook gradient descent on half-MSE for 1000 steps at learning rate
:math:`a = 0.01` and found a line (slope 0.7887, intercept 0.6408) that is not the
least-squares line (0.8, 0.6). The loss is a quadratic with constant Hessian :math:`H`, so
the error :math:`\theta_k - \theta^*` splits along the eigenvectors :math:`v_i` of
:math:`H`, and each component shrinks by its own factor every step:

.. math:: c_i(k) = v_i^\top(\theta_k - \theta^*) = (1 - a\lambda_i)^k\, c_i(0).

One direction is steep (:math:`\lambda = 11.83`), one is flat (:math:`\lambda = 0.169`).
After 1000 steps the steep one has lost all but :math:`2\cdot 10^{-55}` of its error; the
flat one, the *slow mode*, keeps 18.4 %. That remainder is the whole gap between the
tutorial's line and least squares.
"""

# %%
# The eigen-decomposition, by hand
# --------------------------------
# For half-MSE on the five points, :math:`H = \tilde X^\top \tilde X / n` with
# :math:`\tilde X = [x, 1]`: :math:`H = \begin{pmatrix} 11 & 3 \\ 3 & 1 \end{pmatrix}`,
# eigenvalues :math:`6 \pm \sqrt{34}`.
import matplotlib.pyplot as plt
import numpy as np

from gdlinreg import GDLinearRegressor
from gdlinreg.datasets import SEED_LEARNING_RATE, SEED_START, load_seed_example
from gdlinreg.plotting import plot_error_modes

X, y = load_seed_example()
A = np.hstack([X, np.ones_like(X)])
H = A.T @ A / len(y)
lam, V = np.linalg.eigh(H)
star = np.linalg.lstsq(A, y, rcond=None)[0]  # (0.8, 0.6)
c0 = V.T @ (np.array(SEED_START) - star)
a = SEED_LEARNING_RATE
left = (1 - a * lam) ** 1000
for name, lam_i, c, share in zip(("slow", "fast"), lam, c0, left, strict=True):
    print(
        f"{name} mode: lambda = {lam_i:.6f}, factor per step 1 - a lambda = {1 - a * lam_i:.8f}, "
        f"c(0) = {c:+.6f}, share left after 1000 steps = {share:.10g}"
    )

# %%
# The prediction, checked against the run
# ---------------------------------------
# :math:`\theta_{1000} = \theta^* + \sum_i (1 - a\lambda_i)^{1000} c_i(0)\, v_i`; with the
# fast term gone, the tutorial's line is the least-squares line plus 18.4 % of the slow
# component of the starting error.
model = GDLinearRegressor(
    solver="gd", learning_rate=a, max_iter=1000, tol=None, store_path=True
).fit(X, y, coef_init=[SEED_START[0]], intercept_init=SEED_START[1])
predicted = star + V @ (left * c0)
print(f"predicted (slope, intercept) after 1000 steps: {predicted.round(8)}")
print(f"the run:                                       {model.coef_[0]:.8f} {model.intercept_:.8f}")

# %%
# The two components per step
# ---------------------------
# :func:`~gdlinreg.plotting.plot_error_modes` draws :math:`|c_i(k)|` from the run's path
# (solid) beside :math:`|c_i(0)|\,|1 - a\lambda_i|^k` (dashed). The fast mode falls straight
# to rounding (about :math:`10^{-16}`, by step 290); the slow one is still a straight line,
# barely tilted, at step 1000.
plot_error_modes(model, X, y)

# %%
# MSE at step a is half-MSE at step 2a
# ------------------------------------
# MSE is twice half-MSE, so its Hessian is :math:`2H`: the same eigenvectors, the factors
# :math:`1 - 2a\lambda_i`. That is exactly half-MSE at step :math:`2a`. After 1000 steps
# MSE's slow mode keeps :math:`(1 - 0.02\cdot 0.169)^{1000} = 3.4\,\%`: closer, not done.
mse = GDLinearRegressor(
    loss="mse", solver="gd", learning_rate=a, max_iter=1000, tol=None, store_path=True
).fit(X, y, coef_init=[SEED_START[0]], intercept_init=SEED_START[1])
doubled = GDLinearRegressor(
    solver="gd", learning_rate=2 * a, max_iter=1000, tol=None, store_path=True
).fit(X, y, coef_init=[SEED_START[0]], intercept_init=SEED_START[1])
fig, (left_ax, right_ax) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained", sharey=True)
plot_error_modes(mse, X, y, ax=left_ax)
left_ax.set_title("MSE, a = 0.01")
plot_error_modes(doubled, X, y, ax=right_ax)
right_ax.set_title("half-MSE, a = 0.02")
gap = np.abs(mse.coef_path_ - doubled.coef_path_).max()
print(f"MSE at a = 0.01 against half-MSE at a = 0.02: largest difference {gap:.1e}")
print(f"MSE's slow mode after 1000 steps: {(1 - 2 * a * lam[0]) ** 1000:.10g}")

# %%
# How long the slow mode takes
# ----------------------------
# To shrink the slow component to :math:`10^{-12}` of its start takes
# :math:`\ln 10^{-12} / \ln(1 - a\lambda_{\min})` steps: about 16,300 for half-MSE at
# 0.01 and 8,200 for MSE. The tutorial's million-step MSE run had long arrived; its
# 1000-step half-MSE run had not.
for name, rate in (("half-MSE", a), ("MSE", 2 * a)):
    steps = np.log(1e-12) / np.log(1 - rate * lam[0])
    print(f"{name}: {steps:,.0f} steps to 1e-12 of the slow mode's starting error")
