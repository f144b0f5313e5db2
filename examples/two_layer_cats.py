"""The course's two-layer network on cat / non-cat ("Deep Neural Network – Application"):
12288 → 7 (ReLU) → 1 (sigmoid), W = randn · 0.01 under np.random.seed(1), learning rate 0.0075,
2500 iterations.

    python examples/two_layer_cats.py [path/to/catvnoncat.npz]

Without a path the data comes from $TINYGRAD_COURSE_DATA. Pictures go to
./tinygrad_course_output/two_layer_cats/.
"""

import sys
from pathlib import Path

from tinygrad_course.datasets import load_catvnoncat
from tinygrad_course.nn import MLP
from tinygrad_course.train import accuracy, fit

OUT = Path("tinygrad_course_output") / "two_layer_cats"

cats = load_catvnoncat(sys.argv[1] if len(sys.argv) > 1 else None)
model = MLP([12288, 7, 1], hidden_activation="relu", init="small", seed=1)
print(model)
history = fit(model, cats.X_train, cats.Y_train, lr=0.0075, iterations=2500, print_cost=True)
train = 100 * accuracy(model, cats.X_train, cats.Y_train)
test = 100 * accuracy(model, cats.X_test, cats.Y_test)

print(f"\n{'':24}{'tinygrad_course':>16}{'course':>10}")
print(f"{'cost after iteration 0':24}{history.costs[0]:>16.6f}{0.693050:>10.6f}")
print(f"{'train accuracy':24}{train:>14.2f} %{100.0:>8.2f} %")
print(f"{'test accuracy':24}{test:>14.2f} %{72.0:>8.2f} %")
print(f"({history.seconds:.1f} s of training)")

try:
    from tinygrad_course.plots import plot_costs, plot_misclassified

    plot_costs(history, OUT / "costs.png", title="12288 → 7 → 1, learning rate 0.0075")
    plot_misclassified(model, cats.X_test, cats.Y_test, cats.classes, OUT / "misclassified_test.png")
    print(f"\nPictures in {OUT}/")
except ImportError as error:
    print(f"\nNo pictures: {error}")
