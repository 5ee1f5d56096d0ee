"""scikit-learn's own estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from gdlinreg import GDLinearRegressor


@parametrize_with_checks(
    [
        GDLinearRegressor(),
        GDLinearRegressor(solver="agd", loss="mse"),
        GDLinearRegressor(precompute=False, fit_intercept=False),
        # Textbook GD on unscaled data needs many steps; a fixed budget (tol=None) is how the
        # tutorial runs it, and warns about nothing.
        GDLinearRegressor(solver="gd", loss="mse", tol=None, max_iter=300),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
