"""The course's models: autograd against the course's hand-derived gradients, its initialisation,
and its printed numbers (costs, accuracies) on its data.

Expected numbers are either the course's own printed figures or come from the course's numpy
formulas written out in this file — never from the code under test.
"""

from pathlib import Path

import numpy as np
import pytest

from tinygrad_course.datasets import load_catvnoncat, planar_flower
from tinygrad_course.functional import binary_cross_entropy_with_logits
from tinygrad_course.nn import MLP, LogisticRegression
from tinygrad_course.train import accuracy, fit

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "catvnoncat.npz"
needs_cats = pytest.mark.skipif(
    not DATA.is_file(), reason=f"the course's cat / non-cat data is not at {DATA} (see shared/data/README.md)"
)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def course_cost(A, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)


def labels(rng, m):
    Y = (rng.random((1, m)) > 0.5).astype(float)
    Y[0, :2] = 0, 1  # both classes present
    return Y


def autograd_gradients(model, X, Y):
    model.zero_grad()
    J = binary_cross_entropy_with_logits(model(X), Y)
    J.backward()
    return J.item(), {name: p.grad for name, p in model.named_parameters()}


# --------------------------------------------------------------------------- gradients


def test_logistic_regression_gradients_are_the_courses_dw_and_db():
    rng = np.random.default_rng(0)
    n_x, m = 5, 7
    X, Y = rng.standard_normal((n_x, m)), labels(rng, m)
    w, b = rng.standard_normal((n_x, 1)), 0.3
    model = LogisticRegression(n_x).load_state_dict({"W": w.T, "b": [[b]]})

    cost, grads = autograd_gradients(model, X, Y)

    A = sigmoid(w.T @ X + b)
    assert cost == pytest.approx(course_cost(A, Y), rel=1e-12)
    dw = X @ (A - Y).T / m
    db = np.mean(A - Y)
    np.testing.assert_allclose(grads["W"], dw.T, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grads["b"], [[db]], rtol=1e-10, atol=1e-14)


def test_one_hidden_layer_tanh_gradients_are_the_courses_backward_propagation():
    rng = np.random.default_rng(1)
    n_x, n_h, m = 3, 4, 9
    X, Y = rng.standard_normal((n_x, m)), labels(rng, m)
    params = {"W1": rng.standard_normal((n_h, n_x)), "b1": rng.standard_normal((n_h, 1)),
              "W2": rng.standard_normal((1, n_h)), "b2": rng.standard_normal((1, 1))}
    model = MLP([n_x, n_h, 1], "tanh").load_state_dict(params)

    cost, grads = autograd_gradients(model, X, Y)

    A1 = np.tanh(params["W1"] @ X + params["b1"])
    A2 = sigmoid(params["W2"] @ A1 + params["b2"])
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = params["W2"].T @ dZ2 * (1 - A1**2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    assert cost == pytest.approx(course_cost(A2, Y), rel=1e-12)
    for name, expected in {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}.items():
        np.testing.assert_allclose(grads[name], expected, rtol=1e-9, atol=1e-14, err_msg=name)


def course_L_model_gradients(params, X, Y, L):
    """The course's L_model_forward / L_model_backward with linear_activation_backward."""
    caches, A = [], X
    for l in range(1, L + 1):  # noqa: E741
        A_prev, W, b = A, params[f"W{l}"], params[f"b{l}"]
        Z = W @ A_prev + b
        A = sigmoid(Z) if l == L else np.maximum(0, Z)
        caches.append((A_prev, W, Z))
    AL, m = A, Y.shape[1]
    grads = {}
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for l in range(L, 0, -1):  # noqa: E741
        A_prev, W, Z = caches[l - 1]
        if l == L:
            s = sigmoid(Z)
            dZ = dA * s * (1 - s)                     # sigmoid_backward
        else:
            dZ = np.array(dA, copy=True)
            dZ[Z <= 0] = 0                            # relu_backward
        grads[f"W{l}"] = dZ @ A_prev.T / m            # linear_backward
        grads[f"b{l}"] = np.sum(dZ, axis=1, keepdims=True) / m
        dA = W.T @ dZ
    return course_cost(AL, Y), grads


def test_L_layer_relu_gradients_are_the_courses_linear_activation_backward():
    rng = np.random.default_rng(2)
    dims, m = [4, 5, 3, 2, 1], 11
    X, Y = rng.standard_normal((dims[0], m)), labels(rng, m)
    model = MLP(dims, "relu", init="he", seed=7)
    params = model.state_dict()
    for l in range(1, len(dims)):  # noqa: E741 - non-zero biases exercise db
        params[f"b{l}"] = 0.1 * rng.standard_normal((dims[l], 1))
    model.load_state_dict(params)

    cost, grads = autograd_gradients(model, X, Y)

    expected_cost, expected = course_L_model_gradients(params, X, Y, L=len(dims) - 1)
    assert cost == pytest.approx(expected_cost, rel=1e-12)
    assert set(grads) == set(expected)
    for name in expected:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-9, atol=1e-14, err_msg=name)


