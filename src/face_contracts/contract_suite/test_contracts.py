"""The live contract suite: every case of :mod:`~face_contracts.contract_suite.cases` sent to
its vendor's target and judged, and every recording re-validated.

Run it from any folder against the installed package with
``pytest --pyargs face_contracts.contract_suite -p face_contracts.contract_suite.plugin``,
or in this repository with ``pytest contract_tests``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from face_contracts.contract_suite.cases import CASES, Case

if TYPE_CHECKING:
    from pathlib import Path

    from face_contracts.contract_suite.runner import ContractRun


def _item(request: pytest.FixtureRequest) -> pytest.Item:
    node = request.node
    assert isinstance(node, pytest.Item)
    return node


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_contract(case: Case, contract_run: ContractRun, request: pytest.FixtureRequest) -> None:
    """The answer to a documented request is what the contract says."""
    contract_run.check(case, _item(request))


def test_recording(
    recording_file: Path | None, contract_run: ContractRun, request: pytest.FixtureRequest
) -> None:
    """A recorded answer still passes the contract and is not stale."""
    if recording_file is None:
        pytest.skip(f"no recordings under {contract_run.settings.recordings_dir}")
    contract_run.check_recording(recording_file, _item(request))
