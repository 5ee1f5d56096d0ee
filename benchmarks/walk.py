"""How long a reader's walk through one fit is: a short markdown report on stdout.

    PYTHONPATH=<src> python benchmarks/walk.py [--src <path to src/gdlinreg>]

Nothing here names a gdlinreg module: the package is found from the imported ``gdlinreg``
(``--src`` puts its parent first on ``sys.path`` and checks that the import came from there),
and everything else is discovered from file names under that folder, so the script measures
any layout of the package. Sections:

1. The calls of one default fit, ``GDLinearRegressor().fit(X, y)`` on 200 x 5 standard normal
   data (after one warm-up fit), seen by ``sys.setprofile``: "call" events whose code lives in
   the package, distinct functions (file, first line, name), distinct modules, the deepest
   nesting of package frames (counted from the first package frame), the package functions
   and modules that receive X itself (an argument that ``is X``), and the calls of any
   function named ``is_sparse``.
2. The tutorial fit (``solver="gd"``, step 0.01, 1000 steps, ``tol=None``, from (0.48, 0.75)
   on ``load_seed_example()``), traced line by line with ``sys.settrace`` inside the package:
   the lines run at least 1000 times, and the lines that look like the textbook step
   ``theta - step * grad``. Then its time (median of 5) and that of the 1,000,000-step fit.
3. The import graph with every import (module level, ``if TYPE_CHECKING:`` blocks and imports
   inside functions), built with ``benchmarks/budgets.py``'s helpers: its cycles (each edge
   labelled with how it is imported), and the 6 largest modules and functions in code lines.
4. ``GridSearchCV`` over 10 penalty strengths, gdlinreg (``penalty="l2"``) against scikit-
   learn's ``Ridge`` at the equivalent strengths, on 1000 x 10 data: interleaved, 7 rounds,
   0.25 s pause before every run; both medians and their ratio, and every warning raised.

If ``OPENBLAS_CORETYPE`` or ``OPENBLAS_L2_SIZE`` are set, the script re-executes itself
without them (as ``benchmarks/run.py`` does) and says so in the report.
"""

from __future__ import annotations

import os
import sys

_BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_DROPPED = "GDLINREG_WALK_DROPPED_ENV"  # what the re-executed process was started without
if __name__ == "__main__" and any(name in os.environ for name in _BLAS_ENV):
    env = {k: v for k, v in os.environ.items() if k not in _BLAS_ENV}
    env[_DROPPED] = " ".join(f"{k}={os.environ[k]}" for k in _BLAS_ENV if k in os.environ)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402
import ast  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import inspect  # noqa: E402
import linecache  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
PAUSE = 0.25  # seconds before every timed GridSearchCV run
STEP_LINE = re.compile(r"theta\s*-\s*\w*step\w*\s*\*\s*grad")
CO_VARARGS = inspect.CO_VARARGS
CO_VARKEYWORDS = inspect.CO_VARKEYWORDS


# ---------------------------------------------------------------- helpers


class Package:
    """The package folder: which code lives in it, and its files' module names."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.prefix = str(self.root) + os.sep
        self._inside: dict[str, bool] = {}

    def owns(self, filename: str) -> bool:
        hit = self._inside.get(filename)
        if hit is None:
            hit = self._inside[filename] = os.path.abspath(filename).startswith(self.prefix)
        return hit

    def relative(self, filename: str) -> str:
        return os.path.relpath(os.path.abspath(filename), self.root)

    def module(self, filename: str) -> str:
        """The dotted name relative to the package ("__init__" for the package itself)."""
        parts = list(Path(self.relative(filename)).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts) or "__init__"


class Caught:
    """Every warning raised inside the block, recorded rather than shown."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def __enter__(self) -> Caught:
        self._ctx = warnings.catch_warnings(record=True)
        self._log = self._ctx.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc: object) -> None:
        for w in self._log:
            self.seen[f"{w.category.__name__}: {str(w.message).splitlines()[0][:120]}"] += 1
        self._ctx.__exit__(*exc)

    def report(self, what: str) -> None:
        if not self.seen:
            print(f"- warnings during {what}: none")
            return
        print(f"- warnings during {what}:")
        for text, count in self.seen.most_common():
            print(f"  - {count} x {text}")


