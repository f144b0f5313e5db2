"""Numbers as a learner reads them: 4 significant digits, a real minus sign, shapes as (4, 400)."""

from __future__ import annotations

import html

import numpy as np

# --------------------------------------------------------------------------- numbers as text


def number(x: float) -> str:
    """4 significant digits, with a real minus sign; -0 shows as 0."""
    if x == 0:
        return "0"
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.4g}".replace("-", "−")


def row_text(values: np.ndarray) -> str:
    return "[" + ", ".join(number(float(v)) for v in values) + "]"


def value_lines(array: np.ndarray) -> list[str]:
    """A scalar to 4 digits, up to 6 elements in full, a larger array as its first entries and its
    norm: a learner can check those against their own numbers (a mean of order 1e−10 says nothing)."""
    array = np.asarray(array, dtype=np.float64)
    if array.size == 1:
        return [number(float(array.reshape(())))]
    if array.size == 0:
        return ["(empty)"]
    if array.size > 6:
        return [row_text(array.reshape(-1)[:3])[:-1] + ", …]", f"norm {number(float(np.linalg.norm(array)))}"]
    if array.ndim == 2 and array.shape[1] == 1:
        return [row_text(array[:, 0]) + "ᵀ"]      # a column such as b[l] on one line
    if array.ndim == 2:
        return [row_text(r) for r in array]
    return [row_text(array.reshape(-1))]


def inline(array: np.ndarray) -> str:
    return ", ".join(value_lines(array))


def shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def esc(text: str) -> str:
    """Text for an HTML-like DOT label: a name such as <b>&"x"</b> shows literally."""
    return html.escape(text, quote=True)
