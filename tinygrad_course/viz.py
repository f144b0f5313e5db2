"""Pictures of the computation graph: values flowing forward, derivatives flowing backward.

>>> J.backward()
>>> graph(J)                                   # forward: every value (and grad once known)
>>> graph(J, backward=True).save("J.svg")      # backward: dJ/dx on nodes, ∂out/∂in on edges
>>> explain(J)                                 # the chain rule, one line per tensor
dJ/dJ = 1
dJ/dv = 3
dJ/du = dJ/dv · dv/du = 3 · 1 = 3
...
>>> save_steps(J, "backprop.html")             # backprop frame by frame, in one HTML file

Everything is drawn from the structure that ``backward`` walks: ``grad_fn.parents`` in
topological order, and each op's own VJP from the op table. The backward view calls the VJPs
itself (with recording off) instead of reading ``.grad``, so it works before ``backward()`` and
changes nothing. DOT text comes from the ``graphviz`` package and is always available
(``.source``, ``.save("g.dot")``); pictures come from the ``graphviz-pure`` executable, or from a
system Graphviz ``dot`` when that is all there is.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import graphviz
import numpy as np

from . import _checks, ops
from .autograd import no_grad, topological_order, unbroadcast
from .errors import FileAccessError, InputTypeError, InputValueError, TinygradCourseError
from .tensor import Tensor

__all__ = [
    "Graph",
    "RenderError",
    "RendererNotFoundError",
    "explain",
    "find_renderer",
    "graph",
    "save_graphs",
    "save_lesson_pictures",
    "save_steps",
    "steps",
]


class RendererNotFoundError(TinygradCourseError, RuntimeError):
    """Neither ``graphviz-pure`` nor Graphviz's ``dot`` could be found to draw the DOT text."""


class RenderError(TinygradCourseError, RuntimeError):
    """The renderer ran but failed; the message carries what it printed on stderr."""


# --------------------------------------------------------------------------- look

FONT = "Helvetica"
GRADIENT_RED = "#c0392b"
HIGHLIGHT = "#e66100"
DIM_TEXT, DIM_LINE = "#a0a0a0", "#d0d0d0"
# Fill colours tell the kinds of tensor apart; the legend names them.
KIND_FILL = {
    "parameter": "#cfe2f3",     # a leaf with requires_grad: what training changes
    "input": "#eeeeee",         # a leaf without: data, labels, constants such as the 3 in 3v
    "intermediate": "#ffffff",
    "output": "#ffd966",
}
KIND_TEXT = {
    "parameter": "parameter (requires grad)",
    "input": "input or constant",
    "intermediate": "intermediate result",
    "output": "output",
}
# Leaves that the legend calls parameters: the course's W1, b1, w, b and a module's scope.W.
_PARAMETER_NAME = re.compile(r"(?:[Wwb]|theta|θ)\d*|.+\.(?:W|b|weight|bias)")
OP_FILL = "#e4efdc"
ROLE_TEXT = "#1f3f7a"   # which input is which: the − of a subtraction, a numerator, ...
COLLAPSED_FILL = "#f6f0fa"
EDGE_LINE = 18  # a longer local derivative is written on two lines
LR_MAX_DEPTH = 4  # ops on the longest path for which a graph is drawn left to right
PNG_DPI = 144  # graphviz's 96 dpi makes subscripts and small numbers hard to read
# graphviz-pure's PNG fonts lack a few glyphs that SVG viewers have; * is the course's own
# sign for the elementwise product (dZ1 = W2ᵀ dZ2 * g′(Z1)).
_PNG_GLYPHS = str.maketrans({"⊙": "*", "⋯": "…"})

# Ops whose inputs play different parts: the forward view labels which edge is which. (No
# "left"/"right": the layout may well put the right operand on the left.)
_ROLES = {
    "sub": ("+", "−"),
    "div": ("numerator", "denominator"),
    "pow": ("base", "exponent"),
    "matmul": ("A in A @ B", "B in A @ B"),
    "where": ("if true", "if false"),
}


# --------------------------------------------------------------------------- numbers as text


def _number(x: float) -> str:
    """4 significant digits, with a real minus sign; -0 shows as 0."""
    if x == 0:
        return "0"
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.4g}".replace("-", "−")


def _row(values: np.ndarray) -> str:
    return "[" + ", ".join(_number(float(v)) for v in values) + "]"


def _value_lines(array: np.ndarray) -> list[str]:
    """A scalar to 4 digits, up to 6 elements in full, a larger array as min/mean/max."""
    array = np.asarray(array, dtype=np.float64)
    if array.size == 1:
        return [_number(float(array.reshape(())))]
    if array.size == 0:
        return ["(empty)"]
    if array.size > 6:
        return [f"min {_number(array.min())}, max {_number(array.max())}", f"mean {_number(array.mean())}"]
    if array.ndim == 2 and array.shape[1] == 1:
        return [_row(array[:, 0]) + "ᵀ"]      # a column such as b[l] on one line
    if array.ndim == 2:
        return [_row(r) for r in array]
    return [_row(array.reshape(-1))]


def _inline(array: np.ndarray) -> str:
    return ", ".join(_value_lines(array))


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _esc(text: str) -> str:
    """Text for an HTML-like DOT label: a name such as <b>&"x"</b> shows literally."""
    return html.escape(text, quote=True)


# --------------------------------------------------------------------------- the graph, walked once


class _Walk:
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
                    name = base + str(counters[base]).translate(_SUBSCRIPTS)
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
                return _number(float(t._data.reshape(())))
            for consumer, i in self.consumers[k]:   # the targets of a loss: Y (y for one example)
                if (self.tensors[consumer].grad_fn.op.name, i) in _TARGET_OPERANDS:  # type: ignore[union-attr]
                    return self._free("Y" if t.ndim else "y", taken)
            return None
        if t is self.root and t.size == 1 and node.op.name in ("mean", "sum"):
            return self._free("J", taken)                    # the cost
        if node.op.name in _LOSS_OPS:
            return self._free("L", taken)                    # the loss of each example
        parents = [self.names[self.number[id(p)]] for p in node.parents]
        expression = _expression(node.op.name, node.op.symbol, parents)
        if expression is None or len(expression) > _NAME_LENGTH:
            return None
        return self._free(expression, taken)

    @staticmethod
    def _free(name: str, taken: set[str]) -> str | None:
        return None if name in taken else name

    def _gradient_names(self) -> list[str]:
        """What dJ/dtensor is called in rules: ``dZ1`` for ``W1 @ X`` in ``Z1 = W1 @ X + b1``.

        An unnamed tensor whose only use passes its gradient through unchanged (the left side of
        a + whose result has its shape) has the same gradient as that result, so the rule for W1
        reads ``dZ1 · Xᵀ`` as in the course instead of ``d(W1 @ X) · Xᵀ``.
        """
        names = [_after_d(name) for name in self.names]
        for k in reversed(range(len(self.tensors))):
            t = self.tensors[k]
            if t.name or t is self.root or len(self.consumers[k]) != 1:
                continue
            consumer, i = self.consumers[k][0]
            made_by = self.tensors[consumer]
            rules = made_by.grad_fn.op.rules  # type: ignore[union-attr]
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
        return _as_operand(self.names[self.k(t)])

    def gradient_name(self, t: Tensor) -> str:
        """``dZ1``: the gradient of ``t`` in the course's shorthand (see ``_gradient_names``)."""
        return "d" + self.gradient_names[self.k(t)]

    def is_private_constant(self, t: Tensor) -> bool:
        """A leaf constant that only one op uses (the 3 in 3v): it goes wherever that op goes."""
        return t.grad_fn is None and not t.requires_grad and not t.name and self.uses[self.k(t)] == 1


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_NAME_LENGTH = 14                 # longer expressions read worse than add₂ in a formula
_LOSS_OPS = {"bce_with_logits", "bce"}
_TARGET_OPERANDS = {("bce_with_logits", 1), ("bce", 1)}
# Ops written f(x) in a name, and ops written between their operands.
_FUNCTIONS = {"exp", "log", "sqrt", "abs", "relu", "leaky_relu", "sigmoid", "tanh", "softplus",
              "sum", "mean", "max", "maximum", "minimum"}
