"""Mutation checks: deliberately wrong gradients, and proof that each checker catches them.

A checker that never fails proves nothing. Each mutant below is a function or a test-only
``Op`` with a wrong backward rule (``ops`` itself is never touched); the tests assert that
``gradcheck``, ``gradgradcheck`` and the suite's random-graph property catch it, and that
hypothesis shrinks the failure to a small example a person can read. Run with ``-s`` to see
the shrunk examples printed.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_course import GradientError, Tensor, ops
from tinygrad_course.autograd import Op
from tinygrad_course.testing import (
    ComputationGraph,
    GradcheckError,
    computation_graphs,
    gradcheck,
    gradgradcheck,
    shapes,
    tensors,
)

# d(ab)/da = b and d(ab)/db = a. Each mutant gets one of these wrong in its own way.
MUTANTS = {
    # The VJP for b uses the wrong factor: g·b instead of g·a.
    "swapped_factor": Op("swapped_factor", "×", np.multiply,
                         lambda g, out, a, b: g * b,
                         lambda g, out, a, b: g * b),
    # As if b had been detach()ed inside the op: no gradient reaches it at all.
    "detached_b": Op("detached_b", "×", np.multiply,
                     lambda g, out, a, b: g * b,
                     lambda g, out, a, b: g * 0.0),
    # Right values, but computed on raw arrays: create_graph cannot see through them, so every
    # second derivative through this op is lost. Only second-order checks can notice.
    "numpy_vjp": Op("numpy_vjp", "×", np.multiply,
                    lambda g, out, a, b: g * np.asarray(b),
                    lambda g, out, a, b: g * np.asarray(a)),
}
FIRST_ORDER_WRONG = ["swapped_factor", "detached_b"]
# Backward transposes g by the forward's axes instead of their inverse: right whenever the
# permutation undoes itself (x.T, every matrix), wrong for (1, 2, 0) and the like.
WRONG_TRANSPOSE = Op("transpose", "ᵀ", lambda a, axes: a.transpose(axes),
                     lambda g, out, a, axes: ops.transpose(g, axes=axes))
INPUTS = (Tensor([0.5, -1.5, 2.0]), Tensor([1.25, 0.75, -0.5]))

# A fixed seed and no example database: the same search, and the same shrunk example, every run.
SEARCH = settings(max_examples=200, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])


# hypothesis's heading for the shrunk example ("Failing test case" since 6.16x).
HEADING = "(?:Falsifying example|Failing test case)"


def _falsifying_example(failure: pytest.ExceptionInfo[BaseException]) -> str:
    notes = [note for note in getattr(failure.value, "__notes__", []) if re.match(HEADING, note)]
    assert notes, f"hypothesis did not report a falsifying example: {getattr(failure.value, '__notes__', [])}"
    print(f"\n--- shrunk example ---\n{notes[0]}\n--- error ---\n{failure.value}")
    return notes[0]


# --------------------------------------------------------------------------- gradcheck and gradgradcheck


def test_gradcheck_catches_detach_on_one_factor() -> None:
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: a * b.detach(), *INPUTS)


def test_gradgradcheck_catches_detach_on_one_factor() -> None:
    with pytest.raises(GradcheckError, match="the gradient computed by backward disagrees"):
        gradgradcheck(lambda a, b: a * b.detach(), *INPUTS)


@pytest.mark.parametrize("name", FIRST_ORDER_WRONG)
@pytest.mark.parametrize("mode", ["full", "random"])
def test_gradcheck_catches_a_wrong_vjp(name: str, mode: str) -> None:
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3,\)\): 3 of \d checked values off"):
        gradcheck(MUTANTS[name], *INPUTS, mode=mode)


@pytest.mark.parametrize("name", FIRST_ORDER_WRONG)
def test_gradgradcheck_catches_a_wrong_vjp(name: str) -> None:
    with pytest.raises(GradcheckError, match="input 1"):
        gradgradcheck(MUTANTS[name], *INPUTS)


def test_a_vjp_on_raw_arrays_passes_gradcheck_and_fails_gradgradcheck() -> None:
    assert gradcheck(MUTANTS["numpy_vjp"], *INPUTS)   # first derivatives are right
    with pytest.raises(GradcheckError, match="second derivative") as failure:
        gradgradcheck(MUTANTS["numpy_vjp"], *INPUTS)
    assert "input 0" in str(failure.value) and "input 1" in str(failure.value)


# --------------------------------------------------------------------------- the random-graph property


def _random_graph_property(chosen_ops: list[str | Op]) -> object:
    """The suite's property over computation_graphs(), restricted to ``chosen_ops``."""
    @SEARCH
    @given(computation_graphs(ops=chosen_ops))
    def random_graphs_backpropagate_exactly(graph: ComputationGraph) -> None:
        assert gradgradcheck(graph, *graph.inputs)
    return random_graphs_backpropagate_exactly


