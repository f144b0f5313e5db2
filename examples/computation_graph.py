"""The lesson's computation graph J = 3(a + bc), drawn forward and backward.

    python examples/computation_graph.py [OUT_DIR]

Prints the chain rule step by step and writes the pictures (SVG) and the backprop stepper
(one HTML page) into OUT_DIR (default: graphs/).
"""

import sys
from pathlib import Path

from tinygrad_course import Tensor, viz

out = Path(sys.argv[1] if len(sys.argv) > 1 else "graphs")
out.mkdir(parents=True, exist_ok=True)

a = Tensor(5.0, requires_grad=True, name="a")
b = Tensor(3.0, requires_grad=True, name="b")
c = Tensor(2.0, requires_grad=True, name="c")
u = (b * c).named("u")          # u = bc = 6
v = (a + u).named("v")          # v = a + u = 11
J = (3 * v).named("J")          # J = 3v = 33
J.backward()

print("The chain rule, in the order backward() visits the graph:")
viz.explain(J)                  # dJ/db = dJ/du · du/db = 3 · 2 = 6, ...

written = viz.save_graphs(J, out, "J")                                  # values, then dJ/dx and ∂out/∂in
written.append(viz.graph(J, highlight=b).save(out / "J_paths_from_b.svg"))  # how b reaches J
written.append(viz.save_steps(J, out / "J_backprop.html"))              # backprop, one frame per node
print()
for path in written:
    print("wrote", path)
