"""A gradient check per node, for the explorer: central differences next to autograd's value.

For a tensor ``t`` of the graph and a few of its entries, ``(J(t + ε) − J(t − ε)) / 2ε`` is
computed by running the recorded forward ops again from ``t`` on (the ops' own numpy forwards,
nothing recorded), and set beside the gradient that the backward rules give. In float64 the two
agree to about 1e-7 wherever the function is smooth; a disagreement marks a wrong rule, or a kink
(ReLU at 0) that the difference straddles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def _cost(walk: Walk, start: int, values: list[np.ndarray]) -> float:
    """J after the forward ops from tensor number ``start`` on run again on ``values``."""
    for k in range(start + 1, len(walk.tensors)):
        node = walk.tensors[k].grad_fn
        if node is not None:
            values[k] = node.op.forward(*(values[walk.k(p)] for p in node.parents), **node.params)
    return float(np.sum(values[walk.k(walk.root)]))


def check_node(walk: Walk, t: Tensor, gradient: np.ndarray) -> NodeCheck | None:
    """The check at the first few entries of ``t``; None where central differences mean nothing
    (integer data) or the cost is not a function of the float64 values alone."""
    if t.dtype != np.float64 or walk.root.size != 1:
        return None
    k = walk.k(t)
    base = [x._data for x in walk.tensors]
    entries = [tuple(int(i) for i in index) for index in list(np.ndindex(t.shape))[:ENTRIES]]
    numeric = []
    with np.errstate(all="ignore"):
        for index in entries:
            sides = []
            for sign in (1, -1):
                values = list(base)
                values[k] = t._data.copy()
                values[k][index] += sign * EPSILON
                sides.append(_cost(walk, k, values))
            numeric.append((sides[0] - sides[1]) / (2 * EPSILON))
    autograd = [float(np.asarray(gradient)[index]) for index in entries]
    return NodeCheck(tuple(entries), tuple(numeric), tuple(autograd))
