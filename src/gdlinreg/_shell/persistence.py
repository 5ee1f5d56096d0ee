"""The stamp of a pickled model: the persistence format and the version of gdlinreg that
wrote it (the state keys ``_gdlinreg_format`` and ``_gdlinreg_version``)."""

from __future__ import annotations

import importlib.metadata
from typing import Any

# The layout of a pickled GDLinearRegressor. Raise it when a release changes what __dict__
# holds in a way older code would misread; older releases then refuse such files clearly.
PERSISTENCE_FORMAT = 1


def package_version() -> str:
    try:
        return importlib.metadata.version("gdlinreg")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source tree
        return "unknown"


def stamped(state: dict[str, Any]) -> dict[str, Any]:
    """A model's pickled ``state`` (a copy of its ``__dict__``) with the persistence format
    and the version of gdlinreg that wrote it."""
    state["_gdlinreg_format"] = PERSISTENCE_FORMAT
    state["_gdlinreg_version"] = package_version()
    return state


def unstamped(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` without its stamp; a format newer than this release reads is refused
    before anything is loaded (a file without the stamp is format 1)."""
    state = dict(state)
    saved = state.pop("_gdlinreg_format", PERSISTENCE_FORMAT)
    version = state.pop("_gdlinreg_version", "?")
    if saved > PERSISTENCE_FORMAT:
        raise ValueError(
            f"This GDLinearRegressor was saved by gdlinreg {version} in persistence format "
            f"{saved}; gdlinreg {package_version()} reads format {PERSISTENCE_FORMAT} at most. "
            "Load it with that version (or newer) of gdlinreg, or refit."
        )
    return state
