"""numpy's functions on Tensors that do not record a graph: ``VALUES``, ``HINTS`` and every refusal.

* ``VALUES`` (derivative zero wherever it exists): each returns what numpy returns on the
  values, never a Tensor; comparisons and conversions keep working as before.
* ``HINTS`` and every other refusal: a library error, also a TypeError, whose message names the
  function and what to write instead.

Both tests walk the tables of ``ops.numpy_names``: an entry without a case fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tinygrad_course import Tensor
from tinygrad_course.errors import InputTypeError, TinygradCourseError
from tinygrad_course.ops import numpy_names

# --------------------------------------------------------------------------- values: plain ndarrays

X = np.array([[0.25, -1.5, 2.5], [3.0, -0.5, 0.75]])
VALUE_CASES: dict[Any, Callable[[Any], Any]] = {
    np.greater: lambda a: np.greater(a, 0.5),
    np.greater_equal: lambda a: np.greater_equal(0.5, a),
    np.less: lambda a: a > X.T.T,       # ndarray < tensor: numpy hands the comparison to the tensor
    np.less_equal: lambda a: np.less_equal(a, X[0]),
    np.equal: lambda a: a == X,
    np.not_equal: lambda a: np.not_equal(a, X),
    np.isnan: np.isnan,
    np.isinf: np.isinf,
    np.isfinite: np.isfinite,
    np.sign: np.sign,
    np.floor: np.floor,
    np.ceil: np.ceil,
    np.rint: np.rint,
    np.round: lambda a: np.round(a, 1),
    np.around: np.around,
    np.argmax: lambda a: np.argmax(a, axis=0),
    np.argmin: np.argmin,
    np.shape: np.shape,
    np.ndim: np.ndim,
    np.size: np.size,
    np.allclose: lambda a: np.allclose(a, X),
    np.isclose: lambda a: np.isclose(a, [0.25, 0.0, 2.5]),
    np.array_equal: lambda a: np.array_equal(a, X),
    np.zeros_like: np.zeros_like,
    np.ones_like: np.ones_like,
}


@pytest.mark.parametrize("function", sorted(numpy_names.VALUES, key=numpy_names.numpy_name),
                         ids=numpy_names.numpy_name)
def test_zero_derivative_functions_return_numpys_values(function: Any) -> None:
    name = numpy_names.numpy_name(function)
    assert function in VALUE_CASES, f"VALUES has {name} but VALUE_CASES has no case for it"
    call = VALUE_CASES[function]
    got, expected = call(Tensor(X, requires_grad=True)), call(X)
    assert not isinstance(got, Tensor)
    assert type(got) is type(expected) and np.array_equal(got, expected)


def test_comparisons_keep_returning_boolean_ndarrays_and_conversions_keep_working() -> None:
    t = Tensor(X, requires_grad=True)
    for result in (t > 0, t < X, t >= 0.5, t == X, np.greater(t, 0)):
        assert type(result) is np.ndarray and result.dtype == bool
    assert np.asarray(t) is t._data and np.array_equal(np.array(t), X) and type(np.array(t)) is np.ndarray
    assert float(Tensor([[2.5]])) == 2.5
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


def test_numpy_calls_record_the_graph_of_the_course_formula() -> None:
    W = Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    A = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 1.5]])
    J = np.sum(np.tanh(np.dot(W, A)), axis=1, keepdims=True)
    assert isinstance(J, Tensor) and J.shape == (2, 1)
    J.backward(gradient=np.ones((2, 1)))
    expected = (1 - np.tanh(W._data @ A) ** 2) @ A.T  # dW = (dA ⊙ (1 − A²)) · Xᵀ
    np.testing.assert_allclose(W.grad, expected, rtol=1e-14)


# --------------------------------------------------------------------------- refused, with the reason

T = Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)

HINT_CALLS: dict[Any, Callable[[], Any]] = {
    np.var: lambda: np.var(T),
    np.std: lambda: np.std(T, axis=0),
    np.linalg.norm: lambda: np.linalg.norm(T),
    np.expm1: lambda: np.expm1(T),
    np.log2: lambda: np.log2(T),
    np.log10: lambda: np.log10(T),
    np.outer: lambda: np.outer(T, T),
    np.average: lambda: np.average(T),
    np.copy: lambda: np.copy(T),
}


@pytest.mark.parametrize("function", list(numpy_names.HINTS), ids=numpy_names.numpy_name)
def test_every_hinted_function_is_refused_with_its_hint(function: Any) -> None:
    assert function in HINT_CALLS, f"HINTS has {numpy_names.numpy_name(function)} but HINT_CALLS no call"
    with pytest.raises(InputTypeError) as caught:
        HINT_CALLS[function]()
    message = str(caught.value)
    assert message.startswith(f"{numpy_names.numpy_name(function)} has no rule for Tensors")
    assert f"Instead, write {numpy_names.HINTS[function]}." in message


def _inplace_add() -> None:
    X_copy = X[:, :2].copy()
    X_copy += T


REFUSED: dict[str, tuple[Callable[[], Any], list[str]]] = {
    "a ufunc with no rule": (lambda: np.sin(T), ["np.sin has no rule for Tensors", "cut the graph",
                                                "np.exp", "Your own op", "np.asarray(t)"]),
    "a function with no rule": (lambda: np.cumsum(T), ["np.cumsum has no rule for Tensors"]),
    "a ufunc method": (lambda: np.add.reduce(T), ["np.add.reduce(...) on a Tensor has no rule", "np.sum"]),
    "np.add.at (in place)": (lambda: np.add.at(np.zeros(2), [0, 1], T[0]), ["np.add.at(...)"]),
    "a ufunc keyword": (lambda: np.exp(T, dtype=np.float32), ["np.exp(..., dtype=...)", "out=None is fine"]),
    "a ufunc where=": (lambda: np.add(T, 1, where=X[:, :2] > 0), ["np.add(..., where=...)"]),
    "a function keyword": (lambda: np.sum(T, dtype=np.float32),
                           ["np.sum(..., dtype=...)", "np.sum(a, axis=None, *, keepdims=False)",
                            "refused, not ignored"]),
    "a positional dtype": (lambda: np.sum(T, 0, np.float32), ["np.sum(..., ..., ...)"]),
    "np.mean(where=)": (lambda: np.mean(T, where=X[:, :2] > 0), ["np.mean(..., where=...)"]),
    "np.dot beyond 2 axes": (lambda: np.dot(np.ones((2, 2, 2)), T), ["np.dot of shapes (2, 2, 2) and (2, 2)",
                                                                     "np.matmul(a, b)"]),
    "np.reshape(order='F')": (lambda: np.reshape(T, (4,), order="F"), ["order='F'", "np.reshape(a.T"]),
    "out= into a Tensor": (lambda: np.exp(T, out=T), ["np.exp(..., out=tensor)", "never written in place"]),
    "out= into an ndarray": (lambda: np.exp(T, out=np.zeros((2, 2))), ["np.exp(..., out=array)",
                                                                      "gradient would be lost"]),
    "a function's out=": (lambda: np.sum(T, axis=0, out=np.zeros(2)), ["np.sum(..., out=array)"]),
    "in place into an ndarray": (_inplace_add, ["in-place np.add", "X += t", "X = X + t"]),
    "a values function's out= into a Tensor": (lambda: np.greater(T, 0, out=T), ["out=tensor"]),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_calls_say_what_and_what_to_use_instead(case: str) -> None:
    call, parts = REFUSED[case]
    with pytest.raises(TypeError) as caught:
        call()
    assert isinstance(caught.value, TinygradCourseError), f"numpy's own error: {caught.value!r}"
    for part in parts:
        assert part in str(caught.value)


def test_a_values_function_may_write_into_an_ndarray() -> None:
    out = np.zeros((2, 2), dtype=bool)
    assert np.greater(T, 0, out=out) is out and out.tolist() == [[True, False], [True, True]]


def test_where_with_only_a_tensor_condition_is_a_constant() -> None:
    assert np.array_equal(np.where(T, 1.0, 2.0), np.ones((2, 2)))
    assert [i.tolist() for i in np.where(T > 1)] == [[1], [0]]
