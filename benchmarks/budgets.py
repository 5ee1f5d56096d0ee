"""The layout budgets of issue 13, measured with Python's ``ast`` over ``src/gdlinreg``.

Lines of code exclude blank lines, comments and docstrings. Prints one line per budget, the
largest offenders first; ``tests/test_layout.py`` asserts the same numbers.

    python benchmarks/budgets.py [path/to/src/gdlinreg]
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "gdlinreg"
PACKAGE = "gdlinreg"

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
MAX_PARAMS = 12
#: The public signatures that mirror scikit-learn's parameter lists.
PARAM_EXCEPTIONS = {"_estimator.GDLinearRegressor.__init__", "_gradient_descent.gradient_descent"}
#: Modules that may import scikit-learn (the estimators and their shell); SciPy and Dask: only
#: the Sources that need them (imports under ``if TYPE_CHECKING:`` do not count: they never
#: run). A rule naming a package allows every module under it (see :func:`allowed`).
SKLEARN_MODULES = {"_estimator", "_cv_estimator", "_shell"}
SCIPY_MODULES = {"_kernels.sparse", "inference._statistics"}
DASK_MODULES = {"_data.dask_chunks", "_data.dask_source", "_data.dask_folds", "inference._dask"}
#: The ground floor (sparse products, row parts, Lanczos, warnings, array names).
KERNELS = "_kernels"
#: ONNX's packages (skl2onnx, onnx, onnxruntime): only the public export module.
ONNX_PACKAGES = {"skl2onnx", "onnx", "onnxruntime"}
ONNX_MODULES = {"onnx"}


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted names (relative to the package; "__init__" for the package itself) of every
    module under ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts) or "__init__"] = path
    return out


def allowed(module: str, rules: set[str]) -> bool:
    """Whether a rule names ``module`` or a package above it ("_shell" allows "_shell.fit")."""
    parts = module.split(".")
    return any(".".join(parts[:i]) in rules for i in range(1, len(parts) + 1))


def _package_of(module: str, path: Path) -> list[str]:
    """The package a module's relative imports start from (its own, for an __init__)."""
    parts = [] if module == "__init__" else module.split(".")
    return parts if path.name == "__init__.py" else parts[:-1]


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                end = body[0].end_lineno or body[0].lineno
                lines.update(range(body[0].lineno, end + 1))
    return lines


def code_lines(source: str) -> set[int]:
    """The line numbers holding code: not blank, not only a comment, not a docstring."""
    tree = ast.parse(source)
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (
            tokenize.COMMENT,
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENDMARKER,
        ):
            continue
        lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines - _docstring_lines(tree)


def functions(
    tree: ast.AST, prefix: str
) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    out = []

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append((f"{name}.{child.name}", child))
                visit(child, f"{name}.{child.name}")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{name}.{child.name}")
            else:
                visit(child, name)

    visit(tree, prefix)
    return out


def n_params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    a = fn.args
    names = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    count = len([x for x in names if x.arg not in ("self", "cls")])
    return count + (a.vararg is not None) + (a.kwarg is not None)


def imports(tree: ast.AST, package: list[str]) -> set[str]:
    """Every module imported anywhere in ``tree`` (inside functions too), as absolute dotted
    names; ``package`` is where relative imports start."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                up = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = ".".join([PACKAGE, *up, *([node.module] if node.module else [])])
            found.add(base)
            if node.module is None or node.level:
                # ``from . import x`` and ``from .pkg import x`` may name submodules.
                found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def runtime_imports(tree: ast.Module, package: list[str]) -> set[str]:
    """As :func:`imports`, without the blocks under ``if TYPE_CHECKING:`` (which never run)."""
    stripped = ast.Module(body=[n for n in tree.body if not _is_type_checking(n)], type_ignores=[])
    return imports(stripped, package)


def measure(root: Path = ROOT) -> dict[str, object]:
    mods = modules(root)
    sizes, funcs, params = {}, {}, {}
    graph: dict[str, set[str]] = {}
    every: dict[str, set[str]] = {}
    third_party: dict[str, set[str]] = {}
    for name, path in mods.items():
        source = path.read_text()
        tree = ast.parse(source)
        lines = code_lines(source)
        sizes[name] = len(lines)
        for qual, fn in functions(tree, name):
            end = fn.end_lineno or fn.lineno
            # The signature counts (it is code of the function); decorators do not.
            funcs[qual] = len([i for i in lines if fn.lineno <= i <= end])
            params[qual] = n_params(fn)
        deps = runtime_imports(tree, _package_of(name, path))
        graph[name] = _internal(deps, mods) - {name}
        # Every import, TYPE_CHECKING blocks and imports inside functions included: a lower
        # room that names a higher room's type is a tie upward even if it never runs.
        every[name] = _internal(imports(tree, _package_of(name, path)), mods) - {name}
        third_party[name] = {d.split(".")[0] for d in deps}
    return {
        "sizes": sizes,
        "functions": funcs,
        "params": params,
        "graph": graph,
        "every_import": every,
        "third_party": third_party,
    }


def _internal(deps: set[str], mods: dict[str, Path]) -> set[str]:
    return {
        d[len(PACKAGE) + 1 :] or "__init__"
        for d in deps
        if d.startswith(PACKAGE + ".") and (d[len(PACKAGE) + 1 :] in mods)
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def violations(m: dict[str, object]) -> dict[str, list[str]]:
    sizes = m["sizes"]
    funcs = m["functions"]
    params = m["params"]
    third = m["third_party"]
    assert isinstance(sizes, dict) and isinstance(funcs, dict) and isinstance(params, dict)
    assert isinstance(third, dict)
    out = {
        "modules": [f"{k}: {v}" for k, v in sizes.items() if v > MAX_MODULE_LINES],
        "functions": [f"{k}: {v}" for k, v in funcs.items() if v > MAX_FUNCTION_LINES],
        "params": [
            f"{k}: {v}" for k, v in params.items() if v > MAX_PARAMS and k not in PARAM_EXCEPTIONS
        ],
        "cycles": [" <-> ".join(c) for c in cycles(m["every_import"])],  # type: ignore[arg-type]
        # The ground floor: kernels import kernels only, never a room above them.
        "kernels": [
            f"{k} -> {d}"
            for k, deps in m["every_import"].items()  # type: ignore[attr-defined]
            if k.startswith(KERNELS)
            for d in deps
            if not d.startswith(KERNELS)
        ],
        "sklearn": [
            k for k, v in third.items() if "sklearn" in v and not allowed(k, SKLEARN_MODULES)
        ],
        "scipy": [k for k, v in third.items() if "scipy" in v and not allowed(k, SCIPY_MODULES)],
        "dask": [k for k, v in third.items() if "dask" in v and not allowed(k, DASK_MODULES)],
        "onnx": [k for k, v in third.items() if v & ONNX_PACKAGES and not allowed(k, ONNX_MODULES)],
    }
    return out


def main() -> int:
    m = measure(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
    for key in ("sizes", "functions", "params"):
        table = m[key]
        assert isinstance(table, dict)
        top = sorted(table.items(), key=lambda kv: -kv[1])[:6]
        print(f"largest {key}: " + ", ".join(f"{k} {v}" for k, v in top))
    print("import cycles (every import):", cycles(m["every_import"]) or "none")  # type: ignore[arg-type]
    bad = violations(m)
    for key, items in bad.items():
        print(f"over budget ({key}): {items or 'none'}")
    return int(any(bad.values()))


if __name__ == "__main__":
    sys.exit(main())
