"""Edges of the chain rule where PyTorch is the reference: aliases, dtypes, where grad() stops,
repeated roots, saved values, decorated generators and coroutines, differentiable grad_outputs."""

import asyncio

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import Tensor
from tinygrad_course.autograd import grad

# --------------------------------------------------------------------------- changes through an alias


def test_a_change_through_a_detached_alias_is_caught():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    z = (x * x).sum()
    d = x.detach()
    d.data -= 1.0  # the same array that mul saved
    with pytest.raises(tc.InPlaceModificationError):
        z.backward()
    assert x.grad is None


def test_a_change_to_the_original_is_caught_by_a_graph_of_its_detached_alias():
    x = Tensor([1.0, 2.0])
    d = x.detach()
    w = Tensor([3.0, 4.0], requires_grad=True)
    J = (w * d).sum()
    x.data = np.zeros(2)
    with pytest.raises(tc.InPlaceModificationError):
        J.backward()


# --------------------------------------------------------------------------- float32 in, float32 out


def _float32_leaf_times_float64() -> tuple[Tensor, Tensor]:
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    return x, (x * Tensor([3.0, 4.0])).sum()  # numpy promotes the product to float64


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_returns_the_inputs_dtype_when_the_graph_mixes_dtypes(create_graph):
    x, J = _float32_leaf_times_float64()
    (dx,) = grad(J, x, create_graph=create_graph)
    assert dx.dtype == np.float32
    np.testing.assert_array_equal(dx.data, [3.0, 4.0])


def test_backward_with_create_graph_and_hooks_see_the_leafs_dtype():
    x, J = _float32_leaf_times_float64()
    seen = []
    x.register_hook(lambda g: seen.append(g.dtype))
    J.backward(create_graph=True)
    assert seen == [np.float32] and x.grad.dtype == np.float32


def test_the_cast_of_a_gradient_is_itself_differentiable():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    J = (x * x * Tensor([3.0, 4.0])).sum()
    (dx,) = grad(J, x, create_graph=True)
    (ddx,) = grad(dx.sum(), x)
    assert ddx.dtype == np.float32
    np.testing.assert_array_equal(ddx.data, [6.0, 8.0])  # d/dx Σ 2·c·x = 2c


# --------------------------------------------------------------------------- grad() stops at its inputs


def test_grad_stops_at_the_tensors_it_was_asked_about():
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g))
    a, b = x[:2], x[2:]
    da, db = grad((a * b).sum(), [a, b])
    np.testing.assert_array_equal(da.data, [3.0, 4.0])
    np.testing.assert_array_equal(db.data, [1.0, 2.0])
    assert calls == []  # PyTorch runs x's hook zero times: nothing beyond a and b is computed


def test_grad_still_goes_through_one_input_to_reach_another():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    dx, dy = grad((y * x).sum(), [x, y])  # Σ 2x², with y = 2x also used directly
    np.testing.assert_array_equal(dx.data, [4.0, 8.0])  # the full d/dx: 4x, through y too
    np.testing.assert_array_equal(dy.data, [1.0, 2.0])


# --------------------------------------------------------------------------- repeated roots


def test_a_root_given_twice_adds_its_seeds():
    a = Tensor(2.0, requires_grad=True)
    y = a * a
    (da,) = grad([y, y], a)
    assert da.item() == 8.0  # PyTorch: 2 · 2a
    (da,) = grad([y, y], a, grad_outputs=[np.float64(1.0), np.float64(0.5)])
    assert da.item() == 6.0


# --------------------------------------------------------------------------- only saved values matter


def test_a_change_to_a_value_no_rule_reads_is_not_an_error():
    x = Tensor(1.0, requires_grad=True)
    z = x * 2
    q = z + x
    z.data = z.data + 2  # + never reads z, and mul made z without reading it back
    q.backward()
    assert x.grad == 3.0


def test_an_op_that_saves_its_output_ignores_a_change_to_its_input():
    w = Tensor([0.0, 1.0], requires_grad=True)
    J = w.exp().sum()  # exp's rule reads exp(w), which it saved, not w
    w.data = w.data + 5
    J.backward()
    np.testing.assert_allclose(w.grad, np.exp([0.0, 1.0]))


def test_a_change_to_a_saved_output_is_caught():
    w = Tensor([0.0, 1.0], requires_grad=True)
    e = w.exp()
    J = e.sum()
    e.data = np.zeros(2)
    with pytest.raises(tc.InPlaceModificationError, match="'exp'"):
        J.backward()


# ----------------------------------------------------------------- modes on generators and coroutines


def test_no_grad_covers_a_generators_body_and_gives_the_caller_its_mode_between_yields():
    a = Tensor(1.0, requires_grad=True)
    outside = []

    @tc.no_grad
    def doubled(n):
        for _ in range(n):
            yield (a * 2).requires_grad

    steps = doubled(2)
    assert next(steps) is False
    outside.append((a * 2).requires_grad)
    assert next(steps) is False
    assert list(steps) == [] and outside == [True]