# --------------------------------------------------------------------------- initialisation


def test_small_init_reproduces_the_courses_initialize_parameters_seed_1():
    # The course's initialize_parameters(3, 2, 1) under np.random.seed(1) prints these.
    model = MLP([3, 2, 1], init="small", seed=1)
    state = model.state_dict()
    np.testing.assert_allclose(state["W1"], [[0.01624345, -0.00611756, -0.00528172],
                                             [-0.01072969, 0.00865408, -0.02301539]], atol=5e-9)
    np.testing.assert_allclose(state["W2"], [[0.01744812, -0.00761207]], atol=5e-9)
    np.testing.assert_array_equal(state["b1"], np.zeros((2, 1)))
    np.testing.assert_array_equal(state["b2"], np.zeros((1, 1)))


def test_small_init_reproduces_the_courses_initialize_parameters_deep_seed_3():
    # The course's initialize_parameters_deep([5, 4, 3]) (randn · 0.01, seed 3) prints these.
    state = MLP([5, 4, 3], init="small", seed=3).state_dict()
    np.testing.assert_allclose(state["W1"][0], [0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388],
                               atol=5e-9)
    np.testing.assert_allclose(state["W2"][0], [-0.01185047, -0.0020565, 0.01486148, 0.00236716], atol=5e-9)


def test_init_draws_in_the_courses_order_and_leaves_numpys_global_generator_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    model = MLP([6, 4, 3, 1], init="scaled", seed=5)
    np.testing.assert_array_equal(np.random.get_state()[1], before)

    np.random.seed(5)  # the course: seed once, then W1, W2, W3 in order
    for l, (n_prev, n) in enumerate([(6, 4), (4, 3), (3, 1)], start=1):  # noqa: E741
        expected = np.random.randn(n, n_prev) / np.sqrt(n_prev)
        np.testing.assert_array_equal(model.state_dict()[f"W{l}"], expected)


@pytest.mark.parametrize(("init", "scale"), [("he", lambda n_in, n_out: np.sqrt(2 / n_in)),
                                             ("xavier", lambda n_in, n_out: np.sqrt(2 / (n_in + n_out)))])
def test_he_and_xavier_scale_the_same_draws(init, scale):
    W = MLP([400, 300, 1], init=init, seed=0).state_dict()["W1"]
    np.testing.assert_allclose(W, np.random.RandomState(0).randn(300, 400) * scale(400, 300))


# --------------------------------------------------------------------------- the planar flower


def course_nn_model(X, Y, n_h, iterations, lr=1.2):
    """The course's planar nn_model: seed 2, randn · 0.01, tanh, gradient descent."""
    np.random.seed(2)
    W1 = np.random.randn(n_h, X.shape[0]) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(1, n_h) * 0.01
    b2 = np.zeros((1, 1))
    m, costs = X.shape[1], []
    for i in range(iterations):
        A1 = np.tanh(W1 @ X + b1)
        A2 = sigmoid(W2 @ A1 + b2)
        if i % 100 == 0:
            costs.append(course_cost(A2, Y))
        dZ2 = A2 - Y
        dW2, db2 = dZ2 @ A1.T / m, np.sum(dZ2, axis=1, keepdims=True) / m
        dZ1 = W2.T @ dZ2 * (1 - A1**2)
        dW1, db1 = dZ1 @ X.T / m, np.sum(dZ1, axis=1, keepdims=True) / m
        W1, b1, W2, b2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2
    return costs, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def test_planar_network_follows_the_courses_nn_model_step_by_step():
    X, Y = planar_flower()
    model = MLP([2, 4, 1], "tanh", init="small", seed=2)
    history = fit(model, X, Y, lr=1.2, iterations=1001, progress=False)

    costs, params = course_nn_model(X, Y, n_h=4, iterations=1001)
    np.testing.assert_allclose(history.costs, costs, rtol=1e-9)
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(value, params[name], rtol=1e-7, atol=1e-10, err_msg=name)
    # The course prints "Cost after iteration 0: 0.693048" and "... 1000: 0.288083".
    assert history.costs[0] == pytest.approx(0.693048, abs=5e-7)
    assert history.costs[10] == pytest.approx(0.288083, abs=5e-7)


