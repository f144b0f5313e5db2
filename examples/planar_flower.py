"""The course's "Planar data classification with one hidden layer" on its flower data.

Logistic regression draws one straight line (about 47 %); a hidden layer of 4 tanh units
(W = randn · 0.01 under np.random.seed(2), learning rate 1.2, 10000 iterations) follows the
petals (about 90 %). Then the course's sweep over the hidden-layer size, 5000 iterations each.

    python examples/planar_flower.py

Pictures go to ./tinygrad_course_output/planar_flower/.
"""

from pathlib import Path

from tinygrad_course.datasets import planar_flower
from tinygrad_course.nn import MLP, LogisticRegression
from tinygrad_course.train import accuracy, fit

OUT = Path("tinygrad_course_output") / "planar_flower"
X, Y = planar_flower()

print("Logistic regression, learning rate 1.2, 2000 iterations")
linear = LogisticRegression(2)
fit(linear, X, Y, lr=1.2, iterations=2000)
print(f"  accuracy: {100 * accuracy(linear, X, Y):.2f} %   (the course: 47 %)\n")

print("One hidden layer of 4 tanh units, learning rate 1.2, 10000 iterations")
network = MLP([2, 4, 1], hidden_activation="tanh", init="small", seed=2)
history = fit(network, X, Y, lr=1.2, iterations=10000, record_every=1000, print_cost=True)
print(f"  accuracy: {100 * accuracy(network, X, Y):.2f} %   (the course: 90 %)\n")

# The course's figures for the sweep (its notebook's printed "Accuracy for n_h hidden units").
COURSE = {1: 67.5, 2: 67.25, 3: 90.75, 4: 90.5, 5: 91.25, 20: 90.0, 50: 90.25}
print("Hidden-layer size sweep, 5000 iterations each")
print(f"  {'n_h':>4} {'accuracy':>10} {'course':>9}")
sweep = []
for n_h, course in COURSE.items():
    model = MLP([2, n_h, 1], hidden_activation="tanh", init="small", seed=2)
    fit(model, X, Y, lr=1.2, iterations=5000)
    sweep.append((n_h, model, 100 * accuracy(model, X, Y)))
    print(f"  {n_h:>4} {sweep[-1][2]:>8.2f} % {course:>7.2f} %")

try:
    from tinygrad_course.plots import plot_costs, plot_decision_boundaries, plot_decision_boundary

    plot_decision_boundary(linear, X, Y, OUT / "logistic_regression.png", title="Logistic regression")
    plot_decision_boundary(network, X, Y, OUT / "hidden_layer_4.png", title="Hidden layer of size 4")
    plot_costs(history, OUT / "costs.png", title="4 tanh units, learning rate 1.2")
    panels = [(f"Hidden layer of size {n_h} ({acc:.2f} %)", model) for n_h, model, acc in sweep]
    plot_decision_boundaries(panels, X, Y, OUT / "hidden_layer_sweep.png", columns=4)
    print(f"\nPictures in {OUT}/")
except ImportError as error:
    print(f"\nNo pictures: {error}")
