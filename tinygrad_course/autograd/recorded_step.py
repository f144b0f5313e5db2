"""A training step recorded once and replayed: the numpy calls of ``J = fn(); J.backward()``,
without building the graph again.

The first call runs eagerly and keeps each op's numpy ``forward`` with the slots it reads, and each
backward rule in the very order ``propagate`` applied it (the order in which gradients are added
changes the last bit of a sum). Later calls run those lists on plain arrays, reading every leaf
``fn`` did not create afresh (the parameters the optimizer updated, ``X.data = batch``), so the
numbers are bit-identical to eager. A value computed inside ``fn`` from anything else is frozen,
as in ``torch.jit.trace``: so the second call runs eagerly once more and compares the two graphs;
if anything differs, a ``ReplayWarning`` says what, and the step stays eager from then on.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import GradientError, InputTypeError, ReplayWarning
from . import graph
from .backward import accumulate_own, propagate, seed_gradient, topological_order, unbroadcast
from .graph import Tensor
from .modes import _anomaly_enabled, _grad_enabled

Rules = list[tuple[Tensor, int]]  # (tensor, i): the gradient pushed to tensor's parent i, in order


class RecordedStep:
    """``step()`` does what ``J = fn(); J.backward()`` does and returns ``J`` (a leaf holding the cost).

    Made by ``record_step``. One program is kept per signature (the shapes, dtypes and
    ``requires_grad`` of the leaves ``fn`` reads); a new signature is recorded anew, eagerly, and
    confirmed by its next call.
    Eager every time, said once with a ``ReplayWarning``: under ``no_grad()`` or
    ``detect_anomaly()`` (for that call), and for good once a tensor of the graph has hooks or a
    second eager run differs from the recording.
    """

    def __init__(self, fn: Callable[[], Tensor]) -> None:
        self.fn = fn
        self._programs: dict[tuple[Any, ...], _Program | _Recording] = {}
        self._first: _Recording | None = None  # the first call's graph, until the second confirms it
        self._inputs: list[Tensor] | None = None  # the leaves fn reads, known after the second call
        self._current: _Program | None = None
        self._eager_reason: str | None = None
        self._warned: set[str] = set()

    def __call__(self) -> Tensor:
        if self._eager_reason is None:
            if not _grad_enabled.get():
                self._warn("record_step: grad mode is off (no_grad()), so the step runs eagerly.")
            elif _anomaly_enabled.get():
                self._warn("record_step: detect_anomaly() is on, so the step runs eagerly (each op checked).")
            else:
                return self._step()
        return self._run(record=False)[0]

    def _step(self) -> Tensor:
        program = self._current
        if program is not None and program.fits():
            return program.replay()
        signature = self._signature()
        entry = self._first if self._inputs is None else self._programs.get(signature)  # type: ignore[arg-type]
        if isinstance(entry, _Recording) and not entry.fits():
            entry = None  # a leaf's shape or dtype changed before the first replay: record anew
        if isinstance(entry, _Program):
            self._current = entry
            return entry.replay()
        J, order, rules = self._run(record=True)
        if self._eager_reason is not None:
            return J
        operands = _operand_slots(order)
        if entry is None:  # a new signature: recorded now, confirmed (or not) by the next call
            if self._inputs is None:
                self._first = _Recording(order, rules, operands)
            else:
                self._programs[signature] = _Recording(order, rules, operands)  # type: ignore[index]
            return J
        difference = entry.difference(order, rules, operands)
        inputs = entry.inputs(order) if difference is None else []
        if difference is None and self._inputs is not None and \
                {id(t) for _, t in inputs} != {id(t) for t in self._inputs}:
            difference = "fn reads other tensors than at its first calls"
        if difference is not None:
            self._eager_reason = difference
            self._warn(f"record_step: {difference}, and a replay would freeze it: the step runs eagerly "
                       "from now on. To replay instead, create that tensor outside fn and assign its .data "
                       "before each call (X.data = batch), so that each call reads it afresh.")
            return J
        if self._inputs is None:
            self._inputs, self._first = [t for _, t in inputs], None
        self._programs[self._signature()] = self._current = _Program(order, rules, operands, inputs)  # type: ignore[index]
        return J

    def _signature(self) -> tuple[Any, ...] | None:
        """The shapes, dtypes and requires_grad of the leaves fn reads (None before the second call,
        or with hooks)."""
        if self._inputs is None or any(t._hooks for t in self._inputs):
            return None  # with hooks: the eager run below notices them
        return tuple((t._data.shape, t._data.dtype, t.requires_grad) for t in self._inputs)

    def _run(self, record: bool) -> tuple[Tensor, list[Tensor], Rules]:
        """``J = fn(); J.backward()``, eagerly; ``record`` also keeps the graph and the rules' order."""
        J = self.fn()
        _check_cost(J)
        order = topological_order([J], all_tensors=True) if record else []
        if any(t._hooks for t in order):
            self._eager_reason = "a tensor of the graph has hooks (register_hook), which run only eagerly"
            self._warn(f"record_step: {self._eager_reason}: the step runs eagerly from now on.")
        rules: Rules = []
        propagate([J], [seed_gradient(J, None)], False, True,
                  rules_applied=rules if record and self._eager_reason is None else None)
        return J._wrap(J._data), order, rules

    def _warn(self, message: str) -> None:
        """Say ``message`` once per step, pointing at the user's line that called the step."""
        if message not in self._warned:
            self._warned.add(message)
            level, frame = 1, sys._getframe(0)
            while frame is not None and frame.f_code.co_filename == __file__:
                level, frame = level + 1, frame.f_back
            warnings.warn(message, ReplayWarning, stacklevel=level)


