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
    animate_descent,
    explore_learning_rate,
    plot_distance_to_solution,
    plot_error_modes,
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


# --- issue 12: matplotlib missing, the names of the surface kinds ---------------------------


def test_without_matplotlib_every_figure_names_the_plot_extra(monkeypatch):
    X, y = load_seed_example()
    model = textbook(max_iter=5)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    calls = [
        lambda: plot_fit_progress(model, X, y, steps=(5,)),
        lambda: plot_loss_surface(model, X, y),
        lambda: plot_loss_curves(model),
        lambda: plot_distance_to_solution(model, X, y),
        lambda: plot_error_modes(model, X, y),
        lambda: animate_descent(model, X, y),
        lambda: explore_learning_rate(X, y),
    ]
    for call in calls:
        with pytest.raises(
            ModuleNotFoundError, match=r"'plot' extra .*pip install '\.\[plot\]'"
        ) as info:
            call()
        assert info.value.name == "matplotlib"


def test_a_broken_matplotlib_keeps_its_own_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "matplotlib":
            raise ModuleNotFoundError("No module named 'pyparsing'", name="pyparsing")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", broken)
    with pytest.raises(ModuleNotFoundError, match="pyparsing"):
        plot_loss_curves([1.0, 0.5])


def test_loss_surface_accepts_3d_and_names_the_kinds():
    X, y = load_seed_example()
    model = textbook(max_iter=30)
    ax = plot_loss_surface(model, X, y, kind="3d", resolution=10).axes[0]
    assert ax.name == "3d"
    xs, ys, _ = ax.get_lines()[0].get_data_3d()
    np.testing.assert_allclose([xs, ys], [model.coef_path_[:, 0], model.intercept_path_])
    with pytest.raises(ValueError, match="'contour', 'surface', '3d'; got 'wireframe'"):
        plot_loss_surface(model, X, y, kind="wireframe")


# --- small mends: the start in 3-D, least squares on a slice, step 0 of the loss curves -----


def half_mse_at(m, b):
    X, y = load_seed_example()
    return 0.5 * np.mean((m * X[:, 0] + b - y) ** 2)


def test_loss_surface_3d_marks_the_start_and_least_squares():
    X, y = load_seed_example()
    ax = plot_loss_surface(textbook(max_iter=50), X, y, kind="surface", resolution=10).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(
        np.ravel(lines["start"].get_data_3d()), [*START, half_mse_at(*START)], rtol=1e-12
    )
    np.testing.assert_allclose(
        np.ravel(lines["least squares"].get_data_3d()), [0.8, 0.6, 0.16], rtol=1e-12
    )


def test_loss_surface_slice_marks_the_least_squares_coefficients():
    X, y, _, _ = make_problem(40, 3, random_state=2)
    model = GDLinearRegressor(store_path=True).fit(X, y)
    ax = plot_loss_surface(model, X, y, coefs=(2, 0), resolution=10).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    theta = np.linalg.lstsq(np.hstack([X, np.ones((40, 1))]), y, rcond=None)[0]
    np.testing.assert_allclose(lines["least squares"].get_data(), [[theta[2]], [theta[0]]])
    np.testing.assert_allclose(lines["start"].get_data(), [[0.0], [0.0]])
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < theta[2] < x1 and y0 < theta[0] < y1


def test_loss_curves_start_at_step_zero_given_the_data():
    X, y = load_seed_example()
    ax = plot_loss_curves({"half": textbook(max_iter=100)}, X, y).axes[0]
    xs, ys = ax.get_lines()[0].get_data()
    np.testing.assert_array_equal(xs, np.arange(101))
    expected = [half_mse_at(*closed_form_iterate(k)) for k in (0, 1, 50, 100)]
    np.testing.assert_allclose(ys[[0, 1, 50, 100]], expected, rtol=1e-10)
    # A GDResult does not know its loss: name it. With logx, step 0 is left out.
    res = gradient_descent(
        X, y, loss="mse", solver="gd", learning_rate=RATE, max_iter=10, tol=None,
        coef_init=[START[0]], intercept_init=START[1], return_path=True,
    )  # fmt: skip
    line = plot_loss_curves(res, X, y, loss="mse").axes[0].get_lines()[0]
    assert line.get_ydata()[0] == pytest.approx(2 * half_mse_at(*START), rel=1e-12)
    logx = plot_loss_curves(res, X, y, loss="mse", logx=True).axes[0].get_lines()[0]
    np.testing.assert_array_equal(logx.get_xdata(), np.arange(1, 11))
    # Without the data, or without a path, the curve starts after the first step as before.
    assert plot_loss_curves(res).axes[0].get_lines()[0].get_xdata()[0] == 1
    no_path = GDLinearRegressor(solver="gd", max_iter=5, tol=None).fit(X, y)
    assert plot_loss_curves(no_path, X, y).axes[0].get_lines()[0].get_xdata()[0] == 1