_INFIX = {"add": "+", "sub": "−", "mul": "·", "div": "/", "matmul": "@"}


def _as_operand(name: str) -> str:
    """A name inside a longer formula: bare if it is one word (Z1, a³, tanh(Z1)), else in parentheses."""
    return name if re.fullmatch(r"[\w.′'⁰¹²³⁴⁵⁶⁷⁸⁹ᵀ]+(\([^()]*\))?", name) else f"({name})"


def _after_d(name: str) -> str:
    """A name after the d of a derivative: dZ1, but d(tanh(Z1)) and d(W1 @ X)."""
    return name if re.fullmatch(r"[\w.′'⁰¹²³⁴⁵⁶⁷⁸⁹ᵀ]+", name) else f"({name})"


def _expression(op: str, symbol: str, parents: list[str]) -> str | None:
    """An unnamed result called after its op and inputs: W1 @ X, tanh(Z1), a³, −x, Xᵀ."""
    if op in _FUNCTIONS:
        return f"{symbol}({', '.join(parents)})"
    if op in _INFIX and len(parents) == 2:
        left, right = (_as_operand(p) for p in parents)
        if op == "mul" and re.fullmatch(r"[\d.]+", left) and re.fullmatch(r"[A-Za-z]\w*", right):
            return f"{left}{right}"       # 3v
        return f"{left} {_INFIX[op]} {right}"
    if op == "pow" and re.fullmatch(r"\d", parents[1]):
        return _as_operand(parents[0]) + parents[1].translate(_SUPERSCRIPTS)
    if op == "neg":
        return "−" + _as_operand(parents[0])
    if op == "transpose":
        return _as_operand(parents[0]) + "ᵀ"
    return None


# --------------------------------------------------------------------------- the chain rule, replayed


@dataclass(frozen=True)
class _Term:
    """One consumer's share of dJ/dtensor: dJ/du · ∂u/∂tensor, for the op that made ``consumer``."""

    consumer: Tensor
    input_index: int
    upstream: np.ndarray       # dJ/dconsumer
    contribution: np.ndarray   # dJ/dconsumer · ∂consumer/∂tensor, at the tensor's shape
    local: float | None        # ∂consumer/∂tensor, when both are scalars
    summed_over_broadcast: bool


@dataclass(frozen=True)
class _Step:
    """One tensor in reverse topological order, with its now complete gradient dJ/dtensor."""

    tensor: Tensor
    gradient: np.ndarray
    terms: tuple[_Term, ...]   # empty for the output, whose gradient is the seed dJ/dJ = 1


def _vjp(tensor: Tensor, i: int, g: np.ndarray) -> Tensor:
    node = tensor.grad_fn
    assert node is not None
    op, parents, params = node.op, node.parents, node.params
    upstream = Tensor._wrap(g)
    if op.vjp_each is None:
        return op.vjps[i](upstream, tensor, *parents, **params)
    return op.vjp_each(i, upstream, tensor, *parents, **params)


def _replay(root: Tensor) -> list[_Step]:
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
    pending: dict[int, list[_Term]] = {id(root): []}
    steps: list[_Step] = []
    with no_grad():
        for tensor in reversed(topological_order([root])):
            terms = tuple(pending.pop(id(tensor)))
            if terms:
                gradient = terms[0].contribution
                for term in terms[1:]:
                    gradient = gradient + term.contribution
            else:
                gradient = np.ones(root.shape, dtype=root.dtype)
            steps.append(_Step(tensor, gradient, terms))
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
                    local = float(one._data.sum())   # sum: a size-1 gradient of broadcast shape
                pending.setdefault(id(parent), []).append(
                    _Term(tensor, i, gradient, contribution._data, local, raw.shape != parent.shape))
    return steps


# --------------------------------------------------------------------------- local derivatives as text


def _rule_names(walk: _Walk, tensor: Tensor) -> dict[str, str]:
    """What the letters in ``op.rules`` stand for: the op's ``operands`` and its ``output``."""
    node = tensor.grad_fn
    assert node is not None
    letters = dict(zip(node.op.operands, (walk.symbol_name(p) for p in node.parents), strict=False))
    if node.op.output:
        letters[node.op.output] = walk.symbol_name(tensor)
    return letters


def _substitute(rule: str, letters: dict[str, str]) -> str:
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


def _local_formula(walk: _Walk, tensor: Tensor, i: int) -> str | None:
    """``op.rules[i]`` as ∂out/∂input in the tensors' names: "⊙ b" for u = b·c becomes "c"."""
    node = tensor.grad_fn
    assert node is not None
    rules = node.op.rules
    if node.op.name == "pow" or not rules:
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
    return _substitute(formula, _rule_names(walk, tensor))


def _rule_expression(walk: _Walk, term: _Term) -> str:
    """How dJ/d(consumer) becomes this input's share, in the course's shorthand dX = dJ/dX."""
    node = term.consumer.grad_fn
    assert node is not None
    rules = node.op.rules
    upstream = walk.gradient_name(term.consumer)
    rule = rules[min(term.input_index, len(rules) - 1)]
    if node.op.name != "pow":              # b·aᵇ⁻¹ keeps its letters: ᵇ cannot be renamed
        rule = _substitute(rule, _rule_names(walk, term.consumer))
    if rule == "· 1":
        text = upstream
    elif rule == "· (−1)":
        text = "−" + upstream
    elif rule.endswith("·"):
        text = f"{rule} {upstream}"       # Aᵀ · dZ: the input's factor stands on the left
    else:
        text = f"{upstream} {rule}"
    if term.summed_over_broadcast and node.op.name != "broadcast_to":
        text += ", Σ over broadcast axes"
    return text


def _factor(array: np.ndarray | float) -> str:
    """A number inside a product: (−1) in parentheses, so 3 · (−1) never reads as 3 − 1."""
    text = _inline(np.asarray(array))
    return f"({text})" if text.startswith("−") else text


def _partial(walk: _Walk, of: Tensor, by: Tensor, letter: str = "∂") -> str:
    return f"{letter}{_after_d(walk.names[walk.k(of)])}/{letter}{_after_d(walk.names[walk.k(by)])}"


def _edge_derivative(walk: _Walk, term: _Term) -> str:
    """The local derivative on an edge: ∂u/∂b = c = 2 for scalars, the rule for tensors."""
    if term.local is None:
        return _rule_expression(walk, term)
    value = _number(term.local)
    parent = term.consumer.grad_fn.parents[term.input_index]  # type: ignore[union-attr]
    formula = _local_formula(walk, term.consumer, term.input_index)
    middle = f" = {formula}" if formula and formula != value else ""
    return f"{_partial(walk, term.consumer, parent)}{middle} = {value}"


