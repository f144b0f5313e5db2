"""Gradient semantics: accumulation, fresh intermediates, fan-out, long chains, grad modes."""

import asyncio
import threading

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import Tensor
from tinygrad_course import functional as F
from tinygrad_course.testing import gradcheck


def test_backward_twice_gives_leaves_exactly_twice_the_gradient():
    a = Tensor(3.0, requires_grad=True)
    b = a**3
    b.backward()
    assert a.grad == 27.0
    b.backward()
    assert a.grad == 54.0  # 2 × 27, not 72


def test_zero_grad_resets_accumulation():
    a = Tensor([1.0, 2.0], requires_grad=True)
    (a * a).sum().backward()
    a.zero_grad()
    assert a.grad is None
    (a * a).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 4.0])


def test_intermediates_get_a_fresh_gradient_on_each_backward():
    a = Tensor(2.0, requires_grad=True)
    v = (a * 5).named("v")
    J = v * v
    J.backward()
    J.backward()
    assert v.grad == 2 * 10.0  # dJ/dv = 2v, not accumulated across calls
    assert a.grad == 2 * 100.0  # the leaf accumulates


def test_fan_out_adds_the_gradients_of_every_use():
    a = Tensor(1.5, requires_grad=True)
    (a * a + a).backward()  # d/da (a² + a) = 2a + 1
    assert a.grad == 4.0


def test_diamond_graph():
    x = Tensor(0.7, requires_grad=True)
    left, right = x.exp(), x * 3
    J = left * right
    J.backward()
    # J = 3x·eˣ → dJ/dx = 3eˣ(1 + x)
    assert x.grad == pytest.approx(3 * np.exp(0.7) * 1.7, rel=1e-12)


def test_leaf_gradients_are_separate_arrays_even_when_a_rule_passes_g_through():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    s = a + b
    s.backward(gradient=np.ones(2))
    a.grad[0] = 100.0  # gradient clipping in place must not change b's gradient
    assert b.grad[0] == 1.0 and s.grad[0] == 1.0
    assert a.grad.flags.writeable and b.grad.flags.writeable


def test_gradient_argument_is_copied_not_kept():
    a = Tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (a + 0).backward(gradient=seed)
    seed[:] = 7.0
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])


def test_summed_leaf_gets_a_writable_gradient():
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    a.sum().backward()
    a.grad[0, 0] = 5.0  # a broadcast view would refuse this
    assert a.grad.sum() == 10.0


def test_a_100_000_op_chain_backpropagates_without_recursion():
    x0 = Tensor(1.0, requires_grad=True)
    x = x0
    for _ in range(50_000):
        x = x * 1.0001 + 0.0
    x.backward()
    assert x0.grad == pytest.approx(1.0001**50_000, rel=1e-9)


def test_broadcast_gradients_have_the_inputs_shapes():
    W = Tensor(np.ones((3, 2)), requires_grad=True)
    b = Tensor(np.ones((3, 1)), requires_grad=True)
    X = np.arange(8.0).reshape(2, 4)
    (W @ X + b).sum().backward()
    assert W.grad.shape == (3, 2) and b.grad.shape == (3, 1)
    np.testing.assert_array_equal(b.grad, np.full((3, 1), 4.0))  # db = Σ over the m columns


def test_no_grad_records_nothing_and_results_do_not_require_grad():
    a = Tensor(2.0, requires_grad=True)
    with tc.no_grad():
        b = a * 3
        with tc.enable_grad():
            c = a * 3
    assert not b.requires_grad and b.grad_fn is None
    assert c.requires_grad and c.grad_fn is not None
    assert tc.is_grad_enabled()


def test_no_grad_and_enable_grad_decorate_functions():
    a = Tensor(2.0, requires_grad=True)

    @tc.no_grad()
    def evaluate(t):
        return t * 2

    @tc.no_grad
    def evaluate_bare(t):
        return t * 2

    assert not evaluate(a).requires_grad
    assert not evaluate_bare(a).requires_grad
    assert evaluate.__name__ == "evaluate"


def test_grad_mode_is_per_thread():
    a = Tensor(2.0, requires_grad=True)
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with tc.no_grad():
            inside.set()
            outside.wait(5)
            seen["worker"] = (a * 2).requires_grad

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait(5)
    seen["main"] = (a * 2).requires_grad  # the worker's no_grad is active right now
    outside.set()
    thread.join()
    assert seen == {"main": True, "worker": False}


