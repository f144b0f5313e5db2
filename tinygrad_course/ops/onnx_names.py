"""How each op of the table is written in ONNX: one converter per op, keyed by the op's name.

A converter receives a ``Builder`` (the exporter's, so this module never imports ``onnx``), the
ONNX names of the op's inputs and the op's parameters, and returns the name of the result. Each
one reproduces the op's numpy forward exactly as ``ops/__init__.py`` computes it: where ONNX's
own operator computes something else, the converter spells out the engine's formula instead.
Measured in ONNX Runtime 1.32 (CPU), every operator used here has float32 and float64 kernels,
but three compute other numbers than the engine:

- ``Sigmoid`` loses the relative precision of small results: float64 σ(−20) comes out 3.6e-8
  relatively wrong and σ(−50) as 0; float32 σ(−15) 17 % off. The engine's stable
  ``where(z ≥ 0, 1, e) / (1 + e)`` with ``e = exp(−|z|)`` is written out instead.
- ``Softplus`` overflows (softplus(800) = inf) and rounds small results to 0, so the engine's
  ``max(z, 0) + log1p(exp(−|z|))`` is written out; ONNX has no ``Log1p``, so ``log1p`` is the
  classic accurate form ``log(u) · e / (u − 1)`` with ``u = 1 + e`` (``e`` itself where u = 1).
- ``LeakyRelu`` keeps its slope in a float32 attribute, which rounds a float64 slope such as
  0.01; a slope float32 cannot hold exactly is written as ``where(a > 0, a, a · slope)``.

And one ONNX Runtime 1.32 cannot load: a float64 ``Clip`` after a ``Relu`` stops the session
from starting (its Relu-Clip fusion expects float32 bounds), so float64 clips are ``Max``/``Min``.

An op ONNX cannot express gets a ``NotExpressible`` entry with the reason; exporting a graph that
uses it raises an error naming the op and the node. Today every op of the table is expressible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np


class Builder(Protocol):
    """What a converter may ask of the exporter while it converts one node of the graph."""

    dtype: np.dtype                      # the node's float dtype (its inputs are cast to it)
    shapes: tuple[tuple[int, ...], ...]  # the traced shapes of the node's inputs

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        """Append an ONNX node; returns the name of its (single) output."""

    def constant(self, value: float) -> str:
        """A scalar constant of the node's dtype."""

    def array(self, values: Any) -> str:
        """A constant array: booleans stay bool, numbers take the node's dtype."""

    def ints(self, values: Any) -> str:
        """A constant int64 array: a shape, axes, positions."""


