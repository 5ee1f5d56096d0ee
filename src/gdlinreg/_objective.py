"""The persisted type path of :class:`~gdlinreg._problem.statistics.Moments`.

A fitted model keeps its statistics (for ``partial_fit`` and inference), and pickles and
skops files name their class ``gdlinreg._objective.Moments``; models saved by earlier versions
name it so too. This module keeps that path: the class itself lives in
:mod:`gdlinreg._problem.statistics`. Nothing in the package imports this module.
"""

from ._problem.statistics import Moments

__all__ = ["Moments"]
