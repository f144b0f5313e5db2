"""The hypothesis strategies: shapes, broadcastable shapes and tensors in their named domains."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from tinygrad_course import InputTypeError, InputValueError, Tensor
from tinygrad_course.testing import DOMAINS, broadcastable_shapes, shapes, tensors

QUICK = settings(database=None, max_examples=300)


@given(shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
def test_shapes_respect_their_bounds(shape: tuple[int, ...]) -> None:
    assert 1 <= len(shape) <= 3
    assert all(2 <= n <= 4 for n in shape)


def test_shapes_include_the_scalar_shape_by_default() -> None:
    assert find(shapes(), lambda shape: True, settings=QUICK) == ()


@given(broadcastable_shapes(n=3))
def test_broadcastable_shapes_broadcast_together(drawn: tuple[tuple[int, ...], ...]) -> None:
    assert len(drawn) == 3
    np.broadcast_shapes(*drawn)  # raises ValueError if they do not
    np.broadcast(*(np.zeros(s) for s in drawn))


def _stretches_a_size_one_axis(pair: tuple[tuple[int, ...], ...]) -> bool:
    return any(1 in (a, b) and a != b for a, b in zip(pair[0][::-1], pair[1][::-1], strict=False))


def test_broadcastable_shapes_stretch_size_one_axes_and_add_leading_axes() -> None:
    stretched = find(broadcastable_shapes(), _stretches_a_size_one_axis, settings=QUICK)
    # find() raises if no drawn pair stretches an axis; the result takes the larger side of each.
    result = np.broadcast_shapes(*stretched)
    assert all(n == max(a, b) for n, a, b in zip(result[::-1], stretched[0][::-1], stretched[1][::-1],
                                                  strict=False))
    missing = find(broadcastable_shapes(), lambda pair: len(pair[0]) < len(pair[1]), settings=QUICK)
    assert len(np.broadcast_shapes(*missing)) == len(missing[1])


@given(tensors(shape=(2, 3)))
def test_tensors_have_the_shape_dtype_and_flag_asked_for(x: Tensor) -> None:
    assert isinstance(x, Tensor)
    assert x.shape == (2, 3) and x.dtype == np.float64 and x.requires_grad and x.is_leaf


@given(tensors(shape=shapes(max_dims=2), dtype=np.float32, requires_grad=False))
def test_float32_tensors_without_grad(x: Tensor) -> None:
    assert x.dtype == np.float32 and not x.requires_grad and x.ndim <= 2


@given(tensors(elements=st.sampled_from([-7.0, 7.0])))
def test_your_own_elements(x: Tensor) -> None:
    assert np.all(np.abs(x._data) == 7.0)


@given(tensors(domain="real"))
def test_real_domain(x: Tensor) -> None:
    assert np.all(np.abs(x._data) <= 3)


@given(tensors(domain="positive"))
def test_positive_domain_suits_log_and_sqrt(x: Tensor) -> None:
    assert np.all(x._data >= 0.1) and np.all(x._data <= 3)


@given(tensors(domain="nonzero"))
def test_nonzero_domain_suits_denominators(x: Tensor) -> None:
    assert np.all(np.abs(x._data) >= 0.1)


@given(tensors(domain="unit_interval"))
def test_unit_interval_domain_holds_probabilities(x: Tensor) -> None:
    assert np.all((x._data > 0) & (x._data < 1))


@given(tensors(domain="away_from_kinks", shape=shapes(max_side=5)))
def test_away_from_kinks_keeps_a_gap_to_kinks_and_between_elements(x: Tensor) -> None:
    values = np.sort(x._data.reshape(-1))
    gap = 0.5 / 2 ** np.ceil(np.log2(max(1, values.size / 6)))  # the cell width for this many elements
    distance_to_kinks = np.abs(values - np.round(values * 2) / 2)    # to the nearest multiple of ½
    assert np.all(distance_to_kinks >= gap / 4 - 1e-12)
    assert np.all(np.diff(values) >= gap / 2 - 1e-12)               # no ties for max
    assert np.all(np.abs(values) <= 3)


def test_every_domain_is_documented() -> None:
    assert set(DOMAINS) == {"real", "positive", "nonzero", "unit_interval", "away_from_kinks"}
    assert all(domain.description for domain in DOMAINS.values())


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: tensors(domain="negative"), InputValueError,
         "unknown domain 'negative'; the domains are real"),
        (lambda: tensors(domain="real", elements=st.floats()), InputValueError, "not both"),
        (lambda: tensors(dtype=np.int64), InputTypeError, "dtype must be float64, float32 or float16"),
        (lambda: tensors(dtype="0@"), InputTypeError, "dtype must be float64, float32 or float16"),
        (lambda: tensors(shape="2x3"), InputTypeError, "shape must be a tuple"),
        (lambda: tensors(elements=[1.0]), InputTypeError, "elements must be a hypothesis strategy"),
        (lambda: tensors(requires_grad="no"), InputTypeError,
         "tensors: requires_grad must be True or False, got 'no'"),
        (lambda: shapes(min_dims=3, max_dims=1), InputValueError, "min_dims ≤ max_dims"),
        (lambda: broadcastable_shapes(n=0), InputValueError, "n must be a whole number ≥ 1"),
    ],
)
def test_bad_arguments_are_named(make: object, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        make()  # type: ignore[operator]


def test_the_package_and_gradcheck_work_without_hypothesis() -> None:
    # sys.modules[name] = None makes `import name` fail, as if hypothesis were not installed.
    script = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import tinygrad_course\n"
        "from tinygrad_course.testing import gradcheck\n"
        "assert gradcheck(lambda x: x.exp(), [0.5])\n"
        "try:\n"
        "    tinygrad_course.testing.tensors\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert 'needs hypothesis; install it with pip install "tinygrad_course[testing]"' in result.stdout
