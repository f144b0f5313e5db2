"""The course's pictures: the cost curve, decision boundaries, misclassified images.

Needs matplotlib, the optional extra ``plot``: ``pip install "tinygrad_course[plot]"``. Figures
are drawn on the Agg canvas directly (no pyplot, no window, no global backend change), so they
work the same on a server, in a test and in a notebook. Every function returns a
``matplotlib.figure.Figure`` that shows itself as an image when it is a notebook cell's last
value, and, given a ``path``, also writes it there in the format of the path's suffix
(``FORMATS``: .png, .svg, .pdf, .jpg).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _checks
from ..errors import (
    FileAccessError,
    InputTypeError,
    InputValueError,
    MissingDependencyError,
    TinygradCourseError,
)
from ..nn import BinaryClassifier
from ..train import History, check_data, predict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PathLike = str | os.PathLike[str]
__all__ = ["CLASS_LABELS", "FORMATS", "MissingDependencyError", "picture_path", "plot_costs",
           "plot_decision_boundaries", "plot_decision_boundary", "plot_misclassified", "require_matplotlib"]


#: The picture formats a plot can be saved in, by suffix (matplotlib's name of each format).
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg"}
#: The two classes of a binary classifier, as the course names them.
CLASS_LABELS = ("y = 0", "y = 1")
#: The colours of class 0 and class 1: the points, and (lighter) the region predicted as that class.
_POINT_COLOURS = ("#d62728", "#1f4fbf")
_REGION_COLOURS = ("#f4b6b6", "#b6cdf4")
_TITLE_SIZE = 11


def require_matplotlib() -> None:
    """Raise ``MissingDependencyError`` with the install command unless matplotlib can be imported.

    The command line calls it before training, so a missing extra is said before the work.
    """
    try:
        import matplotlib.backends.backend_agg
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "the plots need matplotlib, which is not installed: pip install \"tinygrad_course[plot]\" "
            "(from a clone: pip install -e \".[plot]\"), or pip install matplotlib."
        ) from None


def _figure(**kwargs: Any) -> Figure:
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from .course_figure import CourseFigure

    figure = CourseFigure(**kwargs)
    FigureCanvasAgg(figure)
    return figure


def picture_path(path: PathLike, what: str) -> Path:
    """``path`` checked before anything is drawn: a format from ``FORMATS``, and a place to write it.

    ``what`` names the argument in the messages (``plot_costs(path)``, ``--plot``).
    """
    target = _checks.output_file(path, what, "a file name for the picture, such as plot.png")
    if target.suffix.lower() not in FORMATS:
        raise InputValueError(f"{what}: {str(target)!r} does not name a picture format I can write "
                              f"(suffix {target.suffix or 'none'!r}); expected one of "
                              f"{', '.join(FORMATS)}, such as plot.png.")
    return target


def _output(path: PathLike | None, what: str) -> Path | None:
    """Check where the picture goes before drawing it (a folder there, a file in the way, ...)."""
    return None if path is None else picture_path(path, f"{what}(path)")


def _title(text: object, width_inches: float, what: str) -> str:
    """The title wrapped to the panel's width, so that a long one is never cut off at the edges."""
    if not isinstance(text, str):
        raise InputTypeError(f"{what}: a title must be a str, got {text!r:.60}.")
    # A character of the title font is about 0.6 of its size wide; the panel keeps a margin.
    characters = max(20, int(0.85 * width_inches * 72 / (0.6 * _TITLE_SIZE)))
    return "\n".join(textwrap.fill(line, characters) if line else line for line in text.split("\n"))


def _finish(figure: Figure, path: Path | None) -> Figure:
    from .course_figure import DPI

    figure.tight_layout()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(path, format=FORMATS[path.suffix.lower()], dpi=DPI)
        except OSError as error:  # changed since the check: a file in the way, a full disk, ...
            raise FileAccessError(f"cannot write the picture to {str(path)!r}: "
                                  f"{error.strerror or error}.") from None
    return figure


