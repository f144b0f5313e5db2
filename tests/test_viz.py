"""Pictures of the graph: the lesson's numbers sit on the right nodes and edges, and they render.

The DOT text is parsed (nodes, edges, attributes, label text), never grepped for digits.
Expected numbers are the lesson's, worked by hand: a = 5, b = 3, c = 2 give u = bc = 6,
v = a + u = 11, J = 3v = 33 and dJ/dv = 3, dJ/du = 3, dJ/da = 3, dJ/db = 3·c = 6, dJ/dc = 3·b = 9.
"""

from __future__ import annotations

import html
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest

from tinygrad_course import InputTypeError, InputValueError, Tensor, grad, viz
from tinygrad_course import functional as F
from tinygrad_course.autograd import Op, topological_order
from tinygrad_course.errors import MissingDependencyError
from tinygrad_course.nn import MLP
from tinygrad_course.viz import render
from tinygrad_course.viz.numbers import number as number_text

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- a small DOT reader


@dataclass
class Dot:
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    graph: dict[str, str] = field(default_factory=dict)

    def lines(self, node: str) -> list[str]:
        return label_lines(self.nodes[node]["label"])

    def node_named(self, name: str) -> str:
        """The tensor node whose label starts with ``name`` (then, for arrays, the shape)."""
        found = [n for n in self.nodes if n.startswith("t")
                 and re.fullmatch(re.escape(name) + r"( \([\d, ]*\))?", self.lines(n)[0])]
        assert len(found) == 1, f"{len(found)} nodes named {name!r}"
        return found[0]

    def edges_between(self, source: str, target: str) -> list[dict[str, str]]:
        return [attrs for s, t, attrs in self.edges if (s, t) == (source, target)]

    def op_making(self, node: str) -> str:
        (op,) = [s for s, t, _ in self.edges if t == node]
        return op

    def tensor_nodes(self) -> list[str]:
        return [n for n in self.nodes if n != "legend"]


def _attributes(text: str) -> dict[str, str]:
    """key=value pairs, where a value is <...> (balanced), "..." or a bare word."""
    attrs, i = {}, 0
    while i < len(text):
        match = re.compile(r"\s*(\w+)=").match(text, i)
        if not match:
            break
        key, i = match.group(1), match.end()
        if text[i] == "<":
            depth, start = 0, i
            while True:
                depth += {"<": 1, ">": -1}.get(text[i], 0)
                i += 1
                if depth == 0:
                    break
            attrs[key] = text[start:i]
        elif text[i] == '"':
            value = re.compile(r'"((?:[^"\\]|\\.)*)"').match(text, i)
            assert value is not None
            attrs[key], i = value.group(1).replace('\\"', '"'), value.end()
        else:
            value = re.compile(r"[^\s\]]+").match(text, i)
            assert value is not None
            attrs[key], i = value.group(0), value.end()
    return attrs


def parse_dot(source: str) -> Dot:
    dot = Dot()
    for line in source.splitlines()[1:-1]:
        line = line.strip()
        edge = re.fullmatch(r"(\w+) -> (\w+)(?: \[(.*)\])?", line)
        node = re.fullmatch(r"(\w+) \[(.*)\]", line)
        if edge:
            dot.edges.append((edge.group(1), edge.group(2), _attributes(edge.group(3) or "")))
        elif node and node.group(1) not in ("node", "edge", "graph"):
            dot.nodes[node.group(1)] = _attributes(node.group(2))
        elif not line.startswith(("node ", "edge ")):
            dot.graph.update(_attributes(line))
    return dot


def label_lines(label: str) -> list[str]:
    """The text a reader sees in an HTML-like label, one entry per line."""
    body = label[1:-1] if label.startswith("<") else label
    body = re.sub(r"<BR[^>]*/>|</TR>|<HR/>", "\n", body)
    body = re.sub(r"<[^>]+>", "", body)
    return [html.unescape(line).strip() for line in body.split("\n") if line.strip()]


def edge_label(attrs: dict[str, str]) -> list[str]:
    """An edge's label as one line: a long local derivative is drawn on two ("∂a/∂z = a(1 − a)",
    "= 0.235"), and read back here as one."""
    assert "xlabel" not in attrs                           # labels that graphviz makes room for
    return [" ".join(label_lines(attrs["label"]))]


def number(text: str) -> float:
    return float(text.replace("−", "-"))


def gradient_on(dot: Dot, node: str, root: str = "J") -> float:
    (line,) = [line for line in dot.lines(node) if line.startswith(f"d{root}/d")]
    return number(line.split(" = ")[-1])


# --------------------------------------------------------------------------- the lesson's graph


def lesson() -> SimpleNamespace:
    a = Tensor(5.0, requires_grad=True, name="a")
    b = Tensor(3.0, requires_grad=True, name="b")
    c = Tensor(2.0, requires_grad=True, name="c")
    u = (b * c).named("u")
    v = (a + u).named("v")
    return SimpleNamespace(a=a, b=b, c=c, u=u, v=v, J=(3 * v).named("J"))


