"""
Learning rates: the safe step 1/L, and divergence above 2/L
===========================================================

Textbook gradient descent on the tutorial's five points at learning rates from 0.01 to
0.2. On this data the half-MSE Hessian has largest eigenvalue :math:`L = 11.83`, so the
iteration is stable below :math:`2/L = 0.169` and diverges above it. ``learning_rate="auto"``
picks :math:`1/L`. A run that diverges raises :class:`~gdlinreg.DivergenceError`, whose
``loss_history`` holds the losses before the blow-up, so it can be drawn beside the others.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from gdlinreg import DivergenceError, gradient_descent
from gdlinreg.datasets import SEED_START, load_seed_example
from gdlinreg.plotting import plot_loss_curves

X, y = load_seed_example()
A = np.hstack([X, np.ones_like(X)])
mu, L = np.linalg.eigvalsh(A.T @ A / len(y))  # the half-MSE Hessian's eigenvalues
print(f"L = {L:.4f}, mu = {mu:.4f}, 1/L = {1 / L:.4f}, 2/L = {2 / L:.4f}")

# %%
# The sweep
# ---------
# Each run starts from the tutorial's guess and takes up to 2000 steps.
runs = {}
for rate in (0.01, 0.05, "auto", 0.15, 0.168, 0.17, 0.2):
    label = "auto (1/L)" if rate == "auto" else f"{rate:g}"
    try:
        runs[label] = gradient_descent(
            X,
            y,
            solver="gd",
            learning_rate=rate,
            max_iter=2000,
            tol=None,
            coef_init=[SEED_START[0]],
            intercept_init=SEED_START[1],
        )
    except DivergenceError as error:
        runs[f"{label} (diverged)"] = error
        print(f"{label}: {error}")

# %%
# Loss curves
# -----------
# The excess loss over the minimum 0.16, log-scaled. Up to :math:`2/L` a larger step
# converges faster; 0.168, just below :math:`2/L`, zigzags across the valley but still
# converges; 0.17 and 0.2 oscillate with growing amplitude until the loss has grown ten
# thousandfold, when gdlinreg stops and raises.
fig = plot_loss_curves(runs, optimum=0.16, logx=True)
fig.set_size_inches(7, 5)

# %%
# Why 2/L
# -------
# Along each eigenvector of the Hessian, one step multiplies the error by
# :math:`1 - a\lambda`. The iteration converges while both factors have modulus below one;
# the fast mode crosses -1 at :math:`a = 2/L`, and the slow mode sets the pace below it.
rates = np.linspace(0.0, 0.2, 401)
fig, ax = plt.subplots(layout="constrained")
ax.plot(rates, np.abs(1 - rates * L), label=f"fast mode, lambda = {L:.2f}")
ax.plot(rates, np.abs(1 - rates * mu), label=f"slow mode, lambda = {mu:.3f}")
ax.axhline(1.0, color="gray", lw=0.8)
ax.axvline(1 / L, color="green", ls=":", label="1/L ('auto')")
ax.axvline(2 / L, color="red", ls="--", label="2/L")
ax.set_xlabel("learning rate a")
ax.set_ylabel("|1 - a lambda|: error factor per step")
ax.set_ylim(0, 1.5)
ax.legend()
