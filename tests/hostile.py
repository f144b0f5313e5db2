"""Shared by the hostile-input tests: the one check every hostile input must pass, the counter
of inputs tried by category, and the hypothesis strategies that make the inputs.

The promise under test: a call either works (the caller checks the result against numpy or
against the documented behaviour) or raises one of the library's errors -- a
``TinygradCourseError`` that is also the matching built-in -- with a message that names what was
wrong; and a call that fails leaves every tensor it was given exactly as it was.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_course import Tensor, TinygradCourseError

#: Every category the suite covers; the total is only asserted when all of them ran.
CATEGORIES = (
    "Tensor constructor", "operators", "shapes and indexing", "reductions", "elementwise functions",
    "where, concatenate, stack", "backward and grad", "functional losses", "nn", "nn files",
    "optim", "train", "datasets", "cat/non-cat files", "viz",
)
MINIMUM_TOTAL = 1000
REPORT_ENV = "TINYGRAD_COURSE_HOSTILE_REPORT"

COUNTS: Counter[str] = Counter()
_DERANDOMIZE = os.environ.get("CI", "").lower() == "true"


def hostile_settings(max_examples: int) -> settings:
    """Explicit settings, so the counts do not depend on the active hypothesis profile."""
    return settings(max_examples=max_examples, deadline=None, derandomize=_DERANDOMIZE,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.filter_too_much])


# --------------------------------------------------------------------------- the one check


def _state(t: Tensor) -> tuple[Any, ...]:
    grad = t.grad._data if isinstance(t.grad, Tensor) else t.grad
    # Not the modification clock: a diverged fit() changes the parameters, then restores them.
    return (t._data.copy(), t._data.dtype, None if grad is None else np.array(grad), t.requires_grad,
            t.grad_fn, t.name)


def _same(before: tuple[Any, ...], after: tuple[Any, ...]) -> bool:
    data_b, dtype_b, grad_b, *rest_b = before
    data_a, dtype_a, grad_a, *rest_a = after
    same_grad = (grad_b is None and grad_a is None) or (
        grad_b is not None and grad_a is not None and np.array_equal(grad_b, grad_a, equal_nan=True))
    return (dtype_b == dtype_a and np.array_equal(data_b, data_a, equal_nan=True) and same_grad
            and all(b is a or b == a for b, a in zip(rest_b, rest_a, strict=True)))


def attempt(category: str, call: Callable[[], Any], mentions: Iterable[str],
            tensors: Iterable[Tensor] = ()) -> tuple[bool, Any]:
    """Run one hostile ``call``; return ``(True, result)`` or ``(False, error)``.

    An error must be one of the library's, also a built-in, with a message naming one of
    ``mentions`` (the argument or the function, case-insensitive); the ``tensors`` must be
    unchanged after it. Anything else -- a bare numpy error, a bare IndexError, AttributeError, a
    warning turned error -- fails the test. The caller checks a result.
    """
    COUNTS[category] += 1
    tensors = [t for t in tensors if isinstance(t, Tensor)]
    before = [_state(t) for t in tensors]
    try:
        return True, call()
    except TinygradCourseError as error:
        message = str(error)
        builtins = (TypeError, ValueError, IndexError, RuntimeError, OSError, ArithmeticError)
        assert isinstance(error, builtins), f"{type(error).__name__} is not also a built-in error type"
        wanted = [m.lower() for m in mentions]
        assert any(m in message.lower() for m in wanted), (
            f"{type(error).__name__} message does not name any of {wanted}: {message}")
        for t, state in zip(tensors, before, strict=True):
            assert _same(state, _state(t)), f"a failed call changed a tensor's state: {message}"
        return False, error
    except Exception as error:
        pytest.fail(f"[{category}] {type(error).__name__} escaped, not a library error: {error}")


def worked(outcome: tuple[bool, Any]) -> Any:
    """The result of an attempt that must have worked."""
    ok, value = outcome
    assert ok, f"expected this input to work, got {type(value).__name__}: {value}"
    return value


# --------------------------------------------------------------------------- the report


class _Report:
    """A plugin registered on first use: prints the counts at the end of the session."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not COUNTS:
            return
        terminalreporter.section("hostile inputs tried")
        for category in sorted(COUNTS, key=CATEGORIES.index):
            terminalreporter.write_line(f"{category:<28} {COUNTS[category]:>6}")
        terminalreporter.write_line(f"{'total':<28} {sum(COUNTS.values()):>6}")
        target = os.environ.get(REPORT_ENV)
        if target:
            with open(target, "w", encoding="utf-8") as file:
                json.dump({"by_category": dict(COUNTS), "total": sum(COUNTS.values())}, file, indent=2)


