"""Tests for fgrad.plot, rendered headless with the Agg backend."""

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402

from fgrad import plot  # noqa: E402

X = np.array([[-1.0, -2.0], [1.0, 0.0], [2.0, 3.0], [0.0, 1.0]])
Y = np.array([0, 1, 1, 0])


@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    def fail_show(*args, **kwargs):
        raise AssertionError("plt.show() must not be called")

    monkeypatch.setattr(plt, "show", fail_show)
    yield
    plt.close("all")


def _contour_sets(ax):
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def _scatter_offsets(ax):
    return [c.get_offsets() for c in ax.collections if not isinstance(c, ContourSet)]


def test_import_does_not_import_matplotlib():
    code = (
        "import sys, fgrad, fgrad.plot, fgrad.datasets, fgrad.random; "
        "sys.exit('matplotlib' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_scatter_labels_new_figure_and_kwargs():
    n_figs = len(plt.get_fignums())
    ax = plot.scatter_labels(X, Y, s=50)
    assert len(plt.get_fignums()) == n_figs + 1
    (offsets,) = _scatter_offsets(ax)
    np.testing.assert_array_equal(offsets, X)
    assert ax.collections[0].get_sizes().tolist() == [50]
    np.testing.assert_array_equal(ax.collections[0].get_array(), Y)


def test_scatter_labels_uses_given_axes():
    fig, ax = plt.subplots()
    assert plot.scatter_labels(X, Y, ax) is ax
    assert plt.get_fignums() == [fig.number]


@pytest.mark.parametrize(
    ("Xb", "yb", "match"),
    [
        (np.zeros((4, 3)), Y, r"X must have shape \(n_samples, 2\), got \(4, 3\)"),
        (X, np.zeros(3), r"y must have shape \(4,\)"),
    ],
)
def test_scatter_labels_validation(Xb, yb, match):
    with pytest.raises(ValueError, match=match):
        plot.scatter_labels(Xb, yb)


def test_decision_boundary_score_grid_and_threshold():
    seen = {}

    def predict(P):
        seen["P"] = P
        return P[:, 0] + P[:, 1]

    ax = plot.decision_boundary(predict, X, Y, resolution=30, padding=0.5, threshold=0.0)
    P = seen["P"]
    assert P.shape == (900, 2)
    np.testing.assert_allclose(P.min(axis=0), [-1.5, -2.5])
    np.testing.assert_allclose(P.max(axis=0), [2.5, 3.5])
    assert ax.get_xlim() == pytest.approx((-1.5, 2.5))
    filled, line = _contour_sets(ax)
    assert filled.filled and not line.filled
    assert list(line.levels) == [0.0]
    (offsets,) = _scatter_offsets(ax)
    np.testing.assert_array_equal(offsets, X)


def test_decision_boundary_without_threshold_and_column_scores():
    ax = plot.decision_boundary(lambda P: P[:, :1], X, Y, resolution=10)
    assert len(_contour_sets(ax)) == 1 and len(ax.collections) == 2


def test_decision_boundary_multiclass_argmax():
    centers = np.array([[-1.0, -1.0], [1.0, 1.0], [2.0, -1.0]])

    def predict(P):
        return -((P[:, None, :] - centers[None]) ** 2).sum(-1)

    ax = plot.decision_boundary(predict, X, np.array([0, 1, 2, 1]), resolution=20)
    (filled,) = _contour_sets(ax)
    np.testing.assert_array_equal(filled.levels, [-0.5, 0.5, 1.5, 2.5])
    with pytest.raises(ValueError, match="threshold"):
        plot.decision_boundary(predict, X, Y, resolution=5, threshold=0.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"resolution": 1}, "resolution"), ({"padding": -1.0}, "padding")],
)
def test_decision_boundary_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot.decision_boundary(lambda P: P[:, 0], X, Y, **kwargs)


def test_decision_boundary_rejects_wrong_score_shape():
    with pytest.raises(ValueError, match=r"predict_fn must return shape \(25,\).*got \(3,\)"):
        plot.decision_boundary(lambda P: np.zeros(3), X, Y, resolution=5)


def test_decision_boundary_savefig_writes_png(tmp_path):
    ax = plot.decision_boundary(lambda P: np.tanh(P[:, 0]), X, Y, resolution=15, threshold=0.0)
    path = tmp_path / "boundary.png"
    ax.figure.savefig(path)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 1000


