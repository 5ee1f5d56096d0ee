"""What the estimator wraps around a fit: scikit-learn's callbacks (sklearn >= 1.9), and the
rollback that leaves a fitted model as it was when a refit fails. No scikit-learn import: the
callback machinery is reached through the estimator's own methods."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from numpy.typing import ArrayLike

    from ._estimator import GDLinearRegressor
    from ._solver import UserCallback
    from ._typing import FloatArray, Matrix


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
