"""Smoke test of the benchmark at --quick size (about a minute and a half on 2 cores, so not in
the default test run): ``python -m pytest benchmarks/test_smoke.py``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import run


def test_quick_benchmark_prints_every_table(capsys):
    run.main(["--quick", "--repeats", "1"])
    out = capsys.readouterr().out
    for case in ("(a)", "(b)", "(c)", "(d)", "(e)"):
        assert f"### {case}" in out
    assert "threadpool: openblas" in out
    assert "tutorial: 1,000,000 textbook steps" in out
