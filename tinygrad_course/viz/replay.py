"""Backprop replayed step by step with each op's own backward rule, and each step said in words.

The replay is what ``backward()`` does, kept: which consumer sent which share of the gradient,
and the local derivative of each edge when both ends are scalars. The words are the course's:
``dJ/db = dJ/du · du/db = 3 · 2 = 6`` for scalars, ``dZ1 · Xᵀ`` (dX short for dJ/dX) for tensors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..autograd import no_grad, topological_order, unbroadcast
from ..errors import InputValueError
from ..ops.notation import notation_of
from ..tensor import Tensor
from .names import Walk, after_d
from .numbers import inline, number, shape_text

# --------------------------------------------------------------------------- the chain rule, replayed


@dataclass(frozen=True)
class Term:
    """One consumer's share of dJ/dtensor: dJ/du · ∂u/∂tensor, for the op that made ``consumer``."""

    consumer: Tensor
    input_index: int
    upstream: np.ndarray       # dJ/dconsumer
    contribution: np.ndarray   # dJ/dconsumer · ∂consumer/∂tensor, at the tensor's shape
    local: float | None        # ∂consumer/∂tensor, when both are scalars
    summed_over_broadcast: bool


@dataclass(frozen=True)
class Step:
    """One tensor in reverse topological order, with its now complete gradient dJ/dtensor."""

    tensor: Tensor
    gradient: np.ndarray
    terms: tuple[Term, ...]   # empty for the output, whose gradient is the seed dJ/dJ = 1


def _vjp(tensor: Tensor, i: int, g: np.ndarray) -> Tensor:
    node = tensor.grad_fn
    assert node is not None
    op, parents, params = node.op, node.parents, node.params
    upstream = Tensor._wrap(g)
    if op.vjp_each is None:
        return op.vjps[i](upstream, tensor, *parents, **params)
    return op.vjp_each(i, upstream, tensor, *parents, **params)


def replay(root: Tensor) -> list[Step]:
    """Backprop as ``backward()`` runs it, keeping every step: the same order, the same VJPs.

    ``.grad`` is neither read nor written, and hooks are not run. A non-scalar ``root`` is
    seeded with ones (the gradient of the sum of its elements).
    """
    if not root.requires_grad:
        raise InputValueError(
            "the backward view needs a tensor that depends on something with requires_grad=True, "
            "but this one does not (it is a constant, or was computed inside no_grad()). Create the "
            "parameters with Tensor(..., requires_grad=True)."
        )
    pending: dict[int, list[Term]] = {id(root): []}
    steps: list[Step] = []
    with no_grad():
        for tensor in reversed(topological_order([root])):
            terms = tuple(pending.pop(id(tensor)))
            if terms:
                gradient = terms[0].contribution
                for term in terms[1:]:
                    gradient = gradient + term.contribution
            else:
                gradient = np.ones(root.shape, dtype=root.dtype)
            steps.append(Step(tensor, gradient, terms))
            if tensor.grad_fn is None:
                continue
            for i, parent in enumerate(tensor.grad_fn.parents):
                if not parent.requires_grad:
                    continue
                raw = _vjp(tensor, i, gradient)
                contribution = raw if raw.shape == parent.shape else unbroadcast(raw, parent.shape)
                local = None
                if tensor.size == 1 and parent.size == 1:
                    one = _vjp(tensor, i, np.ones(tensor.shape, dtype=tensor.dtype))
                    local = float(one.data.sum())   # sum: a size-1 gradient of broadcast shape
                pending.setdefault(id(parent), []).append(
                    Term(tensor, i, gradient, contribution.data, local, raw.shape != parent.shape))
    return steps


# --------------------------------------------------------------------------- local derivatives as text


def _rule_names(walk: Walk, tensor: Tensor) -> dict[str, str]:
    """What the letters in the op's rules stand for: its notation's ``operands`` and ``output``."""
    node = tensor.grad_fn
    assert node is not None
    notation = notation_of(node.op.name)
    letters = dict(zip(notation.operands, (walk.symbol_name(p) for p in node.parents), strict=False))
    if notation.output:
        letters[notation.output] = walk.symbol_name(tensor)
    return letters


def substitute(rule: str, letters: dict[str, str]) -> str:
    if not letters:
        return rule
    pattern = "|".join(re.escape(letter) for letter in letters)
    return re.sub(rf"(?<![A-Za-z])({pattern})(?![A-Za-z])", lambda m: letters[m.group(1)], rule)


def _enclosed(text: str) -> bool:
    """Whether the first ( closes at the very end: (1 − a) yes, (1 − y)/(1 − a) no."""
    if not text.startswith("("):
        return False
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return i == len(text) - 1
    return False


