"""The command line's demo and train subcommands, run in-process on built-in data."""

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
    assert out.startswith("The computation graph J = 3(a + bc), with a = 5, b = 3, c = 2")
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
