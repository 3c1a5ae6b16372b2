"""This repository's own test session: Hypothesis profiles.

``fast`` is the default: enough examples to catch regressions in a few minutes on two
cores. ``thorough`` is for CI runs that can afford it: ``pytest --hypothesis-profile thorough``
or ``FACE_CONTRACTS_HYPOTHESIS_PROFILE=thorough``. Neither keeps an example database: a
test must pass or fail on its own search, not on what an earlier run saved. Hypothesis's
other caches (constants, Unicode tables) go to the temporary directory, here and in the
processes the tests start, so the suite writes nothing into the repository.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import settings

os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "face-contracts-hypothesis")
)

settings.register_profile("fast", max_examples=30, deadline=None, database=None)
settings.register_profile("thorough", max_examples=500, deadline=None, database=None)
settings.load_profile(os.environ.get("FACE_CONTRACTS_HYPOTHESIS_PROFILE", "fast"))
