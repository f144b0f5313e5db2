"""The notation table: every op of ops.TABLE is written somewhere, and only ops that exist are."""

from __future__ import annotations

import string

import pytest

from tinygrad_course import Tensor, ops, viz
from tinygrad_course.autograd import Op
from tinygrad_course.ops.notation import NOTATION, notation_of


@pytest.mark.parametrize("name", sorted(ops.TABLE))
def test_every_op_has_its_notation(name: str) -> None:
    assert name in NOTATION, f"ops.notation.NOTATION lacks an entry for the op {name!r}"
    entry, op = NOTATION[name], ops.TABLE[name]
    inputs = len(op.vjps) or 1          # variadic ops (vjp_each) have one rule for every input
    assert len(entry.rules) in (1, inputs), f"{name}: {len(entry.rules)} rules for {inputs} inputs"
    assert entry.code is not None
    fields = {f for _, f, _, _ in string.Formatter().parse(entry.code) if f}
    assert fields <= {"0", "1", "inputs", "axis", "keepdims", "axes", "shape", "index", "slope", "low",
                      "high", "condition", "dtype"}, fields
    if entry.roles:
        assert len(entry.roles) == inputs
    if entry.target is not None:
        assert entry.target < len(entry.operands)


def test_the_table_names_only_ops_that_exist() -> None:
    assert set(NOTATION) <= set(ops.TABLE)


def test_a_users_op_is_drawn_and_explained_without_an_entry() -> None:
    assert notation_of("softsign").rules == ()
    softsign = Op("softsign", "softsign", lambda a: a / (1 + abs(a)), lambda g, out, a: g / (1 + abs(a)) ** 2)
    x = Tensor([0.5, -2.0], requires_grad=True, name="x")
    J = softsign(x).sum().named("J")
    assert "softsign₁" in viz.graph(J).source         # no form in the table: its name and a counter
    text = viz.graph(J, backward=True).source
    assert "through softsign" in text
