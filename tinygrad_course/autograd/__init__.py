"""The computation graph and the chain rule that walks it backwards.

Every differentiable result remembers how it was made: the ``Op``, its parents (the input
tensors) and the op's parameters. ``tensor.grad_fn`` shows that record as a ``Node`` with
``.op``, ``.parents`` and ``.params``. ``backward`` visits the tensors in reverse topological
order, so each tensor's gradient ``dJ/dt`` is complete before it is pushed to its parents:
``dJ/dparent += vjp(dJ/dt)`` — the chain rule, one op at a time.

The record lives in the tensor itself (``Record``, which ``Tensor`` inherits), not in a separate
node object: fewer objects per op for Python's cycle collector to allocate and walk, which is most
of the cost of a long chain of small ops. ``Node`` is only a view, made on access.

This package knows a tensor only through the ``Traced`` protocol (in ``graph``) — the attributes
it reads and writes and three methods — so it sits below ``tensor.py`` and ``ops`` and never
imports them. Its modules, each depending only on those before it:

- ``modes``: ``no_grad``, ``enable_grad``, ``detect_anomaly`` and the state they set;
- ``graph``: ``Op``, ``Record``, the ``Node`` view, ``Version`` and ``tick`` (in-place tracking),
  ``RemovableHandle`` (hooks), ``Traced``;
- ``backward``: ``unbroadcast``, ``topological_order``, ``propagate``, ``seed_gradient``, ``grad``;
- ``recorded_step``: ``record_step``, a training step recorded once and replayed without the graph.
"""

from .backward import grad, propagate, seed_gradient, topological_order, unbroadcast
from .graph import Node, Op, Record, RemovableHandle, Traced, Version, tick
from .modes import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
)
from .recorded_step import RecordedStep, record_step

__all__ = [
    "Node",
    "Op",
    "Record",
    "RecordedStep",
    "RemovableHandle",
    "Traced",
    "Version",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "propagate",
    "record_step",
    "seed_gradient",
    "set_detect_anomaly",
    "tick",
    "topological_order",
    "unbroadcast",
]
