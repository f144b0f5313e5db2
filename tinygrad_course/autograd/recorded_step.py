"""A recorded training step, replayed: the same numpy calls as ``J = fn(); J.backward()``, without
building the graph again.

A training loop builds the same graph every step: ``Z1 = W1 @ X + b1``, ``A1 = tanh(Z1)``, ...
``record_step(fn)`` runs the first step eagerly and writes down what happened: each op's numpy
``forward`` with the slots it reads, and each backward rule in the very order ``propagate``
applied it (the order in which gradients are added changes the last bit of a float sum). Later
steps run that list on plain arrays, reading every leaf's ``_data`` afresh (the parameters the
optimizer updated, a batch assigned to ``X.data``), so the numbers are bit-identical to eager.

What a replay cannot see, as ``torch.jit.trace`` cannot: a value computed inside ``fn`` that is not
a leaf read at call time (a ``Tensor(...)`` made inside ``fn``, a Python number, a branch on a
value) is frozen. So the second call runs eagerly once more and compares: if anything differs,
a ``ReplayWarning`` says what, and the step stays eager from then on.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import GradientError, InputTypeError, ReplayWarning
from .backward import propagate, seed_gradient, topological_order, unbroadcast
from .graph import Tensor
from .modes import _anomaly_enabled, _grad_enabled

_FIX = ("create that tensor outside fn and assign its .data before each call (X.data = batch), so "
        "the replay reads it afresh; the step runs eagerly from now on.")


class RecordedStep:
    """``step()`` does what ``J = fn(); J.backward()`` does and returns ``J`` (a leaf holding the cost).

    Made by ``record_step``. One program is kept per signature (the shapes and dtypes of the leaves
    ``fn`` reads); a new signature is recorded anew, eagerly. Eager every time, said once with a
    ``ReplayWarning``: under ``no_grad()`` or ``detect_anomaly()`` (for that call), and for good once
    a tensor of the graph has hooks or the second eager run differs from the recording.
    """

    def __init__(self, fn: Callable[[], Tensor]) -> None:
        self.fn = fn
        self._programs: dict[tuple[Any, ...], _Program] = {}
        self._pending: _Program | None = None  # the first recording, until the second call checks it
        self._current: _Program | None = None
        self._inputs: list[Tensor] | None = None  # the leaves fn reads, known after the second call
        self._eager_reason: str | None = None
        self._warned: set[str] = set()

    def __call__(self) -> Tensor:
        if self._eager_reason is None:
            if not _grad_enabled.get():
                self._warn("grad mode is off (no_grad()), so the step runs eagerly")
            elif _anomaly_enabled.get():
                self._warn("detect_anomaly() is on, so the step runs eagerly (each op checked)")
            else:
                return self._step()
        return self._run(record=False)[0]

    def _step(self) -> Tensor:
        program = self._current
        if program is None or not program.fits():
            program = self._lookup()
            if program is None:
                return self._record()
        if not program.verified:
            return self._verify(program)
        self._current = program
        return program.replay()

    def _signature(self) -> tuple[Any, ...] | None:
        """The shapes and dtypes of the leaves fn reads; None once one of them has hooks."""
        assert self._inputs is not None
        if any(t._hooks for t in self._inputs):
            return None
        return tuple((t._data.shape, t._data.dtype) for t in self._inputs)

    def _lookup(self) -> _Program | None:
        if self._inputs is None:
            return self._pending
        signature = self._signature()
        return None if signature is None else self._programs.get(signature)

    def _record(self) -> Tensor:
        J, order, rules = self._run(record=True)
        if self._eager_reason is None:
            program = _Program(order, rules)
            if self._inputs is None:
                self._pending = program
            else:
                self._programs[self._signature()] = program  # type: ignore[index]
        return J

    def _verify(self, program: _Program) -> Tensor:
        J, order, rules = self._run(record=True)
        if self._eager_reason is not None:
            return J
        difference = program.verify(order, rules)
        if difference is None and self._inputs is not None and \
                {id(t) for _, t in program.inputs} != {id(t) for t in self._inputs}:
            difference = "fn reads other tensors than at its first call"
        if difference is not None:
            self._eager_reason = difference
            self._warn(f"record_step: {difference}; a replay would freeze it. To replay, {_FIX}")
        elif self._inputs is None:
            self._inputs = [t for _, t in program.inputs]
            self._programs[self._signature()] = program  # type: ignore[index]
            self._pending = None
        return J

    def _run(self, record: bool) -> tuple[Tensor, list[Tensor], list[tuple[Tensor, int]]]:
        """``J = fn(); J.backward()``, eagerly; ``record`` also notes the graph and the rules' order."""
        J = self.fn()
        _check_cost(J)
        order = topological_order([J], all_tensors=True) if record else []
        if any(t._hooks for t in order):
            self._eager_reason = "a tensor of the graph has hooks (register_hook), which run only eagerly"
            self._warn(f"record_step: {self._eager_reason}; the step runs eagerly from now on.")
        rules: list[tuple[Tensor, int]] = []
        propagate([J], [seed_gradient(J, None)], False, True,
                  rules_applied=rules if record and self._eager_reason is None else None)
        return J._wrap(J._data), order, rules

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(message, ReplayWarning, stacklevel=4)


