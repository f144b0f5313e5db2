"""The explorer page's content, without a browser: frames, details, gradient checks, training."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_course import InputValueError, Tensor, viz
from tinygrad_course.autograd import Op
from tinygrad_course.datasets import planar_flower
from tinygrad_course.functional import binary_cross_entropy_with_logits
from tinygrad_course.nn import MLP
from tinygrad_course.train import fit
from tinygrad_course.viz.checking import check_node
from tinygrad_course.viz.explorer import _layer_view, _op_view
from tinygrad_course.viz.layers import LayerModel
from tinygrad_course.viz.lesson import lesson_graph
from tinygrad_course.viz.names import Walk
from tinygrad_course.viz.numbers import number
from tinygrad_course.viz.replay import replay


def flower_step() -> Tensor:
    X, Y = planar_flower()
    model = MLP([2, 4, 1], "tanh", init="small", seed=2)
    return binary_cross_entropy_with_logits(model(Tensor(X, name="X")), Tensor(Y, name="Y")).named("J")


def test_lesson_details_say_the_chain_rule_with_numbers() -> None:
    J = lesson_graph()
    view = _op_view(J, compact=False)
    walk = Walk(J)
    b = next(t for t in walk.tensors if t.name == "b")
    detail = view["details"][f"t{walk.k(b)}"]
    assert "dJ/db = dJ/du · du/db = 3 · 2 = 6" in detail["lines"]
    assert detail["check"]["agrees"] and "central difference 6, autograd 6" in detail["check"]["rows"][0]
    # Every frame's node is drawn, and every id the page looks up exists in the SVG.
    for frame in view["frames"]:
        assert f'id="ops-{frame["node"]}"' in view["svg"]
        for edge in frame["sent"]:
            assert f'id="ops-{edge}"' in view["svg"], edge
    captions = [frame["caption"] for frame in view["frames"]]
    assert "Forward: u = b · c = 6" in captions and len(set(captions)) == len(captions)


def test_a_tensor_used_twice_sums_over_its_users() -> None:
    a = Tensor(2.0, requires_grad=True, name="a")
    J = (a * 3 + a * a).named("J")           # dJ/da = 3 + 2a = 7
    view = _op_view(J, compact=False)
    walk = Walk(J)
    lines = view["details"][f"t{walk.k(a)}"]["lines"]
    chain = next(line for line in lines if line.startswith("dJ/da"))
    assert chain.count(" + ") >= 2 and chain.endswith("= 7"), chain


def test_layer_details_give_the_formula_with_shapes_and_entries() -> None:
    view = _layer_view(flower_step(), compact=False)
    lines = view["details"]["backward1"]["lines"]
    assert "dW1 = (1/m) dZ1 · Xᵀ:  (4, 2) = (1/400) (4, 400) · (400, 2)" in lines
    assert any(line.startswith("dW1 = [") for line in lines)
    assert view["details"]["backward1"]["check"]["agrees"]
    assert [frame["node"] for frame in view["frames"]] == ["forward1", "forward2", "cost", "backward2",
                                                           "backward1"]


def test_gradient_check_flags_a_wrong_backward_rule() -> None:
    wrong = Op("wrong_sin", "sin", np.sin, lambda g, out, a: g * 1.0)        # should be g · cos(a)
    x = Tensor([0.5, 1.0], requires_grad=True, name="x")
    J = wrong(x).sum().named("J")
    walk = Walk(J)
    gradient = next(s.gradient for s in replay(J) if s.tensor is x)
    check = check_node(walk, x, gradient)
    assert check is not None and not check.agrees
    np.testing.assert_allclose(check.numeric, np.cos([0.5, 1.0]), rtol=1e-6)


def test_page_is_self_contained() -> None:
    page = viz.explore(lesson_graph())
    outside_scripts = re.sub(r"<script[^>]*>.*?</script>", "", page.html, flags=re.S)
    assert "http" not in page.html and "//" not in outside_scripts
    assert not re.search(r"\b(src|href)\s*=", page.html)
    assert page._repr_html_().startswith("<iframe srcdoc=")
    assert "</script>" not in page.html.split('id="explorer-data">', 1)[1].split("</script>", 1)[0]


def test_fit_records_snapshots_for_the_scrubber() -> None:
    X, Y = planar_flower()
    model = MLP([2, 4, 1], "tanh", init="small", seed=2)
    history = fit(model, X, Y, lr=1.2, iterations=25, record_every=5, snapshot_every=10, progress=False)
    assert [s.iteration for s in history.snapshots] == [0, 10, 20]
    assert [s.cost for s in history.snapshots] == [history.costs[0], history.costs[2], history.costs[4]]
    assert set(history.snapshots[0].gradients) == {"W1", "b1", "W2", "b2"}
    assert not np.array_equal(history.snapshots[0].parameters["W1"], model.parameters()[0]._data)
    with pytest.raises(InputValueError, match="snapshot_every"):
        fit(model, X, Y, lr=1.2, iterations=2, snapshot_every=0, progress=False)
    page = viz.explore(flower_step(), history=history).html
    assert '"iteration": 20' in page
    with pytest.raises(InputValueError, match="snapshot_every"):
        viz.explore(flower_step(), history=fit(model, X, Y, lr=1.2, iterations=2, progress=False))


def test_the_layer_view_at_a_snapshot_is_the_network_at_those_parameters() -> None:
    X, Y = planar_flower()
    model = MLP([2, 4, 1], "tanh", init="small", seed=2)
    history = fit(model, X, Y, lr=1.2, iterations=30, snapshot_every=20, progress=False)
    after = LayerModel(flower_step_of(model, X, Y), history.snapshots[1].parameters)
    rebuilt = MLP([2, 4, 1], "tanh", init="small", seed=2)
    rebuilt.load_state_dict(history.snapshots[1].parameters)
    fresh = LayerModel(flower_step_of(rebuilt, X, Y))
    for mine, theirs in zip(after.layers, fresh.layers, strict=True):
        for attribute in ("W", "b", "Z"):
            np.testing.assert_allclose(after.course_gradient(getattr(mine, attribute)),
                                       fresh.course_gradient(getattr(theirs, attribute)),
                                       rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(after.gradients[id(after.layers[0].W)],
                               history.snapshots[1].gradients["W1"], rtol=1e-9, atol=1e-15)
    assert after.blocks()[2].numbers == [f"J = {number(history.snapshots[1].cost)}"]


def flower_step_of(model: MLP, X: np.ndarray, Y: np.ndarray) -> Tensor:
    return binary_cross_entropy_with_logits(model(Tensor(X, name="X")), Tensor(Y, name="Y")).named("J")


def test_compact_page_for_slides_leaves_the_numbers_out() -> None:
    J = flower_step()
    full, compact = _op_view(J, compact=False)["svg"], _op_view(J, compact=True)["svg"]
    assert "norm" in full and "norm" not in compact
    layers = _layer_view(J, compact=True)["svg"]
    assert "Z1 (4, 400) = W1 (4, 2)" in layers and "norm" not in layers
    with pytest.raises(InputValueError, match="max_steps"):
        viz.explore(J, max_steps=5)
