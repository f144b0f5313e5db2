"""computation_graphs(): random DAGs over the op table, printed as code that runs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings

import tinygrad_course as tc
from tinygrad_course import InputTypeError, InputValueError, Tensor, ops
from tinygrad_course.autograd import Op
from tinygrad_course.testing import ComputationGraph, computation_graphs, gradgradcheck
from tinygrad_course.testing.graphs import Step

QUICK = settings(database=None, max_examples=500)


def _run_printed_code(graph: ComputationGraph) -> Tensor:
    """Execute ``repr(graph)`` as a user would after pasting it: the def, then the call."""
    *definition, call = repr(graph).splitlines()
    namespace = {"Tensor": Tensor, "ops": ops, "where": tc.where, "maximum": tc.maximum,
                 "minimum": tc.minimum, "concatenate": tc.concatenate, "stack": tc.stack}
    exec("\n".join(definition), namespace)
    return eval(call, namespace)


@given(computation_graphs(max_nodes=5, n_inputs=3, max_side=3, max_dims=3))
def test_a_graph_is_a_function_of_its_inputs_and_its_repr_is_that_function(graph: ComputationGraph) -> None:
    assert len(graph.inputs) == 3 and 1 <= len(graph) <= 5
    assert all(x.requires_grad and x.dtype == np.float64 and x.ndim <= 3 for x in graph.inputs)
    out = graph(*graph.inputs)
    assert isinstance(out, Tensor) and np.isfinite(out._data).all()
    # Every tensor has sides of one length n or 1, so any two broadcast together.
    assert len({n for x in (*graph.inputs, out) for n in x.shape} - {1}) <= 1
    np.testing.assert_array_equal(_run_printed_code(graph)._data, out._data)


@pytest.mark.parametrize("name", sorted(ops.TABLE))
def test_every_op_prints_as_code_that_runs(name: str) -> None:
    # Deterministic, per op: the random property above may not draw a rare op on a given run.
    graph = find(computation_graphs(ops=[name], max_nodes=2), lambda g: name in g.op_names,
                 settings=settings(QUICK, derandomize=True))
    np.testing.assert_array_equal(_run_printed_code(graph)._data, graph(*graph.inputs)._data)


def test_the_repr_reads_as_code() -> None:
    x0, x1 = Tensor([[0.5], [1.0]], requires_grad=True), Tensor([2.0, -1.0], requires_grad=True)
    steps = [Step(ops.mul, (0, 1), {}), Step(ops.sum_, (2,), {"axis": 0, "keepdims": True}),
             Step(ops.exp, (3,), {})]
    graph = ComputationGraph([x0, x1], steps)
    assert repr(graph) == (
        "def f(x0, x1):  # x0: (2, 1), x1: (2,)\n"
        "    v1 = x0 * x1\n"
        "    v2 = v1.sum(axis=0, keepdims=True)\n"
        "    return v2.exp()\n"
        "f(x0=Tensor([[0.5], [1.0]]), x1=Tensor([2.0, -1.0]))"
    )
    # exp(Σ over the column of x0 ⊙ x1) = exp([0.5·2 + 1·2, 0.5·(−1) + 1·(−1)]) = exp([3, −1.5])
    np.testing.assert_allclose(graph(x0, x1)._data, np.exp([[3.0, -1.5]]))


def _features(graph: ComputationGraph) -> set[str]:
    uses = [i for step in graph.steps for i in step.operands]
    shapes = [x.shape for x in graph.inputs]
    features = set()
    if len(uses) > len(set(uses)):
        features.add("fan-out")
    if any(len({shapes[i] for i in step.operands if i < len(shapes)}) > 1 for step in graph.steps):
        features.add("broadcasting")
    if len(graph) >= 4:
        features.add("four ops deep")
    return features


@pytest.mark.parametrize("feature", ["fan-out", "broadcasting", "four ops deep"])
def test_the_graphs_fan_out_broadcast_and_grow_deep(feature: str) -> None:
    # The first graph with the feature (no shrinking), from a fixed seed: the same search each run.
    first_hit = settings(max_examples=2000, derandomize=True, database=None, phases=[Phase.generate])
    graph = find(computation_graphs(), lambda g: feature in _features(g), settings=first_hit)
    assert gradgradcheck(graph, *graph.inputs)


@pytest.mark.parametrize("name", list(ops.TABLE))
def test_every_op_in_the_table_can_be_drawn_into_a_graph(name: str) -> None:
    @settings(max_examples=10)
    @given(computation_graphs(ops=[name], max_nodes=2))
    def check(graph: ComputationGraph) -> None:
        assert set(graph.op_names) == {name}
        assert gradgradcheck(graph, *graph.inputs)

    check()


def test_your_own_elementwise_op_can_join_the_graphs() -> None:
    cube = Op("cube", "³", lambda a: a ** 3, lambda g, out, a: g * 3 * a * a)
    graph = find(computation_graphs(ops=["add", cube]), lambda g: "cube" in g.op_names, settings=QUICK)
    assert "cube(" in repr(graph)
    assert gradgradcheck(graph, *graph.inputs)


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: computation_graphs(ops=["mull"]), InputValueError,
         "unknown op 'mull'; the op table has add"),
        (lambda: computation_graphs(ops=[3]), InputTypeError, "op names or Op objects, got 3"),
        (lambda: computation_graphs(ops=[]), InputValueError, "at least one op"),
        (lambda: computation_graphs(max_nodes=0), InputValueError, "max_nodes must be a whole number ≥ 1"),
        (lambda: computation_graphs(max_dims=9), InputValueError, "max_dims must be ≤ 4"),
        (lambda: computation_graphs(ops=[Op("join", "j", np.add, vjp_each=lambda i, g, out, *xs: g)]),
         InputValueError, "elementwise op with one or two inputs"),
    ],
)
def test_bad_arguments_are_named(make: object, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        make()  # type: ignore[operator]
