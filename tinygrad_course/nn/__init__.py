"""Layers and the course's models, in the course's layout: one example per column.

``X`` is ``(n_x, m)``, ``W[l]`` is ``(n[l], n[l-1])``, ``b[l]`` is ``(n[l], 1)`` and every
layer computes ``Z[l] = W[l] @ A[l-1] + b[l]``. The models return the logits ``Z[L]`` of the
output layer; the loss ``binary_cross_entropy_with_logits`` turns them into the cost ``J`` and
its gradient is the course's ``dZ[L] = A[L] − Y``. ``predict_proba`` gives ``A[L] = σ(Z[L])``.

Every gradient comes from the engine's autograd: no layer here has a backward of its own. Each
layer also describes its PyTorch equivalent (``torch_layer``), which ``torch_layout.py`` turns
into state dicts and a ``torch.nn.Sequential``. ``Module``, the base they share (parameters,
saving and loading, the PyTorch equivalent), is in ``module.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Literal

import numpy as np

from .. import _checks
from ..autograd import no_grad
from ..errors import (
    ArchitectureError,
    InputTypeError,
    InputValueError,
    ShapeError,
)
from ..tensor import ArrayLike, Tensor
from .init import INITS as INITS
from .init import Init, checked_init, initial_weights
from .module import ARCHITECTURE_KEY as ARCHITECTURE_KEY
from .module import ModelNotFoundError as ModelNotFoundError
from .module import Module as Module
from .torch_layout import TorchLayer


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)




class Linear(Module):
    """``Z = W @ A + b``: ``W`` is ``(n_out, n_in)``, ``b`` is ``(n_out, 1)``, ``A`` is ``(n_in, m)``.

    ``W`` is drawn by ``initial_weights(n_out, n_in, init, rng)``; ``b`` starts at zero.
    """

    def __init__(self, n_in: int, n_out: int, init: Init = "scaled",
                 rng: np.random.RandomState | int | None = None, name: str = "") -> None:
        self.n_in = _positive_int("n_in", n_in)
        self.n_out = _positive_int("n_out", n_out)
        if not isinstance(rng, np.random.RandomState):
            rng = np.random.RandomState(_checks.seed(rng, "rng (a RandomState, or its seed)"))
        if not isinstance(name, str):
            raise InputTypeError(f"name must be a str (the layer's number, as in W1), got {name!r:.40}.")
        W = initial_weights(self.n_out, self.n_in, init, rng)
        self.W = Tensor(W, requires_grad=True, name=f"W{name}")
        self.b = Tensor(np.zeros((self.n_out, 1)), requires_grad=True, name=f"b{name}")
        self.output_name = f"Z{name}"  # what the graph pictures call the result: Z1 = W1 @ A0 + b1

    def forward(self, A: Tensor) -> Tensor:
        if A.ndim != 2 or A.shape[0] != self.n_in:
            hint = ""
            if A.ndim == 2 and A.shape[1] == self.n_in:
                hint = " It looks like one example per row: pass X.T."
            raise ShapeError(
                f"Linear({self.n_in} → {self.n_out}) expects its input as (n_in, m) = ({self.n_in}, m), "
                f"one example per column, got shape {A.shape}.{hint}"
            )
        Z = self.W @ A + self.b
        Z.name = self.output_name  # one attribute set: pictures say Z1, not t5
        return Z

    def torch_layer(self) -> TorchLayer:
        return TorchLayer("Linear", (self.n_in, self.n_out),
                          {"weight": (self.W, (self.n_out, self.n_in)), "bias": (self.b, (self.n_out,))})

    def extra_repr(self) -> str:
        return f"{self.n_in} → {self.n_out}"


class ReLU(Module):
    """``A = max(0, Z)``; ``dZ = dA ⊙ [Z > 0]``."""

    def forward(self, A: Tensor) -> Tensor:
        return A.relu()

    def torch_layer(self) -> TorchLayer:
        return TorchLayer("ReLU")


class LeakyReLU(Module):
    """``A = Z`` where ``Z > 0``, ``slope · Z`` elsewhere."""

    def __init__(self, slope: float = 0.01) -> None:
        self.slope = _checks.real(slope, "LeakyReLU(slope=...)")

    def forward(self, A: Tensor) -> Tensor:
        return A.leaky_relu(self.slope)

    def torch_layer(self) -> TorchLayer:
        return TorchLayer("LeakyReLU", (self.slope,))

    def extra_repr(self) -> str:
        return f"slope={self.slope:g}"


class Tanh(Module):
    """``A = tanh(Z)``; ``dZ = dA ⊙ (1 − A²)``."""

    def forward(self, A: Tensor) -> Tensor:
        return A.tanh()

    def torch_layer(self) -> TorchLayer:
        return TorchLayer("Tanh")


class Sigmoid(Module):
    """``A = σ(Z)``; ``dZ = dA ⊙ A(1 − A)``."""

    def forward(self, A: Tensor) -> Tensor:
        return A.sigmoid()

    def torch_layer(self) -> TorchLayer:
        return TorchLayer("Sigmoid")


class Sequential(Module):
    """Layers applied in order: ``Sequential(Linear(2, 4), Tanh(), Linear(4, 1))``."""

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise InputTypeError(f"Sequential: layer {i} is a {type(layer).__name__}, not a Module.")
        self.layers = list(layers)

    def forward(self, A: Tensor) -> Tensor:
        for layer in self.layers:
            A = layer(A)
        return A

    def children(self) -> Iterator[tuple[str, Module]]:
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def torch_layers(self) -> list[TorchLayer]:
        layers = []
        for i, layer in enumerate(self.layers):
            torch_layer = layer.torch_layer()
            if torch_layer is None:
                raise InputTypeError(f"{self.describe()}: layer {i} is a {type(layer).__name__}, which has "
                                     "no torch equivalent here; expected Linear, ReLU, LeakyReLU, Tanh or "
                                     "Sigmoid.")
            layers.append(torch_layer)
        return layers


class BinaryClassifier(Module):
    """A model whose output is one logit ``Z[L]`` per example, ``(1, m)``."""

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """``A[L] = σ(Z[L])``, the probability that each example is class 1, as a ``(1, m)`` array."""
        with no_grad():
            return self(X).sigmoid().data


class LogisticRegression(BinaryClassifier):
    """The course's first model: ``z = wᵀx + b``, ``ŷ = σ(z)``, with ``w`` and ``b`` starting at zero.

    Here ``W = wᵀ`` is ``(1, n_x)`` so that ``Z = W @ X + b`` as in every other layer. The forward
    pass returns ``Z``; train it with ``binary_cross_entropy_with_logits``, whose gradients are
    the course's ``dw = X(A − Y)ᵀ / m`` and ``db = mean(A − Y)``.
    """

    def __init__(self, n_x: int) -> None:
        self.linear = Linear(n_x, 1, init="zeros", name="")

    @property
    def W(self) -> Tensor:
        return self.linear.W

    @property
    def b(self) -> Tensor:
        return self.linear.b

    def forward(self, A: Tensor) -> Tensor:
        return self.linear(A)

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        yield "W", self.linear.W
        yield "b", self.linear.b

    def children(self) -> Iterator[tuple[str, Module]]:
        return iter(())

    def torch_layers(self) -> list[TorchLayer]:
        return self.linear.torch_layers()

    def extra_repr(self) -> str:
        return f"n_x={self.linear.n_in}"


class MLP(BinaryClassifier, Sequential):
    """The course's L-layer network: ``[LINEAR → activation] × (L−1) → LINEAR``, returning ``Z[L]``.

    ``layer_dims = [n_x, n[1], ..., n[L]]``. The weights are drawn as the course draws them:
    ``np.random.seed(seed)``, then ``randn(n[l], n[l-1])`` for l = 1, ..., L in that order (scaled
    by ``init``), biases zero. So ``MLP([2, 4, 1], "tanh", init="small", seed=2)`` starts where
    the course's planar network starts and ``MLP([12288, 20, 7, 5, 1], init="scaled", seed=1)``
    where its deep network does. The parameters are named as the course's dict: ``W1, b1, W2, ...``.
    """

    def __init__(self, layer_dims: Sequence[int], hidden_activation: Literal["relu", "tanh"] = "relu",
                 init: Init = "he", seed: int | None = None) -> None:
        if isinstance(layer_dims, str) or not isinstance(layer_dims, Sequence) or len(layer_dims) < 2:
            raise InputValueError(
                f"layer_dims must list the input, hidden and output sizes, e.g. [2, 4, 1]; got {layer_dims!r}"
            )
        dims = [_positive_int(f"layer_dims[{i}]", n) for i, n in enumerate(layer_dims)]
        activations = {"relu": ReLU, "tanh": Tanh}
        if not isinstance(hidden_activation, str) or hidden_activation not in activations:
            raise InputValueError(f"hidden_activation must be 'relu' or 'tanh', got {hidden_activation!r}.")
        init = checked_init(init)
        seed = _checks.seed(seed)
        # One generator for all layers, drawn in order: the course's np.random.seed(s) then
        # randn for W1, W2, ... — without touching numpy's global state.
        rng = np.random.RandomState(seed)
        layers: list[Module] = []
        for l in range(1, len(dims)):  # noqa: E741 (the course's l)
            layers.append(Linear(dims[l - 1], dims[l], init=init, rng=rng, name=str(l)))
            if l < len(dims) - 1:
                layers.append(activations[hidden_activation]())
        Sequential.__init__(self, *layers)
        # Names for the pictures, set once: layer l's activation is A[l] (its Linear names Z[l]).
        self._output_names = [None if isinstance(layer, Linear) else f"A{(i + 1) // 2}"
                              for i, layer in enumerate(layers)]
        self.layer_dims = dims
        self.hidden_activation = hidden_activation
        self.init = init
        self.seed = seed

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, ArrayLike],
                        hidden_activation: Literal["relu", "tanh"] = "relu") -> MLP:
        """An MLP holding the course's ``parameters`` dict ``{"W1": ..., "b1": ..., ...}``."""
        if not isinstance(parameters, Mapping) or not all(isinstance(name, str) for name in parameters):
            raise InputTypeError("from_parameters() expects the course's dict {'W1': array, 'b1': array, "
                                 f"...}}, got {parameters!r:.60}.")
        L = sum(1 for name in parameters if name.startswith("W"))
        names = [f"W{layer}" for layer in range(1, L + 1)]
        if L == 0 or any(name not in parameters or np.ndim(parameters[name]) != 2 for name in names):
            raise ArchitectureError(f"parameters need 2-D W1, ..., W{L} (and b1, ..., b{L}), "
                                    f"got {', '.join(sorted(parameters)) or 'nothing'}.")
        shapes = [np.shape(parameters[name]) for name in names]
        dims = [shapes[0][1], *(shape[0] for shape in shapes)]
        model = cls(dims, hidden_activation=hidden_activation, init="zeros")
        model.load_state_dict(parameters)
        return model

    def forward(self, A: Tensor) -> Tensor:
        """``Z[l] = W[l] @ A[l-1] + b[l]`` and ``A[l] = g(Z[l])``, named so (``A0`` is ``X``)."""
        for layer, name in zip(self.layers, self._output_names, strict=True):
            A = layer(A)
            if name is not None:
                A.name = name
        return A

    @property
    def linears(self) -> list[Linear]:
        return [layer for layer in self.layers if isinstance(layer, Linear)]

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        for l, linear in enumerate(self.linears, start=1):  # noqa: E741
            yield f"W{l}", linear.W
            yield f"b{l}", linear.b

    def extra_repr(self) -> str:
        return (f"layer_dims={self.layer_dims}, hidden_activation={self.hidden_activation!r}, "
                f"init={self.init!r}, seed={self.seed}")