def median(values: list[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def seconds(t: float) -> str:
    return f"{t * 1e3:.2f} ms" if t < 1 else f"{t:.3f} s"


def timed(fn) -> float:
    return clocked(fn)[0]


def clocked(fn) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def argument_is(frame, obj) -> bool:
    """Whether ``obj`` itself is one of the frame's arguments (in ``*args``/``**kw`` too)."""
    code = frame.f_code
    n = code.co_argcount + code.co_kwonlyargcount
    names = list(code.co_varnames[:n])
    star = bool(code.co_flags & CO_VARARGS)
    starstar = bool(code.co_flags & CO_VARKEYWORDS)
    values = frame.f_locals
    if any(values.get(name) is obj for name in names):
        return True
    if star and any(v is obj for v in values.get(code.co_varnames[n], ())):
        return True
    if starstar:
        kw = values.get(code.co_varnames[n + star], {})
        return any(v is obj for v in kw.values())
    return False


# ---------------------------------------------------------------- 1. calls


def walk_calls(pkg: Package, fit, X) -> dict[str, object]:
    calls = 0
    anonymous = 0  # calls into <listcomp>, <genexpr>, <lambda>...: a reader sees no def
    functions: Counter[tuple[str, int, str]] = Counter()
    modules: set[str] = set()
    takes_x: set[tuple[str, int, str]] = set()
    sparse_checks: Counter[str] = Counter()
    threads: set[int] = set()
    deepest = 0

    def profile(frame, event, arg):
        nonlocal calls, anonymous, deepest
        if event != "call":
            return
        code = frame.f_code
        inside = pkg.owns(code.co_filename)
        if code.co_name == "is_sparse":
            where = pkg.relative(code.co_filename) if inside else code.co_filename
            sparse_checks[where] += 1
        if not inside:
            return
        calls += 1
        threads.add(threading.get_ident())
        anonymous += code.co_name.startswith("<")
        key = (code.co_filename, code.co_firstlineno, code.co_name)
        functions[key] += 1
        modules.add(pkg.module(code.co_filename))
        depth = 0
        f = frame
        while f is not None:
            depth += pkg.owns(f.f_code.co_filename)
            f = f.f_back
        deepest = max(deepest, depth)
        if argument_is(frame, X):
            takes_x.add(key)

    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        fit()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    return {
        "calls": calls,
        "anonymous": anonymous,
        "functions": functions,
        "modules": modules,
        "deepest": deepest,
        "takes_x": takes_x,
        "sparse_checks": sparse_checks,
        "threads": len(threads),
    }


def section_calls(pkg: Package, gdlinreg, np) -> None:
    print("## 1. The calls of one default fit\n")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = X @ rng.standard_normal(5) + 1 + 0.1 * rng.standard_normal(200)
    est = gdlinreg.GDLinearRegressor()
    caught = Caught()
    with caught:
        est.fit(X, y)  # warm-up: imports and caches happen here, not in the walk
        walk = walk_calls(pkg, lambda: est.fit(X, y), X)
        times = [timed(lambda: est.fit(X, y)) for _ in range(5)]
    functions = walk["functions"]
    takes_x = walk["takes_x"]
    assert isinstance(functions, Counter) and isinstance(takes_x, set)
    x_modules = {pkg.module(f) for f, _, _ in takes_x}
    print("`GDLinearRegressor().fit(X, y)`, X 200 x 5, after one warm-up fit (`sys.setprofile`):\n")
    print("| measure | value |\n|---|---|")
    print(f'| package calls ("call" events) | {walk["calls"]} |')
    print(f"| of which comprehensions, generators, lambdas (`<...>`) | {walk['anonymous']} |")
    print(f"| distinct functions | {len(functions)} |")
    print(f"| distinct modules | {len(walk['modules'])} |")  # type: ignore[arg-type]
    print(f"| deepest nesting of package frames | {walk['deepest']} |")
    print(f"| functions that receive X itself | {len(takes_x)} |")
    print(f"| modules of those functions | {len(x_modules)} |")
    sparse = walk["sparse_checks"]
    assert isinstance(sparse, Counter)
    print(f"| calls of a function named `is_sparse` | {sum(sparse.values())} |")
    print(f"| threads seen | {walk['threads']} |")
    print(f"| fit time (median of 5, unprofiled) | {seconds(median(times))} |")
    print()
    print("- modules walked: " + ", ".join(f"`{m}`" for m in sorted(walk["modules"])))  # type: ignore[call-overload]
    names = sorted(f"`{pkg.module(f)}.{n}`" for f, _, n in takes_x)
    print("- functions receiving X: " + (", ".join(names) or "none"))
    if sparse:
        print("- `is_sparse` calls: " + ", ".join(f"{w} x{c}" for w, c in sparse.items()))
    top = functions.most_common(5)
    print("- most called: " + ", ".join(f"`{pkg.module(f)}.{n}` x{c}" for (f, _, n), c in top))
    caught.report("these fits")
    print()


# ---------------------------------------------------------------- 2. the tutorial's step


def trace_lines(pkg: Package, fit) -> Counter[tuple[str, int]]:
    counts: Counter[tuple[str, int]] = Counter()

    def local(frame, event, arg):
        if event == "line":
            counts[(frame.f_code.co_filename, frame.f_lineno)] += 1
        return local

    def enter(frame, event, arg):
        return local if pkg.owns(frame.f_code.co_filename) else None

    threading.settrace(enter)
    sys.settrace(enter)
    try:
        fit()
    finally:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]
    return counts


def section_tutorial(pkg: Package, gdlinreg) -> None:
    print("## 2. The tutorial's gradient step\n")
    X5, y5 = gdlinreg.datasets.load_seed_example()

    def fit(max_iter: int = 1000):
        est = gdlinreg.GDLinearRegressor(
            solver="gd", learning_rate=0.01, max_iter=max_iter, tol=None
        )
        return est.fit(X5, y5, coef_init=[0.48], intercept_init=0.75)

    caught = Caught()
    with caught:
        est = fit()  # warm-up
        counts = trace_lines(pkg, fit)
        times = [timed(fit) for _ in range(5)]
        long_time, long_est = clocked(lambda: fit(1_000_000))

    def text(key: tuple[str, int]) -> str:
        return linecache.getline(key[0], key[1]).strip()

    print(
        '`GDLinearRegressor(solver="gd", learning_rate=0.01, max_iter=1000, tol=None)'
        ".fit(X5, y5, coef_init=[0.48], intercept_init=0.75)`, traced with `sys.settrace`: "
        f"{sum(counts.values())} line events on {len(counts)} distinct package lines.\n"
    )
    hot = sorted(((k, c) for k, c in counts.items() if c >= 1000), key=lambda kc: -kc[1])
    if hot:
        print(f"Package lines run at least 1000 times ({len(hot)}; top 10):\n")
        print("| file:line | count | source |\n|---|---|---|")
        for key, c in hot[:10]:
            print(f"| {pkg.relative(key[0])}:{key[1]} | {c} | `{text(key)}` |")
    else:
        top = counts.most_common(1)
        most = f"{pkg.relative(top[0][0][0])}:{top[0][0][1]} x{top[0][1]}" if top else "none"
        print(f"No package line runs 1000 times (the most run: {most}).")
    matches = sorted(
        ((k, c) for k, c in counts.items() if STEP_LINE.search(text(k))), key=lambda kc: -kc[1]
    )
    print(f"\nExecuted lines matching `{STEP_LINE.pattern}`: " + ("none" if not matches else ""))
    for key, c in matches:
        print(f"- {pkg.relative(key[0])}:{key[1]} x{c}: `{text(key)}`")
    print()
    for label, model in (("1000 steps", est), ("1,000,000 steps", long_est)):
        coef = getattr(model, "coef_", None)
        facts = ", ".join(
            f"{name}={getattr(model, name)!r}"
            for name in ("solver_", "n_iter_")
            if hasattr(model, name)
        )
        print(f"- {label}: coef_={coef}, intercept_={getattr(model, 'intercept_', None)}, {facts}")
    print(f"- time, 1000 steps: {seconds(median(times))} (median of 5, {seconds(min(times))} min)")
    print(f"- time, 1,000,000 steps: {seconds(long_time)} (once)")
    caught.report("these fits")
    print()


# ---------------------------------------------------------------- 3. imports


def load_budgets():
    spec = importlib.util.spec_from_file_location("_walk_budgets", HERE / "budgets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def import_kinds(tree: ast.Module) -> list[tuple[ast.stmt, str]]:
    """Every import statement with how it runs: "load" (when the module loads), "typing"
    (under ``if TYPE_CHECKING:``: never) or "local" (inside a function: when it is called)."""
    out: list[tuple[ast.stmt, str]] = []

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.append((child, kind))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, "typing" if kind == "typing" else "local")
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for stmt in child.body:
                    visit(ast.Module(body=[stmt], type_ignores=[]), "typing")
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), kind)
            else:
                visit(child, kind)

    visit(tree, "load")
    return out


