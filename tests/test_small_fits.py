"""The small-fit shortcuts of the estimator keep scikit-learn's parameter rules: a checked
combination of parameter values is remembered, never one that merely compares equal."""

import inspect

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from gdlinreg import GDLinearRegressor


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 1.0


@pytest.mark.parametrize(
    ("valid", "invalid"),
    [
        ({"fit_intercept": True}, {"fit_intercept": 1}),  # True == 1, and hash(True) == hash(1)
        ({"max_iter": 5}, {"max_iter": 5.0}),
        ({"alpha": 0.1}, {"alpha": float("nan")}),
        ({"shuffle": False}, {"shuffle": 0}),
    ],
)
def test_a_remembered_check_still_refuses_equal_but_invalid_values(valid, invalid):
    X, y = _data()
    for _ in range(2):  # the second fit finds the combination remembered
        GDLinearRegressor(**valid).fit(X, y)
    with pytest.raises(InvalidParameterError):
        GDLinearRegressor(**invalid).fit(X, y)


def test_parameter_names_follow_the_signature_of_each_class():
    class Wider(GDLinearRegressor):
        def __init__(self, *, extra=1, loss="half_mse"):
            super().__init__(loss=loss)
            self.extra = extra

    for cls in (GDLinearRegressor, Wider, GDLinearRegressor):  # each class its own, twice
        expected = set(inspect.signature(cls.__init__).parameters) - {"self"}
        assert set(cls().get_params()) == expected
