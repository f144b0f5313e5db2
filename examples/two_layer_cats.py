"""The course's two-layer network on cat / non-cat ("Deep Neural Network – Application"):
12288 → 7 (ReLU) → 1 (sigmoid), W = randn · 0.01 under np.random.seed(1), learning rate 0.0075,
2500 iterations.

    python examples/two_layer_cats.py [path/to/catvnoncat.npz]

Without a path the data comes from $TINYGRAD_COURSE_DATA. Pictures go to
./tinygrad_course_output/two_layer_cats/.
"""

from cat_course_run import run

from tinygrad_course.nn import MLP

# The course's figures: cost after iteration 0 and after the last recorded one, accuracies in %.
COURSE = {"cost0": 0.693050, "cost_last": 0.048555, "train": 100.0, "test": 72.0}

model = MLP([12288, 7, 1], hidden_activation="relu", init="small", seed=1)
run("two_layer_cats", model, lr=0.0075, iterations=2500, course=COURSE)
