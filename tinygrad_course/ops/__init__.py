"""The op table: every differentiable primitive, its forward and its backward rule side by side.

Read each entry as one chain-rule step. For ``out = f(a, b)`` and an upstream gradient
``g = dJ/dout``, the VJPs return ``dJ/da = g · ∂out/∂a`` and ``dJ/db = g · ∂out/∂b``. They are
written in Tensor operations, so the backward pass can itself be differentiated
(``backward(create_graph=True)``); under a plain ``backward()`` they run with recording off.

A VJP may return a gradient of the broadcast shape: the engine sums it back to the input's
shape in one place (``autograd.unbroadcast``). ``notation.py`` says the same VJPs in words, for
the backward picture. Masks such as ``a > 0`` are constants: their derivative is zero almost
everywhere, which is what makes the second derivative of ReLU zero.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..autograd import Op

Axis = int | tuple[int, ...] | None


def _values(t: Any) -> np.ndarray:
    """The numbers of a Tensor or an ndarray (VJPs receive either), for constant masks."""
    return getattr(t, "_data", t)


# --------------------------------------------------------------------------- arithmetic

# Python's operators, not np.add & co.: the same ufunc for arrays, and numpy's scalar arithmetic for
# the numpy scalars 0-d results are held in (see autograd.graph.Traced), which is 7× quicker.

add = Op("add", "+", operator.add,
         lambda g, out, a, b: g,
         lambda g, out, a, b: g, saves=())

sub = Op("sub", "−", operator.sub,
         lambda g, out, a, b: g,
         lambda g, out, a, b: -g, saves=())

mul = Op("mul", "×", operator.mul,
         lambda g, out, a, b: g * b,
         lambda g, out, a, b: g * a, saves=(0, 1))

div = Op("div", "÷", operator.truediv,
         lambda g, out, a, b: g / b,
         lambda g, out, a, b: -g * out / b,          # d(a/b)/db = −a/b² = −out/b
         saves=(1, "out"))

power = Op("pow", "^", np.power,
           # b·aᵇ⁻¹, with the exponent taken as 0 where a = b = 0: the term is 0 there, and a⁻¹
           # would make it 0·inf = NaN (in d³/da³ a² at a = 0, for instance).
           lambda g, out, a, b: g * b * a ** (b - 1 + ((_values(a) == 0) & (_values(b) == 0))),
           # d(aᵇ)/db = aᵇ · ln a. At a = 0 it tends to 0 for b > 0, and PyTorch takes 0 at b = 0 too:
           # ln a is taken as 0 (ln 1) there. For b < 0 it is inf · (−inf) = −inf, PyTorch's value.
           lambda g, out, a, b: g * out * log(a + ((_values(a) == 0) & (_values(b) >= 0))),
           saves=(0, 1, "out"))

neg = Op("neg", "−", operator.neg,
         lambda g, out, a: -g, saves=())

# --------------------------------------------------------------------------- matrices and shapes


def _swap_last_axes(t: Any) -> Any:
    if t.ndim == 2:
        return t.T  # the course's Wᵀ: numpy's own .T on arrays, the transpose op on Tensors
    axes = list(range(t.ndim))
    axes[-2:] = axes[-1], axes[-2]
    return transpose(t, axes=tuple(axes))


def _matmul_vjp_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:                                  # out[..., i] = Σₖ a[..., i, k] b[k]
        return g.reshape((*g.shape, 1)) * b
    if a.ndim == 1:                                  # out[..., j] = Σₖ a[k] b[..., k, j]
        return (b @ g.reshape((*g.shape, 1))).reshape(b.shape[:-1])
    return g @ _swap_last_axes(b)                    # Z = W @ A: dW = dZ · Aᵀ


def _matmul_vjp_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:                                  # dB[..., k, j] = a[k] g[..., j]
        if b.ndim == 1:
            return g * a
        return a.reshape((*a.shape, 1)) * g.reshape((*g.shape[:-1], 1, *g.shape[-1:]))
    if b.ndim == 1:                                  # db[k] = Σᵢ a[..., i, k] g[..., i]
        product = _swap_last_axes(a) @ g.reshape((*g.shape, 1))
        return product.reshape(product.shape[:-1])
    return _swap_last_axes(a) @ g                    # Z = W @ A: dA = Wᵀ · dZ


matmul = Op("matmul", "@", np.matmul, _matmul_vjp_a, _matmul_vjp_b, saves=(0, 1))


def _inverse_axes(axes: tuple[int, ...] | None, ndim: int) -> tuple[int, ...] | None:
    """The permutation that undoes ``axes`` (negative axes count from the end)."""
    return None if axes is None else tuple(np.argsort([axis % ndim for axis in axes]).tolist())


transpose = Op("transpose", "ᵀ", lambda a, axes: a.transpose(axes),
               lambda g, out, a, axes: transpose(g, axes=_inverse_axes(axes, a.ndim)), saves=())

reshape = Op("reshape", "reshape", lambda a, shape: a.reshape(shape),
             lambda g, out, a, shape: reshape(g, shape=a.shape), saves=())

def _broadcast_forward(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    # A real array, not np.broadcast_to's read-only view: it costs a quarter of the time on the small
    # arrays where per-call overhead matters, and a gradient may be edited in place. (np.full does the
    # same, slower: it works out the dtype from the value.) Assignment also drops leading size-1 axes
    # ((1,) to ()), which numpy's broadcasting refuses: so must we.
    if a.ndim > len(shape):
        raise ValueError(f"cannot broadcast {a.ndim} axes to the {len(shape)} of shape {shape}: "
                         "broadcasting adds axes on the left, it never removes one")
    out = np.empty(shape, dtype=a.dtype)
    out[...] = a
    return out


# The VJP returns g at the broadcast shape; the engine's unbroadcast sums it back to a's shape.
broadcast_to = Op("broadcast_to", "broadcast", _broadcast_forward,
                  lambda g, out, a, shape: g, saves=())


def _is_basic_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


def _scatter_add_forward(g: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic_index(index):
        out[index] = g                               # a basic index never repeats an element
    else:
        np.add.at(out, index, g)                     # x[[0, 0]] used x[0] twice: its gradients add
    return out


getitem = Op("getitem", "[ ]", lambda a, index: a[index],
             lambda g, out, a, index: scatter_add(g, index=index, shape=a.shape), saves=())

scatter_add = Op("scatter_add", "scatter", _scatter_add_forward,
                 lambda g, out, a, index, shape: getitem(g, index=index), saves=())

# --------------------------------------------------------------------------- reductions


def _kept_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """``shape`` after reducing over ``axis`` with ``keepdims=True``."""
    if axis is None or not shape:  # numpy lets a 0-d array reduce over axis 0 or -1
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g: Any, a: Any, axis: Axis, keepdims: bool) -> Any:
    """Undo a reduction: put the reduced axes back (size 1) and broadcast to ``a``'s shape."""
    if not keepdims and axis is not None:  # a full reduction's 0-d g broadcasts as it is
        g = reshape(g, shape=_kept_shape(a.shape, axis))
    return broadcast_to(g, shape=a.shape)


