"""gdlinreg.plotting: figure content (lines, labels, extents) against independent references."""

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gdlinreg import DivergenceError, GDLinearRegressor, gradient_descent  # noqa: E402
from gdlinreg.datasets import load_seed_example, make_problem  # noqa: E402
from gdlinreg.plotting import (  # noqa: E402
    plot_distance_to_solution,
    plot_fit_progress,
    plot_loss_curves,
    plot_loss_surface,
)

START, RATE = (0.48, 0.75), 0.01


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def textbook(loss="half_mse", max_iter=1000, rate=RATE):
    X, y = load_seed_example()
    model = GDLinearRegressor(
        loss=loss, solver="gd", learning_rate=rate, max_iter=max_iter, tol=None, store_path=True
    )
    return model.fit(X, y, coef_init=[START[0]], intercept_init=START[1])


def closed_form_iterate(k, factor=0.5, rate=RATE):
    """k-th textbook iterate w_k = w* + (I - aH)^k (w_0 - w*) on the seed data."""
    X, y = load_seed_example()
    A = np.hstack([X, np.ones_like(X)])
    H = 2 * factor * A.T @ A / len(y)
    star = np.array([0.8, 0.6])  # the least-squares line, by hand
    step = np.linalg.matrix_power(np.eye(2) - rate * H, k)
    return star + step @ (np.array(START) - star)


def test_importing_gdlinreg_never_imports_matplotlib():
    code = (
        "import sys, gdlinreg, gdlinreg.plotting, gdlinreg.datasets; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fit_progress_lines_are_the_iterates_and_least_squares():
    X, y = load_seed_example()
    fig = plot_fit_progress(textbook(), X, y, steps=(10, 100, 1000))
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines) == [
        "start",
        "after 10 steps",
        "after 100 steps",
        "after 1000 steps",
        "least squares",
    ]
    for label, k in [("start", 0), ("after 10 steps", 10), ("after 1000 steps", 1000)]:
        xs, ys = lines[label].get_data()
        m, b = closed_form_iterate(k)
        np.testing.assert_allclose(ys, m * xs + b, rtol=1e-10)
    xs, ys = lines["least squares"].get_data()
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    np.testing.assert_allclose(ys, slope * xs + intercept, rtol=1e-12)
    # The lines span the data, and the scatter holds the data points.
    assert xs.min() < 1 and xs.max() > 5
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), np.column_stack([X[:, 0], y]))
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    assert ax.get_legend().get_texts()[0].get_text() == "data"


def test_fit_progress_accepts_a_gdresult_and_an_axes():
    X, y = load_seed_example()
    start = {"coef_init": [START[0]], "intercept_init": START[1]}
    res = gradient_descent(
        X, y, solver="gd", learning_rate=RATE, max_iter=20, tol=None, return_path=True, **start
    )
    fig, ax = plt.subplots()
    assert plot_fit_progress(res, X, y, steps=(5, 20), ax=ax) is fig
    assert len(ax.get_lines()) == 4


def test_fit_progress_rejects_what_it_cannot_draw():
    X, y = load_seed_example()
    with pytest.raises(ValueError, match="store_path=True"):
        plot_fit_progress(GDLinearRegressor().fit(X, y), X, y)
    with pytest.raises(ValueError, match="took 1000 steps"):
        plot_fit_progress(textbook(), X, y, steps=(10, 2000))
    X3, y3, _, _ = make_problem(20, 3, random_state=0)
    with pytest.raises(ValueError, match="one-feature"):
        plot_fit_progress(GDLinearRegressor(store_path=True).fit(X3, y3), X3, y3)


@pytest.mark.parametrize("loss, factor", [("half_mse", 0.5), ("mse", 1.0)])
def test_loss_surface_contours_path_and_minimum(loss, factor):
    X, y = load_seed_example()
    model = textbook(loss)
    fig = plot_loss_surface(model, X, y)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    path_x, path_y = lines["path"].get_data()
    np.testing.assert_allclose(path_x, model.coef_path_[:, 0])
    np.testing.assert_allclose(path_y, model.intercept_path_)
    np.testing.assert_allclose(lines["least squares"].get_data(), [[0.8], [0.6]], rtol=1e-12)
    np.testing.assert_allclose(lines["start"].get_data(), [[START[0]], [START[1]]])
    # The drawn region holds the whole path and the minimum.
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < min(path_x.min(), 0.8) and x1 > max(path_x.max(), 0.8)
    assert y0 < min(path_y.min(), 0.6) and y1 > max(path_y.max(), 0.6)
    # Contour levels run from the grid's lowest value (at least the optimum J*) upwards.
    contours = ax.collections[0]
    optimum = factor * np.mean((0.8 * X[:, 0] + 0.6 - y) ** 2)
    assert optimum <= contours.levels[0] < optimum * 1.01
    assert ax.get_xlabel() == "slope" and ax.get_ylabel() == "intercept"
    assert fig.axes[1].get_ylabel() == f"{loss} loss"  # the colour bar


def test_loss_surface_3d_path_lies_on_the_surface():
    X, y = load_seed_example()
    model = textbook(max_iter=50)
    fig = plot_loss_surface(model, X, y, kind="surface", resolution=20)
    ax = fig.axes[0]
    assert ax.name == "3d"
    xs, ys, zs = ax.get_lines()[0].get_data_3d()
    expected = [0.5 * np.mean((m * X[:, 0] + b - y) ** 2) for m, b in zip(xs, ys, strict=True)]
    np.testing.assert_allclose(zs, expected, rtol=1e-12)
    # The loss decreases along the path at a safe step.
    assert np.all(np.diff(zs) < 0)
    assert ax.get_zlabel() == "half_mse loss"


