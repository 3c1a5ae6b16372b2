"""The documented requests the live suite sends, and what the documentation says comes back.

Each :class:`Case` is data: an operation, the options sent, the picture (a file of
``fixtures/images/``), how it is sent, which credentials, and the expected outcome. Each
vendor writes its own cases beside its documents (``vendors/<vendor>_documents.py``), with
option values taken from the contract itself (the face_field items, landmark groups,
attributes and model versions in ``schemas/`` and ``mocks/``), so a contract change
changes the suite.

Expected error codes are the catalogue codes (``mocks/<vendor>/<operation>.json``) that the
documentation gives for that mistake; ``inferred`` marks expectations the vendor does not
document (what a missing AILabTools key answers, what Ace Data answers for a picture
without a face): a different answer there is reported as a drift warning, not a failure.
"""

from __future__ import annotations

from functools import cache

from face_contracts.contract_suite._case import Case, Expect
from face_contracts.contracts import contracts
from face_contracts.vendors import vendor_of

__all__ = ["CASES", "Case", "Expect", "cases"]


@cache
def cases() -> tuple[Case, ...]:
    """Every case, in the order of ``schemas/operations.json``."""
    found: list[Case] = []
    for operation in contracts().operations:
        found.extend(vendor_of(operation).contract_cases(operation))
    ids = [case.id for case in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        msg = f"duplicate contract cases: {', '.join(duplicates)}"
        raise ValueError(msg)
    return tuple(found)


CASES = cases()
