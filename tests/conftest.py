"""Load the hypothesis settings profile: "dev" by default, "ci" under CI=true or when
TINYGRAD_COURSE_PROFILE=ci (pytest's --hypothesis-profile=NAME overrides both)."""

from tinygrad_course.testing import load_profile

load_profile()
