"""Checking a hand-written backward: the gradients you derived against the ones autograd finds.

The course derives every gradient by hand (``dZ2 = A2 − Y``, ``dW2 = (1/m) dZ2 A1ᵀ``, ...) and
writes ``backward_propagation`` in numpy. The forward code runs unchanged on Tensors (numpy's
functions record the graph), so autograd gets the same gradients from the forward alone, and
``check_backward`` compares the two, parameter by parameter, in the course's names.

The course's two-layer network (tanh hidden layer, sigmoid output)::

    from tinygrad_course.testing import check_backward

    A2, cache = forward_propagation(X, parameters)              # your numpy code, on arrays
    grads = backward_propagation(parameters, cache, X, Y)       # {"dW1": ..., "db1": ..., ...}
    check_backward(lambda p: compute_cost(forward_propagation(X, p)[0], Y), parameters, grads)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .._checks import real
from ..autograd import enable_grad, grad
from ..errors import InputTypeError, InputValueError
from ..tensor import ArrayLike, Tensor, as_array
from .checks import GradcheckError

_WORST_SHOWN = 5


class BackwardCheckError(GradcheckError):
    """Hand-written gradients disagree with autograd's (the message says which, where and by how much)."""


def check_backward(cost: Callable[[dict[str, Tensor]], Tensor], parameters: Mapping[str, ArrayLike],
                   gradients: Mapping[str, ArrayLike], *, atol: float = 1e-8, rtol: float = 1e-6) -> bool:
    """Check hand-written gradients: ``gradients["dW1"]`` against autograd's ``dJ/dW1``, and so on.

    ``cost(p)`` runs your forward on ``p``, a dict with the same keys as ``parameters`` whose
    values are float64 Tensor copies of them (your arrays are left alone), and returns the cost
    ``J``. Your own numpy code works: ``np.dot``, ``np.tanh``, ``np.sum(..., axis=1,
    keepdims=True)`` record the graph. ``gradients`` are the ones your backward returned, named
    as the course names them: ``"d" + name`` for each parameter (``dW1`` for ``W1``, ``db`` for
    ``b``); other keys (``dA1``, ...) are ignored.

    A gradient element passes when ``|yours − autograd| ≤ atol + rtol·|autograd|`` (both are
    exact derivatives, so the tolerances only absorb rounding). Returns True, or raises
    ``BackwardCheckError`` (an ``AssertionError``) naming every parameter whose gradient is
    missing, has another shape than the parameter, or has wrong values, with its worst elements.

    >>> import numpy as np
    >>> def cost(p):                                  # J = Σ w²
    ...     return np.sum(np.square(p["w"]))
    >>> check_backward(cost, {"w": np.array([1.0, -2.0])}, {"dw": np.array([2.0, -4.0])})
    True
    """
    if not callable(cost):
        raise InputTypeError(f"check_backward: cost must be a function of the parameters returning the cost, "
                             f"got {type(cost).__name__}; e.g. lambda p: compute_cost(forward(X, p), Y).")
    for what, mapping in (("parameters", parameters), ("gradients", gradients)):
        if not isinstance(mapping, Mapping) or not all(isinstance(key, str) for key in mapping):
            raise InputTypeError(f"check_backward: {what} must be a dict with str keys, as the course's "
                                 f"{what} {{'W1': ..., 'b1': ...}}, got {type(mapping).__name__}.")
    if not parameters:
        raise InputValueError("check_backward: parameters is empty; pass the dict your forward reads "
                              "them from.")
    atol = real(atol, "check_backward: atol", minimum=0.0)
    rtol = real(rtol, "check_backward: rtol", minimum=0.0)
    leaves = {name: Tensor(np.array(as_array(value, what=f"check_backward: parameters[{name!r}]"),
                                    dtype=np.float64), requires_grad=True, name=name)
              for name, value in parameters.items()}
    with enable_grad():  # the check needs the graph even inside no_grad()
        J = _scalar_cost(cost(dict(leaves)))
        found = grad(J, list(leaves.values()), allow_unused=True)
    failures, agree = [], []
    for (name, leaf), autograd_gradient in zip(leaves.items(), found, strict=True):
        problem = _compare(name, leaf, gradients.get("d" + name), autograd_gradient.data, atol, rtol)
        if problem:
            failures.append(problem)
        else:
            agree.append("d" + name)
    if failures:
        raise BackwardCheckError(_report(failures, agree, parameters, gradients, atol, rtol))
    return True


