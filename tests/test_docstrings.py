"""The Examples sections of the docstrings run, against the installed package."""

import doctest
import importlib
import importlib.util

import pytest

# Modules whose public names carry Examples sections.
MODULES = [
    "gdlinreg._estimator",
    "gdlinreg._gradient_descent",
    "gdlinreg._loop.result",
    "gdlinreg.losses",
    "gdlinreg.datasets",
    "gdlinreg.plotting",
    "gdlinreg.penalties",
    "gdlinreg.schedules",
    "gdlinreg.inference",
    # Converts and runs a model: needs the onnx extra (skl2onnx, onnxruntime).
    pytest.param(
        "gdlinreg.onnx",
        marks=pytest.mark.skipif(
            not all(importlib.util.find_spec(m) for m in ("skl2onnx", "onnxruntime")),
            reason="needs skl2onnx and onnxruntime",
        ),
    ),
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
