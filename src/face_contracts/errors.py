"""Exceptions raised by face-contracts. Every one derives from :class:`FaceContractsError`.

:class:`~face_contracts.ContractViolationError` carries a :class:`~face_contracts.Report`
and lives with it (``face_contracts.validation``), so that this module imports nothing of
the package and everything may import it.
"""

from __future__ import annotations

__all__ = [
    "FaceContractsError",
    "NotARequestDocumentError",
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


class NotARequestDocumentError(FaceContractsError, TypeError, ValueError):
    """The ``request=`` context of ``validate`` is not a request document ``{headers, body}``.

    A ``TypeError`` (the value is not a mapping) and a ``ValueError`` (a mapping of the
    wrong shape, such as a bare request body) alike, so either may be caught.
    """
