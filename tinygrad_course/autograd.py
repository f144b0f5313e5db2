"""The computation graph and the chain rule that walks it backwards.

Every differentiable result remembers how it was made: the ``Op``, its parents (the input
tensors) and the op's parameters. ``tensor.grad_fn`` shows that record as a ``Node`` with
``.op``, ``.parents`` and ``.params``. ``backward`` visits the tensors in reverse topological
order, so each tensor's gradient ``dJ/dt`` is complete before it is pushed to its parents:
``dJ/dparent += vjp(dJ/dt)`` — the chain rule, one op at a time.

The record lives in the tensor itself (``_op``, ``_parents``, ``_params``, ``_stamp``), not in a
separate node object: one object fewer per op for Python's cycle collector to allocate and walk,
which is most of the cost of a long chain of small ops. ``Node`` is only a view, made on access.

This module knows a tensor only through the ``Traced`` protocol below — the attributes it reads
and writes and three methods — so it sits below ``tensor.py`` and ``ops`` and never imports them.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

import numpy as np

from ._checks import flag
from .errors import (
    AnomalyError,
    GradientError,
    IndexingError,
    InPlaceModificationError,
    InputTypeError,
    ShapeError,
)


class Traced(Protocol):
    """What the engine needs of a tensor (``tensor.Tensor`` is the one implementation).

    ``_op`` is None for a leaf; for a recorded result ``_parents``, ``_params`` (None when the op
    has none) and ``_stamp`` (the modification clock when it was made) are set as well.
    """

    _data: np.ndarray
    grad: Any
    requires_grad: bool
    name: str | None
    _op: Op | None
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


Tensor = Traced  # the name the rest of this module's annotations read best with

F = TypeVar("F", bound=Callable[..., Any])

# --------------------------------------------------------------------------- modes

# ContextVars are per thread and per asyncio task, so one thread's no_grad() never leaks into
# another's training loop, and one thread's detect_anomaly() never raises in another.
_grad_enabled: ContextVar[bool] = ContextVar("tinygrad_course_grad_enabled", default=True)
_anomaly_enabled: ContextVar[bool] = ContextVar("tinygrad_course_anomaly_enabled", default=False)


def is_grad_enabled() -> bool:
    """True when new operations are recorded into the graph (the default)."""
    return _grad_enabled.get()


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` or after ``set_detect_anomaly(True)``."""
    return _anomaly_enabled.get()


def set_detect_anomaly(enabled: bool) -> None:
    """Turn NaN/inf detection on or off for this thread (off by default: it costs time)."""
    _anomaly_enabled.set(flag(enabled, "set_detect_anomaly(enabled)"))


class _Mode:
    """Context manager and decorator that sets a mode, then restores the previous one."""

    variable: ContextVar[bool]
    enabled: bool

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        self = super().__new__(cls)
        # Previous values per thread: one instance may be entered by several threads at once.
        self._previous: dict[int, list[bool]] = {}
        # `@no_grad` (bare) and `@no_grad()` both decorate.
        return self if func is None else self(func)

    def __enter__(self) -> None:
        self._previous.setdefault(threading.get_ident(), []).append(self.variable.get())
        self.variable.set(self.enabled)

    def __exit__(self, *exc_info: object) -> None:
        self.variable.set(self._previous[threading.get_ident()].pop())

    def __call__(self, func: F) -> F:
        mode = type(self)
        if inspect.isasyncgenfunction(func):
            raise InputTypeError(f"{mode.__name__} cannot decorate the async generator {func.__name__}(): "
                                 f"write `with {mode.__name__}():` inside its body instead.")
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(mode, func)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def coroutine(*args: Any, **kwargs: Any) -> Any:
                with mode():  # modes are per asyncio task: this holds while the body runs
                    return await func(*args, **kwargs)

            return coroutine  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _wrap_generator(mode: type[_Mode], func: Callable[..., Any]) -> Callable[..., Any]:
    """The mode holds while the generator's body runs, and the caller's mode between its yields."""

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Any:
        inner = func(*args, **kwargs)  # a generator runs nothing until the first next()
        try:
            with mode():
                value = next(inner)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    with mode():
                        inner.close()
                    raise
                except BaseException as error:
                    with mode():
                        value = inner.throw(error)
                else:
                    with mode():
                        value = inner.send(sent)
        except StopIteration as stop:
            return stop.value

    return generator


