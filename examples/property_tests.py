"""Property tests for functions you wrote, with tinygrad_course.testing.

Each test says: for *every* input hypothesis can think of (random shapes, values, broadcastable
pairs), backpropagation agrees with float64 finite differences. When one fails, hypothesis
shrinks the input to the smallest failing one and prints it.

Run them with pytest (the usual way; ``conftest.py`` beside this file loads the settings profile)::

    python -m pytest examples/property_tests.py

or as a script, which runs each property and prints what it checked::

    python examples/property_tests.py
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_course import Tensor
from tinygrad_course.autograd import Op
from tinygrad_course.testing import (
    ComputationGraph,
    broadcastable_shapes,
    computation_graphs,
    gradcheck,
    gradgradcheck,
    load_profile,
    tensors,
)

if __name__ == "__main__":
    # Run as a script there is no conftest.py: load the profile before @given reads the settings.
    print(f"hypothesis profile: {load_profile()}")   # "dev"; TINYGRAD_COURSE_PROFILE=ci for the deeper one

# --------------------------------------------------------------------------- 1. a function you wrote


def swish(z: Tensor) -> Tensor:
    """swish(z) = z·σ(z), an activation built from the library's primitives."""
    return z * z.sigmoid()


@given(tensors())  # any shape up to 4 axes, values in [−3, 3]
def test_swish(z: Tensor) -> None:
    assert gradcheck(swish, z)       # dJ/dz from backward = the central difference
    assert gradgradcheck(swish, z)   # and so do the second derivatives


# --------------------------------------------------------------------------- 2. broadcasting and a domain


def relative_change(new: Tensor, old: Tensor) -> Tensor:
    """(new − old) / old: ``old`` must stay away from 0, so draw it from the "positive" domain."""
    return (new - old) / old


@given(broadcastable_shapes(n=2).flatmap(
    lambda pair: st.tuples(tensors(pair[0]), tensors(pair[1], domain="positive"))))
def test_relative_change(pair: tuple[Tensor, Tensor]) -> None:
    new, old = pair
    assert gradcheck(relative_change, new, old)   # the broadcast input's gradient is summed back


# ------------------------------------------------------------------- 3. the course's layer, Z = W @ A + b


@given(st.data())
def test_linear_layer(data: st.DataObject) -> None:
    n, n_prev, m = (data.draw(st.integers(1, 4), label=label) for label in ("n[l]", "n[l-1]", "m"))
    W = data.draw(tensors((n, n_prev)), label="W")
    b = data.draw(tensors((n, 1)), label="b")
    A = data.draw(tensors((n_prev, m)), label="A_prev")
    assert gradcheck(lambda w, bias, a: (w @ a + bias).tanh(), W, b, A)


# --------------------------------------------------------------------------- 4. an op of your own


# softsign(a) = a / (1 + |a|), with its derivative 1 / (1 + |a|)² as the backward rule.
softsign = Op("softsign", "softsign", lambda a: a / (1 + np.abs(a)),
              lambda g, out, a: g / (1 + abs(a)) ** 2)


@given(computation_graphs(ops=["add", "mul", "exp", "sum", softsign]))
def test_softsign_inside_random_graphs(graph: ComputationGraph) -> None:
    assert gradcheck(graph, *graph.inputs)   # a failing graph prints as code, e.g. softsign(x0 * x1)


if __name__ == "__main__":
    for test in (test_swish, test_relative_change, test_linear_layer, test_softsign_inside_random_graphs):
        test()
        print(f"{test.__name__}: passed")