def record_step(fn: Callable[[], Tensor]) -> RecordedStep:
    """Record ``fn`` (no arguments, returns the cost ``J``) on its first call, replay it on later ones::

        step = record_step(lambda: F.binary_cross_entropy_with_logits(W @ X + b, Y))
        for i in range(1000):
            optimizer.zero_grad(); J = step(); optimizer.step()

    Each ``step()`` computes ``J`` and adds ``dJ/dW`` and ``dJ/db`` into ``.grad`` exactly as
    ``J = fn(); J.backward()`` would, to the last bit, without building the graph again.
    """
    if not callable(fn):
        raise InputTypeError(f"record_step(fn) expects a function of no arguments returning the cost J, "
                             f"got {fn!r:.60}.")
    return RecordedStep(fn)


def _check_cost(J: Any) -> None:
    if not (hasattr(J, "_op") and hasattr(J, "_data")):
        raise InputTypeError(f"record_step(fn): fn() must return the cost J as a Tensor, got "
                             f"{type(J).__name__}.")
    if J._data.size != 1:
        raise GradientError(f"record_step(fn): fn() must return a scalar cost J, got shape {J.shape}; "
                            "reduce it first (e.g. J = L.mean()).")
    if not J.requires_grad:
        raise GradientError("record_step(fn): fn() returned a cost J that does not require grad: create "
                            "the parameters with requires_grad=True (and call the step outside no_grad()).")


