"""The command line's demo and train subcommands, run in-process on built-in data."""

import os
from pathlib import Path

import numpy as np
import pytest

from tinygrad_course.__main__ import main
from tinygrad_course.nn import MLP

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "catvnoncat.npz"


def test_demo_prints_the_lesson_and_the_comparison_table_and_writes_the_plots(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="the demo's pictures need the optional extra 'plot'")
    assert main(["demo", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    from tinygrad_course.__main__ import DEMO_SUMMARY

    assert out.startswith(DEMO_SUMMARY + "\n\nThe computation graph J = 3(a + bc), with a = 5, b = 3, c = 2")
    # What is trained is said before the training starts, not after the table is printed.
    announced = out.index("training two models on it, learning rate 1.2, 10000 iterations")
    network = out.index("  1 hidden layer, 4 tanh units ...")
    assert announced < out.index("  logistic regression ...") < network < out.index("  model ")
    lines = {line.split("  ")[1].strip(): line for line in out.splitlines() if line.startswith("  logistic")
             or line.startswith("  1 hidden layer")}
    logistic, network = lines["logistic regression"], lines["1 hidden layer, 4 tanh units"]
    assert "0.693147" in logistic and "47 %" in logistic      # zeros: J = log 2 at iteration 0
    assert "0.693048" in network and "90 %" in network        # the course's first cost
    accuracy = float(network.split("%")[0].split()[-1])
    assert accuracy >= 90
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "flower_costs.png", "flower_decision_boundaries.png", "training_step_backward.svg",
        "training_step_forward.svg"]
    assert f"Wrote 4 files into {(tmp_path / 'out').resolve()}" in out
    backward = (tmp_path / "out" / "training_step_backward.svg").read_text(encoding="utf-8")
    assert "dJ/dW1" in backward and "σ(Z2) − Y" in backward  # the course's dZ2 = A2 − Y on its edge


def test_train_on_planar_saves_a_loadable_model_and_a_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="--plot needs the optional extra 'plot'")
    model_path, plot_path = tmp_path / "model.npz", tmp_path / "boundary.png"
    code = main(["train", "--data", "planar", "--layers", "2,3,1", "--activation", "tanh", "--lr", "1.2",
                 "--iterations", "20", "--init", "small", "--seed", "2", "--save", str(model_path),
                 "--plot", str(plot_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "Cost after iteration 0: " in out and "train accuracy: " in out
    model = MLP([2, 3, 1], "tanh").load(model_path)
    assert model.state_dict()["W1"].shape == (3, 2)
    assert plot_path.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_train_with_other_optimizers_on_moons_and_circles(optimizer, capsys):
    for data in ("moons", "circles"):
        assert main(["train", "--data", data, "--layers", "2,5,1", "--activation", "relu", "--init", "he",
                     "--lr", "0.01", "--iterations", "10", "--optimizer", optimizer]) == 0
    assert capsys.readouterr().out.count(f"{optimizer.capitalize()}(lr=0.01") == 2


@pytest.mark.skipif(not DATA.is_file(), reason=f"the course's cat / non-cat data is not at {DATA}")
def test_train_on_cats_reports_train_and_test_accuracy(capsys):
    assert main(["train", "--data", "cats", "--data-path", str(DATA), "--iterations", "2"]) == 0
    out = capsys.readouterr().out
    assert "MLP(layer_dims=[12288, 7, 1], hidden_activation='relu'" in out
    assert "Cost after iteration 0: 0.693050" in out          # the course's two-layer model's first cost
    assert "test accuracy: " in out


@pytest.mark.parametrize(("argv", "message"), [
    (["--data", "planar", "--layers", "3,4,1"], "--layers must start with the data's n_x = 2 and end with 1"),
    (["--data", "planar", "--data-path", "x.npz"], "--data-path is for --data cats"),
    (["--data", "cats", "--data-path", "/nonexistent/cats.npz"], "no cat / non-cat data at"),
])
def test_train_errors_are_one_clear_line(argv, message, capsys, tmp_path):
    assert main(["train", *argv, "--iterations", "1", "--save", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "m.npz").exists()


def test_train_rejects_malformed_layers(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--data", "planar", "--layers", "2,four,1"])
    assert "expected sizes such as 2,4,1" in capsys.readouterr().err


def test_saved_model_does_not_load_into_another_architecture(tmp_path, capsys):
    path = tmp_path / "model.npz"
    assert main(["train", "--data", "planar", "--iterations", "1", "--save", str(path)]) == 0
    with pytest.raises(ValueError, match="W1 has shape"):
        MLP([2, 5, 1]).load(path)
    with np.load(path, allow_pickle=False) as archive:
        assert archive["W1"].shape == (4, 2)


# --------------------------------------------------------------------------- output paths, checked first


@pytest.fixture
def no_training(monkeypatch):
    """Any call of fit() fails the test: a path error must come before the first step."""
    import tinygrad_course.__main__ as cli

    def fit(*args, **kwargs):
        pytest.fail("training started before the output paths were checked")

    monkeypatch.setattr(cli, "fit", fit)


def one_error_line(capsys):
    captured = capsys.readouterr()
    assert captured.out == ""                                  # no lesson, no training, nothing printed
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    return lines[0]


def test_demo_refuses_a_file_where_its_folder_should_be_before_any_training(tmp_path, capsys, no_training):
    blocker = tmp_path / "afile"
    blocker.write_text("mine")
    assert main(["demo", "--out", str(blocker)]) == 2
    assert one_error_line(capsys) == (f"error: --out: {str(blocker)!r} is a file, not a folder; expected a "
                                      "folder for the demo's pictures (created if missing).")
    assert blocker.read_text() == "mine" and sorted(tmp_path.iterdir()) == [blocker]
    assert main(["demo", "--out", str(blocker / "sub")]) == 2
    assert one_error_line(capsys) == (f"error: --out: cannot create {str(blocker / 'sub')!r}, because "
                                      f"{str(blocker)!r} is a file, not a folder; expected a folder for the "
                                      "demo's pictures (created if missing).")


def test_graph_refuses_a_file_as_its_folder(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("mine")
    assert main(["graph", "--out", str(blocker)]) == 2
    assert one_error_line(capsys) == (f"error: --out: {str(blocker)!r} is a file, not a folder; expected a "
                                      "folder for the graphs (created if missing).")
    assert sorted(tmp_path.iterdir()) == [blocker]


@pytest.mark.parametrize(("option", "target", "expected"), [
    ("--save", "{blocker}/model.npz", "error: --save: cannot create '{blocker}/model.npz', because "
                                      "'{blocker}' is a file, not a folder; expected a file name for the "
                                      "trained parameters, such as model.npz."),
    ("--save", "{folder}", "error: --save: '{folder}' is a folder; expected a file name for the trained "
                           "parameters, such as model.npz."),
    ("--plot", "{folder}", "error: --plot: '{folder}' is a folder; expected a file name for the picture, "
                           "such as plot.png."),
    ("--plot", "{blocker}/sub/plot.png", "error: --plot: cannot create '{blocker}/sub/plot.png', because "
                                         "'{blocker}' is a file, not a folder; expected a file name for the "
                                         "picture, such as plot.png."),
    ("--plot", "{folder}/out.gif", "error: --plot: '{folder}/out.gif' does not name a picture format I can "
                                   "write (suffix '.gif'); expected one of .png, .svg, .pdf, .jpg, .jpeg, "
                                   "such as plot.png."),
    ("--save", "{folder}/model.pkl", "error: --save: '{folder}/model.pkl': the parameters are written as a "
                                     "numpy .npz archive (arrays only, no pickle); expected a file name "
                                     "ending in .npz, such as model.npz."),
])
def test_train_checks_save_and_plot_before_training(option, target, expected, tmp_path, capsys, no_training):
    pytest.importorskip("matplotlib", reason="--plot needs the optional extra 'plot'")
    blocker, folder = tmp_path / "afile", tmp_path / "folder"
    blocker.write_text("mine")
    folder.mkdir()
    names = {"blocker": blocker, "folder": folder}
    assert main(["train", "--data", "planar", option, target.format(**names)]) == 2
    assert one_error_line(capsys) == expected.format(**names)
    assert sorted(tmp_path.iterdir()) == [blocker, folder] and not any(folder.iterdir())


def test_train_refuses_the_same_file_for_the_model_and_the_picture(tmp_path, capsys, no_training):
    # A model is an .npz and a picture never is, so one name cannot serve both: refused by its suffix.
    pytest.importorskip("matplotlib", reason="--plot needs the optional extra 'plot'")
    for name in ("out.png", "out.npz"):
        path = tmp_path / name
        assert main(["train", "--data", "planar", "--save", str(path), "--plot", str(path)]) == 2
        assert one_error_line(capsys).startswith(f"error: --{'save' if name == 'out.png' else 'plot'}: ")
        assert not path.exists()


def test_train_says_matplotlib_is_missing_before_training(tmp_path, capsys, no_training, without_matplotlib):
    assert main(["train", "--data", "planar", "--plot", str(tmp_path / "p.png")]) == 2
    assert 'the plots need matplotlib, which is not installed: pip install "tinygrad_course[plot]"' in \
        one_error_line(capsys)
    assert not any(tmp_path.iterdir())


def test_bench_checks_its_json_path_before_measuring(tmp_path, capsys, monkeypatch):
    import tinygrad_course.bench as bench

    monkeypatch.setattr(bench, "run", lambda **kwargs: pytest.fail("measured before checking --json"))
    assert main(["bench", "--quick", "--json", str(tmp_path)]) == 2
    assert one_error_line(capsys) == (f"error: --json: {str(tmp_path)!r} is a folder; expected a file name "
                                      "for the measurements, such as bench.json.")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a user that permissions apply to")
def test_a_folder_without_write_permission_is_refused_up_front(tmp_path, capsys, no_training):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["train", "--data", "planar", "--save", str(locked / "m.npz")]) == 2
        assert f"no permission to write in the folder {str(locked)!r}" in one_error_line(capsys)
    finally:
        locked.chmod(0o700)


def test_a_junk_cat_file_is_named_by_the_option_that_gave_it(tmp_path, capsys, no_training):
    junk = tmp_path / "cats.npz"
    junk.write_bytes(b"this is not an archive")
    assert main(["train", "--data", "cats", "--data-path", str(junk)]) == 2
    line = one_error_line(capsys)
    assert line == (f"error: --data-path: {str(junk)!r} is not a .npz archive (a zip of .npy arrays); "
                    "expected the cat / non-cat file made by `python -m tinygrad_course data convert "
                    "train_catvnoncat.h5 test_catvnoncat.h5` (the arrays train_x, train_y, test_x, test_y, "
                    "classes).")


# --------------------------------------------------------------------------- help, dot, the plot's title


def test_train_help_describes_every_option_and_shows_the_defaults(capsys):
    with pytest.raises(SystemExit) as done:
        main(["train", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())   # argparse wraps the lines
    assert "--data {planar,moons,circles,cats} the training set: the course's planar flower" in text
    assert "--optimizer {adam,momentum,sgd} the update rule: sgd is the course's gradient descent" in text
    for default in ("(default: sgd)", "(default: small)", "(default: warn)"):
        assert default in text
    assert "default: 2 on planar (the course's flower network), 1 otherwise" in text
    assert "default: 2,4,1 on 2-D data, 12288,7,1 on cats" in text
    assert "(default: None)" not in text


def test_graph_writes_dot_text_without_any_renderer(tmp_path, capsys, monkeypatch):
    from tinygrad_course import viz
    from tinygrad_course.viz import render

    def no_renderer(format="svg"):
        raise viz.RendererNotFoundError("no graph renderer found (test)")

    monkeypatch.setattr(render, "find_renderer", no_renderer)
    assert main(["graph", "--out", str(tmp_path / "g"), "--format", "dot"]) == 0
    captured = capsys.readouterr()
    names = [Path(p).name for p in captured.out.split()]
    assert names == ["lesson_forward.dot", "lesson_backward.dot", "logistic_regression_forward.dot",
                     "logistic_regression_backward.dot", "flower_layers.dot", "flower_layers_compact.dot"]
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == sorted(names)
    for name in names:
        assert (tmp_path / "g" / name).read_text(encoding="utf-8").startswith("digraph")
    assert "backprop_steps.html and flower_explorer.html not written" in captured.err


def test_a_two_dimensional_plot_has_a_short_title_that_fits_and_a_class_legend(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib", reason="--plot needs the optional extra 'plot'")
    from tinygrad_course import plots

    drawn = []
    real = plots.plot_decision_boundary
    monkeypatch.setattr(plots, "plot_decision_boundary", lambda *a, **k: drawn.append(real(*a, **k)))
    assert main(["train", "--data", "moons", "--layers", "2,8,1", "--activation", "relu", "--iterations", "5",
                 "--plot", str(tmp_path / "moons.png")]) == 0
    (figure,) = drawn
    (ax,) = figure.axes
    network, training, result = ax.get_title().splitlines()
    assert (network, training) == ("moons: layers 2,8,1, relu, init small", "sgd, lr 1.2, 5 iterations")
    assert result.startswith("train accuracy ") and result.endswith(" %")
    renderer = figure.canvas.get_renderer()
    box = ax.title.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= figure.bbox.width and box.y1 <= figure.bbox.height
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["y = 0", "y = 1"]
    assert (tmp_path / "moons.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("command", "words"), [
    ("demo", "The demo: the lesson's computation graph J = 3(a + bc) and its derivatives, then logistic "
             "regression and a network of 4 tanh units trained on the course's planar flower"),
    ("graph", "Write the lesson's pictures into --out: the forward and backward graphs of J = 3(a + bc)"),
    ("data", "A course participant has them as the assignment's datasets/train_catvnoncat.h5 and "
             "test_catvnoncat.h5"),
])
def test_every_command_has_a_description_in_its_help(command, words, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert words in " ".join(capsys.readouterr().out.split())


# --------------------------------------------------------------------------- the README's defaults, files


def test_train_on_planar_defaults_to_the_courses_seed_2_as_the_readme_shows(capsys):
    # The README's command (lr 1.2, 4 tanh units) prints the course's costs: seed 2 is the course's.
    assert main(["train", "--data", "planar", "--iterations", "1001"]) == 0
    out = capsys.readouterr().out
    assert "MLP(layer_dims=[2, 4, 1], hidden_activation='tanh', init='small', seed=2)" in out
    assert "Cost after iteration 0: 0.693048\n" in out and "Cost after iteration 1000: 0.288083\n" in out


def test_an_exploding_cost_is_one_warning_line_or_stops_training(capsys):
    argv = ["train", "--data", "planar", "--lr", "1000", "--iterations", "20"]
    assert main(argv) == 0
    warnings_printed = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    assert len(warnings_printed) == 1 and "far above its start (the limit is 10)" in warnings_printed[0]
    assert main([*argv, "--on-explosion", "stop"]) == 2
    assert "error: the cost grew from 0.693048 at iteration 0 to " in capsys.readouterr().err


@pytest.fixture
def umask():
    """Set the process's umask for one test, and put the old one back."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_the_user_asked_for_follow_the_umask(tmp_path, capsys, umask, mask, mode):
    pytest.importorskip("matplotlib", reason="--plot needs the optional extra 'plot'")
    umask(mask)
    model, picture = tmp_path / "model.npz", tmp_path / "boundary.jpg"
    assert main(["train", "--data", "planar", "--iterations", "2", "--save", str(model),
                 "--plot", str(picture)]) == 0
    assert oct(model.stat().st_mode & 0o777) == oct(mode)
    assert oct(picture.stat().st_mode & 0o777) == oct(mode)
    assert picture.read_bytes()[:3] == b"\xff\xd8\xff"          # a JPEG, as the suffix says
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boundary.jpg", "model.npz"]   # no temporary left
