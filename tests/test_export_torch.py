"""PyTorch's names and layouts, the equivalent torch.nn.Sequential, and safetensors weight files.

The state-dict tests need no torch; those that build torch models skip with the reason where
torch is absent, and elsewhere show identical predictions (float64, 1e-12) both ways.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_course import export
from tinygrad_course.errors import InputTypeError, InputValueError
from tinygrad_course.export import load_safetensors, save_safetensors
from tinygrad_course.nn import (
    MLP,
    ArchitectureError,
    LeakyReLU,
    Linear,
    LogisticRegression,
    Module,
    Sequential,
    Tanh,
)
from tinygrad_course.plots import MissingDependencyError

try:
    import torch
except ImportError:
    torch = None
NEEDS_SAFETENSORS = "needs the [onnx] extra (safetensors)"
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (never a dependency); "
                                                       "these tests build torch models")


def trained_like(model: Module, seed: int = 0) -> Module:
    rng = np.random.default_rng(seed)
    return model.load_state_dict({name: rng.normal(size=p.shape) for name, p in model.named_parameters()})


def test_the_keys_and_layouts_are_those_of_torch_sequential() -> None:
    model = trained_like(MLP([3, 4, 2, 1], "relu"))
    state = model.torch_state_dict()
    assert {key: value.shape for key, value in state.items()} == {
        "0.weight": (4, 3), "0.bias": (4,), "2.weight": (2, 4), "2.bias": (2,),
        "4.weight": (1, 2), "4.bias": (1,)}
    course = model.state_dict()
    np.testing.assert_array_equal(state["2.weight"], course["W2"])
    np.testing.assert_array_equal(state["2.bias"], course["b2"].ravel())
    state["0.weight"][0, 0] = 99.0  # copies: editing them leaves the model alone
    assert model.state_dict()["W1"][0, 0] != 99.0
    assert set(LogisticRegression(5).torch_state_dict()) == {"0.weight", "0.bias"}


def test_a_torch_state_dict_loads_back_from_numpy_arrays() -> None:
    source = trained_like(MLP([2, 3, 1], "tanh"), seed=1)
    target = MLP([2, 3, 1], "tanh").load_torch_state_dict(source.torch_state_dict())
    for name, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[name], value)


def test_mismatched_keys_and_shapes_name_the_key_the_shape_found_and_expected() -> None:
    model = MLP([2, 3, 1])
    before = model.state_dict()
    state = trained_like(MLP([2, 3, 1])).torch_state_dict()
    wrong = {**state, "2.weight": np.ones((1, 4))}
    with pytest.raises(ArchitectureError, match=r"2\.weight has shape \(1, 4\), expected \(1, 3\)"):
        model.load_torch_state_dict(wrong)
    with pytest.raises(ArchitectureError, match=r"missing 2\.bias; unexpected 4\.bias"):
        renamed = {("4.bias" if k == "2.bias" else k): v for k, v in state.items()}
        model.load_torch_state_dict(renamed)
    with pytest.raises(ArchitectureError, match=r"0\.bias has shape \(3, 1\), expected \(3,\)"):
        model.load_torch_state_dict({**state, "0.bias": state["0.bias"].reshape(3, 1)})
    with pytest.raises(InputTypeError, match="expects a dict"):
        model.load_torch_state_dict([1, 2])
    for name, value in before.items():  # nothing was changed by the failed loads
        np.testing.assert_array_equal(model.state_dict()[name], value)


def test_a_module_without_a_torch_equivalent_is_refused() -> None:
    class Twice(Module):
        def forward(self, A):  # type: ignore[no-untyped-def]
            return A * 2

    with pytest.raises(InputTypeError, match=r"Twice has no torch\.nn\.Sequential equivalent"):
        Twice().torch_state_dict()
    with pytest.raises(InputTypeError, match="layer 1 is a Twice"):
        Sequential(Linear(2, 2), Twice()).torch_state_dict()
    with pytest.raises(InputTypeError, match=r"expected a model .* got dict"):
        export.torch_state_dict({"W1": np.ones((1, 2))})  # type: ignore[arg-type]


def test_to_torch_says_how_to_get_torch_where_it_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match="needs PyTorch"):
        MLP([2, 1]).to_torch()


@needs_torch
@pytest.mark.parametrize("model", [
    trained_like(MLP([4, 5, 3, 1], "relu"), seed=2), trained_like(MLP([2, 4, 1], "tanh"), seed=3),
    trained_like(LogisticRegression(3), seed=4),
    trained_like(Sequential(Linear(3, 4), LeakyReLU(0.2), Linear(4, 2), Tanh(), Linear(2, 1)), seed=5),
], ids=["MLP relu", "MLP tanh", "LogisticRegression", "Sequential"])
def test_to_torch_predicts_what_the_model_predicts(model: Module) -> None:
    torch_model = model.to_torch()
    X = np.random.default_rng(6).normal(size=(model.parameters()[0].shape[1], 50))
    with torch.no_grad():
        predicted = torch_model(torch.from_numpy(X.T)).numpy().T  # torch: one example per row
    assert predicted.dtype == np.float64
    np.testing.assert_allclose(predicted, model(X).data, rtol=1e-12, atol=1e-12)


@needs_torch
def test_a_torch_trained_sequential_comes_back_with_its_predictions() -> None:
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).double()
    # The torch tensors as they are: no conversion by the caller.
    model = MLP([2, 6, 1], "tanh").load_torch_state_dict(torch_model.state_dict())
    X = np.random.default_rng(7).normal(size=(2, 40))
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(X.T)).numpy().T
    np.testing.assert_allclose(model(X).data, expected, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- safetensors


def test_safetensors_round_trip_under_torch_keys(tmp_path: Path) -> None:
    safetensors_numpy = pytest.importorskip("safetensors.numpy", reason=NEEDS_SAFETENSORS)
    model = trained_like(MLP([3, 4, 1], "relu"), seed=8)
    path = save_safetensors(model, tmp_path / "model.safetensors")
    stored = safetensors_numpy.load_file(str(path))
    assert set(stored) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    loaded = load_safetensors(MLP([3, 4, 1], "relu"), path)
    X = np.random.default_rng(9).normal(size=(3, 10))
    np.testing.assert_array_equal(loaded(X).data, model(X).data)
    with pytest.raises(ArchitectureError, match=r"safetensors.*0\.weight has shape \(4, 3\), expected \(5, "):
        load_safetensors(MLP([3, 5, 1]), path)


def test_loading_a_pickle_named_safetensors_never_unpickles_it(tmp_path: Path) -> None:
    pytest.importorskip("safetensors", reason=NEEDS_SAFETENSORS)
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (Path.touch, (marker,))

    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(InputValueError, match="is not a safetensors file"):
        load_safetensors(MLP([2, 1]), path)
    assert not marker.exists()


@needs_torch
def test_torch_reads_the_safetensors_file_as_it_is(tmp_path: Path) -> None:
    safetensors_torch = pytest.importorskip("safetensors.torch", reason=NEEDS_SAFETENSORS)
    model = trained_like(MLP([2, 3, 1], "tanh"), seed=10)
    torch_model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    path = save_safetensors(model, tmp_path / "m.safetensors")
    torch_model.load_state_dict(safetensors_torch.load_file(path))
    X = np.random.default_rng(11).normal(size=(2, 20))
    with torch.no_grad():
        np.testing.assert_allclose(torch_model(torch.from_numpy(X.T)).numpy().T, model(X).data,
                                   rtol=1e-12, atol=1e-12)

