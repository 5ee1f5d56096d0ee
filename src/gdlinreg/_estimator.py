"""GDLinearRegressor: the scikit-learn estimator around :func:`gdlinreg.gradient_descent`."""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._kernels import warnings as _warnings
from ._loop.messages import missed_criterion
from ._loop.options import DEFAULTS, SOLVERS
from ._problem.coordinates import Start
from ._shell import array_api
from ._shell.array_api import as_float as _as_float
from ._shell.array_api import follow
from ._shell.array_api import host as _host
from ._shell.array_api import namespace as _namespace
from ._shell.callbacks import CallbackBridge
from ._shell.early_stopping import HoldOut, hold_out
from ._shell.early_stopping import validation_set as _validation_set
from ._shell.finite import NonFiniteError, check_finite, check_target
from ._shell.fit import fit_model
from ._shell.fit import is_dask as _is_dask
from ._shell.frame import coef_frame
from ._shell.param_checks import PassedChecks
from ._shell.partial_fit import check_partial_fit
from ._shell.persistence import stamped, unstamped
from ._shell.rollback import rollback_on_error
from .inference import _infer as _inference
from .losses import LOSSES
from .penalties import PENALTIES
from .schedules import SCHEDULES

if TYPE_CHECKING:
    import dask.array as da
    from numpy.typing import ArrayLike, NDArray
    from sklearn.utils import Tags

    from ._data.dask_chunks import ValidationArrays
    from ._gradient_descent import Validation
    from ._kernels.types import FloatArray, LearningRate, Matrix
    from ._loop.result import GDResult
    from ._problem.statistics import Moments
    from ._protocols.registry import Penalty
    from ._shell.array_api import Namespace
    from .inference import InferenceResult

_Method = TypeVar("_Method", bound=Callable[..., Any])

try:  # scikit-learn >= 1.9: sklearn.callback (ProgressBar, ScoringMonitor, ...)
    from sklearn.callback import CallbackSupportMixin
    from sklearn.callback import with_callbacks as _with_callbacks
except ImportError:  # older scikit-learn: the estimator works, without set_callbacks

    class CallbackSupportMixin:  # type: ignore[no-redef]  # (the fallback for the import)
        pass

    def _with_callbacks(method: Callable[..., Any]) -> Callable[..., Any]:
        return method


def with_callbacks(method: _Method) -> _Method:
    """scikit-learn's decorator (untyped), typed as what it is: it keeps the signature."""
    decorated: _Method = _with_callbacks(method)
    return decorated


__all__ = ["GDLinearRegressor"]

# Sparse X is used in place in these formats (others are converted to CSR).
_SPARSE = ("csr", "csc")

# The parameter names of each estimator class, read from its signature once, and the
# combinations of parameter values that passed scikit-learn's checks.
_PARAM_NAMES: dict[type, tuple[str, ...]] = {}
_PASSED = PassedChecks()

# The parameters the core reads (``_loop.options.DEFAULTS``), by the estimator's own names;
# store_path is the core's return_path.
_CORE_PARAMS = tuple(name for name in DEFAULTS if name != "return_path")


