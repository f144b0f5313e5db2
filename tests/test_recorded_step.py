"""record_step: a replayed training step gives, to the last bit, what eager J = fn(); J.backward() gives."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from tinygrad_course import (
    GradientError,
    InputTypeError,
    ReplayWarning,
    Tensor,
    concatenate,
    datasets,
    detect_anomaly,
    no_grad,
    record_step,
    stack,
)
from tinygrad_course import functional as F
from tinygrad_course.bench import ENGINE, REPLAY, _max_margin
from tinygrad_course.errors import AnomalyError
from tinygrad_course.nn import MLP, LogisticRegression
from tinygrad_course.optim import SGD
from tinygrad_course.testing import computation_graphs

RNG = np.random.RandomState(0)
X_FLOWER, Y_FLOWER = RNG.randn(2, 40), (RNG.rand(1, 40) > 0.5).astype(np.float64)


def train(make, steps=12, replay=True, lr=0.5):
    """Costs and final parameters of `steps` SGD steps, replayed or eager, from a fresh `make()`."""
    params, fn = make()
    optimizer = SGD(params, lr=lr)
    step = record_step(fn)
    costs = []
    for _ in range(steps):
        optimizer.zero_grad()
        if replay:
            J = step()
        else:
            J = fn()
            J.backward()
        optimizer.step()
        costs.append(np.array(J.data))
    return costs, [p.data.copy() for p in params]


def assert_bit_identical(make, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReplayWarning)  # the course's models replay without a word
        replayed = train(make, replay=True, **kwargs)
    eager = train(make, replay=False, **kwargs)
    for a, b in zip(replayed[0] + replayed[1], eager[0] + eager[1], strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b), (a, b)


def planar(dtype=np.float64):
    def make():
        rng = np.random.RandomState(2)
        W1, b1 = Tensor(rng.randn(4, 2), True, dtype=dtype), Tensor(np.zeros((4, 1)), True, dtype=dtype)
        W2, b2 = Tensor(rng.randn(1, 4), True, dtype=dtype), Tensor(np.zeros((1, 1)), True, dtype=dtype)
        X, Y = Tensor(X_FLOWER, dtype=dtype), Tensor(Y_FLOWER, dtype=dtype)
        return [W1, b1, W2, b2], lambda: F.binary_cross_entropy_with_logits(W2 @ (W1 @ X + b1).tanh() + b2, Y)
    return make


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_planar_tanh_network_replays_bit_identically(dtype):
    assert_bit_identical(planar(dtype), lr=1.2)


def test_logistic_regression_replays_bit_identically():
    def make():
        model = LogisticRegression(2)
        X, Y = Tensor(X_FLOWER), Tensor(Y_FLOWER)
        return model.parameters(), lambda: F.binary_cross_entropy_with_logits(model(X), Y)
    assert_bit_identical(make)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_an_L_layer_network_replays_bit_identically(dtype):
    def make():
        model = MLP([2, 5, 3, 1], "relu", init="he", seed=1)
        for p in model.parameters():  # MLP builds float64 parameters: made float32 here
            p._data = p._data.astype(dtype)
        X, Y = Tensor(X_FLOWER, dtype=dtype), Tensor(Y_FLOWER, dtype=dtype)
        return model.parameters(), lambda: F.binary_cross_entropy_with_logits(model(X), Y)
    assert_bit_identical(make, lr=0.1)


def test_the_benchmarks_max_margin_mlp_replays_bit_identically():
    rng = np.random.RandomState(1337)  # W5's data, as the benchmark builds it
    X, labels = datasets.moons(100, noise=0.1, seed=1)
    y = 2.0 * labels - 1
    init = [rng.uniform(-1, 1, shape) for shape in [(16, 2), (16, 1), (16, 16), (16, 1), (1, 16), (1, 1)]]
    eager_cost, eager_params = _max_margin(ENGINE, X, y, init, 1e-4, 20)
    replay_cost, replay_params = _max_margin(REPLAY, X, y, init, 1e-4, 20)
    assert replay_cost == eager_cost
    assert all(np.array_equal(a, b) for a, b in zip(replay_params, eager_params, strict=True))


def test_later_calls_do_not_run_fn_and_read_data_assigned_between_calls():
    calls = []
    w = Tensor([0.5, -1.0], requires_grad=True)
    X = Tensor([[1.0, 2.0], [3.0, 4.0]])

    def fn():
        calls.append(1)
        return ((X @ w).tanh() * 3).sum()

    step = record_step(fn)
    eager_w, eager_X = Tensor(w.data, requires_grad=True), Tensor(X.data)
    for batch in range(5):
        X.data = eager_X.data = np.full((2, 2), 0.1 * batch) + np.eye(2)
        w.grad = eager_w.grad = None
        J = step()
        J_eager = ((eager_X @ eager_w).tanh() * 3).sum()
        J_eager.backward()
        assert J.item() == J_eager.item() and np.array_equal(w.grad, eager_w.grad)
        assert J.grad_fn is None  # a leaf holding the cost: no graph is built
    assert len(calls) == 2  # recorded on the first call, checked on the second, replayed after


def test_random_graphs_with_broadcasting_and_variadic_ops_replay_bit_identically():
    # Deterministic, for the features the random property below may not draw on a given run.
    a, b = Tensor(RNG.randn(3, 1), requires_grad=True), Tensor(RNG.randn(3), requires_grad=True)
    c = Tensor(RNG.randn(2, 3), requires_grad=True)

    def fn():
        joined = concatenate([a * b, c], axis=0)           # (3, 3) from a broadcast, then (5, 3)
        return (stack([joined.exp(), joined], axis=0).sum(axis=1) * b).mean()

    assert_same_gradients(fn, [a, b, c])


def test_mixed_dtypes_replay_bit_identically():
    # A float32 activation times float64 data: its float64 gradient is cast back to float32 before
    # the float32 rules below it run (propagate's "float32 in, float32 out").
    w = Tensor(RNG.randn(2, 3), requires_grad=True, dtype=np.float32)
    X, C = Tensor(RNG.randn(3, 4), dtype=np.float32), Tensor(RNG.randn(2, 4))
    assert_same_gradients(lambda: ((w @ X).tanh() * C).sum(), [w])


def assert_same_gradients(fn, inputs, calls=4):
    """`calls` replayed steps against eager ones, the inputs' values moved a little before each."""
    step = record_step(fn)
    start = [x.data.copy() for x in inputs]
    for k in range(calls):
        for x, x0 in zip(inputs, start, strict=True):
            x.data = x0 * (1 + 0.01 * k)
        eager_J = fn()
        eager_J.backward()
        eager = [x.grad for x in inputs]
        for x in inputs:
            x.grad = None
        J = step()
        assert np.array_equal(J.data, eager_J.data, equal_nan=True)
        for x, g in zip(inputs, eager, strict=True):
            if g is None:  # an input the graph does not use
                assert x.grad is None
            else:
                assert x.grad.dtype == g.dtype and np.array_equal(x.grad, g, equal_nan=True), (x.grad, g)
        for x in inputs:
            x.grad = None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(computation_graphs(max_nodes=6, n_inputs=3, max_side=3, max_dims=3))
