"""The layer view, the compact mode and the readable numbers of the static pictures."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_course import InputValueError, Tensor, viz
from tinygrad_course.functional import binary_cross_entropy_with_logits
from tinygrad_course.nn import MLP, Linear, ReLU, Sequential
from tinygrad_course.viz import render
from tinygrad_course.viz.layers import LayerModel
from tinygrad_course.viz.lesson import lesson_graph


def flower_step(m: int = 400) -> tuple[Tensor, MLP, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(2, m)), (rng.random((1, m)) > 0.5).astype(float)
    model = MLP([2, 4, 1], "tanh", init="small", seed=2)
    J = binary_cross_entropy_with_logits(model(Tensor(X, name="X")), Tensor(Y, name="Y")).named("J")
    return J, model, X, Y


def texts(source: str) -> str:
    """The words of a DOT source, entities decoded, tags dropped."""
    return re.sub(r"<[^>]+>", " ", source).replace("&amp;", "&").replace("&#x27;", "'")


def test_layer_view_writes_each_layer_in_the_course_symbols_with_shapes() -> None:
    J, *_ = flower_step()
    words = texts(viz.graph(J, view="layers").source)
    for equation in ("Z1 (4, 400) = W1 (4, 2) · X (2, 400) + b1 (4, 1)", "A1 (4, 400) = tanh(Z1)",
                     "Z2 (1, 400) = W2 (1, 4) · A1 (4, 400) + b2 (1, 1)", "J = (1/m) Σ L(Z2, Y),  m = 400",
                     "dZ2 (1, 400) = σ(Z2) − Y", "dW2 (1, 4) = (1/m) dZ2 · A1ᵀ", "dA1 (4, 400) = W2ᵀ · dZ2",
                     "dZ1 (4, 400) = dA1 ⊙ (1 − A1²)", "dW1 (4, 2) = (1/m) dZ1 · Xᵀ",
                     "db1 (4, 1) = (1/m) Σ dZ1 over the m examples"):
        assert equation in words, equation
    assert "dA0" not in words and "dX" not in words          # no gradient of the data


def test_layer_view_rows_and_arrows() -> None:
    J, *_ = flower_step()
    source = viz.graph(J, view="layers").source
    rows = re.findall(r"\{\s*rank=same\s*([^}]*)\}", source)
    assert [re.findall(r"\w+", row) for row in rows] == [["forward1", "forward2", "cost"],
                                                         ["backward1", "backward2"]]
    assert re.search(r"forward1 -> backward1 \[[^]]*cache X, Z1", source)
    assert re.search(r"forward2 -> backward2 \[[^]]*cache A1, Z2", source)
    assert re.search(r"cost -> backward2 \[[^]]*dZ2", source)
    assert re.search(r"backward1 -> backward2 \[label=dA1 [^]]*dir=back", source)   # drawn from 2 to 1


def test_layer_numbers_are_the_course_formulas() -> None:
    J, model, X, Y = flower_step(m=50)
    layers = LayerModel(J)
    W1, b1, W2, b2 = (p._data for p in model.parameters())
    A1 = np.tanh(W1 @ X + b1)
    A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
    dZ2 = A2 - Y                                              # the course's formulas, in numpy
    dZ1 = (W2.T @ dZ2) * (1 - A1 ** 2)
    first, second = layers.layers
    np.testing.assert_allclose(layers.course_gradient(second.Z), dZ2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layers.course_gradient(first.Z), dZ1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layers.course_gradient(first.W), dZ1 @ X.T / 50, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(layers.course_gradient(first.b), dZ1.sum(axis=1, keepdims=True) / 50,
                               rtol=1e-10, atol=1e-14)
    detail = " ".join(layers.blocks()[-1].detail)
    assert "dW1 = (1/m) dZ1 · Xᵀ:  (4, 2) = (1/50) (4, 50) · (50, 2)" in detail


def test_layer_view_of_an_unnamed_sequential() -> None:
    rng = np.random.default_rng(3)
    net = Sequential(Linear(2, 3, rng=1), ReLU(), Linear(3, 1, rng=2))
    X, Y = Tensor(rng.normal(size=(2, 7))), Tensor((rng.random((1, 7)) > 0.5).astype(float))
    words = texts(viz.graph(binary_cross_entropy_with_logits(net(X), Y), view="layers").source)
    for equation in ("Z1 (3, 7) = W1 (3, 2) · X (2, 7) + b1 (3, 1)", "A1 (3, 7) = ReLU(Z1)",
                     "dZ1 (3, 7) = dA1 ⊙ [Z1 &gt; 0]", "dW2 (1, 3) = (1/m) dZ2 · A1ᵀ"):
        assert equation.replace("&gt;", ">") in words.replace("&gt;", ">"), equation


def test_layer_view_needs_layers() -> None:
    with pytest.raises(InputValueError, match="view='ops'"):
        viz.graph(lesson_graph(), view="layers")
    with pytest.raises(InputValueError, match=r"'ops' .* or 'layers'"):
        viz.graph(lesson_graph(), view="sideways")


def test_compact_mode_shows_names_and_shapes_and_a_one_row_legend() -> None:
    J, *_ = flower_step(m=5)
    full, compact = viz.graph(J, backward=True).source, viz.graph(J, backward=True, compact=True).source
    assert "norm" in full and "norm" not in compact and "dJ/dW1" not in compact
    assert "W1 " in texts(compact) and "(4, 2)" in compact
    legend = re.search(r"legend \[label=<(.*)> ", compact).group(1)  # type: ignore[union-attr]
    assert legend.count("<TR>") == 1 and "Legend" not in legend
    lesson = viz.graph(lesson_graph(), legend="small").source
    assert re.search(r"legend \[label=<(.*)> ", lesson).group(1).count("<TR>") == 1  # type: ignore[union-attr]
    assert "33" in lesson                                             # values stay; only the legend shrinks


def test_large_arrays_show_first_entries_and_norm_not_a_mean() -> None:
    t = Tensor(np.full((4, 400), 1e-10) * np.arange(1600).reshape(4, 400), requires_grad=True, name="T")
    words = texts(viz.graph((t * 1.0).sum().named("J")).source)
    assert "[0, 1e−10, 2e−10, …]" in words and "norm" in words and "mean" not in words


def test_png_draws_the_elementwise_product_with_a_glyph_its_fonts_have(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    echo = tmp_path / "graphviz-pure"                 # a renderer that returns the text it was given
    echo.write_text("#!/bin/sh\ncat\n")
    echo.chmod(0o755)
    monkeypatch.setattr(render, "_scripts_directories", lambda: [tmp_path])
    J, *_ = flower_step(m=5)
    picture = viz.graph(J, view="layers")
    assert "⊙" in picture.source
    sent = picture.pipe("png").decode("utf-8")
    assert "⊙" not in sent and "dA1 ○ (1 − A1²)" in sent
