"""This repository's own test session: Hypothesis profiles.

``fast`` is the default: enough examples to catch regressions in a few minutes on two
cores. ``thorough`` is for CI runs that can afford it: ``pytest --hypothesis-profile thorough``
or ``FACE_CONTRACTS_HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("fast", max_examples=30, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("FACE_CONTRACTS_HYPOTHESIS_PROFILE", "fast"))
