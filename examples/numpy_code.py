"""Your numpy code, differentiated: the course's own functions, run on Tensors, check their backward.

The course's logistic regression ``propagate`` and the planar network's ``forward_propagation``,
``compute_cost`` and ``backward_propagation`` are written below as the course writes them, in
numpy only: nothing in them knows about this library. Given Tensors, numpy's functions
(``np.dot``, ``np.tanh``, ``np.sum(..., keepdims=True)``) record the graph, so autograd computes
the gradients from the forward alone, and ``check_backward`` compares them with the hand-written
backward. Then a backward with the classic mistake (``db1`` without ``keepdims=True``) fails,
and the report says where and why.

    python examples/numpy_code.py
"""

import numpy as np

from tinygrad_course.datasets import planar_flower
from tinygrad_course.testing import BackwardCheckError, check_backward

# --------------------------------------------------------------------------- the course's code, unchanged


def sigmoid(z):
    s = 1 / (1 + np.exp(-z))
    return s


def propagate(w, b, X, Y):
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    cost = -1 / m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dw = 1 / m * np.dot(X, (A - Y).T)
    db = 1 / m * np.sum(A - Y)
    cost = np.squeeze(cost)
    grads = {"dw": dw, "db": db}
    return grads, cost


def forward_propagation(X, parameters):
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = sigmoid(Z2)
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return A2, cache


def compute_cost(A2, Y):
    m = Y.shape[1]
    logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
    cost = -np.sum(logprobs) / m
    cost = np.squeeze(cost)
    return cost


def backward_propagation(parameters, cache, X, Y):
    m = X.shape[1]
    W2 = parameters["W2"]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y
    dW2 = 1 / m * np.dot(dZ2, A1.T)
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))
    dW1 = 1 / m * np.dot(dZ1, X.T)
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def backward_forgetting_keepdims(parameters, cache, X, Y):
    """The same backward with the classic mistake: db1 summed without keepdims=True."""
    grads = backward_propagation(parameters, cache, X, Y)
    dZ1 = np.dot(parameters["W2"].T, cache["A2"] - Y) * (1 - np.power(cache["A1"], 2))
    grads["db1"] = 1 / X.shape[1] * np.sum(dZ1, axis=1)
    return grads


# --------------------------------------------------------------------------- checked against autograd

X, Y = planar_flower()
rng = np.random.RandomState(2)

print("Logistic regression: propagate(w, b, X, Y), the course's forward and backward in one")
w, b = rng.randn(2, 1) * 0.5, 0.1
grads, cost = propagate(w, b, X, Y)                                   # numpy arrays in, arrays out
check_backward(lambda p: propagate(p["w"], p["b"], X, Y)[1], {"w": w, "b": b}, grads)
print(f"  cost {cost:.6f}; dw and db agree with autograd's gradients of the same cost\n")

print("Planar network 2 → 4 (tanh) → 1: forward_propagation, compute_cost, backward_propagation")
parameters = {"W1": rng.randn(4, 2) * 0.5, "b1": rng.randn(4, 1) * 0.1,
              "W2": rng.randn(1, 4) * 0.5, "b2": rng.randn(1, 1) * 0.1}
A2, cache = forward_propagation(X, parameters)
grads = backward_propagation(parameters, cache, X, Y)
check_backward(lambda p: compute_cost(forward_propagation(X, p)[0], Y), parameters, grads)
print(f"  cost {compute_cost(A2, Y):.6f}; dW1, db1, dW2 and db2 agree with autograd's\n")

print("The same network, db1 = 1/m * np.sum(dZ1, axis=1) without keepdims=True")
wrong = backward_forgetting_keepdims(parameters, cache, X, Y)
try:
    check_backward(lambda p: compute_cost(forward_propagation(X, p)[0], Y), parameters, wrong)
except BackwardCheckError as error:
    print(error)
