"""The Examples sections of the docstrings run, against the installed package."""

import doctest
import importlib

import pytest

# Modules whose public names carry Examples sections.
MODULES = [
    "gdlinreg._estimator",
    "gdlinreg._solver",
    "gdlinreg.losses",
    "gdlinreg.datasets",
    "gdlinreg.plotting",
    "gdlinreg.penalties",
    "gdlinreg.schedules",
    "gdlinreg.inference",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
