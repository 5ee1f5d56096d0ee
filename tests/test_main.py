"""`python -m gdlinreg`: the tutorial's experiment, checked against a reference loop."""

import re
import subprocess
import sys

import numpy as np
import pytest

from gdlinreg.__main__ import main


def reference(factor, steps, start=(0.48, 0.75), rate=0.01):
    """Textbook GD written from the update rule; factor 1/2 is half-MSE, 1 is MSE."""
    x = np.arange(1.0, 6.0)
    y = np.array([1.0, 3.0, 3.0, 3.0, 5.0])
    m, b = start
    out = {}
    for k in range(1, max(steps) + 1):
        r = m * x + b - y
        m, b = m - rate * 2 * factor * np.mean(r * x), b - rate * 2 * factor * np.mean(r)
        if k in steps:
            out[k] = (m, b, factor * np.mean((m * x + b - y) ** 2))
    return out


def rows(text):
    table = {}
    for line in text.splitlines():
        match = re.match(r"^(half_mse|mse)\s+([\d,]+|lstsq)\s+(\S+)\s+(\S+)\s+(\S+)$", line)
        if match:
            name, steps, *numbers = match.groups()
            table[name, steps.replace(",", "")] = tuple(float(v) for v in numbers)
    return table


def test_table_matches_reference_loop(capsys):
    main(["--steps", "10", "100", "1000", "20000"])
    table = rows(capsys.readouterr().out)
    for name, factor in (("half_mse", 0.5), ("mse", 1.0)):
        ref = reference(factor, {10, 100, 1000, 20000})
        for k, expected in ref.items():
            np.testing.assert_allclose(table[name, str(k)], expected, atol=5e-9)
        # Least squares from the normal equations, independently of numpy.linalg.lstsq.
        np.testing.assert_allclose(table[name, "lstsq"][:2], (0.8, 0.6), atol=5e-9)
        # Run long enough, both losses reach the least-squares line.
        np.testing.assert_allclose(table[name, "20000"][:2], (0.8, 0.6), atol=1e-8)


def test_default_run_has_the_million_steps_and_the_explanation():
    out = subprocess.run(
        [sys.executable, "-m", "gdlinreg"], capture_output=True, text=True, check=True
    ).stdout
    table = rows(out)
    assert {k for _, k in table} == {"0", "10", "100", "1000", "1000000", "lstsq"}
    for name in ("half_mse", "mse"):
        np.testing.assert_allclose(table[name, "1000000"][:2], (0.8, 0.6), atol=1e-8)
    # half-MSE after 1000 steps is still visibly off: the tutorial's "different answer".
    assert abs(table["half_mse", "1000"][1] - 0.6) > 0.03
    assert "least-squares" in out and "twice" in out
    text = " ".join(out.split("\n\n")[-1].split())
    assert "after 10, 100 and 1,000 steps" in text
    assert "after 1,000,000 steps both agree with least squares" in text


@pytest.mark.parametrize(
    "argv", [["--steps", "0"], ["--learning-rate", "-1"], ["--learning-rate", "nan"]]
)
def test_bad_arguments_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("gdlinreg: error: ")
    assert argv[0] in err


def largest_stable_step(factor):
    """2/L for the tutorial's data: L the top eigenvalue of the Hessian of factor * MSE."""
    A = np.column_stack([np.arange(1.0, 6.0), np.ones(5)])
    return 2.0 / np.linalg.eigvalsh(2 * factor * A.T @ A / 5)[-1]


@pytest.mark.parametrize("rate", [0.2, 0.1])  # 0.1: only MSE's 2/L (0.0845) is below it
def test_divergence_exits_2_with_one_line_and_no_traceback(rate):
    done = subprocess.run(
        [sys.executable, "-m", "gdlinreg", "--learning-rate", str(rate)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("gdlinreg: error: ") and "Traceback" not in done.stderr
    diverged = "half_mse" if rate > largest_stable_step(0.5) else "mse"
    stable = largest_stable_step(0.5 if diverged == "half_mse" else 1.0)
    assert f"the {diverged} loss" in line
    assert f"{stable:.6g}" in line  # 0.169048 and 0.0845241


def test_closing_text_names_the_steps_that_ran(capsys):
    main(["--steps", "5", "7"])
    out = capsys.readouterr().out
    text = " ".join(out.split("\n\n")[-1].split())
    assert "after 5 and 7 steps" in text
    assert "1000" not in text and "1,000" not in text
    # After 7 steps neither loss is at least squares: the text says how far (the reference
    # loop's distance to (0.8, 0.6), to the two digits printed).
    far = max(np.hypot(m - 0.8, b - 0.6) for m, b, _ in (reference(f, {7})[7] for f in (0.5, 1)))
    assert f"still {far:.2g} from" in text