def test_random_graphs_replay_the_gradients_of_eager_bit_identically(graph):
    inputs = [Tensor(x.data, requires_grad=True) for x in graph.inputs]
    out = graph(*inputs)
    weights = Tensor(np.random.RandomState(len(graph)).randn(*out.shape))  # a fixed cotangent
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error", ReplayWarning)
        assert_same_gradients(lambda: (graph(*inputs) * weights).sum(), inputs)


def test_a_leaf_gets_a_gradient_array_of_its_own():
    # add hands the same gradient to both sides: propagate copies it, so the replay must too.
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    step = record_step(lambda: (a + b).sum())
    for _ in range(3):
        a.grad = b.grad = None
        step()
        assert a.grad is not b.grad
        a.grad *= 10
        assert np.array_equal(b.grad, [1.0, 1.0])


def test_a_leaf_of_another_shape_or_dtype_is_recorded_anew():
    w = Tensor([1.0, 2.0], requires_grad=True)
    X = Tensor([[1.0, 2.0], [3.0, 4.0]])
    step = record_step(lambda: (X @ w).tanh().sum())
    for values in [np.ones((2, 2)), np.ones((3, 2)), np.ones((3, 2)) * 2, np.ones((3, 2), np.float32),
                   np.ones((2, 2)) * 3, np.ones((3, 2)) * 4, np.ones((3, 2), np.float32) * 5]:
        X._data = values  # .data keeps a tensor's shape and dtype; a batch of another shape is new data
        w.grad = None
        J = step()
        eager_w = Tensor(w.data, requires_grad=True)
        eager_J = (Tensor(values) @ eager_w).tanh().sum()
        eager_J.backward()
        assert J.item() == eager_J.item() and np.array_equal(w.grad, eager_w.grad)
    assert len(step._programs) == 3  # one per signature: (2, 2), (3, 2), (3, 2) float32


