"""The verdict on a document: :class:`Failure`, :class:`Report` and the error that carries one.

A leaf module (it imports only :mod:`face_contracts.errors`), so that the validator and the
invariants can both speak in failures without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from face_contracts.errors import FaceContractsError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["ContractViolationError", "Failure", "Report", "pointer", "pointer_parts"]


def pointer(parts: Sequence[str | int]) -> str:
    """Build an RFC 6901 JSON pointer from path parts."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def pointer_parts(text: str) -> list[str]:
    """The reference tokens of an RFC 6901 JSON pointer (``""`` is the whole document: no
    tokens), unescaped: the inverse of :func:`pointer`."""
    return [part.replace("~1", "/").replace("~0", "~") for part in text.split("/")[1:]]


@dataclass(frozen=True, slots=True)
class Failure:
    """One broken rule.

    ``pointer`` is the RFC 6901 JSON pointer of the offending value ("" is the whole
    document; for a missing key, the pointer of where that key should be). ``rule`` is the
    JSON Schema keyword (``required``, ``additionalProperties``, ``type``...) or the name of
    an invariant (``face_num.matches_face_list``...). ``schema_path`` locates the rule in
    its schema file (the schema's ``$id``, ``#`` and the pointer of the keyword), for
    schema failures.
    """

    pointer: str
    rule: str
    message: str
    schema_path: str = ""

    def __str__(self) -> str:
        return f"{self.pointer or '(document)'}: {self.message} [{self.rule}]"


@dataclass(frozen=True, slots=True)
class Report:
    """The verdict on one document: valid when it has no failures."""

    operation: str
    kind: str
    failures: tuple[Failure, ...]
    variant: str | None = None

    @property
    def valid(self) -> bool:
        """True when no rule is broken."""
        return not self.failures

    def __bool__(self) -> bool:
        return self.valid

    def rules(self) -> set[tuple[str, str]]:
        """The ``(rule, pointer)`` pairs that failed."""
        return {(failure.rule, failure.pointer) for failure in self.failures}

    def raise_for_failures(self) -> None:
        """Raise :class:`ContractViolationError` if the document is invalid."""
        if self.failures:
            raise ContractViolationError(self)

    def __str__(self) -> str:
        name = self.operation + (
            f" {self.kind}" if not self.variant else f" {self.kind}:{self.variant}"
        )
        if not self.failures:
            return f"{name}: valid"
        lines = [f"{name}: invalid ({len(self.failures)} failure{'s' * (len(self.failures) != 1)})"]
        lines.extend(f"  {failure}" for failure in self.failures)
        return "\n".join(lines)


class ContractViolationError(FaceContractsError, AssertionError):
    """A document broke its contract. Carries the :class:`Report` with every failure."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(str(report))
