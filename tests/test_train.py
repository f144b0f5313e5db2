"""The training loop: what it records and when, its progress bar, predict, accuracy, and errors."""

import io
import re
import sys
import types
import warnings

import numpy as np
import pytest

from tinygrad_course import InputValueError, ShapeError
from tinygrad_course.datasets import planar_flower
from tinygrad_course.nn import MLP, LogisticRegression
from tinygrad_course.optim import SGD
from tinygrad_course.train import DivergedError, ExplodingCostWarning, History, accuracy, fit, predict


def small_problem(m=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3, m))
    Y = (X[0:1] + 0.5 * X[1:2] > 0).astype(float)
    return X, Y


def hand_logistic_regression(X, Y, lr, iterations):
    """The course's propagate / optimize, recording the cost before each update."""
    w, b, m, costs = np.zeros((X.shape[0], 1)), 0.0, X.shape[1], []
    for _ in range(iterations):
        A = 1 / (1 + np.exp(-(w.T @ X + b)))
        costs.append(float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))))
        w, b = w - lr * X @ (A - Y).T / m, b - lr * np.mean(A - Y)
    return costs, w, b


def test_costs_are_recorded_before_the_update_every_record_every_iterations():
    X, Y = small_problem()
    model = LogisticRegression(3)
    history = fit(model, X, Y, lr=0.5, iterations=25, record_every=10, progress=False)
    costs, w, b = hand_logistic_regression(X, Y, lr=0.5, iterations=25)
    assert history.iterations == [0, 10, 20]
    np.testing.assert_allclose(history.costs, [costs[0], costs[10], costs[20]], rtol=1e-12)
    assert history.costs[0] == pytest.approx(np.log(2))     # zeros: σ(0) = ½ for every example
    np.testing.assert_allclose(model.W.data, w.T, rtol=1e-10)
    assert model.b.data[0, 0] == pytest.approx(b, rel=1e-10)
    final, _, _ = hand_logistic_regression(X, Y, lr=0.5, iterations=26)
    assert history.final_cost == pytest.approx(final[25], rel=1e-12)


def test_print_cost_lines_and_history_text_agree(capsys):
    X, Y = small_problem()
    history = fit(LogisticRegression(3), X, Y, lr=0.5, iterations=3, record_every=2, progress=False,
                  print_cost=True)
    printed = capsys.readouterr().out
    assert printed.startswith("Cost after iteration 0: 0.693147\nCost after iteration 2: ")
    assert printed == str(history) + "\n"


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys):
    X, Y = small_problem()
    fit(LogisticRegression(3), X, Y, lr=0.5, iterations=5, progress=True)
    assert capsys.readouterr().err == ""


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_with_the_cost_on_a_terminal(monkeypatch):
    pytest.importorskip("tqdm", reason="the progress bar is the optional extra 'progress' (tqdm)")
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    X, Y = small_problem()
    history = fit(LogisticRegression(3), X, Y, lr=0.5, iterations=5, progress=True)
    text = terminal.getvalue()
    assert "fit: 100%" in text and "5/5" in text and text.endswith("\n")
    assert f"J = {evaluate_before_last_step(X, Y):.6f}" in text    # the cost of the last step drawn
    assert history.costs == [pytest.approx(np.log(2))]


def evaluate_before_last_step(X, Y):
    costs, _, _ = hand_logistic_regression(X, Y, lr=0.5, iterations=5)
    return costs[-1]


def test_cost_lines_and_the_bar_share_a_terminal_without_tearing(monkeypatch, capsys):
    pytest.importorskip("tqdm", reason="the progress bar is the optional extra 'progress' (tqdm)")
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    X, Y = small_problem()
    history = fit(LogisticRegression(3), X, Y, lr=0.5, iterations=3, record_every=2, print_cost=True)
    assert capsys.readouterr().out == str(history) + "\n"    # the course's lines, on stdout as before
    assert "3/3" in terminal.getvalue()


def test_a_notebook_gets_the_bar_although_its_stderr_is_no_terminal(monkeypatch):
    pytest.importorskip("tqdm", reason="the progress bar is the optional extra 'progress' (tqdm)")

    kernel = types.SimpleNamespace(config={"IPKernelApp": {}})    # IPython.get_ipython() in a kernel
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: kernel))
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    X, Y = small_problem()
    fit(LogisticRegression(3), X, Y, lr=0.5, iterations=4)
    assert "4/4" in stream.getvalue()


def test_without_tqdm_training_works_and_draws_nothing(monkeypatch, block_import):
    block_import("tqdm")
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    X, Y = small_problem()
    history = fit(LogisticRegression(3), X, Y, lr=0.5, iterations=5)
    assert terminal.getvalue() == "" and len(history.costs) == 1


def exploding_problem():
    """The flower with lr 1000: the cost leaps from 0.69 to hundreds and never becomes NaN."""
    X, Y = planar_flower()
    return MLP([2, 4, 1], "tanh", init="small", seed=2), X, Y


