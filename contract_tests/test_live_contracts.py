"""The live contract suite, collected here from the package (see README.md)."""

from __future__ import annotations

from face_contracts.contract_suite.test_contracts import test_contract, test_recording

__all__ = ["test_contract", "test_recording"]
