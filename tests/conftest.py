"""Hypothesis profiles, chosen with the HYPOTHESIS_PROFILE environment variable.

* ``ci`` (the default): a bounded, reproducible budget (``derandomize=True``: the same examples
  on every run, so CI never flakes on a new random draw) that keeps the fuzz tests in
  tests/test_fuzz.py to a few seconds each.
* ``long``: for local runs, ``HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py``:
  random draws, 25 times the examples, and the example database (``.hypothesis/``), so a
  failure found once is replayed first next time.

Tests that set ``max_examples`` themselves keep their own budget; the profile supplies what
they leave unset.

Also sets ``SCIPY_ARRAY_API=1`` (see below).
"""

import os

import pytest

# scikit-learn refuses array_api_dispatch=True unless SciPy's own Array API support is on,
# which SciPy reads once, when it is first imported: so before any test module imports
# gdlinreg (hence scikit-learn and SciPy). tests/test_array_api.py and scikit-learn's Array
# API checks in tests/test_common.py need it; for NumPy input SciPy behaves the same.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from hypothesis import HealthCheck, settings

_SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=_SLOW_DATA,
)
settings.register_profile(
    "long",
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_DATA,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def full_passes(monkeypatch):
    """A counter of the data-form evaluations over all ``count["rows"]`` rows (mini-batches,
    whose objectives see fewer rows, excluded): ``count["n"]``."""
    from gdlinreg._problem.data import DataObjective  # (after SCIPY_ARRAY_API is set above)

    count = {"n": 0, "rows": None}
    for name in ("value_and_gradient", "hessian_product"):
        original = getattr(DataObjective, name)

        def wrapped(self, v, _original=original):
            if self.X.shape[0] == count["rows"]:
                count["n"] += 1
            return _original(self, v)

        monkeypatch.setattr(DataObjective, name, wrapped)
    return count
