"""``Tensor``: one numpy array, plus the graph that made it and the gradient that flows back.

Operators and methods are one-liners that call an op from ``ops``; numbers and arrays on
either side are lifted to constant tensors of the tensor's dtype ("float32 in, float32 out").
Its arithmetic, reductions and elementwise functions are inherited from ``tensor_math``; the
functions of several tensors (``concatenate``, ``where``, ...) are in ``tensor_functions``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from . import _checks, _numpy_protocol, autograd, ops
from .errors import (
    GradientError,
    IndexingError,
    InputTypeError,
    InputValueError,
    MissingDependencyError,
    ShapeError,
)
from .ops.numpy_names import UFUNCS
from .tensor_math import ArrayLike, TensorMath, _name, _sizes

_FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
_ACCEPTED = "a number, a nested list of numbers, a numpy array of numbers, or a Tensor"


def _parse_dtype(dtype: Any) -> np.dtype:
    try:
        parsed = np.dtype(dtype)
    except (TypeError, ValueError, SyntaxError):  # np.dtype("0@") is a ValueError, some strings a SyntaxError
        parsed = None
    # np.dtype(None) == float64, so an unreadable dtype must not be compared as None.
    if parsed is None or parsed not in _FLOAT_DTYPES:
        raise InputTypeError(f"Tensor(dtype={dtype!r}): expected a float dtype: float64 (the default), "
                             "float32 or float16.")
    return parsed


def as_array(data: ArrayLike, dtype: Any = None, what: str = "Tensor()") -> np.ndarray:
    """``data`` as a float ndarray: float64 unless it is float already or ``dtype`` says otherwise.

    Shares memory with a float ndarray of the right dtype, like ``np.asarray``.
    """
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (str, bytes)) or data is None or isinstance(data, (dict, set)):
        raise InputTypeError(f"{what} got {type(data).__name__} {data!r:.40}; expected {_ACCEPTED}.")
    try:
        array = np.asarray(data)
    except ValueError as error:
        raise InputValueError(
            f"{what} got a ragged nested list (rows of different lengths): {error}. Every row must "
            "have the same length, as in [[1, 2], [3, 4]]."
        ) from None
    kind = array.dtype.kind
    if kind == "O" and isinstance(data, int):  # numpy keeps an int beyond int64 as an object
        raise InputValueError(f"{what} got an int of {len(str(abs(data)))} digits, too large for a "
                              "float64 (at most about 1.8e308).")
    if kind == "c":
        raise InputTypeError(f"{what} got complex numbers; expected real numbers ({_ACCEPTED}).")
    if kind not in "biuf":
        raise InputTypeError(
            f"{what} got an array of dtype {array.dtype} (e.g. strings, None or mixed objects); "
            f"expected {_ACCEPTED}."
        )
    target = _parse_dtype(dtype) if dtype is not None else (
        array.dtype if array.dtype in _FLOAT_DTYPES else np.dtype(np.float64))
    return array if array.dtype == target else array.astype(target)


class Tensor(TensorMath, autograd.Record):
    """An n-dimensional array that records the operations applied to it.

    >>> a = Tensor(3.0, requires_grad=True, name="a")
    >>> J = a ** 2
    >>> J.backward()
    >>> a.grad          # dJ/da = 2a
    array(6.)

    ``.grad`` is an ndarray after ``backward()``. After ``backward(create_graph=True)`` a leaf's
    ``.grad`` is a Tensor with its own graph, so it can be differentiated again (as in PyTorch;
    it refers back to the leaf, so call ``zero_grad()`` or prefer ``grad()`` in loops).
    """

    # The graph record (_op and the rest, set only when _op is) is autograd's Record.
    __slots__ = ("_data", "_grad", "requires_grad", "name", "_version", "_hooks", "__weakref__")
    # __eq__ compares values; hashing stays by identity so tensors can be dict keys.
    __hash__ = object.__hash__

    def __init__(self, data: ArrayLike, requires_grad: bool = False, name: str | None = None,
                 dtype: Any = None) -> None:
        """A tensor holding a copy of ``data``, like ``torch.tensor``: an optimizer step that updates
        the tensor never rewrites the caller's array. ``Tensor.from_numpy`` shares instead."""
        self._data = _own(as_array(data, dtype), data)
        self._grad: np.ndarray | np.generic | Tensor | None = None
        # bool("no") is True: a flag that is not a bool is a mistake, not a truth value.
        self.requires_grad = _checks.flag(requires_grad, "Tensor(requires_grad=...)")
        self._op: autograd.Op | None = None
        self._users = 0
        self.name = _name(name)
        self._version: autograd.Version | None = None  # shared with detached aliases, made on need
        self._hooks: dict[int, Callable[[Tensor], Any]] | None = None

    @staticmethod
    def from_numpy(array: np.ndarray, requires_grad: bool = False, name: str | None = None) -> Tensor:
        """A tensor that shares memory with a float ndarray, like ``torch.from_numpy``: no copy.

        A change to either is seen by both, an optimizer step included: ``W0`` below is updated.

        >>> W0 = np.ones(2)
        >>> W = Tensor.from_numpy(W0, requires_grad=True)
        >>> W.data -= 0.5
        >>> W0
        array([0.5, 0.5])
        """
        if not isinstance(array, np.ndarray) or array.dtype not in _FLOAT_DTYPES:
            what = f"an ndarray of dtype {array.dtype}" if isinstance(array, np.ndarray) else \
                f"{type(array).__name__} {array!r:.40}"
            raise InputTypeError(f"Tensor.from_numpy() got {what}; expected an ndarray of dtype float64, "
                                 "float32 or float16 (it shares that memory). Tensor(data) takes "
                                 "anything else, as a copy.")
        t = Tensor._wrap(array)
        t.requires_grad = _checks.flag(requires_grad, "Tensor.from_numpy(requires_grad=...)")
        t.name = _name(name)
        return t

    @staticmethod
    def _wrap(data: np.ndarray | np.generic) -> Tensor:
        """A tensor around an array (or a 0-d numpy scalar) we made: no checks, the hot path of every op."""
        t = object.__new__(Tensor)
        t._data = data  # one statement per slot: a third faster than tuple assignment
        t._grad = None
        t.requires_grad = False
        t._op = None
        t._users = 0
        t.name = None
        t._version = None
        t._hooks = None
        return t

    def _lift(self, value: ArrayLike, what: str = "an operand") -> Tensor:
        """``value`` as a tensor; numbers and arrays become constants of this tensor's dtype."""
        if isinstance(value, Tensor):
            return value
        if type(value) is float or type(value) is int:
            try:  # a numpy scalar, as 0-d results are (see autograd.graph.Traced): twice as quick to make
                return Tensor._wrap(self._data.dtype.type(value))
            except OverflowError:  # an int beyond float64 (10**400); free when nothing is raised
                limit = np.finfo(self.dtype).max
                raise InputValueError(f"{what} (an int of {len(str(value))} digits) is too large for "
                                      f"{self.dtype}; expected a number within ±{limit:.3g}.") from None
        return Tensor._wrap(as_array(value, self._data.dtype, what=what))

    # ------------------------------------------------------------------ attributes

    @property
    def data(self) -> np.ndarray:
        """The values. Assigning (or ``t.data -= ...``) marks the tensor as modified in place."""
        data = self._data
        if isinstance(data, np.generic):  # a 0-d result kept as a numpy scalar: hand out an array
            data = self._data = np.asarray(data)
        return data

    @data.setter
    def data(self, value: ArrayLike) -> None:
        # `w.data -= lr * w.grad` assigns the same, already valid array back: skip the checks.
        if value is not self._data:
            value = as_array(value, self._data.dtype, what="Tensor.data =")
            if value.shape != self._data.shape:  # its .grad, and any graph using it, have the old shape
                raise ShapeError(f"Tensor.data = an array of shape {value.shape} for a tensor of shape "
                                 f"{self.shape}; the shape must stay the same (make a new Tensor instead).")
        self._data = value
        if self._version is None:
            self._version = autograd.Version()
        self._version.stamp = autograd.tick()

    @property
    def grad(self) -> np.ndarray | Tensor | None:
        """``dJ/dself`` after ``backward()``: an ndarray (a Tensor after ``create_graph=True``), or None."""
        grad = self._grad
        if isinstance(grad, np.generic):  # backward leaves a 0-d result's gradient as a numpy scalar
            grad = self._grad = np.asarray(grad)
        return grad

    @grad.setter
    def grad(self, value: np.ndarray | Tensor | None) -> None:
        self._grad = value

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def grad_fn(self) -> autograd.Node | None:
        """How this tensor was made (``.op``, ``.parents``, ``.params``); None for a leaf."""
        return None if self._op is None else autograd.Node(self)

    @property
    def is_leaf(self) -> bool:
        """True for tensors you created (parameters, data); False for results of operations."""
        return self._op is None

    @property
    def T(self) -> Tensor:
        """All axes reversed, as numpy's ``.T``: ``W.T`` is ``(n[l-1], n[l])``."""
        return ops.transpose(self, axes=None)

    def named(self, name: str) -> Tensor:
        """Give the tensor a name (shown in ``repr`` and graphs) and return it."""
        self.name = _name(name)
        return self

    def item(self) -> float:
        if self._data.size != 1:
            raise InputValueError(f"item() needs a tensor with one element, this one has shape {self.shape}.")
        return float(self._data.reshape(()))

    def numpy(self) -> np.ndarray:
        """The values as an ndarray (shared, not copied)."""
        return self.data

    def detach(self) -> Tensor:
        """The same values as a new leaf, cut from the graph: no gradient flows through it.

        It shares the array, and so the record of changes: assigning ``.data`` of either is seen
        by every graph that saved the other (as PyTorch's shared version counter).
        """
        if self._version is None:
            self._version = autograd.Version()
        detached = Tensor._wrap(self.data)  # .data: an array, never a numpy scalar, so both share it
        detached._version = self._version
        return detached

    def astype(self, dtype: Any) -> Tensor:
        """The values in another float dtype; the gradient flows back in this tensor's dtype."""
        return ops.astype(self, dtype=_parse_dtype(dtype))

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    # ------------------------------------------------------------------ autograd

    def backward(self, gradient: ArrayLike | None = None, create_graph: bool = False) -> None:
        """Backpropagate: fill ``.grad`` of every tensor in the graph with ``dJ/dtensor``.

        ``J.backward()`` for a scalar ``J``; for any other shape, pass ``gradient`` (dJ/dself).
        Leaves accumulate (call ``zero_grad()`` between steps); intermediates get a fresh
        ``.grad``. ``create_graph=True`` records the backward pass so gradients can be
        differentiated again.
        """
        create_graph = _checks.flag(create_graph, "backward(create_graph=...)")
        seed = autograd.seed_gradient(self, gradient, create_graph)
        autograd.propagate([self], [seed], create_graph, accumulate=True)

    def _accumulate(self, g: np.ndarray | np.generic | Tensor) -> None:
        # g may be a 0-d result's numpy scalar: .grad makes the array when it is read.
        if not isinstance(g, Tensor) and g.dtype != self._data.dtype:
            g = g.astype(self._data.dtype)
        current = self._grad
        if current is None:
            self._grad = g
            return
        if isinstance(current, Tensor) and isinstance(g, np.ndarray):
            current = current._data
        self._grad = current + g  # 0-d arrays add up to a numpy scalar, which .grad turns into an array

    def register_hook(self, hook: Callable[[Tensor], Any]) -> autograd.RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed during backward.

        The hook may return a replacement gradient (e.g. clipped); returns a handle whose
        ``remove()`` unregisters it.
        """
        if not callable(hook):
            raise InputTypeError(f"register_hook() expects a function grad -> grad or None, got {hook!r}.")
        if not self.requires_grad:
            raise GradientError("register_hook() on a tensor that does not require grad: "
                                "no gradient will ever reach it.")
        if self._hooks is None:
            self._hooks = {}
        handle = autograd.RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    #: What ``graph()`` draws with: ``tinygrad_course.viz.graph``, handed in by ``viz`` when it is
    #: imported (importing ``tinygrad_course`` imports it). Drawing is a layer above the tensor,
    #: and data flows down the layers, so this file never imports ``viz``.
    draw_graph: ClassVar[Callable[..., Any] | None] = None

    def graph(self, **options: Any) -> Any:
        """Draw the computation graph behind this tensor (see ``tinygrad_course.viz.graph``).

        ``J.graph()`` shows values (and gradients once backward ran); ``J.graph(backward=True)``
        shows the local derivatives on the edges. Inline in Jupyter, ``.save("J.svg")`` elsewhere.
        """
        if Tensor.draw_graph is None:
            raise MissingDependencyError("Tensor.graph() draws with tinygrad_course.viz, which has not "
                                         "handed its graph function in; expected `import tinygrad_course` "
                                         "(or `import tinygrad_course.viz`) first.")
        return Tensor.draw_graph(self, **options)

    # ------------------------------------------------------------------ comparisons (no gradient)

    def __lt__(self, other: ArrayLike) -> np.ndarray:
        return self._data < _values(other)

    def __le__(self, other: ArrayLike) -> np.ndarray:
        return self._data <= _values(other)

    def __gt__(self, other: ArrayLike) -> np.ndarray:
        return self._data > _values(other)

    def __ge__(self, other: ArrayLike) -> np.ndarray:
        return self._data >= _values(other)

    def __eq__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return self._data == _values(other)

    def __ne__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return self._data != _values(other)

    # ------------------------------------------------------------------ shapes and indexing

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """``t.reshape(2, 3)`` or ``t.reshape((2, 3))``; one ``-1`` is inferred."""
        target = shape[0] if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)) else shape
        return ops.reshape(self, shape=_sizes(target, "reshape()"))

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """Reverse the axes (no arguments) or permute them: ``t.transpose(1, 0)``."""
        order = axes[0] if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)) else axes
        reverse = order is None or (isinstance(order, tuple) and not order)
        return ops.transpose(self, axes=None if reverse else _sizes(order, "transpose()"))

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return ops.broadcast_to(self, shape=_sizes(shape, "broadcast_to()"))

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index=_index(index))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise InputTypeError("len() of a 0-d tensor (a scalar): it has no first axis.")
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    # ------------------------------------------------------------------ numpy's protocols

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.exp(t)``, ``np.maximum(0, Z)``, ``X * t``: recorded as ops (see ``ops.numpy_names``)."""
        rule = UFUNCS.get(ufunc)
        if rule is not None and method == "__call__" and not kwargs:  # the common call, kept short
            if len(inputs) == 1:  # every ufunc with a rule takes one input (self) or two
                return rule(self)
            a, b = inputs
            return rule(a if isinstance(a, Tensor) else self._lift(a),
                        b if isinstance(b, Tensor) else self._lift(b))
        return _numpy_protocol.array_ufunc(self, ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Callable[..., Any], types: tuple[type, ...], args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Any:
        """``np.dot(W, A)``, ``np.sum(dZ, axis=1, keepdims=True)``: recorded, run on values or refused."""
        return _numpy_protocol.array_function(self, func, types, args, kwargs)

    # ------------------------------------------------------------------ conversions and display

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __float__(self) -> float:
        return self.item()

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise InputValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; use (t > 0).any() "
                "or (t > 0).all()."
            )
        return bool(self._data.reshape(()))

    def __format__(self, spec: str) -> str:
        return format(self.item(), spec) if spec and self._data.size == 1 else repr(self)

    def __repr__(self) -> str:
        extras = []
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        if self._op is not None:
            extras.append(f"grad_fn=<{self._op.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.dtype != np.float64:
            extras.append(f"dtype={self.dtype}")
        values = np.array2string(self.data, prefix="Tensor(", separator=", ", threshold=20, edgeitems=3)
        return f"Tensor({', '.join([values, *extras])})"


def _own(array: np.ndarray, data: ArrayLike) -> np.ndarray:
    """``array``, read from ``data`` by ``as_array``, in memory that nothing outside the tensor holds."""
    if isinstance(data, (int, float, list, tuple, np.generic)):
        return array  # np.asarray built a new array from them
    source = data._data if isinstance(data, Tensor) else data
    if isinstance(source, np.ndarray) and not np.may_share_memory(array, source):
        return array  # as_array cast it to another dtype: a copy already
    return array.copy()


# --------------------------------------------------------------------------- argument helpers


def _values(other: Any) -> Any:
    return other._data if isinstance(other, Tensor) else other


def _index(index: Any) -> Any:
    """numpy's index syntax, without Tensors: a Tensor holds floats, so a mask would be read as indices.

    ``Tensor([True, False, True])`` is stored as ``[1., 0., 1.]``: used as an index it would pick
    elements 1, 0, 1 instead of masking. PyTorch refuses float tensors as indices; so do we.
    """
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(part, Tensor) for part in parts):
        raise IndexingError(
            "a Tensor used as an index: Tensors hold floats, so a mask Tensor([True, False]) is [1., 0.] "
            "and would be read as the indices 1 and 0. Index with a boolean mask, as in x[x > 0] "
            "(comparisons return boolean ndarrays), or with integers, as in x[[0, 2]] or "
            "x[np.array([0, 2])]."
        )
    return index
