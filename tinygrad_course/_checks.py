"""Argument checks shared by the modules, for the cold paths (constructors, settings, files).

Each returns the argument in its plain form or raises the library's error naming the argument,
what it got and what it expects. None of them runs inside an op.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .errors import InputTypeError, InputValueError

#: numpy's legacy ``RandomState(seed)`` (the course's ``np.random.seed``) takes seeds up to this.
MAX_SEED = 2**32 - 1


def flag(value: object, what: str) -> bool:
    """``True`` or ``False`` (numpy's ``bool_`` too); ``"no"`` or ``[1, 0]`` would be silently truthy."""
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise InputTypeError(f"{what} must be True or False, got {value!r:.60}.")


def real(value: object, what: str, minimum: float | None = None) -> float:
    """A finite real number (not a bool), at least ``minimum`` when given."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{what} must be a real number, got {value!r:.60}.")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float64, e.g. 10**400
        number = math.inf
    if not math.isfinite(number):
        raise InputValueError(f"{what} must be a finite number, got {value!r:.60}.")
    if minimum is not None and number < minimum:
        raise InputValueError(f"{what} must be at least {minimum:g}, got {value!r:.60}.")
    return number


def seed(value: object, what: str = "seed", maximum: int = MAX_SEED) -> int | None:
    """``None`` or an integer in [0, maximum]: what numpy's generators accept as a seed."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InputTypeError(f"{what} must be an integer or None, got {value!r:.60}.")
    if not 0 <= value <= maximum:
        raise InputValueError(f"{what} must lie between 0 and {maximum}, got {value!r}.")
    return int(value)


def path(value: object, what: str) -> Path:
    """A file system path given as ``str`` or ``pathlib.Path`` (any ``os.PathLike`` of str)."""
    if isinstance(value, str) and value:
        return Path(value)
    if isinstance(value, os.PathLike):
        spelled = os.fspath(value)
        if isinstance(spelled, str) and spelled:
            return Path(spelled)
    raise InputTypeError(f"{what} must be a file path (a non-empty str or pathlib.Path), got {value!r:.60}.")
