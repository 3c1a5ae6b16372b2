"""Exceptions raised by face-contracts. Every one derives from :class:`FaceContractsError`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from face_contracts.validation import Report

__all__ = [
    "ContractViolationError",
    "FaceContractsError",
    "UnknownKindError",
    "UnknownOperationError",
]


class FaceContractsError(Exception):
    """Base of every error this package raises."""


class UnknownOperationError(FaceContractsError, KeyError):
    """An operation id that is not one of :func:`face_contracts.operations`."""

    def __init__(self, operation: str, known: tuple[str, ...]) -> None:
        self.operation = operation
        self.known = known
        super().__init__(operation)

    def __str__(self) -> str:
        return f"unknown operation {self.operation!r}; known: {', '.join(self.known)}"


class UnknownKindError(FaceContractsError, KeyError):
    """A document kind or variant that the operation does not have."""

    def __init__(self, kind: str, known: tuple[str, ...]) -> None:
        self.kind = kind
        self.known = known
        super().__init__(kind)

    def __str__(self) -> str:
        return f"unknown kind {self.kind!r}; known: {', '.join(self.known)}"


class ContractViolationError(FaceContractsError, AssertionError):
    """A document broke its contract. Carries the :class:`Report` with every failure."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(str(report))
