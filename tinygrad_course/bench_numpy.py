"""The floor of the benchmark: each workload as the course writes it, gradients by hand in numpy.

``dZ2 = A2 − Y``, ``dW2 = (1/m) dZ2 · A1ᵀ``, ...: no graph, no per-op bookkeeping. ``bench`` runs the
engine against these, interleaved, and checks that both end at the same cost and parameters.
"""

from __future__ import annotations

import numpy as np

Result = tuple[float, list[np.ndarray]]  # the final cost (or value) and the final parameters


def _sigmoid(Z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-Z))


def _cost(A: np.ndarray, Y: np.ndarray) -> float:
    return float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))


def logistic(X: np.ndarray, Y: np.ndarray, lr: float, iterations: int) -> Result:
    m = X.shape[1]
    w, b = np.zeros((X.shape[0], 1)), np.zeros((1, 1))
    for _ in range(iterations):
        A = _sigmoid(w.T @ X + b)
        cost = _cost(A, Y)
        dZ = A - Y
        dw, db = X @ dZ.T / m, np.sum(dZ, keepdims=True) / m
        w -= lr * dw
        b -= lr * db
    return cost, [w, b]


def two_layer(X: np.ndarray, Y: np.ndarray, init: list[np.ndarray], hidden: str, lr: float,
                     iterations: int) -> Result:
    m = X.shape[1]
    W1, b1, W2, b2 = (a.copy() for a in init)
    for _ in range(iterations):
        Z1 = W1 @ X + b1
        A1 = np.maximum(Z1, 0) if hidden == "relu" else np.tanh(Z1)
        A2 = _sigmoid(W2 @ A1 + b2)
        cost = _cost(A2, Y)
        dZ2 = A2 - Y
        dW2, db2 = dZ2 @ A1.T / m, np.sum(dZ2, axis=1, keepdims=True) / m
        dA1 = W2.T @ dZ2
        dZ1 = dA1 * (Z1 > 0) if hidden == "relu" else dA1 * (1 - A1**2)
        dW1, db1 = dZ1 @ X.T / m, np.sum(dZ1, axis=1, keepdims=True) / m
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
    return cost, [W1, b1, W2, b2]


def chain(steps: int) -> Result:
    x = np.float64(1.0)
    for _ in range(steps):
        x = x * 1.0001 + 0.001
    grad = np.float64(1.0)
    for _ in range(steps):  # dx_{k+1}/dx_k = 1.0001, multiplied back along the chain
        grad = grad * 1.0001
    return float(x), [np.asarray(grad)]


def max_margin(X: np.ndarray, y: np.ndarray, init: list[np.ndarray], alpha: float,
                      steps: int) -> Result:
    m = X.shape[1]
    p = [a.copy() for a in init]
    for k in range(steps):
        W1, b1, W2, b2, W3, b3 = p
        Z1 = W1 @ X + b1
        A1 = np.maximum(Z1, 0)
        Z2 = W2 @ A1 + b2
        A2 = np.maximum(Z2, 0)
        margins = 1 - y * (W3 @ A2 + b3)
        cost = float(np.maximum(margins, 0).mean() + alpha * sum(np.sum(q * q) for q in p))
        dS = -y * (margins > 0) / m
        dZ2 = (W3.T @ dS) * (Z2 > 0)
        dZ1 = (W2.T @ dZ2) * (Z1 > 0)
        grads = [dZ1 @ X.T, dZ1.sum(axis=1, keepdims=True), dZ2 @ A1.T, dZ2.sum(axis=1, keepdims=True),
                 dS @ A2.T, dS.sum(axis=1, keepdims=True)]
        lr = 1.0 - 0.9 * k / 100
        for q, g in zip(p, grads, strict=True):
            q -= lr * (g + 2 * alpha * q)
    return cost, p