class _Recording:
    """A step run eagerly, its graph kept until the next call is compared with it."""

    def __init__(self, order: list[Tensor], rules: Rules, operands: list[tuple[int, ...]]) -> None:
        self.order, self.rules, self.operands, self.clock = order, rules, operands, graph._clock
        self.leaves = [(t, t._data.shape, t._data.dtype, t.requires_grad) for t in order if t._op is None]

    def fits(self) -> bool:
        """Whether the leaves (those fn reads among them) keep their shape, dtype and requires_grad."""
        return all(t._data.shape == shape and t._data.dtype == dtype and t.requires_grad == requires_grad
                   for t, shape, dtype, requires_grad in self.leaves)

    def inputs(self, order: list[Tensor]) -> list[tuple[int, Tensor]]:
        """The leaves that are the same tensor in both runs: read afresh by each replay."""
        return [(k, now) for k, (then, now) in enumerate(zip(self.order, order, strict=True)) if then is now]

    def difference(self, order: list[Tensor], rules: Rules, operands: list[tuple[int, ...]]) -> str | None:
        """What differs between the recorded graph and ``order`` (None if nothing a replay needs)."""
        if len(order) != len(self.order):
            return (f"the graph has {len(order)} tensors now and had {len(self.order)} at the first call "
                    "(a branch or a loop in fn went another way)")
        for k, (then, now) in enumerate(zip(self.order, order, strict=True)):
            if then is now:
                continue  # a leaf read afresh at each call
            op, data_then, data = now._op, then._data, now._data
            if then._op is not op or then.requires_grad != now.requires_grad:
                return f"an op of the graph is {_what(now)} now, not what it was at the first call"
            if data_then.shape != data.shape or data_then.dtype != data.dtype:
                return (f"{_what(now)} has shape {now.shape} and dtype {now.dtype} now, {then.shape} and "
                        f"{then.dtype} at the first call")
            if op is None:
                changed = then._version is not None and then._version.stamp > self.clock
                if changed or not _same_array(data_then, data):
                    return f"{_name(now)} was created inside fn and had other values at the first call"
            elif operands[k] != self.operands[k]:
                return f"{_what(now)} is applied to other operands than at the first call"
            elif not _same_params(then._params, now._params):
                return f"{_what(now)} has the parameters {now._params} now, {then._params} at the first call"
        slot_then = {id(t): k for k, t in enumerate(self.order)}
        slot_now = {id(t): k for k, t in enumerate(order)}
        if [(slot_then[id(t)], i) for t, i in self.rules] != [(slot_now[id(t)], i) for t, i in rules]:
            return "the backward pass applied its rules in another order than at the first call"
        return None


class _Program:
    """A confirmed step, as a list of forward calls and one of backward rules over numbered slots
    (the graph's tensors in topological order, the cost last): everything worked out once."""

    def __init__(self, order: list[Tensor], rules: Rules, operands: list[tuple[int, ...]],
                 inputs: list[tuple[int, Tensor]]) -> None:
        slot = {id(t): k for k, t in enumerate(order)}
        root = order[-1]
        self.size, self.wrap, self.shape, self.dtype = len(order), root._wrap, root.shape, root.dtype
        self.inputs = inputs
        read = {k for k, _ in inputs}
        # Leaves made inside fn keep the values of this call: frozen.
        self.constants = [(k, t._data) for k, t in enumerate(order) if t._op is None and k not in read]
        self.guards = [(t, t._data.shape, t._data.dtype, t.requires_grad) for _, t in inputs]
        # Operands a, b are slots (b = -1: one operand); a variadic op has the tuple of slots in a.
        self.forward = [(k, _bound(t._op.forward, t._params), *_pair(operands[k]), t._data.shape == ())  # type: ignore[union-attr]
                        for k, t in enumerate(order) if t._op is not None]
        self.backward: list[tuple[int, Any, int, list[Any]]] = []
        assigned: set[int] = set()
        for t, i in rules:  # grouped by tensor: propagate finishes one tensor before the next
            op, parent, k, p = t._op, t._parents[i], slot[id(t)], slot[id(t._parents[i])]
            assert op is not None
            rule = _bound(op.vjps[i] if op.vjps else functools.partial(op.vjp_each, i), t._params)  # type: ignore[arg-type]
            if not self.backward or self.backward[-1][0] != k:
                self.backward.append((k, *_pair(operands[k]), []))
            # The rule, and all that propagate does with its result worked out: the parent's slot,
            # shape, dtype, whether it is a leaf, and whether this gradient is its first (assigned).
            data = parent._data
            self.backward[-1][3].append((rule, op.name, p, data.shape, data.dtype, parent._op is None,
                                         p not in assigned))
            assigned.add(p)
        if root._op is None:  # fn returned a leaf: dJ/dJ = 1 is its gradient
            assigned.add(len(order) - 1)
        self.grad_leaves = [(k, t) for k, t in inputs if k in assigned]

    def fits(self) -> bool:
        """Whether the leaves fn reads have the recorded shapes, dtypes and requires_grad, and no hooks."""
        return not any(t._hooks or t._data.shape != shape or t._data.dtype != dtype or t.requires_grad != grad
                       for t, shape, dtype, grad in self.guards)

    def replay(self) -> Tensor:
        """Forward and backward on plain arrays, each value treated exactly as ``Op.__call__`` and
        ``propagate`` treat it; the inputs' ``.grad`` accumulate."""
        values: list[Any] = [None] * self.size
        for k, value in self.constants:
            values[k] = value
        for k, t in self.inputs:
            values[k] = t._data
        for k, forward, a, b, zero_d in self.forward:
            out = (forward(values[a], values[b]) if b >= 0 else forward(values[a]) if b == -1
                   else forward(*[values[s] for s in a]))
            # As Op.__call__: a 0-d result stays a numpy scalar; your own Op's Python number does not.
            values[k] = np.asarray(out) if zero_d and not isinstance(out, (np.ndarray, np.generic)) else out
        grads: list[Any] = [None] * self.size
        grads[-1] = np.ones(self.shape, dtype=self.dtype)
        passed_through = set()  # arrays a rule handed to a leaf unchanged
        for k, a, b, i_rules in self.backward:
            g = grads[k]
            out = values[k]
            inputs = (values[a], values[b]) if b >= 0 else (values[a],) if b == -1 else [values[s] for s in a]
            for rule, name, p, shape, dtype, to_leaf, first in i_rules:
                parent_grad = rule(g, out, *inputs)
                if parent_grad.shape != shape:
                    parent_grad = unbroadcast(parent_grad, shape, name)
                elif to_leaf and parent_grad is g:
                    passed_through.add(id(g))
                if parent_grad.dtype is not dtype and parent_grad.dtype != dtype:  # float32 in, float32 out
                    parent_grad = parent_grad.astype(dtype)
                grads[p] = parent_grad if first else grads[p] + parent_grad
        for k, leaf in self.grad_leaves:
            accumulate_own(leaf, grads[k], passed_through)
        return self.wrap(values[-1])


