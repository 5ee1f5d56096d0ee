"""
GridSearchCV over a Pipeline
============================

:class:`~gdlinreg.GDLinearRegressor` is a scikit-learn regressor, so it goes into a
:class:`~sklearn.pipeline.Pipeline` behind a :class:`~sklearn.preprocessing.StandardScaler`
and its parameters can be tuned by :class:`~sklearn.model_selection.GridSearchCV` like any
other. Here textbook gradient descent with a fixed number of steps (``tol=None``) is tuned
over the learning rate and the number of steps, on features with large offsets and mixed
units.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gdlinreg import GDLinearRegressor
from gdlinreg.datasets import make_problem

X, y, coef, intercept = make_problem(300, 6, offset=1000.0, scale=50.0, noise=5.0, random_state=0)
pipe = make_pipeline(StandardScaler(), GDLinearRegressor(solver="gd", tol=None))
rates = [0.01, 0.03, 0.1, 0.3, "auto"]
steps = [3, 10, 30, 100, 300]
search = GridSearchCV(
    pipe,
    {"gdlinearregressor__learning_rate": rates, "gdlinearregressor__max_iter": steps},
    cv=KFold(5, shuffle=True, random_state=0),
    error_score="raise",
)
search.fit(X, y)
print("best:", search.best_params_, f"R^2 = {search.best_score_:.4f}")

# %%
# The cross-validated :math:`R^2` over the grid. Scaled features make every learning rate up
# to ``"auto"`` (:math:`1/L`) stable; a larger step reaches the least-squares fit in fewer
# steps, and once there more steps change nothing.
scores = search.cv_results_["mean_test_score"].reshape(len(rates), len(steps))
fig, ax = plt.subplots(layout="constrained")
image = ax.imshow(scores, cmap="viridis", vmin=max(scores.min(), -1.0), vmax=1.0)
for i in range(len(rates)):
    for j in range(len(steps)):
        shade = "white" if scores[i, j] < 0.5 else "black"
        ax.text(j, i, f"{scores[i, j]:.2f}", ha="center", va="center", color=shade)
ax.set_xticks(range(len(steps)), [str(s) for s in steps])
ax.set_yticks(range(len(rates)), [str(r) for r in rates])
ax.set_xlabel("max_iter (steps)")
ax.set_ylabel("learning_rate")
ax.set_title("cross-validated R^2")
fig.colorbar(image, ax=ax)

# %%
# The best pipeline agrees with the closed-form least-squares fit.
best = search.best_estimator_
A = np.hstack([X, np.ones((len(X), 1))])
reference, *_ = np.linalg.lstsq(A, y, rcond=None)
scaler, model = best.named_steps.values()
raw_coef = model.coef_ / scaler.scale_
print("largest coefficient difference:", np.abs(raw_coef - reference[:-1]).max())
