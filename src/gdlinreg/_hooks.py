"""What the estimator wraps around a fit: scikit-learn's callbacks (sklearn >= 1.9), the
rollback that leaves a fitted model as it was when a refit fails, the pairing of a validation
set, early stopping's split of the rows, what ``partial_fit`` refuses, and the memory of
parameter values that passed scikit-learn's checks. No scikit-learn import: the callback
machinery is reached through the estimator's own methods."""

from __future__ import annotations

import importlib.metadata
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ._checks import check_sample_weight

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from numpy.typing import ArrayLike

    from ._estimator import GDLinearRegressor
    from ._kernels.types import FloatArray, Matrix
    from ._solver import UserCallback, Validation


class rollback_on_error:
    """Restore the estimator's state if the block raises: validate_data records
    n_features_in_ before the solver can fail, and a failed refit must leave the old model."""

    def __init__(self, estimator: GDLinearRegressor) -> None:
        self.estimator = estimator

    def __enter__(self) -> None:
        self.before = dict(self.estimator.__dict__)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        if kind is not None:
            state = self.estimator.__dict__
            # The callback machinery's own bookkeeping must survive for its teardown.
            keep = {k: v for k, v in state.items() if k.startswith(("_callback", "_skl_"))}
            state.clear()
            state.update(self.before)
            state.update(keep)
        return False


class CallbackBridge:
    """scikit-learn >= 1.9 callbacks: one root task per fit, one subtask per iteration. The
    root task begins when the core is ready to iterate (:meth:`begin`, called by it)."""

    def __init__(
        self,
        estimator: GDLinearRegressor,
        X: Matrix,
        y: object,
        sample_weight: ArrayLike | None = None,
    ) -> None:
        self.estimator, self.X, self.y = estimator, X, y
        # As LogisticRegression does: scorers of a weighted fit see its weights.
        self.meta = None if sample_weight is None else {"sample_weight": sample_weight}
        self.finish: Callable[[], None] = lambda: None

    def begin(self) -> UserCallback | None:
        estimator, X, y, meta = self.estimator, self.X, self.y, self.meta
        if not hasattr(estimator, "_init_callback_context"):
            return None
        if not getattr(estimator, "_skl_callbacks", None) and not hasattr(
            estimator, "_parent_callback_ctx"
        ):
            # No callback and no meta-estimator's task tree to join: the context would only
            # be built (a uuid, a timestamp) and torn down, some 4% of a small fit.
            return None
        ctx = estimator._init_callback_context(max_subtasks=estimator.max_iter)
        ctx.call_on_fit_task_begin(estimator=estimator, X=X, y=y, metadata=meta)
        if not getattr(estimator, "_skl_callbacks", None):

            def end_task() -> None:
                ctx.call_on_fit_task_end(estimator=estimator, X=X, y=y, metadata=meta)

            self.finish = end_task
            return None
        dtype = X.dtype

        def callback(
            iteration: int,
            coef: FloatArray,
            intercept: FloatArray | np.floating[Any],
            loss: float,
        ) -> bool:
            sub = ctx.subcontext(task_name="iteration")
            sub.call_on_fit_task_begin(estimator=estimator, X=X, y=y, metadata=meta)
            attributes = {"coef_": coef.astype(dtype), "intercept_": np.asarray(intercept, dtype)}
            if np.ndim(intercept) == 0:
                attributes["intercept_"] = dtype.type(intercept)
            return bool(
                sub.call_on_fit_task_end(
                    estimator=estimator,
                    X=X,
                    y=y,
                    metadata=meta,
                    reconstruction_attributes=attributes,
                )
            )

        def finish() -> None:
            ctx.call_on_fit_task_end(
                estimator=estimator, X=X, y=y, metadata=meta, reconstruction_attributes={}
            )

        self.finish = finish
        return callback


def validation_set(
    X_val: Matrix | None, y_val: ArrayLike | None, sample_weight_val: ArrayLike | None
) -> tuple[Matrix, ArrayLike, ArrayLike | None] | None:
    """``(X_val, y_val, sample_weight_val)``, None without any, or the error for half a set."""
    if X_val is None and y_val is None and sample_weight_val is None:
        return None
    if X_val is None or y_val is None:
        raise ValueError(
            "Pass both X_val and y_val (and sample_weight_val only with them), or none of them."
        )
    return X_val, y_val, sample_weight_val


