"""The registry of methods: each a generator of blocks ``(thetas, values, gradients, steps)``.

A block is one or more consecutive iterates, stacked on a leading axis, with the objective and
its (smooth) gradient at each, and the step size that produced it. The driver
(:func:`.driver.drive`) counts iterations, tests ``tol``, catches divergence, early-stops and
keeps the history, so a method is only its update rule, one implementation each, in a module of
its own: :mod:`.gd` (the textbook update), :mod:`.sgd`, :mod:`.cg`, :mod:`.agd`, :mod:`.newton`,
:mod:`.svrg`. A new method is one generator and one line in :data:`METHODS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .agd import agd_iterates
from .cg import cg_iterates
from .gd import gd_iterates
from .newton import newton_iterates
from .run import Method
from .sgd import sgd_iterates
from .svrg import svrg

if TYPE_CHECKING:
    from .._kernels.types import Blocks
    from .run import Run

# Up to this many parameters a conjugate-gradient step on the Gram form costs microseconds,
# and so would the driver's test of it alone: the driver tests a few steps at once.
_MAX_PARAMS_FOR_BLOCKS = 64
_CG_BLOCK = 8


def _cg(run: Run) -> Blocks:
    small = not run.problem.objective.reads_data and run.coords.n_params <= _MAX_PARAMS_FOR_BLOCKS
    tol = run.options.tol or 0.0
    return cg_iterates(
        run.problem,
        run.theta,
        run.lanczos,
        block=_CG_BLOCK if small else 1,
        near=tol * tol,
        budget=run.options.max_iter,
    )


def _newton(run: Run) -> Blocks:
    return newton_iterates(run.problem, run.theta)


#: The methods, by the name ``Options.method`` gives (``solver="gd"`` with a ``batch_size``
#: runs "sgd"; ``solver="auto"`` with one and the "auto" step, "svrg"). A new method is one
#: generator of blocks and one line here.
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("gd", gd_iterates, standardised=False, plain=True),
        Method("sgd", sgd_iterates, standardised=False, batches=True, plain=True),
        Method("cg", _cg, quadratic=True, own_steps=True, refines=True),
        Method("agd", agd_iterates, refines=True),
        Method("svrg", svrg, batches=True, certified=True, refines=True),
        Method("newton", _newton),
    )
}
