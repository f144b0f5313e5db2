"""The training loop of every model in the course, plus ``predict`` and ``accuracy``.

One iteration is one full-batch step of gradient descent::

    J = loss(model(X), Y)      # forward propagation and the cost
    J.backward()               # backward propagation: dJ/dW, dJ/db for every layer
    optimizer.step()           # W := W − α·dW, b := b − α·db (or Momentum, Adam)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from .autograd import no_grad
from .errors import InputTypeError, InputValueError, ShapeError, TinygradCourseError
from .functional import binary_cross_entropy_with_logits
from .nn import BinaryClassifier, Module
from .optim import SGD, Optimizer
from .tensor import ArrayLike, Tensor, as_array

Loss = Callable[[Tensor, Tensor], Tensor]


class DivergedError(TinygradCourseError, ArithmeticError):
    """The cost became NaN or infinite during training (usually: the learning rate is too large)."""


@dataclass
class History:
    """The cost ``J`` recorded every ``record_every`` iterations, before that iteration's update.

    ``iterations[k]`` and ``costs[k]`` are the course's "Cost after iteration i: J" lines.
    ``final_cost`` is the cost after the last update.
    """

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    final_cost: float = float("nan")
    seconds: float = 0.0

    def __str__(self) -> str:
        pairs = zip(self.iterations, self.costs, strict=True)
        return "\n".join(f"Cost after iteration {i}: {cost:f}" for i, cost in pairs)


def check_data(X: ArrayLike, Y: ArrayLike | None = None, n_x: int | None = None,
               what: str = "X", allow_empty: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """``X`` as ``(n_x, m)`` floats and ``Y`` as ``(1, m)`` labels in {0, 1}, or a clear error.

    Checks the course's layout (one example per column), matching ``m``, NaN and inf, labels;
    ``m = 0`` only with ``allow_empty`` (a cost or an accuracy over no examples is 0/0).
    """
    x = as_array(X, what=what)
    if x.ndim != 2:
        raise ShapeError(f"{what} must be 2-D (n_x, m), one example per column; got shape {x.shape}.")
    if x.shape[1] == 0 and not allow_empty:
        raise ShapeError(f"{what} has no examples (shape {x.shape}, m = 0); expected at least one column.")
    if n_x is not None and x.shape[0] != n_x:
        hint = " It looks like one example per row: pass X.T." if x.shape[1] == n_x else ""
        raise ShapeError(f"{what} must have n_x = {n_x} rows (one example per column), "
                         f"got shape {x.shape}.{hint}")
    if not np.isfinite(x).all():
        raise InputValueError(f"{what} contains NaN or inf at {int((~np.isfinite(x)).sum())} entries; "
                              "clean or drop those examples first.")
    if Y is None:
        return x, None
    y = as_array(Y, what="Y")
    if y.ndim == 1:
        raise ShapeError(f"Y must be (1, m), one label per column; got shape {y.shape}: "
                         "pass Y.reshape(1, -1).")
    if y.ndim != 2 or y.shape[0] != 1:
        hint = " It looks like one label per row: pass Y.T." if y.ndim == 2 and y.shape[1] == 1 else ""
        raise ShapeError(f"Y must be (1, m), one label per column; got shape {y.shape}.{hint}")
    if y.shape[1] != x.shape[1]:
        hint = ""
        if x.shape[0] == y.shape[1]:
            hint = " X looks like one example per row: pass X.T."
        raise ShapeError(f"{what} has m = {x.shape[1]} examples (columns) but Y has {y.shape[1]}; "
                         f"X is (n_x, m) and Y is (1, m).{hint}")
    if np.isnan(y).any():
        raise InputValueError(f"Y contains NaN at {int(np.isnan(y).sum())} entries; labels must be 0 or 1.")
    if not np.isin(y, (0, 1)).all():
        others = np.unique(y[~np.isin(y, (0, 1))])[:5]
        raise InputValueError(f"Y must hold the labels 0 and 1 only (a binary classifier), got also "
                              f"{', '.join(f'{v:g}' for v in others)}.")
    return x, y


def _n_x(model: Module) -> int | None:
    """The input size the model expects (from W1), after checking it is a model at all."""
    if not isinstance(model, Module):
        raise InputTypeError(f"expected a model (a Module such as MLP or LogisticRegression), "
                             f"got {type(model).__name__}.")
    first = next(iter(model.parameters()), None)
    return first.shape[1] if first is not None and first.ndim == 2 else None


class _ProgressBar:
    """``[#######.....]  700/1000  J = 0.2345``, redrawn on one line at most ten times a second."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream, self.last_drawn = total, stream, 0.0

    def update(self, done: int, cost: float, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.last_drawn < 0.1:
            return
        self.last_drawn = now
        filled = 30 * done // self.total
        width = len(str(self.total))
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r[{bar}] {done:>{width}}/{self.total}  J = {cost:.6f}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


@contextmanager
def _closing(bar: _ProgressBar | None) -> Iterator[None]:
    try:
        yield
    finally:
        if bar is not None:
            bar.close()


def fit(model: Module, X: ArrayLike, Y: ArrayLike, loss: Loss = binary_cross_entropy_with_logits,
        optimizer: Optimizer | None = None, iterations: int = 1000, lr: float | None = None,
        record_every: int = 100, progress: bool = True, print_cost: bool = False) -> History:
    """Train ``model`` on ``X`` ``(n_x, m)`` and ``Y`` ``(1, m)`` by full-batch gradient steps.

    ``optimizer`` defaults to the course's gradient descent ``SGD(model.parameters(), lr)``. The
    cost is recorded at iterations 0, record_every, 2·record_every, ... *before* that iteration's
    update, as the course's "Cost after iteration i"; ``print_cost`` prints those lines. A
    progress bar is drawn on stderr when ``progress`` is on and stderr is a terminal.
    """
    if not isinstance(model, Module):
        raise InputTypeError(f"fit() trains a Module (e.g. MLP or LogisticRegression), "
                             f"got {type(model).__name__}.")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise InputValueError(f"iterations must be a non-negative integer, got {iterations!r}.")
    if isinstance(record_every, bool) or not isinstance(record_every, (int, np.integer)) or record_every < 1:
        raise InputValueError(f"record_every must be a positive integer, got {record_every!r}.")
    if not callable(loss):
        raise InputTypeError(f"loss must be a function (predictions, targets) -> cost J, such as "
                             f"binary_cross_entropy_with_logits; got {loss!r:.60}.")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise InputTypeError(f"optimizer must be an Optimizer such as SGD(model.parameters(), lr=0.01), "
                             f"got {optimizer!r:.60}.")
    if optimizer is None:
        if lr is None:
            raise InputValueError("fit() needs an optimizer or a learning rate: fit(..., lr=0.005) "
                                  "uses the course's gradient descent, SGD(model.parameters(), lr).")
        optimizer = SGD(model.parameters(), lr=lr)
    elif lr is not None:
        raise InputValueError("give fit() either optimizer= or lr=, not both (the optimizer has its own lr).")
    x, y = check_data(X, Y, n_x=_n_x(model))
    # Constants built once: the loop then only creates the tensors of the graph itself. Nothing
    # writes into them, so they share the data's memory instead of copying it.
    X_t, Y_t = Tensor.from_numpy(x), Tensor.from_numpy(y)
    history = History()
    # A diverged run puts these back: a failed fit() leaves the model as it found it.
    initial = {id(p): p._data.copy() for p in optimizer.parameters}
    bar = _ProgressBar(iterations, sys.stderr) if progress and iterations and sys.stderr.isatty() else None
    start = time.perf_counter()
    # A diverging run overflows somewhere before its cost turns inf or NaN: report that once,
    # as DivergedError with the learning rate, instead of a screen of numpy warnings.
    with np.errstate(over="ignore", invalid="ignore"), _closing(bar):
        for i in range(iterations):
            optimizer.zero_grad()
            J = _cost(loss, model(X_t), Y_t)
            cost = J.item()
            if not np.isfinite(cost):
                _restore(optimizer, initial)
                raise DivergedError(f"the cost became {cost} at iteration {i}; with learning rate "
                                    f"{optimizer.lr:g} gradient descent diverged. Try a smaller lr. "
                                    "The parameters are back at their values before fit().")
            if i % record_every == 0:
                history.iterations.append(i)
                history.costs.append(cost)
                if print_cost:
                    print(f"Cost after iteration {i}: {cost:f}")
            J.backward()
            optimizer.step()
            if bar is not None:
                bar.update(i + 1, cost, force=i + 1 == iterations)
        history.final_cost = evaluate(model, x, y, loss)
    if not np.isfinite(history.final_cost):
        _restore(optimizer, initial)
        raise DivergedError(f"the cost became {history.final_cost} after the last update; with learning "
                            f"rate {optimizer.lr:g} gradient descent diverged. Try a smaller lr. "
                            "The parameters are back at their values before fit().")
    history.seconds = time.perf_counter() - start
    return history


def _cost(loss: Loss, predictions: Tensor, targets: Tensor) -> Tensor:
    J = loss(predictions, targets)
    if not isinstance(J, Tensor) or J.size != 1:
        raise InputTypeError(f"loss must return the cost J as a one-element Tensor, got {J!r:.60}.")
    return J


def _restore(optimizer: Optimizer, initial: dict[int, np.ndarray]) -> None:
    with no_grad():
        for p in optimizer.parameters:
            p.data = initial[id(p)]
            p.grad = None


def evaluate(model: Module, X: ArrayLike, Y: ArrayLike,
             loss: Loss = binary_cross_entropy_with_logits) -> float:
    """The cost ``J`` of ``model`` on ``(X, Y)``, without recording a graph."""
    x, y = check_data(X, Y, n_x=_n_x(model))
    if not callable(loss):
        raise InputTypeError(f"loss must be a function (predictions, targets) -> cost J, got {loss!r:.60}.")
    with no_grad():
        return _cost(loss, model(Tensor.from_numpy(x)), Tensor.from_numpy(y)).item()


def predict(model: BinaryClassifier, X: ArrayLike) -> np.ndarray:
    """The predicted labels ``(1, m)``: 1 where ``σ(Z[L]) > 0.5``, else 0 (as the course)."""
    if not isinstance(model, BinaryClassifier):
        raise InputTypeError(f"predict() needs a classifier with predict_proba (MLP, LogisticRegression), "
                             f"got {type(model).__name__}.")
    x, _ = check_data(X, n_x=_n_x(model), allow_empty=True)  # no examples, no predictions
    return (model.predict_proba(x) > 0.5).astype(np.int64)


def accuracy(model: BinaryClassifier, X: ArrayLike, Y: ArrayLike) -> float:
    """The fraction of examples whose predicted label equals ``Y`` (in [0, 1]; ×100 for %)."""
    if not isinstance(model, BinaryClassifier):
        raise InputTypeError(f"accuracy() needs a classifier with predict_proba (MLP, LogisticRegression), "
                             f"got {type(model).__name__}.")
    x, y = check_data(X, Y, n_x=_n_x(model))
    return float(np.mean(predict(model, x) == y))
