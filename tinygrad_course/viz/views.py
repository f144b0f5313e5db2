"""The public pictures: ``graph`` (forward or backward), ``save_graphs``, ``steps`` and ``explain``."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .. import _checks
from ..errors import InputTypeError, InputValueError
from ..tensor import Tensor
from .dot import Frame, build_dot
from .layers import LayerModel, layer_dot
from .layout import Layout, direction, paths_to_output
from .names import Walk
from .render import Graph
from .replay import Step, Term, explain_line, replay

# --------------------------------------------------------------------------- the public functions


def check_tensor(t: Any, what: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise InputTypeError(f"{what} expects a Tensor (the output of a computation, like J), "
                             f"got {type(t).__name__}.")
    return t


def check_options(max_nodes: int | None, rankdir: str | None, legend: bool | str = True,
                  title: str | None = None) -> None:
    if legend != "small":
        _checks.flag(legend, "legend (True, False or 'small')")
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


def _as_tensors(highlight: Tensor | Sequence[Tensor] | None) -> list[Tensor]:
    if highlight is None:
        return []
    if not isinstance(highlight, (Tensor, list, tuple)):
        raise InputTypeError(f"graph(highlight=...) expects a Tensor or a list of Tensors, "
                             f"got {highlight!r:.60}.")
    items = [highlight] if isinstance(highlight, Tensor) else list(highlight)
    return [check_tensor(t, "graph(highlight=...)") for t in items]


def _check_notes(walk: Walk, notes: Mapping[Tensor, str] | None) -> dict[int, str]:
    if notes is None:
        return {}
    if not isinstance(notes, Mapping):
        raise InputTypeError(f"graph(notes=...) expects a dict tensor → text, got {notes!r:.60}.")
    checked = {}
    for t, text in notes.items():
        check_tensor(t, "graph(notes=...)")
        if not isinstance(text, str):
            raise InputTypeError(f"graph(notes=...): each note must be a str, got {text!r:.60}.")
        if id(t) not in walk.number:
            raise InputValueError("graph(notes=...): a noted tensor is not part of this graph.")
        checked[id(t)] = text
    return checked


def frame_terms(walk: Walk, steps: Sequence[Step]) -> dict[tuple[int, int], Term]:
    return {(walk.k(term.consumer), term.input_index): term for step in steps for term in step.terms}


def graph(t: Tensor, backward: bool = False, highlight: Tensor | Sequence[Tensor] | None = None,
          max_nodes: int | None = 30, legend: bool | str = True, title: str | None = None,
          rankdir: str | None = None, notes: Mapping[Tensor, str] | None = None, view: str = "ops",
          compact: bool = False, fuse_linear: bool = False) -> Graph:
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
    ``legend="small"`` draws the legend as one short row.

    ``view="layers"`` draws a model's training step (``J`` of an ``MLP`` or a ``Sequential`` of
    ``Linear`` layers) as the course does: forward blocks left to right with their equations and
    shapes (``Z1 (4, 400) = W1 (4, 2) · X (2, 400) + b1 (4, 1)``), backward blocks right to left
    beneath them (``dW1 = (1/m) dZ1 · Xᵀ``), cache arrows between; ``backward`` is then moot.
    ``compact=True`` (for slides) leaves the numbers out: names and shapes, and a small legend.
    ``fuse_linear=True`` draws each sum of products of leaves, z = w1x1 + w2x2 + b, as one op
    node as the lesson does, its edges carrying ∂z/∂w1 = x1 in the backward view.
    """
    check_tensor(t, "graph()")
    check_options(max_nodes, rankdir, legend, title)
    backward = _checks.flag(backward, "graph(backward=...)")
    compact = _checks.flag(compact, "graph(compact=...)")
    fuse_linear = _checks.flag(fuse_linear, "graph(fuse_linear=...)")
    if view not in ("ops", "layers"):
        raise InputValueError(f"graph(view={view!r:.40}): expected 'ops' (every op, any graph) or 'layers' "
                              "(a model's training step, layer by layer).")
    if view == "layers":
        return Graph(layer_dot(LayerModel(t), compact, title))
    sources = _as_tensors(highlight)
    walk = Walk(t)
    noted = _check_notes(walk, notes)
    layout = Layout(walk, max_nodes, {id(s) for s in sources} | set(noted), fuse=fuse_linear)
    frame = Frame(backward=backward, gradients={}, terms={}, notes=noted, compact=compact)
    if backward:
        replayed = replay(t)
        frame.gradients = {id(step.tensor): step.gradient for step in replayed}
        frame.terms = frame_terms(walk, replayed)
    if sources:
        frame.highlight_nodes, frame.highlight_edges = paths_to_output(walk, layout, sources)
        frame.dim = True
    return Graph(build_dot(walk, layout, frame, legend, title, direction(walk, rankdir)))


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
    check_tensor(t, "steps()")
    check_options(max_nodes, rankdir, legend)
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise InputValueError(f"steps(max_steps=...) must be a positive int, got {max_steps!r:.40}.")
    walk = Walk(t)
    replayed = replay(t)
    if len(replayed) > max_steps:
        raise InputValueError(f"steps(): this graph has {len(replayed)} tensors to step through, more "
                              f"than max_steps = {max_steps}; pass a larger max_steps, or step "
                              "through a smaller graph.")
    layout = Layout(walk, max_nodes, set())
    terms = frame_terms(walk, replayed)
    frames = []
    for position, step in enumerate(replayed, start=1):
        k = walk.k(step.tensor)
        current = layout.drawn_as[f"t{k}"]
        edges = set()
        for term in step.terms:
            op = layout.drawn_as[f"op{walk.k(term.consumer)}"]
            edges.add((current, op))
        caption = f"Step {position} of {len(replayed)}: {explain_line(walk, step)}"
        frame = Frame(backward=True, terms=terms, current=current, highlight_edges=edges,
                       gradients={id(s.tensor): s.gradient for s in replayed[:position]},
                       caption=caption)
        frames.append(Graph(build_dot(walk, layout, frame, legend, None, direction(walk, rankdir)), caption))
    return frames


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
    check_tensor(t, "explain()")
    if file is not None and not callable(getattr(file, "write", None)):
        raise InputTypeError(f"explain(file=...) expects an open text file (or None for the screen), "
                             f"got {file!r:.60}.")
    walk = Walk(t)
    for step in replay(t):
        print(explain_line(walk, step), file=file if file is not None else sys.stdout)
