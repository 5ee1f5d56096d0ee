"""
The tutorial's experiment, explained
====================================

The experiment the library grew from: five points, the starting guess slope 0.48 and
intercept 0.75, a learning rate of 0.01, and textbook gradient descent on two losses, half
the mean squared error (half-MSE) and the mean squared error (MSE). The original write-up
found that after 1000 steps the half-MSE line was not the least-squares line, and put this
down to the choice of loss. The figures below, regenerated with :mod:`gdlinreg.plotting`,
show the real cause: the run was stopped early. Both losses have the least-squares line as
their minimiser; MSE simply moves twice as fast at the same learning rate.
"""

# %%
# The data and the two runs
# -------------------------
# :func:`~gdlinreg.datasets.load_seed_example` returns the five points. ``solver="gd"`` is
# the textbook update in the user's coordinates, ``tol=None`` runs exactly ``max_iter``
# steps, and ``store_path=True`` keeps every iterate for the figures.
import numpy as np

from gdlinreg import GDLinearRegressor
from gdlinreg.datasets import SEED_LEARNING_RATE, SEED_START, load_seed_example
from gdlinreg.plotting import (
    plot_distance_to_solution,
    plot_fit_progress,
    plot_loss_curves,
    plot_loss_surface,
)

X, y = load_seed_example()


def textbook(loss, steps, learning_rate=SEED_LEARNING_RATE):
    model = GDLinearRegressor(
        loss=loss,
        solver="gd",
        learning_rate=learning_rate,
        max_iter=steps,
        tol=None,
        store_path=True,
    )
    return model.fit(X, y, coef_init=[SEED_START[0]], intercept_init=SEED_START[1])


half = textbook("half_mse", 1000)
mse = textbook("mse", 1000)
(slope, intercept), *_ = np.linalg.lstsq(np.hstack([X, np.ones_like(X)]), y, rcond=None)
print(f"least squares:         slope {slope:.6f}  intercept {intercept:.6f}")
for name, model in (("half-MSE", half), ("MSE", mse)):
    print(f"{name:>8}, 1000 steps: slope {model.coef_[0]:.6f}  intercept {model.intercept_:.6f}")

# %%
# The fit after 10, 100 and 1000 steps
# ------------------------------------
# The tutorial's figure, for half-MSE: after 1000 steps the line is close to, but not on,
# the least-squares line (dashed).
fig = plot_fit_progress(half, X, y, steps=(10, 100, 1000))
fig.axes[0].set_title("half-MSE, learning rate 0.01")

# %%
# The same for MSE. Its gradient is twice half-MSE's, so each step goes twice as far and
# after 1000 steps it is visibly closer.
fig = plot_fit_progress(mse, X, y, steps=(10, 100, 1000))
fig.axes[0].set_title("MSE, learning rate 0.01")

# %%
# Where the time goes: the loss surface
# -------------------------------------
# The loss is a bowl over (slope, intercept), stretched into a long, flat valley: its
# Hessian has eigenvalues 11.83 and 0.169, a condition number of 70. The path first drops
# down the steep wall, then crawls along the valley floor, where each step removes only
# 0.17 % of the remaining error. The run of 1000 steps ends on the floor, short of the star.
plot_loss_surface(half, X, y)

# %%
# The same surface in 3-D.
plot_loss_surface(half, X, y, kind="surface")

# %%
# Run long enough, both reach least squares
# ------------------------------------------
# 20,000 steps of each. The excess loss :math:`J - J^*` (the loss minus its minimum at the
# least-squares line, 0.16 for half-MSE and 0.32 for MSE) falls geometrically for both until
# it reaches rounding level; MSE gets there in about half the steps.
half_long = textbook("half_mse", 20_000)
mse_long = textbook("mse", 20_000)
residual = slope * X[:, 0] + intercept - y
optimum = {"half-MSE": float(0.5 * np.mean(residual**2)), "MSE": float(np.mean(residual**2))}
print(f"J* = {optimum}")
plot_loss_curves({"half-MSE": half_long, "MSE": mse_long}, optimum=optimum)

# %%
# The distance of each iterate to the least-squares solution tells the same story without
# reference to either loss: both runs converge to the same point.
plot_distance_to_solution({"half-MSE": half_long, "MSE": mse_long}, X, y)
for name, model in (("half-MSE", half_long), ("MSE", mse_long)):
    print(
        f"{name:>8}, 20,000 steps: slope {model.coef_[0]:.12f}  intercept {model.intercept_:.12f}"
    )

# %%
# The factor 2 is a step size
# ---------------------------
# MSE is exactly twice half-MSE, so its gradient is twice as large: MSE at learning rate
# 0.01 takes the very steps of half-MSE at 0.02.
doubled = textbook("half_mse", 1000, learning_rate=2 * SEED_LEARNING_RATE)
gap = np.abs(doubled.coef_path_ - mse.coef_path_).max()
print(f"largest difference between the two paths: {gap:.1e}")