def _explain_line(walk: _Walk, step: _Step) -> str:
    """dJ/db = dJ/du · du/db = 3 · 2 = 6 (scalars), or the rule and a summary (tensors)."""
    root, tensor = walk.root, step.tensor
    left = _partial(walk, root, tensor, "d")
    if not step.terms:
        return f"{left} = {_inline(step.gradient)}" + (" (the seed)" if tensor.size > 1 else "")
    if all(term.local is not None for term in step.terms):
        # dJ/dv = 3 when v feeds J directly: the chain has only one link.
        if len(step.terms) == 1 and step.terms[0].consumer is root and root.size == 1:
            return f"{left} = {_number(step.terms[0].local)}"  # type: ignore[arg-type]
        chain = " + ".join(f"{_partial(walk, root, t.consumer, 'd')} · "
                           f"{_partial(walk, t.consumer, tensor, 'd')}" for t in step.terms)
        numbers = " + ".join(f"{_factor(t.upstream)} · {_factor(t.local)}" for t in step.terms)  # type: ignore[arg-type]
        return f"{left} = {chain} = {numbers} = {_inline(step.gradient)}"
    rules = " + ".join(_rule_expression(walk, t) for t in step.terms)
    return f"{left} = {rules}   {_shape(tensor.shape)}: {_inline(step.gradient)}"


# --------------------------------------------------------------------------- size guard


# The course's per-layer names: W1, b1, Z1, A1 (also W[1], W^[1]); A0 is X, outside the layers.
_LAYER_NAME = re.compile(r"(?:W|b|Z|A)\^?\[?([1-9]\d*)\]?")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class _Group:
    """Nodes drawn as one box, with the reason they were collapsed."""

    reason: str
    members: list[str] = field(default_factory=list)
    title: str = ""              # "layer 1", or the scope "encoder" of encoder.W, encoder.b


class _Layout:
    """Which DOT nodes exist, and which of them are drawn as one collapsed box."""

    def __init__(self, walk: _Walk, max_nodes: int | None, protected: set[int]) -> None:
        self.walk = walk
        self.protected = protected | {id(walk.root)}
        self.nodes: list[str] = []
        # (source, target, input position): x·x feeds one op twice, as inputs 0 and 1.
        self.edges: list[tuple[str, str, int]] = []
        for k, t in enumerate(walk.tensors):
            self.nodes.append(f"t{k}")
            if t.grad_fn is not None:
                self.nodes.append(f"op{k}")
                self.edges.extend((f"t{walk.k(p)}", f"op{k}", i) for i, p in enumerate(t.grad_fn.parents))
                self.edges.append((f"op{k}", f"t{k}", 0))
        self.groups: dict[str, _Group] = {}
        self._boxes_made = 0
        self.drawn_as = {node: node for node in self.nodes}
        self.note = ""
        if max_nodes is None or len(self.nodes) <= max_nodes:
            return
        # Boring stretches first (unnamed steps outside the layers, such as a loss spelled out
        # op by op), then whole layers from the first, then whatever is farthest from the output.
        self.keys = self._layer_keys()
        for collapse in (self._collapse_chains, self._collapse_unnamed, self._collapse_layers):
            collapse(max_nodes)
            if self.count() <= max_nodes:
                break
        else:
            self._collapse_far_from_output(max_nodes)
        layers = [g.title for g in self.groups.values() if g.title]
        others = list(dict.fromkeys(g.reason for g in self.groups.values() if not g.title))
        if layers and all(re.fullmatch(r"layer \d+", title) for title in layers) and len(layers) > 1:
            layers = ["layers " + _and([title.removeprefix("layer ") for title in layers])]
        one = len(layers) == 1 and not layers[0].startswith("layers ")
        parts = ([f"{_and(layers)} {'is drawn as one box' if one else 'are drawn as one box each'}"]
                 if layers else []) + ([f"{_and(others)} are collapsed into … boxes"] if others else [])
        # Two lines, so that the note does not make the picture wider than the graph.
        self.note = (f"Size guard: {len(self.nodes)} nodes are more than max_nodes = {max_nodes}, so "
                     f"{'; '.join(parts)}.\n{self.count()} nodes are drawn; "
                     "pass max_nodes=None to draw every node.")

    def count(self) -> int:
        return len(set(self.drawn_as.values()))

    def _merge(self, members: list[str], reason: str, title: str = "") -> None:
        """Draw ``members`` as one new box; boxes they already belong to are absorbed whole."""
        name = f"g{self._boxes_made}"
        self._boxes_made += 1
        group = _Group(reason, title=title)
        for member in members:                 # a node, or a box drawn already
            drawn = self.drawn_as.get(member, member)
            if drawn in self.groups:
                for absorbed in self.groups.pop(drawn).members:
                    self.drawn_as[absorbed] = name
                    group.members.append(absorbed)
            elif drawn == member:
                self.drawn_as[member] = name
                group.members.append(member)
        self.groups[name] = group

    def _unnamed(self, t: Tensor) -> bool:
        """An unnamed intermediate that no one asked to see: a candidate for a box."""
        return t.grad_fn is not None and not t.name and id(t) not in self.protected

    def _with_op(self, t: Tensor) -> list[str]:
        """A tensor, the op that made it, and the constants only that op uses."""
        k = self.walk.k(t)
        members = [f"t{k}", f"op{k}"]
        assert t.grad_fn is not None
        members += [f"t{self.walk.k(p)}" for p in t.grad_fn.parents if self.walk.is_private_constant(p)]
        return members

    def _main_parent(self, t: Tensor) -> Tensor | None:
        assert t.grad_fn is not None
        others = [p for p in t.grad_fn.parents if not self.walk.is_private_constant(p)]
        return others[0] if len(others) == 1 else None

    def _collapse_chains(self, max_nodes: int) -> None:
        """Runs of unnamed one-input steps (x → exp → log → ...) become one box each."""
        walk = self.walk
        links = {id(t) for t in walk.tensors
                 if self._unnamed(t) and walk.uses[walk.k(t)] == 1 and self._main_parent(t) is not None}
        chains: list[list[Tensor]] = []
        for t in walk.tensors:                  # topological order: a chain's start comes first
            if id(t) not in links:
                continue
            parent = self._main_parent(t)
            if chains and parent is chains[-1][-1]:
                chains[-1].append(t)
            else:
                chains.append([t])
        for chain in chains:
            if len(chain) >= 3:
                self._merge([m for t in chain for m in self._with_op(t)], "long chains")

    def _layer_keys(self) -> list[str | None]:
        """Each tensor's layer: W1, b1, Z1, A1 are "layer 1" (the course's names), encoder.W and
        encoder.b the scope "encoder". An unnamed result joins the layer of its parameter: W2 @ A1
        is layer 2, W1 @ X + b1 layer 1; other unnamed results (a loss) belong to no layer."""
        walk = self.walk
        keys: list[str | None] = []
        for t in walk.tensors:
            key = None
            if t.name:
                course = _LAYER_NAME.fullmatch(t.name)
                if course:
                    key = f"layer {int(course.group(1))}"
                elif "." in t.name:
                    key = t.name.rsplit(".", 1)[0]
            elif t.grad_fn is not None:
                owners = [keys[walk.k(p)] for p in t.grad_fn.parents
                          if keys[walk.k(p)] is not None and p.grad_fn is None]
                key = owners[0] if owners else None
            keys.append(key)
        return keys

    def _collapse_layers(self, max_nodes: int) -> None:
        """Whole layers become one box each, the first layer first, until the graph fits; the last
        layer (with the loss) stays drawn, and so does everything outside the layers (X, Y, J)."""
        walk, keys = self.walk, self.keys
        members: dict[str, list[str]] = {}
        last_computed: dict[str, int] = {}
        for k, (t, key) in enumerate(zip(walk.tensors, keys, strict=True)):
            if key is None or id(t) in self.protected:
                continue
            if t.grad_fn is None:
                members.setdefault(key, []).append(f"t{k}")
            else:
                members.setdefault(key, []).extend(self._with_op(t))
                last_computed[key] = k
        # Layers in the order they are computed; one with no computation (a lone W) last.
        order = sorted(members, key=lambda key: last_computed.get(key, len(walk.tensors)))
        for key in order[:-1]:
            if self.count() <= max_nodes:
                break
            if len(members[key]) > 1:
                self._merge(members[key], "layers" if key.startswith("layer ") else "name scopes", key)

    def _collapse_unnamed(self, max_nodes: int) -> None:
        """Each connected stretch of unnamed intermediates outside the layers becomes one box."""
        walk = self.walk
        leader: dict[str, str] = {}

        def find(node: str) -> str:
            while leader.setdefault(node, node) != node:
                node = leader[node]
            return node

        unnamed = [t for t in walk.tensors if self._unnamed(t) and self.keys[walk.k(t)] is None]
        unnamed_ids = {id(t) for t in unnamed}
        for t in unnamed:
            members = self._with_op(t)
            members += [f"t{walk.k(p)}" for p in t.grad_fn.parents if id(p) in unnamed_ids]  # type: ignore[union-attr]
            for member in members[1:]:
                leader[find(member)] = find(members[0])
        stretches: dict[str, list[str]] = {}
        for node in self.nodes:                # in drawing order, so the boxes come out the same every time
            if node in leader:
                stretches.setdefault(find(node), []).append(node)
        for members in stretches.values():
            tensors = [walk.tensors[_number_of(m)] for m in members if m.startswith("t")]
            if sum(1 for t in tensors if id(t) in unnamed_ids) >= 2:
                self._merge(members, "unnamed steps")

    def _collapse_far_from_output(self, max_nodes: int) -> None:
        """Keep what is nearest the output; the rest of the graph becomes one box."""
        feeds: dict[str, list[str]] = {}
        for source, target, _ in self.edges:
            feeds.setdefault(self.drawn_as[target], []).append(self.drawn_as[source])
        keep = [self.drawn_as[f"t{self.walk.k(self.walk.root)}"]]
        keep += [self.drawn_as[f"t{self.walk.k(t)}"] for t in self.walk.tensors if id(t) in self.protected]
        kept = set(keep)
        queue = list(keep)
        while queue and len(kept) < max_nodes - 1:
            for source in feeds.get(queue.pop(0), []):
                if source not in kept and len(kept) < max_nodes - 1:
                    kept.add(source)
                    queue.append(source)
        rest = list(dict.fromkeys(d for d in self.drawn_as.values() if d not in kept))
        if rest:
            self._merge(rest, "the part farthest from the output")

    def drawn_edges(self) -> list[tuple[str, str, str, int, bool]]:
        """(drawn source, drawn target, original target, input position, whether it is the only
        edge drawn as this one); edges inside a box dropped, edges to or from a box drawn once."""
        seen: dict[tuple[str, str], int] = {}
        result = []
        for source, target, position in self.edges:
            a, b = self.drawn_as[source], self.drawn_as[target]
            collapsed = a in self.groups or b in self.groups
            if a == b:
                continue
            if collapsed and (a, b) in seen:
                seen[(a, b)] += 1
                continue
            seen[(a, b)] = 1
            result.append((a, b, target, position))
        return [(a, b, target, position, seen[(a, b)] == 1) for a, b, target, position in result]


