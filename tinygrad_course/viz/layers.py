"""The layer view: a model's training step as the course draws it, found in the recorded graph.

Forward blocks run left to right, one per layer (``Z1 = W1 · X + b1``, ``A1 = tanh(Z1)``), then
the cost; backward blocks run right to left beneath them (``dZ2 = σ(Z2) − Y``,
``dW2 = (1/m) dZ2 · A1ᵀ``, ...), and a cache arrow joins each forward block to its backward one.
Nothing is drawn by hand: a layer is every ``W @ A + b`` in the graph whose ``W`` and ``b`` are
parameters, its activation is the one op that takes its ``Z``, and the numbers are the
gradients that ``backward()`` computes, replayed. The course's ``dZ[l]`` is the gradient of one
example's loss, ``m · ∂J/∂Z[l]``, so that ``dW[l] = (1/m) dZ[l] · A[l-1]ᵀ`` is exactly ``W[l].grad``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise

import graphviz
import numpy as np

from ..errors import InputValueError
from ..ops.notation import notation_of
from ..tensor import Tensor
from .checking import forward_from, gradients_at
from .dot import FONT, GRADIENT_RED, HIGHLIGHT, KIND_FILL, cell
from .names import Walk
from .numbers import esc, number, shape_text, value_lines
from .replay import substitute


@dataclass
class Layer:
    """One ``Z[l] = W[l] @ A[l-1] + b[l]`` and its activation ``A[l] = g(Z[l])`` (if any)."""

    number: int
    W: Tensor
    b: Tensor
    A_prev: Tensor
    Z: Tensor
    A: Tensor | None


@dataclass
class Block:
    """One box of the layer view: its equations with shapes, its numbers, and what a click shows."""

    key: str                         # "forward1", "cost", "backward2": also the DOT node and SVG id
    title: str
    equations: list[str]
    numbers: list[str] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)
    caption: str = ""


def _linear_parts(t: Tensor) -> tuple[Tensor, Tensor, Tensor] | None:
    """(W, A, b) when ``t`` was computed as ``W @ A + b`` with parameters W and b."""
    node = t.grad_fn
    if node is None or node.op.name != "add" or len(node.parents) != 2:
        return None
    product, b = node.parents
    inner = product.grad_fn
    if inner is None or inner.op.name != "matmul" or b.grad_fn is not None or not b.requires_grad:
        return None
    W, A = inner.parents
    if W.grad_fn is not None or not W.requires_grad:
        return None
    return W, A, b


class LayerModel:
    """The layers, the cost and every gradient of one training step ``J``; with ``parameters``
    (W1, b1, ... by name, as a ``Snapshot`` of ``fit`` keeps them) the same step at those values."""

    def __init__(self, J: Tensor, parameters: Mapping[str, np.ndarray] | None = None) -> None:
        walk = Walk(J)
        self.J, self.walk = J, walk
        self.layers: list[Layer] = []
        layer_of: dict[int, Layer] = {}
        for t in walk.tensors:
            parts = _linear_parts(t)
            if parts is None:
                continue
            W, A_prev, b = parts
            consumers = walk.consumers[walk.k(t)]
            A = None
            if len(consumers) == 1:
                user = walk.tensors[consumers[0][0]]
                if len(user.grad_fn.parents) == 1 and notation_of(user.grad_fn.op.name).form:  # type: ignore[union-attr]
                    A = user
            layer = Layer(len(self.layers) + 1, W, b, A_prev, t, A)
            if self.layers and id(A_prev) not in {id(self.layers[-1].A), id(self.layers[-1].Z)}:
                raise InputValueError("the layer view draws a chain of layers (MLP, Sequential); in this "
                                      f"graph layer {layer.number} does not take layer {layer.number - 1}'s "
                                      "output. Draw it with view='ops'.")
            self.layers.append(layer)
            layer_of[id(t)] = layer
        if not self.layers:
            raise InputValueError("the layer view needs a model made of W @ A + b layers (MLP, Sequential "
                                  "of Linear layers) with W and b that require grad; this graph has none. "
                                  "Draw it with view='ops'.")
        self.m = self.layers[0].A_prev.shape[-1]
        self.names = {id(self.layers[0].A_prev): "X"}
        for layer in self.layers:
            n = layer.number
            for t, name in ((layer.W, f"W{n}"), (layer.b, f"b{n}"), (layer.Z, f"Z{n}"), (layer.A, f"A{n}")):
                if t is not None:
                    self.names[id(t)] = name
        self.loss = self._loss()
        values = [t.data for t in walk.tensors]
        if parameters is not None:
            for k, t in enumerate(walk.tensors):
                if t.grad_fn is None and self.names.get(id(t)) in parameters:
                    values[k] = np.asarray(parameters[self.names[id(t)]], dtype=t.dtype).reshape(t.shape)
            values = forward_from(walk, -1, values)
        self.values = {id(t): values[k] for k, t in enumerate(walk.tensors)}
        self.gradients = {id(t): g for t, g in zip(walk.tensors, gradients_at(walk, values), strict=True)
                          if g is not None}

    def _loss(self) -> tuple[Tensor, Tensor, Tensor] | None:
        """(L, its input, Y) when the cost is the mean of a loss op such as bce_with_logits."""
        for t in self.walk.tensors:
            node = t.grad_fn
            if node is not None and notation_of(node.op.name).target is not None:
                target = notation_of(node.op.name).target
                Y = node.parents[target]  # type: ignore[index]
                self.names.setdefault(id(Y), "Y")
                return t, node.parents[0], Y
        return None

    def name(self, t: Tensor) -> str:
        return self.names.get(id(t)) or self.walk.names[self.walk.k(t)]

    def with_shape(self, t: Tensor) -> str:
        return f"{self.name(t)} {shape_text(t.shape)}"

    def course_gradient(self, t: Tensor) -> np.ndarray:
        """The course's dX: ``m · ∂J/∂X`` for a per-example quantity (Z, A), ``∂J/∂X`` for W and b."""
        gradient = self.gradients[id(t)]
        return gradient if t.grad_fn is None and t.requires_grad else gradient * self.m

    def blocks(self, compact: bool = False) -> list[Block]:
        """Forward blocks left to right, the cost, then backward blocks from the last layer to the first."""
        blocks = [self._forward(layer, compact) for layer in self.layers]
        blocks.append(self._cost(compact))
        blocks += [self._backward(layer, compact) for layer in reversed(self.layers)]
        return blocks

    # ------------------------------------------------------------------ the blocks

    def _numbers(self, pairs: list[tuple[str, np.ndarray]], compact: bool) -> list[str]:
        if compact:
            return []
        return [f"{name}: " + ", ".join(value_lines(values)) for name, values in pairs]

    def _activation(self, layer: Layer) -> str:
        assert layer.A is not None
        return f"{self.with_shape(layer.A)} = {layer.A.grad_fn.op.symbol}({self.name(layer.Z)})"  # type: ignore[union-attr]

    def _forward(self, layer: Layer, compact: bool) -> Block:
        n = layer.number
        equations = [f"{self.with_shape(layer.Z)} = {self.with_shape(layer.W)} · "
                     f"{self.with_shape(layer.A_prev)} + {self.with_shape(layer.b)}"]
        pairs = [(f"Z{n}", self.values[id(layer.Z)])]
        if layer.A is not None:
            equations.append(self._activation(layer))
            pairs.append((f"A{n}", self.values[id(layer.A)]))
        cached = [self.name(layer.A_prev), self.name(layer.Z)]
        if layer.A is not None:
            cached.append(self.name(layer.A))
        return Block(f"forward{n}", f"Layer {n}, forward", equations, self._numbers(pairs, compact),
                     detail=[*equations, f"cache for the backward pass: {', '.join(cached)}, W{n}"],
                     caption=f"Forward, layer {n}: {equations[0]}")

    def _cost(self, compact: bool) -> Block:
        cost = float(self.values[id(self.J)])
        if self.loss is not None:
            _, given, Y = self.loss
            equation = (f"J = (1/m) Σ L({self.name(given)}, {self.name(Y)}),  m = {self.m}")
        else:
            last = self.layers[-1].A if self.layers[-1].A is not None else self.layers[-1].Z
            equation = f"J = cost({self.name(last)}), as computed after layer {len(self.layers)}"
        numbers = [] if compact else [f"J = {number(cost)}"]
        return Block("cost", "Cost", [equation], numbers, detail=[equation, f"J = {number(cost)}"],
                     caption=f"The cost: {equation} = {number(cost)}")

    def _dZ_rule(self, layer: Layer) -> str:
        """dZ[l] in the course's words: from the loss for the last layer, else dA[l] ⊙ g′(Z[l])."""
        n = layer.number
        if layer.A is not None and (self.loss is None or self.loss[1] is not layer.Z):
            node = layer.A.grad_fn
            assert node is not None
            notation = notation_of(node.op.name)
            letters = dict(zip(notation.operands, [self.name(layer.Z)], strict=False))
            if notation.output:
                letters[notation.output] = self.name(layer.A)
            rule = substitute(notation.rules[0], letters) if notation.rules else f"{node.op.name}′"
            return f"dA{n} {rule}"
        if self.loss is not None:
            L, given, Y = self.loss
            notation = notation_of(L.grad_fn.op.name)  # type: ignore[union-attr]
            letters = dict(zip(notation.operands, [self.name(given), self.name(Y)], strict=False))
            rule = substitute(notation.rules[0], letters).removeprefix("⊙ ")
            return rule[1:-1] if rule.startswith("(") and rule.endswith(")") else rule
        return f"m · ∂J/∂Z{n}"

    def _backward(self, layer: Layer, compact: bool) -> Block:
        n, m = layer.number, self.m
        dZ = self.course_gradient(layer.Z)
        dW, db = self.gradients[id(layer.W)], self.gradients[id(layer.b)]
        prev = self.name(layer.A_prev)
        equations = [f"dZ{n} {shape_text(dZ.shape)} = {self._dZ_rule(layer)}",
                     f"dW{n} {shape_text(dW.shape)} = (1/m) dZ{n} · {prev}ᵀ",
                     f"db{n} {shape_text(db.shape)} = (1/m) Σ dZ{n} over the m examples"]
        pairs = [(f"dZ{n}", dZ), (f"dW{n}", dW), (f"db{n}", db)]
        if n > 1:
            dA = self.course_gradient(layer.A_prev)
            equations.append(f"d{prev} {shape_text(dA.shape)} = W{n}ᵀ · dZ{n}")
            pairs.append((f"d{prev}", dA))
        detail = [f"dW{n} = (1/m) dZ{n} · {prev}ᵀ:  {shape_text(dW.shape)} = (1/{m}) "
                  f"{shape_text(dZ.shape)} · {shape_text(layer.A_prev.shape[::-1])}",
                  *(f"{name} = " + ", ".join(value_lines(values)) for name, values in pairs),
                  f"dW{n} equals W{n}.grad after backward(): (1/m) dZ{n} · {prev}ᵀ is ∂J/∂W{n}"]
        return Block(f"backward{n}", f"Layer {n}, backward", equations, self._numbers(pairs, compact),
                     detail=detail, caption=f"Backward, layer {n}: " + "; ".join(equations[:2]))


