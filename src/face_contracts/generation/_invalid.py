"""Invalid documents that need more than a schema keyword: bad images, missing image
sources, wrong statuses, and each vendor's own breaks (broken invariants, keys moved between
groups: :meth:`~face_contracts.vendors.Vendor.invalid_documents`).

Each builder knows the rule it breaks and the exact failures that follow; image limits,
error statuses and per-face list lengths come from ``mocks/`` like everything else. Values
come from a chooser: drawn by Hypothesis in tests (:mod:`face_contracts.strategies`),
seeded in the mock's drifted answers.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

from face_contracts.contracts import contracts
from face_contracts.generation._mutations import Invalid
from face_contracts.generation._scene import Chooser
from face_contracts.images import encode_image, pad_image, truncate_image
from face_contracts.vendors import vendor_of

__all__ = ["mutations_of"]

Builder = Callable[[str, Any, Any, "int | None", Chooser], list[Invalid]]


def mutations_of(
    operation: str, kind: str, valid: Any, request: Any, status: int | None, chooser: Chooser
) -> list[Invalid]:
    """Every special way to break this document, with the values the chooser picks (drawn
    by Hypothesis in tests, seeded in the mock's drifted answers)."""
    builders: dict[str, Builder] = {
        "request": _image_mutations,
        "response": _vendor_mutations,
        "error": _status_mutations,
    }
    return builders[kind](operation, valid, request, status, chooser)


# --- requests -------------------------------------------------------------------------------


def _image_field(operation: str, body: dict[str, Any]) -> str | None:
    limits = contracts().mock_data[operation].get("image")
    if limits is None:
        return None
    for field in limits["sources"]:
        if field in body:
            return None if field == "face_token" or field.endswith("_url") else field
    return None


def _with_image(document: Any, field: str, data: bytes) -> Any:
    mutated = copy.deepcopy(document)
    encoded = base64.b64encode(data).decode()
    if isinstance(mutated["body"][field], dict):
        mutated["body"][field]["base64"] = encoded
    else:
        mutated["body"][field] = encoded
    return mutated


def _image_mutations(
    operation: str, valid: Any, request: Any, status: int | None, chooser: Chooser
) -> list[Invalid]:
    del request, status
    limits = contracts().mock_data[operation].get("image")
    if limits is None:
        return []
    body = valid["body"]
    found = _missing_source(operation, valid, limits["sources"])
    field = _image_field(operation, body)
    if field is None:
        return found
    where = f"/body/{field}"
    accepted = limits["formats"]
    base = accepted[0]

    def case(label: str, rule: str, data: bytes, description: str) -> Invalid:
        return Invalid(
            _with_image(valid, field, data),
            label,
            rule,
            where,
            frozenset({(rule, where)}),
            description,
        )

    wrong = next(f for f in ("GIF", "TIFF", "WEBP", "BMP", "PNG") if f not in accepted)
    found.append(
        case(
            "bad_image",
            "image.format",
            encode_image(wrong, 120, 120, seed=1),
            f"the image is a {wrong}",
        )
    )
    picture = encode_image(base, 160, 160, seed=chooser.integer(0, 255))
    found.append(
        case("bad_image", "image.decodable", truncate_image(picture), "the image file is truncated")
    )
    found.append(
        case("bad_image", "image.decodable", b"\x00\x01\x02", "the bytes are not an image")
    )
    minimum, maximum = limits["min_pixels"], limits["max_pixels"]
    small_w = minimum["width"] - (0 if not minimum["inclusive"] else 1)
    if small_w >= 1:
        data = encode_image(base, small_w, max(small_w, minimum["height"] + 1), seed=2)
        found.append(case("bad_image", "image.min_pixels", data, f"the image is {small_w} px wide"))
    wide = max(maximum["width"], maximum["height"]) + (1 if maximum["inclusive"] else 0)
    tall = max(minimum["height"] + 1, 48)
    found.append(
        case(
            "bad_image",
            "image.max_pixels",
            encode_image(base, wide, tall, seed=3),
            f"the image is {wide} px wide",
        )
    )
    if limits["max_bytes"] <= 8 * 1024 * 1024:  # larger limits cost more memory than they teach
        data = pad_image(encode_image(base, 160, 160, seed=4), limits["max_bytes"] + 4096)
        found.append(case("bad_image", "image.max_bytes", data, f"the image is {len(data)} bytes"))
    return found


def _missing_source(operation: str, valid: Any, sources: list[str]) -> list[Invalid]:
    body = valid["body"]
    mutated = copy.deepcopy(valid)
    for field in sources:
        mutated["body"].pop(field, None)
    if len(sources) == 1:
        where = f"/body/{sources[0]}"
        expected = {("required", where)}
        rule = "required"
    else:
        where, rule = "/body", "anyOf"
        expected = {(rule, where)}
    if not any(field in body for field in sources):
        return []
    return [
        Invalid(
            mutated,
            "missing_image_source",
            rule,
            where,
            frozenset(expected),
            "no image source is sent",
        )
    ]


# --- responses and errors ---------------------------------------------------------------------


def _vendor_mutations(
    operation: str, valid: Any, request: Any, status: int | None, chooser: Chooser
) -> list[Invalid]:
    return vendor_of(operation).invalid_documents(
        operation, "response", valid, request, status, chooser
    )


def _status_mutations(
    operation: str, valid: Any, request: Any, status: int | None, chooser: Chooser
) -> list[Invalid]:
    if status is None:
        return []
    vendor = vendor_of(operation)
    documented = {
        s
        for entry in contracts().mock_data[operation]["errors"]
        for s in entry.get("statuses", [entry["status"]])
    }
    wrong = next(s for s in (418, 451, 599, 507) if s not in documented)
    where = "" if isinstance(valid, str) else vendor.error_code_at
    expected = {("error.status", where), *vendor.wrong_status_breaks}
    return [
        Invalid(
            valid,
            "wrong_status",
            "error.status",
            where,
            frozenset(expected),
            f"the error comes with HTTP {wrong}",
            status=wrong,
        ),
        *vendor.invalid_documents(operation, "error", valid, request, status, chooser),
    ]