# --------------------------------------------------------------------------- DOT


@dataclass
class _Frame:
    """What one picture shows, beyond the graph itself."""

    backward: bool
    gradients: dict[int, np.ndarray]              # id(tensor) -> dJ/dtensor, complete
    terms: dict[tuple[int, int], _Term]           # (consumer number, input index) -> its term
    highlight_nodes: set[str] = field(default_factory=set)
    highlight_edges: set[tuple[str, str]] = field(default_factory=set)
    dim: bool = False                              # dim what is not highlighted
    current: str | None = None                     # the stepper's node
    caption: str = ""
    notes: dict[int, str] = field(default_factory=dict)   # id(tensor) -> a line under its box


def _cell(text: str, *, bold: bool = False, italic: bool = False, color: str | None = None,
          size: int | None = None) -> str:
    if bold:
        text = f"<B>{text}</B>"
    if italic:
        text = f"<I>{text}</I>"
    attributes = (f' COLOR="{color}"' if color else "") + (f' POINT-SIZE="{size}"' if size else "")
    return f"<FONT{attributes}>{text}</FONT>" if attributes else text


def _lines(lines: list[str], **style: Any) -> str:
    return "<BR/>".join(_cell(_esc(line), **style) for line in lines)


def _tensor_label(walk: _Walk, t: Tensor, frame: _Frame, dimmed: bool, drawn: str) -> str:
    k = walk.k(t)
    kind = walk.kind(t)
    text = DIM_TEXT if dimmed else None
    rows = []
    constant_scalar = kind == "input" and not t.name and t.size == 1
    if not constant_scalar:
        header = _cell(_esc(walk.names[k]), bold=bool(t.name), italic=not t.name, color=text)
        if t.ndim:
            header += " " + _cell(_esc(_shape(t.shape)), color=text or "#666666", size=10)
        rows.append(header)
    value_style: dict[str, Any] = {"color": text or ("#555555" if frame.backward else None)}
    if frame.backward and not constant_scalar:
        value_style["size"] = 11
    rows.append(_lines(_value_lines(t._data), **value_style))
    grad_row = ""
    if frame.backward and t.requires_grad:
        red = DIM_TEXT if dimmed else GRADIENT_RED
        gradient = frame.gradients.get(id(t))
        left = f"d{_after_d(walk.names[walk.k(walk.root)])}/d{_after_d(walk.names[k])}"
        if gradient is None:
            grad_row = _cell(_esc(f"{left} = ?"), color=DIM_TEXT)
        elif gradient.size == 1:
            grad_row = _cell(_esc(f"{left} = {_inline(gradient)}"), bold=True, color=red)
        else:
            grad_row = (_cell(_esc(left), bold=True, color=red) + "<BR/>"
                        + _lines(_value_lines(gradient), color=red))
    elif not frame.backward and t.grad is not None:
        current = t.grad._data if isinstance(t.grad, Tensor) else np.asarray(t.grad)
        grad_row = _lines(["grad " + _inline(current)], color=text or GRADIENT_RED)
    lit = drawn == frame.current or drawn in frame.highlight_nodes
    border, color = ("3", HIGHLIGHT) if lit else ("1", None)
    if dimmed:
        color = DIM_LINE
    style = ' STYLE="dashed"' if kind == "input" else ' STYLE="rounded"'
    fill = "#ffffff" if dimmed else KIND_FILL[kind]
    if kind == "output" and border == "1":
        border = "2"
    # A minimum width: the renderer's text metrics run narrow, and a one-letter input (x1, y)
    # would otherwise sit in a box its own text spills out of.
    body = "".join(f'<TR><TD WIDTH="44">{row}</TD></TR>' for row in rows)
    if grad_row:
        body += f"<HR/><TR><TD>{grad_row}</TD></TR>"
    if id(t) in frame.notes:
        note_color = DIM_TEXT if dimmed else (GRADIENT_RED if frame.backward else "#333333")
        body += f"<TR><TD>{_lines(frame.notes[id(t)].splitlines(), color=note_color)}</TD></TR>"
    outline = f' COLOR="{color}"' if color else ""
    return (f'<<TABLE BORDER="{border}"{outline} CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
            f'BGCOLOR="{fill}"{style}>{body}</TABLE>>')


def _op_text(t: Tensor) -> tuple[str, str]:
    """The op's symbol and, when it has any, its parameters in a few characters."""
    node = t.grad_fn
    assert node is not None
    details = []
    for key, value in node.params.items():
        if value is None or (key == "keepdims" and not value):
            continue
        if isinstance(value, np.ndarray):
            details.append(f"{key} {_shape(value.shape)}")
        elif isinstance(value, float):
            details.append(f"{key}={_number(value)}")
        else:
            shown = repr(value)
            details.append(f"{key}={shown if len(shown) <= 16 else shown[:15] + '…'}")
    return node.op.symbol, ", ".join(details)


