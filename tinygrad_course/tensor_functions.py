"""Functions of several tensors: ``concatenate``, ``stack``, ``where``, ``maximum``, ``minimum``.

Plain numbers and arrays among the arguments become constants of the first tensor's dtype.
``tinygrad_course`` exports them; ``tensor.py`` never imports this module (it sits above it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops
from .errors import InputTypeError, InputValueError
from .tensor import ArrayLike, Tensor, _values, as_array


def _tensors(values: Sequence[ArrayLike], what: str) -> list[Tensor]:
    if isinstance(values, (Tensor, np.ndarray)) or not isinstance(values, (list, tuple)) or not values:
        raise InputTypeError(
            f"{what} expects a non-empty list or tuple of tensors, got {type(values).__name__}."
        )
    # Plain numbers and arrays take the dtype of the first tensor among them.
    like = next((v for v in values if isinstance(v, Tensor)), None)
    if like is None:
        like = Tensor(values[0])
    return [like._lift(v) for v in values]


def _axis_int(axis: Any, what: str) -> int:
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return int(axis)
    raise InputTypeError(f"{what}: axis must be an int, got {axis!r:.40}.")


def concatenate(tensors: Sequence[ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``np.concatenate``)."""
    return ops.concatenate(*_tensors(tensors, "concatenate()"), axis=_axis_int(axis, "concatenate()"))


def stack(tensors: Sequence[ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors along a new axis (``np.stack``)."""
    return ops.stack(*_tensors(tensors, "stack()"), axis=_axis_int(axis, "stack()"))


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a`` where ``condition`` holds, else ``b``; the gradient goes to the chosen side."""
    a_t, b_t = _tensors([a, b], "where()")
    # Read through as_array: a string, None or objects would otherwise turn into "truthy".
    values = _values(condition)
    mask = values if isinstance(values, np.ndarray) and values.dtype == bool else \
        as_array(values, what="where(condition=...)")
    if mask.dtype != bool:
        if np.isnan(mask).any():
            raise InputValueError("where(condition=...) contains NaN; expected booleans (or 0 and 1).")
        mask = mask != 0
    return ops.where(a_t, b_t, condition=mask)


def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise max of two tensors; at ties the gradient is split evenly."""
    a_t, b_t = _tensors([a, b], "maximum()")
    return ops.maximum(a_t, b_t)


def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise min of two tensors; at ties the gradient is split evenly."""
    a_t, b_t = _tensors([a, b], "minimum()")
    return ops.minimum(a_t, b_t)