def full_graph(budgets, root: Path) -> dict[tuple[str, str], set[str]]:
    """Edges (importer, imported) of the package's own modules, every import counted, each
    with the kinds of the statements that make it."""
    mods = budgets.modules(root)
    base = budgets.PACKAGE + "."
    edges: dict[tuple[str, str], set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text())
        package = budgets._package_of(name, path)
        for stmt, kind in import_kinds(tree):
            single = ast.Module(body=[stmt], type_ignores=[])
            for dep in budgets.imports(single, package):
                target = dep[len(base) :] if dep.startswith(base) else None
                if target in mods and target != name:
                    edges.setdefault((name, target), set()).add(kind)
    return edges


def section_imports(budgets, root: Path) -> None:
    print("## 3. The import graph (every import)\n")
    edges = full_graph(budgets, root)
    graph: dict[str, set[str]] = {m: set() for m in budgets.modules(root)}
    for a, b in edges:
        graph[a].add(b)
    kinds = Counter(k for ks in edges.values() for k in ks)
    print(
        f"{len(graph)} modules, {len(edges)} edges between them; edges made by an import at "
        f"load: {kinds['load']}, under TYPE_CHECKING: {kinds['typing']}, inside a function: "
        f"{kinds['local']} (an edge can be made several ways).\n"
    )
    m = budgets.measure(root)
    cycles = budgets.cycles(graph)
    runtime = budgets.cycles(m["graph"])
    print(
        f"Cycles, all imports: {len(cycles) or 'none'}; budgets' runtime graph: "
        f"{len(runtime) or 'none'}.\n"
    )
    for i, comp in enumerate(cycles, 1):
        members = set(comp)
        inner = sorted((a, b) for a, b in edges if a in members and b in members)
        print(f"- cycle {i} ({len(comp)} modules): " + ", ".join(f"`{m}`" for m in comp))
        for a, b in inner:
            print(f"  - `{a}` -> `{b}` ({'/'.join(sorted(edges[(a, b)]))})")
    for key, label in (("sizes", "modules"), ("functions", "functions")):
        top = sorted(m[key].items(), key=lambda kv: -kv[1])[:6]
        print(f"\nLargest {label} (code lines):\n")
        print("| name | lines |\n|---|---|")
        for name, n in top:
            print(f"| `{name}` | {n} |")
    print()


