"""Activations and losses built from the primitives, stable for any input.

Losses follow the course: ``L`` per example, and the cost ``J = (1/m) Σ L`` averaged over the
``m`` examples (the columns of ``Y``, which is ``(1, m)``). With several output units the
per-example losses are summed over units first. ``reduction="sum"`` or ``"none"`` change that.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from . import ops
from .errors import InputTypeError, InputValueError, ShapeError
from .tensor import ArrayLike, Tensor

Reduction = Literal["mean", "sum", "none"]


def _tensor(value: ArrayLike) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def sigmoid(z: ArrayLike) -> Tensor:
    """σ(z) = 1 / (1 + e⁻ᶻ): finite, with a finite gradient, even at z = ±1000."""
    return _tensor(z).sigmoid()


def softplus(z: ArrayLike) -> Tensor:
    """log(1 + eᶻ), without overflow."""
    return _tensor(z).softplus()


def log_sigmoid(z: ArrayLike) -> Tensor:
    """log σ(z) = −softplus(−z): finite where ``sigmoid(z).log()`` would give log(0) = −inf."""
    return -(-_tensor(z)).softplus()


def softmax(z: ArrayLike, axis: int = 0) -> Tensor:
    """eᶻ / Σ eᶻ over ``axis`` — axis 0 by default: the classes of one example are one column."""
    z = _tensor(z)
    # Subtracting the (constant) max changes nothing mathematically and keeps exp from overflowing.
    e = (z - z.max(axis=axis, keepdims=True).detach()).exp()
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z: ArrayLike, axis: int = 0) -> Tensor:
    """log softmax(z) = z − log Σ eᶻ over ``axis`` (axis 0: classes in the rows)."""
    z = _tensor(z)
    shifted = z - z.max(axis=axis, keepdims=True).detach()
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()


def _check_pair(name: str, predictions: Tensor, targets: Tensor) -> None:
    if predictions.shape != targets.shape:
        hint = ""
        if predictions.size == targets.size:
            hint = f" Reshape the targets: Y.reshape{predictions.shape} (the course keeps Y as (1, m))."
        raise ShapeError(
            f"{name}: predictions have shape {predictions.shape} but targets have shape "
            f"{targets.shape}; they must match (broadcasting them would compare every example with "
            f"every other).{hint}"
        )
    if np.isnan(targets.data).any():
        raise InputValueError(f"{name}: targets contain NaN.")


def _check_labels(name: str, targets: Tensor) -> None:
    values = targets.data
    if values.size and (values.min() < 0 or values.max() > 1):
        raise InputValueError(
            f"{name}: targets must lie in [0, 1] (labels y ∈ {{0, 1}}), got values from "
            f"{values.min():g} to {values.max():g}."
        )


def _reduce(losses: Tensor, reduction: Reduction) -> Tensor:
    if not isinstance(reduction, str):  # an array would compare elementwise, and == could not decide
        raise InputTypeError(f"reduction must be 'mean', 'sum' or 'none', got {type(reduction).__name__} "
                             f"{reduction!r:.40}.")
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        if losses.size == 0:
            raise InputValueError("reduction='mean' over no examples (m = 0) is undefined; expected "
                                  "predictions and targets with at least one column, or reduction='sum'.")
        m = losses.shape[-1] if losses.ndim else 1
        return losses.mean() if losses.size == m else losses.sum() / m
    raise InputValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}.")


def binary_cross_entropy_with_logits(logits: ArrayLike, targets: ArrayLike,
                                     reduction: Reduction = "mean") -> Tensor:
    """``J = (1/m) Σ L`` with ``L = −(y log σ(z) + (1−y) log(1−σ(z)))``, computed from ``z``.

    One primitive (``ops.bce_with_logits``): ``L = softplus(z) − y·z`` is the same number without
    ever forming log(0), and its backward rule is the course's ``dz = a − y``, so the cost's
    gradient is exactly ``dZ = (A − Y) / m``.
    """
    z = _tensor(logits)
    y = z._lift(targets)
    _check_pair("binary_cross_entropy_with_logits", z, y)
    _check_labels("binary_cross_entropy_with_logits", y)
    return _reduce(ops.bce_with_logits(z, y), reduction)


def binary_cross_entropy(probabilities: ArrayLike, targets: ArrayLike,
                         reduction: Reduction = "mean") -> Tensor:
    """``J = (1/m) Σ −(y log a + (1−y) log(1−a))`` from probabilities ``a = σ(z)``.

    One primitive (``ops.bce``) whose rule is the lesson's ``da = −y/a + (1 − y)/(1 − a)``.
    ``a`` is clipped to [ε, 1 − ε] (ε = machine epsilon) so a saturated ``a = 1.0`` gives a
    finite cost; prefer ``binary_cross_entropy_with_logits``, which also keeps the gradient.
    """
    a = _tensor(probabilities)
    y = a._lift(targets)
    _check_pair("binary_cross_entropy", a, y)
    _check_labels("binary_cross_entropy", y)
    # Comparisons, not nanmin: an all-NaN input must not warn (NaN passes through as NaN).
    if (a.data < 0).any() or (a.data > 1).any():
        raise InputValueError("binary_cross_entropy: probabilities must lie in [0, 1]; for raw scores z "
                              "use binary_cross_entropy_with_logits.")
    eps = float(np.finfo(a.dtype).eps)
    return _reduce(ops.bce(a.clip(eps, 1 - eps), y), reduction)


def mse_loss(predictions: ArrayLike, targets: ArrayLike, reduction: Reduction = "mean") -> Tensor:
    """Squared error ``(ŷ − y)²``, averaged over the m examples."""
    p = _tensor(predictions)
    y = p._lift(targets)
    _check_pair("mse_loss", p, y)
    return _reduce((p - y) ** 2, reduction)
