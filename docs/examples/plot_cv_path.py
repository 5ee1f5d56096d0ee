"""
Cross-validating the lasso path from one pass: GDLinearRegressorCV
==================================================================

:class:`~gdlinreg.GDLinearRegressorCV` chooses the ``alpha`` of a penalty by K-fold
cross-validation, every fold and every alpha of the grid from one pass over the data. Here,
on the diabetes data shipped with scikit-learn (442 patients, 10 features), it
cross-validates the lasso (``penalty="l1"``) over 50 alphas with five folds, and it is
compared with :class:`~sklearn.linear_model.LassoCV` on the same folds and the same grid.

The alpha is per sample, as in :class:`~gdlinreg.GDLinearRegressor`: ``alpha=a`` is
``Lasso(alpha=a)``, so ``LassoCV`` takes the grid as it is.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LassoCV
from sklearn.model_selection import KFold

from gdlinreg import GDLinearRegressor, GDLinearRegressorCV

data = load_diabetes()
X, y = data.data, data.target
cv = KFold(5, shuffle=True, random_state=0)
model = GDLinearRegressorCV(penalty="l1", alphas=50, cv=cv).fit(X, y)
print(f"chosen alpha_ = {model.alpha_:.4g}, cross-validated MSE = {-model.best_score_:.1f}")
print("alphas_ from", f"{model.alphas_[0]:.4g} down to {model.alphas_[-1]:.4g}")
print("mse_path_ shape (n_alphas, n_splits):", model.mse_path_.shape)

# %%
# Why one pass is enough
# ----------------------
# A least-squares fit, with or without a penalty, never needs the rows themselves, only a
# few sums over them: the total weight, the mean of every column of :math:`[X \mid y]`, and
# the centred scatter matrix (the sums of products of the columns, after subtracting their
# means), a small :math:`(d + 1) \times (d + 1)` table. These summaries have a useful
# property: the summary of two sets of rows can be computed from the summaries of each set
# alone, without looking at the rows again (the two means are averaged by weight, and the
# two scatters are added with a correction for the distance between the means). We say the
# summaries *merge*.
#
# So ``fit`` reads the data once and puts each row into the summary of its test fold: five
# summaries for five folds. The training set of a split is all the other folds, so its
# summary is the merge of the other four (the fold is never *subtracted* from the total:
# subtracting nearly equal large numbers would lose digits). Every alpha of the path is then
# fitted on that small table (warm-started from the previous alpha, so each fit takes a few
# steps), and the held-out mean squared error of each fit is also a formula in the test
# fold's summary: no prediction is made, and no row is read a second time. The final model,
# at the best alpha, is fitted on the merge of all five summaries.
#
# The curve below is what was computed: the mean over the folds of the held-out MSE at each
# alpha, the band one standard deviation of the folds either side, and the chosen alpha,
# where the mean is lowest.
mean = model.mse_path_.mean(axis=1)
spread = model.mse_path_.std(axis=1)
fig, ax = plt.subplots(layout="constrained")
ax.plot(model.alphas_, model.mse_path_, color="0.8", linewidth=0.8)
ax.plot(model.alphas_, mean, color="C0", label="mean over the 5 folds")
ax.fill_between(model.alphas_, mean - spread, mean + spread, color="C0", alpha=0.2, label="± 1 std")
ax.axvline(model.alpha_, color="k", linestyle="--", label=f"alpha_ = {model.alpha_:.3g}")
ax.set_xscale("log")
ax.set_xlabel("alpha")
ax.set_ylabel("held-out mean squared error")
ax.set_title("lasso path, 5-fold cross-validation (grey: each fold)")
ax.legend()

# %%
# The coefficients along the path
# -------------------------------
# The cross-validation keeps only the errors of the folds' fits. The coefficients drawn
# here are those of :class:`~gdlinreg.GDLinearRegressor` fitted on all the rows at each
# alpha of ``model.alphas_``: the same problem that the final refit solves at ``alpha_``.
# At the largest alpha every coefficient is zero (that is how the grid starts); as alpha
# decreases the features enter one by one. The dots are ``model.coef_``: they lie on the
# path, at the dashed line (to the fits' ``tol``, on coefficients of a few hundred).
path = np.array([GDLinearRegressor(penalty="l1", alpha=a).fit(X, y).coef_ for a in model.alphas_])
at_best = path[np.flatnonzero(model.alphas_ == model.alpha_)[0]]
print(f"largest |coef_ - path at alpha_|: {np.abs(model.coef_ - at_best).max():.2g}")
fig, ax = plt.subplots(layout="constrained")
for j, name in enumerate(data.feature_names):
    ax.plot(model.alphas_, path[:, j], label=name)
ax.plot(np.full(len(model.coef_), model.alpha_), model.coef_, "ko", markersize=4)
ax.axvline(model.alpha_, color="k", linestyle="--")
ax.set_xscale("log")
ax.set_xlabel("alpha")
ax.set_ylabel("coefficient")
ax.set_title("lasso coefficients on all the data")
ax.legend(ncol=2, fontsize="small")

# %%
# Against LassoCV
# ---------------
# ``LassoCV`` on the same folds and the same grid, with its ``tol`` tightened so that both
# reach the minimisers: the same ``alpha_``, fold errors that agree to about 1e-9 or
# better (both solvers stop at a tolerance, not at the exact minimiser) and the same final
# coefficients. ``LassoCV`` refits each training fold from its rows by coordinate descent.
# On 442 rows that is quick, and ``LassoCV`` is the faster of the two: the time of
# ``GDLinearRegressorCV`` goes into its 250 small fits (5 folds times 50 alphas), whatever
# the number of rows (times: best of three runs).


def best_time(estimator, X, y, repeat=3):
    """The best wall time of ``repeat`` fits, and the last fitted estimator."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        estimator.fit(X, y)
        times.append(time.perf_counter() - start)
    return min(times), estimator


