"""
Conditioning: centring, scaling and acceleration
================================================

A single feature with a large offset, such as a year, makes textbook gradient descent
crawl: the slope and the intercept are strongly coupled, and the condition number of the
Hessian is enormous. Centring removes the coupling, scaling to unit variance removes the
units, and accelerated methods need far fewer steps for what remains. gdlinreg's default
solvers do all three on their own; textbook ``solver="gd"`` does none.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from gdlinreg import GDLinearRegressor
from gdlinreg.plotting import plot_distance_to_solution

rng = np.random.default_rng(0)
years = rng.uniform(1990, 2020, size=60)
y = 0.3 * (years - 2000) + 12 + rng.normal(scale=1.0, size=years.size)
X = years.reshape(-1, 1)

A = np.hstack([X, np.ones_like(X)])
eig = np.linalg.eigvalsh(A.T @ A / len(y))
print(f"condition number of the raw problem: {eig[1] / eig[0]:.3g}")


def fit(X, solver, learning_rate="auto", steps=300):
    model = GDLinearRegressor(
        solver=solver, learning_rate=learning_rate, max_iter=steps, tol=None, store_path=True
    )
    return model.fit(X, y)


# %%
# The three solvers on the raw years
# ----------------------------------
# Textbook gradient descent at its safe step :math:`1/L` hardly moves in 300 steps.
# Nesterov's accelerated gradient (``"agd"``) and conjugate gradients (``"cg"``) work on the
# centred and standardised problem and reach the least-squares solution to rounding;
# ``"cg"`` needs a single step, as the standardised one-feature problem is perfectly
# conditioned.
runs = {
    "gd": fit(X, "gd"),
    "agd": fit(X, "agd", learning_rate=0.5, steps=60),
    "cg": fit(X, "cg", steps=3),
}
for name, model in runs.items():
    print(f"{name:>3}: slope {model.coef_[0]:.6f}, intercept {model.intercept_:.4f}")

# %%
# Textbook gradient descent after centring and scaling
# ----------------------------------------------------
# On the right, the same textbook iteration on centred years (condition number: the
# variance of the years, about 75) and on standardised years (condition number 1), each
# measured in its own coordinates.
centred = X - X.mean()
standardised = centred / X.std()
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
plot_distance_to_solution(runs, X, y, ax=left)
left.set_title("the solvers on raw years")
plot_distance_to_solution({"gd, centred": fit(centred, "gd")}, centred, y, ax=right)
plot_distance_to_solution({"gd, standardised": fit(standardised, "gd")}, standardised, y, ax=right)
right.set_title("textbook gd on transformed years")
right.legend()