def _scalar_cost(J: Any) -> Tensor:
    if isinstance(J, (float, np.floating, np.ndarray)):
        raise InputTypeError(
            f"check_backward: cost(p) returned {type(J).__name__} {J!r:.40}, plain values with no graph: "
            "something in the forward turned the Tensor into numbers (float(...), np.array(...), "
            ".item(), or an assert isinstance(cost, float)). Return the cost as np.squeeze(...) gives it.")
    if not isinstance(J, Tensor):
        raise InputTypeError(f"check_backward: cost(p) must return the cost J as a Tensor, "
                             f"got {type(J).__name__} {J!r:.40}.")
    if J.size != 1:
        raise InputValueError(f"check_backward: the cost must be one number, cost(p) returned shape "
                              f"{J.shape}; average the losses over the m examples (np.sum(...) / m).")
    if not J.requires_grad:
        raise InputValueError("check_backward: the cost does not depend on the parameters: cost(p) must "
                              "compute it from p (not from the arrays of an earlier run).")
    return J


def _compare(name: str, leaf: Tensor, yours: Any, autograd: np.ndarray, atol: float,
             rtol: float) -> str | None:
    """What is wrong with your ``d<name>``, or None when it agrees with autograd's."""
    key, shape = "d" + name, leaf.shape
    where = f"{key} (the gradient of {name}, shape {shape})"
    if yours is None:
        return f"  {where}: missing from your gradients."
    try:
        values = np.array(as_array(yours, what=f"gradients[{key!r}]"), dtype=np.float64)
    except (TypeError, ValueError) as error:
        return f"  {where}: not an array of numbers ({error})."
    if values.shape != shape:
        return f"  {where}: yours has shape {values.shape}. " + _shape_hint(values.shape, shape)
    error = np.abs(values - autograd)
    bad = ~(error <= atol + rtol * np.abs(autograd))  # NaN counts as bad
    if not bad.any():
        return None
    ranking = np.where(bad, np.nan_to_num(error, nan=np.inf), -1.0).reshape(-1)
    worst = np.argsort(ranking, kind="stable")[::-1][: min(_WORST_SHOWN, int(bad.sum()))]
    rows = []
    for k in worst:
        index = np.unravel_index(k, shape) if shape else ()
        mine, theirs, off = values[index], autograd[index], error[index]
        relative = off / abs(theirs) if theirs != 0 else np.inf
        rows.append(f"    index {tuple(int(i) for i in index)}: yours {mine:.8g}, autograd {theirs:.8g}, "
                    f"absolute error {off:.3g}, relative error {relative:.3g}")
    return f"  {where}: {int(bad.sum())} of {values.size} elements off; worst:\n" + "\n".join(rows)


def _shape_hint(got: tuple[int, ...], shape: tuple[int, ...]) -> str:
    if got == tuple(n for n in shape if n != 1) and len(got) < len(shape):
        return ("np.sum(dZ, axis=1) drops the summed axis: keep it with np.sum(dZ, axis=1, keepdims=True), "
                "so that db has b's shape.")
    if got == shape[::-1]:
        return ("It looks transposed: a gradient has its parameter's shape (dW like W, (n[l], n[l-1])); "
                "check the order in np.dot(dZ, A_prev.T).")
    return "A gradient has the shape of its parameter."


def _report(failures: list[str], agree: list[str], parameters: Mapping[str, Any],
            gradients: Mapping[str, Any], atol: float, rtol: float) -> str:
    lines = [f"check_backward failed: {len(failures)} of {len(parameters)} hand-written gradients "
             "disagree with autograd's.", *failures]
    if any("d" + name not in gradients for name in parameters):
        unmatched = sorted(key for key in gradients if not key.startswith("d") or key[1:] not in parameters)
        lines.append(f"  your gradients are named {sorted(gradients)}; each must be 'd' + a parameter's "
                     f"name (parameters: {sorted(parameters)})"
                     + (f"; these match no parameter: {unmatched}" if unmatched else ""))
    if agree:
        lines.append(f"  agree: {', '.join(agree)}")
    lines.append(f"  tolerances: |yours − autograd| ≤ atol + rtol·|autograd| with atol={atol:g}, "
                 f"rtol={rtol:g}")
    return "\n".join(lines)
