"""Logistic regression on cat / non-cat, as the course's "Logistic Regression with a Neural
Network mindset": w = 0, b = 0, learning rate 0.005, 2000 iterations of gradient descent.

    python examples/logistic_regression_cats.py [path/to/catvnoncat.npz]

Without a path the data comes from $TINYGRAD_COURSE_DATA. Pictures go to
./tinygrad_course_output/logistic_regression_cats/.
"""

import sys
from pathlib import Path

from tinygrad_course.datasets import load_catvnoncat
from tinygrad_course.nn import LogisticRegression
from tinygrad_course.train import accuracy, fit

OUT = Path("tinygrad_course_output") / "logistic_regression_cats"

cats = load_catvnoncat(sys.argv[1] if len(sys.argv) > 1 else None)
model = LogisticRegression(cats.X_train.shape[0])
history = fit(model, cats.X_train, cats.Y_train, lr=0.005, iterations=2000, print_cost=True)
train = 100 * accuracy(model, cats.X_train, cats.Y_train)
test = 100 * accuracy(model, cats.X_test, cats.Y_test)

print(f"\n{'':24}{'tinygrad_course':>16}{'course':>10}")
print(f"{'cost after iteration 0':24}{history.costs[0]:>16.6f}{0.693147:>10.6f}")
print(f"{'cost after iteration 1900':24}{history.costs[19]:>16.6f}{0.140872:>10.6f}")
print(f"{'train accuracy':24}{train:>14.2f} %{99.04:>8.2f} %")
print(f"{'test accuracy':24}{test:>14.2f} %{70.0:>8.2f} %")

try:
    from tinygrad_course.plots import plot_costs, plot_misclassified

    plot_costs(history, OUT / "costs.png", title="Logistic regression, learning rate 0.005")
    plot_misclassified(model, cats.X_test, cats.Y_test, cats.classes, OUT / "misclassified_test.png")
    print(f"\nPictures in {OUT}/")
except ImportError as error:
    print(f"\nNo pictures: {error}")
