"""The course's pictures as PNG files: the cost curve, decision boundaries, misclassified images.

Needs matplotlib, the optional extra ``plot``: ``pip install "tinygrad_course[plot]"``. Figures
are drawn on the Agg canvas directly (no pyplot, no window, no global backend change), so they
work the same on a server, in a test and beside a notebook. Every function returns the
``matplotlib.figure.Figure`` and, given a ``path``, also writes it there.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import TinygradCourseError
from .nn import BinaryClassifier
from .train import History, check_data, predict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PathLike = str | os.PathLike[str]


class MissingDependencyError(TinygradCourseError, ImportError):
    """An optional dependency (matplotlib for the plots) is not installed."""


def _figure(**kwargs: Any) -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(
            "the plots need matplotlib, which is not installed: pip install \"tinygrad_course[plot]\" "
            "(from a clone: pip install -e \".[plot]\"), or pip install matplotlib."
        ) from None
    figure = Figure(**kwargs)
    FigureCanvasAgg(figure)
    return figure


def _finish(figure: Figure, path: PathLike | None) -> Figure:
    figure.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png", dpi=100)
    return figure


def plot_costs(history: History | Sequence[History], path: PathLike | None = None,
               labels: Sequence[str] | None = None, title: str = "Cost during training") -> Figure:
    """The cost ``J`` against the iteration, one line per history (the course's learning curve)."""
    histories = [history] if isinstance(history, History) else list(history)
    labels = list(labels) if labels is not None else [""] * len(histories)
    figure = _figure(figsize=(6, 4))
    ax = figure.add_subplot()
    for h, label in zip(histories, labels, strict=True):
        ax.plot(h.iterations, h.costs, marker=".", label=label or None)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J")
    ax.set_title(title)
    if any(labels):
        ax.legend()
    return _finish(figure, path)


def _grid(X: np.ndarray, steps: int = 300) -> tuple[np.ndarray, np.ndarray]:
    margin = 1.0
    x_min, x_max = X[0].min() - margin, X[0].max() + margin
    y_min, y_max = X[1].min() - margin, X[1].max() + margin
    return np.meshgrid(np.linspace(x_min, x_max, steps), np.linspace(y_min, y_max, steps))


def plot_decision_boundaries(models: Sequence[tuple[str, BinaryClassifier]], X: np.ndarray, Y: np.ndarray,
                             path: PathLike | None = None, columns: int = 3) -> Figure:
    """One panel per ``(title, model)``: the predicted class over the plane and the points ``X (2, m)``."""
    x, y = check_data(X, Y, n_x=2)
    if not models:
        raise TinygradCourseError("plot_decision_boundaries needs at least one (title, model) pair.")
    columns = min(columns, len(models))
    rows = -(-len(models) // columns)
    figure = _figure(figsize=(4.5 * columns, 4 * rows))
    xx, yy = _grid(x)
    plane = np.c_[xx.ravel(), yy.ravel()].T
    for k, (title, model) in enumerate(models):
        ax = figure.add_subplot(rows, columns, k + 1)
        zz = predict(model, plane).reshape(xx.shape)
        ax.contourf(xx, yy, zz, levels=[-0.5, 0.5, 1.5], colors=["#f4b6b6", "#b6cdf4"])
        ax.scatter(x[0], x[1], c=y[0], cmap="bwr_r", vmin=0, vmax=1, s=12, edgecolors="k", linewidths=0.3)
        ax.set_title(title)
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
    return _finish(figure, path)


def plot_decision_boundary(model: BinaryClassifier, X: np.ndarray, Y: np.ndarray,
                           path: PathLike | None = None, title: str = "Decision boundary") -> Figure:
    """The predicted class over the plane, with the points of ``X (2, m)`` coloured by ``Y``."""
    return plot_decision_boundaries([(title, model)], X, Y, path)


def plot_misclassified(model: BinaryClassifier, X: np.ndarray, Y: np.ndarray, classes: Sequence[str],
                       path: PathLike | None = None, image_shape: tuple[int, int, int] = (64, 64, 3),
                       limit: int = 20) -> Figure:
    """The images (columns of ``X``) the model gets wrong, titled with prediction and true class."""
    x, y = check_data(X, Y, n_x=int(np.prod(image_shape)))
    predicted = predict(model, x)[0]
    wrong = np.flatnonzero(predicted != y[0])[:limit]
    columns = max(1, min(5, len(wrong)))
    rows = max(1, -(-len(wrong) // columns))
    figure = _figure(figsize=(2.4 * columns, 2.9 * rows))
    if len(wrong) == 0:
        ax = figure.add_subplot()
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        ax.axis("off")
    for k, i in enumerate(wrong):
        ax = figure.add_subplot(rows, columns, k + 1)
        ax.imshow(x[:, i].reshape(image_shape))
        ax.set_title(f"Prediction: {classes[predicted[i]]}\nClass: {classes[int(y[0, i])]}", fontsize=9)
        ax.axis("off")
    return _finish(figure, path)
