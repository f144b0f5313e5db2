"""Logistic regression on cat / non-cat, as the course's "Logistic Regression with a Neural
Network mindset": w = 0, b = 0, learning rate 0.005, 2000 iterations of gradient descent.

    python examples/logistic_regression_cats.py [path/to/catvnoncat.npz]

Without a path the data comes from $TINYGRAD_COURSE_DATA. Pictures go to
./tinygrad_course_output/logistic_regression_cats/.
"""

from cat_course_run import run

from tinygrad_course.nn import LogisticRegression

# The course's figures: cost after iteration 0 and after the last recorded one, accuracies in %.
COURSE = {"cost0": 0.693147, "cost_last": 0.140872, "train": 99.04, "test": 70.0}

model = LogisticRegression(12288)
run("logistic_regression_cats", model, lr=0.005, iterations=2000, course=COURSE)
