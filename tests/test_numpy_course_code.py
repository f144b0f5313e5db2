"""The course's own numpy code on Tensors, and ``check_backward`` against its hand-written backward.

The forward and cost functions below are the course's (logistic regression, the planar network
with a tanh hidden layer, the L-layer network with relu layers and a sigmoid output), written in
numpy only. Run on Tensors they record the graph; autograd's gradients must equal the course's
hand-written backward formulas to 1e-10 on random data.
"""

from __future__ import annotations

import doctest
from typing import Any

import numpy as np
import pytest

from tinygrad_course import Tensor, no_grad
from tinygrad_course.errors import InputTypeError, InputValueError
from tinygrad_course.testing import BackwardCheckError, GradcheckError, backward_check, check_backward

SEEDS = [0, 1, 2]


def _close(got: Any, expected: np.ndarray) -> None:
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-10)


def _labels(rng: np.random.RandomState, m: int) -> np.ndarray:
    return (rng.rand(1, m) > 0.5).astype(np.float64)


# --------------------------------------------------------------------------- logistic regression (week 2)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def propagate(w, b, X, Y):
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    cost = -1 / m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dw = 1 / m * np.dot(X, (A - Y).T)
    db = 1 / m * np.sum(A - Y)
    return {"dw": dw, "db": db}, np.squeeze(cost)


@pytest.mark.parametrize("seed", SEEDS)
def test_logistic_regression_gradients_equal_the_course_formulas(seed: int) -> None:
    rng = np.random.RandomState(seed)
    X, Y = rng.randn(4, 7), _labels(rng, 7)
    w_values, b_value = rng.randn(4, 1), 0.3
    grads, cost = propagate(w_values, b_value, X, Y)  # the course's dw = X (A − Y)ᵀ / m, db = Σ(A − Y) / m
    w, b = Tensor(w_values, requires_grad=True), Tensor(b_value, requires_grad=True)
    J = propagate(w, b, X, Y)[1]
    assert isinstance(J, Tensor) and J.shape == ()
    J.backward()
    _close(J.data, cost)
    _close(w.grad, grads["dw"])
    _close(b.grad, grads["db"])
    assert check_backward(lambda p: propagate(p["w"], p["b"], X, Y)[1], {"w": w_values, "b": b_value}, grads)


# --------------------------------------------------------------------------- planar network (week 3)


def forward_propagation(X, parameters):
    Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    m = Y.shape[1]
    logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
    return np.squeeze(-np.sum(logprobs) / m)


def backward_propagation(parameters, cache, X, Y, tanh_derivative=lambda A1: 1 - np.power(A1, 2)):
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y
    dW2 = 1 / m * np.dot(dZ2, A1.T)
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.dot(parameters["W2"].T, dZ2) * tanh_derivative(A1)
    dW1 = 1 / m * np.dot(dZ1, X.T)
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def _planar(seed: int, n_h: int = 4, m: int = 9) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    parameters = {"W1": rng.randn(n_h, 2), "b1": rng.randn(n_h, 1),
                  "W2": rng.randn(1, n_h), "b2": rng.randn(1, 1)}
    return parameters, rng.randn(2, m), _labels(rng, m)


def _planar_cost(X: np.ndarray, Y: np.ndarray) -> Any:
    return lambda p: compute_cost(forward_propagation(X, p)[0], Y)


@pytest.mark.parametrize("seed", SEEDS)
def test_planar_network_gradients_equal_the_course_formulas(seed: int) -> None:
    parameters, X, Y = _planar(seed)
    grads = backward_propagation(parameters, forward_propagation(X, parameters)[1], X, Y)
    leaves = {name: Tensor(value, requires_grad=True) for name, value in parameters.items()}
    _planar_cost(X, Y)(leaves).backward()
    for name, leaf in leaves.items():
        _close(leaf.grad, grads["d" + name])
    assert check_backward(_planar_cost(X, Y), parameters, grads)


# --------------------------------------------------------------------------- L-layer network (week 4)


def linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b
    A = sigmoid(Z) if activation == "sigmoid" else np.maximum(0, Z)  # the course's relu
    return A, ((A_prev, W, b), Z)