def two_layer_step() -> SimpleNamespace:
    """One training step's graph of a 2-layer network (tanh, then sigmoid + cross-entropy)."""
    rng = np.random.default_rng(1)
    net = SimpleNamespace()
    net.X = Tensor(rng.normal(size=(2, 5)), name="X")
    net.Y = Tensor([[1.0, 0.0, 1.0, 1.0, 0.0]], name="Y")
    net.W1 = Tensor(rng.normal(size=(4, 2)) * 0.5, requires_grad=True, name="W1")
    net.b1 = Tensor(rng.normal(size=(4, 1)) * 0.1, requires_grad=True, name="b1")
    net.W2 = Tensor(rng.normal(size=(1, 4)) * 0.5, requires_grad=True, name="W2")
    net.b2 = Tensor(np.zeros((1, 1)), requires_grad=True, name="b2")
    net.Z1 = (net.W1 @ net.X + net.b1).named("Z1")
    net.A1 = net.Z1.tanh().named("A1")
    net.Z2 = (net.W2 @ net.A1 + net.b2).named("Z2")
    net.A2 = net.Z2.sigmoid().named("A2")
    net.J = (-(net.Y * net.A2.log() + (1 - net.Y) * (1 - net.A2).log())).mean().named("J")
    return net


def test_forward_view_shows_the_lessons_values_and_grads_on_their_nodes() -> None:
    g = lesson()
    g.J.backward()
    dot = parse_dot(viz.graph(g.J).source)
    values = {name: number(dot.lines(dot.node_named(name))[1]) for name in "abcuvJ"}
    assert values == {"a": 5, "b": 3, "c": 2, "u": 6, "v": 11, "J": 33}
    grads = {name: number(dot.lines(dot.node_named(name))[2].removeprefix("grad ")) for name in "abcuvJ"}
    assert grads == {"a": 3, "b": 6, "c": 9, "u": 3, "v": 3, "J": 1}
    # u = b × c: both inputs enter the × op, which makes u.
    u, b, c = (dot.node_named(n) for n in "ubc")
    op = dot.op_making(u)
    assert label_lines(dot.nodes[op]["label"]) == ["×"]
    assert dot.edges_between(b, op) and dot.edges_between(c, op)
    # The 3 in J = 3v is a constant, drawn with its value.
    assert any(dot.lines(n) == ["3"] for n in dot.tensor_nodes() if n.startswith("t"))


def test_tensor_graph_draws_with_the_function_viz_hands_in(monkeypatch: pytest.MonkeyPatch) -> None:
    g = lesson()
    assert Tensor.draw_graph is viz.graph                  # set by importing tinygrad_course
    assert g.J.graph(backward=True).source == viz.graph(g.J, backward=True).source
    monkeypatch.setattr(Tensor, "draw_graph", None)
    with pytest.raises(MissingDependencyError, match=r"expected `import tinygrad_course`"):
        g.J.graph()


def test_forward_view_before_backward_shows_no_grads() -> None:
    dot = parse_dot(viz.graph(lesson().J).source)
    assert dot.lines(dot.node_named("b")) == ["b", "3"]


def test_tensors_are_told_apart_by_kind_with_a_legend() -> None:
    g = lesson()
    dot = parse_dot(viz.graph(g.J).source)
    fills = {n: re.findall(r'BGCOLOR="([^"]+)"', dot.nodes[dot.node_named(n)]["label"]) for n in "auJ"}
    fills = {n: found[0] for n, found in fills.items()}
    assert len(set(fills.values())) == 3                    # requires grad, intermediate, output
    legend = " ".join(dot.lines("legend"))
    for words in ("input that requires grad", "input or constant", "intermediate", "output", "operation"):
        assert words in legend
    assert "parameter" not in legend                       # a, b, c are inputs; no one trains them
    network = " ".join(parse_dot(viz.graph(two_layer_step().J).source).lines("legend"))
    assert "parameter (requires grad)" in network          # W1, b1, W2, b2 are


def test_legend_swatches_sit_beside_their_words() -> None:
    """One two-column table: a long note widens only the words' column, not the swatches'."""
    dot = parse_dot(viz.graph(two_layer_step().J, backward=True).source)
    label = dot.nodes["legend"]["label"]
    assert label.count("<TABLE") == 1
    rows = re.findall(r"<TR>(.*?)</TR>", label)
    swatch_rows = [r for r in rows if "FIXEDSIZE" in r]
    assert len(swatch_rows) == 5 and all(r.count("<TD") == 2 for r in swatch_rows)
    notes = [r for r in rows if "dX is short for dJ/dX" in r]
    assert notes and notes[0].startswith("<TD></TD>")      # in the words' column


