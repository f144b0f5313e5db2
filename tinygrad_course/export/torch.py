"""PyTorch's names and layouts for the course's models, and the equivalent ``torch.nn.Sequential``.

The course's network ``[LINEAR → g] × (L−1) → LINEAR`` is ``torch.nn.Sequential(Linear, ReLU or
Tanh, ..., Linear)`` in PyTorch, whose state dict names the parameters by layer position:
``0.weight, 0.bias, 2.weight, ...``. The course's ``W[l]`` of shape ``(n[l], n[l-1])`` *is*
``Linear.weight`` (both compute ``W @ A`` on one example per column / ``x @ Wᵀ`` per row); the
bias ``b[l]`` of shape ``(n[l], 1)`` is ``Linear.bias`` of shape ``(n[l],)``. Torch itself is
needed only by ``to_torch``; the state dicts are numpy arrays and load torch tensors without
importing torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InputTypeError
from ..nn import (
    ArchitectureError,
    LeakyReLU,
    Linear,
    LogisticRegression,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from ..plots import MissingDependencyError

#: The torch.nn class of each course activation (LeakyReLU also takes its slope).
_ACTIVATIONS: dict[type[Module], str] = {ReLU: "ReLU", Tanh: "Tanh", Sigmoid: "Sigmoid",
                                         LeakyReLU: "LeakyReLU"}


def _layers(module: Module) -> list[Module]:
    """The layers of the equivalent ``torch.nn.Sequential``, in order."""
    if isinstance(module, LogisticRegression):
        return [module.linear]
    if isinstance(module, Sequential):
        for i, layer in enumerate(module.layers):
            if not isinstance(layer, (Linear, *_ACTIVATIONS)):
                expected = ", ".join(kind.__name__ for kind in (Linear, *_ACTIVATIONS))
                raise InputTypeError(f"{module.describe()}: layer {i} is a {type(layer).__name__}, which has "
                                     f"no torch equivalent here; expected {expected}.")
        return list(module.layers)
    if isinstance(module, Linear):
        return [module]
    raise InputTypeError(f"{type(module).__name__} has no torch.nn.Sequential equivalent here; expected "
                         "an MLP, a LogisticRegression, a Linear or a Sequential of Linear and activation "
                         "layers.")


def torch_state_dict(module: Module) -> dict[str, np.ndarray]:
    """Copies of the parameters under PyTorch's keys and layouts.

    ``{"0.weight": W1, "0.bias": b1 as (n[1],), "2.weight": W2, ...}``: position 1 is the activation.
    """
    state = {}
    for i, layer in enumerate(_layers(module)):
        if isinstance(layer, Linear):
            state[f"{i}.weight"] = layer.W.data.copy()
            state[f"{i}.bias"] = layer.b.data.reshape(-1).copy()
    return state


def _as_numpy(key: str, value: Any) -> Any:
    """A torch tensor's numbers (on the CPU, without its graph); anything else as it is."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def load_torch_state_dict(module: Module, state: Mapping[str, Any]) -> Module:
    """Set the parameters from a PyTorch state dict (torch tensors or numpy arrays); returns the module.

    The keys must be exactly those of ``torch_state_dict(module)`` and every shape must match;
    otherwise ``ArchitectureError`` names the key, the shape found and the shape expected, and
    nothing is changed.
    """
    if not isinstance(state, Mapping):
        raise InputTypeError(f"load_torch_state_dict() expects a dict key → tensor such as torch's "
                             f"model.state_dict(), got {type(state).__name__}.")
    expected = torch_state_dict(module)
    problems = []
    missing = [key for key in expected if key not in state]
    unexpected = [str(key) for key in state if key not in expected]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected {', '.join(sorted(unexpected))}")
    arrays = {key: np.asarray(_as_numpy(key, state[key])) for key in expected if key in state}
    for key, array in arrays.items():
        if array.shape != expected[key].shape:
            problems.append(f"{key} has shape {array.shape}, expected {expected[key].shape}")
    if problems:
        raise ArchitectureError(f"this state dict does not fit {module.describe()} (whose torch layout is "
                                f"{_layout(expected)}): {'; '.join(problems)}.")
    course = {}
    names = dict(module.named_parameters())
    by_tensor = {id(t): name for name, t in names.items()}
    for i, layer in enumerate(_layers(module)):
        if isinstance(layer, Linear):
            course[by_tensor[id(layer.W)]] = arrays[f"{i}.weight"]
            course[by_tensor[id(layer.b)]] = arrays[f"{i}.bias"].reshape(-1, 1)
    module.load_state_dict(course)  # its checks (types, NaN) and its all-or-nothing update
    return module


def _layout(state: Mapping[str, np.ndarray]) -> str:
    return ", ".join(f"{key} {value.shape}" for key, value in state.items())


def import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(
            "to_torch() needs PyTorch, which tinygrad_course never installs: see https://pytorch.org "
            "for the command that fits your machine (e.g. pip install torch)."
        ) from None
    return torch


def to_torch(module: Module) -> Any:
    """The equivalent ``torch.nn.Sequential``, holding copies of the parameters in their dtype.

    It computes on one example per *row*: ``torch_model(torch.from_numpy(X.T))`` equals
    ``module(X).data.T``.
    """
    torch = import_torch()
    layers = []
    for layer in _layers(module):
        if isinstance(layer, Linear):
            layers.append(torch.nn.Linear(layer.n_in, layer.n_out, dtype=getattr(torch, layer.W.dtype.name)))
        elif isinstance(layer, LeakyReLU):
            layers.append(torch.nn.LeakyReLU(layer.slope))
        else:
            name = next(name for kind, name in _ACTIVATIONS.items() if isinstance(layer, kind))
            layers.append(getattr(torch.nn, name)())
    model = torch.nn.Sequential(*layers)
    model.load_state_dict({key: torch.from_numpy(value) for key, value in torch_state_dict(module).items()})
    return model
