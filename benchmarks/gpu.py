"""GPU benchmark of Array API input (issue 16): gdlinreg fitted from PyTorch and CuPy arrays on a
CUDA device, side by side with ``torch.linalg.lstsq`` and a CuPy normal-equations solve.

``python benchmarks/gpu.py`` fits n = 10,000,000, d = 100 (float32 and float64) on the first
CUDA device and prints, per namespace and dtype, the wall time (median of interleaved rounds,
0.25 s pause before every run, the device synchronised before the clock stops), the peak
device memory over the size of X, and the relative error of the coefficients against a
float64 reference. Without a CUDA device it says so and exits with status 0.

``--cpu`` runs the same code on PyTorch CPU tensors (default n = 200,000, d = 20), on the
device path that a GPU's arrays take (gdlinreg's Array API source computes the moments in
the namespace; host tensors would otherwise be read through zero-copy NumPy views); CI runs
it at tiny size (``benchmarks/test_smoke.py``). ``--n``, ``--d``, ``--repeats`` set sizes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # scikit-learn's array_api_dispatch needs it

import numpy as np


def _modules(cpu: bool) -> tuple[Any, Any, str]:
    """``(torch or None, cupy or None, why none)``: the namespaces that can run here."""
    try:
        import torch
    except ImportError:
        torch = None
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
    except Exception:  # not installed, or no driver / device
        cupy = None
    if cpu:
        return torch, None, "" if torch is not None else "--cpu needs PyTorch"
    if torch is not None and not torch.cuda.is_available():
        torch = None
    if torch is None and cupy is None:
        return None, None, "no CUDA device (neither PyTorch nor CuPy sees one)"
    return torch, cupy, ""


class Torch:
    """PyTorch arrays on ``device``; peak memory from its caching allocator."""

    name = "torch"

    def __init__(self, torch: Any, device: str) -> None:
        self.torch, self.device = torch, device
        self.gpu = device != "cpu"

    def data(self, n: int, d: int, seed: int) -> tuple[Any, Any]:
        t = self.torch
        g = t.Generator(device=self.device).manual_seed(seed)
        X = t.randn(n, d, generator=g, device=self.device, dtype=t.float64)
        w = t.randn(d, generator=g, device=self.device, dtype=t.float64)
        y = X @ w + 3.0 + 0.1 * t.randn(n, generator=g, device=self.device, dtype=t.float64)
        return X, y

    def sync(self) -> None:
        if self.gpu:
            self.torch.cuda.synchronize()

    def reset(self) -> None:
        if self.gpu:
            self.torch.cuda.empty_cache()
            self.torch.cuda.reset_peak_memory_stats()

    def peak(self) -> float:
        return float(self.torch.cuda.max_memory_allocated()) if self.gpu else float("nan")

    def to_numpy(self, a: Any) -> np.ndarray:
        return a.detach().cpu().numpy().astype(np.float64)

    def float32(self, a: Any) -> Any:
        return a.float()

    def peer(self, X: Any, y: Any) -> Any:
        """``torch.linalg.lstsq`` on the centred data (its driver "gels" has no intercept)."""
        Xc, yc = X - X.mean(dim=0), y - y.mean()
        return self.torch.linalg.lstsq(Xc, yc[:, None]).solution[:, 0]

    peer_name = "torch.linalg.lstsq"


class CuPy:
    """CuPy arrays; peak memory as the high-water mark of its memory pool (it keeps the blocks
    it has handed out until ``free_all_blocks``)."""

    name = "cupy"
    gpu = True
    peer_name = "cupy normal equations"

    def __init__(self, cupy: Any) -> None:
        self.cp = cupy

    def data(self, n: int, d: int, seed: int) -> tuple[Any, Any]:
        rng = self.cp.random.default_rng(seed)
        X = rng.standard_normal((n, d), dtype=self.cp.float64)
        y = X @ rng.standard_normal(d) + 3.0 + 0.1 * rng.standard_normal(n)
        return X, y

    def sync(self) -> None:
        self.cp.cuda.Device().synchronize()

    def reset(self) -> None:
        self.cp.get_default_memory_pool().free_all_blocks()

    def peak(self) -> float:
        return float(self.cp.get_default_memory_pool().total_bytes())

    def to_numpy(self, a: Any) -> np.ndarray:
        return self.cp.asnumpy(a).astype(np.float64)

    def float32(self, a: Any) -> Any:
        return a.astype(self.cp.float32)

    def peer(self, X: Any, y: Any) -> Any:
        """``(X'X - n mu mu') w = X'y - n mu ybar``: the Gram matrix by one product, no copy."""
        n = X.shape[0]
        mu, ybar = X.mean(axis=0), y.mean()
        G = X.T @ X - n * self.cp.outer(mu, mu)
        return self.cp.linalg.solve(G, X.T @ y - n * mu * ybar)