class no_grad(_Mode):
    """Record nothing: results don't require grad. Use for evaluation and parameter updates."""

    variable, enabled = _grad_enabled, False


class enable_grad(_Mode):
    """Record operations again, even inside ``no_grad()``."""

    variable, enabled = _grad_enabled, True


class detect_anomaly(_Mode):
    """Raise ``AnomalyError`` at the first NaN or inf, naming the op and your line that made it.

    Inside this block every op remembers the source line that created it (outside, nothing is
    captured, so normal runs pay nothing), and numpy's own floating-point warnings give way to
    the error, which names the operation.
    """

    variable, enabled = _anomaly_enabled, True


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_frame() -> str:
    """The first caller outside this package: where the user wrote the operation."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
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
        forward = self.forward
        try:
            if len(inputs) == 2:
                data = (forward(first._data, inputs[1]._data, **params) if params
                        else forward(first._data, inputs[1]._data))
            elif len(inputs) == 1:
                data = forward(first._data, **params) if params else forward(first._data)
            else:
                data = forward(*[t._data for t in inputs], **params)
        except (ValueError, IndexError, TypeError) as error:
            raise self._explain(inputs, params, error) from None
        if type(data) is not np.ndarray:  # numpy returns scalars, not 0-d arrays, for 0-d results
            data = np.asarray(data)
        out = first._wrap(data)
        if _grad_enabled.get():
            for t in inputs:
                if t.requires_grad:
                    # The node, folded into the result: no object of its own.
                    out.requires_grad = True
                    out._op = self
                    out._parents = inputs
                    out._params = params or None
                    out._stamp = _clock
                    break
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


# --------------------------------------------------------------------------- backward


def unbroadcast(grad: Tensor, shape: tuple[int, ...], op_name: str | None = None) -> Tensor:
    """Sum a gradient back to ``shape``: the reverse of numpy broadcasting.

    An input that was broadcast was *used* once per copy, so its gradient is the sum over the
    copies (e.g. ``db = sum over m of dZ`` for the bias in ``Z = W @ A + b``).
    """
    if grad.shape == shape:
        return grad
    # A training loop meets the same few shape pairs every step: work out their axes once.
    axes = _summed_axes.get((grad.shape, shape))
    if axes is None:
        axes = _axes_to_sum(grad.shape, shape, op_name)
        if len(_summed_axes) > 1024:  # bounded, for programs that meet endless shapes
            _summed_axes.clear()
        _summed_axes[grad.shape, shape] = axes
    summed = grad.sum(axis=axes, keepdims=True)
    return summed if summed.ndim == len(shape) else summed.reshape(shape)


_summed_axes: dict[tuple[tuple[int, ...], tuple[int, ...]], tuple[int, ...]] = {}


def _axes_to_sum(grad_shape: tuple[int, ...], shape: tuple[int, ...], op_name: str | None) -> tuple[int, ...]:
    lead = len(grad_shape) - len(shape)
    # Broadcasting stretched size-1 axes and prepended missing ones; any other mismatch means
    # a rule of the op table (or your own Op) returned a misshapen gradient: say so instead of
    # reshaping it into a silently wrong one.
    stretched = [lead + i for i, n in enumerate(shape) if n != grad_shape[lead + i]] if lead >= 0 else None
    if stretched is None or any(shape[i - lead] != 1 for i in stretched):
        rule = f"the backward rule of '{op_name}'" if op_name else "a backward rule"
        raise GradientError(f"{rule} returned a gradient of shape {grad_shape} for an input of "
                            f"shape {shape}; it must have the input's shape or broadcast from it.")
    return (*range(lead), *stretched)


def _count_users(roots: list[Tensor], all_tensors: bool) -> dict[int, int]:
    """How many uses by ops each tensor behind ``roots`` has (keyed by ``id``): Kahn's first half."""
    users = {id(root): 0 for root in roots}
    stack = list(roots)
    while stack:
        tensor = stack.pop()
        if tensor._op is not None:
            for parent in tensor._parents:
                if all_tensors or parent.requires_grad:
                    key = id(parent)
                    if key in users:
                        users[key] += 1
                    else:
                        users[key] = 1
                        stack.append(parent)
    return users


