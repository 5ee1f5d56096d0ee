"""GDLinearRegressorCV: a penalty's path cross-validated from one pass over the data."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from ._data.arrays import ArraySource, MomentsSource
from ._data.checks import check_statistics, confirm_magnitudes
from ._data.folds import fold_moments, held_out_mse, largest_alpha, merged, targets
from ._data.loo import ridge_loo_mse
from ._kernels import warnings as _warnings
from ._kernels.threads import serial_blas
from ._loop.options import path_options
from ._loop.path import path_fits, penalty_path
from ._loop.solve import solve
from ._problem.coordinates import Start
from ._shell.cv import FixedPredictions, Membership, membership
from ._shell.finite import NonFiniteError, check_finite, check_target
from ._shell.fit import is_dask

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ._kernels.types import FloatArray, Matrix
    from ._loop.path import PathFit
    from ._problem.statistics import Moments
    from ._protocols.source import Source

__all__ = ["GDLinearRegressorCV"]

_SPARSE = ("csr", "csc")
#: The loss factor c of c * mean(r^2).
_FACTOR = {"half_mse": 0.5, "mse": 1.0}


class GDLinearRegressorCV(RegressorMixin, BaseEstimator):
    r"""Linear least squares with a penalty whose ``alpha`` (and ``l1_ratio``) is chosen by
    cross-validation, every fold and every alpha from the statistics of one pass.

    The data are read once: each row's centred statistics join those of its group (the rows
    that play the same part in every split; for K-fold, one group per test fold). A split's
    training statistics are the merge of its training groups' (never the total minus the
    fold: no cancellation), its held-out mean squared error follows from its test groups'
    statistics, the path over ``alphas`` runs warm-started on each split's Gram form, and
    the final model is refitted at the best alpha from the merged statistics of all rows,
    without another pass.

    The alpha convention is :class:`GDLinearRegressor`'s, per sample: with ``loss="half_mse"``
    the objective is :math:`\frac{1}{2n}\|y - Xw - b\|^2 + \alpha(\rho\|w\|_1 +
    \frac{1-\rho}{2}\|w\|_2^2)`, so ``alpha=a`` is ``Lasso(alpha=a)`` and
    ``ElasticNet(alpha=a, l1_ratio=rho)``, and ``Ridge(alpha=A)`` is ``alpha=A / n`` (with
    sample weights, ``A / sum(sample_weight)``); ``loss="mse"`` doubles the loss, so the same
    minimisers need ``alpha`` doubled.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"}, default="l2"
    alphas : int or array-like, default=100
        The alphas tried, or how many, on a log grid of ``alphas`` values from the largest
        down to ``eps`` times it. The largest is, for "l1" and "elasticnet", the smallest
        alpha that zeroes every coefficient, :math:`\max_j |\sum_i p_i x_{ij} y_i| / \rho`
        (centred when fitting the intercept, doubled for ``loss="mse"``); for "l2", the
        total variance of the columns (the trace of their weighted covariance; every
        direction of the data is shrunk at least by half there).
    eps : float, default=1e-3
        The grid's smallest alpha over its largest.
    l1_ratio : float or array-like, default=0.5
        :math:`\rho` for "elasticnet" ("l1" is 1, "l2" 0); a list is searched too.
    cv : int, cross-validation splitter, iterable or None, default=5
        As in scikit-learn (an int is ``KFold``); any splitter works, by the groups of rows
        that share their part in every split (K-fold: K groups). ``None``: exact, efficient
        leave-one-out (``penalty="l2"`` only, X in memory), as ``RidgeCV`` computes it.
    scoring : str, callable or None, default=None
        None: the mean squared error, from the statistics. Otherwise a scikit-learn scorer,
        which needs predictions: one more pass over each split's test rows.
    fit_intercept : bool, default=True
    positive : bool, default=False
        Non-negative coefficients ("l1" and "elasticnet").
    alpha_per_target : bool, default=False
        With "l2" and several targets, choose an alpha per target.
    tol : float, default=1e-10
        The ``tol`` of each fit along the path and of the final one (see
        :class:`GDLinearRegressor`).
    max_iter : int, default=1000
    loss : {"half_mse", "mse"}, default="half_mse"
        Squared losses only: for the Huber loss use ``GridSearchCV(GDLinearRegressor(...))``.

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_targets,)
        The chosen alpha (one per target with ``alpha_per_target``).
    l1_ratio_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The alphas tried, descending.
    mse_path_ : ndarray of shape (n_alphas, n_splits) or (n_l1_ratio, n_alphas, n_splits)
        Each split's held-out (weighted) mean squared error, averaged over the targets; for
        ``cv=None`` the leave-one-out error, shape (n_alphas, 1).
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int
        The steps of the final fit.
    best_score_ : float
        The mean test score at the chosen alpha (the negated mean squared error without
        ``scoring``).
    cv_results_ : dict of ndarrays
        ``params``, ``param_alpha``, ``param_l1_ratio``, ``split{i}_test_score``,
        ``mean_test_score``, ``std_test_score`` and ``rank_test_score``, as ``GridSearchCV``
        names them (scores: higher is better).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    Examples
    --------
    >>> import numpy as np
    >>> from gdlinreg import GDLinearRegressorCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5))
    >>> y = X @ [1.0, 0.0, -2.0, 0.0, 0.5] + 0.1 * rng.standard_normal(200)
    >>> model = GDLinearRegressorCV(penalty="l1", alphas=20).fit(X, y)
    >>> model.mse_path_.shape
    (20, 5)
    >>> bool(model.score(X, y) > 0.99)
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[object]]] = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"})],
        "alphas": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(numbers.Real, 0, 1, closed="neither")],
        "l1_ratio": [Interval(numbers.Real, 0, 1, closed="both"), "array-like"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "fit_intercept": ["boolean"],
        "positive": ["boolean"],
        "alpha_per_target": ["boolean"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "loss": [StrOptions(set(_FACTOR) | {"huber"})],
    }

    def __init__(
        self,
        *,
        penalty: str = "l2",
        alphas: int | ArrayLike = 100,
        eps: float = 1e-3,
        l1_ratio: float | ArrayLike = 0.5,
        cv: Any = 5,
        scoring: Any = None,
        fit_intercept: bool = True,
        positive: bool = False,
        alpha_per_target: bool = False,
        tol: float = 1e-10,
        max_iter: int = 1000,
        loss: str = "half_mse",
    ) -> None:
        self.penalty = penalty
        self.alphas = alphas
        self.eps = eps
        self.l1_ratio = l1_ratio
        self.cv = cv
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.alpha_per_target = alpha_per_target
        self.tol = tol
        self.max_iter = max_iter
        self.loss = loss

    def fit(
        self, X: Matrix, y: ArrayLike, sample_weight: ArrayLike | None = None, **params: Any
    ) -> GDLinearRegressorCV:
        """Cross-validate the path and refit at the best alpha.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the fits and of the held-out errors (as scikit-learn's scorers weigh).
        **params : dict
            ``groups`` for a group splitter; with metadata routing enabled, whatever the
            splitter requests.

        Returns
        -------
        self : GDLinearRegressorCV
        """
        self._validate_params()
        self._check_settings()
        ratios = self._ratios()
        if is_dask(X, y, sample_weight):
            return self._fit_dask(X, y, sample_weight, ratios, params)
        # X's NaN and infinity are read from the moments (confirm_magnitudes), not from a
        # pass of their own; y is checked first, in the words GDLinearRegressor uses.
        check_target(y, "y")
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=_SPARSE,
            dtype=(np.float64, np.float32),
            multi_output=True,
            y_numeric=True,
            ensure_all_finite=False,
        )
        source = ArraySource(X, y, sample_weight)
        try:
            if self.cv is None:
                stats = source.statistics(full=True)
                grids = [self._grid(stats, source.n_features, r) for r in ratios]
                self._leave_one_out(source, grids[0])
            else:
                member = membership(self._splits(X, y, params), source.n_samples)
                # The one pass: each row into its group's statistics.
                groups = fold_moments(X, source.Y, source.weights, member.labels, member.n_groups)
                source.passes += 1
                confirm_magnitudes(X, source.weights, merged(list(groups)), source.n_features)
                stats, grids = self._cross_validate(source, ratios, member, groups)
        except NonFiniteError as error:  # the core knows positions; the column's name is here
            raise error.named(getattr(self, "feature_names_in_", None)) from None
        self.alphas_ = grids[0] if len(grids) == 1 else np.array(grids)
        self._refit(stats, source)
        return self

    def predict(self, X: Matrix) -> FloatArray:
        """Predict :math:`X w + b`."""
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            reset=False,
            accept_sparse=_SPARSE,
            dtype=(np.float64, np.float32),
            ensure_all_finite=False,
        )
        check_finite(X, "X", getattr(self, "feature_names_in_", None))  # (fit's words)
        coef = self.coef_
        prediction: FloatArray = X @ (coef.T if coef.ndim == 2 else coef) + self.intercept_
        return prediction

    def get_metadata_routing(self) -> MetadataRouter:
        """The routing of ``fit``'s metadata to the splitter's ``split``."""
        return MetadataRouter(owner=self.__class__.__name__).add(
            splitter=check_cv(self.cv),
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags

    # -- the parts of fit -----------------------------------------------------------------

    def _check_settings(self) -> None:
        if self.loss not in _FACTOR:
            raise ValueError(
                f"GDLinearRegressorCV fits the squared losses ('half_mse', 'mse'); got "
                f"loss={self.loss!r}. For the Huber loss (or any other), search with "
                "GridSearchCV(GDLinearRegressor(loss=...), {'alpha': [...]})."
            )
        if self.cv is None and self.penalty != "l2":
            raise ValueError(
                f"cv=None (exact leave-one-out) is for penalty='l2'; penalty={self.penalty!r} "
                "has no closed-form leave-one-out error. Use cv=5 (or any splitter)."
            )
        if self.cv is None and self.scoring is not None:
            raise ValueError("cv=None computes the leave-one-out squared error; use scoring=None.")
        if self.positive and self.penalty == "l2":
            raise ValueError("positive=True is for penalty='l1' or 'elasticnet'.")
        if self.alpha_per_target and (self.penalty != "l2" or self.scoring is not None):
            raise ValueError("alpha_per_target=True is for penalty='l2' with scoring=None.")

    def _ratios(self) -> list[float]:
        if self.penalty == "l1":
            return [1.0]
        if self.penalty == "l2":
            return [0.0]
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=float)).tolist()
        if not ratios or any(not 0.0 < r <= 1.0 for r in ratios):
            raise ValueError(
                "l1_ratio must lie in (0, 1] for penalty='elasticnet' (0 is penalty='l2')."
            )
        return [float(r) for r in ratios]

    def _grid(self, stats: Any, d: int, ratio: float) -> FloatArray:
        """The alphas, descending: the given ones, or a log grid (see ``alphas``)."""
        if not isinstance(self.alphas, numbers.Integral | np.integer):
            given = np.sort(np.asarray(self.alphas, dtype=float).ravel())[::-1]
            if not given.size or not np.all(np.isfinite(given)) or given[-1] <= 0:
                raise ValueError("alphas must be positive finite numbers (or how many to try).")
            return given
        if ratio > 0:
            top = largest_alpha(stats, d, self.fit_intercept, self.positive) / ratio
        else:
            cov = stats.scatter[:d, :d] / stats.weight_sum
            top = float(np.trace(cov))
            if not self.fit_intercept:
                top += float(stats.mean[:d] @ stats.mean[:d])
        top *= 2 * _FACTOR[self.loss]
        if not top > 0:
            top = 1.0  # (y constant, or uncorrelated with X: every alpha gives the same fit)
        return np.geomspace(top, top * self.eps, int(self.alphas))

    def _params(self, ratio: float) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "penalty": self.penalty,
            "l1_ratio": ratio if ratio > 0 else 0.15,
            "positive": self.positive,
            "fit_intercept": self.fit_intercept,
            "tol": self.tol,
            "max_iter": self.max_iter,
        }

    def _leave_one_out(self, source: ArraySource, grid: FloatArray) -> None:
        ridges = grid / (2 * _FACTOR[self.loss])
        loo = ridge_loo_mse(source.X, source.Y, source.weights, ridges, self.fit_intercept)
        self._choose(loo[None, :, None, :], [grid], [0.0], None)

    def _fit_dask(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        ratios: list[float],
        params: dict[str, Any],
    ) -> GDLinearRegressorCV:
        """Dask input: the splits from the row count (the splitter sees no X, nor y: KFold,
        GroupKFold with ``groups`` in memory), then one ``dask.compute`` of every chunk's
        statistics by group; X is never gathered."""
        from ._data.dask_folds import dask_group_moments
        from ._data.dask_source import DaskSource

        if self.cv is None or self.scoring is not None:
            raise ValueError(
                "On Dask input GDLinearRegressorCV reads each chunk once into statistics: use "
                "a K-fold cv (cv=None's leave-one-out and a scoring reading predictions need "
                "the rows)."
            )
        X, y = validate_data(self, X, y, skip_check_array=True)
        source = DaskSource(X, y, sample_weight)
        placeholder = np.zeros((source.n_samples, 1))
        member = membership(self._splits(placeholder, None, params), source.n_samples)
        groups = dask_group_moments(
            source.X, source.Y, source.weights, member.labels, member.n_groups
        )
        stats, grids = self._cross_validate(source, ratios, member, groups)
        self.alphas_ = grids[0] if len(grids) == 1 else np.array(grids)
        self._refit(stats, source)
        return self

    def _splits(self, X: Any, y: Any, params: dict[str, Any]) -> list[tuple[Any, Any]]:
        splitter = check_cv(self.cv)
        if _routing_enabled():
            split_params = process_routing(self, "fit", **params).splitter.split
        else:
            unexpected = sorted(set(params) - {"groups"})
            if unexpected:
                raise ValueError(
                    f"GDLinearRegressorCV.fit got {unexpected}: without metadata routing only "
                    "`groups` (for the splitter) is passed on; enable routing with "
                    "sklearn.set_config(enable_metadata_routing=True) to pass others."
                )
            split_params = params
        return list(splitter.split(X, y, **split_params))

    def _cross_validate(
        self, source: Any, ratios: list[float], member: Membership, groups: list[Moments]
    ) -> tuple[Any, list[FloatArray]]:
        stats = merged(list(groups))
        check_statistics(stats)
        scorer = None if self.scoring is None else check_scoring(self, scoring=self.scoring)
        d, k = source.n_features, source.n_targets
        grids = [self._grid(stats, d, r) for r in ratios]
        m = len(grids[0])
        mse = np.empty((len(ratios), m, member.n_splits, k))
        scores = None if scorer is None else np.empty((len(ratios), m, member.n_splits))
        late = 0
        for i, ratio in enumerate(ratios):
            path = path_fits(self._params(ratio), grids[i])
            for j in range(member.n_splits):
                train = merged([groups[g] for g in member.training(j)])
                test = merged([groups[g] for g in member.test(j)])
                for part, what in ((train, "training"), (test, "test")):
                    if part.weight_sum <= 0:
                        raise ValueError(
                            f"cv's split {j}: every {what} row has sample_weight 0, so its "
                            "weighted error is undefined; drop the zero-weight rows or use "
                            "a splitter that spreads them."
                        )
                with serial_blas():  # (p x p solves: see serial_blas)
                    fits = penalty_path(train, source, path)
                late += sum(not f.converged for f in fits)
                coef, intercept = _stacked(fits, k, d)
                mse[i, :, j] = held_out_mse(test, d, coef, intercept)
                if scores is not None:
                    scores[i, :, j] = _scored(scorer, source, member.tests[j], coef, intercept)
        if late:
            _warnings.warn(
                f"GDLinearRegressorCV: {late} of {mse[..., 0].size} fits along the path did "
                "not meet their tol criterion (see their stop reasons by refitting "
                "GDLinearRegressor at those alphas); their held-out errors are those of the "
                "coefficients reached. Increase max_iter or loosen tol.",
                ConvergenceWarning,
            )
        self._choose(mse, grids, ratios, scores)
        return stats, grids

    def _choose(
        self,
        mse: FloatArray,
        grids: list[FloatArray],
        ratios: list[float],
        scores: FloatArray | None,
    ) -> None:
        """The fitted attributes of the search: ``mse`` (n_ratios, n_alphas, n_splits, k)."""
        pooled = mse.mean(axis=-1)
        self.mse_path_ = pooled[0] if len(ratios) == 1 else pooled
        test_scores = -pooled if scores is None else scores
        mean = test_scores.mean(axis=-1)
        best = np.unravel_index(int(np.argmax(mean)), mean.shape)
        self.l1_ratio_ = ratios[best[0]]
        self.alpha_: float | FloatArray = float(grids[best[0]][best[1]])
        if self.alpha_per_target:
            per_target = mse[0].mean(axis=1)  # (n_alphas, k)
            self.alpha_ = grids[0][np.argmin(per_target, axis=0)]
        self.best_score_ = float(mean[best])
        self._results(test_scores, grids, ratios)

    def _results(
        self, test_scores: FloatArray, grids: list[FloatArray], ratios: list[float]
    ) -> None:
        n_splits = test_scores.shape[-1]
        flat = test_scores.reshape(-1, n_splits)
        alphas = np.concatenate(grids)
        l1 = np.repeat(ratios, len(grids[0]))
        mean = flat.mean(axis=1)
        order = np.argsort(-mean, kind="stable")
        rank = np.empty(len(mean), dtype=np.int32)
        rank[order] = np.arange(1, len(mean) + 1)
        results: dict[str, Any] = {
            "params": [
                {"alpha": float(a), "l1_ratio": float(r)} for a, r in zip(alphas, l1, strict=True)
            ],
            "param_alpha": alphas,
            "param_l1_ratio": l1,
            "mean_test_score": mean,
            "std_test_score": flat.std(axis=1),
            "rank_test_score": rank,
        }
        for j in range(n_splits):
            results[f"split{j}_test_score"] = flat[:, j]
        self.cv_results_ = results

    def _refit(self, stats: Any, source: Source) -> None:
        """The final model from the statistics of all rows (no pass), at the chosen alpha."""
        d, k = source.n_features, source.n_targets
        alphas = np.broadcast_to(np.asarray(self.alpha_, dtype=float), (k,))
        coef, intercept, n_iter = np.empty((k, d)), np.empty(k), 0
        chosen = [[t] for t in range(k)] if self.alpha_per_target else [list(range(k))]
        for picked in chosen:
            params = {**self._params(self.l1_ratio_), "alpha": float(alphas[picked[0]])}
            part = stats if len(picked) == k else targets(stats, d, picked)
            solved = MomentsSource(part, source)
            solved.n_targets, solved.one_target = len(picked), False
            alpha = params.pop("alpha")
            result, _ = solve(solved, path_options(params, alpha), Start())
            coef[picked] = np.asarray(result.coef).reshape(len(picked), d)
            intercept[picked] = np.asarray(result.intercept).reshape(len(picked))
            n_iter = max(n_iter, result.n_iter)
            if not result.converged:
                _warnings.warn(
                    f"GDLinearRegressorCV: the final fit {result.message}.", ConvergenceWarning
                )
        dtype = source.dtype if source.dtype == np.float32 else np.float64
        self.coef_ = coef[0].astype(dtype) if source.one_target else coef.astype(dtype)
        self.intercept_: float | FloatArray = (
            float(intercept[0]) if source.one_target else intercept.astype(dtype)
        )
        self.n_iter_ = n_iter


def _stacked(fits: list[PathFit], k: int, d: int) -> tuple[FloatArray, FloatArray]:
    """The path's coefficients (m, k, d) and intercepts (m, k)."""
    coef = np.array([np.asarray(f.coef, dtype=float).reshape(k, d) for f in fits])
    intercept = np.array([np.asarray(f.intercept, dtype=float).reshape(k) for f in fits])
    return coef, intercept


def _scored(
    scorer: Any, source: ArraySource, rows: Any, coef: FloatArray, intercept: FloatArray
) -> FloatArray:
    """The scorer at each alpha on a split's test rows: their predictions for every alpha
    from one product (one more pass over those rows)."""
    X, Y, w = source.X[rows], source.Y[rows], source.weights[rows]
    m, k, d = coef.shape
    flat = np.asarray(X @ coef.reshape(m * k, d).T).reshape(len(rows), m, k) + intercept
    y = Y[:, 0] if source.one_target else Y
    out = np.empty(m)
    for a in range(m):
        predictions = flat[:, a, 0] if source.one_target else flat[:, a, :]
        out[a] = scorer(FixedPredictions(predictions), X, y, sample_weight=w)
    return out
