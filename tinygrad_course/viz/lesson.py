"""The lesson's pictures: J = 3(a + bc), logistic regression on one example, and the flower network."""

from __future__ import annotations

import os
from pathlib import Path

from .. import _checks, ops
from ..datasets import planar_flower
from ..errors import InputValueError
from ..functional import binary_cross_entropy_with_logits
from ..nn import MLP
from ..tensor import Tensor
from ..train import History, fit
from .explorer import explore, save_steps
from .numbers import number
from .views import graph, save_graphs

# --------------------------------------------------------------------------- the lesson's pictures


def lesson_graph() -> Tensor:
    """J = 3(a + bc) at a = 5, b = 3, c = 2: u = bc = 6, v = a + u = 11, J = 3v = 33."""
    a, b, c = (Tensor(x, requires_grad=True, name=n) for x, n in ((5.0, "a"), (3.0, "b"), (2.0, "c")))
    u = (b * c).named("u")
    v = (a + u).named("v")
    return (3 * v).named("J")


def logistic_regression() -> tuple[Tensor, Tensor, Tensor, Tensor]:
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
    J = lesson_graph()
    J.backward()
    written = save_graphs(J, out, "lesson", format, title="The lesson's graph: J = 3(a + bc)", legend="small")
    L, z, a, y = logistic_regression()
    L.backward()
    dz = f"dz = a − y\n= {number(a.item())} − {number(y.item())} = {number(float(z.grad))}"  # type: ignore[arg-type]
    title = ("Logistic regression, one example: z = w1x1 + w2x2 + b, a = σ(z), "
             "L(a, y) = −(y log a + (1 − y) log(1 − a))")
    written.append(graph(L, title=title, rankdir="LR", legend="small", fuse_linear=True)
                   .save(out / f"logistic_regression_forward.{format}"))
    written.append(graph(L, backward=True, title=title + "; backprop: dz = a − y", rankdir="LR",
                         legend="small", fuse_linear=True, notes={z: dz})
                   .save(out / f"logistic_regression_backward.{format}"))
    if format != "dot":
        written.append(save_steps(J, out / "backprop_steps.html"))
    return written


def flower_network(iterations: int = 1000, snapshot_every: int = 100) -> tuple[Tensor, History]:
    """The course's two-layer flower network (2 → 4 tanh → 1, lr 1.2) after ``iterations`` steps of
    training, with snapshots for the explorer; returns the graph of its next training step, J."""
    X, Y = planar_flower()
    model = MLP([2, 4, 1], "tanh", init="small", seed=2)
    history = fit(model, X, Y, lr=1.2, iterations=iterations, record_every=max(1, snapshot_every // 4),
                  snapshot_every=snapshot_every, progress=False)
    J = binary_cross_entropy_with_logits(model(Tensor(X, name="X")), Tensor(Y, name="Y")).named("J")
    return J, history


def save_network_pictures(out_dir: str | os.PathLike[str] = "graphs", format: str = "svg") -> list[Path]:
    """The flower network's training step, as ``python -m tinygrad_course graph`` writes it.

    ``flower_layers`` (the layer view, with numbers) and ``flower_layers_compact`` (names and
    shapes, for slides) in ``format``, and ``flower_explorer.html`` (not for "dot"): the explorer
    page with both views and 1000 iterations of training to scrub through.
    """
    out = _checks.path(out_dir, "save_network_pictures(out_dir)")
    if not isinstance(format, str) or format not in ("svg", "png", "dot"):
        raise InputValueError(f"save_network_pictures(format={format!r:.40}): "
                              "expected 'svg', 'png' or 'dot'.")
    J, history = flower_network()
    title = "The flower network's training step, layer by layer (after 1000 iterations)"
    written = [graph(J, view="layers", title=title).save(out / f"flower_layers.{format}"),
               graph(J, view="layers", compact=True).save(out / f"flower_layers_compact.{format}")]
    if format != "dot":
        written.append(explore(J, history=history, title="The flower network: backprop, step by step")
                       .save(out / "flower_explorer.html"))
    return written
