"""The in-repository entry of the live suite: ``pytest contract_tests``.

The suite itself lives in the package (``face_contracts.contract_suite``) so that other
repositories can run it against the installed package; this folder loads its plugin and
collects its tests.
"""

from __future__ import annotations

pytest_plugins = ("face_contracts.contract_suite.plugin",)
