"""The "more derivative examples" lesson: derivatives of a², a³ and log a, and the graph of a
derivative itself.

    python examples/more_derivatives.py [OUT_DIR]

With ``create_graph=True`` the backward pass is recorded like any other computation, so the
derivative d(a³)/da = 3a² is itself a graph: it can be drawn, and differentiated again.
"""

import sys
from pathlib import Path

from tinygrad_course import Tensor, grad, viz

out = Path(sys.argv[1] if len(sys.argv) > 1 else "graphs")
out.mkdir(parents=True, exist_ok=True)

print("At a = 2:")
for label, f, expected in (("a²", lambda a: a ** 2, "2a = 4"),
                           ("a³", lambda a: a ** 3, "3a² = 12"),
                           ("log a", lambda a: a.log(), "1/a = 0.5")):
    a = Tensor(2.0, requires_grad=True, name="a")
    (slope,) = grad(f(a), a)
    print(f"  d({label})/da".ljust(16) + f"= {expected:10} autograd: {slope.item():g}")

a = Tensor(2.0, requires_grad=True, name="a")
cube = (a ** 3).named("a³")
(first,) = grad(cube, a, create_graph=True)       # 3a² = 12, with its own graph
first = first.named("s")                          # s = d(a³)/da, the slope
print("\nThe graph of the slope s = d(a³)/da = 3a² (the VJP of pow, recorded); its derivative is 6a:")
viz.explain(first)                                # ds/da = 6a = 12

written = viz.save_graphs(cube, out, "a_cubed")
written += viz.save_graphs(first, out, "derivative_of_a_cubed")
print()
for path in written:
    print("wrote", path)
