"""The graph record: ``Op`` (a differentiable primitive), the ``Node`` view behind ``grad_fn``, the
modification clock and ``Version`` that catch in-place changes, and the ``Traced`` protocol that
is all this package knows of a tensor.

The record lives in the tensor itself (``Record``: ``_op``, the inputs, ``_params``, ``_stamp``),
not in a separate node object, and one or two inputs sit in slots of their own, not in a tuple:
two objects fewer per op for Python's cycle collector to allocate and walk, which is most of the
cost of a long chain of small ops. ``Node`` is only a view, made on access.
"""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from ..errors import AnomalyError, IndexingError, InputTypeError, ShapeError
from .modes import _anomaly_enabled, _grad_enabled

# In ``_second`` of a variadic op's result (concatenate, stack), whose ``_first`` holds all its inputs.
_VARIADIC: Any = object()


class Record:
    """The graph record a tensor carries (``tensor.Tensor`` inherits it): how it was made.

    ``_op`` is None for a leaf. A recorded result also has ``_params`` (None when the op has none),
    ``_stamp`` (the modification clock when it was made) and its inputs: ``_first`` and, for a
    binary op, ``_second`` (None for a unary op). Slots, not a tuple of parents: a tuple would be
    one more object per op, alive as long as the graph, for Python's cycle collector to walk.
    Every tensor counts in ``_users`` its uses by ops run in grad mode, from which backward starts.
    """

    __slots__ = ("_op", "_first", "_second", "_params", "_stamp", "_users")

    @property
    def _parents(self) -> tuple[Any, ...]:
        """The inputs of the op that made this tensor, in order."""
        second = self._second
        if second is None:
            return (self._first,)
        if second is _VARIADIC:
            return self._first  # type: ignore[no-any-return]
        return (self._first, second)


class Traced(Protocol):
    """What the engine needs of a tensor (``tensor.Tensor`` is the one implementation).

    Its graph record is a ``Record``'s: ``_op`` (None for a leaf) and, for a recorded result,
    ``_parents`` (read from ``_first`` and ``_second``), ``_params`` and ``_stamp``.
    ``_data`` is an ndarray, or a numpy scalar where an op's result is 0-d: numpy's arithmetic
    returns scalars for 0-d results, and scalars compute several times faster than 0-d arrays
    (the deep scalar chain is mostly that). Everything a user reads (``.data``, ``.grad``) is an ndarray.
    """

    _data: np.ndarray | np.generic
    grad: Any
    _grad: Any  # behind .grad: propagate may leave a 0-d result's numpy scalar here, .grad gives an array
    requires_grad: bool
    name: str | None
    _op: Op | None
    _users: int
    _first: Any
    _second: Any
    _parents: tuple[Traced, ...]
    _params: dict[str, Any] | None
    _stamp: int
    _version: Version | None
    _hooks: dict[int, Callable[[Any], Any]] | None

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def grad_fn(self) -> Node | None: ...

    def _wrap(self, data: np.ndarray) -> Traced:
        """A new leaf tensor around ``data`` (an array the engine made)."""
        ...

    def _lift(self, value: Any, what: str = ...) -> Traced:
        """``value`` as a tensor of this tensor's dtype."""
        ...

    def _accumulate(self, g: Any) -> None:
        """Add ``g`` into ``.grad``."""
        ...


Tensor = Traced  # the name this package's annotations read best with


# --------------------------------------------------------------------------- anomaly origins

# The engine's own frames (this package and the tensor layer above it) are skipped when looking
# for the line the user wrote.
_AUTOGRAD_DIR = os.path.dirname(os.path.abspath(__file__))
_ENGINE_DIRS = frozenset({_AUTOGRAD_DIR, os.path.dirname(_AUTOGRAD_DIR)})


