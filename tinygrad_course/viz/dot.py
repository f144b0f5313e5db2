"""The DOT text of one picture: boxes for tensors, circles for ops, edges with local derivatives."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import graphviz
import numpy as np

from ..ops.notation import notation_of
from ..tensor import Tensor
from .layout import Group, Layout, node_number
from .names import Walk, after_d
from .numbers import esc, inline, number, shape_text, value_lines
from .replay import Term, edge_derivative, fused_derivative

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




# --------------------------------------------------------------------------- DOT


@dataclass
class Frame:
    """What one picture shows, beyond the graph itself."""

    backward: bool
    gradients: dict[int, np.ndarray]              # id(tensor) -> dJ/dtensor, complete
    terms: dict[tuple[int, int], Term]           # (consumer number, input index) -> its term
    highlight_nodes: set[str] = field(default_factory=set)
    highlight_edges: set[tuple[str, str]] = field(default_factory=set)
    dim: bool = False                              # dim what is not highlighted
    current: str | None = None                     # the stepper's node
    caption: str = ""
    notes: dict[int, str] = field(default_factory=dict)   # id(tensor) -> a line under its box
    compact: bool = False                          # for slides: names and shapes, no numbers


def cell(text: str, *, bold: bool = False, italic: bool = False, color: str | None = None,
          size: int | None = None) -> str:
    if bold:
        text = f"<B>{text}</B>"
    if italic:
        text = f"<I>{text}</I>"
    attributes = (f' COLOR="{color}"' if color else "") + (f' POINT-SIZE="{size}"' if size else "")
    return f"<FONT{attributes}>{text}</FONT>" if attributes else text


def lines_text(lines: list[str], **style: Any) -> str:
    return "<BR/>".join(cell(esc(line), **style) for line in lines)


def _tensor_label(walk: Walk, t: Tensor, frame: Frame, dimmed: bool, drawn: str) -> str:
    k = walk.k(t)
    kind = walk.kind(t)
    text = DIM_TEXT if dimmed else None
    rows = []
    constant_scalar = kind == "input" and not t.name and t.size == 1
    if not constant_scalar:
        header = cell(esc(walk.names[k]), bold=bool(t.name), italic=not t.name, color=text)
        if t.ndim:
            header += " " + cell(esc(shape_text(t.shape)), color=text or "#666666", size=10)
        rows.append(header)
    value_style: dict[str, Any] = {"color": text or ("#555555" if frame.backward else None)}
    if frame.backward and not constant_scalar:
        value_style["size"] = 11
    if constant_scalar or not frame.compact:
        rows.append(lines_text(value_lines(t.data), **value_style))
    grad_row = ""
    if frame.compact:
        pass
    elif frame.backward and t.requires_grad:
        red = DIM_TEXT if dimmed else GRADIENT_RED
        gradient = frame.gradients.get(id(t))
        left = f"d{after_d(walk.names[walk.k(walk.root)])}/d{after_d(walk.names[k])}"
        if gradient is None:
            grad_row = cell(esc(f"{left} = ?"), color=DIM_TEXT)
        elif gradient.size == 1:
            grad_row = cell(esc(f"{left} = {inline(gradient)}"), bold=True, color=red)
        else:
            grad_row = (cell(esc(left), bold=True, color=red) + "<BR/>"
                        + lines_text(value_lines(gradient), color=red))
    elif not frame.backward and t.grad is not None:
        current = t.grad.data if isinstance(t.grad, Tensor) else np.asarray(t.grad)
        grad_row = lines_text(["grad " + inline(current)], color=text or GRADIENT_RED)
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
        body += f"<TR><TD>{lines_text(frame.notes[id(t)].splitlines(), color=note_color)}</TD></TR>"
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
            details.append(f"{key} {shape_text(value.shape)}")
        elif isinstance(value, float):
            details.append(f"{key}={number(value)}")
        else:
            shown = repr(value)
            details.append(f"{key}={shown if len(shown) <= 16 else shown[:15] + '…'}")
    return node.op.symbol, ", ".join(details)



def build_dot(walk: Walk, layout: Layout, frame: Frame, legend: bool | str, title: str | None,
           rankdir: str) -> str:
    dot = graphviz.Digraph("computation_graph")
    # Left to right, local derivatives are xlabels placed beside the edges: they need longer edges.
    dot.attr(rankdir=rankdir, fontname=FONT, fontsize="13", nodesep="0.25",
             ranksep="0.45",
             labelloc="t", labeljust="l", bgcolor="white", forcelabels="true")
    dot.attr("node", fontname=FONT, fontsize="12")
    dot.attr("edge", fontname=FONT, fontsize="11", arrowsize="0.7")
    heading = [esc(line) for line in (title, frame.caption) if line]
    if layout.note:
        heading += [cell(esc(line), color="#a00000") for line in layout.note.splitlines()]
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
        k = node_number(node)
        t = walk.tensors[k]
        if node.startswith("t"):
            dot.node(node, _tensor_label(walk, t, frame, dimmed(node), node), shape="plain")
        else:
            symbol, details = _op_text(t)
            lit = node == frame.current or node in frame.highlight_nodes
            label = cell(esc(symbol), bold=True)
            if details:
                label += "<BR/>" + cell(esc(details), size=9)
            dot.node(node, f"<{label}>", shape="circle" if len(symbol) <= 1 and not details else "ellipse",
                     style="filled", fillcolor="#ffffff" if dimmed(node) else OP_FILL,
                     color=HIGHLIGHT if lit else (DIM_LINE if dimmed(node) else "#555555"),
                     fontcolor=DIM_TEXT if dimmed(node) else "black", penwidth="3" if lit else "1",
                     margin="0.04", width="0.4", height="0.4", tooltip=t.grad_fn.op.name)  # type: ignore[union-attr]
    for a, b, target, position, alone in layout.drawn_edges():
        _draw_edge(dot, walk, layout, frame, (a, b), (target, position, alone), dimmed(a) or dimmed(b),
                   rankdir)
    if legend:
        _draw_legend(dot, walk, frame, small=legend == "small" or frame.compact)
    return dot.source


def _linear_text(walk: Walk, t: Tensor) -> str:
    """w1x1 + w2x2 + b: the sum's terms, each product of two leaves written without a sign."""
    node = t.grad_fn
    if node is None:
        return walk.names[walk.k(t)]
    if node.op.name == "mul":
        return "".join(walk.names[walk.k(p)] for p in node.parents)
    return " + ".join(_linear_text(walk, p) for p in node.parents)


