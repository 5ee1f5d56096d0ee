"""A fit that raises leaves a fitted model as it was."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from types import TracebackType


class rollback_on_error:
    """Restore the estimator's state if the block raises: validate_data records
    n_features_in_ before the solver can fail, and a failed refit must leave the old model.
    ``estimator``: any object whose state is its ``__dict__``."""

    def __init__(self, estimator: object) -> None:
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
