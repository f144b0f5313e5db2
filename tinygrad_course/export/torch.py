"""PyTorch's names and layouts for any model, as functions: ``torch_state_dict(model)``, ...

They are ``Module``'s methods of the same names: the layout (``0.weight, 0.bias, 2.weight, ...``,
``W[l]`` as ``Linear.weight``, ``b[l]`` of shape ``(n[l], 1)`` as ``Linear.bias`` of shape
``(n[l],)``) is the layers' own knowledge and lives beside them in ``nn/torch_layout.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InputTypeError
from ..nn import Module


def _module(module: object) -> Module:
    if not isinstance(module, Module):
        raise InputTypeError(f"expected a model (a tinygrad_course.nn Module such as an MLP), got "
                             f"{type(module).__name__}.")
    return module


def torch_state_dict(module: Module) -> dict[str, np.ndarray]:
    """Copies of the parameters under PyTorch's keys and layouts (``Module.torch_state_dict``)."""
    return _module(module).torch_state_dict()


def load_torch_state_dict(module: Module, state: Mapping[str, Any]) -> Module:
    """Set the parameters from a PyTorch state dict; returns the module (``Module.load_torch_state_dict``)."""
    return _module(module).load_torch_state_dict(state)


def to_torch(module: Module) -> Any:
    """The equivalent ``torch.nn.Sequential`` (``Module.to_torch``), needs torch."""
    return _module(module).to_torch()