def test_loss_curves_step_zero_includes_the_penalty():
    X, y = load_seed_example()
    model = GDLinearRegressor(
        solver="gd", learning_rate=RATE, max_iter=5, tol=None, store_path=True,
        penalty="l2", alpha=0.5,
    )  # fmt: skip
    model.fit(X, y, coef_init=[START[0]], intercept_init=START[1])
    ys = plot_loss_curves(model, X, y).axes[0].get_lines()[0].get_ydata()
    # The l2 penalty (alpha/2) |w|^2 on the coefficient, never the intercept.
    assert ys[0] == pytest.approx(half_mse_at(*START) + 0.25 * START[0] ** 2, rel=1e-12)


# --- the slow mode: the error along the Hessian's eigenvectors -------------------------------


def seed_eigen(factor=0.5):
    """The eigen-decomposition of the seed problem's Hessian 2c [[sum x^2, sum x], [sum x, n]]/n."""
    X, _ = load_seed_example()
    A = np.hstack([X, np.ones_like(X)])
    return np.linalg.eigh(2 * factor * A.T @ A / len(A))


def test_error_modes_follow_the_eigen_closed_form():
    X, y = load_seed_example()
    ax = plot_error_modes(textbook(), X, y).axes[0]
    slow, slow_formula, fast, fast_formula = ax.get_lines()
    lam, V = seed_eigen()
    c0 = V.T @ (np.array(START) - [0.8, 0.6])
    k = np.arange(1001)
    for line, formula, i in ((slow, slow_formula, 0), (fast, fast_formula, 1)):
        expected = np.abs(c0[i]) * (1 - RATE * lam[i]) ** k
        np.testing.assert_array_equal(line.get_xdata(), k)
        # The iterates follow the formula down to rounding (the fast mode gets there by step
        # 290), where they stop at about 1e-16 and the formula falls on to 2e-55.
        drawn = np.nan_to_num(line.get_ydata())
        np.testing.assert_allclose(drawn, expected, rtol=1e-6, atol=1e-14)
        np.testing.assert_allclose(formula.get_ydata(), expected, rtol=1e-10)
    # After 1000 steps the slow mode keeps (1 - 0.01 (6 - sqrt 34))^1000 = 18.4 % of its error.
    share = slow.get_ydata()[1000] / slow.get_ydata()[0]
    assert share == pytest.approx(0.18416714683831, rel=1e-9)
    assert "0.184 left after 1000 steps" in slow_formula.get_label()
    assert slow.get_label() == r"slow mode, $\lambda$ = 0.169"
    assert ax.get_yscale() == "log"


def test_error_modes_mse_at_a_is_half_mse_at_2a():
    X, y = load_seed_example()
    mse = plot_error_modes(textbook("mse"), X, y).axes[0].get_lines()
    half = plot_error_modes(textbook(rate=2 * RATE), X, y).axes[0].get_lines()
    lam, V = seed_eigen(factor=1.0)
    c0 = V.T @ (np.array(START) - [0.8, 0.6])
    slow = np.abs(c0[0]) * (1 - RATE * lam[0]) ** np.arange(1001)
    np.testing.assert_allclose(mse[0].get_ydata(), slow, rtol=1e-8)
    np.testing.assert_allclose(half[0].get_ydata(), slow, rtol=1e-8)
    assert mse[0].get_ydata()[1000] / mse[0].get_ydata()[0] == pytest.approx(0.0338204216, rel=1e-8)


def test_error_modes_without_intercept_and_what_they_refuse():
    X, y, _, _ = make_problem(30, 3, random_state=4)
    model = GDLinearRegressor(solver="gd", learning_rate=0.1, max_iter=100, tol=None)
    model.set_params(fit_intercept=False, store_path=True).fit(X, y)
    lines = plot_error_modes(model, X, y).axes[0].get_lines()
    lam, V = np.linalg.eigh(X.T @ X / 30)
    reference = np.linalg.lstsq(X, y, rcond=None)[0]
    c0 = V.T @ (0 - reference)
    for i in range(3):
        expected = np.abs(c0[i]) * (1 - 0.1 * lam[i]) ** np.arange(101)
        np.testing.assert_allclose(lines[2 * i].get_ydata(), expected, rtol=1e-6)
        assert lines[2 * i].get_label().startswith(f"mode {i + 1}")
    with pytest.raises(ValueError, match="unpenalised"):
        plot_error_modes(model.set_params(penalty="l2").fit(X, y), X, y)
    huber = GDLinearRegressor(loss="huber", solver="gd", store_path=True, max_iter=5, tol=None)
    huber.fit(X, y)
    with pytest.raises(ValueError, match="squared loss"):
        plot_error_modes(huber, X, y)