class NotExpressible:
    """The entry of an op that ONNX cannot express, with the reason, which the export error shows."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


Converter = Callable[[Builder, Sequence[str], dict[str, Any]], str]


def _same(op_type: str, **attributes: Any) -> Converter:
    """An op that ONNX has under another name and computes the same way."""
    return lambda b, x, p: b.op(op_type, *x, **attributes)


def _log1p(b: Builder, e: str) -> str:
    u = b.op("Add", b.constant(1.0), e)
    u_minus_1 = b.op("Sub", u, b.constant(1.0))
    rounds_to_one = b.op("Equal", u_minus_1, b.constant(0.0))
    # Goldberg's log1p: log(u) · e / (u − 1) corrects the rounding of u = 1 + e (0/0 avoided).
    ratio = b.op("Div", e, b.op("Where", rounds_to_one, b.constant(1.0), u_minus_1))
    return b.op("Where", rounds_to_one, e, b.op("Mul", b.op("Log", u), ratio))


def _softplus_of(b: Builder, z: str) -> str:
    e = b.op("Exp", b.op("Neg", b.op("Abs", z)))
    return b.op("Add", b.op("Max", z, b.constant(0.0)), _log1p(b, e))


def _sigmoid(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
    e = b.op("Exp", b.op("Neg", b.op("Abs", x[0])))
    top = b.op("Where", b.op("GreaterOrEqual", x[0], b.constant(0.0)), b.constant(1.0), e)
    return b.op("Div", top, b.op("Add", b.constant(1.0), e))


def _leaky_relu(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
    slope = p["slope"]
    if b.dtype == np.float32 or float(np.float32(slope)) == slope:
        return b.op("LeakyRelu", x[0], alpha=float(slope))
    scaled = b.op("Mul", x[0], b.constant(slope))
    return b.op("Where", b.op("Greater", x[0], b.constant(0.0)), x[0], scaled)


def _bce_with_logits(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
    z, y = x
    return b.op("Sub", _softplus_of(b, z), b.op("Mul", y, z))        # softplus(z) − y·z


def _bce(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
    a, y = x
    y_log_a = b.op("Mul", y, b.op("Log", a))
    rest = b.op("Mul", b.op("Sub", b.constant(1.0), y), _log1p(b, b.op("Neg", a)))
    return b.op("Neg", b.op("Add", y_log_a, rest))                 # −(y log a + (1 − y) log(1 − a))


def _transpose(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
    ndim = len(b.shapes[0])
    axes = p["axes"]
    perm = list(reversed(range(ndim))) if axes is None else [axis % ndim for axis in axes]
    return b.op("Transpose", x[0], perm=perm)


def _reshape(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
    shape = tuple(p["shape"])
    # ONNX reads a 0 in the shape as "keep this axis" unless allowzero says it means size 0.
    return b.op("Reshape", x[0], b.ints(shape), allowzero=int(0 in shape))


def _positions(shape: tuple[int, ...], index: Any) -> np.ndarray:
    """The flat positions that ``array[index]`` reads, for an array of ``shape``: numpy's own
    indexing rules (basic, integer arrays, masks) applied to the numbers 0, 1, 2, ..."""
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)[index]


_END = np.iinfo(np.int64).max  # ONNX's Slice clamps its bounds to the axis, as numpy's slices do


def _basic_parts(index: Any, ndim: int) -> tuple[Any, ...] | None:
    """The index as one entry per axis (ints, slices, ``None`` for a new axis), if it is a basic one."""
    parts = index if isinstance(index, tuple) else (index,)
    if not all(p is None or p is Ellipsis or isinstance(p, slice)
               or (isinstance(p, (int, np.integer)) and not isinstance(p, bool)) for p in parts):
        return None                                  # integer arrays, masks, booleans
    filled = (slice(None),) * (ndim - sum(p is not None and p is not Ellipsis for p in parts))
    if any(p is Ellipsis for p in parts):
        i = next(i for i, p in enumerate(parts) if p is Ellipsis)
        return parts[:i] + filled + parts[i + 1:]
    return parts + filled


def _getitem(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
    parts = _basic_parts(p["index"], len(b.shapes[0]))
    if parts is None:                # numpy's advanced indexing, on the traced shape
        flat = b.op("Reshape", x[0], b.ints((-1,)))
        return b.op("Gather", flat, b.ints(_positions(b.shapes[0], p["index"])), axis=0)
    result, axis = x[0], 0           # axis by axis: the same nodes for any size of the axes
    for part in parts:
        if part is None:
            result = b.op("Unsqueeze", result, b.ints((axis,)))
        elif isinstance(part, slice):
            if part != slice(None):
                step = 1 if part.step is None else part.step
                start = part.start if part.start is not None else 0 if step > 0 else _END
                stop = part.stop if part.stop is not None else _END if step > 0 else -_END - 1
                result = b.op("Slice", result, b.ints((start,)), b.ints((stop,)), b.ints((axis,)),
                              b.ints((step,)))
        else:
            result = b.op("Gather", result, b.ints(part), axis=axis)   # a 0-d index drops the axis
            continue
        axis += 1
    return result


def _scatter_add(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
    shape = tuple(p["shape"])
    positions = _positions(shape, p["index"])
    # g is spread over out[index] as numpy broadcasts it; repeated positions add (np.add.at).
    updates = b.op("Reshape", b.op("Expand", x[0], b.ints(positions.shape)), b.ints((-1,)))
    zeros = b.array(np.zeros(int(np.prod(shape)), dtype=b.dtype))
    flat = b.op("ScatterElements", zeros, b.ints(positions.reshape(-1)), updates, axis=0, reduction="add")
    return b.op("Reshape", flat, b.ints(shape), allowzero=1)


def _reduction(op_type: str) -> Converter:
    def convert(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
        axis, keepdims = p["axis"], int(p["keepdims"])
        if not b.shapes[0] or axis == ():      # numpy: a 0-d array, or no axes, is left as it is
            return b.op("Identity", x[0])
        if axis is None:                        # no axes input: ONNX reduces over every axis
            return b.op(op_type, x[0], keepdims=keepdims)
        axes = axis if isinstance(axis, tuple) else (axis,)
        return b.op(op_type, x[0], b.ints(axes), keepdims=keepdims)
    return convert


def _clip(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
    low, high = p["low"], p["high"]
    if b.dtype == np.float32:
        bounds = ["" if bound is None else b.constant(bound) for bound in (low, high)]
        return b.op("Clip", x[0], *bounds)       # "" is ONNX's absent optional input
    result = x[0]                                # min(max(a, low), high), as np.clip computes it
    if low is not None:
        result = b.op("Max", result, b.constant(low))
    if high is not None:
        result = b.op("Min", result, b.constant(high))
    return result


def _where(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
    return b.op("Where", b.array(np.asarray(p["condition"], dtype=bool)), *x)


def _stack(b: Builder, x: Sequence[str], p: dict[str, Any]) -> str:
    axis = p["axis"] % (len(b.shapes[0]) + 1)
    pieces = [b.op("Unsqueeze", piece, b.ints((axis,))) for piece in x]
    return b.op("Concat", *pieces, axis=axis)


#: The ONNX spelling of every op of ``ops.TABLE``, by op name (opset 18).
ONNX: dict[str, Converter | NotExpressible] = {
    "add": _same("Add"), "sub": _same("Sub"), "mul": _same("Mul"), "div": _same("Div"),
    "pow": _same("Pow"), "neg": _same("Neg"),
    "matmul": _same("MatMul"),                   # numpy's matmul rules, 1-D operands included
    "transpose": _transpose, "reshape": _reshape,
    "broadcast_to": lambda b, x, p: b.op("Expand", x[0], b.ints(tuple(p["shape"]))),
    "getitem": _getitem, "scatter_add": _scatter_add,
    "sum": _reduction("ReduceSum"), "mean": _reduction("ReduceMean"), "max": _reduction("ReduceMax"),
    "exp": _same("Exp"), "log": _same("Log"), "sqrt": _same("Sqrt"), "abs": _same("Abs"),
    "relu": _same("Relu"), "leaky_relu": _leaky_relu, "sigmoid": _sigmoid, "tanh": _same("Tanh"),
    "softplus": lambda b, x, p: _softplus_of(b, x[0]),
    "bce_with_logits": _bce_with_logits, "bce": _bce,
    "maximum": _same("Max"), "minimum": _same("Min"), "clip": _clip, "where": _where,
    "concatenate": lambda b, x, p: b.op("Concat", *x, axis=p["axis"]),
    "stack": _stack,
    # The exporter casts every input to its node's dtype (as numpy promotes), so the cast is done.
    "astype": lambda b, x, p: b.op("Identity", x[0]),
}
