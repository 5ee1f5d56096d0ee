"""Why two of issue 4's floor targets are out of reach from NumPy: the BLAS rates behind them.

``python benchmarks/probe.py`` (about a minute) measures, on X of n=1e6 rows and d=100 float64
columns, the rates the Gram build and the data-form gradient are bounded by:

* syrk (``B.T @ B``) on row blocks of 256-8192 rows, one BLAS thread, against a square GEMM;
* one read of X: NumPy's sum (one thread) and BLAS's ``X @ w`` (all threads);
* one part of the rows per core, one-thread BLAS each, in 1.6 MB blocks: ``X_b w`` alone,
  then ``X_b w`` followed by ``X_b' r`` on the same block (the data-form gradient's two
  products).

Best of 5, 0.25 s apart.
"""

import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from gdlinreg._kernels import threads as _threads

N, D, PAUSE = 1_000_000, 100, 0.25


def best(fn, repeats=5):
    times = []
    for _ in range(repeats):
        time.sleep(PAUSE)
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    for lib in threadpool_info():
        print(
            f"threadpool: {lib['internal_api']} {lib['version']} {lib.get('architecture')} "
            f"threads={lib['num_threads']}"
        )
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    w, y = rng.standard_normal(D), rng.standard_normal(N)
    square = rng.standard_normal((1000, 1000))
    with threadpool_limits(limits=1, user_api="blas"):
        gemm = 2e9 / best(lambda: square @ square)
        print(f"one thread: square GEMM {gemm / 1e9:.1f} GFLOP/s")
        for rows in (256, 1024, 4096, 8192):

            def syrk(rows=rows):
                for a in range(0, 200_000, rows):
                    block = X[a : a + rows]
                    block.T @ block

            rate = 200_000 * D * (D + 1) / best(syrk)
            print(f"one thread: syrk on {rows}-row blocks {rate / 1e9:.1f} GFLOP/s")
    print(
        f"one read of X: np.add.reduce {best(lambda: np.add.reduce(X, axis=None)):.4f} s, "
        f"X @ w (all threads) {best(lambda: X @ w):.4f} s"
    )
    parts = _threads.spans(N, 2)

    def gradient(second, rows=2048):
        def part(span):
            g = np.zeros(D)
            for a in range(span.start, span.stop, rows):
                block = X[a : min(a + rows, span.stop)]
                r = block @ w
                if second:
                    r -= y[a : a + block.shape[0]]
                    g += r @ block
            return g

        return lambda: _threads.run_parts(part, parts)

    if _threads._controller() is not None:
        print(
            f"two parts, 2048-row blocks: X_b w {best(gradient(False)):.4f} s, "
            f"X_b w and X_b' r {best(gradient(True)):.4f} s"
        )


if __name__ == "__main__":
    main()
