"""face-contracts: contracts, generators and vendor-faithful mocks for face-landmark APIs.

The public API is listed in ``__all__``; everything else is private. Names are imported on
first use, so that the pytest plugin, loaded in every test session of a project that
installs the package, costs nothing until a fixture is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from face_contracts.contracts import KINDS, Operation, operations
    from face_contracts.errors import FaceContractsError, UnknownKindError, UnknownOperationError
    from face_contracts.validation import ContractViolationError, Failure, Report, validate

__all__ = [
    "KINDS",
    "ContractViolationError",
    "FaceContractsError",
    "Failure",
    "Operation",
    "Report",
    "UnknownKindError",
    "UnknownOperationError",
    "operations",
    "validate",
]

_HOMES = {
    "KINDS": "face_contracts.contracts",
    "Operation": "face_contracts.contracts",
    "operations": "face_contracts.contracts",
    "ContractViolationError": "face_contracts.validation",
    "FaceContractsError": "face_contracts.errors",
    "UnknownKindError": "face_contracts.errors",
    "UnknownOperationError": "face_contracts.errors",
    "Failure": "face_contracts.validation",
    "Report": "face_contracts.validation",
    "validate": "face_contracts.validation",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        msg = f"module 'face_contracts' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
