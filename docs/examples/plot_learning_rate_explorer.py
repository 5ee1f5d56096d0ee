r"""
A learning-rate explorer: sliders for the step and the momentum
================================================================

:func:`~gdlinreg.plotting.explore_learning_rate` draws the path of textbook gradient descent
on the loss contours and its excess loss per step, with a slider for the step :math:`a` and
one for heavy-ball momentum :math:`\beta`; moving either reruns the descent and redraws. The
step slider's green band is the stable region, :math:`a < 2(1 + \beta)/L`, with :math:`1/L`
and :math:`2/L` marked; the momentum slider's band is the momenta that keep the current step
stable.

In Jupyter, run ``%matplotlib widget`` first and drag the sliders. On this page, which is
static, each figure sets them in code with ``slider.set_val``, which does the same.
"""

# %%
# The safe step 1/L
# -----------------
# The tutorial's five points and start; 200 steps. By default the step is :math:`1/L`, with
# :math:`L = 11.83` the Hessian's largest eigenvalue: the path runs down the steep wall in a
# few steps, then along the valley floor.
from gdlinreg.datasets import SEED_START, load_seed_example
from gdlinreg.plotting import explore_learning_rate

X, y = load_seed_example()
explorer = explore_learning_rate(X, y, start=SEED_START)
L = explorer.lipschitz
print(f"L = {L:.4f}, 1/L = {1 / L:.4f}, 2/L = {2 / L:.4f}")

# %%
# Just below 2/L: the zigzag
# --------------------------
# At 0.168 the fast direction's factor :math:`1 - aL` is :math:`-0.988`: the path bounces
# across the valley, each bounce 1.2 % smaller, while the slow direction shrinks 17 times as
# fast as at the tutorial's 0.01.
explorer = explore_learning_rate(X, y, start=SEED_START)
explorer.rate_slider.set_val(0.168)

# %%
# Above 2/L: divergence
# ---------------------
# At 0.2 the bounces grow by :math:`|1 - 0.2L| = 1.37` per step; gradient descent raises
# :class:`~gdlinreg.DivergenceError` once the loss has grown ten thousandfold, and the path
# shown ends there.
explorer = explore_learning_rate(X, y, start=SEED_START)
explorer.rate_slider.set_val(0.2)
print("diverged:", explorer.diverged)

# %%
# Momentum widens the stable region
# ---------------------------------
# Heavy-ball momentum :math:`\beta = 0.5` moves the bound to :math:`2(1 + \beta)/L = 0.254`:
# the same step 0.2 now converges, its bounces across the valley damped by a factor
# :math:`\sqrt{\beta} = 0.71` per step.
explorer = explore_learning_rate(X, y, start=SEED_START)
explorer.rate_slider.set_val(0.2)
explorer.momentum_slider.set_val(0.5)
print("diverged:", explorer.diverged)