# --- the film -------------------------------------------------------------------------------


def test_animation_frames_show_the_closed_form_iterates():
    from matplotlib.animation import FuncAnimation

    X, y = load_seed_example()
    model = textbook()
    anim = animate_descent(model, X, y, frames=[0, 10, 1000], resolution=10)
    assert isinstance(anim, FuncAnimation)
    data_ax, surface_ax = anim.figure.axes[:2]
    for i, k in enumerate((0, 10, 1000)):
        fit_line, trail, point, title = anim.show_frame(i)
        m, b = closed_form_iterate(k)
        xs, ys = fit_line.get_data()
        np.testing.assert_allclose(ys, m * xs + b, rtol=1e-10)
        np.testing.assert_allclose(np.ravel(point.get_data()), [m, b], rtol=1e-10)
        trail_x, trail_y = trail.get_data()
        assert (trail_x[-1], trail_y[-1]) == (model.coef_path_[k, 0], model.intercept_path_[k])
        assert len(trail_x) == k + 1  # a short path: every iterate so far
        assert title.get_text() == f"after {k:,} steps"
    assert fit_line.axes is data_ax and point.axes is surface_ax
    # The static parts: the data, the least-squares line and star, the contours.
    labels = [line.get_label() for line in data_ax.get_lines()]
    assert labels == ["start", "least squares", "fit"]
    star = [line for line in surface_ax.get_lines() if line.get_label() == "least squares"]
    np.testing.assert_allclose(star[0].get_data(), [[0.8], [0.6]], rtol=1e-12)
    assert surface_ax.get_xlabel() == "slope"


def test_animation_spaces_a_million_steps_geometrically(tmp_path):
    from PIL import Image

    X, y = load_seed_example()
    res = gradient_descent(
        X, y, solver="gd", learning_rate=RATE, max_iter=1_000_000, tol=None,
        coef_init=[START[0]], intercept_init=START[1], return_path=True,
    )  # fmt: skip
    anim = animate_descent(res, X, y, resolution=10)
    steps = anim.steps
    assert len(steps) == 60 and steps[0] == 0 and steps[-1] == 1_000_000
    assert np.all(np.diff(steps) > 0)
    ratios = steps[-10:] / steps[-11:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=0.01)  # log-spaced at the end
    # The path drawn at the end is thinned, but runs from the start to the last iterate.
    trail = anim.show_frame(59)[1]
    assert len(trail.get_xdata()) <= 2500
    assert trail.get_xdata()[0] == START[0] and trail.get_xdata()[-1] == res.coef[0]
    # A GIF through matplotlib's Pillow writer holds one image per frame.
    short = animate_descent(res, X, y, frames=4, resolution=10)
    short.save(tmp_path / "descent.gif", writer="pillow", fps=4, dpi=30)
    with Image.open(tmp_path / "descent.gif") as gif:
        assert gif.n_frames == 4
    assert list(short.steps) == [0, 1, 1000, 1_000_000]


def test_animation_rejects_what_it_cannot_film():
    X, y = load_seed_example()
    with pytest.raises(ValueError, match="at least 2"):
        animate_descent(textbook(max_iter=10), X, y, frames=1)
    with pytest.raises(ValueError, match=r"0\.\.10"):
        animate_descent(textbook(max_iter=10), X, y, frames=[0, 11])
    with pytest.raises(ValueError, match="store_path=True"):
        animate_descent(GDLinearRegressor().fit(X, y), X, y)
    X3, y3, _, _ = make_problem(20, 3, random_state=0)
    with pytest.raises(ValueError, match="one-feature"):
        animate_descent(GDLinearRegressor(store_path=True).fit(X3, y3), X3, y3)


# --- the learning-rate explorer ---------------------------------------------------------------


def heavy_ball_iterate(k, rate, beta):
    """e_{k+1} = (1 + beta) e_k - a H e_k - beta e_{k-1}, e_{-1} = e_0: a companion power."""
    lam, V = seed_eigen()
    H = V @ np.diag(lam) @ V.T
    eye = np.eye(2)
    M = np.block([[(1 + beta) * eye - rate * H, -beta * eye], [eye, 0 * eye]])
    e0 = np.array(START) - [0.8, 0.6]
    return np.array([0.8, 0.6]) + (np.linalg.matrix_power(M, k) @ np.append(e0, e0))[:2]


