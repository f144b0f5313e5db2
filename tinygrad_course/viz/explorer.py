"""The backprop explorer: one self-contained HTML page that steps through a training step.

>>> page = explore(J)                         # the op view (and the layer view for a model)
>>> page.save("explorer.html")                # one file: no network, works from file://
>>> page                                      # in Jupyter: inline, in its own frame

Each view is laid out once by the renderer; stepping changes only styles (which node is current,
which values and gradients are known yet), so nodes never move between frames. Clicking a node
shows its chain-rule step with the actual numbers and a gradient check (central differences,
computed here in Python). With a ``History`` from ``fit(..., snapshot_every=k)`` the page also
scrubs through training: the cost curve, a marker at the chosen iteration, that iteration's
parameters and gradients.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .. import _checks
from ..errors import InputTypeError, InputValueError
from ..tensor import Tensor
from .checking import NodeCheck, check_node
from .dot import Frame, build_dot
from .explorer_page import PAGE
from .layers import LayerModel, layer_dot
from .layout import Layout, direction
from .names import Walk, expression
from .numbers import number, shape_text, value_lines
from .render import Graph, write_file
from .replay import explain_line, replay
from .views import check_tensor, frame_terms

# An SVG element of the graph: the renderer's id, then the DOT name in its <title>.
_ELEMENT = re.compile(r'<g id="[^"]*" class="(node|edge)">\s*<title>([^<]*)</title>')
_XMLNS = re.compile(r"""\s+xmlns(?::\w+)?\s*=\s*("[^"]*"|'[^']*')""")


def _inline_svg(graph: Graph, prefix: str) -> str:
    """The rendered picture as inline SVG, each node and edge with an id the page can address."""
    svg = graph.pipe("svg").decode("utf-8")
    svg = _XMLNS.sub("", svg[svg.index("<svg"):])   # no prolog, and no URL at all on the page

    def named(match: re.Match[str]) -> str:
        kind, title = match.group(1), match.group(2)
        key = re.sub(r"[^\w-]", "_", html.unescape(title).replace("->", "-to-"))
        extra = ' tabindex="0" role="button"' if kind == "node" else ""
        return f'<g id="{prefix}-{key}" class="{kind}" data-key="{key}"{extra}>\n<title>{title}</title>'

    return _ELEMENT.sub(named, svg)