def test_grad_mode_is_per_asyncio_task():
    a = Tensor(2.0, requires_grad=True)

    async def in_no_grad(started, release):
        with tc.no_grad():
            started.set()
            await release.wait()
            return (a * 2).requires_grad

    async def recording(started, release):
        await started.wait()
        result = (a * 2).requires_grad
        release.set()
        return result

    async def main():
        started, release = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(in_no_grad(started, release), recording(started, release))

    assert asyncio.run(main()) == [False, True]


def test_detach_cuts_the_graph():
    a = Tensor(3.0, requires_grad=True)
    J = a * a.detach()  # only one factor carries the gradient
    J.backward()
    assert a.grad == 3.0
    assert a.detach().is_leaf and not a.detach().requires_grad


def test_grad_function_leaves_dot_grad_untouched():
    a = Tensor(2.0, requires_grad=True)
    (g,) = tc.grad(a**2, a)
    assert g.item() == 4.0 and a.grad is None


def test_grad_of_several_outputs_and_inputs():
    a, b = Tensor(2.0, requires_grad=True), Tensor(5.0, requires_grad=True)
    ga, gb = tc.grad([a * b, a + b], [a, b])
    assert (ga.item(), gb.item()) == (6.0, 3.0)


@pytest.mark.parametrize("z", [-1000.0, 1000.0])
def test_stable_functions_at_saturation_are_finite_without_warnings(z):
    # pytest runs with warnings as errors: an overflow in exp would fail this test.
    Z = Tensor([[z]], requires_grad=True)
    for f in (F.sigmoid, F.log_sigmoid, F.softplus):
        Z.zero_grad()
        out = f(Z)
        out.sum().backward()
        assert np.isfinite(out.data).all() and np.isfinite(Z.grad).all()
    for y in (0.0, 1.0):
        Z.zero_grad()
        J = F.binary_cross_entropy_with_logits(Z, [[y]])
        J.backward()
        assert np.isfinite(J.item()) and np.isfinite(Z.grad).all()
        expected = 1 / (1 + np.exp(-np.clip(z, -700, 700))) - y
        assert Z.grad.item() == pytest.approx(expected, abs=1e-300)


def test_bce_on_saturated_probabilities_is_finite():
    A = Tensor([[1.0, 0.0]], requires_grad=True)
    J = F.binary_cross_entropy(A, [[0.0, 1.0]])
    J.backward()
    assert np.isfinite(J.item()) and np.isfinite(A.grad).all()


def test_losses_match_their_definitions():
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((1, 6))
    Y = (rng.random((1, 6)) > 0.5).astype(float)
    A = 1 / (1 + np.exp(-Z))
    course_J = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    assert F.binary_cross_entropy_with_logits(Z, Y).item() == pytest.approx(course_J, rel=1e-12)
    assert F.binary_cross_entropy(A, Y).item() == pytest.approx(course_J, rel=1e-12)
    assert F.mse_loss(Z, Y).item() == pytest.approx(np.mean((Z - Y) ** 2), rel=1e-12)
    S = rng.standard_normal((3, 4))
    softmax = np.exp(S) / np.exp(S).sum(axis=0)
    np.testing.assert_allclose(F.softmax(S).data, softmax, rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(S).data, np.log(softmax), rtol=1e-12)
    assert gradcheck(lambda s: F.log_softmax(s)[1], S)


def test_hooks_see_and_may_replace_the_gradient():
    a = Tensor(2.0, requires_grad=True)
    v = a * 3
    seen = []
    v.register_hook(lambda g: seen.append(g.item()))
    handle = v.register_hook(lambda g: g * 0.5)
    (v * v).backward()
    assert seen == [12.0] and a.grad == 18.0  # 0.5 · 2v · 3
    handle.remove()
    a.zero_grad()
    (a * 3 * 1).backward()
    assert a.grad == 3.0


def test_in_place_change_of_a_saved_tensor_is_caught():
    w = Tensor([1.0, 2.0], requires_grad=True, name="w")
    J = (w * w).sum()
    w.data -= 0.1  # a parameter update before backward
    with pytest.raises(tc.InPlaceModificationError, match="'w' was modified in place"):
        J.backward()


def test_update_after_backward_is_legal():
    w = Tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        J = (w * w).sum()
        w.zero_grad()
        J.backward()
        w.data -= 0.1 * w.grad  # the course's update step
    np.testing.assert_allclose(w.data, np.array([1.0, 2.0]) * 0.8**3)


