"""The layout budgets of issue 13 (``benchmarks/budgets.py``), measured with ``ast``."""

import ast
import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "budgets.py"
# The budgets are a property of the source tree: the release check runs a copy of tests/
# alone against an installed wheel, where there is no benchmarks/ folder to measure with.
if not _PATH.is_file():
    pytest.skip("the layout budgets are measured on a source checkout", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("budgets", _PATH)
budgets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(budgets)

MEASURED = budgets.measure()
VIOLATIONS = budgets.violations(MEASURED)


@pytest.mark.parametrize("budget", sorted(VIOLATIONS))
def test_layout_budget_holds(budget):
    assert VIOLATIONS[budget] == [], f"over the {budget} budget: {VIOLATIONS[budget]}"


def test_the_measure_sees_the_whole_package():
    # A broken walk would pass every budget vacuously.
    sizes = MEASURED["sizes"]
    assert {
        "_estimator",
        "_gradient_descent",
        "_data.arrays",
        "_loop.options",
        "_loop.methods",
    } <= set(sizes)
    assert {"_kernels.sparse", "_problem.statistics", "_protocols.source"} <= set(sizes)
    assert MEASURED["params"]["_estimator.GDLinearRegressor.__init__"] > budgets.MAX_PARAMS
    # Relative imports resolve from a subpackage too ("..", siblings).
    assert {"_problem.statistics", "_data.checks"} <= MEASURED["graph"]["_data.arrays"]
    assert "_kernels.sparse" in MEASURED["graph"]["_problem.coordinates"]
    # TYPE_CHECKING imports count in the graph of every import, not in the runtime graph.
    assert "_protocols.source" in MEASURED["every_import"]["_data.dask_source"]
    assert "_protocols.source" not in MEASURED["graph"]["_data.dask_source"]
    # Imports inside functions count: gdlinreg.onnx imports skl2onnx only in them.
    assert "skl2onnx" in MEASURED["third_party"]["onnx"]


def test_the_third_party_rules_name_modules_that_exist():
    # A rule naming a module that moved would let any module import SciPy or Dask unnoticed.
    rules = budgets.SKLEARN_MODULES | budgets.SCIPY_MODULES | budgets.DASK_MODULES
    assert rules | budgets.ONNX_MODULES <= set(MEASURED["sizes"])


def _every_import():
    """The import graph counting every import: inside functions and under TYPE_CHECKING."""
    mods = budgets.modules()
    prefix = budgets.PACKAGE + "."
    graph = {}
    for name, path in mods.items():
        found = budgets.imports(ast.parse(path.read_text()), budgets._package_of(name, path))
        deps = {d[len(prefix) :] for d in found if d.startswith(prefix)}
        graph[name] = (deps & set(mods)) - {name}
    return graph


EVERY_IMPORT = _every_import()


def test_plotting_and_inference_are_in_no_cycle_even_through_type_checking():
    # Every import counts here, those under TYPE_CHECKING too: each package's __init__ imports
    # its submodules, which import one another by name, never the package back.
    graph = EVERY_IMPORT
    assert {"plotting", "plotting._figures", "inference", "inference._statistics"} <= set(graph)
    tangled = [
        c for c in budgets.cycles(graph) if {m.split(".")[0] for m in c} & {"plotting", "inference"}
    ]
    assert tangled == []


def test_the_sources_of_data_stand_below_the_loop():
    # The loop asks a Source (a protocol) for its numbers; no source needs the loop.
    graph = MEASURED["graph"]
    upward = {
        (m, d)
        for m, deps in graph.items()
        if m.startswith("_data")
        for d in deps
        if d.startswith(("_loop", "_shell")) or d in ("_gradient_descent", "_estimator")
    }
    assert upward == set()


def _in_shell(module):
    return module == "_shell" or module.startswith("_shell.")


def test_only_the_estimators_and_their_shell_import_the_shell():
    # The shell is what the estimator wraps around a fit: the core below it never reaches
    # up into it (TYPE_CHECKING imports count too).
    assert {"_shell.fit", "_shell.callbacks", "_shell.persistence"} <= set(EVERY_IMPORT)
    outside = {
        (m, d)
        for m, deps in EVERY_IMPORT.items()
        if m not in ("_estimator", "_cv_estimator") and not _in_shell(m)
        for d in deps
        if _in_shell(d)
    }
    assert outside == set()


def test_only_the_face_and_the_top_floor_import_the_estimator():
    # The package's names, ONNX export and teaching's types; never the shell nor the core,
    # not even under TYPE_CHECKING (the shell names what it reads in a Protocol).
    importers = {m for m, deps in EVERY_IMPORT.items() if "_estimator" in deps}
    assert importers <= {"__init__", "onnx", "plotting._common"}
    assert "__init__" in importers


def test_the_estimator_and_its_shell_are_in_no_cycle_even_through_type_checking():
    tangled = [
        c
        for c in budgets.cycles(EVERY_IMPORT)
        if {"_estimator", "_shell"} & {m.split(".")[0] for m in c}
    ]
    assert tangled == []


def test_a_rule_naming_a_package_allows_its_modules_only():
    rules = budgets.SKLEARN_MODULES
    assert budgets.allowed("_shell.callbacks", rules) and budgets.allowed("_estimator", rules)
    assert not budgets.allowed("_shellfish", rules) and not budgets.allowed(
        "_gradient_descent", rules
    )
    assert not budgets.allowed("_data.arrays", rules)


def test_the_cycle_finder_finds_a_cycle():
    assert budgets.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert budgets.cycles({"a": {"b"}, "b": set()}) == []


def test_code_lines_leave_out_docstrings_comments_and_blanks():
    source = (
        '"""Doc\n\nstring."""\n\n# a comment\nx = 1  # trailing\n\n\n'
        'def f():\n    """Doc."""\n    return (\n        x\n    )\n'
    )
    assert sorted(budgets.code_lines(source)) == [6, 9, 11, 12, 13]


def test_gradient_descent_and_the_estimator_pass_every_option_by_its_default():
    # Options.from_params reads these names; a new option must reach both front ends.
    import inspect

    from gdlinreg import GDLinearRegressor, gradient_descent
    from gdlinreg._loop.options import DEFAULTS

    signature = inspect.signature(gradient_descent).parameters
    assert {name: signature[name].default for name in DEFAULTS} == DEFAULTS
    estimator = set(inspect.signature(GDLinearRegressor).parameters) | {"return_path"}
    assert set(DEFAULTS) <= estimator