@pytest.mark.parametrize("name", list(MUTANTS))
def test_the_random_graph_property_catches_the_mutant_and_shrinks_it(name: str) -> None:
    mutant = MUTANTS[name]
    with pytest.raises(GradcheckError) as failure:
        _random_graph_property(["add", "exp", "tanh", "sum", mutant])()  # type: ignore[operator]
    example = _falsifying_example(failure)
    # Shrunk to scalar inputs and the mutant applied to them, or to one step made of them (the
    # shrinker's path, and so which of the two it ends on, differs between runs of the suite).
    assert re.fullmatch(
        rf"{HEADING}: random_graphs_backpropagate_exactly\(\n"
        rf"    graph=def f\(x0, x1\):  # x0: \(\), x1: \(\)\n"
        rf"(        v1 = [^\n]*\n)?"
        rf"        return {name}\((x[01]|v1), (x[01]|v1)\)\n"
        rf"    f\(x0=Tensor\(-?[0-9.]+\), x1=Tensor\(-?[0-9.]+\)\),\n\)",
        example,
    ), example
    order = "second derivative" if name == "numpy_vjp" else "gradient"
    assert f"the {order} computed by backward disagrees" in str(failure.value)


def test_the_random_graph_property_catches_a_wrong_entry_in_the_op_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Swap the table's own mul for the mutant: the default graphs (all ops) must find it.
    monkeypatch.setitem(ops.TABLE, "mul", Op("mul", "×", np.multiply, *MUTANTS["swapped_factor"].vjps))
    with pytest.raises(GradcheckError) as failure:
        _random_graph_property(list(ops.TABLE))()  # type: ignore[operator]
    example = _falsifying_example(failure)
    # A product, of at most two steps: swapped factors agree where a = b, which is where shrinking
    # takes the inputs (both to 1.0), so the smallest failure may multiply by a step, as x1 * (x1 + x0).
    assert re.search(r"\n        return (x[01]|v1) \* (x[01]|v1)\n", example), example
    assert example.count("\n") <= 5, example  # the def, at most two steps, the call, hypothesis's frame


@pytest.mark.parametrize(
    ("chosen_ops", "multiple"),
    [(["add", "exp", "tanh", "sum", WRONG_TRANSPOSE], 1),  # as the mutants above: the profile's 60
     (None, 8)],                               # as test_op_properties runs it: every op, 8 × 60
    ids=["five ops", "the whole table"],
)
def test_the_random_graph_property_at_the_ci_profile_catches_a_transpose_that_does_not_invert(
    monkeypatch: pytest.MonkeyPatch, chosen_ops: list[str | Op] | None, multiple: int,
) -> None:
    monkeypatch.setitem(ops.TABLE, "transpose", WRONG_TRANSPOSE)
    ci = settings.get_profile("ci")

    # One failure reported: the misshapen gradient and the wrong values are the same bug.
    @settings(ci, max_examples=multiple * ci.max_examples, report_multiple_bugs=False)
    @given(computation_graphs(ops=chosen_ops))
    def random_graphs_backpropagate_exactly(graph: ComputationGraph) -> None:
        assert gradgradcheck(graph, *graph.inputs)

    with pytest.raises((GradcheckError, GradientError)) as failure:
        random_graphs_backpropagate_exactly()
    assert re.match(r"the backward rule of 'transpose' returned a gradient of shape \(|"
                    r"gradcheck failed: the gradient",
                    str(failure.value)), failure.value
    example = _falsifying_example(failure)
    # Shrunk to the transpose, of three axes (two cannot tell the mutant from the op), of an input
    # or of one step made of them: where the shrinker ends depends on the table's size.
    assert re.search(r"\n        return (x[01]|v1)\.transpose\((-?\d, ){2}-?\d\)\n", example), example
    assert example.count("\n") <= 5, example


# --------------------------------------------------------------------------- properties over tensors()


def test_a_property_over_tensors_shrinks_a_wrong_function_to_one_number() -> None:
    @SEARCH
    @given(tensors(shape=shapes(max_dims=3), domain="real"))
    def square_has_gradient_2x(x: Tensor) -> None:
        assert gradcheck(lambda t: t * t.detach(), x)   # the mutant: one factor detached

    with pytest.raises(GradcheckError) as failure:
        square_has_gradient_2x()
    example = _falsifying_example(failure)
    # The smallest failing input: a scalar (x = 0 passes: both derivatives are 0 there).
    assert re.fullmatch(HEADING + r": square_has_gradient_2x\(\n"
                        r"    x=Tensor\((-?[0-9.]+), requires_grad=True\),\n\)", example), example
    assert float(re.search(r"Tensor\((-?[0-9.]+)", example).group(1)) != 0.0


def test_a_property_with_data_draws_prints_each_drawn_tensor() -> None:
    @SEARCH
    @given(st.data())
    def product_rule(data: st.DataObject) -> None:
        a = data.draw(tensors(shape=(2,)), label="a")
        b = data.draw(tensors(shape=(2,)), label="b")
        assert gradcheck(MUTANTS["swapped_factor"], a, b)

    with pytest.raises(GradcheckError) as failure:
        product_rule()
    _falsifying_example(failure)
    notes = "\n".join(failure.value.__notes__)
    for label in ("Draw 1 (a)", "Draw 2 (b)"):
        assert re.search(re.escape(label) + r": Tensor\(\[[-0-9., ]+\], requires_grad=True\)", notes), notes