def topological_order(roots: Iterable[Tensor], all_tensors: bool = False) -> list[Tensor]:
    """Tensors of the graph behind ``roots``, each after all of its parents.

    Kahn's algorithm, without recursion (a chain of a million ops is fine): count how many ops
    use each tensor, then release a tensor once all of its users are placed. By default only
    tensors that need a gradient; ``all_tensors=True`` includes constants (for the pictures).
    ``propagate`` visits the tensors in exactly the reverse of this order.
    """
    roots = list(roots)
    users = _count_users(roots, all_tensors)
    order = []
    ready = [root for root in roots if users[id(root)] == 0]
    while ready:
        tensor = ready.pop()
        order.append(tensor)
        if tensor._op is not None:
            for parent in tensor._parents:
                if all_tensors or parent.requires_grad:
                    key = id(parent)
                    users[key] -= 1
                    if users[key] == 0:
                        ready.append(parent)
    order.reverse()
    return order


def _saved(tensor: Tensor) -> Iterable[Tensor]:
    """The tensors whose values the backward rules of ``tensor``'s op read (all, without ``saves``)."""
    saves = tensor._op.saves  # type: ignore[union-attr]
    if saves is None:
        return (tensor, *tensor._parents)
    return [tensor if which == "out" else tensor._parents[which] for which in saves]  # type: ignore[index]


def _check_unmodified(tensor: Tensor) -> None:
    for t in _saved(tensor):
        version = t._version
        if version is not None and version.stamp > tensor._stamp:
            name = f"'{t.name}'" if t.name else f"of shape {t.shape}"
            raise InPlaceModificationError(
                f"the tensor {name} was modified in place (its .data changed) after '{tensor._op.name}' "  # type: ignore[union-attr]
                "saved it for its backward rule, so the gradient would be wrong. Run backward() before "
                "updating parameters, or rebuild the graph (run the forward pass again) after the update."
            )


def _needed(roots: list[Tensor], wanted: Sequence[Tensor]) -> set[int]:
    """The tensors on a path from ``roots`` down to a ``wanted`` one: all that ``grad()`` must visit.

    A tensor is needed if it is wanted or one of its parents is needed; ``grad()`` stops there,
    as PyTorch's does: no hook runs and no rule is computed beyond the inputs it was asked about.
    """
    needed = {id(t) for t in wanted}
    for tensor in topological_order(roots):  # parents first
        if tensor._op is not None and id(tensor) not in needed and \
                any(id(p) in needed for p in tensor._parents):
            needed.add(id(tensor))
    return needed


