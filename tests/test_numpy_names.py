"""numpy's functions on Tensors: every entry of the tables in ``ops.numpy_names``.

* ``UFUNCS`` and ``FUNCTIONS`` (differentiable): each has a strategy in ``CASES`` drawing a call
  of the numpy function itself (``np.exp(x)``, ``np.dot(W, A)``, ``X * t``, ...), with
  broadcastable pairs, numbers and ndarrays on either side. Every draw passes ``gradcheck``,
  ``gradgradcheck`` and float32-in-float32-out, as the ops of ``ops.TABLE`` do.
* ``VALUES``, ``HINTS`` and the refusals: in ``test_numpy_values_and_refusals.py``.

The tests are parametrized over the tables themselves: an entry without a case fails the suite.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from property_cases import assert_float32_in_float32_out, untied_pairs

from tinygrad_course import Tensor
from tinygrad_course.ops import numpy_names
from tinygrad_course.testing import broadcastable_shapes, gradcheck, gradgradcheck, shapes, tensors

SMALL = {"max_dims": 3, "max_side": 4}
WIDE = st.floats(-20.0, 20.0)
# The ops behind these rules are covered in depth by test_op_properties; here every draw also
# exercises numpy's dispatch, so fewer draws per property keep the suite's time flat.
FEWER = settings(max_examples=max(10, settings.default.max_examples // 3))


@dataclass
class Case:
    """``fn(*inputs)`` calls the numpy function; constants it needs are closed over."""

    text: str
    fn: Callable[..., Any]
    inputs: tuple[Tensor, ...]

    def __repr__(self) -> str:
        values = ", ".join(f"{x.shape}: {x._data.tolist()!r}" for x in self.inputs)
        return f"Case({self.text} at {values})"


OPERATORS = {np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
             np.divide: operator.truediv, np.power: operator.pow, np.matmul: operator.matmul}


def _mixed(name: str, call: Callable[[Any, Any], Any], a: Tensor, b: Tensor, form: str) -> Case:
    """The pair as two tensors, or with one side a constant ndarray or number (numpy's reflected forms)."""
    if form == "tensor, tensor":
        return Case(f"{name}(a, b)", call, (a, b))
    if form == "ndarray, tensor":
        return Case(f"{name}(ndarray, b)", lambda y: call(a._data, y), (b,))
    if form == "tensor, ndarray":
        return Case(f"{name}(a, ndarray)", lambda x: call(x, b._data), (a,))
    number = float(a._data.reshape(-1)[0])
    return Case(f"{name}(number {number}, b)", lambda y: call(number, y), (b,))


FORMS = ["tensor, tensor", "ndarray, tensor", "tensor, ndarray", "number, tensor"]


def _binary(ufunc: np.ufunc, domain_a: str = "real", domain_b: str = "real") -> st.SearchStrategy[Case]:
    @st.composite
    def strategy(draw: Any) -> Case:
        shape_a, shape_b = draw(broadcastable_shapes(2, **SMALL))
        a, b = draw(tensors(shape_a, domain=domain_a)), draw(tensors(shape_b, domain=domain_b))
        forms = FORMS + (["ndarray ⊕ tensor"] if ufunc in OPERATORS else [])
        form = draw(st.sampled_from(forms))
        if form == "ndarray ⊕ tensor":  # X * t: numpy's ndarray.__mul__ hands the call to the tensor
            return _mixed(f"ndarray {ufunc.__name__} b", OPERATORS[ufunc], a, b, "ndarray, tensor")
        return _mixed(f"np.{ufunc.__name__}", ufunc, a, b, form)
    return strategy()


def _selection(ufunc: np.ufunc) -> st.SearchStrategy[Case]:
    """np.maximum / np.minimum: a and b drawn as one set of distinct values, so they never tie."""
    return st.tuples(untied_pairs(**SMALL), st.sampled_from(FORMS)).map(
        lambda drawn: _mixed(f"np.{ufunc.__name__}", ufunc, *drawn[0], drawn[1]))


def _unary(fn: Callable[..., Any], domain: str | None = "real",
           elements: st.SearchStrategy[float] | None = None) -> st.SearchStrategy[Case]:
    name = numpy_names.numpy_name(fn)
    drawn = tensors(shapes(**SMALL), domain=domain, elements=elements)
    return drawn.map(lambda x: Case(f"{name}(x)", fn, (x,)))


@st.composite
def _matmul(draw: Any, fn: Callable[..., Any]) -> Case:
    """np.matmul / np.dot: matrix and vector shapes (np.dot also with a scalar), mixed forms."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    kinds = {"matrix, matrix": ((n, k), (k, m)), "matrix, vector": ((n, k), (k,)),
             "vector, matrix": ((k,), (k, m)), "vector, vector": ((k,), (k,))}
    if fn is np.dot:
        kinds |= {"scalar, array": ((), (n, k)), "array, scalar": ((n, k), ())}
    else:
        kinds |= {"batched, batched": ((2, n, k), (1, k, m))}
    kind = draw(st.sampled_from(sorted(kinds)))
    a, b = draw(tensors(kinds[kind][0])), draw(tensors(kinds[kind][1]))
    forms = FORMS[:3] + (["ndarray ⊕ tensor"] if fn is np.matmul else [])
    form = draw(st.sampled_from(forms))
    if form == "ndarray ⊕ tensor":
        return _mixed(f"[{kind}] ndarray @ b", operator.matmul, a, b, "ndarray, tensor")
    return _mixed(f"[{kind}] {numpy_names.numpy_name(fn)}", fn, a, b, form)


@st.composite
def _reduction(draw: Any, fn: Callable[..., Any], domain: str) -> Case:
    x = draw(tensors(shapes(**SMALL), domain=domain))
    axis: Any = None
    if x.ndim and draw(st.booleans()):
        pairs = st.permutations(range(x.ndim)).map(lambda p: tuple(p[:2]))
        axis = draw(st.integers(-x.ndim, x.ndim - 1) | pairs)
    keywords = {"keepdims": draw(st.booleans())} if draw(st.booleans()) else {}
    if draw(st.booleans()):
        keywords["out"] = None  # numpy's default, written out: accepted
    name = numpy_names.numpy_name(fn)
    return Case(f"{name}(x, axis={axis!r}, **{keywords})", lambda t: fn(t, axis, **keywords), (x,))


@st.composite
def _squeeze(draw: Any) -> Case:
    shape = draw(shapes(min_dims=1, **SMALL))
    ones = draw(st.lists(st.integers(0, len(shape)), max_size=2))
    for position in sorted(ones, reverse=True):
        shape = (*shape[:position], 1, *shape[position:])
    axis = draw(st.sampled_from([None, *[i for i, n in enumerate(shape) if n == 1]]))
    return Case(f"np.squeeze(x, {axis})", lambda t: np.squeeze(t, axis), (draw(tensors(shape)),))


@st.composite
def _transpose(draw: Any) -> Case:
    x = draw(tensors(shapes(**SMALL)))
    axes = draw(st.none() | st.permutations(range(x.ndim)).map(tuple))
    return Case(f"np.transpose(x, {axes})", lambda t: np.transpose(t, axes), (x,))


@st.composite
def _reshape(draw: Any) -> Case:
    x = draw(tensors(shapes(**SMALL)))
    rows = x.shape[0] if x.ndim else 1
    target = draw(st.sampled_from([(-1,), x.shape[::-1], (1, *x.shape), (x.size, -1), (rows, -1)]))
    return Case(f"np.reshape(x, {target})", lambda t: np.reshape(t, target), (x,))


@st.composite
def _joined(draw: Any, fn: Callable[..., Any]) -> Case:
    """np.concatenate / np.stack of tensors and, sometimes, one constant ndarray among them."""
    shape = draw(shapes(min_dims=1, **SMALL))
    pieces = [draw(tensors(shape)) for _ in range(draw(st.integers(1, 3)))]
    low, high = (-len(shape), len(shape) - 1) if fn is np.concatenate else (-len(shape) - 1, len(shape))
    axis = draw(st.integers(low, high) | (st.none() if fn is np.concatenate else st.nothing()))
    constant = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3))) if draw(st.booleans()) else None
    extra = [] if constant is None else [constant]
    what = f"[...{len(pieces)}{' + ndarray' if extra else ''}]"
    return Case(f"{numpy_names.numpy_name(fn)}({what}, axis={axis})",
                lambda *ts: fn([*ts, *extra], axis=axis), tuple(pieces))


@st.composite
def _where(draw: Any) -> Case:
    shape_c, shape_a, shape_b = draw(broadcastable_shapes(3, **SMALL))
    condition = draw(hnp.arrays(np.bool_, shape_c))
    a, b = draw(tensors(shape_a)), draw(tensors(shape_b))
    if draw(st.booleans()):  # the course's np.where(Z > 0, Z, 0.01 * Z) has tensors on both sides
        return Case("np.where(c, a, b)", lambda x, y: np.where(condition, x, y), (a, b))
    return Case("np.where(c, a, 0.5)", lambda x: np.where(condition, x, 0.5), (a,))


@st.composite
def _clip(draw: Any) -> Case:
    x = draw(tensors(shapes(**SMALL), domain="away_from_kinks"))
    if draw(st.booleans()):  # number bounds: multiples of ½, kept away from the values
        low, high = sorted(draw(st.lists(st.integers(-4, 4).map(lambda k: k / 2), min_size=2, max_size=2)))
        return Case(f"np.clip(x, {low}, {high})", lambda t: np.clip(t, low, high), (x,))
    low = np.full(x.shape, -0.5)  # array bounds: elementwise, as np.minimum(np.maximum(x, low), high)
    high = np.full(x.shape[-1:], 1.5)
    return Case("np.clip(x, low_array, high_array)", lambda t: np.clip(t, low, high), (x,))


#: One strategy per numpy function with a rule.
CASES: dict[Any, st.SearchStrategy[Case]] = {
    np.add: _binary(np.add),
    np.subtract: _binary(np.subtract),
    np.multiply: _binary(np.multiply),
    np.divide: _binary(np.divide, domain_b="nonzero"),
    np.power: _binary(np.power, domain_a="positive"),
    np.negative: _unary(np.negative),
    np.matmul: _matmul(np.matmul),
    np.exp: _unary(np.exp),
    np.log: _unary(np.log, domain="positive"),
    np.sqrt: _unary(np.sqrt, domain="positive"),
    np.tanh: _unary(np.tanh, domain=None, elements=WIDE),
    np.absolute: _unary(np.abs, domain="away_from_kinks"),
    np.maximum: _selection(np.maximum),
    np.minimum: _selection(np.minimum),
    np.square: _unary(np.square),
    np.log1p: _unary(np.log1p, domain="positive"),
    np.dot: _matmul(np.dot),
    np.sum: _reduction(np.sum, "real"),
    np.mean: _reduction(np.mean, "real"),
    np.max: _reduction(np.max, "away_from_kinks"),
    np.amax: _reduction(np.amax, "away_from_kinks"),
    np.min: _reduction(np.min, "away_from_kinks"),
    np.amin: _reduction(np.amin, "away_from_kinks"),
    np.squeeze: _squeeze(),
    np.transpose: _transpose(),
    np.reshape: _reshape(),
    np.concatenate: _joined(np.concatenate),
    np.stack: _joined(np.stack),
    np.where: _where(),
    np.clip: _clip(),
}

DIFFERENTIABLE = [*numpy_names.UFUNCS, *numpy_names.FUNCTIONS]
IDS = [numpy_names.numpy_name(f) for f in DIFFERENTIABLE]


def _strategy(function: Any) -> st.SearchStrategy[Case]:
    if function not in CASES:
        pytest.fail(f"ops.numpy_names has {numpy_names.numpy_name(function)} but CASES in {__name__} has no "
                    "property entry for it; add a strategy that calls it.")
    return CASES[function]


def test_every_case_names_a_function_with_a_rule() -> None:
    stale = [numpy_names.numpy_name(f) for f in CASES if f not in DIFFERENTIABLE]
    assert not stale, f"stale entries: {stale}"


@pytest.mark.parametrize("function", DIFFERENTIABLE, ids=IDS)
def test_gradients_match_finite_differences_and_keep_input_shapes(function: Any) -> None:
    @FEWER
    @given(_strategy(function))
    def check(case: Case) -> None:
        out = case.fn(*case.inputs)
        assert isinstance(out, Tensor) and out.requires_grad, f"{case.text} returned {type(out).__name__}"
        out.backward(gradient=np.random.default_rng(0).standard_normal(out.shape))
        for x in case.inputs:
            assert x.grad.shape == x.shape and x.grad.dtype == np.float64
        assert gradcheck(case.fn, *case.inputs)
    check()


@pytest.mark.parametrize("function", DIFFERENTIABLE, ids=IDS)
def test_second_derivatives_match_finite_differences(function: Any) -> None:
    @FEWER
    @given(_strategy(function))
    def check(case: Case) -> None:
        assert gradgradcheck(case.fn, *case.inputs, mode="random")
    check()


@pytest.mark.parametrize("function", DIFFERENTIABLE, ids=IDS)
def test_float32_in_float32_out(function: Any) -> None:
    @FEWER
    @given(_strategy(function))
    def check(case: Case) -> None:
        assert_float32_in_float32_out(case.fn, case.inputs)
    check()


def test_the_values_match_numpy_on_arrays() -> None:
    """The forward of every rule is numpy's own result (np.log1p to the digits log(1 + a) keeps)."""
    x = np.array([[0.5, -1.25, 2.0], [1.5, 0.25, -0.75]])
    t = Tensor(x)
    for call in (np.exp, np.tanh, np.square, np.abs, np.negative, lambda a: np.maximum(0, a),
                 lambda a: np.sum(a, axis=1, keepdims=True), lambda a: np.mean(a, 0), np.max, np.min,
                 lambda a: np.dot(a, a.T), lambda a: np.clip(a, -1, 1), np.squeeze, np.transpose,
                 lambda a: np.reshape(a, (3, 2)), lambda a: np.concatenate([a, x]),
                 lambda a: np.stack([a, a]), lambda a: np.where(x > 0, a, 0.0),
                 lambda a: np.power(np.abs(a), 1.5), lambda a: np.log1p(a * a),
                 lambda a: np.divide(1, a), lambda a: np.subtract(x, a) + np.sqrt(np.abs(a))):
        np.testing.assert_allclose(call(t)._data, call(x), rtol=1e-15, atol=1e-15)


# Stop at the first draw that has the variant (no shrinking); a fixed seed, the same search each run.
FIRST_HIT = settings(max_examples=1000, derandomize=True, database=None, phases=[Phase.generate])
VARIANTS: dict[Any, list[str]] = {
    **{ufunc: ["(a, b)", "(ndarray, b)", "(a, ndarray)", "(number ", f"ndarray {ufunc.__name__} b"]
       for ufunc in OPERATORS if ufunc is not np.matmul},
    np.matmul: ["[batched, batched]", "[vector, matrix]", "] ndarray @ b", "(ndarray, b)"],
    np.dot: ["[scalar, array]", "[array, scalar]", "[matrix, matrix]", "[vector, vector]"],
    np.maximum: ["(a, b)", "(ndarray, b)", "(number "],
    np.concatenate: ["+ ndarray]", "axis=None"],
}


@pytest.mark.parametrize("function", list(VARIANTS), ids=numpy_names.numpy_name)
def test_the_strategy_reaches_every_form(function: Any) -> None:
    """Reflected forms (ndarray ⊕ tensor), numbers and ndarrays on either side, each kind of product."""
    for part in VARIANTS[function]:
        found = find(CASES[function], lambda case, part=part: part in case.text, settings=FIRST_HIT)
        assert isinstance(found.fn(*found.inputs), Tensor)


def test_the_course_flatten_and_its_gradient() -> None:
    images = Tensor(np.arange(24.0).reshape(2, 3, 4) / 10, requires_grad=True)  # m = 2 "images" of 3 × 4
    X_flatten = images.reshape(images.shape[0], -1).T       # the course's X.reshape(X.shape[0], -1).T
    assert X_flatten.shape == (12, 2)
    np.sum(np.square(X_flatten)).backward()
    np.testing.assert_allclose(images.grad, 2 * images.data)