def _number_of(node: str) -> int:
    """The tensor number in a DOT node id: 12 for "t12" (the tensor) and "op12" (the op that made it)."""
    return int(node[2:] if node.startswith("op") else node[1:])


def _build(walk: _Walk, layout: _Layout, frame: _Frame, legend: bool, title: str | None,
           rankdir: str) -> str:
    dot = graphviz.Digraph("computation_graph")
    # Left to right, local derivatives are xlabels placed beside the edges: they need longer edges.
    dot.attr(rankdir=rankdir, fontname=FONT, fontsize="13", nodesep="0.25",
             ranksep="0.45",
             labelloc="t", labeljust="l", bgcolor="white", forcelabels="true")
    dot.attr("node", fontname=FONT, fontsize="12")
    dot.attr("edge", fontname=FONT, fontsize="11", arrowsize="0.7")
    heading = [_esc(line) for line in (title, frame.caption) if line]
    if layout.note:
        heading += [_cell(_esc(line), color="#a00000") for line in layout.note.splitlines()]
    if heading:
        dot.attr(label="<" + "<BR ALIGN=\"LEFT\"/>".join(heading) + "<BR ALIGN=\"LEFT\"/>>")

    def dimmed(drawn: str) -> bool:
        return frame.dim and drawn not in frame.highlight_nodes and drawn != frame.current

    drawn_groups: set[str] = set()
    for node in layout.nodes:
        drawn = layout.drawn_as[node]
        if drawn in layout.groups:
            if drawn not in drawn_groups:
                drawn_groups.add(drawn)
                _draw_group(dot, walk, drawn, layout.groups[drawn], frame, dimmed(drawn))
            continue
        k = _number_of(node)
        t = walk.tensors[k]
        if node.startswith("t"):
            dot.node(node, _tensor_label(walk, t, frame, dimmed(node), node), shape="plain")
        else:
            symbol, details = _op_text(t)
            lit = node == frame.current or node in frame.highlight_nodes
            label = _cell(_esc(symbol), bold=True)
            if details:
                label += "<BR/>" + _cell(_esc(details), size=9)
            dot.node(node, f"<{label}>", shape="circle" if len(symbol) <= 1 and not details else "ellipse",
                     style="filled", fillcolor="#ffffff" if dimmed(node) else OP_FILL,
                     color=HIGHLIGHT if lit else (DIM_LINE if dimmed(node) else "#555555"),
                     fontcolor=DIM_TEXT if dimmed(node) else "black", penwidth="3" if lit else "1",
                     margin="0.04", width="0.4", height="0.4", tooltip=t.grad_fn.op.name)  # type: ignore[union-attr]
    for a, b, target, position, alone in layout.drawn_edges():
        _draw_edge(dot, walk, layout, frame, (a, b), (target, position, alone), dimmed(a) or dimmed(b),
                   rankdir)
    if legend:
        _draw_legend(dot, walk, frame)
    return dot.source


def _draw_group(dot: graphviz.Digraph, walk: _Walk, name: str, group: _Group, frame: _Frame,
                dimmed: bool) -> None:
    ops = [walk.tensors[int(m[2:])] for m in group.members if m.startswith("op")]
    symbols = list(dict.fromkeys(t.grad_fn.op.symbol for t in ops))  # type: ignore[union-attr]
    shown = ", ".join(symbols[:6]) + (", …" if len(symbols) > 6 else "")
    tensors = [walk.tensors[int(m[1:])] for m in group.members if m.startswith("t")]
    text = DIM_TEXT if dimmed else None
    if group.title:
        # layer 1: W1, b1 → Z1, A1 and its ops; the names say what is inside.
        leaves = [str(t.name) for t in tensors if t.grad_fn is None and t.name]
        results = [str(t.name) for t in tensors if t.grad_fn is not None and t.name]
        inside = ", ".join(leaves[:4]) + (" → " if leaves and results else "") + ", ".join(results[:4])
        rows = [_cell(_esc(group.title), bold=True, color=text, size=13)]
        rows += [_lines([line], color=text) for line in (inside, f"{len(ops)} ops: {shown}") if line]
        rows.append(_lines(["(collapsed by the size guard)"], color=text or "#666666", size=10))
    else:
        rows = [_lines([line], color=text) for line in (f"… {len(ops)} ops, {len(tensors)} tensors", shown)
                if line]
        rows.append(_lines([f"({group.reason})"], color=text))
    lit = name == frame.current or name in frame.highlight_nodes
    dot.node(name, "<" + "<BR/>".join(rows) + ">", shape="box",
             style="rounded,filled,dashed", fillcolor="#ffffff" if dimmed else COLLAPSED_FILL,
             color=HIGHLIGHT if lit else "#8e7cc3", penwidth="3" if lit else "1")


def _draw_edge(dot: graphviz.Digraph, walk: _Walk, layout: _Layout, frame: _Frame, drawn: tuple[str, str],
               original: tuple[str, int, bool], dimmed: bool, rankdir: str) -> None:
    """One edge. ``original``: the node it enters in the full graph, the op's input number there,
    and whether no other edge is drawn as this one (then it can carry that edge's label)."""
    a, b = drawn
    target, position, alone = original
    attributes: dict[str, str] = {}
    term = None
    if target.startswith("op"):
        k = _number_of(target)
        consumer = walk.tensors[k]
        inputs = consumer.grad_fn.parents  # type: ignore[union-attr]
        parent = inputs[position]
        if b not in layout.groups and alone:   # out of a box into a drawn op: still one input
            term = frame.terms.get((k, position))
            roles = _ROLES.get(consumer.grad_fn.op.name)  # type: ignore[union-attr]
            if not frame.backward and roles and len(inputs) == len(roles):
                role = roles[position]
                if len(role) == 1:     # the + and − of a subtraction: bold and large, easy to see
                    attributes.update(label=f"<{_cell(_esc(role), bold=True)}>", fontcolor=ROLE_TEXT,
                                      fontsize="16")
                else:                  # "A in A @ B", "numerator": a quiet reminder
                    attributes.update(label=role, fontcolor="#666666", fontsize="10")
        if frame.backward and not parent.requires_grad and a not in layout.groups:
            attributes.update(color="#b0b0b0", style="dashed", arrowhead="none")
    if frame.backward:
        attributes.setdefault("dir", "back")
        if term is not None:
            # A plain label, not an xlabel: graphviz makes room for it, so labels never overlap.
            text = _edge_derivative(walk, term)
            lines = [text]
            if len(text) > EDGE_LINE and " = " in text:    # ∂(w1x1 + w2x2)/∂w1x1 over = 1: narrower
                cut = text.rindex(" = ")
                lines = [text[:cut], text[cut + 1:]]
            attributes.update(label="<" + "<BR/>".join(_cell(_esc(line)) for line in lines) + ">",
                              fontcolor=GRADIENT_RED)
        attributes.setdefault("color", GRADIENT_RED)
    if (a, b) in frame.highlight_edges:
        attributes.update(color=HIGHLIGHT, penwidth="2.5")
    elif dimmed:
        attributes.update(color=DIM_LINE, fontcolor=DIM_TEXT)
    dot.edge(a, b, **attributes)


def _kind_text(walk: _Walk, kind: str) -> str:
    """The legend's words for a kind; leaves that require grad are parameters only when named so."""
    if kind != "parameter":
        return KIND_TEXT[kind]
    leaves = [walk.names[walk.k(t)] for t in walk.tensors if walk.kind(t) == "parameter"]
    if all(_PARAMETER_NAME.fullmatch(name) for name in leaves):
        return KIND_TEXT[kind]
    return "input that requires grad"    # a, b, c in J = 3(a + bc): no one trains them