def _draw_fused(dot: graphviz.Digraph, walk: Walk, name: str, result: int, frame: Frame,
                dimmed: bool) -> None:
    lit = name == frame.current or name in frame.highlight_nodes
    dot.node(name, f"<{cell(esc(_linear_text(walk, walk.tensors[result])), bold=True)}>", shape="ellipse",
             style="filled", fillcolor="#ffffff" if dimmed else OP_FILL,
             color=HIGHLIGHT if lit else (DIM_LINE if dimmed else "#555555"),
             penwidth="3" if lit else "1", margin="0.06,0.04", tooltip="linear")


def _draw_group(dot: graphviz.Digraph, walk: Walk, name: str, group: Group, frame: Frame,
                dimmed: bool) -> None:
    if group.result is not None:
        _draw_fused(dot, walk, name, group.result, frame, dimmed)
        return
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
        rows = [cell(esc(group.title), bold=True, color=text, size=13)]
        rows += [lines_text([line], color=text) for line in (inside, f"{len(ops)} ops: {shown}") if line]
        rows.append(lines_text(["(collapsed by the size guard)"], color=text or "#666666", size=10))
    else:
        summary = f"… {len(ops)} ops, {len(tensors)} tensors"
        rows = [lines_text([line], color=text) for line in (summary, shown) if line]
        rows.append(lines_text([f"({group.reason})"], color=text))
    lit = name == frame.current or name in frame.highlight_nodes
    dot.node(name, "<" + "<BR/>".join(rows) + ">", shape="box",
             style="rounded,filled,dashed", fillcolor="#ffffff" if dimmed else COLLAPSED_FILL,
             color=HIGHLIGHT if lit else "#8e7cc3", penwidth="3" if lit else "1")


def _draw_edge(dot: graphviz.Digraph, walk: Walk, layout: Layout, frame: Frame, drawn: tuple[str, str],
               original: tuple[str, int, bool], dimmed: bool, rankdir: str) -> None:
    """One edge. ``original``: the node it enters in the full graph, the op's input number there,
    and whether no other edge is drawn as this one (then it can carry that edge's label)."""
    a, b = drawn
    target, position, alone = original
    attributes: dict[str, str] = {}
    term = None
    if target.startswith("op"):
        k = node_number(target)
        consumer = walk.tensors[k]
        inputs = consumer.grad_fn.parents  # type: ignore[union-attr]
        parent = inputs[position]
        fused = b in layout.groups and layout.groups[b].result is not None
        if fused and frame.backward:           # w1 into w1x1 + w2x2 + b: ∂z/∂w1 = x1 = 2
            term = frame.terms.get((k, position))
            result = walk.tensors[layout.groups[b].result]  # type: ignore[index]
            if term is not None and term.local is not None:
                attributes.update(label=f"<{cell(esc(fused_derivative(walk, term, result)))}>",
                                  fontcolor=GRADIENT_RED)
            term = None
        elif b not in layout.groups and alone:   # out of a box into a drawn op: still one input
            term = frame.terms.get((k, position))
            roles = notation_of(consumer.grad_fn.op.name).roles  # type: ignore[union-attr]
            if not frame.backward and roles and len(inputs) == len(roles):
                role = roles[position]
                if len(role) == 1:     # the + and − of a subtraction: bold and large, easy to see
                    attributes.update(label=f"<{cell(esc(role), bold=True)}>", fontcolor=ROLE_TEXT,
                                      fontsize="16")
                else:                  # "A in A @ B", "numerator": a quiet reminder
                    attributes.update(label=role, fontcolor="#666666", fontsize="10")
        if frame.backward and not parent.requires_grad and a not in layout.groups:
            attributes.update(color="#b0b0b0", style="dashed", arrowhead="none")
    if frame.backward:
        attributes.setdefault("dir", "back")
        if term is not None:
            # A plain label, not an xlabel: graphviz makes room for it, so labels never overlap.
            text = edge_derivative(walk, term)
            lines = [text]
            if len(text) > EDGE_LINE and " = " in text:    # ∂(w1x1 + w2x2)/∂w1x1 over = 1: narrower
                cut = text.rindex(" = ")
                lines = [text[:cut], text[cut + 1:]]
            attributes.update(label="<" + "<BR/>".join(cell(esc(line)) for line in lines) + ">",
                              fontcolor=GRADIENT_RED)
        attributes.setdefault("color", GRADIENT_RED)
    if (a, b) in frame.highlight_edges:
        attributes.update(color=HIGHLIGHT, penwidth="2.5")
    elif dimmed:
        attributes.update(color=DIM_LINE, fontcolor=DIM_TEXT)
    dot.edge(a, b, **attributes)