# ---------------------------------------------------------------- 4. GridSearchCV


def section_grid(gdlinreg, np) -> None:
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV

    print("## 4. GridSearchCV against Ridge\n")
    est_cls = gdlinreg.GDLinearRegressor
    params = inspect.signature(est_cls).parameters
    doc = est_cls.__doc__ or ""
    for name in ("penalty", "alpha"):
        if name not in params or not re.search(rf"^\s*{name} :", doc, re.M):
            print(f"- `{name}` is not a documented parameter of GDLinearRegressor: skipped\n")
            return
    n, d, cv = 1000, 10, 5
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 1 + 0.1 * rng.standard_normal(n)
    alphas = np.logspace(-4, 1, 10)
    n_fit = n - n // cv  # the rows each fold's fit sees: Ridge(alpha=A) is alpha=A/n_fit
    searches = {
        "gdlinreg": lambda: GridSearchCV(est_cls(penalty="l2"), {"alpha": list(alphas)}, cv=cv).fit(
            X, y
        ),
        "Ridge": lambda: GridSearchCV(Ridge(), {"alpha": list(alphas * n_fit)}, cv=cv).fit(X, y),
    }
    caught = {name: Caught() for name in searches}
    results = {}
    for name, run in searches.items():  # warm-up
        with caught[name]:
            results[name] = run()
    times: dict[str, list[float]] = {name: [] for name in searches}
    for _ in range(7):
        for name, run in searches.items():
            gc.collect()
            time.sleep(PAUSE)
            with caught[name]:
                times[name].append(timed(run))
    gd, ridge = (median(times[name]) for name in searches)
    scores = [results[name].cv_results_["mean_test_score"] for name in searches]
    best = [results[name].best_index_ for name in searches]
    print(
        f"X {n} x {d}, 10 alphas logspace(-4, 1), cv={cv}; Ridge's alphas are gdlinreg's times "
        f"{n_fit} (the rows each fold fits), 7 interleaved rounds, {PAUSE} s pause before each "
        "run, after one warm-up each.\n"
    )
    print("| search | median | min | max |\n|---|---|---|---|")
    for name in searches:
        t = times[name]
        print(f"| {name} | {seconds(median(t))} | {seconds(min(t))} | {seconds(max(t))} |")
    print(f"\n- ratio gdlinreg / Ridge: **{gd / ridge:.2f}**")
    print(
        f"- same best alpha: {best[0] == best[1]} (index {best[0]} vs {best[1]}); largest "
        f"difference in mean test R²: {float(np.max(np.abs(scores[0] - scores[1]))):.2e}"
    )
    for name in searches:
        caught[name].report(f"the {name} searches")
    print()