def test_enable_grad_generator_receives_sent_values_and_thrown_errors_inside_its_mode():
    a = Tensor(1.0, requires_grad=True)

    @tc.enable_grad()
    def echo():
        try:
            while True:
                factor = yield
                yield (a * factor).requires_grad
        except KeyError:
            yield ("caught", (a * 2).requires_grad)

    with tc.no_grad():
        steps = echo()
        next(steps)
        assert steps.send(3.0) is True
        next(steps)
        assert steps.throw(KeyError("k")) == ("caught", True)
        assert (a * 2).requires_grad is False


def test_no_grad_on_async_def_holds_while_the_coroutine_runs():
    a = Tensor(1.0, requires_grad=True)

    @tc.no_grad
    async def evaluate():
        await asyncio.sleep(0)
        return (a * 2).requires_grad

    async def main():
        recorded = (a * 2).requires_grad
        return await evaluate(), recorded, (a * 2).requires_grad

    assert asyncio.run(main()) == (False, True, True)


def test_no_grad_refuses_an_async_generator_with_the_spelling_that_works():
    async def numbers():
        yield 1

    with pytest.raises(tc.InputTypeError, match=r"with no_grad\(\):"):
        tc.no_grad(numbers)


# --------------------------------------------------------------------------- grad_outputs in the graph


def test_a_jacobian_vector_product_from_two_vector_jacobian_products():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = Tensor([1.0, 1.0, 1.0], requires_grad=True)
    (u,) = grad(x ** 3, x, grad_outputs=v, create_graph=True)  # u = v ⊙ 3x²
    (du_dv,) = grad(u.sum(), v)
    np.testing.assert_allclose(du_dv.data, 3 * x.data ** 2)


def test_backward_with_a_gradient_that_requires_grad_records_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    v = Tensor([2.0, 5.0], requires_grad=True)
    (x ** 2).backward(gradient=v, create_graph=True)  # x.grad = v ⊙ 2x
    (d,) = grad(x.grad.sum(), v)
    np.testing.assert_allclose(d.data, 2 * x.data)
    x.zero_grad()
    (x ** 2).backward(gradient=v)  # without create_graph the gradient is a constant: plain values
    np.testing.assert_array_equal(x.grad, [4.0, 20.0])


# Backward starts from the uses counted as the graph grew (Tensor._users); uses outside J's graph
# keep a tensor from getting ready that way, and the rest of the pass counts exactly instead.

def test_a_result_also_used_outside_the_graph_gets_every_gradient_of_the_graph() -> None:
    x = Tensor(2.0, requires_grad=True)
    a = x * 3.0
    b = a * a
    unused = a + 1.0  # a third use of a that J does not depend on
    J = b * a         # J = 27x³, dJ/dx = 81x²
    J.backward()
    assert x.grad == 81 * 4 and a.grad == 3 * 36 and b.grad == 6
    assert unused.grad is None


def test_a_parameter_used_by_several_live_graphs_gets_only_the_gradient_of_the_one_run() -> None:
    W = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    J1 = (W * W).sum()
    J2 = (W * 5.0).sum()  # alive, not run
    J1.backward()
    np.testing.assert_array_equal(W.grad, 2 * W.data)
    W.grad = None
    J1.backward()  # a second pass over the same graph starts from the same counts
    np.testing.assert_array_equal(W.grad, 2 * W.data)
    J2.backward()
    np.testing.assert_array_equal(W.grad, 2 * W.data + 5)


def test_one_root_used_by_another_waits_for_it() -> None:
    x = Tensor(2.0, requires_grad=True)
    y1 = x * x
    y2 = y1 * x
    (g,) = tc.grad([y2, y1], x)  # d(x³ + x²)/dx = 3x² + 2x
    assert g.item() == 16.0


def test_a_leaf_that_requires_grad_only_after_its_first_use_gets_its_gradient_in_one_piece() -> None:
    a = Tensor(2.0)
    w = Tensor(3.0, requires_grad=True)
    y = a * w                   # recorded (w requires grad) while a did not
    a.requires_grad = True
    J = y + a * a               # dJ/da = w + 2a = 7, in two uses made before and after the switch
    seen = []
    a.register_hook(lambda g: seen.append(float(g.item())))
    J.backward()
    assert seen == [7.0] and a.grad == 7.0


@pytest.mark.parametrize("order", [1, -1])
def test_roots_with_uses_outside_the_graph_wait_for_each_other(order) -> None:
    x = Tensor(2.0, requires_grad=True)
    y1 = x * x
    y2 = y1 * x
    outside = [y1 + 1.0, y2 + 1.0]  # both roots are used outside the graph of grad() below
    calls = []
    y1.register_hook(lambda g: calls.append(g.item()))
    (g,) = tc.grad([y1, y2][::order], x)  # d(x² + x³)/dx = 2x + 3x²
    assert g.item() == 16.0 and calls == [1.0 + 2.0] and len(outside) == 2  # dJ/dy1 = 1 + x
