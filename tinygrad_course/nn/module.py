"""``Module``: the base of every layer and model — its parameters and sub-modules, saving and
loading them, and the PyTorch equivalent it describes (``torch_layout.py`` does the work).

The layers and the course's models that build on it are in ``nn/__init__.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import _checks
from ..errors import (
    ArchitectureError,
    FileAccessError,
    InputTypeError,
    InputValueError,
    TinygradCourseError,
)
from ..tensor import ArrayLike, Tensor, as_array
from . import torch_layout
from .torch_layout import TorchLayer

#: The key under which ``Module.save`` stores the model's description next to its arrays.
ARCHITECTURE_KEY = "__architecture__"


class ModelNotFoundError(TinygradCourseError, FileNotFoundError):
    """``Module.load`` was given a path where no file exists."""


def _as_input(A: ArrayLike, call: str) -> Tensor:
    """An array given to a model as a tensor named ``X``, as in the course; ``call`` names it in errors.

    It shares the array's memory: a forward pass only reads X, and a copy of the cat data
    (12288 × 209) would cost as much as the first layer's matrix product.
    """
    return Tensor.from_numpy(as_array(A, what=call), name="X")


class Module:
    """A piece of a model: it holds parameters (tensors with ``requires_grad``) and sub-modules.

    Parameters and sub-modules are found by looking at the attributes, in the order they were
    set; a list of modules counts too. ``model(X)`` calls ``model.forward(X)``.
    """

    def forward(self, A: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define forward(A).")

    def __call__(self, A: ArrayLike) -> Tensor:
        return self.forward(A if isinstance(A, Tensor) else _as_input(A, f"{type(self).__name__}(X)"))

    # ------------------------------------------------------------------ parameters

    def children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules, with the attribute name (``"layers.0"`` for list entries)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        """``(name, tensor)`` for every parameter, this module's own first, then its children's."""
        for name, value in vars(self).items():
            if isinstance(value, Tensor) and value.requires_grad:
                yield name, value
        for prefix, child in self.children():
            for name, parameter in child.named_parameters():
                yield f"{prefix}.{name}", parameter

    def parameters(self) -> list[Tensor]:
        """The parameters, ready for an optimizer: ``SGD(model.parameters(), lr=0.005)``."""
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (leaves accumulate across ``backward()`` calls)."""
        for parameter in self.parameters():
            parameter.grad = None

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters as numpy arrays, by name (for an MLP: ``W1, b1, W2, ...``)."""
        return {name: parameter.data.copy() for name, parameter in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, ArrayLike]) -> Module:
        """Set every parameter from ``state`` (name → array); the names and shapes must match.

        Nothing is changed unless every array fits. Returns the module.
        """
        if not isinstance(state, Mapping):
            raise InputTypeError(f"load_state_dict() expects a dict name → array, got {type(state).__name__}")
        own = dict(self.named_parameters())
        given = {name: value for name, value in state.items() if name != ARCHITECTURE_KEY}
        for name in given:
            if not isinstance(name, str):
                raise InputTypeError(f"load_state_dict(): parameter names must be str such as 'W1', "
                                     f"got {name!r}.")
        problems = []
        missing, unexpected = sorted(own.keys() - given.keys()), sorted(given.keys() - own.keys())
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected {', '.join(unexpected)}")
        arrays = {}
        for name in own.keys() & given.keys():
            try:
                # A copy, so the caller's array never becomes a parameter that training changes.
                array = np.array(as_array(given[name], own[name].dtype, what=f"parameter {name}"))
            except (InputTypeError, InputValueError) as error:
                problems.append(str(error))
                continue
            if array.shape != own[name].shape:
                problems.append(f"{name} has shape {array.shape}, this model's is {own[name].shape}")
            elif not np.isfinite(array).all():
                problems.append(f"{name} contains NaN or inf")
            arrays[name] = array
        if problems:
            raise ArchitectureError(
                f"these parameters do not fit {self.describe()}: {'; '.join(sorted(problems))}."
            )
        for name, array in arrays.items():
            own[name].data = array
        return self

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the parameters to a ``.npz`` file (numpy arrays only, no pickle); returns its path.

        The file is written next to its destination and renamed into place, so an interrupted
        save never leaves a half-written model.
        """
        path = _checks.path(path, "save(path)")
        if path.is_dir():
            raise InputValueError(f"save({str(path)!r}): that is a folder; expected a file name such as "
                                  "model.npz.")
        arrays = {**self.state_dict(), ARCHITECTURE_KEY: np.array(self.describe())}
        try:
            with _checks.replacing(path) as file:
                np.savez(file, **arrays)
        except OSError as error:  # a file where a folder should be, no permission, ...
            raise FileAccessError(f"save({str(path)!r}): cannot write there: {error}") from None
        return path

    def load(self, path: str | os.PathLike[str]) -> Module:
        """Read parameters written by ``save`` into this model (which must have the same shape)."""
        path = _checks.path(path, "load(path)")
        state = _checks.read_npz(path, "load(path)", missing=ModelNotFoundError,
                                 expected="a model file written by Module.save() (an .npz archive of arrays)")
        saved_as = state.get(ARCHITECTURE_KEY)
        try:
            return self.load_state_dict(state)
        except ArchitectureError as error:
            origin = f" The file holds {saved_as}." if saved_as is not None else ""
            raise ArchitectureError(f"cannot load {str(path)!r}: {error}{origin}") from None

    # ------------------------------------------------------------------ PyTorch (nn/torch_layout.py)

    def torch_layer(self) -> TorchLayer | None:
        """This layer as one entry of a ``torch.nn.Sequential``; ``None`` where torch has no equivalent."""
        return None

    def torch_layers(self) -> list[TorchLayer]:
        """The layers of the equivalent ``torch.nn.Sequential``, in order."""
        layer = self.torch_layer()
        if layer is None:
            raise InputTypeError(f"{type(self).__name__} has no torch.nn.Sequential equivalent here; "
                                 "expected an MLP, a LogisticRegression, a Linear or a Sequential of Linear "
                                 "and activation layers.")
        return [layer]

    def torch_state_dict(self) -> dict[str, np.ndarray]:
        """The parameters under the keys of the equivalent ``torch.nn.Sequential``.

        ``0.weight`` is ``W1`` ``(n[1], n[0])``, ``0.bias`` is ``b1`` as ``(n[1],)``, ``2.weight`` is
        ``W2`` (position 1 is the activation), ...; numpy arrays, so torch is not needed.
        """
        return torch_layout.state_dict(self.torch_layers())

    def load_torch_state_dict(self, state: Mapping[str, Any]) -> Module:
        """Set the parameters from a PyTorch state dict (torch tensors or numpy arrays); returns self.

        Keys and shapes must be those of ``torch_state_dict()``; otherwise ``ArchitectureError``
        names the key, the shape found and the shape expected, and nothing is changed.
        """
        arrays = torch_layout.parameter_arrays(self.torch_layers(), state, self.describe())
        names = {id(parameter): name for name, parameter in self.named_parameters()}
        # Through load_state_dict: its checks (types, NaN) and its all-or-nothing update.
        return self.load_state_dict({names[id(parameter)]: array for parameter, array in arrays})

    def to_torch(self) -> Any:
        """The equivalent ``torch.nn.Sequential`` (needs torch), computing on one example per *row*.

        ``torch_model(torch.from_numpy(X.T))`` equals ``module(X).data.T``.
        """
        return torch_layout.to_torch(self.torch_layers())

    # ------------------------------------------------------------------ display

    def describe(self) -> str:
        """One line: the class and its sizes, e.g. ``MLP(layer_dims=[2, 4, 1], ...)``."""
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"  ({name}): {child!r}".replace("\n", "\n  ") for name, child in self.children()]
        if not lines:
            return self.describe()
        return "\n".join([f"{self.describe()}(", *lines, ")"])