class GDLinearRegressor(CallbackSupportMixin, RegressorMixin, BaseEstimator):
    """Linear regression fitted by gradient descent.

    Minimises, over coefficients :math:`w` and intercept :math:`b`, the weighted mean loss
    plus an optional penalty,

    .. math:: J(w, b) = \\frac{1}{S}\\sum_{i=1}^n s_i\\,\\ell(x_i^\\top w + b - y_i)
       + \\alpha\\Big(\\rho\\|w\\|_1 + \\frac{1-\\rho}{2}\\|w\\|_2^2\\Big), \\qquad S = \\sum_i s_i,

    with sample weights :math:`s_i` (all 1 by default, so :math:`S = n`),
    :math:`\\ell(r) = r^2/2` for ``loss="half_mse"``, :math:`\\ell(r) = r^2` for
    ``loss="mse"`` and Huber's loss for ``loss="huber"``. For the squared losses the gradient is

    .. math:: \\nabla_w J = \\frac{2c}{S} X^\\top W r, \\qquad
       \\nabla_b J = \\frac{2c}{S}\\sum_i s_i r_i, \\qquad r = Xw + b - y,

    with :math:`c = 1/2` (half-MSE) or :math:`c = 1` (MSE). Both losses have the same
    minimiser, the (weighted) least-squares solution: one is twice the other. What differs is
    the path: MSE's gradient is twice half-MSE's, so a fixed ``learning_rate`` moves twice as
    far per step on MSE ("mse" with step ``a`` takes exactly the steps of "half_mse" with
    ``2 * a``). ``learning_rate="auto"`` divides by the curvature, so with it the two losses
    take identical steps. With several targets (2-D ``y``) the loss is summed over targets.

    Parameters
    ----------
    loss : {"half_mse", "mse", "huber"}, default="half_mse"
        The data term, see above; registered in :data:`gdlinreg.losses.LOSSES`. With the
        default ``solver`` and ``learning_rate``, "huber" is minimised by Newton's method
        (``solver_ == "newton"``): each step a weighted least-squares solve on the current
        inliers, :math:`(Z^\\top \\mathrm{diag}(p_i [|r_i| \\le \\varepsilon]) Z + \\mu I)\\,d =
        -\\nabla J`, with a line search (proximal Newton with an l1 part or ``positive``); a
        handful of steps, one pass over the data each.
    learning_rate : float, "auto", schedule name or callable, default="auto"
        The step size. ``"auto"`` is :math:`1/L`, where :math:`L` is the largest eigenvalue of
        the Hessian of the problem the solver iterates on (exact for small problems, Lanczos
        iterations for large ones); plain gradient descent is stable below :math:`2/L`.
        A float is a step: with ``solver="auto"`` or ``"gd"``, that of textbook gradient
        descent on :math:`J` in your own coordinates (the tutorial's update), from
        ``coef_init`` and ``intercept_init``; for ``solver="agd"`` (by name only), the step of
        accelerated gradient descent on the standardised problem (centred columns of unit
        weighted variance). A schedule name
        from :data:`gdlinreg.schedules.SCHEDULES` ("constant", "invscaling", "exponential",
        "adaptive"), a schedule object, or any callable ``t -> factor`` makes the step at
        update ``t`` equal to ``base * factor(t)``, the base being the schedule's ``initial``
        step or :math:`1/L`. With ``batch_size``, ``"auto"`` is :math:`1/L_b` for a batch of
        :math:`b` rows, :math:`L_b = L + (L_{max} - L)/b` (:math:`L_{max}`: the largest
        single-sample curvature), a bound on the batches' expected smoothness. "adaptive" is
        scikit-learn's rule: the step is divided by 5 whenever ``n_iter_no_change`` epochs
        fail to bring the loss below its best minus ``tol``; with mini-batches this replaces
        the stop, which comes only once the step is at most 1e-6 (and is then certified as
        described under ``tol``).
    max_iter : int, default=1000
        The most iterations: steps for full batches, epochs for mini-batches.
    tol : float or None, default=1e-10
        One criterion for every solver: the fit has converged when the step
        :math:`\\nabla_j J / H_{jj}` (each coordinate's gradient over its curvature; with a
        penalty, the proximal gradient step), in units of y (coefficient times the column's
        standard deviation), is below ``tol`` times the largest such coefficient, and the
        intercept it implies moves by less than ``tol`` times the larger of the intercept and
        that coefficient; both allow their rounding floor, so ``tol=0`` means "to rounding".
        The distance to the solution is at most about the condition number times that step
        (the default gives 1e-6 up to condition numbers of about 1e4; beyond, ``tol=1e-15``).
        A squared-loss fit (up to 512 parameters) whose standardised Gram matrix is
        ill-conditioned (condition number above 1e6) is also refined on the rows, and "tol"
        then means the data resolve the answer to rounding; where there are no rows
        (``partial_fit``) or refinement does not apply (``l1``, ``positive=True``) and the
        statistics cannot resolve it, the fit is "stalled", with a ``ConvergenceWarning``.
        Full-batch solvers test it at every step ("cg" on the Gram form then goes on to the
        accuracy of the statistics), "svrg" at every snapshot, "sgd" where scikit-learn's
        epoch rule proposes a stop (else "stalled", warned). ``None`` runs ``max_iter``
        iterations unless the fit is exact (no progress left and the ``tol=0`` criterion
        holds). The user guide's "When to stop: ``tol``" has the details.
    fit_intercept : bool, default=True
        Whether to fit :math:`b` (never penalised). If False, :math:`b = 0`.
    solver : {"auto", "gd", "sgd", "cg", "agd", "svrg"}, default="auto"
        ``"gd"``: textbook gradient descent in your coordinates, the intercept being one more
        coordinate: :math:`\\theta \\leftarrow \\mathrm{prox}(\\theta - a\\nabla J(\\theta))`
        (the prox only with an l1 penalty or ``positive``), optionally with momentum, a
        schedule, a line search or mini-batches. Its speed depends on the conditioning of the
        raw data; scale your features for it. ``"sgd"`` (needs ``batch_size``): the same
        update on mini-batches, stochastic gradient descent, which ``"gd"`` and ``"auto"``
        also run when given a ``batch_size`` with a numeric step, a schedule or momentum
        (``solver_ == "sgd"``). ``"cg"``: conjugate gradients (squared losses,
        at most an l2 penalty) on the centred problem with columns scaled to unit variance (a
        diagonal preconditioner); the intercept is recovered exactly from the means. It
        reaches the solution in a few times ``n_features`` steps even on ill-conditioned,
        unscaled data. ``"agd"``: Nesterov's accelerated (proximal) gradient, FISTA, with
        adaptive restart on the same centred, standardised problem, with a fixed step.
        ``"svrg"`` (needs ``batch_size``): stochastic variance-reduced gradient on the same
        problem, proximal for penalties and ``positive``: each epoch one full gradient at a
        snapshot, then one pass of mini-batch steps along
        :math:`\\nabla J_B(\\theta) - \\nabla J_B(s) + \\nabla J(s)`, the snapshots accelerated
        (Nesterov, adaptive restart); it converges linearly to the solution, where the
        constant-step mini-batch "gd" ("sgd") stops at its noise floor. Two passes over the
        data per epoch (one with Dask's d x d statistics for a squared loss).
        ``"auto"``: the method that supports the options given: "svrg" with ``batch_size``
        and the "auto" step (no momentum); "gd" with ``batch_size`` otherwise, a numeric
        step, a schedule or momentum; "cg" for squared losses with the "auto" step and no l1
        penalty or sign constraint; "newton" (Newton's method, see ``loss``) for Huber with
        the "auto" step and no ``line_search``, up to 256 parameters; "agd" otherwise. The
        fitted ``solver_`` says which ran. All share the fixed point; only the path differs.
    epsilon : float, default=1.35
        Huber's threshold, in the units of y (``loss="huber"`` only).
    penalty : {None, "l2", "l1", "elasticnet"}, default=None
        The penalty above, from :data:`gdlinreg.penalties.PENALTIES`: "l2" is
        :math:`\\frac{\\alpha}{2}\\|w\\|^2`, "l1" is :math:`\\alpha\\|w\\|_1`, "elasticnet" the mix
        with ``l1_ratio`` :math:`\\rho`. With ``loss="half_mse"`` the minimiser equals
        scikit-learn's ``ElasticNet(alpha, l1_ratio)``, ``Lasso(alpha)`` and
        ``Ridge(alpha=S * alpha)`` (Ridge penalises the *sum* of squares). The l1 part is
        applied by proximal steps (soft-thresholding), so coefficients reach exact zeros.
    alpha : float, default=1e-4
        The penalty strength :math:`\\alpha`.
    l1_ratio : float, default=0.15
        The l1 share :math:`\\rho` of ``penalty="elasticnet"``.
    positive : bool, default=False
        Constrain the coefficients to be >= 0 (a projection after every step).
    momentum : float, default=0.0
        Heavy-ball momentum :math:`\\mu \\in [0, 1)` for ``solver="gd"``:
        :math:`\\theta \\leftarrow \\theta - a\\nabla J(\\theta) + \\mu(\\theta - \\theta_{prev})`.
    nesterovs_momentum : bool, default=False
        Evaluate the gradient at the look-ahead point :math:`\\theta + \\mu v` (Nesterov).
    line_search : bool, default=False
        Backtracking (Armijo) line search for the full-batch solvers "gd" and "agd": each
        step starts from the learning rate and is halved until the objective decreases
        sufficiently. For losses whose curvature bound :math:`L` is loose (Huber).
    batch_size : int or None, default=None
        None: full-batch gradients. An int: mini-batches of that many samples, for "svrg"
        (the default with the "auto" step) or stochastic gradient descent ("gd", with a
        numeric step, a schedule or momentum: "sgd"); ``n_iter_`` then counts epochs and
        ``t_`` updates.
    shuffle : bool, default=True
        Shuffle the samples every epoch (mini-batches only).
    random_state : int, RandomState or None, default=None
        Seeds the shuffling and the validation split.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (or use ``X_val``, ``y_val`` passed to
        ``fit``), record its R^2 after every iteration in ``validation_scores_``, stop when it
        has not improved by more than ``tol`` for ``n_iter_no_change`` iterations, and keep
        the best iterate (not the last, unlike ``SGDRegressor``): ``best_iter_``.
    validation_fraction : float, default=0.1
        The share of the training data held out for early stopping. On Dask input, that
        share of every row chunk (rounded), drawn from ``random_state`` and the chunk's index
        (see the Dask guide).
    n_iter_no_change : int, default=5
        Patience of early stopping and of the mini-batch ``tol`` rule.
    warm_start : bool, default=False
        Start ``fit`` from the previous ``coef_`` and ``intercept_`` instead of zeros. This
        only changes the starting point of a new fit on the data you pass now; the previous
        data are forgotten. To continue learning from more data, use :meth:`partial_fit`.
    store_path : bool, default=False
        Keep every iterate in ``coef_path_`` and ``intercept_path_`` (for teaching and
        plots; memory grows with ``n_iter_``).
    precompute : "auto" or bool, default="auto"
        True: iterate on the Gram form (sufficient statistics built in one pass over X, then
        O(n_features^2) per step; squared losses). False: one pass over X per gradient.
        "auto": the Gram form for dense X up to 2000 features, and for sparse X up to 2000
        features with at most 16 nonzeros per row on average (where scipy's sparse X'X is
        cheaper than the passes it saves); otherwise the data form.
    verbose : int, default=0
        If > 0, print the iteration, loss, gradient norm (full batches) and step size ten
        times per fit.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in the dtype of X (float32 stays float32). For Array API input (with
        scikit-learn's ``array_api_dispatch``), this and the other fitted arrays are in X's
        namespace and on its device: see the user guide.
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int
        Iterations run: steps, or epochs for mini-batches.
    t_ : int
        Parameter updates made, over all calls to ``partial_fit`` as well.
    loss_curve_ : ndarray of shape (`n_iter_`,)
        The objective (loss plus penalty) after every iteration; for mini-batches the mean of
        the epoch's batch objectives. As in scikit-learn, one entry per iteration: entry
        ``k - 1`` is the value after step ``k``, and the starting value is not included
        (:func:`~gdlinreg.plotting.plot_loss_curves` adds it as step 0 when given X and y).
    converged_ : bool
        Whether the ``tol`` criterion was met on the full objective (for mini-batches too);
        with ``tol=None``, whether the fit is exact (see ``tol``). False when early stopping
        or a callback ended the fit.
    stop_reason_ : str
        "tol", "max_iter", "early_stopping", "callback" or "stalled" (rounding errors
        dominate before ``tol`` is met, or for mini-batches, the epoch loss stopped
        improving before the criterion held on the full objective; always warned).
    learning_rate_ : float
        The last step used; for ``"cg"``, whose steps come from exact line searches, the step
        :math:`1/L` of plain gradient descent on the same problem (on the data form, L is the
        largest Ritz value of CG's own Lanczos coefficients: a lower bound, at no extra pass).
    solver_ : str
        The method that ran: "gd", "sgd" (gd with mini-batches), "cg", "agd", "newton"
        (Huber's default) or "svrg".
    validation_scores_ : ndarray or None
        With early stopping: the validation R^2 (pooled over targets) per iteration.
    best_iter_ : int or None
        With early stopping: the iteration whose parameters were kept.
    condition_number_ : float or None
        The condition number of the standardised Gram matrix when it is cheap to know
        (squared losses, Gram form, up to 256 features). The Gram form alone resolves
        coefficients to about ``eps * condition_number_`` relative, so above 1e6 the fit is
        finished by iterative refinement on the data itself (one to four extra passes over
        X): near-collinear columns and high-degree polynomial designs then reach the
        least-squares minimum as far as X itself determines it, and a fit that cannot is
        reported "stalled" with a ``ConvergenceWarning``. Rank-deficient designs (duplicate
        columns, more features than samples) are legitimate: the minimum-norm solution is
        returned, without a warning.
    coef_path_, intercept_path_ : ndarray
        With ``store_path=True``: the start and every iterate, of shape (``n_iter_ + 1``, ...).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
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

    # The statistics partial_fit continues from, opaque here (the core's to build and merge).
    _stats: Moments | None

    _parameter_constraints: ClassVar[dict[str, list[object]]] = {
        "loss": [StrOptions(set(LOSSES))],
        "learning_rate": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto", *SCHEDULES}),
            callable,
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "penalty": [StrOptions(set(PENALTIES)), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "positive": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "line_search": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "store_path": ["boolean"],
        "precompute": ["boolean", StrOptions({"auto"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        loss: str = "half_mse",
        learning_rate: LearningRate = "auto",
        max_iter: int = 1000,
        tol: float | None = 1e-10,
        fit_intercept: bool = True,
        solver: str = "auto",
        epsilon: float = 1.35,
        penalty: str | Penalty | None = None,
        alpha: float = 1e-4,
        l1_ratio: float = 0.15,
        positive: bool = False,
        momentum: float = 0.0,
        nesterovs_momentum: bool = False,
        line_search: bool = False,
        batch_size: int | None = None,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        warm_start: bool = False,
        store_path: bool = False,
        precompute: bool | str = "auto",
        verbose: int = 0,
    ) -> None:
        self.loss = loss
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.epsilon = epsilon
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.positive = positive
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.line_search = line_search
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.store_path = store_path
        self.precompute = precompute
        self.verbose = verbose

    @with_callbacks
    def fit(
        self,
        X: Matrix,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        coef_init: ArrayLike | None = None,
        intercept_init: ArrayLike | None = None,
        X_val: Matrix | None = None,
        y_val: ArrayLike | None = None,
        sample_weight_val: ArrayLike | None = None,
    ) -> GDLinearRegressor:
        r"""Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Used in place (no copy) when float32 or float64; sparse CSR/CSC is never
            densified. Magnitudes must lie within 1e-100..1e150 (zeros aside), as must those
            of ``y``: see Notes.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero; the fit is then weighted least squares. As
            in scikit-learn, a scalar is the same weight for every sample. Checked on the
            samples passed, before any early-stopping split.
        coef_init : array-like of shape (n_features,) or (n_targets, n_features), default=None
            The starting coefficients (zeros by default; the previous ``coef_`` with
            ``warm_start=True``).
        intercept_init : float or array-like of shape (n_targets,), default=None
            The starting intercept. Only ``solver="gd"`` (which a numeric ``learning_rate``
            selects) iterates on the intercept; the other solvers eliminate it exactly by
            centring, so for them it has no effect, and passing it warns (``UserWarning``).
        X_val, y_val : array-like, default=None
            A validation set for early stopping (used instead of a held-out
            ``validation_fraction``; passing it turns early stopping on).
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : GDLinearRegressor

        Raises
        ------
        ValueError
            For invalid parameters or data, and (as :class:`gdlinreg.DivergenceError`) when a
            numeric ``learning_rate`` makes the iteration diverge. A fit that raises leaves a
            previously fitted model unchanged.

        Notes
        -----
        The fit sums squares: over rows (the Gram statistics, the loss) and over features
        (row norms, the curvature :math:`L`). float64 reaches :math:`1.8\cdot 10^{308}`, so a
        single square overflows only beyond :math:`|x| = 1.34\cdot 10^{154}`; gdlinreg
        accepts :math:`|x|, |y| \le 10^{150}`, whose squares stay below :math:`10^{300}`, a
        deliberate factor of :math:`1.8\cdot 10^8` below the limit for those sums. Weighted
        squares obey the same bound, :math:`\max_i s_i \cdot x^2 \le 10^{300}`, and the
        largest weight must lie in :math:`[10^{-100}, 10^{100}]`. Values beyond are refused
        with that explanation (rescaling X or y by a power of 10 changes the coefficients by
        the same factor); statistics that overflow although every value is in range (more
        than some :math:`10^8` rows of values near :math:`10^{150}`) are refused too. Values
        and differences below :math:`10^{-100}` are refused, as their weighted squares would
        lose precision near float64's underflow.
        """
        self._validate_params()
        if _is_dask(X, y, sample_weight, X_val, y_val):  # Dask hook, see _fit_dask
            validation_set = _validation_set(X_val, y_val, sample_weight_val)
            return self._fit_dask(
                X,
                y,
                sample_weight,
                coef_init,
                intercept_init,
                partial=False,
                validation=validation_set,
            )
        space = _namespace(X)
        with rollback_on_error(self):
            host = self.early_stopping or X_val is not None  # (split with NumPy indices)
            X, y, sample_weight, X_val, y_val, sample_weight_val = follow(
                space, host, X, y, sample_weight, X_val, y_val, sample_weight_val
            )
            validation: Validation | None = None
            validation_set = _validation_set(X_val, y_val, sample_weight_val)
            # (Before early stopping's split renumbers the rows, X is checked here, so that a
            # NaN's row is the caller's; otherwise the core checks it, from the moments.)
            held_out = self.early_stopping and validation_set is None
            X, y = self._validate(X, y, reset=True, finite=held_out)
            if validation_set is not None:
                Xv, yv = self._validate(
                    validation_set[0], validation_set[1], reset=False, names=("X_val", "y_val")
                )
                validation = (Xv, yv, sample_weight_val)
            elif self.early_stopping:
                X, y, sample_weight, validation = hold_out(
                    X, y, sample_weight, self.validation_fraction, self.random_state
                )
            start = Start(_host(coef_init), _host(intercept_init))
            if self.warm_start and hasattr(self, "coef_") and coef_init is None:
                intercept = self.intercept_ if intercept_init is None else intercept_init
                start = Start(_host(self.coef_), _host(intercept), label="warm_start=True")
            self._fit_core(X, y, sample_weight, start, validation, partial=False, space=space)
        return self

    @with_callbacks
    def partial_fit(
        self, X: Matrix, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> GDLinearRegressor:
        """Continue training with one more batch of data.

        For the squared losses (up to 2000 features) this accumulates the centred sufficient
        statistics of every batch seen (merged stably, as the Gram engine does) and runs the
        solver, warm-started, on the objective of *all* data seen so far: after any split of
        the data into batches, the model approaches the one ``fit`` gives on all of it
        (scikit-learn's SGD ``partial_fit`` stays far from least squares). For the Huber
        loss it runs one epoch of mini-batch SGD over this batch (batches of ``batch_size``,
        or the whole batch), continuing the schedule's step counter ``t_``. With
        ``learning_rate="auto"`` the epoch runs in the coordinates of the running means and
        spreads of every batch seen (kept as the squared losses' statistics are), with the
        step ``1/L`` of the batch there, and a fresh model starts from the Huber fit of its
        first batch: the model follows the Huber fit of all the data seen, approximately
        (``stop_reason_`` is "max_iter": a stream's objective is never tested, and no
        ``ConvergenceWarning`` is issued). For the exact fit, call :meth:`fit` on all the data
        (or on Dask collections). A numeric ``learning_rate`` or a schedule is the textbook
        update in X's own coordinates, which needs centred, scaled columns.

        ``partial_fit`` after ``fit`` continues from the fitted model. For the squared losses
        the data of that ``fit`` count as seen when it used the Gram form (the default:
        ``precompute`` not False and no ``batch_size``); otherwise only the coefficients carry
        over, and the statistics start with the first ``partial_fit`` batch.

        The statistics are kept in the fitted model (see :meth:`discard_statistics` for what
        that costs and reveals); a pickled model continues from them after loading.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : float or array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        self : GDLinearRegressor

        Raises
        ------
        ValueError
            With ``early_stopping=True`` (as ``SGDRegressor.partial_fit`` does): a batch holds
            no validation set to stop on. Use :meth:`fit`, or set ``early_stopping=False``.
            After :meth:`discard_statistics`, whose model no longer holds the data seen; use
            :meth:`fit`. And for invalid data, as :meth:`fit`; a call that raises leaves the
            model unchanged.
        """
        self._validate_params()
        check_partial_fit(self.early_stopping, getattr(self, "_statistics_discarded", False))
        if _is_dask(X, y, sample_weight):  # Dask hook, see _fit_dask
            return self._fit_dask(X, y, sample_weight, None, None, partial=True)
        first, space = not hasattr(self, "coef_"), _namespace(X)
        with rollback_on_error(self):
            y, sample_weight = follow(space, False, y, sample_weight)
            X, y = self._validate(X, y, reset=first, finite=False)
            start = self._continued(first)
            self._fit_core(X, y, sample_weight, start, None, partial=True, space=space)
        return self

    def discard_statistics(self) -> GDLinearRegressor:
        r"""Drop the training statistics that :meth:`partial_fit` continues from.

        A fit with the Gram form (the squared losses, ``precompute`` not False, no
        ``batch_size``), and every :meth:`partial_fit` with a squared loss (or with the Huber
        loss and ``learning_rate="auto"``), keeps the weighted centred sufficient statistics
        of all the data seen: the total weight
        :math:`S`, the means of the columns of :math:`[X \mid y]` and their
        :math:`(d + k) \times (d + k)` scatter matrix :math:`\sum_i s_i (z_i - \bar z)
        (z_i - \bar z)^\top`. They let :meth:`partial_fit` solve on all the data seen so
        far. Pickled, they are :math:`8 (d + k)^2` bytes (8 MB at 1000 features, where
        ``coef_`` is 8 kB), and they disclose the training data's means, variances and
        correlations. Call this method before saving or publishing a finished model to leave
        them out.

        Afterwards ``predict`` and ``score`` give identical results and the fitted attributes
        are unchanged, but :meth:`partial_fit` raises a ``ValueError`` (it would otherwise
        silently forget all the data seen before). :meth:`fit` works as usual and keeps new
        statistics. A ``warm_start`` fit starts from ``coef_`` as before.

        Returns
        -------
        self : GDLinearRegressor
            The model itself, without its statistics.

        Examples
        --------
        >>> import pickle
        >>> import numpy as np
        >>> from gdlinreg import GDLinearRegressor
        >>> X = np.random.default_rng(0).standard_normal((500, 200))
        >>> model = GDLinearRegressor().fit(X, X @ np.ones(200))
        >>> len(pickle.dumps(model)) > 300_000
        True
        >>> len(pickle.dumps(model.discard_statistics())) < 10_000
        True
        """
        check_is_fitted(self)
        self._stats = None
        self._statistics_discarded = True
        return self

    def coef_frame(self) -> Any:
        """The fitted coefficients as a labelled pandas ``DataFrame`` (pandas must be installed).

        One row per parameter: ``"intercept"`` first (with ``fit_intercept=True``), then the
        features, named as in ``feature_names_in_`` when X had names (else x0, x1, ...),
        as :meth:`inference` names them; one column per target: ``"coef"`` for a 1-D ``y``,
        ``y0``, ``y1``, ... for several targets.

        Returns
        -------
        pandas.DataFrame of shape (n_features + fit_intercept, n_targets)

        Examples
        --------
        >>> from gdlinreg import GDLinearRegressor
        >>> from gdlinreg.datasets import load_seed_example
        >>> X, y = load_seed_example()
        >>> GDLinearRegressor().fit(X, y).coef_frame().round(6)
                   coef
        intercept   0.6
        x0          0.8
        """
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        return coef_frame(_host(self.coef_), _host(self.intercept_), self.fit_intercept, names)

    def inference(
        self,
        X: Matrix | None = None,
        y: ArrayLike | None = None,
        *,
        sample_weight: ArrayLike | None = None,
        cov_type: str = "nonrobust",
        groups: ArrayLike | None = None,
    ) -> InferenceResult | list[InferenceResult]:
        r"""Standard errors, tests and intervals at the least-squares solution, as
        statsmodels' ``OLS`` (``WLS`` with ``sample_weight``) gives them.

        The model is :math:`y_i = a_i^\top\theta + \varepsilon_i` with the design row
        :math:`a_i = (1, x_i)` (:math:`x_i` without an intercept), :math:`\theta = (b, w)`
        and :math:`\mathrm{Var}\,\varepsilon_i = \sigma^2 / s_i`. With the weighted Gram
        matrix :math:`G = \sum_i s_i a_i a_i^\top` (a pseudo-inverse :math:`G^+` on its
        rank :math:`r` when the design is rank deficient), the residuals
        :math:`e_i = y_i - a_i^\top\hat\theta` and :math:`n` rows of positive weight:

        * ``"nonrobust"``: :math:`\hat\sigma^2 G^{+}`,
          :math:`\hat\sigma^2 = \sum_i s_i e_i^2 / (n - r)`, with t tests on
          :math:`n - r` degrees of freedom. From the kept statistics: no pass over X,
          :math:`O(d^3)`.
        * ``"HC0"`` ... ``"HC3"``: :math:`G^{+} \big(\sum_i \omega_i s_i^2 e_i^2 a_i
          a_i^\top\big) G^{+}` with :math:`\omega_i = 1`, :math:`n/(n-r)`,
          :math:`1/(1-h_i)`, :math:`1/(1-h_i)^2` and the leverages
          :math:`h_i = s_i a_i^\top G^+ a_i` (White 1980; MacKinnon and White 1985).
        * ``"cluster"``: :math:`c\,G^{+} \big(\sum_g u_g u_g^\top\big) G^{+}`,
          :math:`u_g = \sum_{i\in g} s_i e_i a_i`,
          :math:`c = \frac{G}{G-1}\frac{n-1}{n-p}` (statsmodels' default correction).

        The robust kinds use the normal distribution for tests and intervals, as
        statsmodels does by default; they need ``X, y`` (and the fit's ``sample_weight``)
        for one pass over the rows, blockwise (NumPy, scipy.sparse, Dask: one reduction
        over the chunks; never an n x n matrix). See :class:`gdlinreg.inference.InferenceResult`
        for every statistic and the user guide's "Inference" page.

        Parameters
        ----------
        X : {array-like, sparse matrix, Dask array} of shape (n_samples, n_features), default=None
            The data of the fit; needed by the robust kinds, and by a model that kept no
            statistics (the data form, or after :meth:`discard_statistics`).
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
        sample_weight : array-like of shape (n_samples,), default=None
            The weights of the fit (statsmodels' ``WLS`` weights).
        cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"}, default="nonrobust"
        groups : array-like of shape (n_samples,), default=None
            The cluster labels, for ``cov_type="cluster"``.

        Returns
        -------
        InferenceResult or list of InferenceResult
            One per target: a list when ``y`` had two dimensions.

        Raises
        ------
        ValueError
            For penalised, constrained or Huber fits (whose estimates are not least squares:
            use a bootstrap), for data that are not the fit's, and for a missing ``X, y`` or
            ``groups``. A fit that did not converge, or stopped early, gets a
            ``ConvergenceWarning``. A rank-deficient design warns and names the parameters
            the data do not determine (their standard errors are NaN). A saturated design
            (as many rows as its rank: no residual degrees of freedom) warns once, and its
            standard errors are ``inf`` (classical) or NaN (robust), as the user guide says.
        """
        check_is_fitted(self)
        if doubt := _inference.check_model(self.get_params(), self.stop_reason_, X, y):
            _warnings.warn(doubt, ConvergenceWarning)
        data = None
        if X is not None and y is not None:
            if _is_dask(X, y):
                X, y = validate_data(self, X, y, reset=False, skip_check_array=True)
            else:
                X, y = self._validate(X, y, reset=False)
            # (Array API input: one copy to the host, where the residual pass runs)
            data = (_host(X), _host(y), _host(sample_weight))
        names, stats = getattr(self, "feature_names_in_", None), getattr(self, "_stats", None)
        coef, intercept = _host(self.coef_), _host(self.intercept_)
        fit = _inference.Fit(coef, intercept, self.fit_intercept, names, stats)
        return _inference.infer(fit, data, cov_type, groups)

    def score(self, X: Matrix, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """:math:`R^2` of the prediction (scikit-learn's ``r2_score``, averaged over targets);
        on Dask input, one reduction over the row chunks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        if _is_dask(X, y, sample_weight):  # Dask hook: one reduction over the row chunks
            from ._data import dask_chunks as _dask

            return _dask.r2_score(y, self.predict(X), sample_weight)
        y, sample_weight = follow(_namespace(X), False, y, sample_weight)
        check_target(y)
        if sample_weight is not None:
            w = np.asarray(_host(sample_weight), dtype=np.float64)
            # Older scikit-learn returns NaN here instead of raising.
            if not np.all(np.isfinite(w)):
                raise ValueError("sample_weight contains NaN or infinity; pass finite weights.")
        score: float = super().score(X, y, sample_weight=sample_weight)
        return score

    def predict(self, X: Matrix) -> FloatArray | da.Array:
        """Predict :math:`X w + b`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
            A lazy ``dask.array`` with X's row chunks when X is a Dask collection.
        """
        check_is_fitted(self)
        if _is_dask(X):  # Dask hook: a lazy prediction, chunk by chunk
            from ._data import dask_chunks as _dask

            X = validate_data(self, X, reset=False, skip_check_array=True)
            return _dask.predict(X, self.coef_, self.intercept_)
        array_api.check_predict(X, self)
        # NaN and infinity are found here, in fit's words (scikit-learn's would be longer).
        X = validate_data(
            self, X, reset=False, accept_sparse=_SPARSE, dtype="numeric", ensure_all_finite=False
        )
        check_finite(X, "X", getattr(self, "feature_names_in_", None))
        X = _as_float(X)
        coef = self.coef_
        prediction: FloatArray = X @ (coef.T if coef.ndim == 2 else coef) + self.intercept_
        return prediction

    def __getstate__(self) -> dict[str, Any]:
        # A copy: on Python >= 3.11 object.__getstate__ returns __dict__ itself, which the keys
        # below would otherwise add to the model being pickled.
        return stamped(dict(super().__getstate__()))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(unstamped(state))

    def _validate_params(self) -> None:
        # scikit-learn rebuilds every constraint object on every fit (a tenth of a small
        # fit): a combination of values that passed once is remembered (PassedChecks).
        params = self.get_params(deep=False)
        if not _PASSED.holds(type(self), params):
            super()._validate_params()
            _PASSED.add(type(self), params)

    @classmethod
    def _get_param_names(cls) -> list[str]:
        # scikit-learn reads __init__'s signature (about 0.15 ms: a tenth of a small fit) on
        # every get_params, so on every fit and clone; a class's signature does not change.
        if cls not in _PARAM_NAMES:
            _PARAM_NAMES[cls] = tuple(super()._get_param_names())
        return list(_PARAM_NAMES[cls])

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        tags.array_api_support = array_api.SUPPORTED
        return tags

    # -- Dask input (gdlinreg._dask, imported only when Dask input arrives) ---------------

    def _fit_dask(
        self,
        X: object,
        y: object,
        sample_weight: ArrayLike | None,
        coef_init: ArrayLike | None,
        intercept_init: ArrayLike | None,
        partial: bool,
        validation: ValidationArrays | None = None,
    ) -> GDLinearRegressor:
        """``fit`` / ``partial_fit`` on Dask collections: one pass builds the statistics of
        all row chunks (merged into those seen before, for ``partial_fit``), and of the
        validation rows, then the solver iterates locally on the d x d problem; mini-batch
        SGD then streams the chunks, an epoch a pass."""
        first = not partial or not hasattr(self, "coef_")
        with rollback_on_error(self):
            # Feature names and n_features_in_ only: the data stay lazy, in their chunks.
            X, y = validate_data(self, X, y, skip_check_array=True, reset=first)
            start = Start(coef_init, intercept_init)
            if partial:
                start = self._continued(first)
            elif self.warm_start and hasattr(self, "coef_") and coef_init is None:
                intercept = self.intercept_ if intercept_init is None else intercept_init
                start = Start(self.coef_, intercept, label="warm_start=True")
            split: ValidationArrays | HoldOut | None = validation
            if self.early_stopping and validation is None and not partial:
                split = HoldOut.drawn(self.validation_fraction, self.random_state)
            self._fit_core(X, y, sample_weight, start, split, partial=partial)
        return self

    # -- helpers -------------------------------------------------------------------------

    def _validate(
        self,
        X: Matrix,
        y: ArrayLike,
        reset: bool,
        finite: bool = True,
        names: tuple[str, str] = ("X", "y"),
    ) -> tuple[Matrix, NDArray[Any]]:
        # "numeric" refuses strings (as LinearRegression does) instead of parsing them.
        # finite=False leaves X's NaN/infinity check to the core (fit, partial_fit), which
        # reads it from the moments instead of an extra pass over X. y is checked first, so
        # that its NaN and infinity get the words X's do (scikit-learn's differ).
        check_target(y, names[1])
        checked: tuple[Matrix, NDArray[Any]] = validate_data(
            self,
            X,
            y,
            accept_sparse=_SPARSE,
            dtype="numeric",
            multi_output=True,
            y_numeric=True,
            reset=reset,
            ensure_all_finite=False,
        )
        if finite:
            check_finite(checked[0], names[0], getattr(self, "feature_names_in_", None))
        return _as_float(checked[0]), checked[1]

    def _continued(self, first: bool) -> Start:
        """Where ``partial_fit`` starts: afresh, or from the fitted model and its step count."""
        if first:
            return Start()
        return Start(_host(self.coef_), _host(self.intercept_), self.t_, label="partial_fit")

    def _fit_core(
        self,
        X: Matrix,
        y: object,
        sample_weight: ArrayLike | None,
        start: Start,
        validation: Validation | ValidationArrays | HoldOut | None,
        partial: bool,
        space: Namespace | None = None,
    ) -> None:
        """The one crossing into the core per fit, then the fitted attributes (moved to
        ``space``, the Array API namespace and device of X, when there is one)."""
        bridge = CallbackBridge(self, X, y, sample_weight)
        params = {name: getattr(self, name) for name in _CORE_PARAMS}
        params["return_path"] = self.store_path
        continuing = partial and start.label is not None
        try:
            fitted = fit_model(
                params,
                X,
                y,
                sample_weight,
                start,
                validation=validation,
                memory=getattr(self, "_stats", None) if continuing else None,
                partial=partial,
                callbacks=bridge.begin,
                namespace=None if isinstance(X, np.ndarray) else space,
            )
        except NonFiniteError as error:  # the core knows positions; the column's name is here
            raise error.named(getattr(self, "feature_names_in_", None)) from None
        self._stats = fitted.memory
        if not partial:  # a new fit holds new statistics: partial_fit may continue again
            self.__dict__.pop("_statistics_discarded", None)
        self.t_ = start.step + fitted.result.n_updates
        self._set_result(fitted.result, warn=fitted.tested)
        if space is not None:  # every fitted array (coef_, loss_curve_, ...) where X lives
            space.adopt(self)
        bridge.finish()  # after the fitted attributes exist: callbacks may score the final model

    def _set_result(self, result: GDResult, warn: bool = True) -> None:
        self.coef_ = result.coef
        self.intercept_ = result.intercept
        self.n_iter_ = result.n_iter
        self.loss_curve_ = result.loss_history
        self.converged_ = result.converged
        self.stop_reason_ = result.stop_reason
        self.learning_rate_ = result.learning_rate
        self.solver_ = result.solver
        self.validation_scores_ = result.validation_scores
        self.best_iter_ = result.best_iter
        self.condition_number_ = result.condition_number
        if self.store_path:
            self.coef_path_ = result.coef_path
            self.intercept_path_ = result.intercept_path
        missed = missed_criterion(result.stop_reason, result.solver, self.tol, self.loss)
        if warn and missed is not None:
            _warnings.warn(
                f"GDLinearRegressor: {result.message} (solver={result.solver!r}). {missed}",
                ConvergenceWarning,
            )
