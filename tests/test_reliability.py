"""Mistakes a learner makes turn into messages: anomaly detection, hooks, in-place changes,
freed graphs, thread safety."""

import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import Tensor
from tinygrad_course import functional as F


def test_anomaly_in_the_forward_pass_names_op_shapes_and_line():
    a = Tensor([[-1.0, 4.0]], requires_grad=True)
    with tc.detect_anomaly(), pytest.raises(tc.AnomalyError) as caught:
        a.log()
    message = str(caught.value)
    assert "'log'" in message and "NaN" in message and "(1, 2)" in message
    assert "test_reliability.py" in message and "test_anomaly_in_the_forward_pass" in message


def test_anomaly_in_the_backward_pass_points_at_the_line_that_created_the_op():
    a = Tensor([0.0, 4.0], requires_grad=True)
    with tc.detect_anomaly():
        root = a.sqrt()  # forward is finite; d√a/da = 1/(2√a) is inf at 0
        with pytest.raises(tc.AnomalyError, match=r"backward pass.*'sqrt'.*test_reliability\.py:\d+"):
            root.sum().backward()


def test_anomaly_mode_is_off_by_default_and_restored():
    assert not tc.is_anomaly_enabled()
    with tc.detect_anomaly():
        assert tc.is_anomaly_enabled()
    assert not tc.is_anomaly_enabled()
    tc.set_detect_anomaly(True)
    tc.set_detect_anomaly(False)
    with np.errstate(divide="ignore"):
        assert np.isinf(Tensor(0.0).log().item())  # off: no error, the value passes through


def test_hook_can_clip_gradients_and_be_removed():
    w = Tensor([1.0, -2.0], requires_grad=True)
    handle = w.register_hook(lambda g: g.clip(-0.5, 0.5))
    (w * 10).sum().backward()
    np.testing.assert_array_equal(w.grad, [0.5, 0.5])
    handle.remove()
    w.zero_grad()
    (w * 10).sum().backward()
    np.testing.assert_array_equal(w.grad, [10.0, 10.0])


def test_hooks_see_tensors_in_both_backward_modes():
    a = Tensor(2.0, requires_grad=True)
    seen = []
    a.register_hook(lambda g: seen.append(type(g)))
    (a * a).backward()
    (a * a).backward(create_graph=True)
    assert seen == [Tensor, Tensor]


def test_hook_errors():
    with pytest.raises(tc.InputTypeError, match="expects a function"):
        Tensor(1.0, requires_grad=True).register_hook(3)
    with pytest.raises(tc.GradientError, match="does not require grad"):
        Tensor(1.0).register_hook(print)


def test_in_place_change_of_an_intermediate_is_caught_with_its_op():
    x = Tensor([1.0, 2.0], requires_grad=True)
    s = x.sigmoid().named("s")
    J = (s * 2).sum()
    s.data = np.zeros(2)  # the sigmoid rule needs s = σ(x); it is gone now
    with pytest.raises(tc.InPlaceModificationError, match=r"'s'.*'sigmoid'|'s'.*'mul'"):
        J.backward()


def test_data_assignment_checks_its_input():
    w = Tensor([1.0, 2.0])
    with pytest.raises(tc.InputTypeError, match=r"Tensor\.data ="):
        w.data = "abc"


def _train_tiny_network(seed, iterations):
    rng = np.random.default_rng(seed)
    X = Tensor(rng.standard_normal((2, 32)))
    Y = (rng.random((1, 32)) > 0.5).astype(float)
    W1 = Tensor(rng.standard_normal((4, 2)) * 0.5, requires_grad=True)
    W2 = Tensor(rng.standard_normal((1, 4)) * 0.5, requires_grad=True)
    for _ in range(iterations):
        J = F.binary_cross_entropy_with_logits(W2 @ (W1 @ X).tanh(), Y)
        W1.zero_grad()
        W2.zero_grad()
        J.backward()
        with tc.no_grad():
            W1.data -= 0.5 * W1.grad
            W2.data -= 0.5 * W2.grad
    return J.item(), W1.data.copy(), W2.data.copy()


