"""How the course draws its first weights: ``W[l]`` of shape ``(n[l], n[l-1])``, by name."""

from __future__ import annotations

from typing import Literal, cast

import numpy as np

from ..errors import InputValueError

Init = Literal["zeros", "small", "scaled", "he", "xavier"]
INITS: tuple[str, ...] = ("zeros", "small", "scaled", "he", "xavier")


def checked_init(init: object) -> Init:
    """``init`` if it names one of ``INITS``, else an error listing them."""
    if not isinstance(init, str) or init not in INITS:
        raise InputValueError(f"init must be one of {', '.join(map(repr, INITS))}, got {init!r}.")
    return cast(Init, init)


def initial_weights(n_out: int, n_in: int, init: Init, rng: np.random.RandomState) -> np.ndarray:
    """``W`` of shape ``(n_out, n_in)`` drawn as the course draws it.

    ``"small"``: randn · 0.01 (the shallow networks); ``"scaled"``: randn / √n_in (the deep
    network); ``"he"``: randn · √(2 / n_in) (for ReLU); ``"xavier"``: randn · √(2 / (n_in + n_out))
    (Glorot's normal); ``"zeros"``: all zero (logistic regression only: hidden units that start
    equal stay equal). ``rng`` is numpy's legacy generator, so ``RandomState(s)`` draws exactly
    what ``np.random.seed(s); np.random.randn(...)`` draws in the course's notebooks.
    """
    init = checked_init(init)
    try:
        W = np.zeros((n_out, n_in)) if init == "zeros" else rng.randn(n_out, n_in)
    except (ValueError, MemoryError):  # numpy's "array is too big", or no memory for it
        raise InputValueError(f"a weight matrix of shape ({n_out}, {n_in}) does not fit in memory; "
                              "expected layer sizes a computer can hold.") from None
    if init == "zeros":
        return W
    if init == "scaled":
        return W / np.sqrt(n_in)  # divided, as the course writes it: bit for bit its numbers
    return W * {"small": 0.01, "he": np.sqrt(2 / n_in), "xavier": np.sqrt(2 / (n_in + n_out))}[init]