def _draw_legend(dot: graphviz.Digraph, walk: _Walk, frame: _Frame) -> None:
    kinds = [kind for kind in KIND_FILL if any(walk.kind(t) == kind for t in walk.tensors)]
    swatches = [(KIND_FILL[kind], ' STYLE="dashed"' if kind == "input" else "", _kind_text(walk, kind))
                for kind in kinds]
    swatches.append((OP_FILL, ' STYLE="rounded"', "operation (+, ×, @, σ, …)"))
    # One table of two columns: a swatch and its words. The notes sit in the words' column, so
    # a long note widens that column only and the swatches stay next to their words.
    rows = "".join(f'<TR><TD BGCOLOR="{fill}" BORDER="1"{style} WIDTH="16" HEIGHT="12" FIXEDSIZE="TRUE"></TD>'
                   f'<TD ALIGN="LEFT">{_esc(text)}</TD></TR>' for fill, style, text in swatches)
    notes = []
    if frame.backward:
        name = walk.names[walk.k(walk.root)]
        root = _after_d(name)
        notes.append(f"node: d{root}/dx, how fast {name} changes with x")
        notes.append("edge: the local derivative ∂out/∂in")
        if any(term.local is None for term in frame.terms.values()):
            notes.append(f"(for tensors: how the op turns dout into din; dX is short for d{root}/dX)")
    else:
        notes.append("edges: inputs → op → result")
    if frame.highlight_nodes and frame.current is None:
        notes.append("orange: the paths from the highlighted tensor to the output")
    note_rows = "".join(f'<TR><TD></TD><TD ALIGN="LEFT">{_esc(note)}</TD></TR>' for note in notes)
    dot.node("legend", f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="1">'
                       f'<TR><TD ALIGN="LEFT" COLSPAN="2"><B>Legend</B></TD></TR>{rows}{note_rows}</TABLE>>',
             shape="box", style="rounded", color="#bbbbbb", fontsize="10", margin="0.1")


# --------------------------------------------------------------------------- rendering


def _scripts_directories() -> list[Path]:
    """Where ``pip install graphviz-pure`` puts its executable for the running Python."""
    directories = [Path(sys.executable).parent]
    scripts = sysconfig.get_path("scripts")
    if scripts:
        directories.append(Path(scripts))
    return directories


def find_renderer(format: str = "svg") -> str:
    """The program that turns DOT into a picture: ``graphviz-pure`` next to this Python, then on
    PATH, then a system Graphviz ``dot``. PDF needs the system ``dot`` (graphviz-pure has none).
    """
    if format != "pdf":
        for directory in _scripts_directories():
            found = shutil.which("graphviz-pure", path=str(directory))
            if found:
                return found
        found = shutil.which("graphviz-pure")
        if found:
            return found
    found = shutil.which("dot")
    if found:
        return found
    if format == "pdf":
        raise RendererNotFoundError(
            "saving as .pdf needs Graphviz's own 'dot' program (graphviz-pure renders svg and png, "
            "not pdf), and there is no 'dot' on PATH. Install Graphviz (e.g. apt install graphviz, "
            "brew install graphviz), or save as .svg or .png instead."
        )
    looked = ", ".join(str(d) for d in _scripts_directories())
    raise RendererNotFoundError(
        "no graph renderer found: looked for 'graphviz-pure' next to this Python "
        f"({looked}) and on PATH, and for Graphviz's 'dot' on PATH. Fix either way: "
        f"'{Path(sys.executable).name} -m pip install graphviz-pure' (a renderer wheel, no system "
        "install), or install Graphviz (apt install graphviz, brew install graphviz, ...). The DOT "
        "text works without either: graph.source, or graph.save('graph.dot')."
    )


_FORMATS = ("svg", "png", "pdf", "dot")