def hold_out(
    X: Matrix,
    y: FloatArray,
    sample_weight: ArrayLike | None,
    fraction: float,
    rng: np.random.RandomState,
) -> tuple[Matrix, FloatArray, FloatArray | None, Validation]:
    """Early stopping's split of in-memory data: ``ceil(fraction * n)`` samples, drawn by
    ``rng`` (the estimator's ``random_state``), held out for validation."""
    n = X.shape[0]
    n_val = int(np.ceil(fraction * n))
    if n - n_val < 1:
        raise ValueError(
            f"early_stopping=True holds out validation_fraction={fraction} "
            f"of {n} samples, leaving none to train on; use more data or a smaller "
            "validation_fraction."
        )
    # The caller's weights are checked before they are split, so that the errors name
    # the shapes passed (and a scalar is spread over all samples first).
    w = None if sample_weight is None else check_sample_weight(sample_weight, n)
    order = rng.permutation(n)
    val, train = order[:n_val], np.sort(order[n_val:])
    if w is not None and not np.any(w[train] > 0):
        raise ValueError(
            "early_stopping=True held out every sample with a positive sample_weight, "
            "leaving none to train on; lower validation_fraction, change random_state, "
            "or pass X_val and y_val."
        )
    if w is not None and not np.any(w[val] > 0):
        raise ValueError(
            "early_stopping=True held out only samples of zero sample_weight, which give "
            "no validation score; raise validation_fraction, change random_state, or pass "
            "X_val and y_val."
        )
    validation = (X[val], y[val], None if w is None else w[val])
    return X[train], y[train], None if w is None else w[train], validation


def check_partial_fit(early_stopping: bool, discarded: bool) -> None:
    """What ``partial_fit`` refuses: early stopping, and a model without its statistics."""
    if early_stopping:
        raise ValueError(
            "partial_fit does not support early_stopping=True (nor does SGDRegressor's): "
            "a batch holds no validation set to stop on. Use fit, which holds out "
            "validation_fraction of the data (or takes X_val, y_val), or set "
            "early_stopping=False (set_params(early_stopping=False)) for partial_fit."
        )
    if discarded:
        raise ValueError(
            "partial_fit cannot continue this model: discard_statistics() dropped the "
            "statistics of the data it has seen, so a new batch would silently replace "
            "them. Call fit on all the data, or call partial_fit on a copy saved before "
            "discard_statistics()."
        )


class PassedChecks:
    """Combinations of parameter values that passed scikit-learn's checks, per class.

    Values are compared with their types (``True`` passing says nothing of ``1``); a
    combination with an unhashable value, or with NaN (unequal to itself), is never found,
    so it is checked every time. At most ``limit`` combinations are kept (a grid search
    revisits few).
    """

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self.passed: set[tuple[object, ...]] = set()

    @staticmethod
    def _key(cls: type, params: dict[str, Any]) -> tuple[object, ...] | None:
        # (names, values and their types as three tuples built in C: a tuple per parameter
        # cost a few microseconds of every fit)
        values = tuple(params.values())
        key = (cls, tuple(params), values, tuple(map(type, values)))
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def holds(self, cls: type, params: dict[str, Any]) -> bool:
        key = self._key(cls, params)
        return key is not None and key in self.passed

    def add(self, cls: type, params: dict[str, Any]) -> None:
        key = self._key(cls, params)
        if key is None:
            return
        if len(self.passed) >= self.limit:
            self.passed.clear()
        self.passed.add(key)


# The layout of a pickled GDLinearRegressor. Raise it when a release changes what __dict__
# holds in a way older code would misread; older releases then refuse such files clearly.
PERSISTENCE_FORMAT = 1


def package_version() -> str:
    try:
        return importlib.metadata.version("gdlinreg")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source tree
        return "unknown"


def stamped(state: dict[str, Any]) -> dict[str, Any]:
    """A model's pickled ``state`` (a copy of its ``__dict__``) with the persistence format
    and the version of gdlinreg that wrote it."""
    state["_gdlinreg_format"] = PERSISTENCE_FORMAT
    state["_gdlinreg_version"] = package_version()
    return state


def unstamped(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` without its stamp; a format newer than this release reads is refused
    before anything is loaded (a file without the stamp is format 1)."""
    state = dict(state)
    saved = state.pop("_gdlinreg_format", PERSISTENCE_FORMAT)
    version = state.pop("_gdlinreg_version", "?")
    if saved > PERSISTENCE_FORMAT:
        raise ValueError(
            f"This GDLinearRegressor was saved by gdlinreg {version} in persistence format "
            f"{saved}; gdlinreg {package_version()} reads format {PERSISTENCE_FORMAT} at most. "
            "Load it with that version (or newer) of gdlinreg, or refit."
        )
    return state
