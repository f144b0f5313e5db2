"""Property-based gradient testing: the tools this library's own test suite is built with.

* ``gradcheck(fn, *inputs)`` and ``gradgradcheck(fn, *inputs, order=2)``: backpropagation
  against float64 central differences, with a ``GradcheckError`` that names the input, the
  worst elements and the tolerances.
* hypothesis strategies: ``shapes``, ``broadcastable_shapes``, ``tensors`` (with named value
  ``DOMAINS`` such as ``"positive"`` for log and sqrt) and ``computation_graphs`` (random
  expression DAGs drawn from the op table, printed as readable code).
* ``check_backward(cost, parameters, gradients)``: the gradients of your own hand-written
  backward (``dW1``, ``db1``, ...) against autograd's, from your numpy forward run on Tensors.
* ``load_profile()``: the "dev" and "ci" hypothesis settings profiles.

A property test of your own function, in a few lines::

    from hypothesis import given
    from tinygrad_course.testing import gradcheck, tensors

    @given(tensors(domain="positive"))
    def test_my_function(x):
        assert gradcheck(lambda t: (t.sqrt() * t).log(), x)

The checks need only numpy; the strategies and profiles need hypothesis
(``pip install "tinygrad_course[testing]"``), which is imported the first time one of them is
used, so ``import tinygrad_course`` works without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .backward_check import BackwardCheckError, check_backward
from .checks import GradcheckError, gradcheck, gradgradcheck

if TYPE_CHECKING:
    from .graphs import ComputationGraph, computation_graphs
    from .profiles import PROFILE_VARIABLE, load_profile, register_profiles
    from .strategies import DOMAINS, broadcastable_shapes, shapes, tensors

# Names that need hypothesis, and the submodule that defines each.
_NEED_HYPOTHESIS = {
    "DOMAINS": "strategies",
    "broadcastable_shapes": "strategies",
    "shapes": "strategies",
    "tensors": "strategies",
    "ComputationGraph": "graphs",
    "computation_graphs": "graphs",
    "PROFILE_VARIABLE": "profiles",
    "load_profile": "profiles",
    "register_profiles": "profiles",
}


def __getattr__(name: str) -> Any:
    if name not in _NEED_HYPOTHESIS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(f"{__name__}.{_NEED_HYPOTHESIS[name]}")
    except ModuleNotFoundError as error:
        if error.name != "hypothesis":
            raise
        raise ImportError(
            f"tinygrad_course.testing.{name} needs hypothesis; install it with "
            "pip install \"tinygrad_course[testing]\" (or pip install hypothesis)."
        ) from error
    return getattr(module, name)


__all__ = [
    "DOMAINS",
    "PROFILE_VARIABLE",
    "BackwardCheckError",
    "ComputationGraph",
    "GradcheckError",
    "broadcastable_shapes",
    "check_backward",
    "computation_graphs",
    "gradcheck",
    "gradgradcheck",
    "load_profile",
    "register_profiles",
    "shapes",
    "tensors",
]