def propagate(
    roots: Sequence[Tensor],
    seeds: Sequence[Tensor],
    create_graph: bool,
    accumulate: bool,
    wanted: Sequence[Tensor] = (),
) -> dict[int, Tensor]:
    """Run the chain rule from ``roots`` (with gradients ``seeds``) back to the leaves.

    With ``accumulate``, leaves add into ``.grad`` and every intermediate gets a fresh ``.grad``.
    Gradients of the ``wanted`` tensors are returned as Tensors (keyed by ``id``); without
    ``accumulate`` the pass visits only what lies between the roots and the wanted tensors.
    A root given twice adds its seeds.

    The backward rules are polymorphic: with ``create_graph`` they receive Tensors and are
    recorded like any forward op (so gradients can be differentiated again); otherwise they
    receive the plain ndarrays and run as the hand-written numpy they read like.
    """
    plain = not create_graph
    grads: dict[int, Any] = {}
    unique_roots: list[Tensor] = []
    for root, seed in zip(roots, seeds, strict=True):
        value = seed._data if plain else seed
        previous = grads.get(id(root))
        if previous is None:
            unique_roots.append(root)
        grads[id(root)] = value if previous is None else previous + value
    wanted_ids = {id(t) for t in wanted}
    needed = None if accumulate else _needed(unique_roots, wanted)
    found: dict[int, Tensor] = {}
    # .grad is written only once the whole pass has succeeded: a backward that raises halfway
    # (an in-place change, an anomaly) leaves every tensor as it was, so a retry counts once.
    # Parallel lists, not a list of pairs: a pair per tensor would feed the cycle collector.
    leaves: list[Tensor] = []
    leaf_grads: list[Any] = []
    intermediates: list[Tensor] = []
    intermediate_grads: list[np.ndarray] = []
    passed_through: set[int] = set()  # arrays a rule handed on unchanged (add passes g to both sides)
    anomaly = _anomaly_enabled.get()
    token = _grad_enabled.set(create_graph)
    try:
        with np.errstate(all="ignore") if anomaly else contextlib.nullcontext():
            # Kahn's second half, merged into the chain rule: a tensor is ready once every op
            # that used it has passed its gradient back (the order of topological_order, reversed).
            users = _count_users(unique_roots, all_tensors=False)
            ready = [root for root in unique_roots
                     if users[id(root)] == 0 and (needed is None or id(root) in needed)]
            while ready:
                tensor = ready.pop()
                g = grads.pop(id(tensor))
                if plain and type(g) is not np.ndarray:
                    g = np.asarray(g)  # arithmetic on 0-d arrays returns numpy scalars
                if tensor._hooks:
                    g = _run_hooks(tensor, g, create_graph)
                if wanted_ids and id(tensor) in wanted_ids:
                    found[id(tensor)] = tensor._wrap(g) if plain else g
                op = tensor._op
                if op is None:
                    if accumulate:
                        leaves.append(tensor)
                        leaf_grads.append(g)
                    continue
                if accumulate:
                    # Intermediates keep values only (a graph-carrying grad would reference the
                    # tensor itself: σ' uses σ), for inspection.
                    intermediates.append(tensor)
                    intermediate_grads.append(g if plain else g._data)
                if tensor._stamp != _clock:  # something somewhere was modified since the op ran
                    _check_unmodified(tensor)
                parents, params = tensor._parents, tensor._params
                if plain:
                    out = tensor._data
                    inputs = ((parents[0]._data, parents[1]._data) if len(parents) == 2
                              else (parents[0]._data,) if len(parents) == 1 else [p._data for p in parents])
                else:
                    out, inputs = tensor, parents
                vjps = op.vjps
                for i, parent in enumerate(parents):
                    if not parent.requires_grad or (needed is not None and id(parent) not in needed):
                        continue
                    if anomaly:
                        parent_grad = _checked_vjp(tensor, i, g, out, inputs)
                    elif vjps:
                        rule = vjps[i]
                        parent_grad = rule(g, out, *inputs, **params) if params else rule(g, out, *inputs)
                    else:
                        parent_grad = op.vjp_each(i, g, out, *inputs, **(params or {}))
                    data = parent._data
                    if parent_grad.shape != data.shape:
                        parent_grad = unbroadcast(parent_grad, data.shape, op.name)
                    elif parent_grad is g and parent._op is None:  # only a leaf's .grad must be its own
                        passed_through.add(id(g))
                    dtype = parent_grad.dtype
                    if dtype is not data.dtype and dtype != data.dtype:  # mixed: float32 in, float32 out
                        parent_grad = parent_grad.astype(data.dtype)
                    key = id(parent)
                    previous = grads.get(key)
                    grads[key] = parent_grad if previous is None else previous + parent_grad
                    users[key] -= 1
                    if users[key] == 0:
                        ready.append(parent)
    finally:
        _grad_enabled.reset(token)
    for tensor, g in zip(intermediates, intermediate_grads, strict=True):
        tensor.grad = g
    for tensor, g in zip(leaves, leaf_grads, strict=True):
        # A leaf keeps its .grad across steps and may be edited (clipped) in place: it gets an
        # array of its own, never one shared with another tensor.
        if plain and (id(g) in passed_through or g.base is not None):
            g = g.copy()
        tensor._accumulate(g)
    return found


def _checked_vjp(tensor: Tensor, i: int, g: Any, out: Any, inputs: Sequence[Any]) -> Any:
    """One backward rule under ``detect_anomaly()``: its result must be finite."""
    op, params = tensor._op, tensor._params or {}
    assert op is not None
    where = f"the backward pass (gradient for input {i})"
    origin = _origins.get(id(tensor)) or "a line outside detect_anomaly() (not recorded)"
    try:
        if op.vjp_each is None:
            parent_grad = op.vjps[i](g, out, *inputs, **params)
        else:
            parent_grad = op.vjp_each(i, g, out, *inputs, **params)
    except AnomalyError as error:  # under create_graph the rule's own ops are checked first
        raise AnomalyError(f"{where} of '{op.name}', created at {origin}, failed: {error}") from None
    _check_finite(where, op, tensor._parents, np.asarray(getattr(parent_grad, "_data", parent_grad)), origin)
    return parent_grad


