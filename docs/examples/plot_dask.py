"""
Bigger than memory: fitting on a Dask array
===========================================

For the squared losses :class:`~gdlinreg.GDLinearRegressor` reduces every row chunk of a Dask
array to its centred sufficient statistics, merges them stably, and iterates locally on the
small ``d x d`` problem: one pass over the data, which never has to fit in memory at once.
Here the data are generated chunk by chunk from a seed, with large feature offsets, and the
Dask fit is compared with the in-memory fit of the same numbers and with ``partial_fit``
over the chunks. The threaded scheduler keeps the example self-contained; a
``distributed.Client`` runs the same code on a cluster (see the Dask page of the guide).

To run it yourself, install gdlinreg with the ``dask`` extra (``pip install ".[dask]"`` in a
clone of the repository); this example needs only ``dask[array]``.
"""

# %%
import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np

from gdlinreg import GDLinearRegressor

dask.config.set(scheduler="threads")
n, d, chunk = 200_000, 5, 25_000
coef = np.array([1.5, -2.0, 0.5, 3.0, -1.0])
rs = da.random.RandomState(0)
X = rs.normal(size=(n, d), chunks=(chunk, d)) * [1, 2, 5, 10, 0.1] + [0, 1e3, -50, 1e5, 7]
y = X @ coef + 4.0 + rs.normal(size=n, chunks=chunk)

lazy = GDLinearRegressor().fit(X, y)  # one pass over the chunks
X_mem, y_mem = dask.compute(X, y)  # only to compare: small enough here
in_memory = GDLinearRegressor().fit(X_mem, y_mem)
incremental = GDLinearRegressor()
for block in range(0, n, chunk):
    incremental.partial_fit(X_mem[block : block + chunk], y_mem[block : block + chunk])

for name, model in [("dask", lazy), ("in memory", in_memory), ("partial_fit", incremental)]:
    error = np.max(np.abs(model.coef_ - in_memory.coef_) / np.abs(in_memory.coef_))
    print(
        f"{name:>12}: coef {np.round(model.coef_, 4)}, intercept {model.intercept_:.4f}, "
        f"max relative difference to the in-memory fit {error:.1e}"
    )

# %%
# ``predict`` on Dask input stays lazy, chunk by chunk; ``score`` is one reduction.
prediction = lazy.predict(X)
print(type(prediction).__name__, prediction.chunks[0][:3], "R^2:", round(lazy.score(X, y), 6))

fig, ax = plt.subplots(figsize=(6, 3))
positions = np.arange(d)
ax.bar(positions - 0.2, coef, width=0.4, label="true")
ax.bar(positions + 0.2, lazy.coef_, width=0.4, label="Dask fit")
ax.set_xticks(positions, [f"x{j}" for j in range(d)])
ax.set_ylabel("coefficient")
ax.set_title("Coefficients fitted from 8 chunks in one pass")
ax.legend()
fig.tight_layout()
plt.show()
