"""What the three cat examples share: train a model on cat / non-cat, print the results next to
the course's, and draw the cost curve and the misclassified test images.

Imported by logistic_regression_cats.py, two_layer_cats.py and deep_cats.py (run those).
"""

import sys
from pathlib import Path

from tinygrad_course.datasets import load_catvnoncat
from tinygrad_course.nn import BinaryClassifier
from tinygrad_course.train import accuracy, fit


def run(name: str, model: BinaryClassifier, lr: float, iterations: int, course: dict[str, float]) -> None:
    """Train ``model`` as the course does; ``course`` holds the figures the course prints."""
    cats = load_catvnoncat(sys.argv[1] if len(sys.argv) > 1 else None)
    print(model)
    history = fit(model, cats.X_train, cats.Y_train, lr=lr, iterations=iterations, print_cost=True)
    ours = {"cost after iteration 0": history.costs[0],
            f"cost after iteration {100 * (len(history.costs) - 1)}": history.costs[-1],
            "train accuracy %": 100 * accuracy(model, cats.X_train, cats.Y_train),
            "test accuracy %": 100 * accuracy(model, cats.X_test, cats.Y_test)}
    print(f"\n{'':28}{'tinygrad_course':>16}{'course':>10}")
    for (label, value), expected in zip(ours.items(), course.values(), strict=True):
        print(f"{label:28}{value:>16.6g}{expected:>10.6g}")
    print(f"({history.seconds:.1f} s of training)")

    out = Path("tinygrad_course_output") / name
    try:
        from tinygrad_course.plots import plot_costs, plot_misclassified

        plot_costs(history, out / "costs.png", title=f"{model!r}, learning rate {lr}")
        plot_misclassified(model, cats.X_test, cats.Y_test, cats.classes, out / "misclassified_test.png")
        print(f"\nPictures in {out}/")
    except ImportError as error:
        print(f"\nNo pictures: {error}")