def _run_hooks(tensor: Tensor, g: Any, create_graph: bool) -> Any:
    """Hooks always see a Tensor; a returned value replaces the gradient."""
    g_tensor = g if create_graph else tensor._wrap(g)
    for hook in list(tensor._hooks.values()):
        replaced = hook(g_tensor)
        if replaced is not None:
            g_tensor = tensor._lift(replaced, what="the value a hook returned")
            # A gradient of another shape would flow on silently and end as a .grad of that shape.
            if g_tensor.shape != tensor.shape:
                raise ShapeError(f"a hook registered with register_hook() returned a gradient of shape "
                                 f"{g_tensor.shape}; expected the tensor's shape {tensor.shape} (or None).")
    return g_tensor if create_graph else g_tensor._data


def seed_gradient(root: Tensor, gradient: Any, create_graph: bool = False) -> Tensor:
    """``dJ/dJ = 1`` for a scalar; otherwise the caller's ``gradient``, checked against the shape.

    Under ``create_graph`` a ``gradient`` that requires grad is part of the graph (as in
    PyTorch), so the result can be differentiated with respect to it: two VJPs make a JVP.
    """
    if not root.requires_grad:
        raise GradientError(
            "backward() needs a tensor that requires grad, but none of this tensor's inputs had "
            "requires_grad=True: create the parameters with Tensor(..., requires_grad=True). (It may "
            "also have been computed inside no_grad(), or be a derivative that no longer depends on "
            "the inputs, as the second derivative of a linear function does.)"
        )
    if gradient is None:
        if root.size != 1:
            raise GradientError(
                f"backward() without `gradient` works only on a scalar (like the cost J), but this "
                f"tensor has shape {root.shape}. Reduce it first (e.g. J = L.mean()), or pass "
                f"gradient= an array of shape {root.shape} holding dJ/d(this tensor)."
            )
        return root._wrap(np.ones(root.shape, dtype=root.dtype))
    seed = root._lift(gradient)
    if seed.shape != root.shape:
        raise ShapeError(
            f"backward(gradient=...) needs a gradient of the tensor's shape {root.shape}, "
            f"got shape {seed.shape}."
        )
    if create_graph and seed.requires_grad:
        return seed if seed.dtype == root.dtype else seed.astype(root.dtype)
    # A private copy: the caller may reuse their array, and leaves may keep this one as .grad.
    return root._wrap(np.array(seed._data, dtype=root.dtype))


def _tensor_list(values: Any, what: str) -> list[Tensor]:
    """A list or tuple of tensors (known here by their ``grad_fn``: this module never imports Tensor)."""
    if isinstance(values, (list, tuple)) and all(hasattr(v, "grad_fn") for v in values):
        return list(values)
    raise InputTypeError(f"grad(): {what} must be a Tensor or a list or tuple of Tensors, "
                         f"got {values!r:.60}.")


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any | Sequence[Any] | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, leaving every ``.grad`` untouched.

    Like ``torch.autograd.grad``: returns one Tensor per input. With ``create_graph=True`` the
    results carry their own graph, so ``grad`` can be applied again (d²J/da², d³J/da³, ...).
    """
    single_output = hasattr(outputs, "grad_fn")
    outputs = [outputs] if single_output else _tensor_list(outputs, "outputs")  # type: ignore[list-item]
    inputs = [inputs] if hasattr(inputs, "grad_fn") else _tensor_list(inputs, "inputs")  # type: ignore[list-item]
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif single_output:
        grad_outputs = [grad_outputs]
    elif not isinstance(grad_outputs, (list, tuple)):
        raise InputTypeError(f"grad(): several outputs need a list of grad_outputs, one per output, "
                             f"got {type(grad_outputs).__name__}.")
    if len(grad_outputs) != len(outputs):
        raise ShapeError(f"grad(): {len(outputs)} outputs but {len(grad_outputs)} grad_outputs.")
    for t in inputs:
        if not t.requires_grad:
            raise GradientError(f"grad(): an input of shape {t.shape} does not require grad.")
    create_graph = flag(create_graph, "grad(create_graph=...)")
    allow_unused = flag(allow_unused, "grad(allow_unused=...)")
    seeds = [seed_gradient(out, g, create_graph) for out, g in zip(outputs, grad_outputs, strict=True)]
    found = propagate(outputs, seeds, create_graph, accumulate=False, wanted=inputs)
    results = []
    for t in inputs:
        if id(t) in found:
            results.append(found[id(t)])
        elif allow_unused:
            results.append(t._wrap(np.zeros(t.shape, dtype=t.dtype)))
        else:
            raise GradientError(
                f"grad(): an input of shape {t.shape} was not used to compute the outputs; pass "
                "allow_unused=True to get zeros for it."
            )
    return tuple(results)