def compare(X, y, repeat):
    ours_s, ours = best_time(GDLinearRegressorCV(penalty="l1", alphas=50, cv=cv), X, y, repeat)
    lasso = LassoCV(alphas=ours.alphas_, cv=cv, tol=1e-10, max_iter=100_000)
    theirs_s, theirs = best_time(lasso, X, y, repeat)
    # LassoCV's mse_path_ has the same shape (n_alphas, n_splits) and the same (descending)
    # order of the alphas.
    rel = np.abs(ours.mse_path_ / theirs.mse_path_ - 1).max()
    print(f"n = {len(y)}: same alpha_: {ours.alpha_ == theirs.alpha_} ({ours.alpha_:.4g})")
    print(f"  max relative difference of mse_path_: {rel:.1e}")
    print(f"  largest coefficient difference: {np.abs(ours.coef_ - theirs.coef_).max():.1e}")
    print(f"  GDLinearRegressorCV {ours_s:.3f} s, LassoCV {theirs_s:.3f} s")


compare(X, y, repeat=3)

# %%
# The single pass pays off when there are many rows: ``LassoCV``'s work grows with the rows
# of every training fold, five times over, while ``GDLinearRegressorCV`` reads them once and
# then works on :math:`(d + 1) \times (d + 1)` tables, whatever their number. A synthetic
# problem with 50,000 rows and 20 features, five of them useful (one run each; times vary
# with the machine):
rng = np.random.default_rng(0)
X_big = rng.standard_normal((50_000, 20))
y_big = X_big[:, :5] @ [3.0, -2.0, 1.0, 0.5, 0.2] + rng.standard_normal(50_000)
compare(X_big, y_big, repeat=1)

# %%
# When to use GridSearchCV instead
# --------------------------------
# ``GDLinearRegressorCV`` is fast because everything it needs is in the summaries, which
# holds for the squared losses and for a penalty's ``alpha`` and ``l1_ratio`` only. Use
# :class:`~sklearn.model_selection.GridSearchCV` around
# :class:`~gdlinreg.GDLinearRegressor` (see :doc:`plot_grid_search_pipeline`) for
# anything else: the Huber loss, other parameters (the solver, the learning rate, the
# number of steps, early stopping), and above all a :class:`~sklearn.pipeline.Pipeline`
# whose preprocessing, a :class:`~sklearn.preprocessing.StandardScaler` say, must be fitted
# again on each training fold: ``GDLinearRegressorCV`` sees the rows once and cannot refit
# a scaler per fold. Any scikit-learn scorer works with ``scoring=``, at the cost of one
# more pass over each fold's test rows (a scorer needs predictions); ``scoring=None``, the
# mean squared error, needs none.
