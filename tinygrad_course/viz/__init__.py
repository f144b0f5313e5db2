"""Pictures of the computation graph: values flowing forward, derivatives flowing backward.

>>> J.backward()
>>> graph(J)                                   # forward: every value (and grad once known)
>>> graph(J, backward=True).save("J.svg")      # backward: dJ/dx on nodes, ∂out/∂in on edges
>>> explain(J)                                 # the chain rule, one line per tensor
dJ/dJ = 1
dJ/dv = 3
dJ/du = dJ/dv · dv/du = 3 · 1 = 3
...
>>> explore(J)                                 # the explorer page: step, click, scrub; inline in Jupyter
>>> save_steps(J, "backprop.html")             # the same page, saved

Everything is drawn from the structure that ``backward`` walks: ``grad_fn.parents`` in
topological order, and each op's own VJP from the op table. The backward view calls the VJPs
itself (with recording off) instead of reading ``.grad``, so it works before ``backward()`` and
changes nothing. DOT text comes from the ``graphviz`` package and is always available
(``.source``, ``.save("g.dot")``); pictures come from the ``graphviz-pure`` executable, or from a
system Graphviz ``dot`` when that is all there is.

One file per responsibility, in the order data flows through them:

- ``numbers``: numbers and shapes as text;
- ``names``: what each tensor is called (``Walk``, the graph walked once);
- ``replay``: backprop replayed with the ops' own rules, and each step said in words;
- ``layout``: which nodes are drawn, the size guard's boxes, the direction;
- ``dot``: the DOT text (colours, labels, legend);
- ``render``: finding the renderer and running it (``Graph``, ``find_renderer``);
- ``views``: the public ``graph``, ``save_graphs``, ``steps``, ``explain``;
- ``layers``: the layer view of a model's training step;
- ``checking``, ``explorer``, ``explorer_page``: the explorer page (gradient checks per node,
  frames and details, the HTML);
- ``lesson``: the lesson's pictures and the flower network's.
"""

from __future__ import annotations

from ..tensor import Tensor
from .dot import DIM_TEXT, GRADIENT_RED, HIGHLIGHT, ROLE_TEXT
from .explorer import Explorer, explore, save_steps
from .lesson import save_lesson_pictures, save_network_pictures
from .render import Graph, RendererNotFoundError, RenderError, find_renderer
from .views import explain, graph, save_graphs, steps

# J.graph() draws with this: the tensor layer below is handed the function, never imports it.
Tensor.draw_graph = graph

__all__ = [
    "DIM_TEXT",
    "GRADIENT_RED",
    "HIGHLIGHT",
    "ROLE_TEXT",
    "Explorer",
    "Graph",
    "RenderError",
    "RendererNotFoundError",
    "explain",
    "explore",
    "find_renderer",
    "graph",
    "save_graphs",
    "save_lesson_pictures",
    "save_network_pictures",
    "save_steps",
    "steps",
]
