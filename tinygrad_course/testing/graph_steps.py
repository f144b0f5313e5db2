"""How ``computation_graphs`` grows a graph one ``Step`` at a time, and where each op may go.

``Builder`` holds the values drawn so far; ``RULES`` gives, per op, the operands and parameters
it may take so that finite differences stay trustworthy: log and sqrt on values ≥ ``SMALLEST``,
relu and abs at least ``MARGIN`` from 0, max without ties, no value beyond ``LIMIT``. An op
without a rule (your own) is used as an elementwise op of one or two inputs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..autograd import Op

MARGIN = 0.05      # how far every value stays from a kink (relu at 0, a tie in max, a clip bound)
SMALLEST = 0.1     # the least argument of log and sqrt, base of pow, |denominator|
LIMIT = 100.0      # the largest |value| anywhere: finite differences stay accurate
MAX_RANK = 5


class Step:
    """One node of the graph: ``op`` applied to earlier values (inputs first, then steps)."""

    __slots__ = ("op", "operands", "params")

    def __init__(self, op: Op, operands: tuple[int, ...], params: dict[str, Any]) -> None:
        self.op, self.operands, self.params = op, operands, params


# --------------------------------------------------------------------------- choosing a step

Choice = tuple[tuple[int, ...], dict[str, Any]] | None


class Builder:
    """The values drawn so far (float64 arrays, inputs first) and the draws that extend them."""

    def __init__(self, draw: Callable[..., Any], side: int, inputs: list[np.ndarray]) -> None:
        self.draw, self.side = draw, side
        self.values = list(inputs)
        self.steps: list[Step] = []

    def pick(self, ok: Callable[[np.ndarray], bool] = lambda v: True) -> int | None:
        """A value that ``ok`` accepts, the newest most often: graphs grow deep, not only wide."""
        candidates = [i for i in reversed(range(len(self.values))) if ok(self.values[i])]
        if not candidates:
            return None
        if self.draw(st.integers(0, 2)) > 0:
            return candidates[0]
        return self.draw(st.sampled_from(candidates))

    def sides(self) -> st.SearchStrategy[int]:
        return st.sampled_from([1, self.side])

    def add(self, op: Op) -> bool:
        """Append one application of ``op`` if it fits the values drawn so far."""
        choice = RULES.get(op.name, _generic)(self, op)
        if choice is None:
            return False
        operands, params = choice
        with np.errstate(all="ignore"):
            out = np.asarray(op.forward(*[self.values[i] for i in operands], **params), dtype=np.float64)
        fits = out.ndim <= MAX_RANK and all(n in (1, self.side) for n in out.shape)
        if not (fits and np.isfinite(out).all() and np.abs(out).max(initial=0.0) <= LIMIT):
            return False
        self.values.append(out)
        self.steps.append(Step(op, operands, params))
        return True


def _away_from(v: np.ndarray, point: float, margin: float = MARGIN) -> bool:
    return bool(np.all(np.abs(v - point) >= margin))


def _unary(ok: Callable[[np.ndarray], bool] = lambda v: True) -> Callable[[Builder, Op], Choice]:
    def rule(b: Builder, op: Op) -> Choice:
        i = b.pick(ok)
        return None if i is None else ((i,), {})
    return rule


def _binary(
    ok: Callable[[np.ndarray, np.ndarray], bool] = lambda a, c: True,
) -> Callable[[Builder, Op], Choice]:
    def rule(b: Builder, op: Op) -> Choice:
        i = b.pick()
        j = b.pick(lambda v: ok(b.values[i], v))
        return None if j is None else ((i, j), {})
    return rule


def _generic(b: Builder, op: Op) -> Choice:
    """Your own op: treated as elementwise, unary or binary (broadcasting), defined for all reals."""
    return _binary()(b, op) if len(op.vjps) == 2 else _unary()(b, op)


def _leaky_relu(b: Builder, op: Op) -> Choice:
    i = b.pick(lambda v: _away_from(v, 0.0))
    return None if i is None else ((i,), {"slope": b.draw(st.sampled_from([0.1, 0.01, 0.2]))})


def _matmul(b: Builder, op: Op) -> Choice:
    i = b.pick(lambda v: v.ndim >= 1)
    if i is None:
        return None
    inner = b.values[i].shape[-1]
    j = b.pick(lambda v: v.ndim >= 1 and v.shape[0 if v.ndim == 1 else -2] == inner)
    return None if j is None else ((i, j), {})


def _transpose(b: Builder, op: Op) -> Choice:
    # Backward must transpose by the inverse permutation, which only differs from the permutation
    # itself with three axes or more: such values are preferred, and half the draws are such
    # permutations (the other half x.T and the permutations that undo themselves).
    i = b.pick(lambda v: v.ndim >= 3)
    if i is None:
        i = b.pick(lambda v: v.ndim >= 2)
    if i is None:
        return None
    ndim = b.values[i].ndim
    orders = list(itertools.permutations(range(ndim)))
    undo_themselves = [order for order in orders if all(order[axis] == k for k, axis in enumerate(order))]
    others = [order for order in orders if order not in undo_themselves]
    rest = st.sampled_from([*undo_themselves, None])
    order = b.draw(st.sampled_from(others) | rest if others else rest)
    if order is None:  # x.T
        return (i,), {"axes": None}
    return (i,), {"axes": tuple(b.draw(st.sampled_from([axis, axis - ndim])) for axis in order)}


def _reshape(b: Builder, op: Op) -> Choice:
    """Drop the size-1 axes and put some back elsewhere: the size stays, the sides stay 1 or n."""
    i = b.pick()
    shape = [n for n in b.values[i].shape if n != 1]
    for _ in range(b.draw(st.integers(0, 2))):
        shape.insert(b.draw(st.integers(0, len(shape))), 1)
    return (i,), {"shape": tuple(shape)}


def _broadcast_to(b: Builder, op: Op) -> Choice:
    i = b.pick()
    leading = tuple(b.draw(b.sides()) for _ in range(b.draw(st.integers(0, 1))))
    stretched = tuple(n if n != 1 else b.draw(b.sides()) for n in b.values[i].shape)
    return (i,), {"shape": leading + stretched}


def _getitem(b: Builder, op: Op) -> Choice:
    i = b.pick(lambda v: v.ndim >= 1)
    if i is None:
        return None
    shape = b.values[i].shape
    axis = b.draw(st.integers(0, len(shape) - 1))
    size = shape[axis]
    kind = b.draw(st.sampled_from(["integer array", "int", "slice", "mask"]))
    if kind == "int":
        index: Any = b.draw(st.integers(-size, size - 1))
    elif kind == "slice":
        index = slice(None, None, -1)
    elif kind == "integer array":  # repeats allowed: x[[0, 0]] uses x[0] twice
        length = b.draw(b.sides())
        index = np.array(b.draw(st.lists(st.integers(0, size - 1), min_size=length, max_size=length)),
                         dtype=np.intp)
    else:  # a boolean mask that keeps one element, or all of them
        index = np.zeros(size, dtype=bool)
        index[b.draw(st.integers(0, size - 1))] = True
        index |= b.draw(st.booleans())
    return (i,), {"index": index if axis == 0 else (slice(None),) * axis + (index,)}


def _scatter_add(b: Builder, op: Op) -> Choice:
    i = b.pick(lambda v: v.ndim >= 1)
    if i is None:
        return None
    shape = b.values[i].shape
    rows = b.draw(b.sides())
    if b.draw(st.booleans()):  # an integer array: several rows of g may land on one row of out
        targets = b.draw(st.lists(st.integers(0, rows - 1), min_size=shape[0], max_size=shape[0]))
        index: Any = np.array(targets, dtype=np.intp)
        return (i,), {"index": index, "shape": (rows, *shape[1:])}
    return (i,), {"index": b.draw(st.integers(0, rows - 1)), "shape": (rows, *shape)}


def _reduction(no_ties: bool) -> Callable[[Builder, Op], Choice]:
    def rule(b: Builder, op: Op) -> Choice:
        i = b.pick()
        ndim = b.values[i].ndim
        axis = b.draw(st.none() if ndim == 0 else (
            st.none() | st.integers(-ndim, ndim - 1)
            | st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(tuple)))
        if no_ties and not _one_clear_maximum(b.values[i], axis):
            return None
        return (i,), {"axis": axis, "keepdims": b.draw(st.booleans())}
    return rule


def _one_clear_maximum(v: np.ndarray, axis: int | tuple[int, ...] | None) -> bool:
    """Within every reduced group, the largest value leads the runner-up by at least MARGIN."""
    reduced = tuple(range(v.ndim)) if axis is None else tuple(
        a % v.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
    kept = [a for a in range(v.ndim) if a not in reduced]
    groups = np.transpose(v, kept + list(reduced)).reshape(int(np.prod([v.shape[a] for a in kept])), -1)
    if groups.shape[1] < 2:
        return True
    top_two = np.sort(groups, axis=1)[:, -2:]
    return bool(np.all(top_two[:, 1] - top_two[:, 0] >= MARGIN))


def _clip(b: Builder, op: Op) -> Choice:
    low = b.draw(st.sampled_from([-1.0, -0.5, 0.0, None]))
    high = b.draw(st.sampled_from([1.0, 0.5, None]))
    if (low is None and high is None) or (low is not None and high is not None and low >= high):
        return None
    i = b.pick(lambda v: all(bound is None or _away_from(v, bound) for bound in (low, high)))
    return None if i is None else ((i,), {"low": low, "high": high})


def _where(b: Builder, op: Op) -> Choice:
    i, j = b.pick(), b.pick()
    shape = np.broadcast_shapes(b.values[i].shape, b.values[j].shape)
    return (i, j), {"condition": b.draw(hnp.arrays(np.bool_, shape))}


def _joined(stack: bool) -> Callable[[Builder, Op], Choice]:
    """concatenate n pieces of side 1 (or one piece), or stack 1 or n pieces; pieces may repeat."""
    def rule(b: Builder, op: Op) -> Choice:
        i = b.pick(lambda v: stack or v.ndim >= 1)
        if i is None:
            return None
        shape = b.values[i].shape
        if stack:
            axis = b.draw(st.integers(-len(shape) - 1, len(shape)))
            count = b.draw(b.sides())
        else:
            axis = b.draw(st.integers(-len(shape), len(shape) - 1))
            count = b.draw(b.sides()) if shape[axis] == 1 else 1
        pieces = (i, *(b.pick(lambda v: v.shape == shape) for _ in range(count - 1)))
        return pieces, {"axis": axis}
    return rule


def _same_dtype(b: Builder, op: Op) -> Choice:
    """The graphs are float64 throughout: a cast to float64 (mixed dtypes are tested on their own)."""
    i = b.pick()
    return None if i is None else ((i,), {"dtype": np.dtype(np.float64)})


def _is_positive(v: np.ndarray) -> bool:
    return bool(np.all(v >= SMALLEST))


def _is_label(v: np.ndarray) -> bool:
    return bool(np.all((v >= 0) & (v <= 1)))


def _is_probability(v: np.ndarray) -> bool:
    """Inside [0.05, 0.95], where log a and log(1 − a) stay tame enough for finite differences."""
    return bool(np.all((v >= 0.05) & (v <= 0.95)))


def _bce(b: Builder, op: Op) -> Choice:
    i = b.pick(_is_probability)
    j = None if i is None else b.pick(_is_label)
    return None if j is None else ((i, j), {})


def _is_denominator(v: np.ndarray) -> bool:
    return _away_from(v, 0.0, SMALLEST)


RULES: dict[str, Callable[[Builder, Op], Choice]] = {
    "add": _binary(), "sub": _binary(), "mul": _binary(),
    "div": _binary(lambda a, c: _is_denominator(c)),
    "pow": _binary(lambda a, c: _is_positive(a)),
    "neg": _unary(), "matmul": _matmul, "transpose": _transpose, "reshape": _reshape,
    "broadcast_to": _broadcast_to, "getitem": _getitem, "scatter_add": _scatter_add,
    "sum": _reduction(no_ties=False), "mean": _reduction(no_ties=False), "max": _reduction(no_ties=True),
    "exp": _unary(), "log": _unary(_is_positive), "sqrt": _unary(_is_positive),
    "abs": _unary(lambda v: _away_from(v, 0.0)), "relu": _unary(lambda v: _away_from(v, 0.0)),
    "leaky_relu": _leaky_relu, "sigmoid": _unary(), "tanh": _unary(), "softplus": _unary(),
    "bce_with_logits": _binary(lambda z, y: _is_label(y)),
    "bce": _bce,
    "maximum": _binary(lambda a, c: _away_from(a - c, 0.0)),
    "minimum": _binary(lambda a, c: _away_from(a - c, 0.0)),
    "clip": _clip, "where": _where, "concatenate": _joined(stack=False), "stack": _joined(stack=True),
    "astype": _same_dtype,
}
