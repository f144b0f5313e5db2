"""The graph's numbers at other values, for the explorer: a gradient check per node, and the
values and gradients at a recorded iteration of training.

For a tensor ``t`` of the graph and a few of its entries, ``(J(t + ε) − J(t − ε)) / 2ε`` is
computed by running the recorded forward ops again from ``t`` on (the ops' own numpy forwards,
nothing recorded), and set beside the gradient that the backward rules give. In float64 the two
agree to about 1e-7 wherever the function is smooth; a disagreement marks a wrong rule, or a kink
(ReLU at 0) that the difference straddles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..autograd import unbroadcast
from ..tensor import Tensor
from .names import Walk

EPSILON = 1e-6
ENTRIES = 3          # how many entries of each tensor are checked: the first ones, in reading order


@dataclass(frozen=True)
class NodeCheck:
    """Central differences and autograd's gradient at the same entries of one tensor."""

    entries: tuple[tuple[int, ...], ...]
    numeric: tuple[float, ...]
    autograd: tuple[float, ...]

    @property
    def agrees(self) -> bool:
        return bool(np.allclose(self.numeric, self.autograd, rtol=1e-4, atol=1e-6))


def forward_from(walk: Walk, start: int, values: list[np.ndarray]) -> list[np.ndarray]:
    """``values`` with every tensor after number ``start`` computed again by its op's forward."""
    for k in range(start + 1, len(walk.tensors)):
        node = walk.tensors[k].grad_fn
        if node is not None:
            values[k] = np.asarray(node.op.forward(*(values[walk.k(p)] for p in node.parents), **node.params))
    return values


def gradients_at(walk: Walk, values: list[np.ndarray]) -> list[np.ndarray | None]:
    """dJ/dtensor for every tensor that requires grad, with the graph's values replaced by
    ``values``: the ops' backward rules on plain arrays, as ``backward()`` runs them."""
    gradients: list[np.ndarray | None] = [None] * len(walk.tensors)
    gradients[walk.k(walk.root)] = np.ones(walk.root.shape)
    for k in reversed(range(len(walk.tensors))):
        node, g = walk.tensors[k].grad_fn, gradients[k]
        if node is None or g is None:
            continue
        inputs = [values[walk.k(p)] for p in node.parents]
        for i, parent in enumerate(node.parents):
            if not parent.requires_grad:
                continue
            if node.op.vjp_each is None:
                raw = node.op.vjps[i](g, values[k], *inputs, **node.params)
            else:
                raw = node.op.vjp_each(i, g, values[k], *inputs, **node.params)
            share = unbroadcast(np.asarray(raw), parent.shape, node.op.name)
            before = gradients[walk.k(parent)]
            gradients[walk.k(parent)] = share if before is None else before + share
    return gradients


def check_node(walk: Walk, t: Tensor, gradient: np.ndarray) -> NodeCheck | None:
    """The check at the first few entries of ``t``; None where central differences mean nothing
    (integer data) or the cost is not a function of the float64 values alone."""
    if t.dtype != np.float64 or walk.root.size != 1:
        return None
    k = walk.k(t)
    base = [x.data for x in walk.tensors]
    entries = [tuple(int(i) for i in index) for index in list(np.ndindex(t.shape))[:ENTRIES]]
    numeric = []
    with np.errstate(all="ignore"):
        for index in entries:
            sides = []
            for sign in (1, -1):
                values = list(base)
                values[k] = t.data.copy()
                values[k][index] += sign * EPSILON
                sides.append(float(np.sum(forward_from(walk, k, values)[walk.k(walk.root)])))
            numeric.append((sides[0] - sides[1]) / (2 * EPSILON))
    autograd = [float(np.asarray(gradient)[index]) for index in entries]
    return NodeCheck(tuple(entries), tuple(numeric), tuple(autograd))
