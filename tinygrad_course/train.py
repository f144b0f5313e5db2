"""The training loop of every model in the course, plus ``predict`` and ``accuracy``.

One iteration is one full-batch step of gradient descent::

    J = loss(model(X), Y)      # forward propagation and the cost
    J.backward()               # backward propagation: dJ/dW, dJ/db for every layer
    optimizer.step()           # W := W − α·dW, b := b − α·db (or Momentum, Adam)
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from . import _checks
from .autograd import no_grad
from .errors import InputTypeError, InputValueError, ShapeError, TinygradCourseError
from .functional import binary_cross_entropy_with_logits
from .nn import BinaryClassifier, Module
from .optim import SGD, Optimizer
from .tensor import ArrayLike, Tensor, as_array

Loss = Callable[[Tensor, Tensor], Tensor]


class DivergedError(TinygradCourseError, ArithmeticError):
    """The cost became NaN or infinite during training (usually: the learning rate is too large),
    or grew far above its start with ``fit(..., on_explosion="stop")``."""


class ExplodingCostWarning(RuntimeWarning):
    """The cost grew far above its starting value: gradient descent is probably diverging."""


#: The cost "explodes" when it exceeds this many times its start (or 1, for a start below 1).
EXPLOSION_FACTOR = 10.0
_ON_EXPLOSION = ("warn", "stop", "ignore")


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
    snapshots: list[Snapshot] = field(default_factory=list)

    def __str__(self) -> str:
        pairs = zip(self.iterations, self.costs, strict=True)
        return "\n".join(f"Cost after iteration {i}: {cost:f}" for i, cost in pairs)


@dataclass
class Snapshot:
    """The parameters and their gradients at one iteration, before its update (``fit(snapshot_every=k)``)."""

    iteration: int
    cost: float
    parameters: dict[str, np.ndarray]
    gradients: dict[str, np.ndarray]


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


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where tqdm draws a widget), as tqdm.auto decides it."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in shell.config


def _progress_bar(total: int) -> Any:
    """tqdm's bar on stderr in a terminal, its widget in a notebook; ``None`` anywhere else.

    Elsewhere (a CI log, a file, a pipe) a bar would only write carriage returns into the log.
    tqdm is the optional extra ``progress``: without it there is no bar, and ``print_cost``
    still prints the course's lines.
    """
    if not total or not (sys.stderr.isatty() or _in_notebook()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="fit", unit="it", file=sys.stderr, dynamic_ncols=True)


@contextmanager
def _closing(bar: Any) -> Iterator[None]:
    try:
        yield
    finally:
        if bar is not None:
            bar.close()


def _report(line: str, bar: Any) -> None:
    """Print a "Cost after iteration i" line without tearing the progress bar drawn below it."""
    if bar is None:
        print(line)
    else:
        bar.write(line, file=sys.stdout)


def fit(model: Module, X: ArrayLike, Y: ArrayLike, loss: Loss = binary_cross_entropy_with_logits,
        optimizer: Optimizer | None = None, iterations: int = 1000, lr: float | None = None,
        record_every: int = 100, progress: bool = True, print_cost: bool = False,
        on_explosion: Literal["warn", "stop", "ignore"] = "warn",
        snapshot_every: int | None = None) -> History:
    """Train ``model`` on ``X`` ``(n_x, m)`` and ``Y`` ``(1, m)`` by full-batch gradient steps.

    ``optimizer`` defaults to the course's gradient descent ``SGD(model.parameters(), lr)``. The
    cost is recorded at iterations 0, record_every, 2·record_every, ... *before* that iteration's
    update, as the course's "Cost after iteration i"; ``print_cost`` prints those lines.

    ``progress`` draws a bar with the current cost J (tqdm, the extra ``progress``) on stderr in
    a terminal and as a widget in a notebook; nowhere else, so logs stay clean.

    A cost of NaN or inf raises ``DivergedError``. A cost that stays finite but grows above
    ``EXPLOSION_FACTOR`` × its start (× 1 when the start is below 1) is exploding too:
    ``on_explosion="warn"`` (the default) issues one ``ExplodingCostWarning`` and trains on,
    ``"stop"`` raises ``DivergedError``, ``"ignore"`` does neither. ``DivergedError`` always puts
    the parameters back where they were before ``fit()``.

    ``snapshot_every=k`` keeps the parameters and gradients of iterations 0, k, 2k, ... in
    ``history.snapshots`` (for ``viz.explore``, which scrubs through them).
    """
    if not isinstance(model, Module):
        raise InputTypeError(f"fit() trains a Module (e.g. MLP or LogisticRegression), "
                             f"got {type(model).__name__}.")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise InputValueError(f"iterations must be a non-negative integer, got {iterations!r}.")
    if isinstance(record_every, bool) or not isinstance(record_every, (int, np.integer)) or record_every < 1:
        raise InputValueError(f"record_every must be a positive integer, got {record_every!r}.")
    if snapshot_every is not None:
        snapshot_every = _checks.whole(snapshot_every, "fit(snapshot_every=...)", least=1)
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
    if on_explosion not in _ON_EXPLOSION:
        raise InputValueError(f"on_explosion must be one of {', '.join(map(repr, _ON_EXPLOSION))}, "
                              f"got {on_explosion!r:.60}.")
    x, y = check_data(X, Y, n_x=_n_x(model))
    # Constants built once: the loop then only creates the tensors of the graph itself. Nothing
    # writes into them, so they share the data's memory instead of copying it.
    X_t, Y_t = Tensor.from_numpy(x), Tensor.from_numpy(y)
    history = History()
    # A diverged run puts these back: a failed fit() leaves the model as it found it.
    initial = {id(p): p.data.copy() for p in optimizer.parameters}
    bar = _progress_bar(iterations) if progress else None
    start = time.perf_counter()
    explodes_above, warned = math.inf, on_explosion == "ignore"
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
            if i == 0:
                explodes_above = EXPLOSION_FACTOR * max(abs(cost), 1.0)
            elif cost > explodes_above and not warned:
                message = (f"the cost grew from {history.costs[0]:g} at iteration 0 to {cost:g} at "
                           f"iteration {i}, far above its start (the limit is {explodes_above:g}): with "
                           f"learning rate {optimizer.lr:g} gradient descent is diverging. Try a smaller lr, "
                           "or scale the inputs (pixels / 255).")
                if on_explosion == "stop":
                    _restore(optimizer, initial)
                    raise DivergedError(f"{message} The parameters are back at their values before fit().")
                warnings.warn(message, ExplodingCostWarning, stacklevel=2)
                warned = True
            if i % record_every == 0:
                history.iterations.append(i)
                history.costs.append(cost)
                if print_cost:
                    _report(f"Cost after iteration {i}: {cost:f}", bar)
            J.backward()
            if snapshot_every is not None and i % snapshot_every == 0:
                named = list(model.named_parameters())
                history.snapshots.append(Snapshot(i, cost, {name: p.data.copy() for name, p in named},
                                                  {name: np.array(p.grad) for name, p in named}))
            optimizer.step()
            if bar is not None:
                bar.set_postfix_str(f"J = {cost:.6f}", refresh=False)
                bar.update()
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
