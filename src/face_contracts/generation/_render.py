"""What every vendor's renderer is made of: a scene and a request become an answer.

Names, groups and counts are read from the schemas (:func:`flat_at`); where each landmark
sits on a face comes from the vendor's template in
``mocks/<vendor>/<operation>.template.json`` (:func:`template`), fitted to the face: to
its box, or, for a face the detector found, to its measured eyes, nose tip and mouth
corners (:mod:`face_contracts.generation._fit`, :func:`place`). The renderers themselves
live with their vendor (``vendors/<vendor>_documents.py``). The same renderers serve the
Hypothesis strategies (values from a ``DrawChooser``, so examples shrink) and the mock
engine (values from a seeded :class:`RandomChooser`, so answers are deterministic).
"""

from __future__ import annotations

import random
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from face_contracts._resources import data_dir, load_json
from face_contracts.generation._scene import HEX
from face_contracts.generation._schema import flatten, property_schema, schema_of

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from face_contracts.generation._fit import Affine, ThinPlate
    from face_contracts.generation._scene import Chooser, Face

__all__ = [
    "JITTER",
    "face_token",
    "flat_at",
    "jitter",
    "place",
    "probability",
    "produce",
    "template",
    "uuid",
]

JITTER = 0.01
"""How far a template point moves, at most, in box units (half of it either way)."""


@cache
def flat_at(operation: str, kind: str, path: tuple[str, ...]) -> dict[str, Any]:
    """The flattened subschema at a property path (``"[]"`` steps into array items)."""
    node, base = schema_of(operation, kind)
    flat = flatten(node, base)
    for step in path:
        if step == "[]":
            node, flat = flat["items"], flatten(flat["items"], base)
        else:
            node, base = property_schema(flat, step)
            flat = flatten(node, base)
    return flat


@cache
def template(operation: str) -> Mapping[str, Any]:
    """The landmark template of an operation: group -> {key: [u, v]} or [[u, v], ...]."""
    vendor, name = operation.split(".", 1)
    data = cast("dict[str, Any]", load_json(data_dir("mocks") / vendor / f"{name}.template.json"))
    groups: Mapping[str, Any] = data["groups"]
    return groups


def place(
    face: Face,
    uv: Sequence[float],
    jitter: random.Random,
    where: Affine | ThinPlate | None = None,
) -> tuple[float, float]:
    """A template point moved by at most 0.5% of the box and placed on the face: by
    ``where`` (the template's map for a detected face, :func:`placement`) when the face has
    measured anchors, else fitted to the face box and kept inside it."""
    if where is not None and face.anchors:
        return where(uv[0] + jitter.uniform(-0.005, 0.005), uv[1] + jitter.uniform(-0.005, 0.005))
    u = min(0.99, max(0.01, uv[0] + jitter.uniform(-0.005, 0.005)))
    v = min(0.99, max(0.01, uv[1] + jitter.uniform(-0.005, 0.005)))
    return face.left + u * face.width, face.top + v * face.height


def probability(face: Face, chooser: Chooser) -> float:
    """The detector's score for a detected face, else a plausible one."""
    if face.score is not None:
        return round(min(1.0, max(0.0, face.score)), 4)
    return round(chooser.number(0.8, 1.0), 4)


def jitter(chooser: Chooser) -> random.Random:
    """The noise that moves every point of one answer."""
    # One drawn seed moves every point: a thousand separate draws would make generation
    # slow and shrinking pointless.
    return random.Random(chooser.integer(0, 2**32 - 1))  # noqa: S311 - layout noise, not secrecy


def face_token(chooser: Chooser, index: int) -> str:
    """32 lower-case hex digits, distinct for every face of one answer."""
    return chooser.token(HEX, 28) + f"{index:04x}"


def uuid(chooser: Chooser) -> str:
    """A version-4 UUID as text, from the chooser."""
    text = chooser.token(HEX, 32)
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"


def produce(flat: Mapping[str, Any], chooser: Chooser, base: str = "") -> Any:
    """A value valid under a flattened subschema, from the chooser: enums, bounded numbers,
    short strings, and objects with every property (used for attribute blocks)."""
    if "const" in flat:
        return flat["const"]
    if "enum" in flat:
        return chooser.choice(flat["enum"])
    kind = flat.get("type")
    if kind == "integer":
        return chooser.integer(int(flat.get("minimum", 0)), int(flat.get("maximum", 100)))
    if kind == "number":
        return round(
            chooser.number(float(flat.get("minimum", 0)), float(flat.get("maximum", 100))), 4
        )
    if kind == "boolean":
        return chooser.choice((True, False))
    if kind == "string":
        return chooser.token(HEX, max(1, flat.get("minLength", 8)))
    if kind == "object" or "properties" in flat:
        return {
            name: produce(flatten(*property_schema(flat, name)), chooser)  # type: ignore[arg-type]
            for name in flat.get("properties", {})
        }
    if kind == "array":
        count = flat.get("minItems", 1)
        return [produce(flatten(flat["items"], base), chooser) for _ in range(count)]
    msg = f"no value can be produced for {dict(flat)!r:.80}"
    raise ValueError(msg)