def _user_frame() -> str:
    """The first caller outside the engine: where the user wrote the operation."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) in _ENGINE_DIRS:
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


def _check_finite(what: str, op: Op, inputs: Sequence[Tensor], array: np.ndarray, origin: str) -> None:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        kind = "NaN" if np.isnan(array).any() else "inf"
        shapes = ", ".join(str(t.shape) for t in inputs)
        raise AnomalyError(
            f"{what} of '{op.name}' produced {kind} (input shapes {shapes}); "
            f"the operation was created at {origin}"
        )


# --------------------------------------------------------------------------- in-place tracking

# A global clock that ticks only when some tensor's `.data` is replaced or changed in place.
# A node remembers the clock at its creation; a saved tensor modified later has a larger stamp.
# One integer per node instead of a version tuple: cheap enough to be always on.
_clock = 0


def tick() -> int:
    """Advance the modification clock; ``Tensor.data``'s setter stamps the tensor's record with it."""
    global _clock
    _clock += 1
    return _clock


class Version:
    """When an array was last changed through ``.data``: one record shared by a tensor and its aliases.

    ``detach()`` shares the array, so it shares this record too (PyTorch shares its version
    counter): a change made through either tensor is seen by every graph that saved the other.
    Created on first need (a detach or an assignment), so ordinary results carry only ``None``.
    """

    __slots__ = ("stamp",)

    def __init__(self) -> None:
        self.stamp = 0


# --------------------------------------------------------------------------- ops and nodes


# The user's line that made a tensor, recorded only under detect_anomaly(): kept beside the
# tensors (by id, until the tensor is freed), not in them, so normal runs carry nothing.
_origins: dict[int, str] = {}


def _remember_origin(tensor: Tensor, origin: str) -> None:
    _origins[id(tensor)] = origin
    weakref.finalize(tensor, _origins.pop, id(tensor), None)


class RemovableHandle:
    """Returned by ``Tensor.register_hook``; ``remove()`` unregisters the hook (from ``_hooks``)."""

    _next_id = 0

    def __init__(self, hooks: dict[int, Any]) -> None:
        RemovableHandle._next_id += 1
        self.id = RemovableHandle._next_id
        self._hooks = hooks

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


class Node:
    """How a tensor was made — ``tensor.grad_fn``: the ``op``, its ``parents`` and its ``params``.

    A view of the record the tensor itself keeps; two views of one tensor are equal.
    """

    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor

    @property
    def op(self) -> Op:
        return self.tensor._op  # type: ignore[return-value]

    @property
    def parents(self) -> tuple[Tensor, ...]:
        return self.tensor._parents

    @property
    def params(self) -> dict[str, Any]:
        return self.tensor._params or {}

    @property
    def origin(self) -> str | None:
        """Where the user wrote the op, if it ran under ``detect_anomaly()``."""
        return _origins.get(id(self.tensor))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and other.tensor is self.tensor

    def __hash__(self) -> int:
        return id(self.tensor)

    def __repr__(self) -> str:
        return f"<{self.op.name}>"


VJP = Callable[..., Any]
# Under plain backward() the rules get ndarrays (or the numpy scalars 0-d arithmetic returns).
_PLAIN_ARRAYS = (np.ndarray, np.generic)


class Op:
    """A differentiable primitive: a numpy ``forward`` and one VJP per input.

    ``vjps[i](g, out, *inputs, **params)`` returns ``dJ/dinputs[i]`` given ``g = dJ/dout``. It is
    written with operators, shared methods (``reshape``, ``sum``, ``shape``) and Ops, so it runs
    on Tensors (recorded, for ``create_graph=True``) and on plain ndarrays (fast) alike; an Op
    applied to ndarrays just runs its forward. It may return the broadcast shape: the engine
    sums it back to the input's shape (``unbroadcast``).
    Variadic ops (``concatenate``, ``stack``) give one ``vjp_each(i, g, out, *inputs, **params)``.
    ``symbol`` is what a picture draws in the op's circle; the rest of how an op is written
    lives in ``ops.notation``, keyed by ``name``.
    ``saves`` lists the values the VJPs read — input positions (0, 1, ...) and ``"out"`` — as
    PyTorch's saved tensors: only a change to one of those (through ``.data``) between the forward
    and the backward pass is an error. Shapes don't count (``.data`` keeps a tensor's shape).
    ``None`` (the default, for your own ops) means the rules may read every input and the output.
    """

    __slots__ = ("name", "symbol", "forward", "vjps", "vjp_each", "saves")

    def __init__(
        self,
        name: str,
        symbol: str,
        forward: Callable[..., Any],
        *vjps: VJP,
        vjp_each: Callable[..., Tensor] | None = None,
        saves: tuple[int | str, ...] | None = None,
    ) -> None:
        self.name, self.symbol, self.forward = name, symbol, forward
        self.vjps, self.vjp_each, self.saves = vjps, vjp_each, saves

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def __call__(self, *inputs: Tensor, **params: Any) -> Tensor:
        # The hot path of the whole engine: every op of every forward pass.
        first = inputs[0]
        if isinstance(first, _PLAIN_ARRAYS):
            return self.forward(*inputs, **params)  # a backward rule under plain backward()
        if _anomaly_enabled.get():
            return self._checked(inputs, params)
        forward, arity, second = self.forward, len(inputs), None
        try:
            if arity == 2:
                second = inputs[1]
                data = (forward(first._data, second._data, **params) if params
                        else forward(first._data, second._data))
            elif arity == 1:
                data = forward(first._data, **params) if params else forward(first._data)
            else:
                data = forward(*[t._data for t in inputs], **params)
        except (ValueError, IndexError, TypeError) as error:
            raise self._explain(inputs, params, error) from None
        if type(data) is not np.ndarray and not isinstance(data, np.generic):  # your own Op's number
            data = np.asarray(data)
        out = first._wrap(data)
        if _grad_enabled.get():
            recorded = False
            for t in inputs:
                # Every use, counted as the graph grows, so backward need not walk it to count;
                # constants too: a tensor may be set to require grad after its first uses.
                t._users += 1
                if t.requires_grad:
                    recorded = True
            if recorded:
                # The node, folded into the result: no object of its own.
                out.requires_grad = True
                out._op = self
                if arity <= 2 and self.vjp_each is None:
                    out._first = first
                    out._second = second  # None for a unary op
                else:
                    out._first = inputs
                    out._second = _VARIADIC
                out._params = params or None
                out._stamp = _clock
        return out

    def _checked(self, inputs: tuple[Tensor, ...], params: dict[str, Any]) -> Tensor:
        """The forward under ``detect_anomaly()``: the op runs as usual, then its result is checked."""
        origin = _user_frame()
        token = _anomaly_enabled.set(False)
        try:
            with np.errstate(all="ignore"):  # the error below says more than numpy's warning
                out = self(*inputs, **params)
        finally:
            _anomaly_enabled.reset(token)
        _check_finite("the forward pass", self, inputs, out._data, origin)
        if out._op is not None:
            _remember_origin(out, origin)
        return out

    def _explain(self, inputs: Sequence[Tensor], params: dict[str, Any], error: Exception) -> Exception:
        shapes = " and ".join(str(t.shape) for t in inputs)
        detail = f" with {params}" if params else ""
        if self.name == "matmul":
            a, b = (t.shape for t in inputs)
            return ShapeError(
                f"matmul: shapes {a} @ {b} do not fit: the last axis of the left ({a[-1:] or 'scalar'}) "
                f"must equal the {'first' if len(b) < 2 else 'second-to-last'} axis of the right. "
                "In the course's layout Z = W @ A + b, W is (n[l], n[l-1]) and A is (n[l-1], m)."
            )
        if isinstance(error, np.exceptions.AxisError):
            ndim = inputs[0].ndim
            axes = f"its axes are 0 to {ndim - 1}, or −{ndim} to −1 from the end" if ndim else \
                "a 0-d tensor has no axes: use axis=None"
            return ShapeError(f"{self.name}: axis={params.get('axis')!r} is out of range for a tensor of "
                              f"shape {shapes}; {axes}.")
        if isinstance(error, IndexError):
            return IndexingError(f"{self.name}: index{detail} does not fit shape {shapes}: {error}")
        if isinstance(error, TypeError):  # e.g. a shape or axes holding a str: a type, not a shape, problem
            return InputTypeError(f"{self.name}: an argument of the wrong type{detail} "
                                  f"for shapes {shapes}: {error}")
        return ShapeError(f"{self.name}: cannot apply to shapes {shapes}{detail}: {error}")
