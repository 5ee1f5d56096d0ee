"""``python -m gdlinreg``: the tutorial's experiment on its five points, in plain text."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np

from ._gradient_descent import gradient_descent
from .datasets import SEED_LEARNING_RATE, SEED_START, SEED_STEPS, load_seed_example
from .losses import LOSSES

if TYPE_CHECKING:
    #: ``(loss, steps, slope, intercept, loss value)``; steps is "lstsq" for least squares.
    Row = tuple[str, int | str, float, float, float]


def experiment(
    steps: Sequence[int] = SEED_STEPS,
    learning_rate: float = SEED_LEARNING_RATE,
    start: tuple[float, float] = SEED_START,
) -> list[Row]:
    """Textbook GD on the seed data for each loss, beside :func:`numpy.linalg.lstsq`.

    Returns rows ``(loss, steps, slope, intercept, loss value)``; ``steps`` is 0 for the start
    and ``"lstsq"`` for the least-squares line.
    """
    X, y = load_seed_example()
    weights = np.full(len(y), 1.0 / len(y))
    (slope, intercept), *_ = np.linalg.lstsq(np.hstack([X, np.ones_like(X)]), y, rcond=None)

    def value(name: str, m: float, b: float) -> float:
        return LOSSES[name]().value((m * X[:, 0] + b - y)[:, None], weights)

    rows: list[Row] = []
    for name in ("half_mse", "mse"):  # the tutorial's two losses
        res = gradient_descent(
            X,
            y,
            loss=name,
            solver="gd",
            learning_rate=learning_rate,
            max_iter=max(steps),
            tol=None,
            coef_init=[start[0]],
            intercept_init=start[1],
            return_path=True,
        )
        rows.append((name, 0, start[0], start[1], value(name, *start)))
        # return_path=True: the paths are arrays.
        coef_path = cast(np.ndarray, res.coef_path)
        intercept_path = cast(np.ndarray, res.intercept_path)
        for k in steps:
            rows.append((name, k, coef_path[k, 0], intercept_path[k], res.loss_history[k - 1]))
        rows.append((name, "lstsq", slope, intercept, value(name, slope, intercept)))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="gdlinreg",
        description="Reproduce the tutorial's gradient-descent experiment on its five points.",
    )
    parser.add_argument("--learning-rate", type=float, default=SEED_LEARNING_RATE)
    parser.add_argument("--steps", type=int, nargs="+", default=list(SEED_STEPS))
    args = parser.parse_args(argv)
    if min(args.steps) < 1:
        parser.error("--steps must all be >= 1")
    if not args.learning_rate > 0:
        parser.error("--learning-rate must be > 0")
    rows = experiment(sorted(args.steps), args.learning_rate)
    X, y = load_seed_example()
    print("gdlinreg: textbook gradient descent on the tutorial's five points")
    print(f"x = {X.ravel().tolist()}, y = {y.tolist()}")
    print(f"start (slope, intercept) = {SEED_START}, learning rate = {args.learning_rate}")
    print()
    print(f"{'loss':<10}{'steps':>10}{'slope':>14}{'intercept':>14}{'loss value':>14}")
    for name, k, m, b, value in rows:
        steps = f"{k:,d}" if isinstance(k, int) else k
        print(f"{name:<10}{steps:>10}{m:>14.8f}{b:>14.8f}{value:>14.8f}")
    print()
    print(
        "Both losses are minimised by the least-squares line: MSE is exactly twice half-MSE, "
        "so\nthe factor 2 moves no minimum. It only doubles MSE's gradient, so at the same "
        "learning\nrate MSE steps twice as far and gets closer after 10, 100 or 1000 steps; "
        "run long\nenough, both agree with least squares to rounding."
    )


if __name__ == "__main__":
    main()
