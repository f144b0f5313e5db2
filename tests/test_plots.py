"""The pictures: each is a picture that matplotlib can read back, of the size it was drawn, in the
format of its suffix, and shown inline in a notebook as a PNG."""


import io

import numpy as np
import pytest

from tinygrad_course import FileAccessError, InputTypeError, InputValueError
from tinygrad_course.datasets import planar_flower
from tinygrad_course.nn import MLP, LogisticRegression
from tinygrad_course.train import History, fit

matplotlib = pytest.importorskip("matplotlib", reason="the plots need the optional extra 'plot' (matplotlib)")

from matplotlib.image import imread  # noqa: E402

from tinygrad_course import plots  # noqa: E402


def read_png(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return imread(path)


def test_cost_curve(tmp_path):
    history = History(iterations=[0, 100, 200], costs=[0.69, 0.4, 0.3])
    figure = plots.plot_costs([history, history], tmp_path / "costs.png", labels=["a", "b"])
    assert figure.axes[0].get_ylabel() == "cost J"
    assert len(figure.axes[0].lines) == 2
    assert read_png(tmp_path / "costs.png").shape[:2] == (400, 600)


def test_decision_boundaries_of_two_dimensional_models(tmp_path):
    X, Y = planar_flower(m=40)
    model = MLP([2, 3, 1], "tanh", init="small", seed=0)
    fit(model, X, Y, lr=1.0, iterations=5, progress=False)
    path = tmp_path / "out" / "boundaries.png"
    figure = plots.plot_decision_boundaries([("mlp", model), ("logistic", LogisticRegression(2))], X, Y, path)
    assert [ax.get_title() for ax in figure.axes] == ["mlp", "logistic"]
    assert read_png(path).shape[:2] == (400, 900)
    single = plots.plot_decision_boundary(model, X, Y, title="one")
    assert [ax.get_title() for ax in single.axes] == ["one"]


def test_decision_boundary_needs_two_dimensional_data():
    with pytest.raises(ValueError, match=r"n_x = 2 rows"):
        plots.plot_decision_boundary(LogisticRegression(3), np.zeros((3, 5)), np.zeros((1, 5)))


def test_misclassified_images_are_titled_with_prediction_and_class(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((12, 4))                         # four 2 × 2 RGB "images"
    model = LogisticRegression(12)                  # predicts σ(0) = ½ → 0 (non-cat) for all
    figure = plots.plot_misclassified(model, X, np.array([[1, 0, 1, 0]]), ("non-cat", "cat"),
                                      tmp_path / "wrong.png", image_shape=(2, 2, 3))
    assert [ax.get_title() for ax in figure.axes] == ["Prediction: non-cat\nClass: cat"] * 2
    read_png(tmp_path / "wrong.png")
    none_wrong = plots.plot_misclassified(model, X, np.zeros((1, 4)), ("non-cat", "cat"),
                                          image_shape=(2, 2, 3))
    assert none_wrong.axes[0].texts[0].get_text() == "no misclassified images"


def test_missing_matplotlib_gives_the_install_command(without_matplotlib):
    with pytest.raises(plots.MissingDependencyError, match=r'pip install "tinygrad_course\[plot\]"'):
        plots.plot_costs(History(iterations=[0], costs=[1.0]))


def test_decision_boundaries_have_a_legend_of_the_two_classes(tmp_path):
    X, Y = planar_flower(m=40)
    model = LogisticRegression(2)
    figure = plots.plot_decision_boundaries([("a", model), ("b", model)], X, Y)
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in figure.axes]
    assert legends == [["y = 0", "y = 1"]] * 2
    named = plots.plot_decision_boundary(model, X, Y, classes=("red", "blue"))
    assert [t.get_text() for t in named.axes[0].get_legend().get_texts()] == ["red", "blue"]
    with pytest.raises(InputValueError, match=r"plot_decision_boundaries\(classes=\.\.\.\): expected the "
                                              r"names of class 0 and class 1, such as \('non-cat', 'cat'\), "
                                              r"got \['only one'\]"):
        plots.plot_decision_boundary(model, X, Y, classes=["only one"])


def test_a_long_title_is_wrapped_inside_the_figure():
    X, Y = planar_flower(m=40)
    long = "moons: MLP(layer_dims=[2, 8, 1], hidden_activation='relu', init='small', seed=1), 10000 steps"
    for figure in (plots.plot_decision_boundary(LogisticRegression(2), X, Y, title=long),
                   plots.plot_costs(History(iterations=[0, 1], costs=[0.7, 0.6]), title=long)):
        ax = figure.axes[0]
        assert " ".join(ax.get_title().split()) == long and "\n" in ax.get_title()
        box = ax.title.get_window_extent(figure.canvas.get_renderer())
        assert box.x0 >= 0 and box.x1 <= figure.bbox.width and box.y1 <= figure.bbox.height


def test_a_path_that_cannot_be_written_is_refused_before_drawing(tmp_path, monkeypatch):
    blocker = tmp_path / "afile"
    blocker.write_text("mine")
    monkeypatch.setattr(plots, "_figure", lambda **kwargs: pytest.fail("drew before checking the path"))
    history = History(iterations=[0], costs=[1.0])
    with pytest.raises(FileAccessError) as error:
        plots.plot_costs(history, tmp_path)
    assert str(error.value) == (f"plot_costs(path): {str(tmp_path)!r} is a folder; expected a file name for "
                                "the picture, such as plot.png.")
    with pytest.raises(FileAccessError, match=r"^plot_decision_boundaries\(path\): cannot create "
                                              r"'.*afile/b\.png', because '.*afile' is a file, not a folder"):
        plots.plot_decision_boundary(LogisticRegression(2), *planar_flower(m=4), blocker / "b.png")
    with pytest.raises(InputTypeError, match=r"plot_misclassified\(path\) must be a file path"):
        plots.plot_misclassified(LogisticRegression(12), np.zeros((12, 1)), np.zeros((1, 1)), ("a", "b"), 5)
    assert sorted(tmp_path.iterdir()) == [blocker] and blocker.read_text() == "mine"


def test_a_figure_shows_itself_as_a_png_when_it_is_a_cells_last_value():
    figure = plots.plot_costs(History(iterations=[0, 1], costs=[0.7, 0.6]))
    png = figure._repr_png_()                   # what IPython's display formatter asks for
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert imread(io.BytesIO(png)).shape[:2] == (400, 600)
    from matplotlib.figure import Figure

    assert isinstance(figure, Figure)           # still matplotlib's Figure: .axes, .savefig, ...


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".jpg", b"\xff\xd8\xff"),
                                               (".JPEG", b"\xff\xd8\xff"), (".svg", b"<?xml"),
                                               (".pdf", b"%PDF")])
def test_the_suffix_chooses_the_format(tmp_path, suffix, magic):
    path = tmp_path / f"costs{suffix}"
    plots.plot_costs(History(iterations=[0, 1], costs=[0.7, 0.6]), path)
    assert path.read_bytes().startswith(magic)


@pytest.mark.parametrize("name", ["costs.gif", "costs", "costs.pkl"])
def test_a_suffix_that_is_no_picture_format_is_refused_with_the_formats(tmp_path, name):
    expected = (r"^plot_costs\(path\): '.*' does not name a picture format I can write "
                r"\(suffix '(\.gif|none|\.pkl)'\); expected one of \.png, \.svg, \.pdf, \.jpg, \.jpeg, "
                r"such as plot\.png\.$")
    with pytest.raises(InputValueError, match=expected):
        plots.plot_costs(History(iterations=[0], costs=[1.0]), tmp_path / name)
    assert not any(tmp_path.iterdir())