def L_model_forward(X, parameters):
    caches, A, L = [], X, len(parameters) // 2
    for layer in range(1, L):
        W, b = parameters["W" + str(layer)], parameters["b" + str(layer)]
        A, cache = linear_activation_forward(A, W, b, "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def compute_cost_L(AL, Y):
    m = Y.shape[1]
    cost = (-1 / m) * np.sum(np.multiply(Y, np.log(AL)) + np.multiply(1 - Y, np.log(1 - AL)))
    return np.squeeze(cost)


def relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward(dA, Z):
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def linear_backward(dZ, cache):
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    dW = 1 / m * np.dot(dZ, A_prev.T)
    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)
    return np.dot(W.T, dZ), dW, db


def L_model_backward(AL, Y, caches):
    grads, L = {}, len(caches)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    linear_cache, Z = caches[L - 1]
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = linear_backward(
        sigmoid_backward(dAL, Z), linear_cache)
    for layer in reversed(range(L - 1)):
        linear_cache, Z = caches[layer]
        dA_prev, dW, db = linear_backward(relu_backward(grads["dA" + str(layer + 1)], Z), linear_cache)
        grads["dA" + str(layer)], grads["dW" + str(layer + 1)], grads["db" + str(layer + 1)] = dA_prev, dW, db
    return grads


@pytest.mark.parametrize("seed", SEEDS)
def test_l_layer_network_gradients_equal_the_course_formulas(seed: int) -> None:
    rng = np.random.RandomState(seed)
    layer_dims, m = [5, 4, 3, 1], 8
    parameters = {}
    for layer in range(1, len(layer_dims)):
        n, n_prev = layer_dims[layer], layer_dims[layer - 1]
        parameters["W" + str(layer)] = rng.randn(n, n_prev) / np.sqrt(n_prev)
        parameters["b" + str(layer)] = rng.randn(n, 1) * 0.1
    X, Y = rng.randn(5, m), _labels(rng, m)
    AL, caches = L_model_forward(X, parameters)
    grads = L_model_backward(AL, Y, caches)  # also holds dA0, dA1, dA2: no parameter, not compared
    leaves = {name: Tensor(value, requires_grad=True) for name, value in parameters.items()}
    compute_cost_L(L_model_forward(X, leaves)[0], Y).backward()
    for name, leaf in leaves.items():
        _close(leaf.grad, grads["d" + name])
    assert check_backward(lambda p: compute_cost_L(L_model_forward(X, p)[0], Y), parameters, grads)


# --------------------------------------------------------------------------- check_backward's reports


def test_a_wrong_derivative_is_reported_with_its_worst_elements() -> None:
    parameters, X, Y = _planar(0)
    cache = forward_propagation(X, parameters)[1]
    wrong = backward_propagation(parameters, cache, X, Y, tanh_derivative=lambda A1: 1 - A1)  # not 1 − A1²
    with pytest.raises(BackwardCheckError) as caught:
        check_backward(_planar_cost(X, Y), parameters, wrong)
    message = str(caught.value)
    assert message.startswith("check_backward failed: 2 of 4 hand-written gradients disagree with autograd")
    assert "  dW1 (the gradient of W1, shape (4, 2)): 8 of 8 elements off; worst:" in message
    assert "  db1 (the gradient of b1, shape (4, 1)): " in message
    right = backward_propagation(parameters, cache, X, Y)["dW1"]
    worst = np.unravel_index(np.argmax(np.abs(wrong["dW1"] - right)), right.shape)
    assert (f"    index {tuple(int(i) for i in worst)}: yours {wrong['dW1'][worst]:.8g}, "
            f"autograd {right[worst]:.8g}, absolute error") in message
    assert "  agree: dW2, db2" in message
    assert "  tolerances: |yours − autograd| ≤ atol + rtol·|autograd| with atol=1e-08, rtol=1e-06" in message
    assert isinstance(caught.value, GradcheckError) and isinstance(caught.value, AssertionError)


def test_forgetting_keepdims_is_reported_as_a_shape_with_the_fix() -> None:
    parameters, X, Y = _planar(1)
    grads = backward_propagation(parameters, forward_propagation(X, parameters)[1], X, Y)
    grads["db1"] = grads["db1"].reshape(-1)  # what np.sum(dZ1, axis=1) without keepdims=True gives
    expected = (r"db1 \(the gradient of b1, shape \(4, 1\)\): yours has shape \(4,\)\. np.sum\(dZ, axis=1\) "
                r"drops the summed axis: keep it with np.sum\(dZ, axis=1, keepdims=True\)")
    with pytest.raises(BackwardCheckError, match=expected):
        check_backward(_planar_cost(X, Y), parameters, grads)


