"""The command line: ``python -m tinygrad_course demo`` (and ``--help`` for the rest)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinygrad_course",
                                     description="tinygrad_course: autograd for the deep-learning course.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo_parser = commands.add_parser("demo", help="run the course's lessons on built-in data")
    demo_parser.set_defaults(run=demo)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