def test_backward_view_puts_the_local_derivative_on_each_edge() -> None:
    g = lesson()
    dot = parse_dot(viz.graph(g.J, backward=True).source)
    a, b, c, u, v, out = (dot.node_named(n) for n in "abcuvJ")

    def derivative(source: str, result: str) -> str:
        (attrs,) = dot.edges_between(source, dot.op_making(result))
        return edge_label(attrs)[0]

    assert derivative(b, u) == "∂u/∂b = c = 2"
    assert derivative(c, u) == "∂u/∂c = b = 3"
    assert derivative(a, v) == "∂v/∂a = 1"
    assert derivative(u, v) == "∂v/∂u = 1"
    assert derivative(v, out) == "∂J/∂v = 3"
    assert {n: gradient_on(dot, dot.node_named(n)) for n in "abcuvJ"} == {
        "a": 3, "b": 6, "c": 9, "u": 3, "v": 3, "J": 1}


def test_backward_view_computes_gradients_without_touching_grad() -> None:
    g = lesson()
    viz.graph(g.J, backward=True)
    assert g.a.grad is None and g.u.grad is None


@pytest.mark.parametrize(("build", "x0"), [
    (lambda x: x.sigmoid(), 0.7), (lambda x: x.tanh(), -0.4), (lambda x: x.log(), 1.7),
    (lambda x: x.exp(), 0.3), (lambda x: 2.5 / x, 1.3), (lambda x: x ** 3, 1.1),
    (lambda x: 1 - x, 0.2), (lambda x: x.sqrt(), 2.0), (lambda x: x.relu(), 0.5),
])
def test_scalar_edge_values_are_the_local_derivative(build, x0) -> None:
    x = Tensor(x0, requires_grad=True, name="x")
    dot = parse_dot(viz.graph(build(x).named("y"), backward=True).source)
    (attrs,) = dot.edges_between(dot.node_named("x"), dot.op_making(dot.node_named("y")))
    shown = number(edge_label(attrs)[0].split(" = ")[-1])
    h = 1e-6
    with_numpy = (build(Tensor(x0 + h)).item() - build(Tensor(x0 - h)).item()) / (2 * h)
    assert shown == pytest.approx(with_numpy, rel=1e-3, abs=1e-9)


def test_local_derivatives_are_written_in_the_tensors_names() -> None:
    z = Tensor(0.5, requires_grad=True, name="z")
    a = z.sigmoid().named("a")
    dot = parse_dot(viz.graph(a, backward=True).source)
    (attrs,) = dot.edges_between(dot.node_named("z"), dot.op_making(dot.node_named("a")))
    assert edge_label(attrs) == ["∂a/∂z = a(1 − a) = 0.235"]   # σ(0.5) = 0.6225


def test_a_users_own_op_draws_its_backward_graph_with_a_readable_label() -> None:
    """An Op with no entry in ops/notation.py (hypot: ∂h/∂a = a/h, ∂h/∂b = b/h) once crashed here."""
    hypot = Op("hypot", "hypot", np.hypot, lambda g, out, a, b: g * a / out, lambda g, out, a, b: g * b / out)
    s, t = Tensor(3.0, requires_grad=True, name="s"), Tensor(4.0, requires_grad=True, name="t")
    dot = parse_dot(viz.graph(hypot(s, t).named("h"), backward=True).source)
    op = dot.op_making(dot.node_named("h"))
    assert label_lines(dot.nodes[op]["label"]) == ["hypot"]
    (to_s,), (to_t,) = dot.edges_between(dot.node_named("s"), op), dot.edges_between(dot.node_named("t"), op)
    assert (edge_label(to_s), edge_label(to_t)) == (["∂h/∂s = 0.6"], ["∂h/∂t = 0.8"])   # 3/5, 4/5
    # Tensors: the rule is code, so the edge says whose rule carries the gradient, and the sum
    # over the axes b was broadcast along.
    a, b = Tensor([3.0, 5.0], requires_grad=True, name="a"), Tensor(4.0, requires_grad=True, name="b")
    J = hypot(a, b).named("h").sum().named("J")
    dot = parse_dot(viz.graph(J, backward=True).source)
    op = dot.op_making(dot.node_named("h"))
    (to_a,), (to_b,) = dot.edges_between(dot.node_named("a"), op), dot.edges_between(dot.node_named("b"), op)
    assert edge_label(to_a) == ["dh through hypot's rule"]
    assert edge_label(to_b) == ["dh through hypot's rule, Σ over broadcast axes"]
    shown = gradient_on(dot, dot.node_named("b"))        # 4 digits of 4/5 + 4/√41
    assert shown == pytest.approx(4 / 5 + 4 / np.hypot(5, 4), abs=5e-4)
    explained = io.StringIO()
    viz.explain(J, file=explained)
    assert "dJ/db = dh through hypot's rule, Σ over broadcast axes   (): 1.425" in explained.getvalue()
    assert "Backprop, step by step" in viz.explore(J).html