def plot_costs(history: History | Sequence[History], path: PathLike | None = None,
               labels: Sequence[str] | None = None, title: str = "Cost during training") -> Figure:
    """The cost ``J`` against the iteration, one line per history (the course's learning curve)."""
    target = _output(path, "plot_costs")
    histories = [history] if isinstance(history, History) else list(history)
    labels = list(labels) if labels is not None else [""] * len(histories)
    figure = _figure(figsize=(6, 4))
    ax = figure.add_subplot()
    for h, label in zip(histories, labels, strict=True):
        ax.plot(h.iterations, h.costs, marker=".", label=label or None)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J")
    ax.set_title(_title(title, 6, "plot_costs"), fontsize=_TITLE_SIZE)
    if any(labels):
        ax.legend()
    return _finish(figure, target)


def _grid(X: np.ndarray, steps: int = 300) -> tuple[np.ndarray, np.ndarray]:
    margin = 1.0
    x_min, x_max = X[0].min() - margin, X[0].max() + margin
    y_min, y_max = X[1].min() - margin, X[1].max() + margin
    return np.meshgrid(np.linspace(x_min, x_max, steps), np.linspace(y_min, y_max, steps))


def _class_labels(classes: Sequence[str] | None, what: str) -> tuple[str, str]:
    if classes is None:
        return CLASS_LABELS
    if isinstance(classes, str) or not isinstance(classes, Sequence) or len(classes) != 2 \
            or not all(isinstance(c, str) for c in classes):
        raise InputValueError(f"{what}(classes=...): expected the names of class 0 and class 1, such as "
                              f"('non-cat', 'cat'), got {classes!r:.60}.")
    return classes[0], classes[1]


def plot_decision_boundaries(models: Sequence[tuple[str, BinaryClassifier]], X: np.ndarray, Y: np.ndarray,
                             path: PathLike | None = None, columns: int = 3,
                             classes: Sequence[str] | None = None) -> Figure:
    """One panel per ``(title, model)``: the predicted class over the plane and the points ``X (2, m)``.

    Each panel's legend names the two classes: ``classes`` (the names of class 0 and class 1)
    or the course's ``y = 0`` and ``y = 1``. Points and the region predicted as their class
    share a colour (red for 0, blue for 1).
    """
    target = _output(path, "plot_decision_boundaries")
    names = _class_labels(classes, "plot_decision_boundaries")
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
        ax.contourf(xx, yy, zz, levels=[-0.5, 0.5, 1.5], colors=list(_REGION_COLOURS))
        for label in (0, 1):
            chosen = y[0] == label
            ax.scatter(x[0, chosen], x[1, chosen], color=_POINT_COLOURS[label], s=12, edgecolors="k",
                       linewidths=0.3, label=names[label])
        ax.legend(loc="best", fontsize=8, framealpha=0.85, markerscale=1.5)
        ax.set_title(_title(title, 4.5, "plot_decision_boundaries"), fontsize=_TITLE_SIZE)
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
    return _finish(figure, target)


def plot_decision_boundary(model: BinaryClassifier, X: np.ndarray, Y: np.ndarray,
                           path: PathLike | None = None, title: str = "Decision boundary",
                           classes: Sequence[str] | None = None) -> Figure:
    """The predicted class over the plane, with the points of ``X (2, m)`` coloured by ``Y``."""
    return plot_decision_boundaries([(title, model)], X, Y, path, classes=classes)


def plot_misclassified(model: BinaryClassifier, X: np.ndarray, Y: np.ndarray, classes: Sequence[str],
                       path: PathLike | None = None, image_shape: tuple[int, int, int] = (64, 64, 3),
                       limit: int = 20) -> Figure:
    """The images (columns of ``X``) the model gets wrong, titled with prediction and true class."""
    target = _output(path, "plot_misclassified")
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
    return _finish(figure, target)