def _bound(function: Callable[..., Any], params: dict[str, Any] | None) -> Callable[..., Any]:
    """``function`` with the op's parameters bound, so that each call passes only arrays."""
    return functools.partial(function, **params) if params else function


def _operand_slots(order: list[Tensor]) -> list[tuple[int, ...]]:
    """For each tensor of ``order``, the slots of its parents (none for a leaf)."""
    slot = {id(t): k for k, t in enumerate(order)}
    return [tuple([slot[id(p)] for p in t._parents]) if t._op is not None else () for t in order]


def _pair(slots: tuple[int, ...]) -> tuple[Any, int]:
    """Operand slots as ``(a, b)``: ``b = -1`` for one operand, ``-2`` (and all in ``a``) for more."""
    return (slots[0], slots[1]) if len(slots) == 2 else (slots[0], -1) if len(slots) == 1 else (slots, -2)


def _what(t: Tensor) -> str:
    return _name(t) if t._op is None else f"'{t._op.name}'"


def _name(t: Tensor) -> str:
    return f"the tensor '{t.name}'" if t.name else f"a tensor of shape {t.shape}"


def _same_params(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two ops got the same parameters: equal, and of the same types (an axis 1, not True)."""
    if a is None or b is None:
        return a is b
    try:
        if a == b and all(type(a[key]) is type(b[key]) for key in a):
            return True
    except ValueError:  # index arrays, which == compares element by element: compared by their bytes
        pass
    return [(key, _comparable(v)) for key, v in a.items()] == [(key, _comparable(v)) for key, v in b.items()]


def _comparable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return "ndarray", value.dtype.str, value.shape, value.tobytes()
    if isinstance(value, (tuple, list)):
        return type(value), tuple(_comparable(v) for v in value)
    return type(value), value


def _same_array(a: Any, b: Any) -> bool:
    """Bit for bit (0.0 and −0.0 differ, as they may in a result; a NaN equals itself)."""
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