def record_step(fn: Callable[[], Tensor]) -> RecordedStep:
    """Record ``fn`` (which returns the cost ``J``) on its first call, replay it on later ones.

    >>> step = record_step(lambda: F.binary_cross_entropy_with_logits(W @ X + b, Y))
    >>> for i in range(1000):
    ...     optimizer.zero_grad(); J = step(); optimizer.step()

    Each ``step()`` computes ``J`` and adds ``dJ/dW``, ``dJ/db`` into ``.grad`` as
    ``J = fn(); J.backward()`` would, to the last bit, but without building the graph again.
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


class _Program:
    """One recorded step. Its slots are the graph's tensors in topological order (the root last)."""

    def __init__(self, order: list[Tensor], rules: list[tuple[Tensor, int]]) -> None:
        slot = {id(t): k for k, t in enumerate(order)}
        root = order[-1]
        self.size, self.wrap, self.shape, self.dtype = len(order), root._wrap, root.shape, root.dtype
        # What the next eager run is compared with; the leaves' values are copied, to stay as recorded.
        self.structure = [_describe(t, slot) for t in order]
        self.rules = [(slot[id(t)], i) for t, i in rules]
        self.leaves = [(k, t, t._data.copy()) for k, t in enumerate(order) if t._op is None]
        self.inputs: list[tuple[int, Tensor]] = []  # leaves read at each call, known once verified
        self.constants: list[tuple[int, Any]] = []  # leaves made inside fn: frozen
        self.verified = False
        self.forward = [(k, _bound(t._op.forward, t._params), *_operands(t._parents, slot), t.shape == ())  # type: ignore[union-attr]
                        for k, t in enumerate(order) if t._op is not None]
        self.backward = _backward_program(order, self.rules)
        # The leaves that get a gradient, in the order propagate accumulates them.
        self.grad_slots = list(dict.fromkeys(p for *_, i_rules in self.backward
                                             for _, _, p, _, _, _, _ in i_rules if order[p]._op is None))
        if root._op is None:  # fn returned a leaf: dJ/dJ = 1 is its gradient
            self.grad_slots.append(self.size - 1)
        self.grad_leaves: list[tuple[int, Tensor]] = []
        self.guards: list[tuple[Tensor, tuple[int, ...], Any]] = []

    def fits(self) -> bool:
        """Whether the leaves fn reads have the recorded shapes and dtypes, and no hooks."""
        return not any(t._hooks or t._data.shape != shape or t._data.dtype != dtype
                       for t, shape, dtype in self.guards)

    def verify(self, order: list[Tensor], rules: list[tuple[Tensor, int]]) -> str | None:
        """What differs between the recording and this eager run (None if nothing). The leaves that
        are the same tensor in both runs are inputs; the others were made inside fn and are frozen."""
        slot = {id(t): k for k, t in enumerate(order)}
        if len(order) != self.size or [_describe(t, slot) for t in order] != self.structure:
            return "the graph's structure (its ops, their parameters or shapes) changed between calls"
        if [(slot[id(t)], i) for t, i in rules] != self.rules:
            return "the backward pass applied its rules in another order than when recorded"
        for k, recorded, value in self.leaves:
            now = order[k]
            if now is recorded:
                self.inputs.append((k, now))
            elif not _same_array(now._data, value):
                name = f"'{now.name}'" if now.name else f"of shape {now.shape}"
                return f"a tensor {name} created inside fn had other values than at the first call"
            else:
                self.constants.append((k, value))
        inputs = {k for k, _ in self.inputs}
        self.grad_leaves = [(k, order[k]) for k in self.grad_slots if k in inputs]
        self.guards = [(t, t.shape, t.dtype) for _, t in self.inputs]
        self.leaves, self.verified = [], True
        return None

    def replay(self) -> Tensor:
        """Forward and backward on plain arrays, each step exactly as ``Op.__call__`` and
        ``propagate`` take it; the inputs' ``.grad`` accumulate."""
        values: list[Any] = [None] * self.size
        for k, value in self.constants:
            values[k] = value
        for k, t in self.inputs:
            values[k] = t._data
        # Operands a, b are slots (b = -1: one operand); a variadic op has the tuple of slots in a.
        for k, forward, a, b, zero_d in self.forward:
            out = (forward(values[a], values[b]) if b >= 0 else forward(values[a]) if b == -1
                   else forward(*[values[s] for s in a]))
            values[k] = np.asarray(out) if zero_d and type(out) is not np.ndarray else out
        grads: list[Any] = [None] * self.size
        grads[-1] = np.ones(self.shape, dtype=self.dtype)
        passed_through = set()  # arrays a rule handed to a leaf unchanged
        for k, a, b, i_rules in self.backward:
            g = grads[k]
            if type(g) is not np.ndarray:
                g = np.asarray(g)  # arithmetic on 0-d arrays returns numpy scalars
            out = values[k]
            inputs = (values[a], values[b]) if b >= 0 else (values[a],) if b == -1 else [values[s] for s in a]
            for rule, name, p, shape, dtype, to_leaf, first in i_rules:
                parent_grad = rule(g, out, *inputs)
                if parent_grad.shape != shape:
                    parent_grad = unbroadcast(parent_grad, shape, name)
                elif to_leaf and parent_grad is g:
                    passed_through.add(id(g))
                if parent_grad.dtype != dtype:  # mixed: float32 in, float32 out
                    parent_grad = parent_grad.astype(dtype)
                grads[p] = parent_grad if first else grads[p] + parent_grad
        for k, leaf in self.grad_leaves:
            g = grads[k]
            if type(g) is not np.ndarray:
                g = np.asarray(g)
            # A leaf's .grad is its own array, never one shared with another tensor (propagate's rule).
            leaf._accumulate(g.copy() if id(g) in passed_through or g.base is not None else g)
        return self.wrap(values[-1])


