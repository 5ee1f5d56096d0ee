"""
The descent as a film
=====================

The tutorial's half-MSE run, from its start (slope 0.48, intercept 0.75) at learning rate
0.01, for a million steps, as one animation made by
:func:`~gdlinreg.plotting.animate_descent`: the fitted line moves over the data while the
point moves over the loss contours. The frames are spaced geometrically in the step count
(0, 1, 2, 3, 5, ..., 1,000,000), so the quick first steps and the long crawl along the
valley floor both get their share of the few seconds of film.
"""

# %%
# The run and the film
# --------------------
# ``store_path=True`` keeps all million iterates (16 MB); the film shows 40 of them.
from gdlinreg import GDLinearRegressor
from gdlinreg.datasets import SEED_LEARNING_RATE, SEED_START, load_seed_example
from gdlinreg.plotting import animate_descent

X, y = load_seed_example()
model = GDLinearRegressor(
    solver="gd",
    learning_rate=SEED_LEARNING_RATE,
    max_iter=1_000_000,
    tol=None,
    store_path=True,
).fit(X, y, coef_init=[SEED_START[0]], intercept_init=SEED_START[1])

film = animate_descent(model, X, y, frames=40, interval=120)
print("steps shown:", ", ".join(f"{k:,}" for k in film.steps))

# %%
# What the film shows
# -------------------
# In the first few dozen steps the point drops down the steep wall of the valley: the fast
# direction of the Hessian (eigenvalue 11.83) loses 12 % of its error per step, so by step 50
# it keeps 0.2 %. The line swings up to the data. From then on the point crawls along the
# valley floor, the slow direction (eigenvalue 0.169), losing 0.17 % per step: after the
# tutorial's 1000 steps it is still visibly short of the star (the line, by then, hardly
# differs from least squares by eye); only by about 16,000 steps has it arrived, to a
# millionth of a millionth of its starting error (see :doc:`plot_slow_mode`). The last
# frames are still: the run has converged, and the remaining steps change nothing.
#
# To keep the film, save it as a GIF with matplotlib's Pillow writer (no extra dependency):
# ``film.save("descent.gif", writer="pillow")``. In Jupyter, show it with
# ``IPython.display.HTML(film.to_jshtml())``.
