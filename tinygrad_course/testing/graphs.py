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

import string
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from .. import ops
from ..autograd import Op
from ..errors import InputTypeError, InputValueError
from ..ops.notation import notation_of
from ..tensor import Tensor
from .graph_steps import MAX_RANK, RULES, Builder, Step


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
        values = ", ".join(f"{name}=Tensor({x.data.tolist()!r})"
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
            if entry.name not in RULES and (entry.vjp_each is not None or len(entry.vjps) not in (1, 2)):
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
    builder = Builder(draw, side, inputs)
    for _ in range(n_steps):
        draw(_step(builder, op_list))
    assume(builder.steps)
    return ComputationGraph(
        [Tensor(v, requires_grad=True, name=f"x{k}") for k, v in enumerate(inputs)],
        _used_by_output(builder.steps, n_inputs),
    )


@st.composite
def _step(draw: Callable[..., Any], builder: Builder, op_list: list[Op]) -> bool:
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
