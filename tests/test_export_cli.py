"""``python -m tinygrad_course export MODEL.npz OUT``: a model saved by train --save, in another format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinygrad_course.__main__ import main
from tinygrad_course.export import load_model, load_safetensors
from tinygrad_course.nn import MLP, Linear, LogisticRegression, Sequential

ort = pytest.importorskip("onnxruntime", reason="the export command needs the [onnx] extra")


@pytest.fixture
def saved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "model.npz"
    assert main(["train", "--data", "moons", "--layers", "2,5,1", "--activation", "relu",
                 "--iterations", "30", "--save", str(path)]) == 0
    capsys.readouterr()
    return path


def test_export_writes_an_onnx_file_that_predicts_as_the_saved_model(saved: Path, capsys) -> None:
    out = saved.with_name("model.onnx")
    assert main(["export", str(saved), str(out)]) == 0
    assert capsys.readouterr().out == f"Wrote {out} from {saved}\n"
    model = MLP([2, 5, 1], "relu").load(saved)
    X = np.random.default_rng(0).normal(size=(2, 25))
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"X": X})[0], model(X).data, rtol=1e-12, atol=1e-12)


def test_export_writes_safetensors_that_load_back(saved: Path) -> None:
    out = saved.with_name("model.safetensors")
    assert main(["export", str(saved), str(out)]) == 0
    loaded = load_safetensors(MLP([2, 5, 1], "relu"), out)
    for name, value in MLP([2, 5, 1], "relu").load(saved).state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], value)


def test_an_unknown_suffix_is_refused_listing_the_formats(saved: Path, capsys) -> None:
    assert main(["export", str(saved), str(saved.with_name("model.pt"))]) == 2
    error = capsys.readouterr().err
    assert "cannot tell the format of" in error and ".onnx (" in error and ".safetensors (" in error
    assert not saved.with_name("model.pt").exists()


def test_a_logistic_regression_comes_back_and_other_modules_are_refused(tmp_path: Path, capsys) -> None:
    model = LogisticRegression(3).load_state_dict({"W": np.ones((1, 3)), "b": np.full((1, 1), 0.5)})
    rebuilt = load_model(model.save(tmp_path / "logistic.npz"))
    assert isinstance(rebuilt, LogisticRegression)
    np.testing.assert_array_equal(rebuilt.state_dict()["W"], np.ones((1, 3)))
    Sequential(Linear(2, 1)).save(tmp_path / "sequential.npz")
    assert main(["export", str(tmp_path / "sequential.npz"), str(tmp_path / "s.onnx")]) == 2
    assert "rebuilds MLP and LogisticRegression models" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.npz"), str(tmp_path / "s.onnx")]) == 2
    assert "no such file" in capsys.readouterr().err
