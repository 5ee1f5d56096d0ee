"""
A real data set: diabetes, against LinearRegression and SGDRegressor
====================================================================

The diabetes data shipped with scikit-learn (442 patients, 10 features, already centred
and scaled), split into training and test sets. Four fits:

* :class:`~sklearn.linear_model.LinearRegression`, the closed-form least-squares solution;
* :class:`~gdlinreg.GDLinearRegressor` with its defaults (conjugate gradients on the
  standardised Gram form);
* textbook gradient descent, ``solver="gd"``, at the safe step ``"auto"``, for 1000 steps;
* :class:`~sklearn.linear_model.SGDRegressor`, stochastic gradient descent, without its
  default L2 penalty so that it minimises the same objective.

The last two run behind a :class:`~sklearn.preprocessing.StandardScaler`, as plain and
stochastic gradient descent need; their coefficients are mapped back to the original units.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression, SGDRegressor
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gdlinreg import GDLinearRegressor
from gdlinreg.plotting import plot_distance_to_solution, plot_loss_curves

data = load_diabetes()
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.25, random_state=0
)
models = {
    "LinearRegression": LinearRegression(),
    "GDLinearRegressor()": GDLinearRegressor(),
    "textbook gd, 1000 steps": make_pipeline(
        StandardScaler(), GDLinearRegressor(solver="gd", max_iter=1000, tol=None, store_path=True)
    ),
    "SGDRegressor": make_pipeline(
        StandardScaler(), SGDRegressor(penalty=None, max_iter=5000, tol=1e-6, random_state=0)
    ),
}
coefs = {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    if hasattr(model, "named_steps"):
        scaler, inner = model.named_steps.values()
        coefs[name] = inner.coef_ / scaler.scale_  # back to the original units
    else:
        coefs[name] = model.coef_
    print(f"{name:<24} test R^2 {model.score(X_test, y_test):.4f}   fit {1e3 * seconds:7.2f} ms")

# %%
# The coefficients
# ----------------
# The default ``GDLinearRegressor`` agrees with ``LinearRegression`` to the accuracy ``tol``
# asks for. The textbook run and SGD are near the minimiser but not at it: even standardised,
# the diabetes features are strongly collinear (blood serum measurements), so plain gradient
# descent is slow along the directions of small curvature, and SGD's noisy steps with a
# decaying step size stop short. On test data the difference hardly matters.
standardised = StandardScaler().fit_transform(X_train)
eig = np.linalg.eigvalsh(np.cov(standardised.T, bias=True))
print(f"condition number of the standardised features: {eig[-1] / eig[0]:.0f}")
reference = coefs["LinearRegression"]
for name, coef in coefs.items():
    print(f"{name:<24} largest coefficient difference {np.abs(coef - reference).max():.3g}")
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
width = 0.2
positions = np.arange(len(data.feature_names))
for i, (name, coef) in enumerate(coefs.items()):
    ax.bar(positions + (i - 1.5) * width, coef, width, label=name)
ax.set_xticks(positions, data.feature_names)
ax.set_ylabel("coefficient")
ax.set_title("diabetes: fitted coefficients")
ax.legend()

# %%
# The textbook run, step by step
# ------------------------------
# Its loss and its distance to the least-squares solution: fast at first, then slow along
# the directions of small curvature.
# (measured on the standardised features it iterates on).
textbook = models["textbook gd, 1000 steps"].named_steps["gdlinearregressor"]
plot_loss_curves({"textbook gd": textbook}, logx=True)
plot_distance_to_solution({"textbook gd": textbook}, standardised, y_train, logx=True)
