"""Optimizers: the update ``w := w − α · (something made of dw)``, applied to every parameter.

Use them the course's way, once per iteration, after ``backward()`` has filled each ``.grad``::

    optimizer.zero_grad(); J = loss(model(X), Y); J.backward(); optimizer.step()

Updates run under ``no_grad()`` and change ``p.data`` in place, so the graph of the last
forward pass is stale afterwards (backward on it raises): run the forward pass again.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .autograd import no_grad
from .errors import InputTypeError, InputValueError
from .tensor import Tensor


def _rate(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputTypeError(f"{name} must be a number, got {value!r}.")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float64, e.g. 10**400
        number = np.inf
    if not low < number < high:
        raise InputValueError(f"{name} must lie strictly between {low:g} and {high:g}, got {value!r:.40}.")
    return number


class Optimizer:
    """Holds the parameters and a learning rate ``α``; subclasses define ``update``."""

    def __init__(self, parameters: Iterable[Tensor], lr: float) -> None:
        # A single Tensor is iterable too (its rows): its rows would be trained, not the tensor.
        if isinstance(parameters, (Tensor, str, bytes)) or not isinstance(parameters, Iterable):
            raise InputTypeError(f"{type(self).__name__} expects a list of parameters such as "
                                 f"model.parameters() or [w, b], got {parameters!r:.60}.")
        self.parameters = list(parameters)
        if not self.parameters:
            raise InputValueError(f"{type(self).__name__} got no parameters; pass model.parameters().")
        for i, p in enumerate(self.parameters):
            if not isinstance(p, Tensor) or not p.requires_grad or not p.is_leaf:
                raise InputTypeError(
                    f"{type(self).__name__}: parameter {i} must be a Tensor with requires_grad=True, "
                    f"created by you (a leaf, not computed), got {p!r:.60}."
                )
        if len({id(p) for p in self.parameters}) != len(self.parameters):
            raise InputValueError(f"{type(self).__name__}: a parameter is listed twice; it would be "
                                  "updated twice per step.")
        self.lr = _rate("lr (the learning rate α)", lr, 0.0, np.inf)
        # Each step's α·dw goes into a buffer of our own: a fresh temporary the size of W1 per
        # step costs the allocator more than the arithmetic (W2 of the benchmark: 1.22× → 1.03×).
        self._scratch = [np.empty_like(p._data) for p in self.parameters]

    def zero_grad(self) -> None:
        """Forget every gradient (leaves accumulate across ``backward()`` calls)."""
        for p in self.parameters:
            p.grad = None

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        with no_grad():
            for i, p in enumerate(self.parameters):
                grad = p.grad
                if grad is not None:
                    self.update(i, p, grad.data if isinstance(grad, Tensor) else grad)

    def update(self, i: int, p: Tensor, dw: np.ndarray) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.parameters)} parameters)"


class SGD(Optimizer):
    """The course's gradient descent: ``w := w − α · dw``."""

    def update(self, i: int, p: Tensor, dw: np.ndarray) -> None:
        p.data -= np.multiply(self.lr, dw, out=self._scratch[i])


class Momentum(Optimizer):
    """Gradient descent with momentum: ``v := β·v + (1 − β)·dw``, then ``w := w − α·v``.

    ``v`` starts at zero, an exponentially weighted average of the gradients over about
    ``1 / (1 − β)`` steps.
    """

    def __init__(self, parameters: Iterable[Tensor], lr: float, beta: float = 0.9) -> None:
        super().__init__(parameters, lr)
        self.beta = _rate("beta", beta, 0.0, 1.0)
        self.velocity = [np.zeros_like(p._data) for p in self.parameters]

    def update(self, i: int, p: Tensor, dw: np.ndarray) -> None:
        v, scratch = self.velocity[i], self._scratch[i]
        v *= self.beta
        v += np.multiply(1 - self.beta, dw, out=scratch)
        p.data -= np.multiply(self.lr, v, out=scratch)


class Adam(Optimizer):
    """Adam, as the course writes it, with ``t`` the number of steps taken so far (from 1)::

        v := β₁·v + (1 − β₁)·dw          v̂ = v / (1 − β₁ᵗ)
        s := β₂·s + (1 − β₂)·dw²         ŝ = s / (1 − β₂ᵗ)
        w := w − α · v̂ / (√ŝ + ε)
    """

    def __init__(self, parameters: Iterable[Tensor], lr: float = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, epsilon: float = 1e-8) -> None:
        super().__init__(parameters, lr)
        self.beta1 = _rate("beta1", beta1, 0.0, 1.0)
        self.beta2 = _rate("beta2", beta2, 0.0, 1.0)
        self.epsilon = _rate("epsilon", epsilon, 0.0, np.inf)
        self.v = [np.zeros_like(p._data) for p in self.parameters]
        self.s = [np.zeros_like(p._data) for p in self.parameters]
        self._denominators = [np.empty_like(p._data) for p in self.parameters]
        self.t = 0

    def step(self) -> None:
        self.t += 1
        super().step()

    def update(self, i: int, p: Tensor, dw: np.ndarray) -> None:
        v, s, step, denominator = self.v[i], self.s[i], self._scratch[i], self._denominators[i]
        v *= self.beta1
        v += np.multiply(1 - self.beta1, dw, out=step)
        s *= self.beta2
        s += np.multiply(1 - self.beta2, np.square(dw, out=step), out=step)
        np.divide(s, 1 - self.beta2**self.t, out=denominator)         # ŝ
        np.sqrt(denominator, out=denominator)
        denominator += self.epsilon
        np.divide(v, 1 - self.beta1**self.t, out=step)                 # v̂
        step *= self.lr
        step /= denominator
        p.data -= step