def test_a_transposed_gradient_is_reported_as_such() -> None:
    parameters, X, Y = _planar(2)
    grads = backward_propagation(parameters, forward_propagation(X, parameters)[1], X, Y)
    grads["dW1"] = grads["dW1"].T
    with pytest.raises(BackwardCheckError, match=r"yours has shape \(2, 4\)\. It looks transposed"):
        check_backward(_planar_cost(X, Y), parameters, grads)


def test_misnamed_gradients_are_reported_with_the_names_found() -> None:
    parameters, X, Y = _planar(0)
    grads = backward_propagation(parameters, forward_propagation(X, parameters)[1], X, Y)
    grads["dw1"] = grads.pop("dW1")
    with pytest.raises(BackwardCheckError) as caught:
        check_backward(_planar_cost(X, Y), parameters, grads)
    message = str(caught.value)
    assert "  dW1 (the gradient of W1, shape (4, 2)): missing from your gradients." in message
    assert "each must be 'd' + a parameter's name" in message
    assert "these match no parameter: ['dw1']" in message


def test_the_tolerances_decide_and_can_be_loosened() -> None:
    parameters, X, Y = _planar(0)
    grads = backward_propagation(parameters, forward_propagation(X, parameters)[1], X, Y)
    nudged = {**grads, "dW2": grads["dW2"] * (1 + 1e-4)}
    with pytest.raises(BackwardCheckError, match="dW2"):
        check_backward(_planar_cost(X, Y), parameters, nudged)
    assert check_backward(_planar_cost(X, Y), parameters, nudged, rtol=1e-3)
    with no_grad():  # the check records its own graph
        assert check_backward(_planar_cost(X, Y), parameters, grads)


def test_a_cost_turned_into_a_float_is_explained() -> None:
    parameters, X, Y = _planar(0)
    grads = backward_propagation(parameters, forward_propagation(X, parameters)[1], X, Y)
    as_float = lambda p: float(compute_cost(forward_propagation(X, p)[0], Y))  # the newer notebook's cast
    with pytest.raises(InputTypeError, match=r"returned float .*plain values with no graph.*float\(\.\.\.\)"):
        check_backward(as_float, parameters, grads)


@pytest.mark.parametrize(("cost", "parameters", "gradients", "error", "message"), [
    ("not callable", {"w": 1.0}, {"dw": 2.0}, InputTypeError, "cost must be a function"),
    (lambda p: p["w"] * 2, [("w", 1.0)], {"dw": 2.0}, InputTypeError, "parameters must be a dict"),
    (lambda p: p["w"] * 2, {"w": 1.0}, None, InputTypeError, "gradients must be a dict"),
    (lambda p: p["w"] * 2, {}, {}, InputValueError, "parameters is empty"),
    (lambda p: p["w"] * 2, {"w": [1.0, 2.0]}, {"dw": [2.0, 2.0]}, InputValueError, "one number"),
    (lambda p: Tensor(1.0) * 2, {"w": 1.0}, {"dw": 0.0}, InputValueError, "does not depend on the"),
    (lambda p: "J", {"w": 1.0}, {"dw": 0.0}, InputTypeError, "must return the cost J as a Tensor"),
    (lambda p: p["w"] * 2, {"w": "one"}, {"dw": 2.0}, InputTypeError, "parameters\\['w'\\]"),
    (lambda p: p["w"] * 2, {"w": 1.0}, {"dw": 2.0}, InputValueError, "atol"),
])
def test_unusable_arguments_are_refused(cost: Any, parameters: Any, gradients: Any, error: type,
                                        message: str) -> None:
    atol = -1.0 if message == "atol" else 1e-8
    with pytest.raises(error, match=message):
        check_backward(cost, parameters, gradients, atol=atol)


def test_a_gradient_that_is_not_numbers_is_reported() -> None:
    with pytest.raises(BackwardCheckError, match=r"dw \(the gradient of w, shape \(\)\): not an array of"):
        check_backward(lambda p: p["w"] * 2, {"w": 1.0}, {"dw": "two"})


def test_the_docstring_example_runs() -> None:
    results = doctest.testmod(backward_check)
    assert results.attempted >= 3 and results.failed == 0
