"""Vendors: the only Python that knows a vendor's ways.

Each vendor has two modules. ``<vendor>.py`` is how the service handles a call (its auth
and credential shape, its error envelope and message format, its request quirks, its
limits as read from ``mocks/``); ``<vendor>_documents.py`` is what its documents are (the
renderers of its answers, its invariants, its special invalid documents, its request
options, how its answers are read for drawing, its live-suite cases). Both halves make
one :class:`~face_contracts.vendors._base.Vendor`; the engine, transports, server,
strategies, draw and the live suite ask it through that interface and never name a
vendor's fields themselves. Importing this package registers every vendor's invariants.
``docs/layout.md`` says how to add an operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from face_contracts.contracts import contracts
from face_contracts.vendors import acedata, ailab, facepp
from face_contracts.vendors._base import (
    Answer,
    Circle,
    FaceMarks,
    Group,
    Refusal,
    Vendor,
    field_is_valid,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "VENDORS",
    "Answer",
    "Circle",
    "FaceMarks",
    "Group",
    "Refusal",
    "Vendor",
    "field_is_valid",
    "vendor_of",
]

VENDORS: Mapping[str, Vendor] = {v.name: v for v in (ailab.VENDOR, acedata.VENDOR, facepp.VENDOR)}
"""Every vendor, by name (``ailab``, ``acedata``, ``facepp``)."""


def vendor_of(operation: str) -> Vendor:
    """The vendor serving ``operation`` (an unknown id raises UnknownOperationError)."""
    return VENDORS[contracts().operation(operation).vendor]
