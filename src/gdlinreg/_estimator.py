"""GDLinearRegressor: the scikit-learn estimator around :func:`gdlinreg.gradient_descent`."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._solver import SOLVERS, gradient_descent
from .losses import LOSSES

__all__ = ["GDLinearRegressor"]

# Sparse X is used in place in these formats (others are converted to CSR).
_SPARSE = ("csr", "csc")


class GDLinearRegressor(RegressorMixin, BaseEstimator):
    """Linear regression fitted by gradient descent.

    Minimises, over coefficients :math:`w` and intercept :math:`b`, the weighted mean loss

    .. math:: J(w, b) = \\frac{c}{S}\\sum_{i=1}^n s_i\\,(x_i^\\top w + b - y_i)^2,
       \\qquad S = \\sum_i s_i,

    with sample weights :math:`s_i` (all 1 by default, so :math:`S = n`) and
    :math:`c = 1/2` for ``loss="half_mse"``, :math:`c = 1` for ``loss="mse"``. The gradient is

    .. math:: \\nabla_w J = \\frac{2c}{S} X^\\top W r, \\qquad
       \\nabla_b J = \\frac{2c}{S}\\sum_i s_i r_i, \\qquad r = Xw + b - y.

    Both losses have the same minimiser, the (weighted) least-squares solution: one is twice
    the other. What differs is the path: MSE's gradient is twice half-MSE's, so a fixed
    ``learning_rate`` moves twice as far per step on MSE ("mse" with step ``a`` takes exactly
    the steps of "half_mse" with ``2 * a``). ``learning_rate="auto"`` divides by the curvature,
    so with it the two losses take identical steps.

    With several targets (2-D ``y``) the loss is summed over targets; each target's
    coefficients are fitted as if alone.

    Parameters
    ----------
    loss : {"half_mse", "mse"}, default="half_mse"
        The objective, see above. Registered in :data:`gdlinreg.losses.LOSSES`.
    learning_rate : float or "auto", default="auto"
        The step size. ``"auto"`` is :math:`1/L`, where :math:`L` is the largest eigenvalue of
        the loss Hessian of the problem the solver iterates on (exact for small problems,
        Lanczos iterations for large ones); plain gradient descent is stable below :math:`2/L`.
        A float is the step of ``solver="gd"`` on :math:`J` in your own coordinates (the
        tutorial's update) or, for ``solver="auto"``/``"agd"``, the step of accelerated
        gradient descent on the standardised problem (centred columns of unit weighted
        variance), where :math:`L \\le 2c \\cdot n_{features}`.
    max_iter : int, default=1000
        The most steps to take. With ``tol=None`` exactly this many are taken.
    tol : float or None, default=1e-10
        Stop when a gradient step of the safe size :math:`1/L`, expressed in the units of y
        (each coefficient times its column's standard deviation), is below ``tol`` times the
        largest such coefficient, and the intercept it implies moves by less than ``tol`` times
        the larger of the intercept and that coefficient. The intercept test matters when
        features have large offsets: the intercept :math:`\\bar y - \\bar x^\\top w` then
        amplifies small coefficient errors. Both tests also allow their rounding floor (a few
        machine epsilons, amplified for the intercept by :math:`|\\bar x| / \\mathrm{std}(x)`),
        so every ``tol >= 0`` is attainable and ``tol=0`` means "to rounding". The distance
        to the solution can be up to the condition number times the tested step: the default
        reaches 1e-6 relative accuracy up to condition numbers (of the standardised Gram
        matrix) of about 1e4; use ``tol=1e-15`` with a larger ``max_iter`` beyond.
        ``None`` runs exactly ``max_iter`` steps.
    fit_intercept : bool, default=True
        Whether to fit :math:`b`. If False, :math:`b = 0`.
    solver : {"auto", "gd", "cg", "agd"}, default="auto"
        ``"gd"``: textbook full-batch gradient descent in your coordinates, the intercept being
        one more coordinate: :math:`\\theta \\leftarrow \\theta - a\\nabla J(\\theta)`. Its
        speed depends on the conditioning of the raw data; scale your features for it.
        ``"cg"``: conjugate gradients (quadratic losses) on the centred problem with columns
        scaled to unit variance (a diagonal preconditioner); the intercept is recovered
        exactly from the means. It reaches the least-squares solution in at most a few times
        ``n_features`` steps even on ill-conditioned, unscaled data.
        ``"agd"``: Nesterov's accelerated gradient with adaptive restart on the same centred,
        standardised problem, with a fixed step. ``"auto"``: ``"cg"`` when
        ``learning_rate="auto"``, ``"agd"`` when it is a float. All share one fixed point,
        the least-squares solution; only the path differs.
    warm_start : bool, default=False
        Start ``fit`` from the previous ``coef_`` and ``intercept_`` instead of zeros. This
        only changes the starting point of a new fit on the data you pass.
    store_path : bool, default=False
        Keep every iterate in ``coef_path_`` and ``intercept_path_`` (for teaching and
        plots; memory grows with ``n_iter_``).
    precompute : "auto" or bool, default="auto"
        True: iterate on the Gram form (sufficient statistics built in one pass over X, then
        O(n_features^2) per step). False: one pass over X per gradient. "auto": the Gram form
        for dense X up to 2000 features, and for sparse X up to 2000 features with at most
        16 nonzeros per row on average (where scipy's sparse X'X is cheaper than the passes
        it saves); otherwise the data form.
    verbose : int, default=0
        If > 0, print the step, loss and gradient norm ten times per fit.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in the dtype of X (float32 stays float32).
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int
        Steps taken.
    loss_curve_ : ndarray of shape (n_iter_,)
        The objective :math:`J` after every step.
    converged_ : bool
        Whether the ``tol`` criterion was met (False with ``tol=None``).
    learning_rate_ : float
        The step used; for ``"cg"``, whose steps come from exact line searches, the step
        :math:`1/L` of plain gradient descent on the same problem.
    solver_ : str
        The solver that ran.
    coef_path_, intercept_path_ : ndarray
        With ``store_path=True``: the start and every iterate, of shape (n_iter_ + 1, ...).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when X has feature names that are all strings.

    See Also
    --------
    gdlinreg.gradient_descent : the NumPy function underneath.
    sklearn.linear_model.LinearRegression : the closed-form solution.
    sklearn.linear_model.SGDRegressor : stochastic gradient descent.

    Examples
    --------
    >>> from gdlinreg import GDLinearRegressor
    >>> from gdlinreg.datasets import load_seed_example
    >>> X, y = load_seed_example()
    >>> model = GDLinearRegressor().fit(X, y)
    >>> model.coef_.round(10), round(float(model.intercept_), 10)
    (array([0.8]), 0.6)
    >>> textbook = GDLinearRegressor(solver="gd", learning_rate=0.01, max_iter=1000, tol=None)
    >>> textbook.fit(X, y, coef_init=[0.48], intercept_init=0.75).coef_.round(4)
    array([0.7887])
    """

    _parameter_constraints: ClassVar[dict] = {
        "loss": [StrOptions(set(LOSSES))],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "warm_start": ["boolean"],
        "store_path": ["boolean"],
        "precompute": ["boolean", StrOptions({"auto"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        loss="half_mse",
        learning_rate="auto",
        max_iter=1000,
        tol=1e-10,
        fit_intercept=True,
        solver="auto",
        warm_start=False,
        store_path=False,
        precompute="auto",
        verbose=0,
    ):
        self.loss = loss
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.warm_start = warm_start
        self.store_path = store_path
        self.precompute = precompute
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None, coef_init=None, intercept_init=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Used in place (no copy) when float32 or float64; sparse CSR/CSC is never
            densified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero; the fit is then weighted least squares.
        coef_init : array-like of shape (n_features,) or (n_targets, n_features), default=None
            The starting coefficients (zeros by default; the previous ``coef_`` with
            ``warm_start=True``).
        intercept_init : float or array-like of shape (n_targets,), default=None
            The starting intercept. Only ``solver="gd"`` iterates on the intercept; the other
            solvers eliminate it exactly by centring, so for them it has no effect.

        Returns
        -------
        self : GDLinearRegressor

        Raises
        ------
        ValueError
            For invalid parameters or data, and (as :class:`gdlinreg.DivergenceError`) when a
            numeric ``learning_rate`` makes the iteration diverge. A fit that raises leaves a
            previously fitted model unchanged.
        """
        self._validate_params()
        before = dict(self.__dict__)
        try:
            return self._fit(X, y, sample_weight, coef_init, intercept_init)
        except BaseException:
            # validate_data records n_features_in_ before the solver can fail: roll back.
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y, sample_weight, coef_init, intercept_init):
        # "numeric" refuses strings (as LinearRegression does) instead of parsing them.
        X, y = validate_data(
            self, X, y, accept_sparse=_SPARSE, dtype="numeric", multi_output=True, y_numeric=True
        )
        X = _as_float(X)
        if self.warm_start and hasattr(self, "coef_") and coef_init is None:
            expected = (X.shape[1],) if y.ndim == 1 else (y.shape[1], X.shape[1])
            if np.shape(self.coef_) != expected:
                raise ValueError(
                    f"warm_start=True, but the previous fit had coef_ of shape "
                    f"{np.shape(self.coef_)}, which does not match this data; set "
                    "warm_start=False or pass coef_init."
                )
            coef_init = self.coef_
            intercept_init = self.intercept_ if intercept_init is None else intercept_init
        result = gradient_descent(
            X,
            y,
            loss=self.loss,
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            tol=self.tol,
            fit_intercept=self.fit_intercept,
            solver=self.solver,
            sample_weight=sample_weight,
            coef_init=coef_init,
            intercept_init=intercept_init,
            return_path=self.store_path,
            precompute=self.precompute,
            verbose=self.verbose,
        )
        self.coef_ = result.coef
        self.intercept_ = result.intercept
        self.n_iter_ = result.n_iter
        self.loss_curve_ = result.loss_history
        self.converged_ = result.converged
        self.learning_rate_ = result.learning_rate
        self.solver_ = result.solver
        if self.store_path:
            self.coef_path_ = result.coef_path
            self.intercept_path_ = result.intercept_path
        if self.tol is not None and not result.converged:
            advice = (
                "standardise X (e.g. StandardScaler) or use solver='auto'"
                if result.solver == "gd"
                else "check the data for near-collinear columns"
            )
            warnings.warn(
                f"GDLinearRegressor: {result.message} (solver={result.solver!r}). Increase "
                f"max_iter, loosen tol, or {advice}.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def predict(self, X):
        """Predict :math:`X w + b`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self)
        X = _as_float(validate_data(self, X, reset=False, accept_sparse=_SPARSE, dtype="numeric"))
        return X @ self.coef_.T + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags


def _as_float(X):
    return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)
