"""examples/property_tests.py passes both ways the README runs it, under its settings profile.

Both ways must load the profile before ``@given`` decorates the properties (it reads the settings
then): otherwise hypothesis's defaults apply, 100 examples and a 200 ms deadline that a gradient
check exceeds on a busy machine.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "property_tests.py"
PROPERTIES = ["test_swish", "test_relative_change", "test_linear_layer", "test_softsign_inside_random_graphs"]


def run(*args: str, **environment: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **environment}
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_under_pytest_the_examples_conftest_loads_the_profile_and_every_property_passes() -> None:
    # The "dev" profile with a fixed seed: the same 20 examples per property on every run.
    out = run("-m", "pytest", "-v", "-p", "no:cacheprovider", "--hypothesis-seed=1", str(EXAMPLE),
              TINYGRAD_COURSE_PROFILE="dev")
    # pytest -v's header names the profile and what it changes (under CI=true hypothesis's own
    # defaults add database=None and print_blob=True): the conftest loaded it.
    (header,) = [line for line in out.splitlines() if line.startswith("hypothesis profile ")]
    assert header.startswith("hypothesis profile 'dev' -> ") and "deadline=None" in header, header
    assert "4 passed" in out


# Run as a script, under a profile registered for this test: 2 examples per property, so the
# gradient checks are counted. Hypothesis's default settings would run 100 per property.
COUNTING_RUN = f"""
import runpy
from hypothesis import settings
import tinygrad_course.testing as testing

settings.register_profile("two_examples", max_examples=2, derandomize=True, deadline=None)
checks = []
real_gradcheck = testing.gradcheck
testing.gradcheck = lambda *args, **kwargs: checks.append(1) or real_gradcheck(*args, **kwargs)
runpy.run_path({str(EXAMPLE)!r}, run_name="__main__")
print("gradchecks:", len(checks))
"""


def test_as_a_script_the_profile_is_loaded_before_the_properties_are_decorated() -> None:
    out = run("-c", COUNTING_RUN, TINYGRAD_COURSE_PROFILE="two_examples")
    assert out.startswith("hypothesis profile: two_examples\n")
    assert [line.split(":")[0] for line in out.splitlines() if line.endswith(": passed")] == PROPERTIES
    checks = int(out.split("gradchecks:")[1])
    assert 4 <= checks <= 4 * 2, out   # one gradcheck per example, at most 2 examples per property