def check_explorer(explorer, rate, beta, steps):
    xs, ys = explorer.path_line.get_data()
    assert len(xs) == steps + 1
    expected = np.array([heavy_ball_iterate(k, rate, beta) for k in range(steps + 1)])
    np.testing.assert_allclose(np.column_stack([xs, ys]), expected, rtol=1e-9, atol=1e-12)
    curve_x, curve_y = explorer.curve_line.get_data()
    np.testing.assert_array_equal(curve_x, np.arange(steps + 1))
    excess = np.array([half_mse_at(*theta) for theta in expected]) - 0.16
    np.testing.assert_allclose(curve_y, excess, rtol=1e-6)


def test_explorer_redraws_the_closed_form_path_when_a_slider_moves():
    X, y = load_seed_example()
    explorer = explore_learning_rate(X, y, start=START, max_iter=60)
    L = 6 + np.sqrt(34)  # the largest eigenvalue of [[11, 3], [3, 1]]
    assert explorer.lipschitz == pytest.approx(L, rel=1e-12)
    assert explorer.rate_slider.val == pytest.approx(1 / L)  # the default step
    check_explorer(explorer, 1 / L, 0.0, 60)
    explorer.rate_slider.set_val(0.05)
    check_explorer(explorer, 0.05, 0.0, 60)
    explorer.momentum_slider.set_val(0.5)
    check_explorer(explorer, 0.05, 0.5, 60)
    assert not explorer.diverged and "converges" in explorer.figure.axes[1].get_title()


def test_explorer_marks_the_stable_region_and_one_over_L():
    X, y = load_seed_example()
    explorer = explore_learning_rate(X, y, start=START, learning_rate=0.1, max_iter=20)
    L = seed_eigen()[0][-1]
    span = explorer.stable_span
    assert span.get_x() == explorer.rate_slider.valmin
    assert span.get_x() + span.get_width() == pytest.approx(2 / L)
    assert explorer.momentum_span.get_x() == 0.0  # 0.1 < 2/L: stable without momentum
    explorer.momentum_slider.set_val(0.8)
    assert span.get_x() + span.get_width() == pytest.approx(2 * 1.8 / L)
    explorer.rate_slider.set_val(0.25)
    assert explorer.momentum_span.get_x() == pytest.approx(0.25 * L / 2 - 1)
    marks = {text.get_text(): text.get_position()[0] for text in explorer.rate_slider.ax.texts}
    assert marks["1/L"] == pytest.approx(1 / L) and marks["2/L"] == pytest.approx(2 / L)
    assert explorer.rate_slider.valmax == pytest.approx(4 / L)


def test_explorer_shows_divergence_above_the_bound():
    X, y = load_seed_example()
    explorer = explore_learning_rate(X, y, start=START, learning_rate=0.2, max_iter=100)
    assert explorer.diverged and "diverges" in explorer.figure.axes[1].get_title()
    steps = len(explorer.path_line.get_xdata()) - 1
    assert 5 < steps < 100  # stopped at the blow-up
    check_explorer(explorer, 0.2, 0.0, steps)
    explorer.momentum_slider.set_val(0.5)  # 0.2 < 2 (1 + 0.5) / L = 0.254
    assert not explorer.diverged
    check_explorer(explorer, 0.2, 0.5, 100)


def test_explorer_other_losses_and_refusals():
    X, y = load_seed_example()
    mse = explore_learning_rate(X, y, loss="mse", max_iter=5)
    assert mse.lipschitz == pytest.approx(2 * (6 + np.sqrt(34)), rel=1e-12)
    assert mse.optimum == pytest.approx(0.32, rel=1e-12)
    with pytest.raises(ValueError, match="squared loss"):
        explore_learning_rate(X, y, loss="huber")
    X3, y3, _, _ = make_problem(20, 3, random_state=0)
    with pytest.raises(ValueError, match="one feature"):
        explore_learning_rate(X3, y3)
    with pytest.raises(ValueError, match="momentum"):
        explore_learning_rate(X, y, momentum=0.99)


def test_animation_html_player_needs_no_network():
    X, y = load_seed_example()
    anim = animate_descent(textbook(max_iter=10), X, y, frames=[0, 10], resolution=5)
    anim.figure.set_dpi(20)  # small frames: the test reads the page, not the images
    html = anim.to_jshtml()
    assert "http://" not in html and "https://" not in html
    assert 'class="fa' not in html
    assert "\u25b6" in html and "\u23f8" in html  # play and pause
    assert html.count("data:image/png;base64") == 2  # one image per frame
