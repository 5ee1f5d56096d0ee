"""What ``partial_fit`` refuses."""

from __future__ import annotations


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
