"""The user guide's "Read the code" section stays true to the code.

Its ``file``, line N references (and the ``gd.py:N`` of its pdb recipe) must point at the lines
they describe in the installed source; the update line must run exactly ``max_iter`` times in
the tutorial's fit; and the Gram form's gradient must be the textbook ``Z'(Z theta - y) / n``,
with NumPy on the raw data as the independent reference.
"""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

import gdlinreg
from gdlinreg import GDLinearRegressor
from gdlinreg._loop import gd
from gdlinreg._problem.coordinates import coordinates
from gdlinreg._problem.gram import GramObjective
from gdlinreg._problem.statistics import moments
from gdlinreg.datasets import load_seed_example
from gdlinreg.losses import MSE, HalfMSE

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "user-guide.md"
PACKAGE_ROOT = Path(gdlinreg.__file__).resolve().parent.parent
UPDATE = "theta - step * grad"

# What each cited line must hold: every citation names one of these, and every one is cited.
FRAGMENTS = {
    ("gdlinreg/_loop/gd.py", UPDATE),
    ("gdlinreg/_loop/gd.py", "grad = gradient(theta)"),
    ("gdlinreg/_loop/gd.py", "problem.value_and_gradient(stack)"),
    ("gdlinreg/_problem/gram.py", "self._hessian.dot(theta) - self._shift"),
    ("gdlinreg/_problem/gram.py", "cov[:d, :d] + dx[:, None] * dx"),
    ("gdlinreg/_problem/gram.py", "cov[:d, d:] + dx[:, None] * dy"),
    ("gdlinreg/_problem/gram.py", "np.block("),
    ("gdlinreg/_problem/data.py", "def value_and_gradient("),
}
# "`gdlinreg/_loop/gd.py`, line 72" in the text; "gdlinreg/_loop/gd.py:72" and
# "gdlinreg/_loop/gd.py(72)" in the pdb session.
CITATION = re.compile(r"`?(gdlinreg/[\w/]+\.py)`?(?:,\s+line\s+|:|\()(\d+)")
MAX_ITER = 1000


def section():
    if not GUIDE.is_file():
        # The release check runs a copy of tests/ alone against the installed wheel: the
        # guide's citations are checked on a source checkout (the main suite).
        pytest.skip("docs/user-guide.md is read from a source checkout")
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(r"^## Read the code\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "docs/user-guide.md has no '## Read the code' section"
    return match.group(1)


def citations():
    found = {(path, int(line)) for path, line in CITATION.findall(section())}
    assert found, "the section cites no file:line"
    return found


def source_line(path, line):
    lines = (PACKAGE_ROOT / path).read_text(encoding="utf-8").splitlines()
    assert 1 <= line <= len(lines), f"{path} has no line {line}"
    return lines[line - 1]


def cited_line(fragment):
    (line,) = {n for path, n in citations() if fragment in source_line(path, n)}
    return line


def update_line():
    """The update's line: as the guide cites it, or (without the guide) found in gd.py."""
    if GUIDE.is_file():
        return cited_line(UPDATE)
    lines = (PACKAGE_ROOT / "gdlinreg/_loop/gd.py").read_text(encoding="utf-8").splitlines()
    (line,) = [
        i + 1 for i, text in enumerate(lines) if text.rstrip().endswith("# the textbook update")
    ]
    return line


def test_every_citation_points_at_the_line_it_describes():
    cited = citations()
    matched = set()
    for path, line in cited:
        text = source_line(path, line)
        hits = {(p, f) for p, f in FRAGMENTS if p == path and f in text}
        assert len(hits) == 1, f"{path}:{line} is {text.strip()!r}"
        matched |= hits
    assert matched == FRAGMENTS, f"not cited: {FRAGMENTS - matched}"


def test_the_update_line_is_the_formula():
    text = source_line("gdlinreg/_loop/gd.py", update_line())
    assert text.strip() == "theta = prox(theta - step * grad, step)  # the textbook update"


def count_runs(code, line, fit):
    """How many times ``line`` of ``code`` runs during ``fit()``."""
    hits = 0

    def local(frame, event, arg):
        nonlocal hits
        if event == "line" and frame.f_lineno == line:
            hits += 1
        return local

    def trace(frame, event, arg):
        return local if frame.f_code is code else None

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        model = fit()
    finally:
        sys.settrace(previous)
    return hits, model


@pytest.mark.parametrize(
    "loss, precompute", [("half_mse", "auto"), ("mse", "auto"), ("half_mse", False)]
)
def test_the_update_runs_once_per_step_in_the_tutorial_fit(loss, precompute):
    X, y = load_seed_example()
    model = GDLinearRegressor(
        loss=loss,
        solver="gd",
        learning_rate=0.01,
        max_iter=MAX_ITER,
        tol=None,
        precompute=precompute,
    )
    hits, model = count_runs(
        gd.gd_iterates.__code__,
        update_line(),
        lambda: model.fit(X, y, coef_init=[0.48], intercept_init=0.75),
    )
    assert hits == MAX_ITER
    if loss == "half_mse":  # the numbers that the section's pdb session shows
        np.testing.assert_allclose(model.coef_, [0.78869429], atol=5e-9)
        np.testing.assert_allclose(model.intercept_, 0.64081720, atol=5e-9)


def gram_objective(X, y, loss):
    Y = y[:, None]
    stats = moments(X, Y, np.ones(len(y)))
    d = X.shape[1]
    # Textbook gd's coordinates: the user's own, the intercept an appended column of ones.
    *_, coords = coordinates(stats, d, standardised=False, fit_intercept=True)
    assert coords.augment and np.all(coords.offset == 0) and np.all(coords.scale == 1)
    return GramObjective(stats, d, coords, loss)


@pytest.mark.parametrize("loss, factor", [(HalfMSE(), 1.0), (MSE(), 2.0)])
def test_the_gram_gradient_is_the_textbook_gradient(loss, factor):
    X, y = load_seed_example()
    objective = gram_objective(X, y, loss)
    X1 = np.hstack([X, np.ones((len(y), 1))])
    n = len(y)
    rng = np.random.default_rng(0)
    for theta in [np.array([[0.48], [0.75]]), rng.standard_normal((2, 1)) * 3]:
        want = factor * X1.T @ (X1 @ theta - y[:, None]) / n
        np.testing.assert_allclose(objective.gradient(theta), want, rtol=1e-13, atol=1e-13)


def test_the_sections_numbers_for_the_tutorial():
    X, y = load_seed_example()
    objective = gram_objective(X, y, HalfMSE())
    np.testing.assert_allclose(objective.A, [[11.0, 3.0], [3.0, 1.0]], rtol=1e-14)
    np.testing.assert_allclose(objective.B, [[10.6], [3.0]], rtol=1e-14)
    start = np.array([[0.48], [0.75]])
    np.testing.assert_allclose(objective.gradient(start).ravel(), [-3.07, -0.81], rtol=1e-13)
