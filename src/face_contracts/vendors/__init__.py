"""Vendors: the only Python that knows a vendor's ways (its auth and credential shape, its
error envelope and message format, its request quirks, its limits as read from ``mocks/``).

Each vendor module defines one :class:`~face_contracts.vendors._base.Vendor`; the engine,
transports, server, strategies, draw and the live suite ask it through that small interface
and never name a vendor's fields themselves. ``docs/layout.md`` says how to add an operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from face_contracts.contracts import contracts
from face_contracts.vendors import acedata, ailab, facepp
from face_contracts.vendors._base import Answer, Refusal, Vendor, field_is_valid

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["VENDORS", "Answer", "Refusal", "Vendor", "field_is_valid", "vendor_of"]

VENDORS: Mapping[str, Vendor] = {v.name: v for v in (ailab.VENDOR, acedata.VENDOR, facepp.VENDOR)}
"""Every vendor, by name (``ailab``, ``acedata``, ``facepp``)."""


def vendor_of(operation: str) -> Vendor:
    """The vendor serving ``operation`` (an unknown id raises UnknownOperationError)."""
    return VENDORS[contracts().operation(operation).vendor]
