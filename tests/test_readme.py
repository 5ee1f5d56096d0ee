"""Every ```python block of README.md runs, in order, in one namespace (as a reader who pastes
them after the quickstart would), in a temporary directory.

A block may be marked, on the line before its fence, with
``<!-- readme-test: needs MODULE ... -->``: it runs where those modules import (and, for
``torch``, where CUDA is available), and is skipped, saying why, elsewhere.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
# The release check runs the suite against the installed package, with the tests alone.
pytestmark = pytest.mark.skipif(not README.is_file(), reason="README.md is not beside tests/")
FENCE = re.compile(r"(?:<!-- readme-test: needs ([\w. ]+) -->\n)?```python\n(.*?)```", re.S)


def blocks():
    found = FENCE.findall(README.read_text())
    return [(needs.split() if needs else [], code) for needs, code in found]


def missing(needs):
    absent = [name for name in needs if importlib.util.find_spec(name) is None]
    if not absent and "torch" in needs:
        import torch

        if not torch.cuda.is_available():
            absent.append("a CUDA device")
    return absent


def test_the_readme_has_python_blocks():
    assert len(blocks()) >= 6


def test_every_readme_block_runs_after_the_quickstart(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib").use("Agg")
    monkeypatch.chdir(tmp_path)  # (the teaching figure's fit.png lands here)
    namespace: dict[str, object] = {"__name__": "readme"}
    skipped = []
    for i, (needs, code) in enumerate(blocks()):
        absent = missing(needs)
        if absent:
            skipped.append((i, absent))
            continue
        exec(compile(code, f"README.md block {i}", "exec"), namespace)
    # Only blocks marked as needing something absent here were skipped.
    assert all(needs for i, (needs, _) in enumerate(blocks()) if i in dict(skipped))
    assert (tmp_path / "fit.png").stat().st_size > 0
