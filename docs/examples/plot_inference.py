"""
Inference on a real data set: standard errors and intervals for diabetes
========================================================================

The diabetes data shipped with scikit-learn (442 patients, 10 baseline measurements, the
disease's progression a year later). After the fit, :meth:`~gdlinreg.GDLinearRegressor.inference`
gives the classical standard errors from the statistics the fit kept (no pass over X), and
``cov_type="HC3"`` the heteroscedasticity-robust ones from one more pass. The summary is the
table statsmodels' ``OLS(...).fit().summary()`` would print; the figure shows each
coefficient with its 95% intervals, classical and robust.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes

from gdlinreg import GDLinearRegressor

data = load_diabetes()
X, y = data.data, data.target
model = GDLinearRegressor(tol=1e-14).fit(X, y)

classical = model.inference()  # from the kept statistics
robust = model.inference(X, y, cov_type="HC3")  # one pass over X
print(classical.summary())

# %%
# The summary names the features ``x0`` ... ``x9`` (a NumPy X has no column names; fit on a
# pandas DataFrame to see its own). By name, and which differ from zero at 5%:
names = list(data.feature_names)
for name, p_c, p_r in zip(names, classical.p_value[1:], robust.p_value[1:], strict=True):
    verdict = "yes" if p_r < 0.05 else "no"
    print(f"{name:4s}  p classical {p_c:8.2g}   p HC3 {p_r:8.2g}   significant (HC3): {verdict}")

# %%
# Coefficients with their 95% intervals. Here the two kinds nearly agree: the residuals'
# spread hardly depends on the features, and with n = 442 rows and 11 parameters the
# leverages are small.
fig, ax = plt.subplots(figsize=(7, 4))
positions = np.arange(len(names))
for offset, res, label in [(-0.15, classical, "classical"), (0.15, robust, "HC3")]:
    ci = res.conf_int()[1:]
    coef = res.coef[1:]
    ax.errorbar(
        coef,
        positions + offset,
        xerr=[coef - ci[:, 0], ci[:, 1] - coef],
        fmt="o",
        capsize=3,
        label=label,
    )
ax.axvline(0.0, color="grey", lw=0.8)
ax.set_yticks(positions, names)
ax.invert_yaxis()
ax.set_xlabel("coefficient (units of y per unit of the scaled feature)")
ax.set_title("Diabetes: coefficients and 95% confidence intervals")
ax.legend()
fig.tight_layout()
plt.show()
