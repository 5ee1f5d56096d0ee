"""The memory of parameter values that passed scikit-learn's checks: scikit-learn rebuilds
every constraint object on every fit (a tenth of a small fit)."""

from __future__ import annotations

from typing import Any


class PassedChecks:
    """Combinations of parameter values that passed scikit-learn's checks, per class.

    Values are compared with their types (``True`` passing says nothing of ``1``); a
    combination with an unhashable value, or with NaN (unequal to itself), is never found,
    so it is checked every time. At most ``limit`` combinations are kept (a grid search
    revisits few).
    """

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self.passed: set[tuple[object, ...]] = set()

    @staticmethod
    def _key(cls: type, params: dict[str, Any]) -> tuple[object, ...] | None:
        # (names, values and their types as three tuples built in C: a tuple per parameter
        # cost a few microseconds of every fit)
        values = tuple(params.values())
        key = (cls, tuple(params), values, tuple(map(type, values)))
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def holds(self, cls: type, params: dict[str, Any]) -> bool:
        key = self._key(cls, params)
        return key is not None and key in self.passed

    def add(self, cls: type, params: dict[str, Any]) -> None:
        key = self._key(cls, params)
        if key is None:
            return
        if len(self.passed) >= self.limit:
            self.passed.clear()
        self.passed.add(key)
