"""``python -m gdlinreg``: the tutorial's experiment on its five points, in plain text."""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn, cast

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
    """Run the experiment and print its table. Bad arguments, and a learning rate that makes
    either loss diverge, end the program with status 2 and a one-line message on stderr."""
    parser = argparse.ArgumentParser(
        prog="gdlinreg",
        description="Reproduce the tutorial's gradient-descent experiment on its five points.",
    )
    parser.add_argument("--learning-rate", type=float, default=SEED_LEARNING_RATE)
    parser.add_argument("--steps", type=int, nargs="+", default=list(SEED_STEPS))
    args = parser.parse_args(argv)
    if min(args.steps) < 1:
        _fail(f"--steps must all be >= 1; got {min(args.steps)}.")
    if not (math.isfinite(args.learning_rate) and args.learning_rate > 0):
        _fail(f"--learning-rate must be a finite number > 0; got {args.learning_rate}.")
    steps = sorted(set(args.steps))
    try:
        rows = experiment(steps, args.learning_rate)
    except ValueError as error:  # DivergenceError among them: its message gives 2/L
        _fail(str(error))
    X, y = load_seed_example()
    print("gdlinreg: textbook gradient descent on the tutorial's five points")
    print(f"x = {X.ravel().tolist()}, y = {y.tolist()}")
    print(f"start (slope, intercept) = {SEED_START}, learning rate = {args.learning_rate}")
    print()
    print(f"{'loss':<10}{'steps':>10}{'slope':>14}{'intercept':>14}{'loss value':>14}")
    for name, k, m, b, value in rows:
        shown = f"{k:,d}" if isinstance(k, int) else k
        print(f"{name:<10}{shown:>10}{m:>14.8f}{b:>14.8f}{value:>14.8f}")
    print()
    print(closing(rows))


def closing(rows: Sequence[Row]) -> str:
    """The explanation under the table, for the steps that ran: after which of them MSE is
    the closer to least squares, and whether the longest run reached it."""
    line = {name: (m, b) for name, k, m, b, _ in rows if k == "lstsq"}
    distance: dict[tuple[str, int], float] = {
        (name, k): math.hypot(m - line[name][0], b - line[name][1])
        for name, k, m, b, _ in rows
        if isinstance(k, int) and k > 0
    }
    steps = sorted({k for _, k in distance})
    # (Where both are within rounding of the line, neither is closer.)
    closer = [
        k
        for k in steps
        if distance["half_mse", k] > _ROUNDING and distance["mse", k] < distance["half_mse", k]
    ]
    text = (
        "Both losses are minimised by the least-squares line: MSE is exactly twice half-MSE, "
        "so the factor 2 moves no minimum. It only doubles MSE's gradient, so at the same "
        "learning rate MSE steps twice as far"
    )
    if closer:
        text += f" and is the closer to least squares after {_counts(closer)} steps"
    last = steps[-1]
    far = max(distance["half_mse", last], distance["mse", last])
    if far < _ROUNDING:
        text += f"; after {last:,d} steps both agree with least squares to rounding."
    else:
        text += (
            f". After {last:,d} steps the farther of the two is still {far:.2g} from the "
            "least-squares line (slope, intercept): run longer and both reach it."
        )
    return "\n".join(textwrap.wrap(text, 88))


#: Distances to the least-squares line below this are rounding (the table prints 8 decimals).
_ROUNDING = 1e-8


def _counts(steps: Sequence[int]) -> str:
    """``10, 100 and 1,000``."""
    shown = [f"{k:,d}" for k in steps]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _fail(message: str) -> NoReturn:
    """One line on stderr and exit status 2, as argparse does for a malformed command line."""
    sys.stderr.write(f"gdlinreg: error: {message}\n")
    raise SystemExit(2)


if __name__ == "__main__":
    main()
