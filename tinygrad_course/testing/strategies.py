"""hypothesis strategies for shapes and tensors, with named value domains.

>>> from hypothesis import given
>>> from tinygrad_course.testing import broadcastable_shapes, tensors
>>> @given(tensors(domain="positive"))
... def test_log_gradient(x): ...
>>> @given(broadcastable_shapes(n=2))
... def test_add_broadcasts(pair): ...

Values stay in moderate ranges (|x| ≤ 3) so that float64 finite differences are accurate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .._checks import flag
from ..errors import InputTypeError, InputValueError
from ..tensor import Tensor

Shape = tuple[int, ...]
ShapeArgument = Shape | st.SearchStrategy[Shape] | None
_FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1,
           max_side: int = 5) -> st.SearchStrategy[Shape]:
    """Array shapes: ``min_dims`` to ``max_dims`` axes, each of ``min_side`` to ``max_side`` elements.

    ``()`` (a scalar) is included by default. Shrinks towards fewer and shorter axes.
    """
    _check_bounds("shapes", min_dims, max_dims, min_side, max_side)
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(n: int = 2, min_dims: int = 0, max_dims: int = 4, min_side: int = 1,
                         max_side: int = 5) -> st.SearchStrategy[tuple[Shape, ...]]:
    """``n`` shapes that broadcast together, e.g. ``((3, 1), (4,))`` or ``((2, 1, 5), (1, 5))``.

    Includes axes of size 1 against size k and missing leading axes, the two ways numpy
    broadcasting stretches an operand (the course's ``Z = W @ A + b`` adds ``b`` of shape
    ``(n, 1)`` to ``(n, m)``). ``np.broadcast_shapes(*shapes)`` is the result's shape.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputValueError(f"broadcastable_shapes: n must be a whole number ≥ 1, got {n!r}.")
    _check_bounds("broadcastable_shapes", min_dims, max_dims, min_side, max_side)
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda drawn: drawn.input_shapes)


def _check_bounds(who: str, min_dims: int, max_dims: int, min_side: int, max_side: int) -> None:
    if not 0 <= min_dims <= max_dims:
        raise InputValueError(f"{who}: need 0 ≤ min_dims ≤ max_dims, got min_dims={min_dims}, "
                              f"max_dims={max_dims}.")
    if not 0 <= min_side <= max_side:
        raise InputValueError(f"{who}: need 0 ≤ min_side ≤ max_side, got min_side={min_side}, "
                              f"max_side={max_side}.")


# --------------------------------------------------------------------------- value domains


@dataclass(frozen=True)
class Domain:
    """A named set of values that keeps an op where finite differences are trustworthy."""

    name: str
    description: str
    arrays: Callable[[Shape], st.SearchStrategy[np.ndarray]]  # float64 values of a given shape


def _uniform(low: float, high: float) -> Callable[[Shape], st.SearchStrategy[np.ndarray]]:
    return lambda shape: hnp.arrays(np.float64, shape, elements=st.floats(low, high))


def _signed(low: float, high: float) -> Callable[[Shape], st.SearchStrategy[np.ndarray]]:
    magnitudes = st.floats(low, high)
    return lambda shape: hnp.arrays(
        np.float64, shape, elements=st.one_of(magnitudes, magnitudes.map(lambda v: -v))
    )


def _away_from_kinks(shape: Shape) -> st.SearchStrategy[np.ndarray]:
    """Distinct values in [−3, 3], each at least a quarter cell away from every multiple of ½.

    The interval is cut into cells of width w (½, halved until there are two cells per
    element); each element takes its own cell and sits in the cell's middle half. So no two
    elements tie (max has one winner) and none is near 0 or ±½, ±1, ... (the kinks of relu,
    abs, leaky_relu and of clip with bounds at multiples of ½).
    """
    size = int(np.prod(shape))
    width = 0.5
    while 6 / width < 2 * size:
        width /= 2
    cells = round(3 / width)
    return st.tuples(
        st.lists(st.integers(-cells, cells - 1), min_size=size, max_size=size, unique=True),
        hnp.arrays(np.float64, (size,), elements=st.floats(0.0, 0.5)),
    ).map(lambda drawn: ((np.array(drawn[0], dtype=np.float64) + 0.25 + drawn[1]) * width).reshape(shape))