def _kind_text(walk: Walk, kind: str) -> str:
    """The legend's words for a kind; leaves that require grad are parameters only when named so."""
    if kind != "parameter":
        return KIND_TEXT[kind]
    leaves = [walk.names[walk.k(t)] for t in walk.tensors if walk.kind(t) == "parameter"]
    if all(_PARAMETER_NAME.fullmatch(name) for name in leaves):
        return KIND_TEXT[kind]
    return "input that requires grad"    # a, b, c in J = 3(a + bc): no one trains them


# The compact legend's words: one short row under a slide's graph.
_SHORT_KIND = {"parameter": "parameter", "input": "constant", "intermediate": "result", "output": "output"}


def _draw_small_legend(dot: graphviz.Digraph, walk: Walk, frame: Frame) -> None:
    kinds = [kind for kind in KIND_FILL if any(walk.kind(t) == kind for t in walk.tensors)]
    words = {**_SHORT_KIND, "parameter": "parameter" if "parameter (" in _kind_text(walk, "parameter")
             else "requires grad"}
    swatch = '<TD BGCOLOR="{}" BORDER="1" WIDTH="10" HEIGHT="10" FIXEDSIZE="TRUE"></TD>'
    cells = "".join(swatch.format(KIND_FILL[kind]) + f"<TD>{esc(words[kind])}</TD>" for kind in kinds)
    cells += swatch.format(OP_FILL) + "<TD>op</TD>"
    if frame.backward:
        cells += f"<TD>{esc('  node: dJ/dx, edge: ∂out/∂in')}</TD>"
    table = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1"><TR>{cells}</TR></TABLE>'
    dot.node("legend", f"<{table}>", shape="plain", fontsize="9")


def _draw_legend(dot: graphviz.Digraph, walk: Walk, frame: Frame, small: bool = False) -> None:
    if small:
        _draw_small_legend(dot, walk, frame)
        return
    kinds = [kind for kind in KIND_FILL if any(walk.kind(t) == kind for t in walk.tensors)]
    swatches = [(KIND_FILL[kind], ' STYLE="dashed"' if kind == "input" else "", _kind_text(walk, kind))
                for kind in kinds]
    swatches.append((OP_FILL, ' STYLE="rounded"', "operation (+, ×, @, σ, …)"))
    # One table of two columns: a swatch and its words. The notes sit in the words' column, so
    # a long note widens that column only and the swatches stay next to their words.
    rows = "".join(f'<TR><TD BGCOLOR="{fill}" BORDER="1"{style} WIDTH="16" HEIGHT="12" FIXEDSIZE="TRUE"></TD>'
                   f'<TD ALIGN="LEFT">{esc(text)}</TD></TR>' for fill, style, text in swatches)
    notes = []
    if frame.backward:
        name = walk.names[walk.k(walk.root)]
        root = after_d(name)
        notes.append(f"node: d{root}/dx, how fast {name} changes with x")
        notes.append("edge: the local derivative ∂out/∂in")
        if any(term.local is None for term in frame.terms.values()):
            notes.append(f"(for tensors: how the op turns dout into din; dX is short for d{root}/dX)")
    else:
        notes.append("edges: inputs → op → result")
    if frame.highlight_nodes and frame.current is None:
        notes.append("orange: the paths from the highlighted tensor to the output")
    note_rows = "".join(f'<TR><TD></TD><TD ALIGN="LEFT">{esc(note)}</TD></TR>' for note in notes)
    dot.node("legend", f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="1">'
                       f'<TR><TD ALIGN="LEFT" COLSPAN="2"><B>Legend</B></TD></TR>{rows}{note_rows}</TABLE>>',
             shape="box", style="rounded", color="#bbbbbb", fontsize="10", margin="0.1")