class Graph:
    """A picture of a computation graph: its DOT ``source``, rendered when saved or displayed.

    ``save("g.svg")`` / ``.png`` / ``.pdf`` / ``.dot`` (the format comes from the suffix); in
    Jupyter it shows itself inline as SVG. ``renderer_messages`` keeps what the renderer printed
    on stderr the last time (font warnings, mostly).
    """

    def __init__(self, source: str, caption: str = "") -> None:
        self.source = source
        self.caption = caption
        self.renderer_messages = ""

    def __repr__(self) -> str:
        nodes = len(re.findall(r"^\t(?!node |edge |legend )\w+ \[", self.source, flags=re.M))
        return f"<Graph with {nodes} nodes: .source is the DOT text; .save('graph.svg') draws it>"

    def pipe(self, format: str = "svg") -> bytes:
        """The picture as bytes, in ``format`` ("svg", "png" or "pdf")."""
        if not isinstance(format, str) or format not in _FORMATS[:3]:
            raise InputValueError(f"Graph.pipe(format={format!r}): expected 'svg', 'png' or 'pdf'.")
        program = find_renderer(format)
        command = [program, f"-T{format}"] + ([f"-Gdpi={PNG_DPI}"] if format == "png" else [])
        try:
            source = self.source.translate(_PNG_GLYPHS) if format == "png" else self.source
            done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True,
                                  timeout=300, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError(f"{program} took more than 300 s to draw this graph; pass a smaller "
                              "max_nodes to graph() to collapse more of it.") from None
        self.renderer_messages = done.stderr.decode("utf-8", "replace")
        if done.returncode != 0 or not done.stdout:
            raise RenderError(f"{program} -T{format} failed (exit code {done.returncode}): "
                              f"{self.renderer_messages.strip() or 'no message'}")
        return done.stdout

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the picture; the format is the suffix (.svg, .png, .pdf, .dot) unless given."""
        path = _checks.path(path, "Graph.save(path)")
        if format is not None and not isinstance(format, str):
            raise InputTypeError(f"Graph.save(format={format!r}): expected 'svg', 'png', 'pdf' or 'dot'.")
        chosen = (format or path.suffix.lstrip(".")).lower()
        if chosen == "gv":
            chosen = "dot"
        if chosen not in _FORMATS:
            raise InputValueError(f"Graph.save({str(path)!r}): cannot tell the format from the suffix "
                                  f"{path.suffix!r}; use .svg, .png, .pdf or .dot (or format=...).")
        content = self.source.encode("utf-8") if chosen == "dot" else self.pipe(chosen)
        _write(path, content, "Graph.save")
        return path

    def _repr_svg_(self) -> str:
        return self.pipe("svg").decode("utf-8")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        try:
            return {"image/svg+xml": self._repr_svg_()}
        except (RendererNotFoundError, RenderError) as error:
            return {"text/plain": f"{error}\n\nThe DOT text:\n{self.source}"}


def _write(path: Path, content: bytes, what: str) -> None:
    """Write a picture or page, making its folder as ``Module.save`` does; OS refusals named."""
    if path.is_dir():
        raise InputValueError(f"{what}({str(path)!r}): that is a folder; expected a file name.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as error:  # a file where a folder should be, no permission, ...
        raise FileAccessError(f"{what}({str(path)!r}): cannot write there: {error}") from None


# --------------------------------------------------------------------------- the public functions


def _check_tensor(t: Any, what: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise InputTypeError(f"{what} expects a Tensor (the output of a computation, like J), "
                             f"got {type(t).__name__}.")
    return t


def _check_options(max_nodes: int | None, rankdir: str | None, legend: bool = True,
                   title: str | None = None) -> None:
    _checks.flag(legend, "legend")
    if title is not None and not isinstance(title, str):
        raise InputTypeError(f"title must be a str or None, got {title!r:.60}.")
    if max_nodes is not None and (not isinstance(max_nodes, int) or isinstance(max_nodes, bool)
                                  or max_nodes < 3):
        raise InputValueError(f"max_nodes must be an int of at least 3, or None to draw everything; "
                              f"got {max_nodes!r}.")
    if rankdir is not None and (not isinstance(rankdir, str) or rankdir not in ("LR", "RL", "TB", "BT")):
        raise InputValueError(f"rankdir must be 'LR' (left to right), 'TB' (top to bottom), 'RL', 'BT' "
                              "or None (LR for shallow graphs as in the lesson, TB for deeper ones), "
                              f"got {rankdir!r}.")


def _direction(walk: _Walk, rankdir: str | None) -> str:
    """Left to right as in the lesson while the graph is shallow; deeper graphs read better top to
    bottom, where boxes and derivative labels sit side by side instead of stretching one line."""
    if rankdir is not None:
        return rankdir
    depth: dict[int, int] = {}
    for t in walk.tensors:
        parents = t.grad_fn.parents if t.grad_fn is not None else ()
        depth[id(t)] = 1 + max((depth[id(p)] for p in parents), default=-1)
    return "LR" if depth[id(walk.root)] <= LR_MAX_DEPTH else "TB"


def _as_tensors(highlight: Tensor | Sequence[Tensor] | None) -> list[Tensor]:
    if highlight is None:
        return []
    if not isinstance(highlight, (Tensor, list, tuple)):
        raise InputTypeError(f"graph(highlight=...) expects a Tensor or a list of Tensors, "
                             f"got {highlight!r:.60}.")
    items = [highlight] if isinstance(highlight, Tensor) else list(highlight)
    return [_check_tensor(t, "graph(highlight=...)") for t in items]


def _check_notes(walk: _Walk, notes: Mapping[Tensor, str] | None) -> dict[int, str]:
    if notes is None:
        return {}
    if not isinstance(notes, Mapping):
        raise InputTypeError(f"graph(notes=...) expects a dict tensor → text, got {notes!r:.60}.")
    checked = {}
    for t, text in notes.items():
        _check_tensor(t, "graph(notes=...)")
        if not isinstance(text, str):
            raise InputTypeError(f"graph(notes=...): each note must be a str, got {text!r:.60}.")
        if id(t) not in walk.number:
            raise InputValueError("graph(notes=...): a noted tensor is not part of this graph.")
        checked[id(t)] = text
    return checked


def _frame_terms(walk: _Walk, steps: Sequence[_Step]) -> dict[tuple[int, int], _Term]:
    return {(walk.k(term.consumer), term.input_index): term for step in steps for term in step.terms}


def _paths_to_output(walk: _Walk, layout: _Layout,
                     sources: list[Tensor]) -> tuple[set[str], set[tuple[str, str]]]:
    """The nodes and edges on some path from a highlighted tensor to the output."""
    for t in sources:
        if id(t) not in walk.number:
            name = f"'{t.name}'" if t.name else f"of shape {t.shape}"
            raise InputValueError(f"graph(highlight=...): the tensor {name} is not part of this graph "
                                  "(the output does not depend on it).")
    reached = {id(t) for t in sources}
    for t in walk.tensors:                     # parents come first, so one pass finds descendants
        if t.grad_fn is not None and any(id(p) in reached for p in t.grad_fn.parents):
            reached.add(id(t))
    ancestors = {id(walk.root)}
    for t in reversed(walk.tensors):
        if id(t) in ancestors and t.grad_fn is not None:
            ancestors.update(id(p) for p in t.grad_fn.parents)
    on_path = reached & ancestors
    nodes, edges = set(), set()
    for t in walk.tensors:
        if id(t) not in on_path:
            continue
        k = walk.k(t)
        nodes.add(layout.drawn_as[f"t{k}"])
        if t.grad_fn is not None and id(t) not in {id(s) for s in sources}:
            op = layout.drawn_as[f"op{k}"]
            nodes.add(op)
            edges.add((op, layout.drawn_as[f"t{k}"]))
            for p in t.grad_fn.parents:
                if id(p) in on_path:
                    edges.add((layout.drawn_as[f"t{walk.k(p)}"], op))
    return nodes, edges


def graph(t: Tensor, backward: bool = False, highlight: Tensor | Sequence[Tensor] | None = None,
          max_nodes: int | None = 30, legend: bool = True, title: str | None = None,
          rankdir: str | None = None, notes: Mapping[Tensor, str] | None = None) -> Graph:
    """Draw the computation graph behind ``t``: tensors as boxes, ops as circles.

    Forward view: each tensor's name, shape and value (and ``.grad`` once ``backward()`` ran).
    ``backward=True``: each tensor shows dJ/dtensor and each edge the local derivative of the
    chain rule — ∂v/∂a = 1, ∂u/∂b = c = 2 for scalars, the op's rule (dZ · Aᵀ, dA ⊙ (1 − A²))
    for tensors. ``highlight`` (a tensor or several) marks the paths from it to ``t``.
    Above ``max_nodes`` nodes, the graph is collapsed into boxes, with a note at the top saying
    so: long chains and unnamed stretches outside the layers first, then whole layers from the
    first (W1, b1, Z1, A1 are layer 1; "layer1.W" the scope layer1), then what is farthest from
    the output; the inputs, the last layer and the loss stay drawn. Shallow graphs run left to
    right as in the lesson, deeper ones top to bottom; ``rankdir="LR"`` or ``"TB"`` chooses.
    ``notes`` puts a teacher's line of text under a tensor's box: ``notes={z: "dz = a − y"}``.
    """
    _check_tensor(t, "graph()")
    _check_options(max_nodes, rankdir, legend, title)
    backward = _checks.flag(backward, "graph(backward=...)")
    sources = _as_tensors(highlight)
    walk = _Walk(t)
    noted = _check_notes(walk, notes)
    layout = _Layout(walk, max_nodes, {id(s) for s in sources} | set(noted))
    frame = _Frame(backward=backward, gradients={}, terms={}, notes=noted)
    if backward:
        replayed = _replay(t)
        frame.gradients = {id(step.tensor): step.gradient for step in replayed}
        frame.terms = _frame_terms(walk, replayed)
    if sources:
        frame.highlight_nodes, frame.highlight_edges = _paths_to_output(walk, layout, sources)
        frame.dim = True
    return Graph(_build(walk, layout, frame, legend, title, _direction(walk, rankdir)))


def save_graphs(t: Tensor, out_dir: str | os.PathLike[str], stem: str = "graph", format: str = "svg",
                **options: Any) -> list[Path]:
    """Write ``{stem}_forward.{format}`` and ``{stem}_backward.{format}`` into ``out_dir``.

    Returns the two paths. ``options`` go to ``graph`` (``title``, ``max_nodes``, ...).
    """
    out = _checks.path(out_dir, "save_graphs(out_dir)")
    if not isinstance(stem, str) or not isinstance(format, str):
        raise InputTypeError(f"save_graphs(): stem and format must be str, "
                             f"got {stem!r:.40} and {format!r:.40}.")
    return [graph(t, backward=False, **options).save(out / f"{stem}_forward.{format}"),
            graph(t, backward=True, **options).save(out / f"{stem}_backward.{format}")]


def steps(t: Tensor, max_nodes: int | None = 30, legend: bool = False, rankdir: str | None = None,
          max_steps: int = 200) -> list[Graph]:
    """Backprop frame by frame: one picture per tensor, in the order ``backward()`` visits them.

    Each frame marks the tensor whose gradient has just become complete, the edges its gradient
    came along, and says the chain-rule step in words (its ``caption``). Gradients not reached
    yet show "?".
    """
    _check_tensor(t, "steps()")
    _check_options(max_nodes, rankdir, legend)
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise InputValueError(f"steps(max_steps=...) must be a positive int, got {max_steps!r:.40}.")
    walk = _Walk(t)
    replayed = _replay(t)
    if len(replayed) > max_steps:
        raise InputValueError(f"steps(): this graph has {len(replayed)} tensors to step through, more "
                              f"than max_steps = {max_steps}; pass a larger max_steps, or step "
                              "through a smaller graph.")
    layout = _Layout(walk, max_nodes, set())
    terms = _frame_terms(walk, replayed)
    frames = []
    for number, step in enumerate(replayed, start=1):
        k = walk.k(step.tensor)
        current = layout.drawn_as[f"t{k}"]
        edges = set()
        for term in step.terms:
            op = layout.drawn_as[f"op{walk.k(term.consumer)}"]
            edges.add((current, op))
        caption = f"Step {number} of {len(replayed)}: {_explain_line(walk, step)}"
        frame = _Frame(backward=True, terms=terms, current=current, highlight_edges=edges,
                       gradients={id(s.tensor): s.gradient for s in replayed[:number]},
                       caption=caption)
        frames.append(Graph(_build(walk, layout, frame, legend, None, _direction(walk, rankdir)), caption))
    return frames


def save_steps(t: Tensor, path: str | os.PathLike[str] = "backprop.html", **options: Any) -> Path:
    """One self-contained HTML page that steps through backprop: previous/next buttons, a slider.

    The frames are inline SVG; the page loads nothing from the network and names no URL.
    """
    path = _checks.path(path, "save_steps(path)")
    frames = steps(t, **options)
    pictures = []
    for number, frame in enumerate(frames):
        svg = frame.pipe("svg").decode("utf-8")
        svg = svg[svg.index("<svg"):]          # drop the XML prolog and DOCTYPE: inline SVG
        # HTML knows inline SVG (and xlink:title) without namespace declarations: the page then
        # holds no URL at all, not even the namespace names that look like one.
        svg = _XMLNS.sub("", svg)
        hidden = "" if number == 0 else " hidden"
        pictures.append(f'<figure class="frame"{hidden}><figcaption>{_esc(frame.caption)}</figcaption>'
                        f"\n{svg}</figure>")
    page = _PAGE.replace("{count}", str(len(frames))).replace("{last}", str(len(frames) - 1))
    _write(path, page.replace("{frames}", "\n".join(pictures)).encode("utf-8"), "save_steps")
    return path


# --------------------------------------------------------------------------- the lesson's pictures


def _lesson() -> Tensor:
    """J = 3(a + bc) at a = 5, b = 3, c = 2: u = bc = 6, v = a + u = 11, J = 3v = 33."""
    a, b, c = (Tensor(x, requires_grad=True, name=n) for x, n in ((5.0, "a"), (3.0, "b"), (2.0, "c")))
    u = (b * c).named("u")
    v = (a + u).named("v")
    return (3 * v).named("J")


def _logistic_regression() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One example of the lesson: z = w1·x1 + w2·x2 + b, a = σ(z), L(a, y); returns L, z, a, y."""
    x1, x2, y = Tensor(2.0, name="x1"), Tensor(1.0, name="x2"), Tensor(1.0, name="y")
    w1, w2, b = (Tensor(x, requires_grad=True, name=n) for x, n in ((0.3, "w1"), (-0.2, "w2"), (0.1, "b")))
    z = ((w1 * x1).named("w1x1") + (w2 * x2).named("w2x2") + b).named("z")  # w1x1 + w2x2 unnamed
    a = z.sigmoid().named("a")
    return ops.bce(a, y).named("L"), z, a, y


