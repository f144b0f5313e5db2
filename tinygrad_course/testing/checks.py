"""Gradient checks: the engine's derivatives against float64 central differences.

``gradcheck(fn, *inputs)`` compares the gradient that backpropagation computes with the
central difference ``(f(x + ε) − f(x − ε)) / 2ε``; ``gradgradcheck`` does the same for the
derivatives of the derivatives (the backward pass of the backward pass). Every op and model in
this library passes both; use them on your own functions the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from .._checks import real, whole
from ..autograd import enable_grad, grad
from ..errors import InputTypeError, InputValueError, TinygradCourseError
from ..tensor import ArrayLike, Tensor

Mode = Literal["full", "random"]
Objective = Callable[..., Tensor]

_ORDINALS = {1: "first", 2: "second", 3: "third"}
_WORST_SHOWN = 5


class GradcheckError(TinygradCourseError, AssertionError):
    """The analytic derivative disagrees with finite differences (the message says where)."""


def gradcheck(fn: Callable[..., Tensor], *inputs: ArrayLike, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, mode: Mode = "full", directions: int = 3, seed: int = 0) -> bool:
    """Check ``fn``'s gradients against central differences ``(f(x+ε) − f(x−ε)) / 2ε`` in float64.

    Every input is copied to a float64 tensor with ``requires_grad=True``; to hold an argument
    fixed, close over it (``lambda z: binary_cross_entropy_with_logits(z, y)``). A non-scalar
    output ``f`` is contracted with a fixed random cotangent ``v`` first, so the check covers the
    vector-Jacobian product ``vᵀ ∂f/∂x`` that backward computes.

    ``mode="full"`` perturbs every element of every input (2 calls of ``fn`` per element).
    ``mode="random"`` compares directional derivatives ``∇f · u`` along ``directions`` random
    unit directions ``u`` per input instead: 2 calls per direction, whatever the input's size.

    An element passes when ``|analytic − numeric| ≤ atol + rtol·|numeric|``. Returns True, or
    raises ``GradcheckError`` naming each failing input and its worst elements (index, analytic,
    numeric, absolute and relative error) with the tolerances used.
    """
    _check_settings("gradcheck", fn, eps, atol, rtol, mode, directions, seed)
    xs = _float64_leaves(inputs, "gradcheck")
    rng = np.random.default_rng(seed)
    objective, cotangent = _contracted(fn, xs, rng)
    _compare(objective, xs, 1, eps, atol, rtol, mode, directions, rng, cotangent)
    return True


def gradgradcheck(fn: Callable[..., Tensor], *inputs: ArrayLike, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, mode: Mode = "full", directions: int = 3, order: int = 2,
                  seed: int = 0) -> bool:
    """Check ``fn``'s derivatives of every order from 1 up to ``order`` (2: second derivatives).

    The k-th derivative is reached by differentiating the (k−1)-th with ``create_graph=True``,
    so this checks that the backward rules are themselves differentiable, as in the lesson's
    d/da a³ = 3a², d²/da² = 6a. Each order is contracted with fixed random weights ``w`` to a
    scalar ``Σᵢ wᵢ ⊙ ∂(previous)/∂xᵢ`` whose gradient is then compared with central differences,
    exactly as ``gradcheck`` does (same arguments). Lower orders are checked first, because a
    wrong first derivative differentiates consistently and only the first-order check sees it.
    """
    _check_settings("gradgradcheck", fn, eps, atol, rtol, mode, directions, seed)
    whole(order, "gradgradcheck: order", 1)
    xs = _float64_leaves(inputs, "gradgradcheck")
    rng = np.random.default_rng(seed)
    objective, cotangent = _contracted(fn, xs, rng)
    for k in range(1, int(order) + 1):
        if k > 1:
            objective = _differentiated(objective, [rng.standard_normal(x.shape) for x in xs])
        _compare(objective, xs, k, eps, atol, rtol, mode, directions, rng, cotangent)
    return True


# --------------------------------------------------------------------------- building the objectives


def _check_settings(who: str, fn: object, eps: object, atol: object, rtol: object, mode: object,
                    directions: object, seed: object) -> None:
    """Refuse bad arguments before ``fn`` runs, naming the argument, the value and what it must be."""
    if not callable(fn):
        raise InputTypeError(f"{who}: fn must be a function returning a Tensor, got {type(fn).__name__} "
                             f"{fn!r:.60}; the inputs come after it: {who}(fn, *inputs).")
    if not isinstance(mode, str):
        raise InputTypeError(f"{who}: mode must be 'full' or 'random', got {type(mode).__name__} "
                             f"{mode!r:.60}.")
    if mode not in ("full", "random"):
        raise InputValueError(f"{who}: mode must be 'full' or 'random', got {mode!r:.60}.")
    if real(eps, f"{who}: eps") <= 0:
        raise InputValueError(f"{who}: eps must be a positive step, got {eps!r}.")
    for name, tolerance in (("atol", atol), ("rtol", rtol)):
        if real(tolerance, f"{who}: {name}") < 0:
            raise InputValueError(f"{who}: atol and rtol must be ≥ 0, got {name}={tolerance!r}.")
    whole(directions, f"{who}: directions", 1)
    whole(seed, f"{who}: seed", 0)


def _float64_leaves(inputs: Sequence[ArrayLike], who: str) -> list[Tensor]:
    if not inputs:
        raise InputTypeError(f"{who}(fn, *inputs) needs at least one input tensor.")
    leaves = []
    for x in inputs:
        leaf = Tensor(np.array(Tensor(x).data, dtype=np.float64), requires_grad=True)
        leaf.name = x.name if isinstance(x, Tensor) else None
        leaves.append(leaf)
    return leaves


def _output(fn: Callable[..., Tensor], xs: Sequence[Tensor]) -> Tensor:
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise InputTypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}.")
    return out


def _contracted(fn: Callable[..., Tensor], xs: Sequence[Tensor],
                rng: np.random.Generator) -> tuple[Objective, tuple[int, ...] | None]:
    """``fn`` reduced to the scalar ``Σ v ⊙ fn(x)``: its gradient is the VJP ``vᵀJ`` for a fixed ``v``.

    Also returns the shape of ``v``: None when the output has one element and needs no ``v``.
    """
    with enable_grad():
        probe = _output(fn, xs)
    if probe.size == 1:
        return (lambda *ts: _output(fn, ts).sum()), None
    cotangent = rng.standard_normal(probe.shape)
    return (lambda *ts: (_output(fn, ts) * cotangent).sum()), probe.shape


def _gradients(scalar: Tensor, xs: Sequence[Tensor], create_graph: bool) -> tuple[Tensor, ...]:
    """``∂scalar/∂xᵢ`` for every input; zeros where the scalar does not depend on the inputs."""
    if not scalar.requires_grad:  # e.g. the derivative of a linear function: a constant
        return tuple(Tensor(np.zeros(x.shape)) for x in xs)
    return grad(scalar, xs, create_graph=create_graph, allow_unused=True)


def _differentiated(objective: Objective, weights: Sequence[np.ndarray]) -> Objective:
    """The next order: ``Σᵢ wᵢ ⊙ ∂objective/∂xᵢ``, recorded so that it can be differentiated again."""
    def next_order(*ts: Tensor) -> Tensor:
        gradients = _gradients(objective(*ts), ts, create_graph=True)
        return sum(((g * w).sum() for g, w in zip(gradients, weights, strict=True)), Tensor(0.0))
    return next_order


# --------------------------------------------------------------------------- the comparison


def _evaluate(objective: Objective, arrays: Sequence[np.ndarray]) -> float:
    # Recorded even at order 1: fn may differentiate inside (a gradient, a Hessian-vector product).
    with enable_grad():
        return objective(*[Tensor(a, requires_grad=True) for a in arrays]).item()


def _central_difference(objective: Objective, arrays: list[np.ndarray], i: int, step: np.ndarray,
                        eps: float) -> float:
    """``(f(xᵢ + ε·step) − f(xᵢ − ε·step)) / 2ε`` with the other inputs held fixed."""
    original = arrays[i]
    try:
        arrays[i] = original + eps * step
        plus = _evaluate(objective, arrays)
        arrays[i] = original - eps * step
        minus = _evaluate(objective, arrays)
    finally:
        arrays[i] = original
    return (plus - minus) / (2 * eps)


def _compare(objective: Objective, xs: Sequence[Tensor], order: int, eps: float, atol: float,
             rtol: float, mode: Mode, directions: int, rng: np.random.Generator,
             cotangent: tuple[int, ...] | None) -> None:
    with enable_grad():  # gradcheck inside a no_grad() block still needs the graph
        analytic = [g.data for g in _gradients(objective(*xs), xs, create_graph=False)]
    arrays = [x.data for x in xs]
    failures = []
    for i, x in enumerate(xs):
        if mode == "full":
            numeric = np.zeros(x.shape)
            for index in np.ndindex(*x.shape):
                step = np.zeros(x.shape)
                step[index] = 1.0
                numeric[index] = _central_difference(objective, arrays, i, step, eps)
            labels = [f"index {index}" for index in np.ndindex(*x.shape)]
            got, expected = analytic[i].reshape(-1), numeric.reshape(-1)
        else:
            steps = [_unit_direction(rng, x.shape) for _ in range(directions)]
            got = np.array([np.sum(analytic[i] * u) for u in steps])
            expected = np.array([_central_difference(objective, arrays, i, u, eps) for u in steps])
            labels = [f"direction {k} (∇·u)" for k in range(directions)]
        error = np.abs(got - expected)
        bad = ~(error <= atol + rtol * np.abs(expected))  # NaN counts as bad
        if bad.any():
            failures.append(_describe(i, x, labels, got, expected, error, bad))
    if failures:
        what = "gradient" if order == 1 else f"{_ordinal(order)} derivative"
        # A learner reading "analytic 0.7" for a (2, 3) output needs to know what was compared.
        contracted = "" if cotangent is None else (
            f"\n  fn's output has shape {cotangent}, not a scalar: the values checked are "
            + ("vector-Jacobian products vᵀJ" if order == 1 else "derivatives of vᵀf")
            + " with a fixed random cotangent v of that shape")
        raise GradcheckError(
            f"gradcheck failed: the {what} computed by backward disagrees with central differences.\n"
            + "\n".join(failures)
            + contracted
            + f"\n  tolerances: |analytic − numeric| ≤ atol + rtol·|numeric| with eps={eps:g}, "
            f"atol={atol:g}, rtol={rtol:g} (mode={mode!r})"
        )


def _unit_direction(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    u = rng.standard_normal(shape)
    norm = np.sqrt(np.sum(u * u))
    return u / norm if norm > 0 else u


def _describe(i: int, x: Tensor, labels: Sequence[str], got: np.ndarray, expected: np.ndarray,
              error: np.ndarray, bad: np.ndarray) -> str:
    name = f" {x.name!r}" if x.name else ""
    ranking = np.where(bad, np.nan_to_num(error, nan=np.inf), -1.0)
    worst = np.argsort(ranking, kind="stable")[::-1][: min(_WORST_SHOWN, int(bad.sum()))]
    rows = []
    for k in worst:
        relative = error[k] / abs(expected[k]) if expected[k] != 0 else np.inf
        rows.append(f"    {labels[k]}: analytic {got[k]:.8g}, numeric {expected[k]:.8g}, "
                    f"absolute error {error[k]:.3g}, relative error {relative:.3g}")
    return (f"  input {i}{name} (shape {x.shape}): {int(bad.sum())} of {len(labels)} checked values off; "
            "worst:\n" + "\n".join(rows))


def _ordinal(k: int) -> str:
    return _ORDINALS.get(k, f"{k}th")