def test_detect_anomaly_names_the_op_and_the_line():
    a = Tensor([-1.0, 4.0], requires_grad=True)
    with (
        tc.detect_anomaly(),
        np.errstate(invalid="ignore"),
        pytest.raises(tc.AnomalyError, match=r"'sqrt'.*test_backward\.py"),
    ):
        a.sqrt()
    assert not tc.is_anomaly_enabled()


def test_a_rule_returning_a_misshapen_gradient_is_an_error_not_a_silent_reshape():
    from tinygrad_course.autograd import Op

    wrong = Op("wrong", "?", lambda a: a * 2, lambda g, out, a: g.reshape(-1)[:1])  # drops elements
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(tc.GradientError, match=r"the backward rule of 'wrong' returned a gradient of "
                                               r"shape \(1,\) for an input of shape \(2, 3\)"):
        wrong(x).sum().backward()


def test_a_scalar_leaf_keeps_an_ndarray_gradient_across_backward_calls():
    a = Tensor(2.0, requires_grad=True)
    (a * a).backward()
    (a * a).backward()
    assert type(a.grad) is np.ndarray and a.grad.shape == () and a.grad == 8.0


@pytest.mark.parametrize("reduce", [lambda t: t.sum(axis=0), lambda t: t.max(axis=-1)])
def test_a_0d_tensor_reduced_over_axis_0_backpropagates(reduce):
    # numpy lets a 0-d array sum or max over axis 0 or -1 (not mean); backward must undo that too.
    a = Tensor(1.5, requires_grad=True)
    reduce(a).backward()
    assert a.grad == 1.0


def test_backward_on_a_constant_derivative_explains_why_it_has_no_graph():
    a = Tensor(2.0, requires_grad=True)
    (d1,) = tc.grad(a * 3, a, create_graph=True)  # the derivative of 3a is the constant 3
    with pytest.raises(tc.GradientError, match="a derivative that no longer depends on the inputs"):
        d1.backward()


# --------------------------------------------------------------------------- edges that follow PyTorch


@pytest.mark.parametrize(("b", "d_da", "d_db"), [
    (2.0, 0.0, 0.0),          # 0² = 0: ∂/∂b = 0² · ln 0 → 0 as a → 0⁺
    (0.0, 0.0, 0.0),          # 0⁰ = 1: PyTorch takes 0 for ∂/∂b as well
    (-1.0, -np.inf, -np.inf),  # 0⁻¹ = inf: ∂/∂b = inf · ln 0 = −inf, not NaN
    (-0.5, -np.inf, -np.inf),
])
def test_pow_at_a_zero_base_has_pytorchs_gradients(b, d_da, d_db):
    a, e = Tensor(0.0, requires_grad=True), Tensor(b, requires_grad=True)
    with np.errstate(divide="ignore"):  # 0 to a negative power is inf, as numpy (and IEEE) says
        (a ** e).backward()
    assert (a.grad.item(), e.grad.item()) == (d_da, d_db)


def test_pow_gradient_in_the_exponent_keeps_its_higher_derivatives_at_a_zero_base():
    # d/db 0ᵇ = 0 for b > 0, and so is every higher derivative: the mask is a constant.
    a, e = Tensor([0.0, 2.0], requires_grad=True), Tensor(1.5, requires_grad=True)
    (d1,) = tc.grad((a ** e).sum(), e, create_graph=True)
    (d2,) = tc.grad(d1, e)
    assert d1.item() == pytest.approx(2.0 ** 1.5 * np.log(2.0))
    assert d2.item() == pytest.approx(2.0 ** 1.5 * np.log(2.0) ** 2)


def test_max_over_a_nan_sends_the_gradient_to_the_nan_as_pytorch_does():
    x = Tensor([1.0, np.nan, 0.5], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])
    rows = Tensor([[1.0, np.nan, 0.5], [3.0, 2.0, 1.0], [np.nan, 0.0, np.nan]], requires_grad=True)
    rows.max(axis=1).sum().backward()
    np.testing.assert_array_equal(rows.grad, [[0, 1, 0], [1, 0, 0], [0.5, 0, 0.5]])  # NaNs tie


@pytest.mark.parametrize("reduction", [np.array(["", ""]), np.array("mean"), None, 1])
def test_a_reduction_that_is_not_a_str_is_a_type_error(reduction):
    # An array compared with == gives an array, whose truth value numpy refuses with a bare ValueError.
    with pytest.raises(tc.InputTypeError, match="reduction must be 'mean', 'sum' or 'none'"):
        F.binary_cross_entropy_with_logits(Tensor(0.0), Tensor(0.0), reduction=reduction)
