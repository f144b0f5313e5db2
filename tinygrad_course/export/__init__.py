"""The way out: a model or a recorded computation leaves this engine, exactly, and comes back.

- ``to_onnx``: a model or a function of tensors as an ONNX file (opset ``OPSET``), which ONNX
  Runtime and the serving engines run; needs the ``[onnx]`` extra.
- ``torch_state_dict``, ``load_torch_state_dict``, ``to_torch``: PyTorch's names and layouts,
  and the equivalent ``torch.nn.Sequential`` (``Module`` has the same three as methods).
- ``save_safetensors``, ``load_safetensors``: a weights file that loading can never run code from.
- ``write``: a model to the file its suffix names (``format_of``); ``load_model``: a model
  saved by ``Module.save``, rebuilt from its file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InputValueError
from ..nn import Module
from .onnx import OPSET, ExportError, to_onnx
from .torch import load_torch_state_dict, to_torch, torch_state_dict
from .weights import load_model, load_safetensors, save_safetensors

#: What ``write`` (and ``python -m tinygrad_course export``) can write, by file suffix.
FORMATS = {".onnx": "an ONNX model, for ONNX Runtime and the serving engines",
           ".safetensors": "the weights as safetensors, under PyTorch's keys"}


def format_of(path: str | os.PathLike[str]) -> str:
    """The suffix of ``path`` if ``write`` knows it (a key of ``FORMATS``), else an error listing them."""
    suffix = Path(os.fspath(path)).suffix.lower() if isinstance(path, (str, os.PathLike)) else None
    if suffix not in FORMATS:
        known = " or ".join(f"{key} ({value})" for key, value in FORMATS.items())
        raise InputValueError(f"cannot tell the format of {str(path)!r} from its suffix; expected {known}.")
    return suffix


def write(model: Module, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` in the format its suffix names (see ``FORMATS``); returns the path.

    An ONNX file takes ``X`` of shape ``(n_x, m)`` for any ``m`` and gives the logits ``Z[L]``.
    """
    if format_of(path) == ".safetensors":
        return save_safetensors(model, path)
    n_x = model.parameters()[0].shape[1]  # W1 is (n[1], n_x)
    return to_onnx(model, np.zeros((n_x, 1)), path)


__all__ = ["FORMATS", "OPSET", "ExportError", "format_of", "load_model", "load_safetensors",
           "load_torch_state_dict", "save_safetensors", "to_onnx", "to_torch", "torch_state_dict", "write"]