# --------------------------------------------------------------------------- the layer view as DOT


def layer_dot(model: LayerModel, compact: bool = False, title: str | None = None,
              current: str | None = None) -> str:
    """Forward blocks on one row, left to right; backward blocks on the row beneath, right to left;
    dashed cache arrows from each forward block down to its backward block."""
    dot = graphviz.Digraph("layer_view")
    dot.attr(rankdir="TB", fontname=FONT, fontsize="13", nodesep="0.5", ranksep="0.7", labelloc="t",
             labeljust="l", bgcolor="white", newrank="true")
    dot.attr("node", fontname=FONT, fontsize="12", shape="plain")
    dot.attr("edge", fontname=FONT, fontsize="10", arrowsize="0.7")
    if title:
        dot.attr(label=f"<{esc(title)}<BR ALIGN=\"LEFT\"/>>")
    blocks = model.blocks(compact)
    for block in blocks:
        backward = block.key.startswith("backward")
        fill = "#fbe9e7" if backward else ("#ffd966" if block.key == "cost" else KIND_FILL["parameter"])
        rows = [cell(esc(block.title), bold=True, size=13)]
        rows += [cell(esc(line), color=GRADIENT_RED if backward else None) for line in block.equations]
        rows += [cell(esc(line), color="#555555", size=10) for line in block.numbers]
        border, outline = ("3", f' COLOR="{HIGHLIGHT}"') if block.key == current else ("1", "")
        body = "".join(f'<TR><TD ALIGN="LEFT">{row}</TD></TR>' for row in rows)
        dot.node(block.key, f'<<TABLE BORDER="{border}"{outline} CELLBORDER="0" CELLSPACING="0" '
                            f'CELLPADDING="4" BGCOLOR="{fill}" STYLE="rounded">{body}</TABLE>>',
                 tooltip=block.title)
    forward = [b.key for b in blocks if not b.key.startswith("backward")]
    backward = [b.key for b in blocks if b.key.startswith("backward")][::-1]   # layer 1 first, on the left
    with dot.subgraph() as row:
        row.attr(rank="same")
        for key in forward:
            row.node(key)
    with dot.subgraph() as row:
        row.attr(rank="same")
        for key in backward:
            row.node(key)
    for layer, (a, b) in zip(model.layers, pairwise(forward), strict=False):
        dot.edge(a, b, color="#333333", label=model.name(layer.A if layer.A is not None else layer.Z))
    # Backward arrows point right to left; drawn as left-to-right edges with dir=back, so that the
    # layout keeps layer 1 on the left of its row as in the forward row above it.
    for left, right in pairwise(model.layers):      # layer l + 1 hands dA[l] back to layer l
        dot.edge(f"backward{left.number}", f"backward{right.number}", dir="back", color=GRADIENT_RED,
                 fontcolor=GRADIENT_RED, label=f"d{model.name(right.A_prev)}")
    dot.edge("cost", backward[-1], color=GRADIENT_RED, fontcolor=GRADIENT_RED, label=f"dZ{len(model.layers)}")
    for layer in model.layers:
        cached = f"cache {model.name(layer.A_prev)}, {model.name(layer.Z)}"
        dot.edge(f"forward{layer.number}", f"backward{layer.number}", style="dashed", color="#888888",
                 fontcolor="#666666", label="" if compact else cached, constraint="true")
    return dot.source
