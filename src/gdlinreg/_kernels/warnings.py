"""Warnings attributed to the user's line, not to gdlinreg's or scikit-learn's."""

from __future__ import annotations

import os
import sys
import warnings

#: Packages whose frames can stand between the user's call and a warning of gdlinreg
#: (besides gdlinreg itself): scikit-learn's meta-estimators and callback wrapper, and the
#: joblib loop of its searches.
_LIBRARIES = ("sklearn", "joblib")


def _library_dirs() -> tuple[str, ...]:
    """The directories (with a trailing separator) of gdlinreg and of the loaded libraries."""
    # Read at each warning, from sys.modules: importing scikit-learn here would make every
    # `import gdlinreg` user pay for it, and one imported after gdlinreg must count too.
    files = [getattr(sys.modules.get(name), "__file__", None) for name in _LIBRARIES]
    dirs = [os.path.dirname(f) for f in files if f]
    # gdlinreg's own directory: this module sits one floor down, in gdlinreg/_kernels.
    dirs.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # The separator keeps a sibling such as "sklearn_extra/" from matching "sklearn".
    return tuple(os.path.join(d, "") for d in dirs)


def warn(message: str, category: type[Warning]) -> None:
    """Issue a warning attributed to the first frame outside gdlinreg and its libraries.

    The frame is the first caller, walking out from the caller of this function, whose
    file lies outside gdlinreg's, scikit-learn's and joblib's package directories (the
    outermost frame if none does): the user's line that called into them.

    Parameters
    ----------
    message : str
        The text of the warning.
    category : type of Warning
        Its category (``UserWarning``, scikit-learn's ``ConvergenceWarning``, ...).
    """
    # A fixed stacklevel fits one call path only: the user's line lies at a different depth
    # for fit, partial_fit, gradient_descent, fit under scikit-learn's callback wrapper, and
    # fit inside Pipeline or GridSearchCV. (``skip_file_prefixes`` does this from Python 3.12
    # only; the walk works on every supported version.)
    inside = _library_dirs()
    frame = sys._getframe(1)
    level = 2  # stacklevel=2: the frame of our caller
    while frame.f_back is not None and frame.f_code.co_filename.startswith(inside):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
