"""The "dev" and "ci" hypothesis profiles, chosen from the environment.

Each case runs in a fresh interpreter, so loading a profile never changes this session's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOW = (
    "from hypothesis import settings\n"
    "from tinygrad_course.testing import load_profile\n"
    "name = load_profile()\n"
    "s = settings.default\n"
    "print(name, s.max_examples, 'derandomized' if s.derandomize else 'random',\n"
    "      'no database' if s.database is None else 'database',\n"
    "      'no deadline' if s.deadline is None else 'deadline')\n"
)


def _loaded(**environment: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TINYGRAD_COURSE_PROFILE")}
    result = subprocess.run([sys.executable, "-c", SHOW], capture_output=True, text=True, cwd=ROOT,
                            env={**env, **environment})
    return result.stdout.strip() or result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "dev 20 random database no deadline"),
        ({"CI": "true"}, "ci 60 derandomized no database no deadline"),
        ({"TINYGRAD_COURSE_PROFILE": "ci"}, "ci 60 derandomized no database no deadline"),
        ({"CI": "false"}, "dev 20 random"),
        ({"CI": "true", "TINYGRAD_COURSE_PROFILE": "dev"}, "dev 20 random"),  # the explicit choice wins
    ],
)
def test_the_environment_picks_the_profile(environment: dict[str, str], expected: str) -> None:
    # (Where $CI is set at all, hypothesis itself drops the database; "dev" stays random.)
    assert _loaded(**environment).startswith(expected)


def test_an_unknown_profile_is_named() -> None:
    assert _loaded(TINYGRAD_COURSE_PROFILE="fast") == (
        "tinygrad_course.errors.InputValueError: unknown hypothesis profile 'fast' (from the argument or "
        "$TINYGRAD_COURSE_PROFILE); this library registers dev, ci."
    )