def register_report(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("hostile_report"):
        config.pluginmanager.register(_Report(), "hostile_report")


# --------------------------------------------------------------------------- strategies

SPECIAL_FLOATS = (math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -5e-324, 1e-300, 0.0, -0.0)
HUGE_INT = 10**400

numbers = st.one_of(
    st.floats(-1e3, 1e3), st.sampled_from(SPECIAL_FLOATS), st.integers(-10**6, 10**6),
    st.just(HUGE_INT), st.booleans(),
)

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
small_shapes = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)

_element_dtypes = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.uint8, np.bool_])


@st.composite
def float_arrays(draw: Any, shape: Any = shapes, dtype: Any = np.float64, special: bool = True) -> np.ndarray:
    elements = st.one_of(st.floats(-10, 10, width=64), st.sampled_from(SPECIAL_FLOATS)) if special \
        else st.floats(-10, 10, width=64)
    array = draw(hnp.arrays(np.float64, draw(shape) if isinstance(shape, st.SearchStrategy) else shape,
                            elements=elements))
    with np.errstate(over="ignore"):
        return array.astype(dtype)


@st.composite
def numeric_arrays(draw: Any, shape: Any = shapes) -> np.ndarray:
    """Arrays of every real dtype numpy has (int, uint8, bool, float16/32/64), values of any size."""
    dtype = draw(_element_dtypes)
    if np.dtype(dtype).kind == "f":
        return draw(float_arrays(shape, dtype))
    return draw(hnp.arrays(dtype, draw(shape) if isinstance(shape, st.SearchStrategy) else shape))


wrong_objects = st.one_of(
    st.none(), st.text(max_size=3), st.binary(max_size=3), st.complex_numbers(max_magnitude=10),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2), st.sets(st.integers(), max_size=2),
    st.just(object()), st.just(len), st.just(Ellipsis), st.just(slice(None)),
    hnp.arrays(np.complex128, small_shapes), hnp.arrays(np.dtype("U2"), small_shapes),
    hnp.arrays(np.dtype("S2"), small_shapes),
    st.just(np.array([object(), 1], dtype=object)), st.just(np.array(["2020-01-01"], dtype="datetime64[D]")),
    st.just([[1.0, 2.0], [3.0]]), st.just([1, [2, 3]]), st.just([[], [1]]), st.just([None, 1.0]),
    st.just(["1", 2]), st.just([1 + 2j, 3]),
)

#: Anything a learner might pass where numbers were expected.
anything = st.one_of(numbers, numeric_arrays(), wrong_objects, st.lists(st.floats(-5, 5), max_size=3),
                     st.lists(st.lists(st.integers(-3, 3), max_size=2), max_size=2))


@st.composite
def tensors(draw: Any, shape: Any = shapes, special: bool = True) -> Tensor:
    dtype = draw(st.sampled_from([np.float64, np.float64, np.float32]))
    t = Tensor(draw(float_arrays(shape, dtype, special)), requires_grad=draw(st.booleans()))
    if t.requires_grad and draw(st.booleans()):
        t.grad = np.ones(t.shape, dtype=t.dtype)  # an earlier gradient that a failure must keep
    return t

