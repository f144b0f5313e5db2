"""What the op-table properties and the numpy-name properties share: operands for ``maximum`` /
``minimum`` that never tie (where the derivative has a kink), and the float32 check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from tinygrad_course import Tensor
from tinygrad_course.testing import broadcastable_shapes, tensors


@st.composite
def untied_pairs(draw: Any, max_dims: int, max_side: int) -> tuple[Tensor, Tensor]:
    """Two broadcastable tensors that require grad, their values drawn as one set, so they never tie."""
    shape_a, shape_b = draw(broadcastable_shapes(2, max_dims=max_dims, max_side=max_side))
    size_a = int(np.prod(shape_a))
    both = draw(tensors((size_a + int(np.prod(shape_b)),), domain="away_from_kinks"))._data
    return (Tensor(both[:size_a].reshape(shape_a), requires_grad=True),
            Tensor(both[size_a:].reshape(shape_b), requires_grad=True))


def assert_float32_in_float32_out(fn: Callable[..., Tensor], inputs: Sequence[Tensor]) -> None:
    """``fn`` on float32 copies of ``inputs``: a float32 result near the float64 one, float32 gradients."""
    singles = [Tensor(x.data, requires_grad=True, dtype=np.float32) for x in inputs]
    out = fn(*singles)  # constants (ndarrays, numbers) are lifted to float32 too
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, fn(*inputs).data, rtol=1e-4, atol=1e-5)
    out.backward(gradient=np.ones(out.shape))
    for x in singles:
        assert x.grad.dtype == np.float32 and x.grad.shape == x.shape