def _fit_gdlinreg(X: Any, y: Any) -> Any:
    from sklearn import config_context

    from gdlinreg import GDLinearRegressor

    with config_context(array_api_dispatch=True):
        return GDLinearRegressor().fit(X, y).coef_


def _reference(space: Any, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """The float64 solution on the centred float64 data (standard normal columns: the
    normal equations lose nothing), and the columns' standard deviations. The float32 fits
    are measured against it too: their error includes X's rounding to float32."""
    std = space.to_numpy(X.std(0))
    Xc = X - X.mean(0)
    yc = y - y.mean()
    G = space.to_numpy(Xc.T @ Xc)
    b = space.to_numpy(Xc.T @ yc)
    return np.linalg.solve(G, b), std


def _time(space: Any, run: Callable[[], Any]) -> tuple[float, float, Any]:
    space.reset()
    base = space.peak()
    time.sleep(0.25)  # between BLAS-heavy runs: let the device (and its clocks) settle
    start = time.perf_counter()
    out = run()
    space.sync()
    return time.perf_counter() - start, space.peak() - base, out


_HEADER = "| method | median s | min-max s | peak device / X | rel. error | x gdlinreg |"


def bench(space: Any, n: int, d: int, repeats: int) -> list[str]:
    X64, y64 = space.data(n, d, seed=0)
    ref, std = _reference(space, X64, y64)
    lines = []
    for dtype in ("float32", "float64"):
        X = X64 if dtype == "float64" else space.float32(X64)
        y = y64 if dtype == "float64" else space.float32(y64)
        size = X.shape[0] * X.shape[1] * X.dtype.itemsize
        runs: dict[str, list[tuple[float, float, Any]]] = {"gdlinreg": [], space.peer_name: []}
        for _ in range(repeats):  # interleaved: one run of each method per round
            runs["gdlinreg"].append(_time(space, lambda X=X, y=y: _fit_gdlinreg(X, y)))
            runs[space.peer_name].append(_time(space, lambda X=X, y=y: space.peer(X, y)))
        lines.append(f"\n### {space.name} {dtype}, n = {n:,}, d = {d} (X: {size / 1e9:.2f} GB)\n")
        lines.append(_HEADER)
        lines.append("|---|---|---|---|---|---|")
        ours = statistics.median(t for t, _, _ in runs["gdlinreg"])
        for method, results in runs.items():
            times = [t for t, _, _ in results]
            coef = space.to_numpy(results[-1][2])
            err = np.linalg.norm((coef - ref) * std) / np.linalg.norm(ref * std)
            peak = max(p for _, p, _ in results) / size
            med = statistics.median(times)
            lines.append(
                f"| {method} | {med:.3f} | {min(times):.3f}-{max(times):.3f} | "
                f"{'-' if np.isnan(peak) else f'{peak:.2f}'} | {err:.1e} | {med / ours:.2f} |"
            )
        del X, y
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="PyTorch CPU tensors, small n")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--d", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch, cupy, why = _modules(args.cpu)
    if why:
        print(f"benchmarks/gpu.py: {why}; nothing to run (use --cpu for the CPU path).")
        return 0
    n = args.n or (200_000 if args.cpu else 10_000_000)
    d = args.d or (20 if args.cpu else 100)
    if args.cpu:
        # Host tensors would take zero-copy NumPy views; the CPU path runs the device path,
        # the code a GPU's arrays take.
        from gdlinreg._data import xp_source

        xp_source.xp_source = xp_source.XpSource
    spaces: list[Any] = [Torch(torch, "cpu" if args.cpu else "cuda")] if torch else []
    spaces += [CuPy(cupy)] if cupy else []
    if not args.cpu and cupy is None:
        print("(CuPy is not installed: its rows are left out)")
    if torch is not None and not args.cpu:
        print(f"device: {torch.cuda.get_device_name(0)}")
    for space in spaces:
        print("\n".join(bench(space, n, d, args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