def _check_text(check: NodeCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    rows = [f"{shape_text(index) if index else 'value'}: central difference {number(numeric)}, "
            f"autograd {number(autograd)}"
            for index, numeric, autograd in zip(check.entries, check.numeric, check.autograd, strict=True)]
    return {"agrees": check.agrees, "rows": rows}


def _op_view(J: Tensor, compact: bool) -> dict[str, Any]:
    """The op graph, its frames (forward, then backward as backward() visits the tensors) and the
    detail of each tensor: its value, its chain-rule step with numbers, its gradient check."""
    walk = Walk(J)
    steps = replay(J)
    layout = Layout(walk, None, set())
    frame = Frame(backward=True, gradients={id(s.tensor): s.gradient for s in steps},
                  terms=frame_terms(walk, steps), compact=compact)
    svg = _inline_svg(Graph(build_dot(walk, layout, frame, "small", None, direction(walk, None))), "ops")
    details, frames = {}, []
    computed: list[str] = [f"t{walk.k(t)}" for t in walk.tensors if t.grad_fn is None]
    for t in walk.tensors:
        if t.grad_fn is not None:
            computed.append(f"t{walk.k(t)}")
            parents = [walk.names[walk.k(p)] for p in t.grad_fn.parents]
            formula = expression(t.grad_fn.op, parents) or f"{t.grad_fn.op.symbol}({', '.join(parents)})"
            frames.append({"node": f"t{walk.k(t)}", "values": list(computed), "grads": [], "sent": [],
                           "caption": f"Forward: {walk.names[walk.k(t)]} = {formula} = "
                                      + ", ".join(value_lines(t.data))})
    known: list[str] = []
    sent: list[str] = []
    for position, step in enumerate(steps, start=1):
        key = f"t{walk.k(step.tensor)}"
        known.append(key)
        if step.tensor.grad_fn is not None:
            sent += [f"t{walk.k(p)}-to-op{walk.k(step.tensor)}" for p in step.tensor.grad_fn.parents]
        frames.append({"node": key, "values": list(computed), "grads": list(known), "sent": list(sent),
                       "caption": f"Backward, step {position} of {len(steps)}: {explain_line(walk, step)}"})
    for t in walk.tensors:
        k = walk.k(t)
        step = next((s for s in steps if s.tensor is t), None)
        lines = [f"{walk.names[k]} {shape_text(t.shape) if t.ndim else ''}".strip(),
                 "value: " + ", ".join(value_lines(t.data))]
        if step is not None:
            lines += [explain_line(walk, step), "gradient: " + ", ".join(value_lines(step.gradient))]
        check = check_node(walk, t, step.gradient) if step is not None else None
        details[f"t{k}"] = {"lines": lines, "check": _check_text(check)}
        if t.grad_fn is not None:
            details[f"op{k}"] = details[f"t{k}"]
    return {"svg": svg, "frames": frames, "details": details}


def _layer_view(J: Tensor, compact: bool) -> dict[str, Any]:
    model = LayerModel(J)
    blocks = model.blocks(compact)
    svg = _inline_svg(Graph(layer_dot(model, compact)), "layers")
    walk = model.walk
    checks = {id(t): check_node(walk, t, model.gradients[id(t)])
              for layer in model.layers for t in (layer.W, layer.b)}
    details = {}
    for block in blocks:
        check = None
        if block.key.startswith("backward"):
            layer = model.layers[int(block.key.removeprefix("backward")) - 1]
            check = _check_text(checks[id(layer.W)])
        details[block.key] = {"lines": [block.title, *block.detail], "check": check}
    order = [b.key for b in blocks]
    frames = [{"node": key, "values": order[: i + 1], "grads": order[: i + 1], "sent": [],
               "caption": block.caption} for i, (key, block) in enumerate(zip(order, blocks, strict=True))]
    return {"svg": svg, "frames": frames, "details": details}


def _training(history: Any, J: Tensor, layers: bool, compact: bool) -> dict[str, Any] | None:
    """The cost curve and, per snapshot, its cost, parameters and gradients, and the numbers of
    each layer-view block at that iteration (the page writes them into the blocks)."""
    if history is None:
        return None
    snapshots = getattr(history, "snapshots", None)
    if not snapshots:
        raise InputValueError("explore(history=...) needs the snapshots of a run: train with "
                              "fit(..., snapshot_every=k) and pass its History.")
    recorded = []
    for s in snapshots:
        rows = [f"{name} {shape_text(np.shape(value))}: " + ", ".join(value_lines(value))
                for name, value in s.parameters.items()]
        rows += [f"d{name}: " + ", ".join(value_lines(value)) for name, value in s.gradients.items()]
        blocks = ({block.key: block.numbers for block in LayerModel(J, s.parameters).blocks(compact)}
                  if layers else {})
        recorded.append({"iteration": s.iteration, "cost": number(s.cost), "value": float(s.cost),
                         "rows": rows, "blocks": blocks})
    return {"iterations": [int(i) for i in history.iterations], "costs": [float(c) for c in history.costs],
            "snapshots": recorded}


class Explorer:
    """The explorer page: ``.html`` is the whole file, ``.save(path)`` writes it, and in Jupyter it
    shows itself inline (inside an iframe of its own, so two explorers never share ids)."""

    def __init__(self, page: str) -> None:
        self.html = page

    def __repr__(self) -> str:
        return f"<Explorer page of {len(self.html):,} characters: .save('explorer.html') writes it>"

    def save(self, path: str | os.PathLike[str] = "explorer.html") -> Path:
        path = _checks.path(path, "Explorer.save(path)")
        write_file(path, self.html.encode("utf-8"), "Explorer.save")
        return path

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" title="backprop explorer" '
                'style="width: 100%; height: 720px; border: 1px solid #ccc"></iframe>')


def explore(t: Tensor, history: Any = None, compact: bool = False, title: str | None = None,
            max_steps: int = 200) -> Explorer:
    """The explorer page for the graph behind ``t``: the op view always, the layer view too when
    ``t`` is a model's training step (an ``MLP`` or a ``Sequential`` of ``Linear`` layers), and
    the training scrubber when ``history`` comes from ``fit(..., snapshot_every=k)``.

    Step with the buttons or ← →, one node (op view) or one block (layer view) at a time; click a
    node for its chain-rule step with numbers and its gradient check. ``compact`` leaves the
    numbers out of the pictures (names and shapes, for slides). Graphs of more than ``max_steps``
    tensors are refused: a page of thousands of frames helps no one.
    """
    check_tensor(t, "explore()")
    max_steps = _checks.whole(max_steps, "explore(max_steps=...)", least=1)
    compact = _checks.flag(compact, "explore(compact=...)")
    if title is not None and not isinstance(title, str):
        raise InputTypeError(f"explore(title=...) must be a str or None, got {title!r:.60}.")
    if not t.requires_grad:
        raise InputValueError("explore() needs a tensor that depends on something with requires_grad=True.")
    size = len(Walk(t).tensors)
    if size > max_steps:
        raise InputValueError(f"explore(): this graph has {size} tensors, more than max_steps = {max_steps}; "
                              "pass a larger max_steps, or explore a smaller graph.")
    views = {"ops": _op_view(t, compact)}
    with contextlib.suppress(InputValueError):      # not a model of layers: the op view alone
        views["layers"] = _layer_view(t, compact)
    data = {"views": views, "training": _training(history, t, "layers" in views, compact),
            "start": "layers" if "layers" in views else "ops"}
    # </script> inside the JSON would end the script element early: escape every "<".
    payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    heading = html.escape(title or "Backprop, step by step")
    return Explorer(PAGE.replace("{title}", heading).replace("{data}", payload))


def save_steps(t: Tensor, path: str | os.PathLike[str] = "backprop.html", **options: Any) -> Path:
    """``explore(t, **options).save(path)``: backprop step by step, in one self-contained HTML file
    (the explorer's page; it replaces the former page of one picture per frame). Returns the path."""
    return explore(t, **options).save(path)
