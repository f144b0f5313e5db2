"""The strategy that the property tests of ``maximum`` / ``minimum`` and of ``np.maximum`` /
``np.minimum`` share: two operands that never tie, where the derivative has a kink."""

from __future__ import annotations

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
