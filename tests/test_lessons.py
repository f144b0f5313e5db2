"""The course's worked examples, one test per lesson, checked against the lesson's own numbers
and hand-derived formulas."""

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import Tensor
from tinygrad_course import functional as F
from tinygrad_course.testing import gradcheck


def test_computation_graph_lesson_J_equals_3_times_a_plus_bc():
    a = Tensor(5.0, requires_grad=True, name="a")
    b = Tensor(3.0, requires_grad=True, name="b")
    c = Tensor(2.0, requires_grad=True, name="c")
    u = (b * c).named("u")
    v = (a + u).named("v")
    J = (3 * v).named("J")
    assert (u.item(), v.item(), J.item()) == (6.0, 11.0, 33.0)

    J.backward()

    assert v.grad == 3.0  # dJ/dv
    assert a.grad == 3.0  # dJ/da = dJ/dv · dv/da = 3 · 1
    assert u.grad == 3.0  # dJ/du = dJ/dv · dv/du = 3 · 1
    assert b.grad == 6.0  # dJ/db = dJ/du · du/db = 3 · c
    assert c.grad == 9.0  # dJ/dc = dJ/du · du/dc = 3 · b


def test_logistic_regression_derivatives_for_one_example():
    x1, x2, y = 1.5, -0.7, 1.0
    w1 = Tensor(0.3, requires_grad=True)
    w2 = Tensor(-0.2, requires_grad=True)
    b = Tensor(0.1, requires_grad=True)
    z = w1 * x1 + w2 * x2 + b
    a = z.sigmoid()
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    L.backward()

    a_value = 1 / (1 + np.exp(-(0.3 * x1 - 0.2 * x2 + 0.1)))
    dz = a_value - y  # the lesson's dz = a − y
    assert z.grad == pytest.approx(dz, rel=1e-12)
    assert w1.grad == pytest.approx(x1 * dz, rel=1e-12)
    assert w2.grad == pytest.approx(x2 * dz, rel=1e-12)
    assert b.grad == pytest.approx(dz, rel=1e-12)


def test_logistic_regression_derivatives_vectorised_in_the_course_layout():
    rng = np.random.default_rng(0)
    n_x, m = 4, 7
    X = rng.standard_normal((n_x, m))  # one example per column
    Y = (rng.random((1, m)) > 0.5).astype(float)
    w = Tensor(rng.standard_normal((n_x, 1)), requires_grad=True)
    b = Tensor(0.5, requires_grad=True)

    A = (w.T @ X + b).sigmoid()
    J = -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()
    J.backward()

    A_ref = 1 / (1 + np.exp(-(w.data.T @ X + 0.5)))
    np.testing.assert_allclose(w.grad, X @ (A_ref - Y).T / m, rtol=1e-12)  # dw = X(A−Y)ᵀ/m
    np.testing.assert_allclose(b.grad, np.mean(A_ref - Y), rtol=1e-12)  # db = mean(A−Y)
    assert w.grad.shape == w.shape and b.grad.shape == b.shape


def test_bce_with_logits_gradient_is_A_minus_Y_over_m():
    rng = np.random.default_rng(1)
    Z = Tensor(rng.standard_normal((1, 9)), requires_grad=True)
    Y = (rng.random((1, 9)) > 0.5).astype(float)
    F.binary_cross_entropy_with_logits(Z, Y).backward()
    np.testing.assert_allclose(Z.grad, (1 / (1 + np.exp(-Z.data)) - Y) / 9, rtol=1e-12)


def _derivatives(f, at, order):
    """[f'(a), f''(a), ...] by repeated grad(create_graph=True)."""
    a = Tensor(at, requires_grad=True)
    out, results = f(a), []
    for _ in range(order):
        (out,) = tc.grad(out, a, create_graph=True)
        results.append(out.item())
    return results


# a = 0 included: there the rule's aᵇ⁻¹ reaches a⁰ and then a⁻¹, which must not turn 0 into NaN.
@pytest.mark.parametrize("a", [-2.0, 0.0, 0.5, 1.0, 3.0, 10.0])
def test_more_derivative_examples_a_squared(a):
    assert _derivatives(lambda t: t**2, a, 4) == pytest.approx([2 * a, 2.0, 0.0, 0.0])


@pytest.mark.parametrize("a", [-2.0, 0.0, 0.5, 1.0, 3.0, 10.0])
def test_more_derivative_examples_a_cubed(a):
    assert _derivatives(lambda t: t**3, a, 4) == pytest.approx([3 * a**2, 6 * a, 6.0, 0.0])


def test_the_derivative_of_a_to_the_zero_is_zero_even_at_zero():
    a = Tensor(0.0, requires_grad=True)
    (a**0).backward()
    assert a.grad == 0.0


@pytest.mark.parametrize("a", [0.5, 1.0, 2.0, 5.0])
def test_more_derivative_examples_log_a(a):
    assert _derivatives(lambda t: t.log(), a, 3) == pytest.approx([1 / a, -1 / a**2, 2 / a**3])


@pytest.mark.parametrize("z", [-3.0, -0.5, 0.0, 1.2, 4.0])
def test_sigmoid_first_second_third_derivatives(z):
    s = 1 / (1 + np.exp(-z))
    expected = [s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)]
    assert _derivatives(lambda t: t.sigmoid(), z, 3) == pytest.approx(expected, rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("z", [-2.0, -0.3, 0.0, 0.8, 2.5])
def test_tanh_first_second_third_derivatives(z):
    t = np.tanh(z)
    expected = [1 - t**2, -2 * t * (1 - t**2), -2 * (1 - t**2) * (1 - 3 * t**2)]
    assert _derivatives(lambda x: x.tanh(), z, 3) == pytest.approx(expected, rel=1e-10, abs=1e-14)


def test_backward_with_create_graph_gives_a_differentiable_grad():
    a = Tensor(3.0, requires_grad=True)
    (a**3).backward(create_graph=True)
    first = a.grad
    assert isinstance(first, Tensor) and first.item() == 27.0  # 3a²
    a.zero_grad()
    first.backward()
    assert a.grad.item() == 18.0  # 6a


def test_second_derivative_of_a_small_networks_loss_matches_finite_differences():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((2, 5))
    Y = (rng.random((1, 5)) > 0.5).astype(float)
    W2 = rng.standard_normal((1, 3))

    def loss(W1):
        A1 = (W1 @ X).tanh()
        return F.binary_cross_entropy_with_logits(Tensor(W2) @ A1, Y)

    def gradient_of_loss(W1):
        (g,) = tc.grad(loss(W1), W1, create_graph=True)
        return g

    # The gradient, itself a function of W1, differentiates correctly: Hessian-vector products.
    assert gradcheck(gradient_of_loss, rng.standard_normal((3, 2)))