def _max_vjp(g: Any, out: Any, a: Any, axis: Axis, keepdims: bool) -> Any:
    values, maxima = _values(a), _values(out).reshape(_kept_shape(a.shape, axis))
    # A NaN is the maximum (numpy's max returns it): the gradient goes to it, as in PyTorch.
    winners = (values == maxima) | (np.isnan(values) & np.isnan(maxima))
    # Ties share the gradient equally, so the shares still add up to g.
    share = (winners / winners.sum(axis=axis, keepdims=True)).astype(values.dtype)
    return _expand(g, a, axis, keepdims) * share


# Forwards call ndarray methods, not np.sum & co.: the functions add a dispatch layer per call.
sum_ = Op("sum", "Σ", lambda a, axis, keepdims: a.sum(axis=axis, keepdims=keepdims),
          lambda g, out, a, axis, keepdims: _expand(g, a, axis, keepdims), saves=())

def _mean_forward(a: np.ndarray, axis: Axis, keepdims: bool) -> np.ndarray:
    # The mean of no elements is 0/0; numpy would warn and return NaN. A ValueError becomes a
    # ShapeError naming the op; the size test costs nothing next to the reduction itself.
    if a.size == 0:
        reduced = range(a.ndim) if axis is None else axis if isinstance(axis, tuple) else (axis,)
        if any(a.shape[i] == 0 for i in reduced):
            raise ValueError("the mean over an axis of size 0 (no elements) is undefined")
    return a.mean(axis=axis, keepdims=keepdims)


mean = Op("mean", "mean", _mean_forward,
          lambda g, out, a, axis, keepdims: _expand(g / (a.size // max(out.size, 1)), a, axis, keepdims),
          saves=())

max_ = Op("max", "max", lambda a, axis, keepdims: a.max(axis=axis, keepdims=keepdims),
          _max_vjp, saves=(0, "out"))

# --------------------------------------------------------------------------- elementwise functions


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))                           # exp of a non-positive number never overflows
    return np.where(x >= 0, 1, e) / (1 + e)          # 1/(1+e⁻ˣ) for x ≥ 0, eˣ/(1+eˣ) for x < 0


def _stable_softplus(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))   # log(1 + eˣ) without overflow


exp = Op("exp", "exp", np.exp,
         lambda g, out, a: g * out,                  # (eᵃ)' = eᵃ
         saves=("out",))

log = Op("log", "log", np.log,
         lambda g, out, a: g / a, saves=(0,))

sqrt = Op("sqrt", "√", np.sqrt,
          lambda g, out, a: g / (out * 2), saves=("out",))

abs_ = Op("abs", "|·|", np.abs,
          lambda g, out, a: g * np.sign(_values(a)),  # 0 at a = 0: a subgradient
          saves=(0,))

