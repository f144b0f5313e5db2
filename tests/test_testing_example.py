"""examples/property_tests.py: every property in it passes (pytest would collect the same ones)."""

import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "property_tests.py"


def test_the_example_properties_pass() -> None:
    namespace = runpy.run_path(str(EXAMPLE))  # not as __main__: the suite's profile stays loaded
    properties = {name: value for name, value in namespace.items() if name.startswith("test_")}
    assert sorted(properties) == ["test_linear_layer", "test_relative_change",
                                  "test_softsign_inside_random_graphs", "test_swish"]
    for run in properties.values():
        run()
