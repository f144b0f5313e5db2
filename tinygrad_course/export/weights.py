"""Weight files: the safe ``.safetensors`` exchange format, and a saved ``.npz`` model rebuilt from its file.

A ``.safetensors`` file is a JSON header and the raw numbers, nothing else: reading it never
unpickles, so it runs no code. It holds the parameters under PyTorch's keys and layouts
(``0.weight``, ``0.bias``, ... as ``torch_state_dict`` gives them), so
``torch_model.load_state_dict(safetensors.torch.load_file(path))`` reads it as it is, and the
model's description is kept in the header's metadata. Written with safetensors' numpy API: no
torch needed.
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from .. import _checks
from ..errors import FileAccessError, InputValueError
from ..nn import ARCHITECTURE_KEY, MLP, ArchitectureError, LogisticRegression, ModelNotFoundError, Module
from ..plots import MissingDependencyError
from .torch import load_torch_state_dict, torch_state_dict

#: The metadata key under which the model's description is stored, as in ``Module.save``'s ``.npz``.
ARCHITECTURE_METADATA = "architecture"


def _import_safetensors() -> Any:
    try:
        import safetensors.numpy
    except ImportError:
        raise MissingDependencyError('safetensors files need the safetensors package: '
                                     'pip install "tinygrad_course[onnx]".') from None
    return safetensors


def save_safetensors(module: Module, path: str | os.PathLike[str]) -> Path:
    """Write the parameters, under PyTorch's keys, to a ``.safetensors`` file; returns its path.

    Written next to its destination and renamed into place, as ``Module.save`` does.
    """
    safetensors = _import_safetensors()
    target = _checks.output_file(path, "save_safetensors(path)", "a file name such as model.safetensors")
    state = torch_state_dict(module)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        safetensors.numpy.save_file(state, temporary, metadata={ARCHITECTURE_METADATA: module.describe()})
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    return target


def load_safetensors(module: Module, path: str | os.PathLike[str]) -> Module:
    """Read a file written by ``save_safetensors`` (or by torch, for the equivalent Sequential)."""
    safetensors = _import_safetensors()
    file = _checks.path(path, "load_safetensors(path)")
    if not file.exists():
        raise ModelNotFoundError(f"load_safetensors: {str(file)!r}: no such file.")
    if file.is_dir():
        raise FileAccessError(f"load_safetensors: {str(file)!r} is a folder; expected a .safetensors file.")
    try:
        state = safetensors.numpy.load_file(str(file))
    except OSError as error:
        raise FileAccessError(f"load_safetensors: {str(file)!r} cannot be read: {error}") from None
    except Exception as error:  # safetensors raises its own SafetensorError for a damaged header
        raise InputValueError(f"load_safetensors: {str(file)!r} is not a safetensors file "
                              f"({error}).") from None
    try:
        return load_torch_state_dict(module, state)
    except ArchitectureError as error:
        raise ArchitectureError(f"cannot load {str(file)!r}: {error}") from None


def load_model(path: str | os.PathLike[str]) -> Module:
    """The model saved by ``Module.save`` at ``path``, rebuilt from the description stored with it.

    An ``MLP`` or a ``LogisticRegression`` (what ``train --save`` writes); another module must be
    built in Python first and then ``.load(path)``-ed.
    """
    file = _checks.path(path, "MODEL.npz")
    state = _checks.read_npz(file, "MODEL.npz", missing=ModelNotFoundError,
                             expected="a model file written by Module.save() or train --save")
    description = str(state.pop(ARCHITECTURE_KEY, ""))
    mlp = re.fullmatch(r"MLP\(layer_dims=\[[\d, ]+\], hidden_activation=('relu'|'tanh'), .*\)", description)
    if mlp:
        return MLP.from_parameters(state, hidden_activation=ast.literal_eval(mlp[1]))
    logistic = re.fullmatch(r"LogisticRegression\(n_x=(\d+)\)", description)
    if logistic:
        return LogisticRegression(int(logistic[1])).load_state_dict(state)
    raise ArchitectureError(f"{str(file)!r} holds {description or 'no model description'}; the export "
                            "command rebuilds MLP and LogisticRegression models. Build the model in Python, "
                            "model.load(path), then call tinygrad_course.export.to_onnx(model, X, out).")
