"""gradcheck and gradgradcheck: they pass exact gradients, and their reports name what is wrong."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_course import InputTypeError, InputValueError, Tensor, no_grad
from tinygrad_course.autograd import Op
from tinygrad_course.testing import GradcheckError, gradcheck, gradgradcheck

# A multiplication whose VJP for b is off by 1e-4: wrong, but only by a little.
slightly_off = Op("slightly_off_mul", "×", np.multiply,
                  lambda g, out, a, b: g * b,
                  lambda g, out, a, b: g * a + 1e-4)


def test_the_lessons_computation_graph_passes() -> None:
    # J = 3(a + bc): dJ/da = 3, dJ/db = 3c, dJ/dc = 3b.
    assert gradcheck(lambda a, b, c: 3 * (a + b * c), 5.0, 3.0, 2.0)


def test_logistic_regression_cost_passes_for_w_and_b() -> None:
    # The course's J(w, b) for X (n_x, m) = (3, 5) and labels Y (1, m).
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((3, 5)), (rng.random((1, 5)) > 0.5).astype(float)

    def cost(w: Tensor, b: Tensor) -> Tensor:
        a = (w.T @ x + b).sigmoid()
        return -(y * a.log() + (1 - y) * (1 - a).log()).mean()

    assert gradcheck(cost, rng.standard_normal((3, 1)), 0.1)


def test_a_detached_factor_is_reported_with_index_values_errors_and_tolerances() -> None:
    # d Σ x·x / dx = 2x, but detach() hides one factor, so backward gives x: at x = 3, 3 against 6.
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: (x * x.detach()).sum(), Tensor([1.0, 2.0, 3.0], name="x"))
    message = str(caught.value)
    assert "input 0 'x' (shape (3,)): 3 of 3 checked values off" in message
    first_row = message.splitlines()[2]
    assert re.fullmatch(r"\s+index \(2,\): analytic 3, numeric 6, absolute error 3, relative error 0\.5",
                        first_row), first_row
    assert "eps=1e-06, atol=1e-05, rtol=0.001" in message
    assert "cotangent" not in message  # a scalar output: the values are the gradient itself
    assert isinstance(caught.value, AssertionError)  # a plain `assert` failure to pytest


def test_only_the_wrong_input_is_reported() -> None:
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda a, b: a * b.detach() + b * b, [1.0, 2.0], [3.0, 4.0])
    assert "input 1" in str(caught.value)
    assert "input 0" not in str(caught.value)


def test_non_scalar_outputs_are_checked_through_a_random_cotangent() -> None:
    assert gradcheck(lambda w, a: (w @ a).tanh(), np.ones((2, 3)) * 0.3, np.arange(12.0).reshape(3, 4) / 10)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda w: w * w.detach(), np.arange(6.0).reshape(2, 3))
    lines = str(caught.value).splitlines()
    # The line that says what the "analytic" and "numeric" values are, just above the tolerances.
    assert lines[-2] == ("  fn's output has shape (2, 3), not a scalar: the values checked are "
                         "vector-Jacobian products vᵀJ with a fixed random cotangent v of that shape"), lines
    assert lines[-1].startswith("  tolerances:")


def test_a_non_scalar_output_failing_at_second_order_says_what_was_differentiated() -> None:
    numpy_vjp = Op("numpy_vjp_square", "²", np.square, lambda g, out, a: g * 2 * np.asarray(a))
    with pytest.raises(GradcheckError, match="the second derivative computed by backward") as caught:
        gradgradcheck(numpy_vjp, [1.0, 2.0, -0.5])   # no reduction: the output has shape (3,)
    assert ("  fn's output has shape (3,), not a scalar: the values checked are derivatives of vᵀf "
            "with a fixed random cotangent v of that shape") in str(caught.value).splitlines()


def test_tolerances_decide() -> None:
    # ∂/∂b Σ a·b = a = [0.01, 0.02]; the VJP adds 1e-4. Passes when 1e-4 ≤ atol + rtol·|a|.
    def cost(a: Tensor, b: Tensor) -> Tensor:
        return slightly_off(a, b).sum()

    a, b = [0.01, 0.02], [3.0, 4.0]
    with pytest.raises(GradcheckError, match=r"absolute error 0\.0001"):
        gradcheck(cost, a, b)                            # 1e-4 > 1e-5 + 1e-3 · 0.01
    assert gradcheck(cost, a, b, atol=1e-3)
    assert gradcheck(cost, a, b, atol=0.0, rtol=0.02)    # 1e-4 ≤ 0.02 · 0.01


def test_random_mode_checks_large_inputs_and_catches_wrong_gradients() -> None:
    big = np.random.default_rng(0).standard_normal((60, 70))
    assert gradcheck(lambda x: (x.tanh() * x).sum(), big, mode="random")
    with pytest.raises(GradcheckError, match=r"direction \d \(∇·u\)") as caught:
        gradcheck(lambda x: (x * x.detach()).sum(), big, mode="random", directions=2)
    assert "2 of 2 checked values off" in str(caught.value)


def test_inputs_are_checked_in_float64_and_unused_inputs_get_zero() -> None:
    x32 = Tensor([0.5, 1.5], dtype=np.float32)
    assert gradcheck(lambda x, unused: x.exp(), x32, [7.0])


def test_works_inside_no_grad() -> None:
    with no_grad():
        assert gradcheck(lambda x: x.sigmoid(), [0.2, -0.4])
        assert gradgradcheck(lambda x: x.sigmoid(), [0.2, -0.4])


def test_gradgradcheck_passes_the_more_derivatives_lesson() -> None:
    # d/da a³ = 3a², d²/da² = 6a, d³/da³ = 6, d⁴/da⁴ = 0: every order up to 4.
    assert gradgradcheck(lambda a: a ** 3, 2.0, order=4)
    assert gradgradcheck(lambda a, b: (a * b).exp() / b, [0.3, -0.2], [1.5, 2.0])
    assert gradgradcheck(lambda a, b: a * b + a, 1.0, 2.0, order=3)   # linear: constant derivatives


def test_gradgradcheck_names_the_order_that_fails() -> None:
    numpy_vjp = Op("numpy_vjp_mul", "×", np.multiply,
                   lambda g, out, a, b: g * np.asarray(b),  # right values, but invisible to create_graph
                   lambda g, out, a, b: g * np.asarray(a))
    assert gradcheck(numpy_vjp, [1.0, 2.0], [3.0, -1.0])
    with pytest.raises(GradcheckError, match="the second derivative computed by backward disagrees"):
        gradgradcheck(numpy_vjp, [1.0, 2.0], [3.0, -1.0])


def test_nan_gradients_fail() -> None:
    nan_vjp = Op("nan_vjp", "?", np.negative, lambda g, out, a: g * np.nan)
    with pytest.raises(GradcheckError, match="analytic nan"):
        gradcheck(nan_vjp, [1.0])


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: gradcheck(lambda x: x), InputTypeError, "at least one input"),
        (lambda: gradcheck(lambda x: x._data, [1.0]), InputTypeError, "must return a Tensor, got ndarray"),
        (lambda: gradcheck(lambda x: x, [1.0], mode="fast"), InputValueError,
         "'full' or 'random', got 'fast'"),
        (lambda: gradcheck(lambda x: x, [1.0], eps=0.0), InputValueError, "eps must be a positive step"),
        (lambda: gradcheck(lambda x: x, [1.0], atol=-1.0), InputValueError, "atol and rtol must be ≥ 0"),
        (lambda: gradcheck(lambda x: x, [1.0], directions=0), InputValueError, "directions must be"),
        (lambda: gradgradcheck(lambda x: x, [1.0], order=0), InputValueError,
         "order must be a whole number ≥ 1"),
        (lambda: gradcheck(lambda x: x, "abc"), InputTypeError, "expected a number"),
        (lambda: gradcheck(3, [1.0]), InputTypeError,
         "gradcheck: fn must be a function returning a Tensor, got int 3; the inputs come after it"),
        (lambda: gradgradcheck(Tensor([1.0]), lambda x: x), InputTypeError,
         "gradgradcheck: fn must be a function returning a Tensor, got Tensor"),
        (lambda: gradcheck(lambda x: x, [1.0], eps="a"), InputTypeError,
         "gradcheck: eps must be a real number, got 'a'."),
        (lambda: gradcheck(lambda x: x, [1.0], eps=float("nan")), InputValueError,
         "gradcheck: eps must be a finite number, got nan."),
        (lambda: gradgradcheck(lambda x: x, [1.0], eps=None), InputTypeError,
         "gradgradcheck: eps must be a real number, got None."),
        (lambda: gradcheck(lambda x: x, [1.0], atol="1e-5"), InputTypeError,
         "gradcheck: atol must be a real number, got '1e-5'."),
        (lambda: gradcheck(lambda x: x, [1.0], rtol=-0.5), InputValueError,
         "gradcheck: atol and rtol must be ≥ 0, got rtol=-0.5."),
        (lambda: gradcheck(lambda x: x, [1.0], rtol=float("inf")), InputValueError,
         "gradcheck: rtol must be a finite number, got inf."),
        (lambda: gradcheck(lambda x: x, [1.0], mode=3), InputTypeError,
         "gradcheck: mode must be 'full' or 'random', got int 3."),
        (lambda: gradcheck(lambda x: x, [1.0], mode="random", directions=2.0), InputTypeError,
         "gradcheck: directions must be a whole number ≥ 1, got float 2.0."),
        (lambda: gradcheck(lambda x: x, [1.0], seed="x"), InputTypeError,
         "gradcheck: seed must be a whole number ≥ 0, got str 'x'."),
        (lambda: gradcheck(lambda x: x, [1.0], seed=-1), InputValueError,
         "gradcheck: seed must be a whole number ≥ 0, got -1."),
        (lambda: gradgradcheck(lambda x: x, [1.0], order="2"), InputTypeError,
         "gradgradcheck: order must be a whole number ≥ 1, got str '2'."),
        (lambda: gradgradcheck(lambda x: x, [1.0], order=True), InputTypeError,
         "gradgradcheck: order must be a whole number ≥ 1, got bool True."),
    ],
)
def test_bad_arguments_are_named(call: object, error: type, words: str) -> None:
    with pytest.raises(error, match=re.escape(words)):
        call()  # type: ignore[operator]


def test_settings_are_checked_before_fn_runs() -> None:
    calls = []

    def fn(x: Tensor) -> Tensor:
        calls.append(x)
        return x

    with pytest.raises(InputTypeError, match=re.escape("gradgradcheck: seed must be a whole number ≥ 0")):
        gradgradcheck(fn, [1.0], seed=0.5)
    assert calls == []
