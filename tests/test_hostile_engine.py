"""Hostile inputs for the engine: the Tensor constructor, every operator and method, backward,
grad and the functional losses. Each input works (checked against numpy) or raises one of the
library's errors naming the argument, and leaves the tensors it was given unchanged."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hostile import (
    anything,
    attempt,
    float_arrays,
    hostile_settings,
    numbers,
    register_report,
    shapes,
    small_shapes,
    tensors,
    worked,
    wrong_objects,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_course as tc
from tinygrad_course import Tensor
from tinygrad_course import functional as F

FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


@pytest.fixture(autouse=True, scope="module")
def _report(request):
    register_report(request.config)


@pytest.fixture(autouse=True)
def _ieee():
    # NaN, inf and values beyond a dtype's range are IEEE arithmetic here, as in numpy: the
    # results are NaN or inf, and numpy's own floating-point warnings are not what is tested.
    with np.errstate(all="ignore"):
        yield


def values_of(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def rtol_for(dtype):
    return 1e-3 if dtype == np.float16 else 1e-5 if dtype == np.float32 else 1e-9


def same(result, expected, dtype=np.float64):
    actual, expected = values_of(result), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol_for(dtype), atol=1e-300, equal_nan=True)


# --------------------------------------------------------------------------- the constructor

dtypes = st.one_of(st.none(), st.sampled_from([np.float64, np.float32, np.float16, "float32", "float64",
                                                 "int32", int, bool, complex, object, str, "x", np.int8]),
                   wrong_objects)


@hostile_settings(300)
@given(data=st.one_of(anything, tensors()), requires_grad=st.one_of(st.booleans(), anything),
       name=st.one_of(st.none(), st.text(max_size=3), anything), dtype=dtypes)
def test_constructor(data, requires_grad, name, dtype):
    ok, t = attempt("Tensor constructor", lambda: Tensor(data, requires_grad=requires_grad, name=name,
                                                          dtype=dtype),
                    ["Tensor", "dtype", "requires_grad", "name"], [data])
    if ok:
        raw = values_of(data)
        expected_dtype = np.dtype(dtype) if dtype is not None else (
            raw.dtype if raw.dtype in FLOATS else np.dtype(np.float64))
        assert t.dtype == expected_dtype and t.requires_grad is bool(requires_grad) and t.name == name
        assert isinstance(requires_grad, (bool, np.bool_)) and (name is None or isinstance(name, str))
        np.testing.assert_array_equal(t.data, raw.astype(expected_dtype))


# --------------------------------------------------------------------------- operators

BINARY = {
    "add": (operator.add, np.add), "sub": (operator.sub, np.subtract), "mul": (operator.mul, np.multiply),
    "div": (operator.truediv, np.divide), "pow": (operator.pow, np.power),
    "matmul": (operator.matmul, np.matmul),
    "maximum": (lambda a, b: a.maximum(b), np.maximum), "minimum": (lambda a, b: a.minimum(b), np.minimum),
}


@hostile_settings(300)
@given(t=tensors(), other=st.one_of(anything, tensors()), name=st.sampled_from(sorted(BINARY)),
       reflected=st.booleans())
def test_operators(t, other, name, reflected):
    apply, reference = BINARY[name]
    reflected = reflected and name not in ("maximum", "minimum")
    call = (lambda: apply(other, t)) if reflected else (lambda: apply(t, other))
    ok, out = attempt("operators", call, [name, "operand"], [t, other])
    if not ok:
        return
    o = other.data if isinstance(other, Tensor) else np.asarray(other).astype(t.dtype)
    expected = reference(o, t.data) if reflected else reference(t.data, o)
    same(out, expected, out.dtype)
    if out.requires_grad:
        out.backward(np.ones(out.shape, dtype=out.dtype))
        assert t.grad is None or t.grad.shape == t.shape  # broadcasting summed back (or no grad)


# --------------------------------------------------------------------------- shapes and indexing

sizes = st.one_of(st.integers(-2, 5), st.sampled_from([2.0, True, None, "2", -1]), numbers)
shape_arguments = st.one_of(
    st.lists(st.integers(-1, 4), max_size=4).map(tuple), st.lists(sizes, max_size=3).map(tuple),
    st.tuples(st.lists(st.integers(-1, 4), max_size=3)), st.tuples(anything), st.just(()),
    st.tuples(hnp.arrays(np.int64, st.just((2,)), elements=st.integers(-1, 4))),
)
index_parts = st.one_of(
    st.integers(-4, 4), st.slices(4), st.none(), st.just(Ellipsis), st.lists(st.integers(-4, 4), max_size=3),
    hnp.arrays(np.bool_, st.integers(0, 3)), st.floats(-3, 3), st.text(max_size=1),
    st.sampled_from([Tensor(1.0), Tensor([0.0, 1.0]), Tensor(0.5), Tensor(np.nan), Tensor(1e300),
                     Tensor([[True, False]])]),
    wrong_objects,
)
indices = st.one_of(index_parts, st.tuples(index_parts, index_parts), st.tuples(index_parts, index_parts,
                                                                                 index_parts))


@hostile_settings(250)
@given(t=tensors(), how=st.sampled_from(["reshape", "transpose", "broadcast_to", "index", "T", "len",
                                         "item", "bool"]),
       arguments=shape_arguments, index=indices)
def test_shapes_and_indexing(t, how, arguments, index):
    calls = {
        "reshape": (lambda: t.reshape(*arguments),
                    lambda a: a.reshape(*arguments) if arguments else a.reshape(())),
        "transpose": (lambda: t.transpose(*arguments), lambda a: a.transpose(*arguments)),
        "broadcast_to": (lambda: t.broadcast_to(arguments), lambda a: np.broadcast_to(a, arguments)),
        "index": (lambda: t[index], lambda a: a[index]),  # a Tensor in the index is refused
        "T": (lambda: t.T, lambda a: a.T),
        "len": (lambda: len(t), len),
        "item": (lambda: t.item(), lambda a: a.item()),
        "bool": (lambda: bool(t), bool),
    }
    call, reference = calls[how]
    ok, out = attempt("shapes and indexing", call,
                      [how, "getitem", "index", "shape", "axes", "ints", "0-d", "truth value", "one element"],
                      [t])
    if ok:
        same(out, reference(t.data.copy()), t.dtype)


# --------------------------------------------------------------------------- reductions

axes = st.one_of(st.none(), st.integers(-4, 4), st.lists(st.integers(-3, 3), max_size=3).map(tuple),
                 st.lists(st.integers(-2, 2), max_size=2), st.booleans(), st.floats(-2, 2),
                 st.text(max_size=1), st.just(np.int64(0)), wrong_objects)


@hostile_settings(200)
@given(t=tensors(), name=st.sampled_from(["sum", "mean", "max"]), axis=axes,
       keepdims=st.one_of(st.booleans(), st.just(np.bool_(True)), anything))
def test_reductions(t, name, axis, keepdims):
    ok, out = attempt("reductions", lambda: getattr(t, name)(axis=axis, keepdims=keepdims),
                      [name, "axis", "keepdims"], [t])
    if ok:
        numpy_axis = tuple(axis) if isinstance(axis, list) else axis
        same(out, getattr(np, name)(t.data, axis=numpy_axis, keepdims=bool(keepdims)), t.dtype)
        if out.requires_grad:
            out.backward(np.ones(out.shape, dtype=out.dtype))
            assert t.grad.shape == t.shape


# --------------------------------------------------------------------------- elementwise functions

ELEMENTWISE = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "relu": lambda a: np.maximum(a, 0),
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "tanh": np.tanh, "softplus": lambda a: np.logaddexp(0, a),
    "neg": np.negative,
}
bounds = st.one_of(st.none(), st.floats(-5, 5), st.integers(-3, 3), st.sampled_from([np.nan, np.inf, True]),
                   anything)


@hostile_settings(250)
@given(t=tensors(), name=st.sampled_from([*ELEMENTWISE, "leaky_relu", "clip"]),
       slope=st.one_of(numbers, anything), low=bounds, high=bounds)
def test_elementwise_functions(t, name, slope, low, high):
    if name == "leaky_relu":
        call, mentions = (lambda: t.leaky_relu(slope)), ["slope"]
    elif name == "clip":
        call, mentions = (lambda: t.clip(low, high)), ["clip", "low", "high"]
    else:
        call, mentions = ((lambda: -t) if name == "neg" else getattr(t, name)), [name]
    ok, out = attempt("elementwise functions", call, mentions, [t])
    if not ok:
        return
    a = t.data
    if name == "leaky_relu":
        expected = np.where(a > 0, a, a * np.asarray(slope, dtype=a.dtype))
    elif name == "clip":
        expected = np.clip(a, low, high)
    else:
        expected = ELEMENTWISE[name](a)
    same(out, expected, t.dtype)


@hostile_settings(100)
@given(z=float_arrays(small_shapes, special=False).map(lambda a: a * 1e3),
       name=st.sampled_from(["sigmoid", "tanh", "softplus", "log_sigmoid"]))
def test_stable_functions_stay_finite_and_silent_for_huge_inputs(z, name):
    # Any overflow, 0/0 or log(0) here is a bug, not IEEE arithmetic (underflow to 0 is fine).
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        call = (lambda: Tensor(z).tanh()) if name == "tanh" else (lambda: getattr(F, name)(z))
        out = worked(attempt("elementwise functions", call, [name]))
    assert np.isfinite(out.data).all()


# --------------------------------------------------------------------------- where, concatenate, stack

operands = st.one_of(tensors(small_shapes), float_arrays(small_shapes), numbers, wrong_objects)


def joined_dtype(items):
    like = next((x for x in items if isinstance(x, Tensor)), None)
    if like is not None:
        return like.dtype
    first = np.asarray(items[0])
    return first.dtype if first.dtype in FLOATS else np.dtype(np.float64)


@hostile_settings(250)
@given(how=st.sampled_from(["where", "concatenate", "stack"]),
       items=st.one_of(st.lists(operands, max_size=3), st.tuples(operands, operands), operands),
       condition=st.one_of(hnp.arrays(np.bool_, small_shapes), st.booleans(), float_arrays(small_shapes),
                           tensors(small_shapes), wrong_objects),
       axis=st.one_of(st.integers(-3, 3), st.just(np.int64(1)), st.floats(-2, 2), st.none(),
                      st.text(max_size=1), st.booleans()))
def test_where_concatenate_stack(how, items, condition, axis):
    given_tensors = list(items) if isinstance(items, (list, tuple)) else [items]
    if how == "where":
        a, b = [*items, 1.0, 1.0][:2] if isinstance(items, (list, tuple)) else (items, 0.0)
        call, mentions = (lambda: tc.where(condition, a, b)), ["where", "condition", "operand", "Tensor"]
    else:
        join = getattr(tc, how)
        call, mentions = (lambda: join(items, axis=axis)), [how, "Tensor", "operand", "axis"]
    ok, out = attempt("where, concatenate, stack", call, mentions, [*given_tensors, condition])
    if not ok:
        return
    if how == "where":
        dtype = joined_dtype([a, b])
        expected = np.where(values_of(condition).astype(bool),
                            values_of(a).astype(dtype), values_of(b).astype(dtype))
    else:
        dtype = joined_dtype(items)
        arrays = [x.data if isinstance(x, Tensor) else np.asarray(x).astype(dtype) for x in items]
        expected = getattr(np, how)(arrays, axis=axis)
    same(out, expected, out.dtype)


# --------------------------------------------------------------------------- backward and grad

gradients = st.one_of(st.none(), float_arrays(small_shapes), numbers, tensors(small_shapes), wrong_objects)
flags = st.one_of(st.booleans(), anything)


@hostile_settings(250)
@given(t=tensors(small_shapes, special=False), how=st.sampled_from(["backward", "grad", "hook"]),
       gradient=gradients, create_graph=flags, outputs=st.sampled_from(["y", "[y]", "other", "[y, other]"]),
       inputs=st.sampled_from(["t", "[t]", "other", "[t, other]", "()"]), other=anything,
       hooked=st.one_of(st.none(), float_arrays(small_shapes), numbers, wrong_objects))
def test_backward_and_grad(t, how, gradient, create_graph, outputs, inputs, other, hooked):
    t.requires_grad = True
    y = t * 3.0  # dy/dt = 3 elementwise
    before = None if t.grad is None else np.array(t.grad)
    mentions = ["backward", "gradient", "grad", "create_graph", "shape", "hook", "operand", "Tensor"]
    if how == "backward":
        ok, _ = attempt("backward and grad", lambda: y.backward(gradient, create_graph=create_graph),
                        mentions, [t])
        if ok:
            # The seed takes y's dtype first (float32 in, float32 out): 1e-187 is 0 in float32.
            seed = np.ones(y.shape) if gradient is None else np.broadcast_to(values_of(gradient), y.shape)
            seed = seed.astype(t.dtype)
            expected = 3 * seed if before is None else before + 3 * seed
            same(t.grad if isinstance(t.grad, np.ndarray) else t.grad.data, expected, t.dtype)
    elif how == "grad":
        pick = {"y": y, "[y]": [y], "other": other, "[y, other]": [y, other], "t": t, "[t]": [t],
                "[t, other]": [t, other], "()": ()}
        ok, found = attempt("backward and grad",
                            lambda: tc.grad(pick[outputs], pick[inputs], grad_outputs=gradient,
                                            create_graph=create_graph), mentions, [t])
        if ok:
            assert isinstance(found, tuple) and all(isinstance(g, Tensor) for g in found)
            if inputs in ("t", "[t]") and outputs in ("y", "[y]"):
                seed = np.ones(y.shape) if gradient is None else np.broadcast_to(values_of(gradient), y.shape)
                same(found[0], 3 * seed.astype(t.dtype), t.dtype)
            # grad() returns the gradients and leaves .grad alone
            assert (t.grad is None and before is None) or np.array_equal(t.grad, before)
    else:
        ok, _ = attempt("backward and grad", lambda: t.register_hook(lambda g: hooked), mentions, [t])
        assert ok  # a function is a valid hook; what it returns is checked during backward
        ok, _ = attempt("backward and grad", lambda: y.sum().backward(), mentions, [t])
        if ok:
            replaced = np.broadcast_to(3.0 if hooked is None else values_of(hooked), t.shape).astype(t.dtype)
            same(t.grad, replaced if before is None else before + replaced, t.dtype)
    with pytest.raises(tc.InputTypeError):  # and register_hook refuses what is not a function
        t.register_hook(other if not callable(other) else 5)


# --------------------------------------------------------------------------- functional losses

LOSSES = ("binary_cross_entropy_with_logits", "binary_cross_entropy", "mse_loss")
reductions = st.one_of(st.sampled_from(["mean", "sum", "none"]), st.sampled_from(["avg", "", None, 1]),
                       wrong_objects)


def reduce_like_the_course(losses, reduction):
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / (losses.shape[-1] if losses.ndim else 1)


@hostile_settings(250)
@given(name=st.sampled_from([*LOSSES, "softmax", "log_softmax"]),
       predictions=st.one_of(tensors(shapes), float_arrays(), wrong_objects),
       targets=st.one_of(hnp.arrays(np.int64, shapes, elements=st.integers(-1, 2)), float_arrays(),
                         tensors(), wrong_objects, numbers),
       reduction=reductions, axis=st.one_of(st.integers(-3, 3), axes))
def test_functional_losses(name, predictions, targets, reduction, axis):
    if name in LOSSES:
        call = lambda: getattr(F, name)(predictions, targets, reduction=reduction)
        mentions = [name, "reduction", "operand", "Tensor", "targets", "probabilities", "examples"]
    else:
        call = lambda: getattr(F, name)(predictions, axis=axis)
        mentions = [name, "axis", "max", "Tensor", "sub", "exp"]
    ok, out = attempt("functional losses", call, mentions, [predictions, targets])
    if not ok:
        return
    z = values_of(predictions).astype(out.dtype)
    if name in LOSSES:
        y = values_of(targets).astype(out.dtype)
        assert z.shape == y.shape and not np.isnan(y).any()
        if name == "binary_cross_entropy_with_logits":
            assert ((y >= 0) & (y <= 1)).all()
            losses = np.logaddexp(0, z) - y * z
        elif name == "binary_cross_entropy":
            eps = np.finfo(out.dtype).eps
            a = np.clip(z, eps, 1 - eps)
            losses = -(y * np.log(a) + (1 - y) * np.log(1 - a))
        else:
            losses = (z - y) ** 2
        same(out, reduce_like_the_course(losses, reduction), out.dtype)
    else:
        axis = tuple(axis) if isinstance(axis, list) else axis  # numpy wants a tuple of axes
        shifted = z - z.max(axis=axis, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        same(out, np.exp(shifted - log_norm) if name == "softmax" else shifted - log_norm, out.dtype)
