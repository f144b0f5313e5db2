"""Optimizers against the course's update formulas, written out by hand."""

import numpy as np
import pytest

from tinygrad_course import InputValueError, Tensor
from tinygrad_course.optim import SGD, Adam, Momentum


def parameter_with_gradient(value, grad):
    p = Tensor(np.array(value, dtype=float), requires_grad=True)
    p.grad = np.array(grad, dtype=float)
    return p


def test_sgd_is_w_minus_alpha_dw():
    p = parameter_with_gradient([1.0, -2.0], [0.5, 4.0])
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [1.0 - 0.05, -2.0 - 0.4])


def test_momentum_averages_the_gradients():
    p = parameter_with_gradient([1.0], [2.0])
    optimizer = Momentum([p], lr=0.1, beta=0.9)
    optimizer.step()                      # v = 0.1·2 = 0.2, w = 1 − 0.02
    p.grad = np.array([-1.0])
    optimizer.step()                      # v = 0.9·0.2 + 0.1·(−1) = 0.08, w = 0.98 − 0.008
    np.testing.assert_allclose(p.data, [0.972])


def test_adam_with_bias_correction():
    p = parameter_with_gradient([1.0], [2.0])
    optimizer = Adam([p], lr=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8)
    optimizer.step()
    # t = 1: v̂ = dw, ŝ = dw², so the step is α·dw/(|dw| + ε) ≈ α.
    np.testing.assert_allclose(p.data, [1.0 - 0.01 * 2.0 / (2.0 + 1e-8)])
    p.grad = np.array([-1.0])
    optimizer.step()
    v = 0.9 * 0.2 + 0.1 * -1.0
    s = 0.999 * 0.001 * 4.0 + 0.001 * 1.0
    v_hat, s_hat = v / (1 - 0.9**2), s / (1 - 0.999**2)
    first = 1.0 - 0.01 * 2.0 / (2.0 + 1e-8)
    np.testing.assert_allclose(p.data, [first - 0.01 * v_hat / (np.sqrt(s_hat) + 1e-8)])


def test_parameters_without_a_gradient_are_left_alone_and_zero_grad_clears():
    p, q = parameter_with_gradient([1.0], [1.0]), Tensor([5.0], requires_grad=True)
    optimizer = SGD([p, q], lr=1.0)
    optimizer.step()
    assert q.data[0] == 5.0 and p.data[0] == 0.0
    optimizer.zero_grad()
    assert p.grad is None


def test_a_graph_built_before_the_update_cannot_be_backpropagated_after_it():
    w = Tensor([1.0], requires_grad=True)
    J = (w * w).sum()
    w.grad = np.array([1.0])
    SGD([w], lr=0.1).step()
    with pytest.raises(Exception, match="modified in place"):
        J.backward()


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: SGD([], lr=0.1), "SGD got no parameters"),
    (lambda p: SGD([p], lr=0.0), r"lr \(the learning rate α\) must lie strictly between 0 and inf"),
    (lambda p: Momentum([p], lr=0.1, beta=1.0), "beta must lie strictly between 0 and 1"),
    (lambda p: Adam([p], beta2=-0.1), "beta2 must lie strictly between 0 and 1"),
])
def test_bad_settings_are_refused(make, message):
    with pytest.raises(InputValueError, match=message):
        make(Tensor([1.0], requires_grad=True))


def test_constants_are_not_parameters():
    with pytest.raises(TypeError, match="parameter 0 must be a Tensor with requires_grad=True"):
        SGD([Tensor([1.0])], lr=0.1)
