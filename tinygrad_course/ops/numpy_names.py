"""numpy's names for the ops: what ``np.exp(t)``, ``np.dot(W, A)`` or ``np.sum(dZ, axis=1)`` does on Tensors.

The course writes every model in numpy. ``Tensor`` implements numpy's two protocols
(``__array_ufunc__`` for ``np.exp``, ``X * t``, ...; ``__array_function__`` for ``np.dot``,
``np.sum``, ...) and looks the function up in these tables:

* ``UFUNCS`` and ``FUNCTIONS``: the differentiable ones, each computed by ops of ``TABLE``, so the
  result is a Tensor in the graph. A ufunc's rule gets every input as a tensor (numbers and
  arrays lifted to constants of the tensor's dtype, as the operators do); a function's rule gets
  numpy's own arguments and lifts its operands itself (``_lifted``).
* ``VALUES``: functions whose derivative is zero wherever it exists (comparisons, ``argmax``,
  ``round``, ``shape``, ...). They run on the values and return plain ndarrays, as the comparison
  operators do: such a result is a constant to every gradient, so no gradient is lost.
* ``HINTS``: what to write instead of some refused functions. A function in none of the tables
  is refused with an error that names it; it is never run on the values, so a learner never
  gets an ndarray where a gradient should flow.

Adding a function is one line in one table, plus its case in ``tests/test_numpy_names.py``,
which walks these tables as ``tests/test_op_properties.py`` walks ``TABLE``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import InputTypeError, InputValueError, ShapeError
from . import (
    abs_,
    add,
    concatenate,
    div,
    exp,
    log,
    matmul,
    maximum,
    minimum,
    mul,
    neg,
    power,
    sqrt,
    stack,
    sub,
    tanh,
    where,
)


def _lifted(*values: Any) -> list[Any]:
    """The operands as tensors of the first tensor's dtype: float32 in, float32 out."""
    like = next(v for v in values if hasattr(v, "_lift"))  # a Tensor, known by its protocol
    return [like._lift(v) for v in values]


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "_lift")


def _values(value: Any) -> Any:
    return getattr(value, "_data", value)


# --------------------------------------------------------------------------- ufuncs: all inputs are operands

UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: add,
    np.subtract: sub,
    np.multiply: mul,
    np.divide: div,                                  # np.true_divide is the same ufunc
    np.power: power,
    np.negative: neg,
    np.matmul: matmul,
    np.exp: exp,
    np.log: log,
    np.sqrt: sqrt,
    np.tanh: tanh,
    np.absolute: abs_,                               # np.abs is the same ufunc
    np.maximum: maximum,                             # np.maximum(0, Z): the course's relu
    np.minimum: minimum,
    np.square: lambda a: mul(a, a),
    np.log1p: lambda a: log(1 + a),                  # log(1 + a): loses digits for |a| < 1e-8
}

# --------------------------------------------------------------------------- functions: numpy's own arguments


def _dot(a: Any, b: Any) -> Any:
    a, b = _lifted(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)                             # np.dot with a scalar is the product
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul(a, b)                          # the course's np.dot(W, A): Z = W @ A
    raise InputTypeError(
        f"np.dot of shapes {a.shape} and {b.shape}: with more than 2 axes np.dot sums over the last axis "
        "of a and the second-to-last of b for every pair of leading indices, a product with no rule "
        "here; use np.matmul(a, b) (a @ b), which batches over the leading axes."
    )


def _sum(a: Any, axis: Any = None, *, keepdims: bool = False) -> Any:
    return a.sum(axis=axis, keepdims=keepdims)


def _mean(a: Any, axis: Any = None, *, keepdims: bool = False) -> Any:
    return a.mean(axis=axis, keepdims=keepdims)


def _max(a: Any, axis: Any = None, *, keepdims: bool = False) -> Any:
    return a.max(axis=axis, keepdims=keepdims)


def _min(a: Any, axis: Any = None, *, keepdims: bool = False) -> Any:
    return -(-a).max(axis=axis, keepdims=keepdims)   # min a = −max(−a)


def _squeeze(a: Any, axis: Any = None) -> Any:
    try:  # numpy checks the axes on a zero-stride stand-in of a's shape; the reshape records it
        target = np.squeeze(np.broadcast_to(0.0, a.shape), axis).shape
    except (ValueError, TypeError) as error:
        raise ShapeError(f"np.squeeze(axis={axis!r}) of a tensor of shape {a.shape}: {error}; "
                         "only axes of size 1 can be squeezed.") from None
    return a.reshape(target)


