"""Test-session set-up.

- BLAS runs single-threaded: on a shared 2-core machine a second OpenBLAS thread only fights
  the other processes (the cat-model trainings ran 4-5x slower with it), and results are
  then independent of thread scheduling. Set before numpy is first imported.
- The hypothesis settings profile: "dev" by default, "ci" under CI=true or when
  TINYGRAD_COURSE_PROFILE=ci (pytest's --hypothesis-profile=NAME overrides both).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from tinygrad_course.testing import load_profile  # after the BLAS setting

load_profile()