def test_a_tensor_used_twice_gets_two_edges_and_both_shares() -> None:
    x = Tensor(3.0, requires_grad=True, name="x")
    y = (x * x).named("y")
    dot = parse_dot(viz.graph(y, backward=True).source)
    edges = dot.edges_between(dot.node_named("x"), dot.op_making(dot.node_named("y")))
    assert [edge_label(e) for e in edges] == [["∂y/∂x = x = 3"]] * 2
    assert gradient_on(dot, dot.node_named("x"), root="y") == 6


def test_tensor_graph_edges_carry_the_ops_rules() -> None:
    net = two_layer_step()
    dot = parse_dot(viz.graph(net.J, backward=True).source)

    def rule(source: str, result_op_of: str) -> str:
        edges = dot.edges_between(dot.node_named(source), dot.op_making(dot.node_named(result_op_of)))
        return " ".join(label_lines(edges[0]["label"]))

    assert rule("Z1", "A1") == "dA1 ⊙ (1 − A1²)"
    assert rule("Z2", "A2") == "dA2 ⊙ A2(1 − A2)"
    assert rule("b1", "Z1") == "dZ1, Σ over broadcast axes"
    assert rule("b2", "Z2") == "dZ2, Σ over broadcast axes"
    # W1 @ X is unnamed, and Z1 = W1 @ X + b1 passes dZ1 on to it unchanged: dW1 = dZ1 · Xᵀ.
    assert rule("W1", "W1 @ X") == "dZ1 · Xᵀ"
    assert rule("W2", "W2 @ A1") == "dZ2 · A1ᵀ"
    assert rule("A1", "W2 @ A1") == "W2ᵀ · dZ2"


def course_network(layer_dims: list[int]) -> Tensor:
    """The course's MLP on 6 examples, its cost J named as the demo names it."""
    rng = np.random.default_rng(0)
    model = MLP(layer_dims, "relu", seed=1)
    X = rng.normal(size=(layer_dims[0], 6))
    Y = Tensor((rng.random((1, 6)) > 0.5).astype(float), name="Y")
    return F.binary_cross_entropy_with_logits(model(X), Y).named("J")


def test_an_mlps_graph_uses_the_courses_names_and_rules() -> None:
    J = course_network([2, 4, 1])
    dot = parse_dot(viz.graph(J, backward=True).source)
    headers = {dot.lines(n)[0].split(" (")[0] for n in dot.tensor_nodes() if n.startswith("t")}
    assert headers == {"X", "W1", "b1", "W1 @ X", "Z1", "A1", "W2", "b2", "W2 @ A1", "Z2", "Y", "L", "J"}
    assert label_lines(dot.nodes[dot.op_making(dot.node_named("A1"))]["label"]) == ["ReLU"]
    assert dot.edges_between(dot.node_named("Z1"), dot.op_making(dot.node_named("A1")))
    assert dot.edges_between(dot.node_named("Z2"), dot.op_making(dot.node_named("L")))

    def rule(source: str, result: str) -> str:
        (edge,) = dot.edges_between(dot.node_named(source), dot.op_making(dot.node_named(result)))
        return " ".join(label_lines(edge["label"]))

    assert rule("W1", "W1 @ X") == "dZ1 · Xᵀ"             # the course's dW1 = dZ1 · Xᵀ (· 1/m in dZ)
    assert rule("Z1", "A1") == "dA1 ⊙ [Z1 > 0]"
    assert rule("A1", "W2 @ A1") == "W2ᵀ · dZ2"
    assert rule("Z2", "L") == "dL ⊙ (σ(Z2) − Y)"           # dZ2 = A2 − Y, per example
    assert rule("L", "J") == "dJ copied, ÷ count"
    # No internal counter anywhere: no t12, no dt3.
    text = " ".join(line for n in dot.nodes for line in dot.lines(n))
    text += " ".join(" ".join(label_lines(e.get("label", ""))) for _, _, e in dot.edges)
    assert not re.search(r"\bd?t\d+\b", text)
    out = io.StringIO()
    viz.explain(J, file=out)
    assert "dJ/dW1 = dZ1 · Xᵀ   (4, 2): " in out.getvalue()
    assert viz.steps(J)[2].caption.startswith("Step 3 of 11: dJ/dZ2 = dL ⊙ (σ(Z2) − Y)   (1, 6): ")


def test_unnamed_tensors_are_called_after_their_op() -> None:
    x = Tensor(0.5, requires_grad=True, name="x")
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    long = (x.tanh() * 2).exp() + x.sigmoid().log() * x.sigmoid().log()
    dot = parse_dot(viz.graph((long + w.sum()).named("out"), max_nodes=None).source)
    headers = [dot.lines(n)[0] for n in dot.tensor_nodes() if n.startswith("t")]
    for name in ("tanh(x)", "tanh(x) · 2", "σ(x)", "log(σ(x))", "param₁ (2, 2)", "Σ(param₁)"):
        assert name in headers
    assert headers.count("σ(x)") == 1 and "sigmoid₁" in headers      # the second σ(x): a counter
    assert "exp₁" in headers and "exp₁ + mul₁" in headers             # exp(tanh(x) · 2) is too long
    assert len(set(headers)) == len(headers)


