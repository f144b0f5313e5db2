"""The chain rule, walked backwards: ``propagate`` visits the tensors in reverse topological
order, so each tensor's gradient ``dJ/dt`` is complete before it is pushed to its parents:
``dJ/dparent += vjp(dJ/dt)`` — one op at a time. ``grad`` is its functional form, ``unbroadcast``
sums a gradient back to the shape of a broadcast input.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .._checks import flag
from ..errors import AnomalyError, GradientError, InPlaceModificationError, InputTypeError, ShapeError
from . import graph
from .graph import Tensor, _check_finite, _origins
from .modes import _anomaly_enabled, _grad_enabled


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
    rules_applied: list[tuple[Tensor, int]] | None = None,
) -> dict[int, Tensor]:
    """Run the chain rule from ``roots`` (with gradients ``seeds``) back to the leaves.

    With ``accumulate``, leaves add into ``.grad`` and every intermediate gets a fresh ``.grad``.
    Gradients of the ``wanted`` tensors are returned as Tensors (keyed by ``id``); without
    ``accumulate`` the pass visits only what lies between the roots and the wanted tensors.
    A root given twice adds its seeds. ``rules_applied``, if given, receives ``(tensor, i)`` for
    each gradient pushed to ``tensor``'s parent ``i``, in the order applied (``record_step`` replays it).

    The backward rules are polymorphic: with ``create_graph`` they receive Tensors and are
    recorded like any forward op (so gradients can be differentiated again); otherwise they
    receive the plain ndarrays and run as the hand-written numpy they read like.
    """
    plain = not create_graph
    grads: dict[int, Any] = {}
    waiting: dict[int, Tensor] = {}  # the leaves behind keys of grads
    unique_roots: list[Tensor] = []
    for root, seed in zip(roots, seeds, strict=True):
        value = seed._data if plain else seed
        previous = grads.get(id(root))
        if previous is None:
            unique_roots.append(root)
            if root._op is None:
                waiting[id(root)] = root
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
            # The uses were counted as the graph grew (_users), which saves a walk to count them.
            # A tensor that also has uses outside this graph (a parameter used by several forward
            # passes, a result that J does not use) never gets ready that way: when nothing is
            # ready, leaves left over are finished as they are, and anything else counted exactly.
            users: dict[int, int] = {}
            ready = [root for root in unique_roots
                     if root._users == 0 and (needed is None or id(root) in needed)]
            while True:
                if not ready:
                    left = [key for key in grads if needed is None or key in needed]
                    if not left:
                        break
                    if all(key in waiting for key in left):  # only leaves (parameters): nothing to wait for
                        ready = [waiting[key] for key in left]
                    else:  # a result with uses outside the graph: find what is left, and count exactly
                        rest = [t for t in topological_order(unique_roots) if id(t) in grads and
                                (needed is None or id(t) in needed)]
                        users = _count_users(rest, all_tensors=False)
                        ready = [t for t in rest if users[id(t)] == 0]  # never empty: the graph has no cycle
                    continue
                tensor = ready.pop()
                g = grads.pop(id(tensor))  # under plain backward a numpy scalar where the tensor is 0-d
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
                if tensor._stamp != graph._clock:  # something somewhere was modified since the op ran
                    _check_unmodified(tensor)
                first, second, params = tensor._first, tensor._second, tensor._params
                if second is None:  # the record's slots read directly: this loop runs once per op
                    parents = (first,)
                    inputs = (first._data,) if plain else parents
                elif second is graph._VARIADIC:
                    parents = first
                    inputs = [p._data for p in parents] if plain else parents
                else:
                    parents = (first, second)
                    inputs = (first._data, second._data) if plain else parents
                out = tensor._data if plain else tensor
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
                    if rules_applied is not None:
                        rules_applied.append((tensor, i))
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
                    if previous is None:
                        grads[key] = parent_grad
                        if parent._op is None:
                            waiting[key] = parent
                    else:
                        grads[key] = previous + parent_grad
                    remaining = users.get(key, parent._users) - 1
                    users[key] = remaining
                    if remaining == 0:
                        ready.append(parent)
    finally:
        _grad_enabled.reset(token)
    for tensor, g in zip(intermediates, intermediate_grads, strict=True):
        tensor._grad = g  # .grad hands out an ndarray where this is a 0-d result's numpy scalar
    for tensor, g in zip(leaves, leaf_grads, strict=True):
        if plain:
            accumulate_own(tensor, g, passed_through)
        else:
            tensor._accumulate(g)
    return found


def accumulate_own(leaf: Tensor, g: Any, passed_through: set[int]) -> None:
    """Add the array ``g`` into ``leaf.grad``, as an array of the leaf's own.

    A leaf keeps its ``.grad`` across steps and may edit it in place (clipping), so it never shares
    one with another tensor: ``g`` is copied where a rule handed it on unchanged (its id is in
    ``passed_through``: ``+`` gives g to both sides) or where it is a view of another array.
    """
    if id(g) in passed_through or g.base is not None:
        g = g.copy()
    leaf._accumulate(g)


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
