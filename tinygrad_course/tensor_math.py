"""The math of a ``Tensor``: its operators, reductions and elementwise functions.

Each is a one-liner that calls one op from ``ops``; numbers and arrays on the other side are
lifted to constant tensors of the tensor's dtype by ``_lift`` ("float32 in, float32 out"), which
the class that mixes this in (``tensor.Tensor``) provides. The tensor's state — its array, its
graph record, its gradient and hooks, numpy's protocols — lives in ``tensor.py``, which sits
above this module: this one never imports it.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from . import _checks, ops
from .errors import InputTypeError, InputValueError

ArrayLike = Any  # numbers, nested lists, numpy arrays or Tensors
Axis = int | tuple[int, ...] | None

T = TypeVar("T", bound="TensorMath")


class TensorMath:
    """Operators and methods that each record one op; ``Tensor`` inherits them."""

    __slots__ = ()  # Tensor keeps its fixed slots: no per-instance __dict__

    # ------------------------------------------------------------------ arithmetic

    def __add__(self: T, other: ArrayLike) -> T:
        return ops.add(self, self._lift(other))

    def __radd__(self: T, other: ArrayLike) -> T:
        return ops.add(self._lift(other), self)

    def __sub__(self: T, other: ArrayLike) -> T:
        return ops.sub(self, self._lift(other))

    def __rsub__(self: T, other: ArrayLike) -> T:
        return ops.sub(self._lift(other), self)

    def __mul__(self: T, other: ArrayLike) -> T:
        return ops.mul(self, self._lift(other))

    def __rmul__(self: T, other: ArrayLike) -> T:
        return ops.mul(self._lift(other), self)

    def __truediv__(self: T, other: ArrayLike) -> T:
        return ops.div(self, self._lift(other))

    def __rtruediv__(self: T, other: ArrayLike) -> T:
        return ops.div(self._lift(other), self)

    def __pow__(self: T, exponent: ArrayLike) -> T:
        return ops.power(self, self._lift(exponent))

    def __rpow__(self: T, base: ArrayLike) -> T:
        return ops.power(self._lift(base), self)

    def __neg__(self: T) -> T:
        return ops.neg(self)

    def __pos__(self: T) -> T:
        return self

    def __abs__(self: T) -> T:
        return ops.abs_(self)

    def __matmul__(self: T, other: ArrayLike) -> T:
        return ops.matmul(self, self._lift(other))

    def __rmatmul__(self: T, other: ArrayLike) -> T:
        return ops.matmul(self._lift(other), self)


    # ------------------------------------------------------------------ reductions

    def sum(self: T, axis: Axis = None, keepdims: bool = False) -> T:
        """Σ over ``axis`` (all axes by default)."""
        return ops.sum_(self, axis=_axis(axis), keepdims=_keepdims(keepdims))

    def mean(self: T, axis: Axis = None, keepdims: bool = False) -> T:
        """The average over ``axis``; ``J = L.mean()`` is the course's ``(1/m) Σ L``."""
        return ops.mean(self, axis=_axis(axis), keepdims=_keepdims(keepdims))

    def max(self: T, axis: Axis = None, keepdims: bool = False) -> T:
        """The maximum over ``axis``. Tied maxima share the gradient equally; a NaN is the maximum
        (numpy returns it) and gets the gradient, as in PyTorch."""
        return ops.max_(self, axis=_axis(axis), keepdims=_keepdims(keepdims))


    # ------------------------------------------------------------------ elementwise functions

    def exp(self: T) -> T:
        return ops.exp(self)

    def log(self: T) -> T:
        """Natural logarithm."""
        return ops.log(self)

    def sqrt(self: T) -> T:
        return ops.sqrt(self)

    def abs(self: T) -> T:
        return ops.abs_(self)

    def relu(self: T) -> T:
        """max(0, z); its derivative at z = 0 is taken as 0."""
        return ops.relu(self)

    def leaky_relu(self: T, slope: float = 0.01) -> T:
        """z for z > 0, slope·z otherwise."""
        return ops.leaky_relu(self, slope=_checks.real(slope, "leaky_relu(slope=...)"))

    def sigmoid(self: T) -> T:
        """σ(z) = 1 / (1 + e⁻ᶻ), computed without overflow for any z."""
        return ops.sigmoid(self)

    def tanh(self: T) -> T:
        return ops.tanh(self)

    def softplus(self: T) -> T:
        """log(1 + eᶻ), computed without overflow."""
        return ops.softplus(self)

    def maximum(self: T, other: ArrayLike) -> T:
        """Elementwise max; at ties the gradient is split evenly."""
        return ops.maximum(self, self._lift(other))

    def minimum(self: T, other: ArrayLike) -> T:
        """Elementwise min; at ties the gradient is split evenly."""
        return ops.minimum(self, self._lift(other))

    def clip(self: T, low: float | None = None, high: float | None = None) -> T:
        """Values limited to [low, high]; the gradient passes where low ≤ t ≤ high."""
        if low is None and high is None:
            raise InputValueError("clip() needs low, high or both.")
        low = None if low is None else _checks.real(low, "clip(low=...)")
        high = None if high is None else _checks.real(high, "clip(high=...)")
        if low is not None and high is not None and low > high:
            raise InputValueError(f"clip(low={low:g}, high={high:g}): low must not exceed high.")
        return ops.clip(self, low=low, high=high)


# --------------------------------------------------------------------------- argument helpers


def _keepdims(keepdims: Any) -> bool:
    return keepdims if keepdims is False or keepdims is True else _checks.flag(keepdims, "keepdims")


def _axis(axis: Any) -> Axis:
    # bool is an int to Python: axis=True would silently mean axis 1.
    if axis is None or (isinstance(axis, (int, np.integer)) and not isinstance(axis, bool)):
        return None if axis is None else int(axis)
    if isinstance(axis, (tuple, list)) and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis):
        return tuple(int(a) for a in axis)
    raise InputTypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}.")


def _sizes(values: Any, what: str) -> tuple[int, ...]:
    """A shape or an axis order as a tuple of ints; numpy would truncate 2.0 or read "ab" oddly."""
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "iu":
        values = values.tolist()
    if isinstance(values, (tuple, list)) and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return tuple(int(v) for v in values)
    raise InputTypeError(f"{what} expects ints or one tuple of ints, got {values!r:.60}.")


def _name(name: Any) -> str | None:
    if name is not None and not isinstance(name, str):
        raise InputTypeError(f"a tensor's name must be a str or None, "
                             f"got {type(name).__name__} {name!r:.40}.")
    return name
