"""Smoke test of the benchmark at --quick size (about a minute and a half on 2 cores, so not in
the default test run): ``python -m pytest benchmarks/test_smoke.py``; and of the GPU
benchmark's CPU path at tiny size (a few seconds; skipped without PyTorch)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
# scikit-learn's array_api_dispatch (the GPU benchmark) needs SciPy's Array API support, read
# when SciPy is first imported: before run and gpu import scikit-learn.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import gpu
import pytest
import run


def test_quick_benchmark_prints_every_table(capsys):
    run.main(["--quick", "--repeats", "1"])
    out = capsys.readouterr().out
    for case in ("(a)", "(b)", "(c)", "(d)", "(e)"):
        assert f"### {case}" in out
    assert "threadpool: openblas" in out
    assert "tutorial: 1,000,000 textbook steps" in out


def test_gpu_benchmark_runs_its_cpu_path(capsys, monkeypatch):
    pytest.importorskip("torch")
    from gdlinreg._data import xp_source

    # (--cpu puts gdlinreg's Array API source on its device path; undone after the test)
    monkeypatch.setattr(xp_source, "xp_source", xp_source.xp_source)
    assert gpu.main(["--cpu", "--n", "3000", "--d", "4", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    for dtype in ("float32", "float64"):
        assert f"### torch {dtype}, n = 3,000, d = 4" in out
    rows = [line for line in out.splitlines() if line.startswith("| gdlinreg |")]
    assert len(rows) == 2
    # float64: the default tol's accuracy against the float64 reference
    assert float(rows[1].split("|")[5]) < 1e-8


def test_gpu_benchmark_without_a_device_says_so_and_exits_0(capsys, monkeypatch):
    monkeypatch.setattr(gpu, "_modules", lambda cpu: (None, None, "no CUDA device"))
    assert gpu.main([]) == 0
    assert "no CUDA device" in capsys.readouterr().out


def test_peers_benchmark_prints_its_table(capsys):
    pytest.importorskip("sklearnex")
    import peers

    peers.main(["--sizes", "3000", "--repeats", "1", "--profile", "--memory"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| 3e+03 |")]
    assert len(rows) == 4  # two designs, two dtypes
    # The default fit is accurate on both designs (float64: against the TSQR reference)
    for row in rows:
        cells = row.split("|")
        if cells[3].strip() == "float64":
            assert float(cells[7].split("/")[0]) < 1e-10