#: The named domains of ``tensors(domain=...)``.
DOMAINS: dict[str, Domain] = {
    domain.name: domain
    for domain in (
        Domain("real", "any value in [−3, 3]", _uniform(-3.0, 3.0)),
        Domain("positive", "values in [0.1, 3]: log, sqrt, the base of pow", _uniform(0.1, 3.0)),
        Domain("nonzero", "values with 0.1 ≤ |x| ≤ 3: denominators", _signed(0.1, 3.0)),
        Domain("unit_interval", "probabilities in [0.05, 0.95]: binary cross-entropy", _uniform(0.05, 0.95)),
        Domain("away_from_kinks", "distinct values in [−3, 3] away from 0 and every multiple of ½: "
               "relu, abs, leaky_relu, max, maximum, minimum, clip", _away_from_kinks),
    )
}


def tensors(shape: ShapeArgument = None, dtype: Any = np.float64,
            elements: st.SearchStrategy[float] | None = None, requires_grad: bool = True,
            domain: str | None = None) -> st.SearchStrategy[Tensor]:
    """Tensors of ``shape`` (a tuple, a strategy such as ``shapes()``, or None for ``shapes()``).

    Values come from the named ``domain`` (see ``DOMAINS``; ``"real"`` by default) or from your
    own ``elements`` strategy (e.g. ``st.floats(-1, 1)``; for float32 pass ``width=32``), not
    both. ``dtype`` is float64 (the default, what gradient checks need), float32 or float16.
    """
    requires_grad = flag(requires_grad, "tensors: requires_grad")
    if elements is not None and domain is not None:
        raise InputValueError("tensors: pass elements= or domain=, not both.")
    if domain is not None and domain not in DOMAINS:
        raise InputValueError(f"tensors: unknown domain {domain!r}; the domains are {', '.join(DOMAINS)}.")
    if elements is not None and not isinstance(elements, st.SearchStrategy):
        raise InputTypeError(
            f"tensors: elements must be a hypothesis strategy, got {type(elements).__name__}."
        )
    try:
        parsed = np.dtype(dtype)
    except (TypeError, ValueError, SyntaxError):  # np.dtype("0@") is a ValueError, some strings a SyntaxError
        parsed = None
    if parsed is None or parsed not in _FLOAT_DTYPES:  # None == float64 for numpy: ask for None first
        raise InputTypeError(f"tensors: dtype must be float64, float32 or float16, got {dtype!r}.")
    if shape is None:
        shape_strategy: st.SearchStrategy[Shape] = shapes()
    elif isinstance(shape, st.SearchStrategy):
        shape_strategy = shape
    else:
        shape_strategy = st.just(_as_shape(shape))
    if elements is not None:
        def values(s: Shape) -> st.SearchStrategy[np.ndarray]:
            return hnp.arrays(parsed, s, elements=elements)
    else:
        values = DOMAINS[domain or "real"].arrays
    return _tensors(shape_strategy, values, parsed, requires_grad)


@st.composite
def _tensors(draw: Any, shape: st.SearchStrategy[Shape],
             values: Callable[[Shape], st.SearchStrategy[np.ndarray]], dtype: np.dtype,
             requires_grad: bool) -> Tensor:
    # A composite, not .map(): hypothesis then prints a failing example as the Tensor's own repr.
    return Tensor(draw(values(draw(shape))).astype(dtype), requires_grad=requires_grad)


def _as_shape(shape: Any) -> Shape:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise InputTypeError(f"tensors: shape must be a tuple of sizes ≥ 0 or a strategy, got {shape!r}.")
    return tuple(int(n) for n in shape)