def test_loss_curve_single_sequence():
    ax = plot.loss_curve([3.0, 2.0, 1.5], label="train")
    (line,) = ax.get_lines()
    assert line.get_ydata().tolist() == [3.0, 2.0, 1.5]
    assert line.get_xdata().tolist() == [0, 1, 2]
    assert ax.get_legend() is not None and ax.get_yscale() == "linear"
    assert plot.loss_curve(np.array([1.0, 0.5])).get_legend() is None


def test_loss_curve_dict_and_log_scale():
    fig, ax = plt.subplots()
    out = plot.loss_curve({"train": [1.0, 0.1], "val": [2.0, 0.5, 0.4]}, ax, log_scale=True)
    assert out is ax
    assert [ln.get_label() for ln in ax.get_lines()] == ["train", "val"]
    assert [len(ln.get_ydata()) for ln in ax.get_lines()] == [2, 3]
    assert ax.get_yscale() == "log"


@pytest.mark.parametrize(
    ("history", "kwargs", "match"),
    [
        ([1.0, 0.0], {"log_scale": True}, "positive"),
        ({"a": [1.0]}, {"label": "x"}, "label"),
        ([[1.0, 2.0]], {}, "1-D"),
    ],
)
def test_loss_curve_validation(history, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot.loss_curve(history, **kwargs)


# ---------------------------------------------------------------------------
# FigureSaver
# ---------------------------------------------------------------------------


def _png_size(path):
    header = path.read_bytes()[:24]  # signature, then the IHDR chunk: width, height
    assert header.startswith(b"\x89PNG")
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def _spy_tight_layout(fig):
    calls = []
    fig.tight_layout = lambda *args, **kwargs: calls.append(1)
    return calls


def test_figure_saver_numbers_in_save_order_and_records_paths(tmp_path):
    figures = plot.FigureSaver(str(tmp_path), dpi=50)
    assert figures.out_dir == tmp_path and figures.saved == []
    paths = []
    for name in ["first", "second", "first"]:
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.plot([0.0, 1.0])
        paths.append(figures.save(fig, name))
    names = ["01_first.png", "02_second.png", "03_first.png"]
    assert paths == [tmp_path / n for n in names]
    assert figures.saved == paths
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    assert _png_size(paths[0]) == (100, 50)  # 2 x 1 inches at dpi=50


def test_figure_saver_closes_the_figure(tmp_path):
    figures = plot.FigureSaver(tmp_path)
    keep = plt.figure()
    fig = plt.figure()
    figures.save(fig, "closed")
    assert not plt.fignum_exists(fig.number)
    assert plt.fignum_exists(keep.number)


def test_figure_saver_closes_the_figure_when_saving_fails(tmp_path):
    figures = plot.FigureSaver(tmp_path / "missing")
    fig = plt.figure()
    with pytest.raises(OSError):
        figures.save(fig, "nowhere")
    assert not plt.fignum_exists(fig.number)
    assert figures.saved == []
    (tmp_path / "missing").mkdir()
    assert figures.save(plt.figure(), "retry").name == "01_retry.png"


@pytest.mark.parametrize(
    ("default", "override", "expected"),
    [
        (True, None, 1),
        (False, None, 0),
        (True, False, 0),
        (False, True, 1),
    ],
)
def test_figure_saver_tight_layout_flag(tmp_path, default, override, expected):
    figures = plot.FigureSaver(tmp_path, tight_layout=default)
    fig = plt.figure()
    calls = _spy_tight_layout(fig)
    figures.save(fig, "layout", tight_layout=override)
    assert len(calls) == expected


def test_figure_saver_next_path_reserves_a_number(tmp_path):
    figures = plot.FigureSaver(tmp_path)
    png = figures.save(plt.figure(), "still")
    gif = figures.next_path("animation", ".gif")
    mp4 = figures.next_path("movie", "mp4")
    last = figures.save(plt.figure(), "after")
    assert gif == tmp_path / "02_animation.gif"
    assert mp4 == tmp_path / "03_movie.mp4"
    assert not gif.exists()  # reserved and recorded, not written
    assert figures.saved == [png, gif, mp4, last]
    assert last.name == "04_after.png"
