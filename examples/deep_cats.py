"""The course's L-layer network on cat / non-cat ("Deep Neural Network – Application"):
[12288, 20, 7, 5, 1] with ReLU hidden layers, W = randn / √n[l-1] under np.random.seed(1),
learning rate 0.0075, 2500 iterations.

    python examples/deep_cats.py [path/to/catvnoncat.npz]

Without a path the data comes from $TINYGRAD_COURSE_DATA. Pictures go to
./tinygrad_course_output/deep_cats/.
"""

from cat_course_run import run

from tinygrad_course.nn import MLP

# The course's figures: cost after iteration 0 and after the last recorded one, accuracies in %.
COURSE = {"cost0": 0.771749, "cost_last": 0.092878, "train": 98.56, "test": 80.0}

model = MLP([12288, 20, 7, 5, 1], hidden_activation="relu", init="scaled", seed=1)
run("deep_cats", model, lr=0.0075, iterations=2500, course=COURSE)
