"""scikit-learn's callbacks (sklearn >= 1.9), reached through the estimator's own methods
(``CallbackSupportMixin``'s): no scikit-learn import here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

    from .._kernels.types import FloatArray, Matrix
    from .._loop.solve import UserCallback


class Estimator(Protocol):
    """What the bridge reads of the estimator by name; the callback machinery's methods and
    attributes (``_init_callback_context``, ``_skl_callbacks``, ...) are looked up, as they
    exist only under scikit-learn >= 1.9."""

    max_iter: int


class CallbackBridge:
    """scikit-learn >= 1.9 callbacks: one root task per fit, one subtask per iteration. The
    root task begins when the core is ready to iterate (:meth:`begin`, called by it)."""

    def __init__(
        self,
        estimator: Estimator,
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
        init_context = getattr(estimator, "_init_callback_context", None)
        if init_context is None:
            return None
        if not getattr(estimator, "_skl_callbacks", None) and not hasattr(
            estimator, "_parent_callback_ctx"
        ):
            # No callback and no meta-estimator's task tree to join: the context would only
            # be built (a uuid, a timestamp) and torn down, some 4% of a small fit.
            return None
        ctx = init_context(max_subtasks=estimator.max_iter)
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