def test_planar_network_reaches_the_courses_90_percent_and_logistic_regression_does_not():
    X, Y = planar_flower()
    network = MLP([2, 4, 1], "tanh", init="small", seed=2)
    fit(network, X, Y, lr=1.2, iterations=10000, progress=False)
    linear = LogisticRegression(2)
    fit(linear, X, Y, lr=1.2, iterations=2000, progress=False)
    assert accuracy(network, X, Y) >= 0.90   # the course: "Accuracy: 90%"
    assert 0.44 <= accuracy(linear, X, Y) <= 0.50   # the course: 47 % (a straight line cannot do it)


# --------------------------------------------------------------------------- cat / non-cat


@pytest.fixture(scope="module")
def cats():
    return load_catvnoncat(DATA)


@needs_cats
def test_logistic_regression_on_cats_reaches_the_courses_99_and_70_percent(cats):
    model = LogisticRegression(12288)
    history = fit(model, cats.X_train, cats.Y_train, lr=0.005, iterations=2000, progress=False)
    # The course prints: cost after iteration 0: 0.693147, 100: 0.584508, 1900: 0.140872;
    # train accuracy: 99.04306220095694 %, test accuracy: 70.0 %.
    assert history.costs[0] == pytest.approx(0.693147, abs=5e-7)
    assert history.costs[1] == pytest.approx(0.584508, abs=5e-7)
    assert history.costs[19] == pytest.approx(0.140872, abs=5e-7)
    assert 100 * accuracy(model, cats.X_train, cats.Y_train) == pytest.approx(99.04306220095694)
    assert 100 * accuracy(model, cats.X_test, cats.Y_test) == pytest.approx(70.0)


@needs_cats
def test_two_layer_relu_network_on_cats_starts_and_moves_as_the_course(cats):
    model = MLP([12288, 7, 1], "relu", init="small", seed=1)
    history = fit(model, cats.X_train, cats.Y_train, lr=0.0075, iterations=101, progress=False)
    # The course prints: Cost after iteration 0: 0.6930497356599888, 100: 0.6464320953428849.
    assert history.costs[0] == pytest.approx(0.6930497356599888, abs=1e-12)
    assert history.costs[1] == pytest.approx(0.6464320953428849, abs=1e-9)


@needs_cats
def test_deep_network_on_cats_starts_and_moves_as_the_course(cats):
    model = MLP([12288, 20, 7, 5, 1], "relu", init="scaled", seed=1)
    history = fit(model, cats.X_train, cats.Y_train, lr=0.0075, iterations=101, progress=False)
    # The course prints: Cost after iteration 0: 0.7717493284237686, 100: 0.6720534400822914.
    assert history.costs[0] == pytest.approx(0.7717493284237686, abs=1e-12)
    assert history.costs[1] == pytest.approx(0.6720534400822914, abs=1e-9)


@needs_cats
def test_two_layer_relu_network_on_cats_reaches_the_courses_100_and_72_percent(cats):
    model = MLP([12288, 7, 1], "relu", init="small", seed=1)
    fit(model, cats.X_train, cats.Y_train, lr=0.0075, iterations=2500, progress=False)
    # The course prints: train accuracy 1.0, test accuracy 0.72.
    assert accuracy(model, cats.X_train, cats.Y_train) == 1.0
    assert accuracy(model, cats.X_test, cats.Y_test) == pytest.approx(0.72)


@needs_cats
def test_deep_network_on_cats_reaches_the_courses_98_6_and_80_percent(cats):
    model = MLP([12288, 20, 7, 5, 1], "relu", init="scaled", seed=1)
    fit(model, cats.X_train, cats.Y_train, lr=0.0075, iterations=2500, progress=False)
    # The course prints: train accuracy 0.985645933014, test accuracy 0.8.
    assert accuracy(model, cats.X_train, cats.Y_train) == pytest.approx(0.985645933014)
    assert accuracy(model, cats.X_test, cats.Y_test) == pytest.approx(0.8)
