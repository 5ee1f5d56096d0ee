"""Every "how" setting of a fit in one frozen object, validated once.

:class:`Options` is built from the estimator's parameters or from ``gradient_descent``'s
arguments (:meth:`Options.from_params`, which also builds the loss, penalty and constraint
objects, so a loss's own parameter such as Huber's ``epsilon`` never travels further), and
chooses the method that runs (``"gd"``, ``"sgd"``, ``"cg"``, ``"agd"``, ``"newton"`` or
``"svrg"``, see :data:`gdlinreg._loop.methods.METHODS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._protocols.source import Batches, DataForm, honours
from ..losses import get_loss
from ..penalties import get_constraint, get_penalty
from ..schedules import get_schedule

if TYPE_CHECKING:
    from .._kernels.types import LearningRate
    from .._protocols.registry import Constraint, Loss, Penalty
    from .._protocols.source import Source

    RandomState = int | np.random.RandomState | np.random.Generator | None

#: Solvers: textbook "gd" (mini-batch "sgd" with ``batch_size``), mini-batch "sgd" by name
#: (the same method: it needs a ``batch_size``), conjugate gradients "cg", Nesterov-accelerated
#: "agd", variance-reduced mini-batches "svrg", and "auto", which picks among them.
SOLVERS = ("auto", "gd", "sgd", "cg", "agd", "svrg")

#: The parameters :meth:`Options.from_params` reads, with gradient_descent's defaults.
DEFAULTS: dict[str, Any] = {
    "loss": "half_mse",
    "epsilon": 1.35,
    "penalty": None,
    "alpha": 1e-4,
    "l1_ratio": 0.15,
    "positive": False,
    "solver": "auto",
    "learning_rate": "auto",
    "max_iter": 1000,
    "tol": 1e-10,
    "fit_intercept": True,
    "momentum": 0.0,
    "nesterovs_momentum": False,
    "line_search": False,
    "batch_size": None,
    "shuffle": True,
    "random_state": None,
    "n_iter_no_change": 5,
    "precompute": "auto",
    "return_path": False,
    "verbose": 0,
}


@dataclass(frozen=True)
class Options:
    """The settings of one fit, checked together. ``method`` is what runs; ``fixed`` is True
    when ``learning_rate`` is a number or "auto" (no schedule); ``gram`` whether the objective
    is the Gram form (the statistics) rather than the data form, settled with the method by
    :meth:`for_source` once the data's shape is known. ``standardise``: iterate on the
    centred, standardised coordinates even where the method would take the user's (the
    textbook "sgd" epoch of a streamed Huber ``partial_fit``, which sets it). ``conditioning``:
    the result reports ``condition_number`` (a penalty path's fits, whose results give only
    their coefficients, skip its eigenvalues)."""

    loss: Loss
    penalty: Penalty | None
    constraint: Constraint | None
    method: str
    fixed: bool
    learning_rate: LearningRate
    max_iter: int
    tol: float | None
    fit_intercept: bool
    momentum: float
    nesterov: bool
    line_search: bool
    batch_size: int | None
    shuffle: bool
    random_state: RandomState
    n_iter_no_change: int
    precompute: bool | str
    return_path: bool
    verbose: int
    gram: bool = False
    standardise: bool = False
    conditioning: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Options:
        """Check ``params`` (the names of :data:`DEFAULTS`; missing ones take the default)
        and build the loss, penalty and constraint objects."""
        # Options of the very same values (the same objects: a grid search's clones share
        # them, as do default arguments) are those built before: building them visits five
        # modules, some 8% of a small fit when their code has left the cache. Only strings,
        # numbers, booleans and None qualify, whose Options depend on nothing but them (and
        # identity tells -0.0 from 0.0); the entry keeps them alive, so no id is reused.
        values = tuple(params.values())
        key = None
        if all(type(v) in _ATOMS for v in values):
            key = (*params, *map(id, values))
            hit = _MEMO.get(key)
            if hit is not None:
                return hit[1]
        options = cls._build(params)
        if key is not None:
            if len(_MEMO) >= _MEMO_SIZE:
                _MEMO.clear()
            _MEMO[key] = (values, options)
        return options

    @classmethod
    def _build(cls, params: Mapping[str, Any]) -> Options:
        unknown = set(params) - set(DEFAULTS)
        if unknown:  # (a programming error inside gdlinreg, never a user's)
            raise TypeError(f"unknown options {sorted(unknown)}")
        p = {**DEFAULTS, **params}
        loss = get_loss(p["loss"], epsilon=p["epsilon"])
        penalty = get_penalty(p["penalty"], p["alpha"], p["l1_ratio"])
        constraint = get_constraint(p["positive"])
        if p["solver"] not in SOLVERS:
            raise ValueError(f"solver={p['solver']!r} is not a known solver; use one of {SOLVERS}.")
        fixed = _check_learning_rate(p["learning_rate"])
        _check_counts(p)
        if not isinstance(p["precompute"], bool) and p["precompute"] != "auto":
            raise ValueError(f"precompute must be 'auto', True or False; got {p['precompute']!r}.")
        smooth = (penalty is None or penalty.is_smooth) and constraint is None
        method = choose_method(p, loss, smooth, fixed)
        return cls(
            loss=loss,
            penalty=penalty,
            constraint=constraint,
            method=method,
            fixed=fixed,
            learning_rate=p["learning_rate"],
            max_iter=int(p["max_iter"]),
            tol=p["tol"],
            fit_intercept=bool(p["fit_intercept"]),
            momentum=p["momentum"],
            nesterov=bool(p["nesterovs_momentum"]),
            line_search=bool(p["line_search"]),
            batch_size=p["batch_size"],
            shuffle=bool(p["shuffle"]),
            random_state=p["random_state"],
            n_iter_no_change=int(p["n_iter_no_change"]),
            precompute=p["precompute"],
            return_path=bool(p["return_path"]),
            verbose=p["verbose"],
        )

    def for_source(self, source: Source) -> Options:
        """These options with the method and the objective form settled for ``source``:
        "newton" gives way to "agd" beyond :data:`NEWTON_MAX_PARAMS` parameters (its p x p
        Hessian would cost more than it saves); the Gram form (statistics) or the data form
        (passes over the rows) as ``precompute`` says, "auto" asking the source's cost model.

        Here, once, the source is held to what the choice needs: mini-batches a source of
        :class:`~gdlinreg._protocols.source.Batches`, the data form one of ``DataForm`` (the
        merged statistics of ``partial_fit`` have neither; it asks for neither)."""
        method = self.method
        n_params = source.n_features + int(self.fit_intercept and not self.loss.is_quadratic)
        if method == "newton" and n_params > NEWTON_MAX_PARAMS:
            method = "agd"
        gram = False
        if method not in ("sgd", "svrg"):  # (mini-batches read rows, never statistics)
            if self.precompute is True and not self.loss.is_quadratic:
                raise ValueError("precompute=True needs a quadratic loss (half_mse or mse).")
            gram = self.loss.is_quadratic and (
                source.prefer_gram() if self.precompute == "auto" else bool(self.precompute)
            )
        elif not honours(source, Batches):
            raise ValueError(
                f"batch_size={self.batch_size}: mini-batches read the rows, and this fit has "
                "only their statistics; use batch_size=None."
            )
        if not gram and not honours(source, DataForm):
            raise ValueError(
                f"precompute={self.precompute!r}: the data form reads the rows, and this fit "
                "has only their statistics; use precompute=True with a squared loss."
            )
        # (dataclasses.replace checks every field again: 7 us, a percent of a small fit)
        settled = object.__new__(Options)
        settled.__dict__.update(self.__dict__, method=method, gram=gram)
        return settled


#: Beyond this many parameters Newton's p x p Hessian costs more than it saves: "agd" runs.
NEWTON_MAX_PARAMS = 256


def path_options(params: Mapping[str, Any], alpha: float) -> Options:
    """The options of one fit of a penalty path (``GDLinearRegressorCV``) at ``alpha``: the
    squared loss on the statistics, by (proximal) Newton's method, whose step on the Gram form
    is one p x p solve and no pass: warm-started from the fit at the alpha before, it ends in
    a step or two (conjugate gradients took some 75 steps an alpha, each with the driver's
    test). Beyond :data:`NEWTON_MAX_PARAMS` parameters, "agd" (:meth:`Options.for_source`)."""
    options = Options.from_params({**params, "alpha": alpha, "precompute": True})
    settled = object.__new__(Options)
    settled.__dict__.update(options.__dict__, method="newton", conditioning=False)
    return settled


_ATOMS = (str, int, float, bool, type(None))
_MEMO: dict[tuple[object, ...], tuple[tuple[object, ...], Options]] = {}
_MEMO_SIZE = 256


def _check_learning_rate(learning_rate: LearningRate) -> bool:
    """Refuse an invalid ``learning_rate``; return whether it is fixed (a number or "auto")."""
    fixed = isinstance(learning_rate, str) and learning_rate == "auto"
    if not isinstance(learning_rate, (str, bool)) and _is_scalar(learning_rate):
        rate = cast(float, learning_rate)  # a scalar, not a string: a number
        if not (np.isfinite(rate) and rate > 0):
            raise ValueError(
                f"learning_rate must be a float > 0, 'auto', a schedule name or "
                f"a callable; got {learning_rate!r}."
            )
        fixed = True
    elif isinstance(learning_rate, str) and not fixed:
        get_schedule(learning_rate)  # raises, naming the choices, for an unknown name
    elif not fixed and not callable(learning_rate):
        raise ValueError(
            f"learning_rate must be a float > 0, 'auto', a schedule name or a "
            f"callable; got {learning_rate!r}."
        )
    return fixed


def _check_counts(p: Mapping[str, Any]) -> None:
    """``max_iter``, ``tol``, ``momentum``, ``batch_size`` and ``n_iter_no_change``."""
    max_iter, tol, batch_size = p["max_iter"], p["tol"], p["batch_size"]
    if isinstance(max_iter, bool) or not (
        isinstance(max_iter, (int, np.integer)) and max_iter >= 1
    ):
        raise ValueError(f"max_iter must be an integer >= 1; got {max_iter!r}.")
    if tol is not None and not (_is_scalar(tol) and tol >= 0):
        raise ValueError(
            f"tol must be a float >= 0, or None to run exactly max_iter steps; got {tol!r}."
        )
    if not (_is_scalar(p["momentum"]) and 0 <= p["momentum"] < 1):
        raise ValueError(f"momentum must be in [0, 1); got {p['momentum']!r}.")
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(
            f"batch_size must be None (full batch) or an integer >= 1; got {batch_size!r}."
        )
    patience = p["n_iter_no_change"]
    if isinstance(patience, bool) or not (
        isinstance(patience, (int, np.integer)) and patience >= 1
    ):
        raise ValueError(f"n_iter_no_change must be an integer >= 1; got {patience!r}.")


def choose_method(p: Mapping[str, Any], loss: Loss, smooth: bool, fixed: bool) -> str:
    """The method that runs for ``solver``: with a batch size, "svrg" for the "auto" step
    without momentum, "sgd" otherwise; without, "gd" with a numeric step, a schedule or
    momentum, "cg" for a quadratic, smooth problem with the "auto" step, "newton" for a loss
    with a second derivative (Huber) with the "auto" step, "agd" otherwise
    (``solver="auto"``); or the solver named, if it supports the other options ("sgd" is
    "gd" on mini-batches: the same method, which needs a ``batch_size``)."""
    solver, batch_size, momentum = p["solver"], p["batch_size"], p["momentum"]
    line_search, rate = p["line_search"], p["learning_rate"]
    auto_step = isinstance(rate, str) and rate == "auto"
    if line_search and (momentum or batch_size is not None):
        raise ValueError(
            "line_search=True needs full batches and momentum=0: backtracking "
            "checks the decrease of the whole objective along one gradient step."
        )
    if solver == "svrg":
        if batch_size is None or momentum or not fixed:
            raise ValueError(
                "solver='svrg' needs a batch_size, no momentum and a fixed learning_rate "
                "(a float or 'auto'); use solver='gd' with a batch_size for momentum or "
                "schedules, or batch_size=None for the full-batch solvers."
            )
        return "svrg"
    if solver == "sgd" and batch_size is None:
        raise ValueError(
            "solver='sgd' (mini-batch stochastic gradient descent) needs a batch_size; "
            "set batch_size to the number of samples per update, or use solver='gd' for "
            "full batches."
        )
    if solver == "auto" and batch_size is not None and auto_step and not momentum:
        return "svrg"
    if solver in ("auto", "gd", "sgd") and batch_size is not None:
        return "sgd"
    # A number is a step: the textbook update in the user's coordinates, as a learner
    # who sets one expects; the accelerated methods take a number only by name.
    if solver == "gd" or (solver == "auto" and (not auto_step or momentum)):
        return "gd"
    cg_ok = loss.is_quadratic and smooth and auto_step and not line_search
    if solver == "auto":
        # A loss with a second derivative (Huber): its Hessian is piecewise constant, so
        # Newton's steps end in a handful where first-order steps needed thousands.
        newton_ok = hasattr(loss, "second_derivative") and auto_step and not line_search
        return "cg" if cg_ok else "newton" if newton_ok else "agd"
    if batch_size is not None or momentum or not fixed:
        raise ValueError(
            f"solver={solver!r} takes full batches, no momentum and a fixed "
            "learning_rate (a float or 'auto'); use solver='gd' for mini-batches, "
            "momentum or schedules."
        )
    if solver == "cg" and not cg_ok:
        raise ValueError(
            "solver='cg' needs a squared loss (half_mse or mse), at most an 'l2' "
            "penalty, positive=False and learning_rate='auto' (it picks its own "
            "steps by exact line search); use solver='agd' otherwise."
        )
    return cast(str, solver)


def _is_scalar(x: object) -> bool:
    # np.isscalar, without its type guard: that narrows to every scalar type NumPy knows
    # (str, bytes, complex...), which the comparisons that follow it would then refuse.
    # (A float or an int first: np.isscalar asks abstract base classes, slower.)
    return type(x) in (float, int) or bool(np.isscalar(x))
