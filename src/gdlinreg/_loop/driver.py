"""The one loop every method runs under: counting, stopping, divergence, history, callbacks.

A method yields blocks ``(thetas, values, grads, steps)``; :func:`drive` consumes them and
decides when to stop, for one of these reasons (``Outcome.reason``):

* ``"tol"``: the convergence test passed (the only reason that counts as converged);
* ``"max_iter"``: the iteration budget ran out;
* ``"early_stopping"``: the validation score did not improve for ``n_iter_no_change`` iterations;
* ``"callback"``: a callback asked to stop;
* ``"stalled"``: the method could make no more progress (rounding dominates);
* ``"diverged"``: the objective blew up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from .._kernels.types import Blocks, FloatArray, Value
    from .._protocols.registry import StepSchedule

    #: ``(thetas, values, grads) -> one bool per iterate``: the convergence test.
    ConvergedTest = Callable[[FloatArray, FloatArray, FloatArray | None], NDArray[np.bool_]]
    #: ``(iteration, theta, loss) -> stop?``.
    Callback = Callable[[int, FloatArray, float], object]


@dataclass
class Outcome:
    last: np.ndarray | None = None
    path: np.ndarray | None = None
    losses: list[float] = field(default_factory=list)
    steps: list[float] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    reason: str = "max_iter"
    best_theta: np.ndarray | None = None
    best_iter: int = 0
    diverged_at: float | None = None
    #: Why the verdict is what it is, where the stop reason alone does not say (a sentence).
    detail: str | None = None


def drive(
    blocks: Blocks,
    *,
    max_iter: int,
    limit: Value,
    converged_test: ConvergedTest | None = None,
    score: Callable[[FloatArray], FloatArray] | None = None,
    n_iter_no_change: int = 5,
    tol: float = 0.0,
    callback: Callback | None = None,
    keep_path: bool = False,
    verbose: int = 0,
    unit: str = "step",
) -> Outcome:
    """Consume ``blocks`` until a stopping reason holds; see the module docstring."""
    out = Outcome()
    kept: list[FloatArray] = []
    best_score, stall = -np.inf, 0
    every = max(1, max_iter // 10)
    done = 0
    for thetas, block_values, grads, block_steps in blocks:
        take = min(len(block_values), max_iter - done)
        thetas, values = thetas[:take], np.asarray(block_values[:take], dtype=float)
        steps = np.asarray(block_steps, dtype=float)[:take]
        if steps.shape != values.shape:  # (np.broadcast_to costs a small block's test)
            steps = np.broadcast_to(steps, values.shape)
        bad = ~np.isfinite(values) | (values > limit)
        if bad.any():
            first = int(np.argmax(bad))
            if callback is not None:  # the iterates before the blow-up were real steps
                for i in range(first):
                    callback(done + i + 1, thetas[i], values[i])
            out.losses.extend(values[:first].tolist())
            out.reason, out.diverged_at = "diverged", float(values[first])
            return out
        cut, reason = len(values), None
        if converged_test is not None:
            ok = converged_test(thetas, values, None if grads is None else grads[:take])
            if ok.any():
                cut, reason = int(np.argmax(ok)) + 1, "tol"
        if score is not None or callback is not None:
            block_scores = None if score is None else score(thetas[:cut])
            for i in range(cut):
                stop = None
                if block_scores is not None:
                    s = float(block_scores[i])
                    out.scores.append(s)
                    if s > best_score + tol:
                        best_score, stall = s, 0
                        out.best_theta, out.best_iter = thetas[i], done + i + 1
                    else:
                        stall += 1
                    if stall >= n_iter_no_change:
                        stop = "early_stopping"
                if callback is not None and callback(done + i + 1, thetas[i], values[i]):
                    stop = stop or "callback"
                # At the iterate that also met tol, convergence is the truthful reason.
                if stop is not None and not (reason == "tol" and i + 1 == cut):
                    cut, reason = i + 1, stop
                    break
        thetas, values, steps = thetas[:cut], values[:cut], steps[:cut]
        if verbose:
            _report(done, values, grads, steps, every, unit, final=reason is not None)
        out.losses.extend(values.tolist())
        out.steps.extend(steps.tolist())
        if keep_path:
            kept.append(thetas)
        out.last = thetas[-1]
        done += len(values)
        if reason is not None:
            out.reason = reason
            break
        if done >= max_iter:
            break
    else:
        out.reason = "stalled" if done < max_iter else "max_iter"
    if keep_path and kept:
        out.path = np.concatenate(kept)
    return out


def _report(
    done: int,
    values: FloatArray,
    grads: FloatArray | None,
    steps: FloatArray,
    every: int,
    unit: str,
    final: bool,
) -> None:
    for i in range(len(values)):
        if (done + i + 1) % every and not (final and i == len(values) - 1):
            continue
        line = f"{unit} {done + i + 1:>8d}  loss {values[i]:.10g}"
        if grads is not None:
            line += f"  |grad| {float(np.sqrt(np.sum(grads[i] ** 2))):.3e}"
        print(f"{line}  step size {steps[i]:.4g}")


def no_improvement_test(tol: float, patience: int) -> ConvergedTest:
    """Stateful test for mini-batches (scikit-learn's SGD rule): converged once the epoch loss
    has not fallen by more than ``tol`` below its best for ``patience`` epochs in a row."""
    best, count = np.inf, 0

    def test(thetas: FloatArray, values: FloatArray, grads: FloatArray | None) -> NDArray[np.bool_]:
        nonlocal best, count
        out = np.zeros(len(values), dtype=bool)
        for i, v in enumerate(values):
            if v < best - tol:
                best, count = v, 0
            else:
                count += 1
            out[i] = count >= patience
        return out

    return test


def stop_proposal(schedule: StepSchedule, tol: float, patience: int) -> ConvergedTest:
    """The mini-batch stop proposal: :func:`no_improvement_test`, or, for a schedule that
    reacts to the loss (scikit-learn's "adaptive", which divides its step where the rule
    would stop), the schedule's vote after each epoch (it has observed the epoch's loss)."""
    if not schedule.reacts_to_loss:
        return no_improvement_test(tol, patience)

    def test(thetas: FloatArray, values: FloatArray, grads: FloatArray | None) -> NDArray[np.bool_]:
        out = np.zeros(len(values), dtype=bool)
        out[-1] = schedule.votes_stop()
        return out

    return test
