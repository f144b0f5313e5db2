"""`python -m tinygrad_course graph` and the two graph examples write what they promise."""

from __future__ import annotations

import re
import runpy
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tinygrad_course import InputValueError, viz
from tinygrad_course.__main__ import main
from tinygrad_course.viz import render
from tinygrad_course.viz.lesson import logistic_regression

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SVG = "{http://www.w3.org/2000/svg}"
SVG_TEXT = SVG + "text"


def svg_texts(path: Path) -> list[str]:
    return ["".join(t.itertext()) for t in ET.parse(path).getroot().iter(SVG_TEXT)]


def test_graph_command_writes_the_lessons_pictures(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "--out", str(tmp_path / "graphs")]) == 0
    printed = capsys.readouterr().out.split()
    names = [Path(p).name for p in printed]
    assert names == ["lesson_forward.svg", "lesson_backward.svg", "logistic_regression_forward.svg",
                     "logistic_regression_backward.svg", "backprop_steps.html", "flower_layers.svg",
                     "flower_layers_compact.svg", "flower_explorer.html"]
    assert all(Path(p).is_file() for p in printed)
    layers = " ".join(svg_texts(tmp_path / "graphs" / "flower_layers.svg"))
    assert "Z1 (4, 400) = W1 (4, 2) · X (2, 400) + b1 (4, 1)" in layers and "dW1 (4, 2)" in layers
    explorer = (tmp_path / "graphs" / "flower_explorer.html").read_text(encoding="utf-8")
    assert '"iteration": 900' in explorer and "Layer view" in explorer
    lesson = svg_texts(tmp_path / "graphs" / "lesson_backward.svg")
    for shown in ("dJ/da = 3", "dJ/db = 6", "dJ/dc = 9", "∂u/∂b = c = 2", "∂v/∂a = 1"):
        assert shown in lesson
    # One logistic-regression example: z = 0.3·2 − 0.2·1 + 0.1 = 0.5, a = σ(0.5) = 0.6225, y = 1,
    # so dz = a − y = −0.3775 and dw1 = x1·dz = −0.7551.
    logistic = svg_texts(tmp_path / "graphs" / "logistic_regression_backward.svg")
    assert "dL/dz = −0.3775" in logistic and "dL/dw1 = −0.7551" in logistic
    assert "∂a/∂z = a(1 − a)" in logistic and "= 0.235" in logistic     # on two lines
    page = (tmp_path / "graphs" / "backprop_steps.html").read_text(encoding="utf-8")
    assert page.count('"caption": "Backward, step') == 6             # one frame per tensor, in backprop


def test_graph_command_writes_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "--out", str(tmp_path), "--format", "png"]) == 0
    pictures = [Path(p) for p in capsys.readouterr().out.split() if p.endswith(".png")]
    assert len(pictures) == 6
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in pictures)


@pytest.mark.parametrize(("script", "written"), [
    ("computation_graph.py", {"J_forward.svg", "J_backward.svg", "J_paths_from_b.svg", "J_backprop.html"}),
    ("more_derivatives.py", {"a_cubed_forward.svg", "a_cubed_backward.svg",
                             "derivative_of_a_cubed_forward.svg", "derivative_of_a_cubed_backward.svg"}),
])
def test_examples_write_their_pictures(script: str, written: set[str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", [script, str(tmp_path)])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert {p.name for p in tmp_path.iterdir()} == written
    out = capsys.readouterr().out
    if script == "computation_graph.py":
        assert "dJ/db = dJ/du · du/db = 3 · 2 = 6" in out
    else:
        assert "ds/da = ds/da² · da²/da = 3 · 4 = 12" in out       # s = 3 · a²: ds/da = 6a = 12 at a = 2


def svg_size(path: Path) -> tuple[float, float]:
    root = ET.parse(path).getroot()
    return tuple(float(root.get(side, "0").removesuffix("pt")) for side in ("width", "height"))  # type: ignore[return-value]


def test_lesson_pictures_draw_logistic_regression_as_the_lesson(tmp_path: Path) -> None:
    """One example, left to right: z = w1x1 + w2x2 + b → a = σ(z) → L, with dz = a − y at z."""
    written = viz.save_lesson_pictures(tmp_path)
    assert [p.name for p in written] == ["lesson_forward.svg", "lesson_backward.svg",
                                         "logistic_regression_forward.svg",
                                         "logistic_regression_backward.svg", "backprop_steps.html"]
    backward = tmp_path / "logistic_regression_backward.svg"
    width, height = svg_size(backward)
    assert width > 1.5 * height                              # it runs left to right
    texts = svg_texts(backward)
    # z = 0.3·2 − 0.2·1 + 0.1 = 0.5, a = σ(0.5) = 0.6225, y = 1: dz = a − y = −0.3775,
    # da = −y/a + (1 − y)/(1 − a) = −1/0.6225 = −1.607, dw1 = x1·dz = −0.7551.
    for shown in ("dL/dz = −0.3775", "dz = a − y", "= 0.6225 − 1 = −0.3775", "dL/da = −1.607",
                  "dL/dw1 = −0.7551", "dL/db = −0.3775", "∂a/∂z = a(1 − a)", "= 0.235",
                  "∂L/∂a = −y/a + (1 − y)/(1 − a)", "= −1.607", "∂z/∂w1 = x1 = 2", "∂z/∂w2 = x2 = 1",
                  "∂z/∂b = 1"):
        assert shown in texts, shown
    # z = w1x1 + w2x2 + b is one node, as the lesson draws it; the products are not drawn.
    assert "w1x1 + w2x2 + b" in texts and "w1x1" not in texts and "∂w1x1/∂w1 = x1 = 2" not in texts
    # The loss is one op: ×, ×, +, + (z), σ (a) and L — no log, no 1 − a spelled out.
    L = logistic_regression()[0]
    source = viz.graph(L, rankdir="LR").source
    assert "rankdir=LR" in source
    ops = re.findall(r"tooltip=(\w+)", source)
    assert sorted(ops) == ["add", "add", "bce", "mul", "mul", "sigmoid"]
    fused = viz.graph(L, rankdir="LR", fuse_linear=True).source
    assert sorted(re.findall(r"tooltip=(\w+)", fused)) == ["bce", "linear", "sigmoid"]
    forward = svg_texts(tmp_path / "logistic_regression_forward.svg")
    assert "dz = a − y" not in forward and "0.4741" in forward            # L = −log 0.6225


def test_lesson_pictures_in_png(tmp_path: Path) -> None:
    written = viz.save_lesson_pictures(tmp_path / "png", "png")
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in written[:4])
    with pytest.raises(InputValueError, match="expected 'svg', 'png' or 'dot'"):
        viz.save_lesson_pictures(tmp_path, "pdf")


def test_lesson_pictures_as_dot_need_no_renderer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "_scripts_directories", lambda: [tmp_path])
    monkeypatch.setenv("PATH", str(tmp_path))  # neither graphviz-pure nor dot can be found
    written = viz.save_lesson_pictures(tmp_path, "dot")
    assert [p.name for p in written] == [f"{name}_{view}.dot" for name in ("lesson", "logistic_regression")
                                         for view in ("forward", "backward")]
    assert all(p.read_text(encoding="utf-8").startswith("digraph") for p in written)
