"""Image rules for request documents, driven by each operation's limits in mocks/.

Only the image the vendor would use is checked: for Face++ that is the first present of
face_token (no image at all), image_file, image_base64, image_url; a URL is not fetched.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from face_contracts._invariants._registry import at, invariant
from face_contracts._report import pointer
from face_contracts.contracts import contracts

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from face_contracts._invariants._registry import Context

__all__ = ["image_bytes_of", "limits_for", "within"]


def limits_for(operation: str) -> Mapping[str, Any] | None:
    """The ``image`` block of an operation's mock data (fields, formats, bytes, pixels), or
    None for an operation that takes no picture in its request."""
    limits: Mapping[str, Any] | None = contracts().mock_data[operation].get("image")
    return limits


def image_bytes_of(
    body: Mapping[str, Any], operation: str, base_dir: Path | None
) -> tuple[str, bytes] | None:
    """The (field, bytes) of the image the vendor would read, or None when it reads none.

    Raises ImageProblemError for base64 that does not decode or a path that cannot be read.
    A value of the wrong shape is the schema's to report: no image is read from it.
    """
    # Pillow, which images imports, is loaded on the first picture checked rather than by
    # `import face_contracts.validation`: most validations never look at a picture.
    from face_contracts.images import ImageProblemError, decode_base64

    limits = limits_for(operation)
    for field in limits["sources"] if limits else ():
        if field not in body:
            continue
        value = body[field]
        if field == "face_token" or field.endswith("_url"):
            return None
        if isinstance(value, str):
            return field, decode_base64(value)
        if isinstance(at(value, "base64"), str):
            return field, decode_base64(value["base64"])
        if not isinstance(at(value, "path"), str):
            return None
        path = Path(value["path"])
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        try:
            return field, path.read_bytes()
        except OSError as error:
            raise ImageProblemError(
                "unreadable", f"cannot read {value['path']!r}: {error.strerror}"
            ) from None
    return None


def within(size: tuple[int, int], bound: Mapping[str, Any], *, upper: bool) -> bool:
    """Whether a picture's (width, height) meets a limit of ``mocks/`` data: a
    ``{width, height, inclusive, rotatable?}`` bound, upper or lower."""
    width, height = size
    limit_w: int = bound["width"]
    limit_h: int = bound["height"]
    if bound.get("rotatable"):
        width, height = max(size), min(size)
        limit_w, limit_h = max(limit_w, limit_h), min(limit_w, limit_h)
    if upper:
        if bound["inclusive"]:
            return width <= limit_w and height <= limit_h
        return width < limit_w and height < limit_h
    if bound["inclusive"]:
        return width >= limit_w and height >= limit_h
    return width > limit_w and height > limit_h


def _describe(bound: Mapping[str, Any], *, upper: bool) -> str:
    word = (
        ("at most" if bound["inclusive"] else "smaller than")
        if upper
        else ("at least" if bound["inclusive"] else "larger than")
    )
    turn = " in either orientation" if bound.get("rotatable") else ""
    return f"{word} {bound['width']}x{bound['height']} px{turn}"


@invariant("image", ("*", "request"))
def image_acceptable(document: Any, context: Context) -> Iterator[tuple[str, str, str]]:
    """The rules image.readable, image.max_bytes, image.decodable, image.format,
    image.min_pixels and image.max_pixels, in the order a vendor meets them."""
    # Pillow is loaded here, on the first picture checked (see image_bytes_of).
    from face_contracts.images import ImageProblemError, decode_check, read_header

    operation = context.operation.id
    limits = limits_for(operation)
    body = at(document, "body")
    if limits is None or not isinstance(body, dict):
        return
    try:
        found = image_bytes_of(body, operation, context.base_dir)
    except ImageProblemError as problem:
        field = next(f for f in limits["sources"] if f in body)
        yield (
            pointer(["body", field]),
            str(problem),
            f"image.{'readable' if problem.reason == 'unreadable' else 'decodable'}",
        )
        return
    if found is None:
        return
    field, data = found
    where = pointer(["body", field])
    if len(data) > limits["max_bytes"]:
        yield (
            where,
            f"the image is {len(data)} bytes; the limit is {limits['max_bytes']} bytes",
            "image.max_bytes",
        )
    try:
        info = read_header(data)
    except ImageProblemError as problem:
        if problem.reason == "bomb":
            yield (
                where,
                f"{problem}; the limit is {_describe(limits['max_pixels'], upper=True)}",
                "image.max_pixels",
            )
        else:
            yield where, str(problem), "image.decodable"
        return
    if info.format not in limits["formats"]:
        yield (
            where,
            f"the image is {info.format}; accepted formats: {', '.join(limits['formats'])}",
            "image.format",
        )
        return
    size = (info.width, info.height)
    measured = f"the image is {info.width}x{info.height} px"
    if not within(size, limits["min_pixels"], upper=False):
        needed = _describe(limits["min_pixels"], upper=False)
        yield where, f"{measured}; it must be {needed}", "image.min_pixels"
    if not within(size, limits["max_pixels"], upper=True):
        allowed = _describe(limits["max_pixels"], upper=True)
        yield where, f"{measured}; it must be {allowed}", "image.max_pixels"
        return  # never decode what is over the pixel limit
    try:
        decode_check(data)
    except ImageProblemError as problem:
        yield where, str(problem), "image.decodable"