def save_lesson_pictures(out_dir: str | os.PathLike[str] = "graphs", format: str = "svg") -> list[Path]:
    """The lesson's pictures, as ``python -m tinygrad_course graph`` writes them; returns the paths.

    ``lesson_forward`` and ``lesson_backward`` (J = 3(a + bc)), ``logistic_regression_forward``
    and ``logistic_regression_backward`` (one example, left to right: z = w1·x1 + w2·x2 + b,
    a = σ(z), L, with dz = a − y at z) in ``format`` ("svg", "png", or "dot", which needs no
    renderer), and ``backprop_steps.html`` (not for "dot": its frames are rendered pictures).
    """
    out = _checks.path(out_dir, "save_lesson_pictures(out_dir)")
    if not isinstance(format, str) or format not in ("svg", "png", "dot"):
        raise InputValueError(f"save_lesson_pictures(format={format!r:.40}): expected 'svg', 'png' or 'dot'.")
    J = _lesson()
    J.backward()
    written = save_graphs(J, out, "lesson", format, title="The lesson's graph: J = 3(a + bc)")
    L, z, a, y = _logistic_regression()
    L.backward()
    dz = f"dz = a − y\n= {_number(a.item())} − {_number(y.item())} = {_number(float(z.grad))}"  # type: ignore[arg-type]
    title = ("Logistic regression, one example: z = w1x1 + w2x2 + b, a = σ(z), "
             "L(a, y) = −(y log a + (1 − y) log(1 − a))")
    written.append(graph(L, title=title, rankdir="LR").save(out / f"logistic_regression_forward.{format}"))
    written.append(graph(L, backward=True, title=title + "; backprop: dz = a − y", rankdir="LR",
                         notes={z: dz}).save(out / f"logistic_regression_backward.{format}"))
    if format != "dot":
        written.append(save_steps(J, out / "backprop_steps.html"))
    return written


_XMLNS = re.compile(r"""\s+xmlns(?::\w+)?\s*=\s*("[^"]*"|'[^']*')""")

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Backprop, step by step</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; }
nav { display: flex; gap: 0.8em; align-items: center; margin-bottom: 1em; }
input[type=range] { width: 20em; }
figcaption { font-size: 1.1em; margin-bottom: 0.5em; }
svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>Backprop, step by step</h1>
<p>One frame per tensor, in the order backward() visits them: the orange node's gradient is complete.
Keys ← and → step too.</p>
<nav>
<button id="previous" type="button">← previous</button>
<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="frame">
<button id="next" type="button">next →</button>
<span id="position">1 / {count}</span>
</nav>
{frames}
<script>
const frames = document.querySelectorAll(".frame");
const slider = document.getElementById("slider");
function show(index) {
  index = Math.max(0, Math.min(frames.length - 1, index));
  frames.forEach((frame, i) => { frame.hidden = i !== index; });
  slider.value = index;
  document.getElementById("position").textContent = (index + 1) + " / " + frames.length;
}
document.getElementById("previous").onclick = () => show(Number(slider.value) - 1);
document.getElementById("next").onclick = () => show(Number(slider.value) + 1);
slider.oninput = () => show(Number(slider.value));
document.addEventListener("keydown", (event) => {
  if (event.key === "ArrowLeft") show(Number(slider.value) - 1);
  if (event.key === "ArrowRight") show(Number(slider.value) + 1);
});
</script>
</body>
</html>
"""


def explain(t: Tensor, file: IO[str] | None = None) -> None:
    """Print backprop as the lesson says it, one line per tensor in the order backward() visits them::

        dJ/dJ = 1
        dJ/dv = 3
        dJ/du = dJ/dv · dv/du = 3 · 1 = 3
        dJ/dc = dJ/du · du/dc = 3 · 3 = 9
        dJ/db = dJ/du · du/db = 3 · 2 = 6
        dJ/da = dJ/dv · dv/da = 3 · 1 = 3

    For tensors each line gives the rule (dX is short for dJ/dX) and the gradient's values.
    """
    _check_tensor(t, "explain()")
    if file is not None and not callable(getattr(file, "write", None)):
        raise InputTypeError(f"explain(file=...) expects an open text file (or None for the screen), "
                             f"got {file!r:.60}.")
    walk = _Walk(t)
    for step in _replay(t):
        print(_explain_line(walk, step), file=file if file is not None else sys.stdout)
