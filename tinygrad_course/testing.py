"""Gradient checking: the engine's gradients against float64 finite differences.

``gradcheck(fn, *inputs)`` is the check every op and model in this library passes; use it on
your own functions the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .autograd import grad
from .errors import InputTypeError, TinygradCourseError
from .tensor import ArrayLike, Tensor


class GradcheckError(TinygradCourseError, AssertionError):
    """The analytic gradient disagrees with finite differences."""


def _scalar_objective(fn: Callable[..., Tensor], inputs: Sequence[Tensor],
                      cotangent: np.ndarray | None) -> Callable[..., Tensor]:
    """``fn`` reduced to a scalar ``Σ v ⊙ fn(x)`` (a vector-Jacobian product for a fixed ``v``)."""
    def objective(*xs: Tensor) -> Tensor:
        out = fn(*xs)
        if not isinstance(out, Tensor):
            raise InputTypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}.")
        return out.sum() if cotangent is None else (out * cotangent).sum()
    return objective


def gradcheck(fn: Callable[..., Tensor], *inputs: ArrayLike, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check ``fn``'s gradients against central differences ``(f(x+ε) − f(x−ε)) / 2ε`` in float64.

    Every element of every input is perturbed. A non-scalar output is contracted with a random
    cotangent ``v`` first, so the check covers ``vᵀJ`` for the whole Jacobian ``J``. Returns True
    or raises ``GradcheckError`` listing the worst elements (index, analytic, numeric).
    """
    if not inputs:
        raise InputTypeError("gradcheck(fn, *inputs) needs at least one input tensor.")
    xs = [Tensor(np.array(Tensor(x)._data, dtype=np.float64), requires_grad=True) for x in inputs]
    probe = fn(*xs)
    if not isinstance(probe, Tensor):
        raise InputTypeError(f"gradcheck: fn must return a Tensor, got {type(probe).__name__}.")
    cotangent = None if probe.size == 1 else np.random.default_rng(seed).standard_normal(probe.shape)
    objective = _scalar_objective(fn, xs, cotangent)
    analytic = grad(objective(*xs), xs, allow_unused=True)
    failures = []
    for i, (x, g) in enumerate(zip(xs, analytic, strict=True)):
        numeric = np.zeros(x.shape)
        for index in np.ndindex(*x.shape):
            values = [t._data for t in xs]
            for step, sign in ((eps, 1.0), (-eps, -1.0)):
                shifted = values[i].copy()
                shifted[index] += step
                # Recording stays on: fn may itself differentiate (e.g. return a gradient).
                args = [shifted if j == i else v for j, v in enumerate(values)]
                f = objective(*[Tensor(arg, requires_grad=True) for arg in args])
                numeric[index] += sign * f.item() / (2 * eps)
        error = np.abs(g._data - numeric)
        bad = error > atol + rtol * np.abs(numeric)
        if bad.any():
            worst = np.argsort(error, axis=None)[::-1][: min(5, int(bad.sum()))]
            rows = "\n".join(
                f"    index {np.unravel_index(k, x.shape)}: analytic {g._data.flat[k]:.8g}, "
                f"numeric {numeric.flat[k]:.8g}, |difference| {error.flat[k]:.3g}"
                for k in worst
            )
            failures.append(
                f"  input {i} (shape {x.shape}), {int(bad.sum())} of {x.size} elements off:\n{rows}"
            )
    if failures:
        raise GradcheckError(
            f"gradcheck failed (eps={eps}, atol={atol}, rtol={rtol}):\n" + "\n".join(failures)
        )
    return True