def _backward_program(order: list[Tensor], rules: list[tuple[int, int]]) -> list[Any]:
    """``rules`` grouped by tensor (propagate finishes one tensor before the next), with all a rule
    needs worked out once: the callable, the parent's slot, shape and dtype, and whether its
    gradient is the parent's first (assigned) or a later one (added to the sum)."""
    slot = {id(t): k for k, t in enumerate(order)}
    program: list[tuple[int, Any, int, list[Any]]] = []
    assigned: set[int] = set()
    for k, i in rules:
        t = order[k]
        op, parent = t._op, t._parents[i]
        assert op is not None
        rule = _bound(op.vjps[i] if op.vjps else functools.partial(op.vjp_each, i), t._params)  # type: ignore[arg-type]
        p = slot[id(parent)]
        if not program or program[-1][0] != k:
            program.append((k, *_operands(t._parents, slot), []))
        program[-1][3].append((rule, op.name, p, parent.shape, parent.dtype, parent._op is None,
                               p not in assigned))
        assigned.add(p)
    return program


def _bound(function: Callable[..., Any], params: dict[str, Any] | None) -> Callable[..., Any]:
    """``function`` with the op's parameters bound, so that each call passes only arrays."""
    return functools.partial(function, **params) if params else function


def _operands(parents: tuple[Tensor, ...], slot: dict[int, int]) -> tuple[Any, int]:
    """The parents' slots as ``(a, b)``: ``b = -1`` for one operand, ``-2`` for a variadic op."""
    slots = tuple(slot[id(p)] for p in parents)
    return (slots[0], slots[1]) if len(slots) == 2 else (slots[0], -1) if len(slots) == 1 else (slots, -2)


def _describe(t: Tensor, slot: dict[int, int]) -> tuple[Any, ...]:
    if t._op is None:  # a leaf: _params and _parents are set only on recorded results
        return None, (), (), t.shape, t.dtype, t.requires_grad
    params = tuple((key, _comparable(v)) for key, v in (t._params or {}).items())
    parents = tuple(slot[id(p)] for p in t._parents)
    return t._op, params, parents, t.shape, t.dtype, t.requires_grad


def _comparable(value: Any) -> Any:
    """A parameter in a form ``==`` compares exactly (an index array becomes its bytes)."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (tuple, list)):
        return type(value), tuple(_comparable(v) for v in value)
    return type(value), value


def _same_array(a: Any, b: Any) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
