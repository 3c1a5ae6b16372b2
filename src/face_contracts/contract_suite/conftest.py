"""Loads the suite's plugin when the suite is collected without ``-p`` (options then keep
their defaults: pass ``-p face_contracts.contract_suite.plugin`` to set them)."""

from __future__ import annotations

pytest_plugins = ("face_contracts.contract_suite.plugin",)