relu = Op("relu", "ReLU", lambda a: np.maximum(a, 0),
          lambda g, out, a: g * (a > 0),             # 0 at a = 0, as the course's relu_backward
          saves=(0,))

leaky_relu = Op("leaky_relu", "LeakyReLU",
                lambda a, slope: np.where(a > 0, a, a * slope),
                lambda g, out, a, slope: g * np.where(a > 0, 1, slope).astype(_values(a).dtype), saves=(0,))

sigmoid = Op("sigmoid", "σ", _stable_sigmoid,
             lambda g, out, a: g * out * (1 - out),  # σ' = σ(1 − σ)
             saves=("out",))

tanh = Op("tanh", "tanh", np.tanh,
          lambda g, out, a: g * (1 - out * out),     # tanh' = 1 − tanh², the course's 1 − A²
          saves=("out",))

softplus = Op("softplus", "softplus", _stable_softplus,
              lambda g, out, a: g * sigmoid(a),      # d log(1 + eᵃ)/da = σ(a)
              saves=(0,))


def _bce_with_logits_forward(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    # −(y log σ(z) + (1−y) log(1−σ(z))) simplifies to softplus(z) − y·z: no log(0) anywhere.
    return _stable_softplus(z) - y * z


bce_with_logits = Op("bce_with_logits", "L", _bce_with_logits_forward,
                     lambda g, out, z, y: g * (sigmoid(z) - y),   # the course's dz = a − y
                     lambda g, out, z, y: g * -z, saves=(0, 1))


def _bce_forward(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(y * np.log(a) + (1 - y) * np.log1p(-a))


# The lesson's L(a, y) = −(y log a + (1 − y) log(1 − a)) from a probability a = σ(z), as one op
# so that its rule is the lesson's da. Prefer bce_with_logits, which never forms log 0.
bce = Op("bce", "L", _bce_forward,
         lambda g, out, a, y: g * ((1 - y) / (1 - a) - y / a),   # da = −y/a + (1 − y)/(1 − a)
         lambda g, out, a, y: g * log((1 - a) / a), saves=(0, 1))

# --------------------------------------------------------------------------- selections


def _share(winner: Any, other: Any, wins: Any) -> np.ndarray:
    x, y = _values(winner), _values(other)
    return (wins(x, y) + 0.5 * (x == y)).astype(x.dtype)   # ties split evenly, as in max


maximum = Op("maximum", "max", np.maximum,
             lambda g, out, a, b: g * _share(a, b, np.greater),
             lambda g, out, a, b: g * _share(b, a, np.greater), saves=(0, 1))

minimum = Op("minimum", "min", np.minimum,
             lambda g, out, a, b: g * _share(a, b, np.less),
             lambda g, out, a, b: g * _share(b, a, np.less), saves=(0, 1))


def _inside(a: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    inside = np.ones(a.shape, dtype=bool)
    if low is not None:
        inside &= a >= low
    if high is not None:
        inside &= a <= high
    return inside


clip = Op("clip", "clip", lambda a, low, high: np.clip(a, low, high),
          lambda g, out, a, low, high: g * _inside(_values(a), low, high), saves=(0,))

where = Op("where", "where", lambda a, b, condition: np.where(condition, a, b),
           lambda g, out, a, b, condition: g * condition,
           lambda g, out, a, b, condition: g * ~condition, saves=())

# --------------------------------------------------------------------------- joining


def _concatenate_vjp(i: int, g: Any, out: Any, *inputs: Any, axis: int) -> Any:
    axis %= out.ndim
    start = sum(t.shape[axis] for t in inputs[:i])
    return g[(slice(None),) * axis + (slice(start, start + inputs[i].shape[axis]),)]


def _stack_vjp(i: int, g: Any, out: Any, *inputs: Any, axis: int) -> Any:
    return g[(slice(None),) * (axis % out.ndim) + (i,)]


concatenate = Op("concatenate", "concat", lambda *arrays, axis: np.concatenate(arrays, axis=axis),
                 vjp_each=_concatenate_vjp, saves=())

stack = Op("stack", "stack", lambda *arrays, axis: np.stack(arrays, axis=axis),
           vjp_each=_stack_vjp, saves=())

# --------------------------------------------------------------------------- dtypes

# Mixed dtypes (a float32 leaf times a float64 tensor): each gradient takes its input's dtype, as
# in PyTorch, so float32 in is float32 out; under create_graph=True the cast is recorded too.
astype = Op("astype", "cast", lambda a, dtype: a.astype(dtype),
            lambda g, out, a, dtype: astype(g, dtype=a.dtype), saves=())

#: Every primitive, by name: the table the property tests walk.
TABLE: dict[str, Op] = {
    op.name: op
    for op in (add, sub, mul, div, power, neg, matmul, transpose, reshape, broadcast_to, getitem,
               scatter_add, sum_, mean, max_, exp, log, sqrt, abs_, relu, leaky_relu, sigmoid,
               tanh, softplus, bce_with_logits, bce, maximum, minimum, clip, where, concatenate, stack,
               astype)
}