# ---------------------------------------------------------------- main


def git_state(root: Path) -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    head = head if len(head) <= 72 else head[:71] + "…"
    return head + (" (with uncommitted changes)" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="the package folder (src/gdlinreg) to measure")
    args = parser.parse_args(argv)
    if args.src is not None:
        sys.path.insert(0, str(args.src.resolve().parent))

    import numpy as np
    import sklearn
    from threadpoolctl import threadpool_info

    gdlinreg = importlib.import_module("gdlinreg")
    importlib.import_module("gdlinreg.datasets")
    root = Path(gdlinreg.__file__).resolve().parent
    if args.src is not None and args.src.resolve() != root:
        print(f"gdlinreg was imported from {root}, not {args.src}", file=sys.stderr)
        return 2
    pkg = Package(root)

    print(f"# The walk through one fit: gdlinreg {getattr(gdlinreg, '__version__', '?')}\n")
    print(f"- package: `{root}` (git: {git_state(root)})")
    print(
        f"- python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, {os.cpu_count()} cores, "
        f"load average at start {', '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    for lib in threadpool_info():
        print(
            f"- threadpool: {lib['internal_api']} {lib.get('version')}, "
            f"kernel `{lib.get('architecture')}`, {lib['num_threads']} threads"
        )
    dropped = os.environ.get(_DROPPED)
    print(
        "- BLAS tuning variables: "
        + (f"`{dropped}` were set; re-executed without them" if dropped else "none set")
    )
    print()
    section_calls(pkg, gdlinreg, np)
    section_tutorial(pkg, gdlinreg)
    section_imports(load_budgets(), root)
    section_grid(gdlinreg, np)
    return 0


if __name__ == "__main__":
    sys.exit(main())
