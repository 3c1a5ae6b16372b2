"""face-contracts: contracts, generators and vendor-faithful mocks for face-landmark APIs.

The public API is listed in ``__all__``; everything else is private.
"""

from face_contracts.contracts import KINDS, Operation, operations
from face_contracts.errors import (
    ContractViolationError,
    FaceContractsError,
    UnknownKindError,
    UnknownOperationError,
)
from face_contracts.validation import Failure, Report, validate

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