def _transpose(a: Any, axes: Any = None) -> Any:
    return a.transpose(axes)


def _reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None) -> Any:
    if order != "C":
        raise InputTypeError(f"np.reshape(order={order!r}) on a Tensor: only order='C' (row by row) has "
                             "a rule; for 'F' write np.reshape(a.T, shape[::-1]).T.")
    return a.reshape(newshape if shape is None else shape)   # numpy < 2.1 calls it newshape


def _joined(op: Any, arrays: Sequence[Any], axis: int | None) -> Any:
    tensors = _lifted(*arrays)
    if axis is None and op is concatenate:           # numpy flattens every array first
        return op(*[t.reshape(-1) for t in tensors], axis=0)
    return op(*tensors, axis=axis)


def _where(condition: Any, *x_and_y: Any) -> Any:
    if len(x_and_y) != 2:  # np.where(condition) alone: the indices of the true elements
        if x_and_y:
            raise InputValueError("np.where(condition, x, y) needs both x and y, or neither.")
        return np.where(_values(condition))
    if not any(map(_is_tensor, x_and_y)):            # only the condition was a tensor: no gradient
        return np.where(_values(condition), *x_and_y)
    mask = np.asarray(_values(condition)).astype(bool)   # numpy's reading: non-zero is true
    return where(*_lifted(*x_and_y), condition=mask)


def _clip(a: Any, a_min: Any = None, a_max: Any = None, *, min: Any = None, max: Any = None) -> Any:
    low = a_min if min is None else min              # numpy ≥ 2.1 also names the bounds min and max
    high = a_max if max is None else max
    if all(bound is None or isinstance(bound, (int, float, np.number)) for bound in (low, high)):
        return _lifted(a)[0].clip(low, high)
    # Bounds that are arrays: the same clip, elementwise.
    bounds = [(op, bound) for op, bound in ((maximum, low), (minimum, high)) if bound is not None]
    result, *lifted_bounds = _lifted(a, *(bound for _, bound in bounds))
    for (op, _), bound in zip(bounds, lifted_bounds, strict=True):
        result = op(result, bound)
    return result


FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.dot: _dot,
    np.sum: _sum,
    np.mean: _mean,
    np.max: _max,
    np.amax: _max,
    np.min: _min,
    np.amin: _min,
    np.squeeze: _squeeze,
    np.transpose: _transpose,
    np.reshape: _reshape,
    np.concatenate: lambda arrays, axis=0: _joined(concatenate, arrays, axis),
    np.stack: lambda arrays, axis=0: _joined(stack, arrays, axis),
    np.where: _where,
    np.clip: _clip,
}

# --------------------------------------------------------------------------- values: zero derivative

VALUES: frozenset[Callable[..., Any]] = frozenset({
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isnan, np.isinf, np.isfinite, np.sign, np.floor, np.ceil, np.rint,
    np.round, np.around, np.argmax, np.argmin, np.shape, np.ndim, np.size,
    np.allclose, np.isclose, np.array_equal, np.zeros_like, np.ones_like,
})

# --------------------------------------------------------------------------- refused, with hints

HINTS: dict[Callable[..., Any], str] = {
    np.var: "np.mean(np.square(a - np.mean(a, axis=axis, keepdims=True)), axis=axis)",
    np.std: "np.sqrt(np.mean(np.square(a - np.mean(a, axis=axis, keepdims=True)), axis=axis))",
    np.linalg.norm: "np.sqrt(np.sum(np.square(a)))",
    np.expm1: "np.exp(a) - 1",
    np.log2: "np.log(a) / np.log(2)",
    np.log10: "np.log(a) / np.log(10)",
    np.outer: "np.reshape(a, (-1, 1)) * np.reshape(b, (1, -1))",
    np.average: "np.mean(a, axis=axis), or np.sum(w * a) / np.sum(w) with weights w",
    np.copy: "the tensor itself: numpy functions never change a Tensor in place",
}


def numpy_name(function: Any) -> str:
    """``np.sum``, ``np.linalg.norm``: a numpy function as the learner wrote it."""
    module = getattr(function, "__module__", None) or "numpy"
    prefix = "np" + module[len("numpy"):] if module.startswith("numpy") and "._" not in module else "np"
    return f"{prefix}.{getattr(function, '__name__', function)}"


def supported() -> list[str]:
    """The numpy functions that record the graph on Tensors, as ``np.<name>``, sorted."""
    return sorted({numpy_name(f) for f in (*UFUNCS, *FUNCTIONS)})
