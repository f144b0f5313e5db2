"""How each op is written: in the pictures (the course's symbols) and in printed code.

One entry per op of ``ops.TABLE``, keyed by the op's name; ``tests/test_ops_notation.py`` fails
when an op lacks its entry. The op's short ``symbol`` (+, @, σ) stays on the ``Op`` itself, since
every op, a user's own included, is drawn with one; everything else a picture or a printout needs
to know about an op is here, so that ``viz`` and ``testing.graphs`` keep no tables of their own.

- ``rules``: the backward rules in words, one per input (or one for all), in the course's
  shorthand: for u = b·c the rule for b is "⊙ c", i.e. dJ/db = dJ/du ⊙ c. The letters stand for
  the inputs (``operands``, in order) and the result (``output``); a rule that ends in "·"
  stands on the left of the upstream gradient (Aᵀ · dZ).
- ``roles``: which input is which, written on the edges of the forward picture (the − of a
  subtraction); no "left"/"right", since the layout may put the right operand on the left.
- ``form``: how an unnamed result is called in a picture: ``("infix", "+")`` gives ``a + b``,
  ``("function", "")`` gives ``tanh(Z1)`` (with the op's symbol), ``("product", "·")`` gives
  ``3v`` or ``a · b``, ``("prefix", "−")`` ``−x``, ``("postfix", "ᵀ")`` ``Xᵀ``,
  ``("power", "")`` ``a³``. ``None``: the op's name and a counter (``reshape₁``).
- ``renamable``: False where a rule's letters cannot be replaced by the tensors' names (the b
  of aᵇ is written as a superscript).
- ``target``: for a loss, the position of the labels (the Y of L(A, Y)); the result is then
  called L and the labels Y.
- ``code``: the step as Python, a ``str.format`` template: ``{0}``, ``{1}`` are the inputs,
  ``{inputs}`` all of them joined, ``{axis!r}`` a parameter; ``!l`` writes an index or mask as a
  literal (``testing.graphs`` supplies that conversion).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NOTATION", "Notation", "notation_of"]


@dataclass(frozen=True)
class Notation:
    """How one op is written; see the module's docstring for each field."""

    rules: tuple[str, ...] = ()
    operands: str = "ab"
    output: str | None = None
    roles: tuple[str, ...] = ()
    form: tuple[str, str] | None = None
    target: int | None = None
    code: str | None = None
    renamable: bool = True


_FUNCTION = ("function", "")


def _method(name: str) -> str:
    return "{0}." + name + "()"


def _reduction(name: str) -> str:
    return "{0}." + name + "(axis={axis!r}, keepdims={keepdims!r})"


#: Every op's notation, by op name.
NOTATION: dict[str, Notation] = {
    # arithmetic
    "add": Notation(("· 1", "· 1"), form=("infix", "+"), code="{0} + {1}"),
    "sub": Notation(("· 1", "· (−1)"), roles=("+", "−"), form=("infix", "−"), code="{0} - {1}"),
    "mul": Notation(("⊙ b", "⊙ a"), form=("product", "·"), code="{0} * {1}"),
    "div": Notation(("÷ b", "⊙ (−a / b²)"), roles=("numerator", "denominator"), form=("infix", "/"),
                    code="{0} / {1}"),
    "pow": Notation(("⊙ b·aᵇ⁻¹", "⊙ aᵇ·ln a"), roles=("base", "exponent"), form=("power", ""),
                    code="{0} ** {1}", renamable=False),
    "neg": Notation(("· (−1)",), form=("prefix", "−"), code="-{0}"),
    # matrices and shapes
    "matmul": Notation(("· Bᵀ", "Aᵀ ·"), operands="AB", roles=("A in A @ B", "B in A @ B"),
                       form=("infix", "@"), code="{0} @ {1}"),
    "transpose": Notation(("transposed back",), form=("postfix", "ᵀ"), code="{0}.transpose({axes!l})"),
    "reshape": Notation(("reshaped back",), code="{0}.reshape({shape!r})"),
    "broadcast_to": Notation(("Σ over broadcast axes",), code="{0}.broadcast_to({shape!r})"),
    "getitem": Notation(("scattered into zeros",), code="{0}[{index!l}]"),
    "scatter_add": Notation(("indexed",), code="ops.scatter_add({0}, index={index!l}, shape={shape!r})"),
    # reductions
    "sum": Notation(("copied to every summed element",), form=_FUNCTION, code=_reduction("sum")),
    "mean": Notation(("copied, ÷ count",), form=_FUNCTION, code=_reduction("mean")),
    "max": Notation(("to the maximum (ties share)",), form=_FUNCTION, code=_reduction("max")),
    # elementwise functions
    "exp": Notation(("⊙ exp(a)",), form=_FUNCTION, code=_method("exp")),
    "log": Notation(("÷ a",), form=_FUNCTION, code=_method("log")),
    "sqrt": Notation(("÷ 2√a",), form=_FUNCTION, code=_method("sqrt")),
    "abs": Notation(("⊙ sign(a)",), form=_FUNCTION, code=_method("abs")),
    "relu": Notation(("⊙ [a > 0]",), form=_FUNCTION, code=_method("relu")),
    "leaky_relu": Notation(("⊙ (1 or slope)",), form=_FUNCTION, code="{0}.leaky_relu({slope!r})"),
    "sigmoid": Notation(("⊙ σ(1 − σ)",), output="σ", form=_FUNCTION, code=_method("sigmoid")),
    "tanh": Notation(("⊙ (1 − A²)",), operands="Z", output="A", form=_FUNCTION, code=_method("tanh")),
    "softplus": Notation(("⊙ σ(a)",), form=_FUNCTION, code=_method("softplus")),
    # losses: the result is L, the labels Y
    "bce_with_logits": Notation(("⊙ (σ(z) − y)", "⊙ (−z)"), operands="zy", target=1,
                                code="ops.bce_with_logits({0}, {1})"),
    "bce": Notation(("⊙ (−y/a + (1 − y)/(1 − a))", "⊙ log((1 − a)/a)"), operands="ay", target=1,
                    code="ops.bce({0}, {1})"),
    # selections
    "maximum": Notation(("⊙ [a ≥ b]", "⊙ [b ≥ a]"), form=_FUNCTION, code="maximum({inputs})"),
    "minimum": Notation(("⊙ [a ≤ b]", "⊙ [b ≤ a]"), form=_FUNCTION, code="minimum({inputs})"),
    "clip": Notation(("⊙ [low ≤ a ≤ high]",), code="{0}.clip({low!r}, {high!r})"),
    "where": Notation(("⊙ condition", "⊙ not condition"), roles=("if true", "if false"),
                      code="where({condition!l}, {0}, {1})"),
    # joining
    "concatenate": Notation(("its slice of g",), code="concatenate([{inputs}], axis={axis!r})"),
    "stack": Notation(("its slice of g",), code="stack([{inputs}], axis={axis!r})"),
    # dtypes: a gradient takes its input's dtype (float32 in, float32 out)
    "astype": Notation(("cast back",), form=_FUNCTION, code="{0}.astype('{dtype}')"),
}

_UNKNOWN = Notation()


def notation_of(op_name: str) -> Notation:
    """The notation of an op by name; a user's own op (not in the table) gets an empty one:
    it is drawn with its symbol, named after its name, and printed as ``name(inputs, params)``."""
    return NOTATION.get(op_name, _UNKNOWN)
