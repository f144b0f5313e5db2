"""Random computation graphs: expression DAGs drawn from the op table, printed as code.

``computation_graphs()`` builds small functions such as::

    def f(x0, x1):
        v1 = x0 * x1
        v2 = v1.exp()
        return v2 + v1

out of the primitives in ``ops.TABLE``, with fan-out (``v1`` above is used twice) and
broadcasting (``x0`` of shape ``(3, 1)`` against ``x1`` of shape ``(3,)``). Each graph is a
callable together with its inputs, so a property reads::

    @given(computation_graphs())
    def test_backprop(graph):
        assert gradgradcheck(graph, *graph.inputs)

How the graphs stay checkable: every tensor in a graph has axes of one length ``n`` or 1, so
any two of them broadcast together; and each op is applied only where finite differences are
trustworthy — log and sqrt to values ≥ 0.1, relu and abs away from 0, max without ties, no value
larger than 100 — judged on the graph's own input values while it is drawn.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import ops
from ..autograd import Op
from ..errors import InputTypeError, InputValueError
from ..ops.notation import notation_of
from ..tensor import Tensor

MARGIN = 0.05      # how far every value stays from a kink (relu at 0, a tie in max, a clip bound)
SMALLEST = 0.1     # the least argument of log and sqrt, base of pow, |denominator|
LIMIT = 100.0      # the largest |value| anywhere: finite differences stay accurate
MAX_RANK = 5


class Step:
    """One node of the graph: ``op`` applied to earlier values (inputs first, then steps)."""

    __slots__ = ("op", "operands", "params")

    def __init__(self, op: Op, operands: tuple[int, ...], params: dict[str, Any]) -> None:
        self.op, self.operands, self.params = op, operands, params


class ComputationGraph:
    """A random function of ``inputs``, made of op-table primitives; ``graph(*graph.inputs)`` runs it.

    ``repr`` prints it as the Python function it is and the call on the input values, so a
    failing example can be read, and pasted into a session that imports ``Tensor``, ``ops``,
    ``where``, ``maximum``, ``minimum``, ``concatenate`` and ``stack``.
    """

    def __init__(self, inputs: Sequence[Tensor], steps: Sequence[Step]) -> None:
        self.inputs = tuple(inputs)
        self.steps = tuple(steps)

    def __call__(self, *xs: Tensor) -> Tensor:
        values = list(xs)
        for step in self.steps:
            values.append(step.op(*[values[i] for i in step.operands], **step.params))
        return values[-1]

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def op_names(self) -> tuple[str, ...]:
        """The ops of the steps, in order."""
        return tuple(step.op.name for step in self.steps)

    def __repr__(self) -> str:
        names = [f"x{k}" for k in range(len(self.inputs))]
        shapes = ", ".join(f"{name}: {x.shape}" for name, x in zip(names, self.inputs, strict=True))
        lines = [f"def f({', '.join(names)}):  # {shapes}"]
        for k, step in enumerate(self.steps, start=1):
            expression = _format(step, [names[i] for i in step.operands])
            if k == len(self.steps):
                lines.append(f"    return {expression}")
            else:
                names.append(f"v{k}")
                lines.append(f"    v{k} = {expression}")
        values = ", ".join(f"{name}=Tensor({x._data.tolist()!r})"
                           for name, x in zip(names[: len(self.inputs)], self.inputs, strict=True))
        lines.append(f"f({values})")
        return "\n".join(lines)


# --------------------------------------------------------------------------- printing steps as code

def _literal(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return repr(value.tolist())
    if isinstance(value, slice):
        parts = ["" if p is None else str(p) for p in (value.start, value.stop, value.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if value.step is not None else "")
    if isinstance(value, tuple):
        return ", ".join(_literal(v) for v in value)
    return repr(value)


class _Code(string.Formatter):
    """``str.format`` with one more conversion, ``!l``: an index or mask written as a literal."""

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        return _literal(value) if conversion == "l" else super().convert_field(value, conversion)


def _format(step: Step, args: list[str]) -> str:
    """The step as Python, from the op's ``code`` in ``ops.notation``; a user's own op as a call."""
    template = notation_of(step.op.name).code
    if template is None:
        extras = [f"{key}={_literal(value)}" for key, value in step.params.items()]
        return f"{step.op.name}({', '.join(args + extras)})"
    return _Code().format(template, *args, inputs=", ".join(args), **step.params)


# --------------------------------------------------------------------------- choosing a step

Choice = tuple[tuple[int, ...], dict[str, Any]] | None


class _Builder:
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
        choice = _RULES.get(op.name, _generic)(self, op)
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


def _unary(ok: Callable[[np.ndarray], bool] = lambda v: True) -> Callable[[_Builder, Op], Choice]:
    def rule(b: _Builder, op: Op) -> Choice:
        i = b.pick(ok)
        return None if i is None else ((i,), {})
    return rule


def _binary(
    ok: Callable[[np.ndarray, np.ndarray], bool] = lambda a, c: True,
) -> Callable[[_Builder, Op], Choice]:
    def rule(b: _Builder, op: Op) -> Choice:
        i = b.pick()
        j = b.pick(lambda v: ok(b.values[i], v))
        return None if j is None else ((i, j), {})
    return rule


def _generic(b: _Builder, op: Op) -> Choice:
    """Your own op: treated as elementwise, unary or binary (broadcasting), defined for all reals."""
    return _binary()(b, op) if len(op.vjps) == 2 else _unary()(b, op)


def _leaky_relu(b: _Builder, op: Op) -> Choice:
    i = b.pick(lambda v: _away_from(v, 0.0))
    return None if i is None else ((i,), {"slope": b.draw(st.sampled_from([0.1, 0.01, 0.2]))})


def _matmul(b: _Builder, op: Op) -> Choice:
    i = b.pick(lambda v: v.ndim >= 1)
    if i is None:
        return None
    inner = b.values[i].shape[-1]
    j = b.pick(lambda v: v.ndim >= 1 and v.shape[0 if v.ndim == 1 else -2] == inner)
    return None if j is None else ((i, j), {})


def _transpose(b: _Builder, op: Op) -> Choice:
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


def _reshape(b: _Builder, op: Op) -> Choice:
    """Drop the size-1 axes and put some back elsewhere: the size stays, the sides stay 1 or n."""
    i = b.pick()
    shape = [n for n in b.values[i].shape if n != 1]
    for _ in range(b.draw(st.integers(0, 2))):
        shape.insert(b.draw(st.integers(0, len(shape))), 1)
    return (i,), {"shape": tuple(shape)}


def _broadcast_to(b: _Builder, op: Op) -> Choice:
    i = b.pick()
    leading = tuple(b.draw(b.sides()) for _ in range(b.draw(st.integers(0, 1))))
    stretched = tuple(n if n != 1 else b.draw(b.sides()) for n in b.values[i].shape)
    return (i,), {"shape": leading + stretched}


def _getitem(b: _Builder, op: Op) -> Choice:
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


def _scatter_add(b: _Builder, op: Op) -> Choice:
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


def _reduction(no_ties: bool) -> Callable[[_Builder, Op], Choice]:
    def rule(b: _Builder, op: Op) -> Choice:
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


def _clip(b: _Builder, op: Op) -> Choice:
    low = b.draw(st.sampled_from([-1.0, -0.5, 0.0, None]))
    high = b.draw(st.sampled_from([1.0, 0.5, None]))
    if (low is None and high is None) or (low is not None and high is not None and low >= high):
        return None
    i = b.pick(lambda v: all(bound is None or _away_from(v, bound) for bound in (low, high)))
    return None if i is None else ((i,), {"low": low, "high": high})


def _where(b: _Builder, op: Op) -> Choice:
    i, j = b.pick(), b.pick()
    shape = np.broadcast_shapes(b.values[i].shape, b.values[j].shape)
    return (i, j), {"condition": b.draw(hnp.arrays(np.bool_, shape))}


def _joined(stack: bool) -> Callable[[_Builder, Op], Choice]:
    """concatenate n pieces of side 1 (or one piece), or stack 1 or n pieces; pieces may repeat."""
    def rule(b: _Builder, op: Op) -> Choice:
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


def _same_dtype(b: _Builder, op: Op) -> Choice:
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


def _bce(b: _Builder, op: Op) -> Choice:
    i = b.pick(_is_probability)
    j = None if i is None else b.pick(_is_label)
    return None if j is None else ((i, j), {})


def _is_denominator(v: np.ndarray) -> bool:
    return _away_from(v, 0.0, SMALLEST)


_RULES: dict[str, Callable[[_Builder, Op], Choice]] = {
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


# --------------------------------------------------------------------------- the strategy


def _resolve(chosen: Iterable[str | Op] | None) -> list[Op]:
    if chosen is None:
        return list(ops.TABLE.values())
    if isinstance(chosen, (str, Op)):
        chosen = [chosen]
    resolved = []
    for entry in chosen:
        if isinstance(entry, str):
            if entry not in ops.TABLE:
                raise InputValueError(f"computation_graphs: unknown op {entry!r}; the op table has "
                                      f"{', '.join(ops.TABLE)}.")
            resolved.append(ops.TABLE[entry])
        elif isinstance(entry, Op):
            if entry.name not in _RULES and (entry.vjp_each is not None or len(entry.vjps) not in (1, 2)):
                raise InputValueError(
                    f"computation_graphs: your op {entry.name!r} is used as an elementwise op with one or "
                    "two inputs, but it has a different number of inputs."
                )
            resolved.append(entry)
        else:
            raise InputTypeError(f"computation_graphs: ops must hold op names or Op objects, got {entry!r}.")
    if not resolved:
        raise InputValueError("computation_graphs: ops must name at least one op.")
    return resolved


def computation_graphs(ops: Iterable[str | Op] | None = None, max_nodes: int = 6, n_inputs: int = 2,
                       max_side: int = 3, max_dims: int = 3) -> st.SearchStrategy[ComputationGraph]:
    """Random expression DAGs of up to ``max_nodes`` op applications on ``n_inputs`` input tensors.

    ``ops`` restricts the ops by name (``["add", "mul", "exp"]``; all of ``ops.TABLE`` by
    default) and may include ``Op`` objects of your own, which are used as elementwise ops of one
    or two (broadcasting) inputs defined for every real number. Inputs have up to ``max_dims``
    axes, each of length 1 or ``n ≤ max_side``; they are float64 tensors with
    ``requires_grad=True``, named ``x0``, ``x1``, .... Nodes whose result the output does not
    use are dropped, so the printed function is exactly what matters.

    The number of steps and of input axes are each the larger of two uniform draws, so most
    graphs are several steps deep on inputs of several axes, and ``n ≥ 2`` unless
    ``max_side=1``; hypothesis still shrinks a failure to one step on scalars where it can.
    """
    op_list = _resolve(ops)
    for name, value, least in (("max_nodes", max_nodes, 1), ("n_inputs", n_inputs, 1),
                               ("max_side", max_side, 1), ("max_dims", max_dims, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise InputValueError(
                f"computation_graphs: {name} must be a whole number ≥ {least}, got {value!r}."
            )
    if max_dims > MAX_RANK - 1:
        raise InputValueError(f"computation_graphs: max_dims must be ≤ {MAX_RANK - 1}, got {max_dims}.")
    return _graphs(op_list, max_nodes, n_inputs, max_side, max_dims)


@st.composite
def _graphs(draw: Callable[..., Any], op_list: list[Op], max_nodes: int, n_inputs: int, max_side: int,
            max_dims: int) -> ComputationGraph:
    n_steps = _mostly_high(draw, 1, max_nodes)
    # n ≥ 2: whether a side is 1 is each axis's own draw (with n = 1 every side of the graph was).
    side = draw(st.integers(min(2, max_side), max_side))
    shapes = [tuple(draw(st.sampled_from([1, side])) for _ in range(_mostly_high(draw, 0, max_dims)))
              for _ in range(n_inputs)]
    magnitudes = st.floats(0.25, 2.0)
    inputs = []
    for shape in shapes:
        # Some inputs all positive, so that log, sqrt and pow find arguments, and some inside
        # [0.25, 0.75], so that the cross-entropies find labels and probabilities (of a few
        # elements drawn from [0.25, 2], too rarely all are below 1: graphs were filtered out).
        kind = draw(st.sampled_from(["signed", "positive", "probabilities"]))
        elements = {"signed": magnitudes | magnitudes.map(lambda v: -v), "positive": magnitudes,
                    "probabilities": st.floats(0.25, 0.75)}[kind]
        # One draw per element, not hnp.arrays: when hypothesis splices examples together, the
        # array's variable-length draws put every later draw of the example at its simplest value.
        inputs.append(np.array([draw(elements) for _ in range(int(np.prod(shape)))]).reshape(shape))
    builder = _Builder(draw, side, inputs)
    for _ in range(n_steps):
        draw(_step(builder, op_list))
    assume(builder.steps)
    return ComputationGraph(
        [Tensor(v, requires_grad=True, name=f"x{k}") for k, v in enumerate(inputs)],
        _used_by_output(builder.steps, n_inputs),
    )


@st.composite
def _step(draw: Callable[..., Any], builder: _Builder, op_list: list[Op]) -> bool:
    """One more step, if one of a few ops drawn fits. Its draws form one span of the example, which
    the shrinker can delete whole while it lowers the number of steps."""
    builder.draw = draw  # the rules draw through the builder
    return any(builder.add(draw(st.sampled_from(op_list))) for _attempt in range(4))


def _mostly_high(draw: Callable[..., Any], low: int, high: int) -> int:
    """The larger of two uniform draws from ``low..high``: mostly near ``high``, and shrinks to ``low``."""
    numbers = st.sampled_from(range(low, high + 1))  # uniform, where st.integers favours its bounds
    return max(draw(numbers), draw(numbers))


def _used_by_output(steps: list[Step], n_inputs: int) -> list[Step]:
    """The steps behind the output, renumbered; the others would only distract a reader.

    The output is the value that depends on the most steps (the newest of those): a step that
    starts again from an input does not cut the graph short.
    """
    behind: list[set[int]] = [set() for _ in range(n_inputs)]  # the steps each value depends on
    for position, step in enumerate(steps, start=n_inputs):
        behind.append({position}.union(*(behind[i] for i in step.operands)))
    output = max(range(n_inputs, len(behind)), key=lambda position: (len(behind[position]), position))
    kept = sorted(behind[output])
    renumber = {p: p for p in range(n_inputs)} | {p: n_inputs + k for k, p in enumerate(kept)}
    return [Step(steps[p - n_inputs].op, tuple(renumber[i] for i in steps[p - n_inputs].operands),
                 steps[p - n_inputs].params) for p in kept]
