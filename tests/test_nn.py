"""Modules: parameters, state, save/load, display, and the errors a learner meets first."""

import numpy as np
import pytest

from tinygrad_course import InputValueError, ShapeError, Tensor
from tinygrad_course.nn import (
    MLP,
    ArchitectureError,
    LeakyReLU,
    Linear,
    LogisticRegression,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)


def test_linear_computes_W_at_A_plus_b_in_the_courses_shapes():
    layer = Linear(3, 2, init="small", rng=0)
    assert layer.W.shape == (2, 3) and layer.b.shape == (2, 1)
    layer.load_state_dict({"W": [[1, 2, 3], [4, 5, 6]], "b": [[10], [20]]})
    A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(layer(A).data, [[14, 15], [30, 31]])


def test_activations_apply_their_functions():
    Z = Tensor([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(ReLU()(Z).data, [[0, 0, 3]])
    np.testing.assert_allclose(LeakyReLU(0.1)(Z).data, [[-0.2, 0, 3]])
    np.testing.assert_allclose(Tanh()(Z).data, np.tanh([[-2.0, 0.0, 3.0]]))
    np.testing.assert_allclose(Sigmoid()(Z).data, 1 / (1 + np.exp([[2.0, 0.0, -3.0]])))


def test_sequential_finds_parameters_in_order_and_zero_grad_clears_them():
    model = Sequential(Linear(2, 3, rng=0), Tanh(), Linear(3, 1, rng=1))
    assert [name for name, _ in model.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    model(np.ones((2, 4))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_mlp_names_its_parameters_as_the_courses_dict():
    model = MLP([4, 3, 2, 1], "tanh", init="small", seed=0)
    assert {name: p.shape for name, p in model.named_parameters()} == {
        "W1": (3, 4), "b1": (3, 1), "W2": (2, 3), "b2": (2, 1), "W3": (1, 2), "b3": (1, 1)}
    assert [type(layer).__name__ for layer in model.layers] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]


def _made_by(t):
    """The op that made ``t`` and the names of its inputs."""
    return t.grad_fn.op.name, [p.name for p in t.grad_fn.parents]


def test_mlp_names_its_results_as_the_course_writes_them():
    model = MLP([2, 4, 3, 1], "tanh", init="small", seed=0)
    Z3 = model(np.ones((2, 5)))                          # an array: the model calls it X
    assert Z3.name == "Z3"
    assert _made_by(Z3)[0] == "add" and _made_by(Z3)[1][1] == "b3"
    product = Z3.grad_fn.parents[0]                      # W3 @ A2, unnamed: Z3 = W3 @ A2 + b3
    assert product.name is None and _made_by(product) == ("matmul", ["W3", "A2"])
    A2 = product.grad_fn.parents[1]
    assert _made_by(A2) == ("tanh", ["Z2"])
    A1 = A2.grad_fn.parents[0].grad_fn.parents[0].grad_fn.parents[1]   # Z2 ← W2 @ A1
    assert A1.name == "A1" and _made_by(A1) == ("tanh", ["Z1"])
    Z1 = A1.grad_fn.parents[0]
    assert _made_by(Z1.grad_fn.parents[0]) == ("matmul", ["W1", "X"])


def test_a_models_names_never_rename_the_callers_tensor():
    X = Tensor(np.ones((2, 3)))
    Z = LogisticRegression(2)(X)
    assert Z.name == "Z" and X.name is None              # z = wᵀx + b; X stays as given
    assert Linear(2, 3, rng=0, name="1")(X).name == "Z1"
    relu_net = MLP([2, 3, 1], seed=0)
    assert relu_net(X).grad_fn.parents[0].grad_fn.parents[1].name == "A1"   # W2 @ A1


def test_mlp_from_the_courses_parameters_dict():
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal((3, 1)),
              "W2": rng.standard_normal((1, 3)), "b2": rng.standard_normal((1, 1))}
    model = MLP.from_parameters(params, hidden_activation="tanh")
    assert model.layer_dims == [2, 3, 1]
    X = rng.standard_normal((2, 5))
    expected = params["W2"] @ np.tanh(params["W1"] @ X + params["b1"]) + params["b2"]
    np.testing.assert_allclose(model(X).data, expected)
    with pytest.raises(ArchitectureError, match=r"need 2-D W1, \.\.\., W2"):
        MLP.from_parameters({"W1": params["W1"], "W2": np.ones(3)})


def test_logistic_regression_starts_at_zero_and_predicts_one_half():
    model = LogisticRegression(4)
    assert np.all(model.W.data == 0) and model.W.shape == (1, 4) and np.all(model.b.data == 0)
    np.testing.assert_array_equal(model.predict_proba(np.ones((4, 3))), [[0.5, 0.5, 0.5]])


def test_state_dict_is_a_copy():
    model = MLP([2, 2, 1], init="small", seed=0)
    state = model.state_dict()
    state["W1"][:] = 99
    assert not np.any(model.state_dict()["W1"] == 99)


def test_save_and_load_round_trip(tmp_path):
    model = MLP([3, 4, 1], "tanh", init="he", seed=3)
    path = model.save(tmp_path / "model.npz")
    other = MLP([3, 4, 1], "tanh", init="he", seed=4)
    other.load(path)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[name], value)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left behind
    with np.load(path, allow_pickle=False) as archive:  # readable without pickle
        assert set(archive.files) == {"W1", "b1", "W2", "b2", "__architecture__"}


def test_loading_a_different_architecture_says_what_differs(tmp_path):
    path = MLP([3, 5, 1], init="small", seed=0).save(tmp_path / "wide.npz")
    model = MLP([3, 4, 1], init="small", seed=0)
    before = model.state_dict()
    with pytest.raises(ArchitectureError) as error:
        model.load(path)
    message = str(error.value)
    assert "W1 has shape (5, 3), this model's is (4, 3)" in message
    assert "The file holds MLP(layer_dims=[3, 5, 1]" in message
    for name, value in model.state_dict().items():  # nothing half-loaded
        np.testing.assert_array_equal(value, before[name])
    deeper = MLP([3, 4, 2, 1], init="small", seed=0)
    with pytest.raises(ArchitectureError, match="missing W3, b3"):
        deeper.load_state_dict(model.state_dict())
    with pytest.raises(ArchitectureError, match="unexpected W3, b3"):
        model.load_state_dict(deeper.state_dict() | {"W1": before["W1"], "W2": before["W2"]})


def test_loading_a_file_that_is_not_a_model(tmp_path):
    bad = tmp_path / "notes.npz"
    bad.write_text("these are not arrays")
    with pytest.raises(InputValueError, match=r"load\(path\): '.*notes\.npz' is not a \.npz archive .*; "
                                              r"expected a model file written by Module\.save\(\)") as error:
        MLP([2, 1]).load(bad)
    assert "allow_pickle" not in str(error.value)  # numpy's own advice would be to load it unsafely
    with pytest.raises(FileNotFoundError, match=r"load\(path\): '.*missing\.npz': no such file"):
        MLP([2, 1]).load(tmp_path / "missing.npz")


def test_load_state_dict_rejects_nan():
    with pytest.raises(ArchitectureError, match="W contains NaN or inf"):
        Linear(1, 1).load_state_dict({"W": [[np.nan]], "b": [[0.0]]})


def test_repr_reads_like_the_architecture():
    text = repr(MLP([2, 4, 1], "tanh", init="small", seed=2))
    assert text == ("MLP(layer_dims=[2, 4, 1], hidden_activation='tanh', init='small', seed=2)(\n"
                    "  (0): Linear(2 → 4)\n"
                    "  (1): Tanh()\n"
                    "  (2): Linear(4 → 1)\n"
                    ")")
    assert repr(LogisticRegression(3)) == "LogisticRegression(n_x=3)"


def test_examples_in_rows_get_a_hint_to_transpose():
    with pytest.raises(ShapeError, match=r"expects its input as \(n_in, m\) = \(2, m\).*pass X\.T"):
        MLP([2, 3, 1])(np.zeros((10, 2)))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"layer_dims": [2]}, "layer_dims must list the input, hidden and output sizes"),
    ({"layer_dims": [2, 0, 1]}, r"layer_dims\[1\] must be a positive integer, got 0"),
    ({"layer_dims": [2, 1], "hidden_activation": "sigmoid"}, "hidden_activation must be 'relu' or 'tanh'"),
    ({"layer_dims": [2, 1], "init": "random"}, "init must be one of 'zeros', 'small', 'scaled'"),
])
def test_mlp_arguments_are_checked(kwargs, message):
    with pytest.raises(InputValueError, match=message):
        MLP(**kwargs)
