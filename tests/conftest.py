"""Test-session set-up.

- BLAS runs single-threaded: on a shared 2-core machine a second OpenBLAS thread only fights
  the other processes (the cat-model trainings ran 4-5x slower with it), and results are
  then independent of thread scheduling. Set before numpy is first imported.
- The hypothesis settings profile: "dev" by default, "ci" under CI=true or when
  TINYGRAD_COURSE_PROFILE=ci (pytest's --hypothesis-profile=NAME overrides both).
"""

import builtins
import os
from collections.abc import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest

from tinygrad_course.testing import load_profile  # after the BLAS setting

load_profile()


@pytest.fixture
def block_import(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``block_import("h5py")``: every import of those packages fails, as on a machine without
    the extra that brings them."""

    def block(*packages: str) -> None:
        real_import = builtins.__import__

        def importer(name: str, *args: object, **kwargs: object) -> object:
            if name.startswith(packages):
                raise ImportError(f"No module named {name!r}")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", importer)

    return block


@pytest.fixture
def without_matplotlib(block_import: Callable[..., None]) -> None:
    """Make every import of matplotlib fail, as on a machine without the plot extra."""
    block_import("matplotlib")
