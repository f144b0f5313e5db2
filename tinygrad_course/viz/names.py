"""What each tensor in a picture is called: its name, or one made from the op that computed it."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..autograd import Op, topological_order
from ..ops.notation import notation_of
from ..tensor import Tensor
from .numbers import number

# --------------------------------------------------------------------------- the graph, walked once


class Walk:
    """The tensors behind ``root`` (constants too), numbered in topological order.

    The numbers are the DOT node ids (``t3`` is the tensor, ``op3`` the op that made it), so the
    same graph always gives the same text. A tensor shows its ``name``; an unnamed one is called
    after what made it (``W1 @ X``, ``tanh(Z1)``, ``L`` for a loss, ``J`` for an unnamed cost),
    a scalar constant by its value (the 3 in ``3v``), and only failing all that ``add₂``.
    """

    def __init__(self, root: Tensor) -> None:
        self.root = root
        self.tensors = topological_order([root], all_tensors=True)
        self.number = {id(t): k for k, t in enumerate(self.tensors)}
        self.uses = [0] * len(self.tensors)
        # consumers[k]: (consumer number, input position) for every op that takes tensor k.
        self.consumers: list[list[tuple[int, int]]] = [[] for _ in self.tensors]
        for k, t in enumerate(self.tensors):
            if t.grad_fn is not None:
                for i, parent in enumerate(t.grad_fn.parents):
                    self.uses[self.number[id(parent)]] += 1
                    self.consumers[self.number[id(parent)]].append((k, i))
        self.names: list[str] = []
        taken = {str(t.name) for t in self.tensors if t.name}
        counters: dict[str, int] = {}
        for k, t in enumerate(self.tensors):
            name = self._name(k, t, taken)
            if name is None:                   # nothing better: the op's name and a counter
                base = (t.grad_fn.op.name if t.grad_fn is not None
                        else "param" if t.requires_grad else "input")
                while name is None or name in taken:
                    counters[base] = counters.get(base, 0) + 1
                    name = base + str(counters[base]).translate(SUBSCRIPTS)
            if not t.name:
                taken.add(name)
            self.names.append(name)
        self.gradient_names = self._gradient_names()

    def _name(self, k: int, t: Tensor, taken: set[str]) -> str | None:
        if t.name:
            return str(t.name)
        node = t.grad_fn
        if node is None:
            if not t.requires_grad and t.size == 1:
                return number(float(t.data.reshape(())))
            for consumer, i in self.consumers[k]:   # the targets of a loss: Y (y for one example)
                if notation_of(self.tensors[consumer].grad_fn.op.name).target == i:  # type: ignore[union-attr]
                    return self._free("Y" if t.ndim else "y", taken)
            return None
        if t is self.root and t.size == 1 and node.op.name in ("mean", "sum"):
            return self._free("J", taken)                    # the cost
        if notation_of(node.op.name).target is not None:
            return self._free("L", taken)                    # the loss of each example
        parents = [self.names[self.number[id(p)]] for p in node.parents]
        formula = expression(node.op, parents)
        if formula is None or len(formula) > _NAME_LENGTH:
            return None
        return self._free(formula, taken)

    @staticmethod
    def _free(name: str, taken: set[str]) -> str | None:
        return None if name in taken else name

    def _gradient_names(self) -> list[str]:
        """What dJ/dtensor is called in rules: ``dZ1`` for ``W1 @ X`` in ``Z1 = W1 @ X + b1``.

        An unnamed tensor whose only use passes its gradient through unchanged (the left side of
        a + whose result has its shape) has the same gradient as that result, so the rule for W1
        reads ``dZ1 · Xᵀ`` as in the course instead of ``d(W1 @ X) · Xᵀ``.
        """
        names = [after_d(name) for name in self.names]
        for k in reversed(range(len(self.tensors))):
            t = self.tensors[k]
            if t.name or t is self.root or len(self.consumers[k]) != 1:
                continue
            consumer, i = self.consumers[k][0]
            made_by = self.tensors[consumer]
            rules = notation_of(made_by.grad_fn.op.name).rules  # type: ignore[union-attr]
            if rules and rules[min(i, len(rules) - 1)] == "· 1" and made_by.shape == t.shape:
                names[k] = names[consumer]
        return names

    def kind(self, t: Tensor) -> str:
        if t is self.root:
            return "output"
        if t.grad_fn is None:
            return "parameter" if t.requires_grad else "input"
        return "intermediate"

    def k(self, t: Tensor) -> int:
        return self.number[id(t)]

    def symbol_name(self, t: Tensor) -> str:
        """The name as it goes into a formula: parenthesised unless it is one word."""
        return as_operand(self.names[self.k(t)])

    def gradient_name(self, t: Tensor) -> str:
        """``dZ1``: the gradient of ``t`` in the course's shorthand (see ``_gradient_names``)."""
        return "d" + self.gradient_names[self.k(t)]

    def is_private_constant(self, t: Tensor) -> bool:
        """A leaf constant that only one op uses (the 3 in 3v): it goes wherever that op goes."""
        return t.grad_fn is None and not t.requires_grad and not t.name and self.uses[self.k(t)] == 1


SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_NAME_LENGTH = 14                 # longer expressions read worse than add₂ in a formula


def as_operand(name: str) -> str:
    """A name inside a longer formula: bare if it is one word (Z1, a³, tanh(Z1)), else in parentheses."""
    return name if re.fullmatch(r"[\w.′'⁰¹²³⁴⁵⁶⁷⁸⁹ᵀ]+(\([^()]*\))?", name) else f"({name})"


def after_d(name: str) -> str:
    """A name after the d of a derivative: dZ1, but d(tanh(Z1)) and d(W1 @ X)."""
    return name if re.fullmatch(r"[\w.′'⁰¹²³⁴⁵⁶⁷⁸⁹ᵀ]+", name) else f"({name})"


def _infix(sign: str, parents: list[str]) -> str | None:
    if len(parents) != 2:
        return None
    left, right = (as_operand(p) for p in parents)
    return f"{left} {sign} {right}"


def _product(sign: str, parents: list[str]) -> str | None:
    if len(parents) == 2 and re.fullmatch(r"[\d.]+", parents[0]) and re.fullmatch(r"[A-Za-z]\w*", parents[1]):
        return f"{parents[0]}{parents[1]}"       # 3v
    return _infix(sign, parents)


def _power(sign: str, parents: list[str]) -> str | None:
    if not re.fullmatch(r"\d", parents[1]):
        return None
    return as_operand(parents[0]) + parents[1].translate(_SUPERSCRIPTS)


# How an unnamed result is called, by the ``form`` of its op's notation (``ops.notation``).
_FORMS: dict[str, Callable[[str, list[str]], str | None]] = {
    "infix": _infix,
    "product": _product,
    "power": _power,
    "prefix": lambda sign, parents: sign + as_operand(parents[0]),
    "postfix": lambda sign, parents: as_operand(parents[0]) + sign,
}


def expression(op: Op, parents: list[str]) -> str | None:
    """An unnamed result called after its op and inputs: W1 @ X, tanh(Z1), a³, −x, Xᵀ."""
    form = notation_of(op.name).form
    if form is None:
        return None
    kind, sign = form
    if kind == "function":
        return f"{op.symbol}({', '.join(parents)})"
    return _FORMS[kind](sign, parents)
