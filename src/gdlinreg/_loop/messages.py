"""What a fit says in words: its stop reason, and a start it cannot use."""

from __future__ import annotations

from .._kernels import warnings as _warnings


def count(n: int, unit: str) -> str:
    """``n`` iterations in words: "1 step", "3 steps", "1 epoch" (mini-batches)."""
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def stop_message(
    reason: str, n_iter: int, max_iter: int, tol: float | None, unit: str, detail: str | None
) -> str:
    """Why the iteration stopped (``GDResult.message``); ``detail``: the verdict's own words
    for a stall that the criterion's steps do not explain."""
    criterion = "no stopping test (tol=None)" if tol is None else f"the tol={tol:g} criterion"
    ran = count(n_iter, unit)
    if reason == "tol" and tol is None:
        return f"exact after {ran}: the step is within rounding (the tol=0 criterion holds)"
    if reason == "tol":
        return f"converged: {criterion} was met after {ran}"
    if reason == "max_iter":
        limit = f"max_iter={count(max_iter, unit)}"
        if tol is None:
            return f"ran {limit} (tol=None: no stopping test)"
        return f"{limit} ran before {criterion} was met"
    if reason == "early_stopping":
        return (
            f"early stopping: the validation score stopped improving; {ran} ran "
            "and the best iterate is returned"
        )
    if reason == "callback":
        return f"a callback stopped the fit after {ran}"
    if unit == "epoch":
        return (
            f"stalled after {ran}: the epoch loss stopped improving (the noise floor of "
            f"mini-batch steps) before {criterion} held on the full objective"
        )
    criterion = "the tol=0 criterion" if tol is None else criterion
    if detail is not None:
        return f"stalled after {ran}, short of the accuracy {criterion} promises: {detail}"
    return (
        f"stalled after {ran}: rounding errors dominate before {criterion} is "
        "met (the problem is too ill-conditioned for it)"
    )


def ignored_intercept(name: str) -> None:
    """Warn that ``intercept_init`` cannot matter to the method ``name``."""
    # The standardised methods eliminate the intercept exactly (it follows from the means),
    # so a start for it cannot matter; say so rather than drop it silently.
    _warnings.warn(
        f"intercept_init has no effect with solver={name!r}, which centres the data and "
        "recovers the intercept from the means; use solver='gd' (or a numeric "
        "learning_rate) to iterate from it.",
        UserWarning,
    )


def clipped_batch(method: str, batch_size: int | None, n_samples: int) -> None:
    """Warn that a ``batch_size`` above the number of samples makes every epoch one batch
    of all of them (it is clipped, as scikit-learn's ``MLPRegressor`` says it does)."""
    if method in ("sgd", "svrg") and batch_size is not None and batch_size > n_samples:
        _warnings.warn(
            f"batch_size={batch_size} is larger than the {n_samples} training samples: it "
            f"is clipped to {n_samples}, so every epoch is one full batch (solver={method!r} "
            f"runs full-batch steps). Use batch_size <= {n_samples} for mini-batches, or "
            "batch_size=None for the full-batch solvers.",
            UserWarning,
        )


def missed_criterion(reason: str, solver: str, tol: float | None, loss: object) -> str | None:
    """The advice of the ``ConvergenceWarning`` for a fit that stopped ``reason`` short of
    its criterion; None when nothing was missed."""
    # A stall is worth a warning whatever tol is; running out of max_iter only when a tol
    # was asked for (tol=None asks for exactly max_iter steps).
    if not (reason == "stalled" or (reason == "max_iter" and tol is not None)):
        return None
    advice = (
        "use a decreasing learning_rate schedule, a larger batch_size or batch_size=None"
        if solver == "sgd"
        else "standardise X (e.g. StandardScaler) or use solver='auto'"
        if solver == "gd"
        else "check the data for near-collinear columns"
        if reason == "stalled" or loss != "huber"
        else "use solver='auto' (Newton's method for loss='huber')"
    )
    return f"Increase max_iter, loosen tol, or {advice}."