def test_loss_surface_slice_for_several_features():
    pd = pytest.importorskip("pandas")
    X, y, _, _ = make_problem(40, 3, random_state=1)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = GDLinearRegressor(store_path=True).fit(frame, y)
    fig = plot_loss_surface(model, X, y, coefs=(0, 2), extent=(-3, 3, -2, 2), resolution=15)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("a", "c")
    assert ax.get_xlim() == (-3, 3) and ax.get_ylim() == (-2, 2)
    assert "slice" in ax.get_title()
    path_x, path_y = ax.get_lines()[0].get_data()
    np.testing.assert_allclose(path_x, model.coef_path_[:, 0])
    np.testing.assert_allclose(path_y, model.coef_path_[:, 2])
    with pytest.raises(ValueError, match="two different"):
        plot_loss_surface(model, X, y, coefs=(1, 1))
    with pytest.raises(ValueError, match="kind"):
        plot_loss_surface(model, X, y, kind="wireframe")
    with pytest.raises(ValueError, match="3-D axes"):
        plot_loss_surface(model, X, y, kind="surface", ax=plt.subplots()[1])


def test_loss_curves_compare_runs_log_scaled():
    half, mse = textbook("half_mse", 200), textbook("mse", 200)
    fig = plot_loss_curves({"half-MSE": half, "MSE": mse}, optimum={"half-MSE": 0.16, "MSE": 0.32})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["half-MSE", "MSE"]
    xs, ys = lines[0].get_data()
    np.testing.assert_array_equal(xs, np.arange(1, 201))
    m, b = closed_form_iterate(200)
    assert ys[-1] == pytest.approx(0.5 * np.mean((m * np.arange(1, 6) + b - half_y()) ** 2) - 0.16)
    # MSE's loss is twice half-MSE's at equal parameters; below that, MSE is further along.
    assert lines[1].get_ydata()[-1] < 2 * ys[-1]
    assert "J^*" in ax.get_ylabel()


def half_y():
    return load_seed_example()[1]


def test_loss_curves_take_arrays_results_and_divergence():
    X, y = load_seed_example()
    with pytest.raises(DivergenceError) as info:
        gradient_descent(X, y, solver="gd", learning_rate=0.2, max_iter=500, tol=None)
    res = gradient_descent(X, y, solver="gd", learning_rate=0.1, max_iter=30, tol=None)
    fig = plot_loss_curves({"0.2": info.value, "0.1": res, "raw": [3.0, 2.0, 0.0]}, logx=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    diverging, converging, raw = ax.get_lines()
    np.testing.assert_array_equal(diverging.get_ydata(), info.value.loss_history)
    assert diverging.get_ydata()[-1] > 100 * diverging.get_ydata()[0]
    np.testing.assert_array_equal(converging.get_ydata(), res.loss_history)
    single = plot_loss_curves(res).axes[0].get_lines()[0]
    assert single.get_label() == "run"
    # Non-positive excess losses (rounding at the optimum) are not drawn.
    excess = plot_loss_curves([0.5, 0.2, 0.1], optimum=0.2).axes[0].get_lines()[0].get_ydata()
    np.testing.assert_allclose(excess, [0.3, np.nan, np.nan])
    assert len(raw.get_ydata()) == 3


def test_distance_to_solution_matches_closed_form():
    X, y = load_seed_example()
    runs = {"half-MSE": textbook("half_mse"), "MSE": textbook("mse")}
    fig = plot_distance_to_solution(runs, X, y)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    half, mse = ax.get_lines()
    assert [half.get_label(), mse.get_label()] == ["half-MSE", "MSE"]
    xs, ys = half.get_data()
    np.testing.assert_array_equal(xs, np.arange(1001))
    for k in (0, 10, 1000):
        expected = np.linalg.norm(closed_form_iterate(k) - [0.8, 0.6])
        assert ys[k] == pytest.approx(expected, rel=1e-9)
        mse_expected = np.linalg.norm(closed_form_iterate(k, factor=1.0) - [0.8, 0.6])
        assert mse.get_ydata()[k] == pytest.approx(mse_expected, rel=1e-9)
    assert ax.get_ylabel() == "distance to least squares"
    logx = plot_distance_to_solution(runs["MSE"], X, y, logx=True).axes[0]
    assert logx.get_xscale() == "log" and logx.get_lines()[0].get_xdata()[0] == 1


def test_distance_to_solution_weighted_several_targets_no_intercept():
    X, Y, _, _ = make_problem(30, 2, n_targets=2, random_state=3)
    w = np.linspace(0.5, 2.0, 30)
    model = GDLinearRegressor(solver="gd", fit_intercept=False, store_path=True, max_iter=300)
    model.set_params(learning_rate=0.1, tol=None).fit(X, Y, sample_weight=w)
    fig = plot_distance_to_solution(model, X, Y, sample_weight=w)
    ys = fig.axes[0].get_lines()[0].get_ydata()
    root = np.sqrt(w)[:, None]
    reference = np.linalg.lstsq(X * root, Y * root, rcond=None)[0].T
    expected = np.linalg.norm((model.coef_path_ - reference).reshape(301, -1), axis=1)
    np.testing.assert_allclose(ys, expected, rtol=1e-9)
    assert ys[-1] < 1e-3 * ys[0]


def test_loss_surface_thins_a_long_path_keeping_start_and_end():
    X, y = load_seed_example()
    model = textbook(max_iter=6000)
    xs, ys = plot_loss_surface(model, X, y, resolution=10).axes[0].get_lines()[0].get_data()
    assert len(xs) <= 2500
    np.testing.assert_array_equal(xs[:500], model.coef_path_[:500, 0])
    assert (xs[-1], ys[-1]) == (model.coef_path_[-1, 0], model.intercept_path_[-1])
    assert np.all(np.isin(xs, model.coef_path_[:, 0]))