def test_a_cost_that_explodes_without_nan_gets_one_warning():
    model, X, Y = exploding_problem()
    with pytest.warns(ExplodingCostWarning) as caught:
        history = fit(model, X, Y, lr=1000, iterations=50, record_every=10, progress=False)
    assert len(caught) == 1
    assert re.fullmatch(r"the cost grew from 0.693048 at iteration 0 to \d+\.?\d* at iteration \d+, far "
                        r"above its start \(the limit is 10\): with learning rate 1000 gradient descent is "
                        r"diverging\. Try a smaller lr, or scale the inputs \(pixels / 255\)\.",
                        str(caught[0].message))
    assert caught[0].filename == __file__                     # it points at the caller's fit()
    assert max(history.costs) > 10 and np.isfinite(history.final_cost)


def test_an_exploding_cost_can_stop_training_and_restore_the_parameters():
    model, X, Y = exploding_problem()
    before = {name: value.copy() for name, value in model.state_dict().items()}
    with pytest.raises(DivergedError, match=r"far above its start .* The parameters are back at their "
                                            r"values before fit\(\)\."):
        fit(model, X, Y, lr=1000, iterations=50, progress=False, on_explosion="stop")
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_an_exploding_cost_can_be_ignored_and_a_healthy_run_never_warns():
    model, X, Y = exploding_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(model, X, Y, lr=1000, iterations=50, progress=False, on_explosion="ignore")
        fit(MLP([2, 4, 1], "tanh", init="small", seed=2), X, Y, lr=1.2, iterations=500, progress=False)
    with pytest.raises(InputValueError, match="on_explosion must be one of 'warn', 'stop', 'ignore', got"):
        fit(model, X, Y, lr=1.0, iterations=1, on_explosion="x")


def test_an_explicit_optimizer_is_used():
    X, Y = small_problem()
    model = LogisticRegression(3)
    history = fit(model, X, Y, optimizer=SGD(model.parameters(), lr=0.5), iterations=25, progress=False)
    costs, _, _ = hand_logistic_regression(X, Y, lr=0.5, iterations=1)
    assert history.costs == pytest.approx([costs[0]])


def test_predict_thresholds_at_one_half_and_accuracy_counts_matches():
    model = LogisticRegression(1).load_state_dict({"W": [[1.0]], "b": [[0.0]]})
    X = np.array([[-2.0, 0.0, 1e-9, 3.0]])
    np.testing.assert_array_equal(predict(model, X), [[0, 0, 1, 1]])   # σ(0) = 0.5 is not > 0.5
    assert accuracy(model, X, [[0, 1, 1, 1]]) == 0.75


def test_history_is_empty_for_zero_iterations():
    X, Y = small_problem()
    history = fit(LogisticRegression(3), X, Y, lr=0.1, iterations=0, progress=False)
    assert isinstance(history, History) and history.costs == []
    assert history.final_cost == pytest.approx(np.log(2))


@pytest.mark.parametrize(("X", "Y", "error", "message"), [
    (np.zeros((20, 3)), np.zeros((1, 20)), ShapeError, r"must have n_x = 3 rows.*pass X\.T"),
    (np.zeros((3, 20)), np.zeros(20), ShapeError, r"Y must be \(1, m\).*Y\.reshape\(1, -1\)"),
    (np.zeros((3, 20)), np.zeros((20, 1)), ShapeError, r"one label per row: pass Y\.T"),
    (np.zeros((3, 20)), np.zeros((1, 19)), ShapeError, "X has m = 20 examples .* but Y has 19"),
    (np.zeros((3, 20)), np.full((1, 20), 2.0), InputValueError, "labels 0 and 1 only .* got also 2"),
    (np.zeros((3, 20)), np.full((1, 20), np.nan), InputValueError, "Y contains NaN at 20 entries"),
    (np.full((3, 20), np.nan), np.zeros((1, 20)), InputValueError, "X contains NaN or inf at 60 entries"),
])
def test_bad_data_is_refused_before_training(X, Y, error, message):
    model = LogisticRegression(3)
    with pytest.raises(error, match=message):
        fit(model, X, Y, lr=0.1, iterations=1, progress=False)
    assert np.all(model.W.data == 0)


def test_fit_needs_exactly_one_of_optimizer_and_lr():
    X, Y = small_problem()
    model = LogisticRegression(3)
    with pytest.raises(InputValueError, match="needs an optimizer or a learning rate"):
        fit(model, X, Y, iterations=1)
    with pytest.raises(InputValueError, match="either optimizer= or lr=, not both"):
        fit(model, X, Y, optimizer=SGD(model.parameters(), lr=0.1), lr=0.1, iterations=1)


def test_divergence_is_reported_with_the_learning_rate():
    X, Y = small_problem()
    with pytest.raises(DivergedError, match=r"became (nan|inf) at iteration \d+; with learning rate 1e\+300"):
        fit(MLP([3, 4, 1], "relu", seed=0), X, Y, lr=1e300, iterations=10, progress=False)