def test_a_parameter_frozen_between_calls_gets_no_gradient_as_in_eager():
    w, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([0.5, 0.5], requires_grad=True)
    step = record_step(lambda: ((w * b).tanh()).sum())
    for _ in range(3):
        step()
    w.grad = b.grad = None
    b.requires_grad = False  # a layer frozen for fine-tuning
    step()
    eager_w = Tensor(w.data, requires_grad=True)
    (eager_w * Tensor(b.data)).tanh().sum().backward()
    assert b.grad is None and np.array_equal(w.grad, eager_w.grad)


def test_hooks_make_every_call_eager():
    seen = []
    w = Tensor([1.0, 2.0], requires_grad=True)
    step = record_step(lambda: (w * w).sum())
    w.register_hook(lambda g: seen.append(g.data.copy()))
    with pytest.warns(ReplayWarning, match="hooks"):
        for _ in range(4):
            w.grad = None
            step()
    assert len(seen) == 4  # a replay would skip the hook


def test_a_hook_added_after_the_replay_started_runs():
    seen = []
    w = Tensor([1.0, 2.0], requires_grad=True)
    step = record_step(lambda: (w * w).sum())
    for _ in range(3):
        step()
    w.register_hook(lambda g: seen.append(1) or g * 0)
    w.grad = None
    with pytest.warns(ReplayWarning, match="hooks"):
        step()
    assert seen == [1] and np.array_equal(w.grad, [0.0, 0.0])


def test_detect_anomaly_runs_the_step_eagerly_so_it_catches_nan():
    w = Tensor([1.0, 2.0], requires_grad=True)
    step = record_step(lambda: (w.log() * 2).sum())
    for _ in range(3):
        step()
    w.data = np.array([-1.0, 2.0])
    with detect_anomaly(), pytest.warns(ReplayWarning, match="detect_anomaly"), \
            pytest.raises(AnomalyError, match="'log'"):
        step()


def test_no_grad_runs_the_step_eagerly_and_fails_as_backward_does():
    w = Tensor([1.0, 2.0], requires_grad=True)
    step = record_step(lambda: (w * w).sum())
    for _ in range(3):
        step()
    with no_grad(), pytest.warns(ReplayWarning, match="no_grad"), pytest.raises(GradientError):
        step()


@pytest.mark.parametrize("kind, message", [("tensor", "created inside fn"), ("number", "created inside fn"),
                                           ("branch", "the graph has 2 tensors now and had 3"),
                                           ("index", "'getitem' has the parameters")])
def test_a_value_computed_inside_fn_is_not_frozen_silently(kind, message):
    changing = {"value": 1.0}

    def make_fn(w):
        def fn():
            if kind == "tensor":
                return (w * Tensor([changing["value"], 1.0])).sum()
            if kind == "number":
                return (w * changing["value"]).sum()
            if kind == "index":
                return w[np.array([0, int(changing["value"]) % 2])].sum()
            return (w * w).sum() if changing["value"] < 2 else w.sum()
        return fn

    w, w_eager = Tensor([1.0, 2.0], requires_grad=True), Tensor([1.0, 2.0], requires_grad=True)
    step, eager_fn = record_step(make_fn(w)), make_fn(w_eager)
    with pytest.warns(ReplayWarning, match=message) as caught:
        for k in range(5):
            changing["value"] = 1.0 + k
            w.grad = w_eager.grad = None
            J, eager_J = step(), eager_fn()
            eager_J.backward()
            assert J.item() == eager_J.item() and np.array_equal(w.grad, w_eager.grad)
    assert len(caught) == 1 and "assign its .data" in str(caught[0].message)
    assert caught[0].filename == __file__  # it points at the line that called the step


def test_a_constant_made_inside_fn_that_never_changes_is_replayed():
    calls = []
    w = Tensor([1.0, 2.0], requires_grad=True)
    # Made anew at each call, equal each time: a constant, an index array, a parameter.
    step = record_step(lambda: calls.append(1) or (1 - w[np.array([1, 0])] * Tensor([2.0, 3.0])).relu()
                       .sum(axis=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReplayWarning)
        for _ in range(5):
            step()
    assert len(calls) == 2


@pytest.mark.parametrize("fn, error, message", [
    (3.0, InputTypeError, "function of no arguments"),
    (lambda: 3.0, InputTypeError, "must return the cost J as a Tensor, got float"),
    (lambda: Tensor([1.0, 2.0], requires_grad=True) * 2, GradientError, "scalar cost J, got shape \\(2,\\)"),
    (lambda: Tensor(2.0) * 2, GradientError, "does not require grad"),
])
def test_bad_input_gets_a_clear_error(fn, error, message):
    with pytest.raises(error, match=message):
        record_step(fn)()
