"""The command line: ``python -m tinygrad_course demo`` (and ``--help`` for the rest)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .autograd import grad
from .tensor import Tensor


def _lesson_computation_graph() -> None:
    a = Tensor(5.0, requires_grad=True, name="a")
    b = Tensor(3.0, requires_grad=True, name="b")
    c = Tensor(2.0, requires_grad=True, name="c")
    u = (b * c).named("u")
    v = (a + u).named("v")
    J = (3 * v).named("J")
    J.backward()
    print("The computation graph J = 3(a + bc), with a = 5, b = 3, c = 2")
    print(f"  forward:  u = bc = {u.item():g},  v = a + u = {v.item():g},  J = 3v = {J.item():g}")
    print(f"  backward: dJ/dv = {v.grad:g},  dJ/du = {u.grad:g},  dJ/da = {a.grad:g},  "
          f"dJ/db = {b.grad:g},  dJ/dc = {c.grad:g}")


def _lesson_more_derivatives() -> None:
    print("More derivative examples, at a = 2 (first, second, third derivative by autograd)")
    for label, f in (("a²", lambda a: a**2), ("a³", lambda a: a**3), ("log a", lambda a: a.log())):
        a = Tensor(2.0, requires_grad=True)
        (d1,) = grad(f(a), a, create_graph=True)
        (d2,) = grad(d1, a, create_graph=True)
        (d3,) = grad(d2, a)
        print(f"  {label:6}  d/da = {d1.item():<8g} d²/da² = {d2.item():<8g} d³/da³ = {d3.item():g}")


def demo(args: argparse.Namespace) -> int:
    _lesson_computation_graph()
    print()
    _lesson_more_derivatives()
    return 0


def graph(args: argparse.Namespace) -> int:
    """Write the lesson's graphs of J = 3(a + bc), one logistic-regression example, and the stepper."""
    from . import viz

    out, fmt = Path(args.out), args.format
    out.mkdir(parents=True, exist_ok=True)
    a, b, c = (Tensor(x, requires_grad=True, name=n) for x, n in ((5.0, "a"), (3.0, "b"), (2.0, "c")))
    u = (b * c).named("u")
    v = (a + u).named("v")
    lesson = (3 * v).named("J")
    lesson.backward()
    written = viz.save_graphs(lesson, out, "lesson", fmt, title="The lesson's graph: J = 3(a + bc)")
    # One example of logistic regression, every step named as in the lesson:
    # z = w1·x1 + w2·x2 + b, a = σ(z), L = −(y log a + (1 − y) log(1 − a)).
    x1, x2, y = Tensor(2.0, name="x1"), Tensor(1.0, name="x2"), Tensor(1.0, name="y")
    w1, w2, bias = (Tensor(x, requires_grad=True, name=n)
                    for x, n in ((0.3, "w1"), (-0.2, "w2"), (0.1, "b")))
    w1x1, w2x2 = (w1 * x1).named("w1·x1"), (w2 * x2).named("w2·x2")
    z = ((w1x1 + w2x2).named("w1·x1 + w2·x2") + bias).named("z")
    p = z.sigmoid().named("a")
    y_log_a = (y * p.log().named("log a")).named("y log a")
    log_1_minus_a = (1 - p).named("1 − a").log().named("log(1 − a)")
    other = ((1 - y).named("1 − y") * log_1_minus_a).named("(1−y) log(1−a)")
    loss = (-(y_log_a + other).named("−L")).named("L")
    loss.backward()
    title = (f"Logistic regression, one example: a = σ(z) = {p.item():.4g}, y = {y.item():g}; "
             f"backprop gives dz = a − y = {z.grad:.4g}".replace("-", "−"))
    written += viz.save_graphs(loss, out, "logistic_regression", fmt, title=title, max_nodes=None)
    written.append(viz.save_steps(lesson, out / "backprop_steps.html"))
    for path in written:
        print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinygrad_course",
                                     description="tinygrad_course: autograd for the deep-learning course.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo_parser = commands.add_parser("demo", help="run the course's lessons on built-in data")
    demo_parser.set_defaults(run=demo)
    graph_parser = commands.add_parser("graph", help="draw the lesson's graphs and the backprop stepper")
    graph_parser.add_argument("--out", default="graphs", metavar="DIR",
                              help="directory for the files (default: graphs)")
    graph_parser.add_argument("--format", choices=("svg", "png"), default="svg",
                              help="picture format (default: svg)")
    graph_parser.set_defaults(run=graph)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
