"""hypothesis settings profiles: "dev" for quick runs while you work, "ci" for the build.

Load one in your ``conftest.py``::

    from tinygrad_course.testing import load_profile
    load_profile()      # $TINYGRAD_COURSE_PROFILE, else "ci" when CI=true, else "dev"

or pick one for a run: ``TINYGRAD_COURSE_PROFILE=ci python -m pytest``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.errors import InvalidArgument

from ..errors import InputValueError

#: The environment variable that names the profile to load.
PROFILE_VARIABLE = "TINYGRAD_COURSE_PROFILE"

# Gradient checks call the function hundreds of times per example, so examples are slow by
# hypothesis's standards; a timing deadline would only make runs flaky on a busy machine.
_SHARED = {"deadline": None, "suppress_health_check": (HealthCheck.too_slow,)}

_PROFILES = {
    # Random examples, remembered in .hypothesis/ so a failure found once is tried first next time.
    # derandomize is explicit: hypothesis's own defaults derandomize whenever $CI is set at all.
    "dev": settings(max_examples=20, derandomize=False, **_SHARED),
    # The same examples on every run (derandomize), more of them, nothing read from or written to
    # a local database, and the reproduce-blob printed with every failure.
    "ci": settings(max_examples=60, derandomize=True, database=None, print_blob=True, **_SHARED),
}


def register_profiles() -> None:
    """Register the "dev" and "ci" profiles with hypothesis (safe to call more than once)."""
    for name, profile in _PROFILES.items():
        settings.register_profile(name, profile)


def load_profile(name: str | None = None) -> str:
    """Register the profiles and load ``name``; without one, choose from the environment.

    ``$TINYGRAD_COURSE_PROFILE`` if set, otherwise "ci" when ``CI=true`` (as CI services set
    it), otherwise "dev". Profiles you registered yourself load too. Returns the name loaded.
    """
    register_profiles()
    if name is None:
        name = os.environ.get(PROFILE_VARIABLE) or (
            "ci" if os.environ.get("CI", "").strip().lower() == "true" else "dev"
        )
    try:
        settings.load_profile(name)
    except InvalidArgument:
        raise InputValueError(
            f"unknown hypothesis profile {name!r} (from the argument or ${PROFILE_VARIABLE}); "
            f"this library registers {', '.join(_PROFILES)}."
        ) from None
    return name