def test_tensor_graph_gradients_match_backward() -> None:
    net = two_layer_step()
    dot = parse_dot(viz.graph(net.J, backward=True, max_nodes=None).source)
    net.J.backward()
    for name in ("b1", "W2"):                               # small enough to be shown in full
        lines = dot.lines(dot.node_named(name))
        shown = lines[lines.index(f"dJ/d{name}") + 1]
        numbers = [number(x) for x in re.findall(r"[−\d.e]+", shown.replace("ᵀ", ""))]
        assert numbers == pytest.approx(getattr(net, name).grad.ravel(), rel=1e-3)


def test_values_are_shown_as_the_issue_says() -> None:
    small = Tensor([[1.5, -2.0, 3.0]], requires_grad=True, name="small")
    large = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, name="large")
    out = (small.sum() + large.sum()).named("out")
    dot = parse_dot(viz.graph(out).source)
    assert dot.lines(dot.node_named("small")) == ["small (1, 3)", "[1.5, −2, 3]"]
    assert dot.lines(dot.node_named("large")) == ["large (3, 4)", "[0, 1, 2, …]", "norm 22.49"]
    assert dot.lines(dot.node_named("out")) == ["out", "68.5"]           # 2.5 + 66
    assert number_text(1 / 3) == "0.3333"


# --------------------------------------------------------------------------- explain and the stepper


def test_explain_says_the_chain_rule_in_the_lessons_words() -> None:
    out = io.StringIO()
    viz.explain(lesson().J, file=out)
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["dJ/dJ = 1", "dJ/dv = 3"]
    assert sorted(lines[2:]) == sorted([
        "dJ/du = dJ/dv · dv/du = 3 · 1 = 3",
        "dJ/da = dJ/dv · dv/da = 3 · 1 = 3",
        "dJ/db = dJ/du · du/db = 3 · 2 = 6",
        "dJ/dc = dJ/du · du/dc = 3 · 3 = 9",
    ])