def test_two_threads_training_two_models_match_sequential_training():
    sequential = [_train_tiny_network(seed, 300) for seed in (1, 2)]
    results = {}
    threads = [threading.Thread(target=lambda s=s: results.__setitem__(s, _train_tiny_network(s, 300)))
               for s in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seed, expected in zip((1, 2), sequential, strict=True):
        assert results[seed][0] == expected[0]
        np.testing.assert_array_equal(results[seed][1], expected[1])
        np.testing.assert_array_equal(results[seed][2], expected[2])


def _graph_is_freed_by_reference_counting(build):
    """Build a graph, drop it, and check its tensors die without the cycle collector."""
    gc.disable()
    try:
        loss, intermediate = build()
        witness = weakref.ref(intermediate)
        del intermediate, loss
        return witness() is None
    finally:
        gc.enable()


def test_graph_is_freed_when_the_loss_goes_out_of_scope():
    w = Tensor(np.ones((3, 1)), requires_grad=True)

    def plain():
        hidden = (w * 2).tanh()
        J = hidden.sum()
        J.backward()
        return J, hidden

    def with_hooks():
        hidden = (w * 2).tanh()
        hidden.register_hook(lambda g: g * 1.0)
        J = hidden.sum()
        J.backward()
        return J, hidden

    def with_create_graph():
        hidden = (w * 2).sigmoid()
        J = hidden.sum()
        (g,) = tc.grad(J, w, create_graph=True)
        g.sum().backward()
        return J, hidden

    assert _graph_is_freed_by_reference_counting(plain)
    assert _graph_is_freed_by_reference_counting(with_hooks)
    assert _graph_is_freed_by_reference_counting(with_create_graph)


def test_ten_thousand_training_iterations_keep_memory_flat():
    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((2, 16)))
    Y = (rng.random((1, 16)) > 0.5).astype(float)
    W = Tensor(rng.standard_normal((1, 2)), requires_grad=True)
    b = Tensor(np.zeros((1, 1)), requires_grad=True)

    def step():
        J = F.binary_cross_entropy_with_logits(W @ X + b, Y)
        W.zero_grad()
        b.zero_grad()
        J.backward()
        W.data -= 0.1 * W.grad
        b.data -= 0.1 * b.grad

    for _ in range(200):  # warm caches before measuring
        step()
    tracemalloc.start()
    try:
        for _ in range(1_000):
            step()
        after_1000, _ = tracemalloc.get_traced_memory()
        for _ in range(9_000):
            step()
        after_10000, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after_10000 - after_1000 < 64 * 1024, f"memory grew by {after_10000 - after_1000} bytes"


def test_anomaly_in_a_recorded_backward_names_the_op_whose_rule_failed():
    a = Tensor([0.0, 4.0], requires_grad=True)
    with tc.detect_anomaly():
        root = a.sqrt()
        expected = r"backward pass.*of 'sqrt', created at .*test_reliability\.py"
        with pytest.raises(tc.AnomalyError, match=expected):
            tc.grad(root.sum(), a, create_graph=True)


def test_anomaly_in_a_graph_built_outside_the_block_says_its_line_was_not_recorded():
    a = Tensor([0.0, 4.0], requires_grad=True)
    J = a.sqrt().sum()
    with tc.detect_anomaly(), pytest.raises(tc.AnomalyError, match="outside detect_anomaly"):
        J.backward()


def test_set_detect_anomaly_raises_without_numpy_warnings_and_checks_its_flag():
    # pytest turns warnings into errors here: a RuntimeWarning would fail before AnomalyError.
    tc.set_detect_anomaly(True)
    try:
        with pytest.raises(tc.AnomalyError, match="'log' produced NaN"):
            Tensor(-1.0, requires_grad=True).log()
    finally:
        tc.set_detect_anomaly(False)
    with pytest.raises(tc.InputTypeError, match=r"set_detect_anomaly\(enabled\) must be True or False"):
        tc.set_detect_anomaly("no")
    assert not tc.is_anomaly_enabled()


def test_anomaly_mode_is_per_thread():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def other_thread():
        inside.wait()
        seen["enabled"] = tc.is_anomaly_enabled()
        with np.errstate(divide="ignore"):
            seen["log0"] = Tensor(0.0, requires_grad=True).log().item()  # no AnomalyError here
        release.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with tc.detect_anomaly():
        inside.set()
        release.wait()
    thread.join()
    assert seen == {"enabled": False, "log0": -np.inf}
    assert not tc.is_anomaly_enabled()


def test_one_no_grad_object_shared_by_two_threads():
    shared = tc.no_grad()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def work():
        try:
            w = Tensor(1.0, requires_grad=True)
            with shared:
                barrier.wait()
                results.append((w * 2).requires_grad)
                barrier.wait()
            results.append((w * 2).requires_grad)
        except Exception as error:  # any error in the thread fails the test below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False, False, True, True]


def test_a_backward_that_fails_halfway_leaves_every_gradient_unchanged():
    w = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([1.0, 1.0], requires_grad=True)
    J = w.log().sum() + (c * 3).sum()
    w.data -= 0.1  # log saved w: its branch fails, after c's branch may already have run
    with pytest.raises(tc.InPlaceModificationError):
        J.backward()
    assert w.grad is None and c.grad is None and J.grad is None
    J = w.log().sum() + (c * 3).sum()
    J.backward()
    np.testing.assert_array_equal(c.grad, [3.0, 3.0])  # counted once, not twice


def test_data_assignment_keeps_the_shape():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(tc.ShapeError, match=r"shape \(3,\) for a tensor of shape \(2,\)"):
        w.data = np.ones(3)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_a_hook_returning_a_string_is_named_as_the_hook():
    w = Tensor([1.0, 2.0], requires_grad=True)
    w.register_hook(lambda g: "x")
    with pytest.raises(tc.InputTypeError, match="the value a hook returned got str"):
        (w * 2).sum().backward()
    assert w.grad is None
