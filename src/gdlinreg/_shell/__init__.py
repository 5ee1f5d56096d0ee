"""The scikit-learn shell: what :class:`gdlinreg.GDLinearRegressor` wraps around a fit, and
only it uses, one module per concern.

- :mod:`.fit`: the estimator's one call into the core (:func:`~.fit.fit_model`);
- :mod:`.callbacks`: scikit-learn's callbacks (sklearn >= 1.9);
- :mod:`.rollback`: a failed refit leaves the fitted model as it was;
- :mod:`.early_stopping`: the validation set, in memory or split off (Dask: per chunk);
- :mod:`.array_api`: Array API input (scikit-learn's ``array_api_dispatch``);
- :mod:`.persistence`: the stamp of a pickled model (format and version);
- :mod:`.partial_fit`: what ``partial_fit`` refuses;
- :mod:`.streamed`: ``partial_fit`` for the Huber loss with the "auto" step (a stream);
- :mod:`.param_checks`: parameter values that passed scikit-learn's checks, remembered.

The shell may import the core and scikit-learn; the core never imports the shell, and no
module here imports the estimator (where one needs its type, a small Protocol names the
attributes it reads). This file stays empty: ``from . import x`` counts as an import of it.
"""
