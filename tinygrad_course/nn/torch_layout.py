"""PyTorch's names and layouts for the course's layers, and the equivalent ``torch.nn.Sequential``.

The course's network ``[LINEAR → g] × (L−1) → LINEAR`` is ``torch.nn.Sequential(Linear, ReLU or
Tanh, ..., Linear)`` in PyTorch, whose state dict names the parameters by layer position:
``0.weight, 0.bias, 2.weight, ...``. The course's ``W[l]`` of shape ``(n[l], n[l-1])`` *is*
``Linear.weight`` (both compute ``W @ A`` on one example per column / ``x @ Wᵀ`` per row); the
bias ``b[l]`` of shape ``(n[l], 1)`` is ``Linear.bias`` of shape ``(n[l],)``.

Every layer describes itself as a ``TorchLayer`` (``Module.torch_layer``), so this file works
from those descriptions and never imports the layers: ``nn`` imports it, nothing points back.
Torch itself is needed only by ``to_torch``; the state dicts are numpy arrays and load torch
tensors without importing torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ArchitectureError, InputTypeError, MissingDependencyError
from ..tensor import Tensor


@dataclass(frozen=True)
class TorchLayer:
    """One entry of a ``torch.nn.Sequential``: the ``torch.nn`` class, its arguments, its parameters.

    ``parameters`` maps torch's name to the course's tensor and the shape torch keeps it in:
    ``Linear(n_in, n_out)`` is ``TorchLayer("Linear", (n_in, n_out), {"weight": (W, (n_out, n_in)),
    "bias": (b, (n_out,))})``, ``ReLU`` is ``TorchLayer("ReLU")``.
    """

    kind: str
    arguments: tuple[float, ...] = ()
    parameters: Mapping[str, tuple[Tensor, tuple[int, ...]]] = field(default_factory=dict)


def _entries(layers: Sequence[TorchLayer]) -> dict[str, tuple[Tensor, tuple[int, ...]]]:
    """Torch's key (``"<position>.<name>"``) → the course's tensor and torch's shape for it."""
    return {f"{position}.{name}": entry for position, layer in enumerate(layers)
            for name, entry in layer.parameters.items()}


def state_dict(layers: Sequence[TorchLayer]) -> dict[str, np.ndarray]:
    """Copies of the parameters under torch's keys, in torch's shapes."""
    return {key: tensor.data.reshape(shape).copy() for key, (tensor, shape) in _entries(layers).items()}


def _as_numpy(value: Any) -> Any:
    """A torch tensor's numbers (on the CPU, without its graph); anything else as it is."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def parameter_arrays(layers: Sequence[TorchLayer], state: Mapping[str, Any],
                     model: str) -> list[tuple[Tensor, np.ndarray]]:
    """Each parameter with its array from the torch state dict ``state``, in the course's shape.

    The keys must be exactly those of ``state_dict(layers)`` and every shape must match;
    otherwise ``ArchitectureError`` names the key, the shape found and the shape expected
    (``model`` is the description of whose layers these are).
    """
    if not isinstance(state, Mapping):
        raise InputTypeError(f"load_torch_state_dict() expects a dict key → tensor such as torch's "
                             f"model.state_dict(), got {type(state).__name__}.")
    entries = _entries(layers)
    problems = []
    missing = [key for key in entries if key not in state]
    unexpected = [str(key) for key in state if key not in entries]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected {', '.join(sorted(unexpected))}")
    arrays = {key: np.asarray(_as_numpy(state[key])) for key in entries if key in state}
    for key, array in arrays.items():
        if array.shape != entries[key][1]:
            problems.append(f"{key} has shape {array.shape}, expected {entries[key][1]}")
    if problems:
        layout = ", ".join(f"{key} {shape}" for key, (_, shape) in entries.items())
        raise ArchitectureError(f"this state dict does not fit {model} (whose torch layout is {layout}): "
                                f"{'; '.join(problems)}.")
    return [(tensor, arrays[key].reshape(tensor.shape)) for key, (tensor, _) in entries.items()]


def import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(
            "to_torch() needs PyTorch, which tinygrad_course never installs: see https://pytorch.org "
            "for the command that fits your machine (e.g. pip install torch)."
        ) from None
    return torch


def to_torch(layers: Sequence[TorchLayer]) -> Any:
    """The ``torch.nn.Sequential`` of ``layers``, holding copies of the parameters in their dtype."""
    torch = import_torch()
    modules = []
    for layer in layers:
        module = getattr(torch.nn, layer.kind)(*layer.arguments)
        if layer.parameters:  # torch's layers start as float32: take the parameters' dtype
            tensor, _ = next(iter(layer.parameters.values()))
            module = module.to(getattr(torch, tensor.dtype.name))
        modules.append(module)
    model = torch.nn.Sequential(*modules)
    model.load_state_dict({key: torch.from_numpy(value) for key, value in state_dict(layers).items()})
    return model
