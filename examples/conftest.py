"""What your own ``conftest.py`` needs for property tests such as ``property_tests.py`` here.

pytest imports this file before it imports the test files, and ``@given`` reads hypothesis's
settings when it decorates a test: so the profile must be loaded here, at the top level. Without
it hypothesis's defaults apply, whose 200 ms deadline a gradient check exceeds on a busy machine.
"""

from tinygrad_course.testing import load_profile

load_profile()  # $TINYGRAD_COURSE_PROFILE, else "ci" when CI=true, else "dev"