def test_explain_adds_the_shares_of_a_tensor_used_twice(capsys: pytest.CaptureFixture[str]) -> None:
    x = Tensor(3.0, requires_grad=True, name="x")
    w = (x * 2).named("w")
    y = (w - x).named("y")                                   # y = 2x − x: dy/dx = 2 − 1 = 1
    viz.explain(y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "dy/dx = dy/dy · dy/dx + dy/dw · dw/dx = 1 · (−1) + 1 · 2 = 1"


def test_stepper_has_one_frame_per_node_in_reverse_topological_order() -> None:
    g = lesson()
    frames = viz.steps(g.J)
    assert len(frames) == 6                   # J, v, u, a, b, c: the tensors that need a gradient
    out = io.StringIO()
    viz.explain(g.J, file=out)
    assert [f.caption.split(": ", 1)[1] for f in frames] == out.getvalue().splitlines()
    for number_, frame in enumerate(frames, start=1):
        dot = parse_dot(frame.source)
        lit = [n for n, attrs in dot.nodes.items() if 'BORDER="3"' in attrs.get("label", "")]
        assert len(lit) == 1, f"frame {number_} marks {len(lit)} nodes"
        assert frame.caption.startswith(f"Step {number_} of 6: ")
    # Before its step a gradient is unknown; at its step it is complete.
    b_step = next(i for i, f in enumerate(frames) if "dJ/db = " in f.caption)
    before, at = (parse_dot(frames[i].source) for i in (b_step - 1, b_step))
    assert "dJ/db = ?" in before.lines(before.node_named("b"))
    assert gradient_on(at, at.node_named("b")) == 6


def test_stepper_frames_count_for_a_network_step() -> None:
    net = two_layer_step()
    assert len(viz.steps(net.J)) == len(topological_order([net.J]))


def test_save_steps_writes_one_self_contained_page(tmp_path) -> None:
    path = viz.save_steps(lesson().J, tmp_path / "backprop.html")
    page = path.read_text(encoding="utf-8")
    data = json.loads(page.split('id="explorer-data">', 1)[1].split("</script>", 1)[0])
    frames = data["views"]["ops"]["frames"]
    assert len(frames) == 3 + 6                               # forward: u, v, J = 3v; backward: 6 tensors
    assert data["views"]["ops"]["svg"].count("<svg") == 1       # one layout for every frame
    assert "previous" in page and "next" in page and 'type="range"' in page
    # Nothing is loaded from elsewhere, and no URL appears at all: not even the xmlns names,
    # which inline SVG in HTML does without.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page
    assert "http" not in page and "xmlns" not in page and "www." not in page


def test_notes_put_a_teachers_line_under_a_box() -> None:
    g = lesson()
    dot = parse_dot(viz.graph(g.J, backward=True, notes={g.u: "u = bc"}).source)
    assert dot.lines(dot.node_named("u")) == ["u", "6", "dJ/du = 3", "u = bc"]
    assert dot.lines(dot.node_named("v")) == ["v", "11", "dJ/dv = 3"]
    with pytest.raises(InputValueError, match="not part of this graph"):
        viz.graph(g.J, notes={Tensor(1.0): "stranger"})
    with pytest.raises(InputTypeError, match="must be a str"):
        viz.graph(g.J, notes={g.u: 3})  # type: ignore[dict-item]
    escaped = viz.graph(g.J, notes={g.u: "<b>&"}).source
    assert "&lt;b&gt;&amp;" in escaped and "<b>&" not in escaped


def test_the_operands_of_a_subtraction_are_marked_in_bold_large_signs() -> None:
    x = Tensor(3.0, requires_grad=True, name="x")
    w = (x * 2).named("w")
    y = (w - x).named("y")
    dot = parse_dot(viz.graph(y).source)
    minus = dot.op_making(dot.node_named("y"))
    (first,) = dot.edges_between(dot.node_named("w"), minus)
    (second,) = dot.edges_between(dot.node_named("x"), minus)
    assert (label_lines(first["label"]), label_lines(second["label"])) == (["+"], ["−"])
    for edge in (first, second):
        assert "<B>" in edge["label"] and float(edge["fontsize"]) >= 14
        assert edge["fontcolor"] == viz.ROLE_TEXT


def test_stepper_refuses_a_graph_too_long_to_step_through() -> None:
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(30):
        y = y * 1.0
    with pytest.raises(InputValueError, match="max_steps"):
        viz.steps(y, max_steps=10)


# --------------------------------------------------------------------------- highlight and the size guard


def test_highlight_marks_the_paths_from_b_to_the_output_and_dims_the_rest() -> None:
    g = lesson()
    dot = parse_dot(viz.graph(g.J, highlight=g.b).source)
    on_path = [dot.node_named(n) for n in "buvJ"]
    off_path = [dot.node_named(n) for n in "ac"]
    for node in on_path:
        assert viz.HIGHLIGHT in dot.nodes[node]["label"]
    for node in off_path:
        assert viz.DIM_TEXT in dot.nodes[node]["label"] and viz.HIGHLIGHT not in dot.nodes[node]["label"]
    lit_edges = {(s, t) for s, t, attrs in dot.edges if attrs.get("color") == viz.HIGHLIGHT}
    b, u = dot.node_named("b"), dot.node_named("u")
    assert (b, dot.op_making(u)) in lit_edges
    assert (dot.node_named("a"), dot.op_making(dot.node_named("v"))) not in lit_edges
    assert len(lit_edges) == 6                               # b→×→u→+→v→×→J


def test_highlight_of_a_tensor_outside_the_graph_is_an_error() -> None:
    with pytest.raises(InputValueError, match="not part of this graph"):
        viz.graph(lesson().J, highlight=Tensor(1.0, name="stranger"))


def chain(length: int) -> Tensor:
    x = Tensor(0.5, requires_grad=True, name="x")
    y = x
    for i in range(length):
        y = y.tanh() if i % 2 else y * 0.5
    return y.named("y")


def test_size_guard_summarises_a_long_chain_with_a_visible_note() -> None:
    y = chain(400)
    dot = parse_dot(viz.graph(y, max_nodes=20).source)
    assert len(dot.tensor_nodes()) <= 20
    note = " ".join(label_lines(dot.graph["label"]))
    assert "Size guard" in note and "max_nodes = 20" in note
    boxes = [n for n in dot.nodes if n.startswith("g")]
    assert boxes and any("long chains" in " ".join(dot.lines(n)) for n in boxes)
    assert dot.node_named("x") and dot.node_named("y")      # the ends stay visible


def test_size_guard_off_draws_every_node() -> None:
    y = chain(40)
    dot = parse_dot(viz.graph(y, max_nodes=None).source)
    assert len(dot.tensor_nodes()) == 40 * 2 + 1 + 20       # results and ops, x, the 20 constants 0.5
    assert "label" not in dot.graph


def test_size_guard_collapses_name_scopes() -> None:
    x = Tensor(np.ones((3, 1)), name="x")
    h = x
    for layer in range(4):
        weight = Tensor(np.eye(3), requires_grad=True, name=f"layer{layer}.W")
        b = Tensor(np.zeros((3, 1)), requires_grad=True, name=f"layer{layer}.b")
        h = ((weight @ h).named(f"layer{layer}.Wx") + b).tanh().named(f"layer{layer}.out")
    out = h.sum().named("out")
    dot = parse_dot(viz.graph(out, max_nodes=21).source)     # 35 nodes: two scopes must go
    assert len(dot.tensor_nodes()) <= 21
    boxes = {dot.lines(n)[0]: dot.lines(n) for n in dot.nodes if n.startswith("g")}
    assert set(boxes) == {"layer0", "layer1"}                # the first scopes, in order
    assert boxes["layer0"][1] == "layer0.W, layer0.b → layer0.Wx, layer0.out"
    for kept in ("x", "layer2.W", "layer3.Wx", "layer3.out", "out"):
        assert dot.node_named(kept)
    note = " ".join(label_lines(dot.graph["label"]))
    assert "so layer0 and layer1 are drawn as one box each." in note


def test_size_guard_collapses_the_courses_layers_and_keeps_the_last() -> None:
    J = course_network([2, 5, 4, 3, 3, 1])                   # 44 nodes at the default 30
    for backward in (False, True):
        dot = parse_dot(viz.graph(J, backward=backward).source)
        assert len(dot.tensor_nodes()) - 1 <= 30             # without the legend
        note = " ".join(label_lines(dot.graph["label"]))
        assert note == ("Size guard: 44 nodes are more than max_nodes = 30, so layers 1 and 2 are drawn "
                        "as one box each. 30 nodes are drawn; pass max_nodes=None to draw every node.")
        boxes = {n: dot.lines(n) for n in dot.nodes if n.startswith("g")}
        assert sorted(lines[0] for lines in boxes.values()) == ["layer 1", "layer 2"]
        (layer1,) = [n for n, lines in boxes.items() if lines[0] == "layer 1"]
        assert boxes[layer1][1:3] == ["W1, b1 → Z1, A1", "3 ops: @, +, ReLU"]
        # X, the layers after the boxes, the last layer and the loss are drawn as they are.
        for kept in ("X", "W3", "Z3", "A3", "A4", "W5", "b5", "W5 @ A4", "Z5", "Y", "L", "J"):
            assert dot.node_named(kept)
        assert dot.edges_between(dot.node_named("X"), layer1)
    # The edge out of layer 2 is A2's edge into W3 @ A2: it still carries its rule, dA2 = W3ᵀ · dZ3.
    (layer2,) = [n for n in dot.nodes if n.startswith("g") and dot.lines(n)[0] == "layer 2"]
    (edge,) = dot.edges_between(layer2, dot.op_making(dot.node_named("W3 @ A2")))
    assert edge_label(edge) == ["W3ᵀ · dZ3"]


def test_size_guard_groups_unnamed_results_with_their_parameters_layer() -> None:
    X = Tensor(np.ones((2, 3)), name="X")
    A = X
    for layer in range(1, 6):                                # only W and b are named
        W = Tensor(np.full((2, 2), 0.1), requires_grad=True, name=f"W{layer}")
        b = Tensor(np.zeros((2, 1)), requires_grad=True, name=f"b{layer}")
        A = (W @ A + b).tanh()
    dot = parse_dot(viz.graph(A.sum().named("J"), max_nodes=35).source)     # 43 nodes
    boxes = sorted(dot.lines(n) for n in dot.nodes if n.startswith("g"))
    assert [lines[0] for lines in boxes] == ["layer 1", "layer 2"]
    assert boxes[0][1:3] == ["W1, b1", "2 ops: @, +"]      # W1 @ X and + b1; the tanh stays drawn
    assert dot.node_named("W5") and dot.node_named("J")


def test_size_guard_keeps_the_output_end_when_nothing_else_helps() -> None:
    leaves = [Tensor(float(i), requires_grad=True, name=f"w{i}") for i in range(50)]
    total = leaves[0]
    for i, leaf in enumerate(leaves[1:], start=1):
        total = (total + leaf).named(f"s{i}")
    dot = parse_dot(viz.graph(total, max_nodes=15).source)
    assert len(dot.tensor_nodes()) <= 15
    assert dot.node_named("s49")
    assert "farthest from the output" in " ".join(label_lines(dot.graph["label"]))


def test_size_guard_keeps_the_two_layer_step_readable() -> None:
    net = two_layer_step()
    dot = parse_dot(viz.graph(net.J, backward=True).source)   # the default max_nodes
    assert len(dot.tensor_nodes()) <= 30
    for name in ("W1", "b1", "Z1", "A1", "W2", "b2", "Z2", "A2", "J"):
        assert dot.node_named(name)


def test_graph_of_a_derivative_made_with_create_graph() -> None:
    a = Tensor(2.0, requires_grad=True, name="a")
    (d1,) = grad(a ** 3, a, create_graph=True)               # 3a² = 12
    dot = parse_dot(viz.graph(d1.named("da3"), backward=True).source)
    assert number(dot.lines(dot.node_named("da3"))[1]) == 12
    assert gradient_on(dot, dot.node_named("a"), root="da3") == 12      # d(3a²)/da = 6a = 12


# --------------------------------------------------------------------------- escaping and determinism


def test_labels_are_escaped_so_a_name_renders_literally() -> None:
    name = '<b>&"x"</b>'
    x = Tensor(1.0, requires_grad=True, name=name)
    sneaky = Tensor(2.0, name='a] -> evil [label="x"')
    y = (x * sneaky).named("y")
    source = viz.graph(y, backward=True).source
    dot = parse_dot(source)
    assert "evil" not in dot.nodes and all("evil" not in (s, t) for s, t, _ in dot.edges)
    assert dot.node_named(name)
    svg = ET.fromstring(viz.graph(y).pipe("svg"))
    texts = ["".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert name in texts


def test_same_graph_gives_the_same_bytes() -> None:
    first, second = lesson(), lesson()
    assert viz.graph(first.J, backward=True).source == viz.graph(second.J, backward=True).source
    picture = viz.graph(first.J, backward=True)
    assert picture.pipe("svg") == picture.pipe("svg")
    assert list(parse_dot(picture.source).nodes)[:3] == ["t0", "t1", "t2"]   # counters, not id()


# --------------------------------------------------------------------------- rendering


def test_renders_svg_that_parses_as_xml(tmp_path) -> None:
    path = viz.graph(lesson().J, backward=True).save(tmp_path / "J_backward.svg")
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "dJ/db = 6" in texts and "∂u/∂b = c = 2" in texts


def test_renders_png(tmp_path) -> None:
    picture = viz.graph(two_layer_step().J, backward=True)
    path = picture.save(tmp_path / "net.png")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert isinstance(picture.renderer_messages, str)


def test_save_dot_and_suffix_errors(tmp_path) -> None:
    picture = viz.graph(lesson().J)
    assert picture.save(tmp_path / "J.dot").read_text(encoding="utf-8") == picture.source
    with pytest.raises(InputValueError, match=r"\.svg, \.png, \.pdf or \.dot"):
        picture.save(tmp_path / "J.jpeg")


def test_jupyter_shows_svg_inline() -> None:
    bundle = viz.graph(lesson().J)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_save_graphs_writes_forward_and_backward(tmp_path) -> None:
    paths = viz.save_graphs(lesson().J, tmp_path / "out", "lesson")
    assert [p.name for p in paths] == ["lesson_forward.svg", "lesson_backward.svg"]
    assert all(ET.parse(p).getroot().tag.endswith("svg") for p in paths)


def _fake_program(directory, name: str, stderr: str = "") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / name
    program.write_text(f"#!/bin/sh\ncat > /dev/null\necho '{stderr}' >&2\necho '<svg xmlns=\"http://www.w3.org/2000/svg\"/>'\n")
    program.chmod(0o755)


def test_renderer_lookup_order(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    beside_python, on_path = tmp_path / "bin", tmp_path / "path"
    _fake_program(on_path, "dot")
    monkeypatch.setattr(render, "_scripts_directories", lambda: [beside_python])
    monkeypatch.setenv("PATH", str(on_path))
    assert viz.find_renderer() == str(on_path / "dot")                # only a system dot: use it
    _fake_program(on_path, "graphviz-pure")
    assert viz.find_renderer() == str(on_path / "graphviz-pure")      # the wheel before dot
    _fake_program(beside_python, "graphviz-pure")
    assert viz.find_renderer() == str(beside_python / "graphviz-pure")  # next to Python first
    assert viz.find_renderer("pdf") == str(on_path / "dot")           # pdf needs Graphviz's dot


def test_renderer_stderr_is_captured(tmp_path, monkeypatch: pytest.MonkeyPatch,
                                     capfd: pytest.CaptureFixture[str]) -> None:
    _fake_program(tmp_path, "graphviz-pure", stderr="Warning: no such font")
    monkeypatch.setattr(render, "_scripts_directories", lambda: [tmp_path])
    picture = viz.graph(lesson().J)
    assert picture.pipe("svg").strip().endswith(b"/>")
    assert "no such font" in picture.renderer_messages
    assert "no such font" not in capfd.readouterr().err


def test_missing_renderer_names_both_fixes_and_dot_still_works(tmp_path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "_scripts_directories", lambda: [tmp_path])
    monkeypatch.setenv("PATH", str(tmp_path))
    picture = viz.graph(lesson().J)
    with pytest.raises(viz.RendererNotFoundError, match="pip install graphviz-pure") as error:
        picture.save(tmp_path / "J.svg")
    assert "install Graphviz" in str(error.value)
    assert picture.save(tmp_path / "J.dot").read_text(encoding="utf-8").startswith("digraph")
    assert "pip install graphviz-pure" in picture._repr_mimebundle_()["text/plain"]
    with pytest.raises(viz.RendererNotFoundError, match="graphviz-pure renders svg and png, not pdf"):
        picture.save(tmp_path / "J.pdf")


def test_bad_arguments_say_what_was_expected() -> None:
    with pytest.raises(InputTypeError, match="expects a Tensor"):
        viz.graph(3.0)  # type: ignore[arg-type]
    with pytest.raises(InputValueError, match="max_nodes"):
        viz.graph(lesson().J, max_nodes=0)
    with pytest.raises(InputValueError, match="rankdir"):
        viz.graph(lesson().J, rankdir="diagonal")
    with pytest.raises(InputValueError, match="requires_grad=True"):
        viz.graph(Tensor(1.0) * 2, backward=True)