def _local_formula(walk: Walk, tensor: Tensor, i: int) -> str | None:
    """The op's rule for input i as ∂out/∂input in the tensors' names: "⊙ b" for u = b·c becomes "c"."""
    node = tensor.grad_fn
    assert node is not None
    notation = notation_of(node.op.name)
    rules = notation.rules
    if not notation.renamable or not rules:
        return None                        # aᵇ's rules carry b as a superscript: no clean substitution
    rule = rules[min(i, len(rules) - 1)]
    if rule.startswith(("⊙ ", "· ")):
        formula = rule[2:]
    elif rule.startswith("÷ "):
        divisor = rule[2:]
        formula = f"1/{divisor}" if re.fullmatch(r"\w+", divisor) else f"1/({divisor})"
    else:
        return None
    if _enclosed(formula):
        formula = formula[1:-1]
    return substitute(formula, _rule_names(walk, tensor))


def rule_expression(walk: Walk, term: Term) -> str:
    """How dJ/d(consumer) becomes this input's share, in the course's shorthand dX = dJ/dX."""
    node = term.consumer.grad_fn
    assert node is not None
    notation = notation_of(node.op.name)
    upstream = walk.gradient_name(term.consumer)
    summed = ", Σ over broadcast axes" if term.summed_over_broadcast else ""
    if not notation.rules:                 # a user's own op: its rule is code, not words
        return f"{upstream} through {node.op.name}'s rule{summed}"
    rule = notation.rules[min(term.input_index, len(notation.rules) - 1)]
    if notation.renamable:                 # b·aᵇ⁻¹ keeps its letters: ᵇ cannot be renamed
        rule = substitute(rule, _rule_names(walk, term.consumer))
    if rule == "· 1":
        text = upstream
    elif rule == "· (−1)":
        text = "−" + upstream
    elif rule.endswith("·"):
        text = f"{rule} {upstream}"       # Aᵀ · dZ: the input's factor stands on the left
    else:
        text = f"{upstream} {rule}"
    return text if "broadcast" in rule else text + summed   # broadcast_to's rule says so itself


def _factor(array: np.ndarray | float) -> str:
    """A number inside a product: (−1) in parentheses, so 3 · (−1) never reads as 3 − 1."""
    text = inline(np.asarray(array))
    return f"({text})" if text.startswith("−") else text


def partial(walk: Walk, of: Tensor, by: Tensor, letter: str = "∂") -> str:
    return f"{letter}{after_d(walk.names[walk.k(of)])}/{letter}{after_d(walk.names[walk.k(by)])}"


def edge_derivative(walk: Walk, term: Term) -> str:
    """The local derivative on an edge: ∂u/∂b = c = 2 for scalars, the rule for tensors."""
    if term.local is None:
        return rule_expression(walk, term)
    value = number(term.local)
    parent = term.consumer.grad_fn.parents[term.input_index]  # type: ignore[union-attr]
    formula = _local_formula(walk, term.consumer, term.input_index)
    middle = f" = {formula}" if formula and formula != value else ""
    return f"{partial(walk, term.consumer, parent)}{middle} = {value}"


def fused_derivative(walk: Walk, term: Term, result: Tensor) -> str:
    """∂z/∂w1 = x1 = 2 on the edge into a fused z = w1x1 + w2x2 + b: the sums in between pass
    the derivative on unchanged (∂(u + v)/∂u = 1), so it is the product's own."""
    parent = term.consumer.grad_fn.parents[term.input_index]  # type: ignore[union-attr]
    value = number(term.local)  # type: ignore[arg-type]
    formula = _local_formula(walk, term.consumer, term.input_index)
    middle = f" = {formula}" if formula and formula != value else ""
    return f"{partial(walk, result, parent)}{middle} = {value}"


def explain_line(walk: Walk, step: Step) -> str:
    """dJ/db = dJ/du · du/db = 3 · 2 = 6 (scalars), or the rule and a summary (tensors)."""
    root, tensor = walk.root, step.tensor
    left = partial(walk, root, tensor, "d")
    if not step.terms:
        return f"{left} = {inline(step.gradient)}" + (" (the seed)" if tensor.size > 1 else "")
    if all(term.local is not None for term in step.terms):
        # dJ/dv = 3 when v feeds J directly: the chain has only one link.
        if len(step.terms) == 1 and step.terms[0].consumer is root and root.size == 1:
            return f"{left} = {number(step.terms[0].local)}"  # type: ignore[arg-type]
        chain = " + ".join(f"{partial(walk, root, t.consumer, 'd')} · "
                           f"{partial(walk, t.consumer, tensor, 'd')}" for t in step.terms)
        numbers = " + ".join(f"{_factor(t.upstream)} · {_factor(t.local)}" for t in step.terms)  # type: ignore[arg-type]
        return f"{left} = {chain} = {numbers} = {inline(step.gradient)}"
    rules = " + ".join(rule_expression(walk, t) for t in step.terms)
    return f"{left} = {rules}   {shape_text(tensor.shape)}: {inline(step.gradient)}"
