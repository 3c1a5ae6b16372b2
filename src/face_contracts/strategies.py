"""Hypothesis strategies for every operation and kind: valid documents, and invalid ones
labelled with the rule they break.

Everything is derived from ``schemas/`` and ``mocks/``: key names, counts, enums, image
limits and error catalogues are read from there, so a schema change changes what is
generated. Valid documents are realistic, not just well-typed: faces sit inside the image,
landmarks inside their face in a plausible layout, counts agree, and a response follows
the request it answers.

>>> from hypothesis import given
>>> from face_contracts import validate
>>> from face_contracts.strategies import documents, invalid_documents
>>> @given(documents("facepp.thousandlandmark", "response"))
... def test_my_parser_reads_every_valid_answer(answer):
...     assert validate("facepp.thousandlandmark", "response", answer).valid
>>> @given(invalid_documents("acedata.face_analyze", "response"))
... def test_my_client_rejects_broken_answers(case):
...     assert case.rule in {rule for rule, _ in case.expected}
>>> test_my_parser_reads_every_valid_answer()
>>> test_my_client_rejects_broken_answers()
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from hypothesis import assume
from hypothesis import strategies as st

from face_contracts._invariants import Context, applicable_rules, run_invariants
from face_contracts.contracts import contracts
from face_contracts.generation._invalid import mutations_of
from face_contracts.generation._mutations import Invalid, mutations_at, sites
from face_contracts.generation._scene import HEX, Face, Scene
from face_contracts.generation._schema import schema_of
from face_contracts.images import encode_image, pad_image
from face_contracts.vendors import vendor_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from face_contracts.generation._scene import Chooser

T = TypeVar("T")

__all__ = [
    "Exchange",
    "Invalid",
    "documents",
    "exchanges",
    "images",
    "invalid_documents",
    "scenes",
]

IMAGE_FORMATS = ("JPEG", "PNG", "BMP")
_CREDENTIAL_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


class DrawChooser:
    """Values drawn by Hypothesis, so failing examples shrink."""

    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def integer(self, low: int, high: int) -> int:
        return self._draw(st.integers(low, high))

    def number(self, low: float, high: float) -> float:
        return self._draw(st.floats(low, high, allow_nan=False, allow_infinity=False))

    def choice(self, options: Sequence[T]) -> T:
        return self._draw(st.sampled_from(options))

    def token(self, alphabet: str, size: int) -> str:
        return self._draw(st.text(alphabet, min_size=size, max_size=size))


def _overlaps(a: Face, b: Face) -> bool:
    return not (
        a.left + a.width <= b.left
        or b.left + b.width <= a.left
        or a.top + a.height <= b.top
        or b.top + b.height <= a.top
    )


@st.composite
def scenes(
    draw: st.DrawFn,
    *,
    min_faces: int = 0,
    max_faces: int = 5,
    min_side: int = 100,
    max_side: int = 1024,
    min_face: int = 64,
) -> Scene:
    """Scenes with image sides in [min_side, max_side] and non-overlapping faces at least
    ``min_face`` pixels wide, sorted largest first."""
    width = draw(st.integers(min_side, max_side))
    height = draw(st.integers(min_side, max_side))
    wanted = draw(st.integers(min_faces, max_faces))
    faces: list[Face] = []
    largest = max(min_face, min(width, height) * 3 // 4)
    for _ in range(wanted):
        if min(width, height) < min_face:
            break
        side = draw(st.integers(min_face, max(min_face, largest)))
        box_height = min(height, side + side // 8)
        box_width = min(width, side)
        left = draw(st.integers(0, width - box_width))
        top = draw(st.integers(0, height - box_height))
        face = Face(
            left,
            top,
            box_width,
            box_height,
            yaw=round(draw(st.floats(-30, 30)), 2),
            pitch=round(draw(st.floats(-20, 20)), 2),
            roll=round(draw(st.floats(-15, 15)), 2),
        )
        if any(_overlaps(face, other) for other in faces):
            continue  # a crowded picture keeps the faces that fit
        faces.append(face)
    if len(faces) < min_faces:
        # Fall back to a grid that always fits: shrinking then reaches small, tidy scenes.
        faces = _grid(width, height, min_faces, min_face)
    faces.sort(key=lambda face: (-face.area, face.top, face.left))
    return Scene(width, height, tuple(faces))


def _grid(width: int, height: int, count: int, min_face: int) -> list[Face]:
    columns = max(1, width // (min_face + 2))
    faces = []
    for index in range(count):
        row, column = divmod(index, columns)
        left, top = column * (min_face + 2), row * (min_face + 2)
        if left + min_face > width or top + min_face > height:
            break
        faces.append(Face(left, top, min_face, min_face))
    return faces


@dataclass(frozen=True)
class Exchange:
    """A request and the answer the vendor gives to it: ``status``, ``content_type`` and
    ``body`` (a JSON value, or text for a plain-text answer). ``kind`` is ``response`` for a
    success and ``error`` otherwise; ``scene`` is the picture's content."""

    request: dict[str, Any]
    status: int
    content_type: str
    body: Any
    kind: str
    scene: Scene


def images(
    *,
    formats: tuple[str, ...] = IMAGE_FORMATS,
    width: st.SearchStrategy[int] | None = None,
    height: st.SearchStrategy[int] | None = None,
    byte_size: int | None = None,
    faces: bool = True,
) -> st.SearchStrategy[bytes]:
    """Real encoded pictures (Pillow): a format from ``formats``, sizes from ``width`` and
    ``height`` (default 64-480 px), padded to exactly ``byte_size`` bytes if given, with up to
    three simple faces drawn in them (or a uniform picture, which has no face, with
    ``faces=False``). A drawn face is no photograph, so each picture declares its faces in
    its metadata (:func:`face_contracts.images.declared_faces`) and the mock reports exactly
    those instead of running its detector."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        image_format = draw(st.sampled_from(formats))
        w = draw(width if width is not None else st.integers(64, 480))
        h = draw(height if height is not None else st.integers(64, 480))
        scene = draw(
            scenes(min_faces=0, max_faces=3, min_side=w, max_side=w, min_face=min(32, w, h))
        )
        boxes = tuple(
            (f.left, f.top, f.width, min(f.height, h - f.top)) for f in scene.faces if f.top < h
        )
        seed = draw(st.integers(0, 2**16))
        data = encode_image(
            image_format, w, h, seed=seed, faces=boxes if faces else (), uniform=not faces
        )
        return pad_image(data, max(byte_size, len(data) + 12)) if byte_size is not None else data

    return build()


def _limits(operation: str) -> Mapping[str, Any] | None:
    data: Mapping[str, Any] | None = contracts().mock_data[operation].get("image")
    return data


def _scene_for(operation: str, *, min_faces: int, max_faces: int) -> st.SearchStrategy[Scene]:
    """Scenes whose picture every limit of the operation accepts."""
    limits = _limits(operation)
    low, high = 100, 480
    if limits is not None:
        low = max(low, limits["min_pixels"]["width"] + 1, limits["min_pixels"]["height"] + 1)
        high = min(high, limits["max_pixels"]["width"] - 1, limits["max_pixels"]["height"] - 1)
    side = limits.get("min_face_side", {}).get("pixels", 48) if limits else 64
    return scenes(
        min_faces=min_faces,
        max_faces=max_faces,
        min_side=low,
        max_side=high,
        min_face=min(side, low),
    )


def _sized_scene(
    operation: str, size: tuple[int, int], *, max_faces: int
) -> st.SearchStrategy[Scene]:
    """Scenes of exactly ``size`` (width, height), which the operation's limits accept."""
    width, height = size
    limits = _limits(operation)
    if limits is not None:
        low, high = limits["min_pixels"], limits["max_pixels"]
        above = (
            (low["width"], low["height"])
            if low["inclusive"]
            else (low["width"] + 1, low["height"] + 1)
        )
        below = (
            (high["width"], high["height"])
            if high["inclusive"]
            else (high["width"] - 1, high["height"] - 1)
        )
        if not (above[0] <= width <= below[0] and above[1] <= height <= below[1]):
            msg = (
                f"image_size {width}x{height} is outside what {operation} accepts: "
                f"{above[0]}x{above[1]} to {below[0]}x{below[1]}"
            )
            raise ValueError(msg)
    elif width < 1 or height < 1:
        msg = f"image_size {width}x{height}: both sides must be at least 1"
        raise ValueError(msg)
    side = limits.get("min_face_side", {}).get("pixels", 48) if limits else 64
    short = min(width, height)
    square = scenes(
        min_faces=0,
        max_faces=max_faces if short >= side else 0,
        min_side=short,
        max_side=short,
        min_face=min(side, short),
    )
    # Faces placed in the short side's square fit the picture whatever its other side.
    return square.map(lambda scene: Scene(width, height, scene.faces))


def _picture(draw: st.DrawFn, operation: str, scene: Scene) -> tuple[str, bytes]:
    limits = _limits(operation)
    formats = [f for f in (limits["formats"] if limits else ["JPEG"]) if f in IMAGE_FORMATS]
    image_format = draw(st.sampled_from(formats))
    boxes = tuple((f.left, f.top, f.width, f.height) for f in scene.faces)
    poses = tuple((f.yaw, f.pitch, f.roll) for f in scene.faces)
    seed = draw(st.integers(0, 2**16))
    return image_format, encode_image(
        image_format, scene.width, scene.height, seed=seed, faces=boxes, poses=poses
    )


def _file_part(image_format: str, data: bytes) -> dict[str, str]:
    extension = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp"}.get(image_format, "bin")
    return {
        "filename": f"face.{extension}",
        "content_type": f"image/{extension.replace('jpg', 'jpeg')}",
        "base64": base64.b64encode(data).decode(),
    }


def _secret(draw: st.DrawFn) -> str:
    return draw(st.text(_CREDENTIAL_ALPHABET, min_size=8, max_size=32))


def _request(draw: st.DrawFn, operation: str, scene: Scene) -> dict[str, Any]:
    """A request document: made-up credentials where the vendor reads them, the scene's
    picture by one of the ways the operation takes it, and documented options."""
    vendor = vendor_of(operation)
    ways = [way for way in ("file", "base64", "url") if vendor.picture_field(operation, way)]
    way = draw(st.sampled_from(ways))
    field = vendor.picture_field(operation, way)
    assert field is not None
    body: dict[str, Any] = {}
    if way == "url":
        name = draw(st.text(HEX, min_size=8, max_size=8))
        body[field] = f"https://images.example.com/faces/{name}.jpg"
    else:
        image_format, data = _picture(draw, operation, scene)
        body[field] = (
            _file_part(image_format, data) if way == "file" else base64.b64encode(data).decode()
        )
    body.update(vendor.request_options(operation, DrawChooser(draw)))
    credentials = [_secret(draw) for _ in vendor.credential_env]
    return vendor.request_document(operation, credentials, body)


@st.composite
def exchanges(
    draw: st.DrawFn, operation: str, *, max_faces: int = 4, variant: str | None = None
) -> Exchange:
    """A valid request and the success answer the vendor gives to it, from one scene: the
    faces drawn into the request's picture are the faces in the answer, and the picture
    declares them (boxes and poses), so the mock sent this request answers those faces too.
    A request by image URL carries no picture: the mock answers the one registered for the
    URL. ``variant`` names a documented alternative shape of the answer."""
    renderer = _renderer(operation, "response", variant)
    scene = draw(_scene_for(operation, min_faces=_min_faces(operation), max_faces=max_faces))
    request = _request(draw, operation, scene)
    body = renderer(scene, request, DrawChooser(draw))
    return Exchange(request, 200, "application/json", body, "response", scene)


def _min_faces(operation: str) -> int:
    """The fewest faces of a success answer (no face is an error in some operations)."""
    return vendor_of(operation).min_faces(operation)


def _renderer(
    operation: str, kind: str, variant: str | None
) -> Callable[[Scene, Mapping[str, Any] | None, Chooser], dict[str, Any]]:
    """The renderer of an operation's success answer, or of one of its variants."""
    _check(operation, kind, variant)  # an unknown operation, kind or variant names the known
    vendor = vendor_of(operation)
    if variant is not None and (operation, variant) not in vendor.variant_renderers:
        # a variant documented for a kind without generated documents
        msg = f"no documents are generated for {operation} {kind} variant {variant!r}"
        raise NotImplementedError(msg)

    def render(scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser) -> dict[str, Any]:
        return vendor.render(operation, scene, request, chooser, variant)

    return render


def _check(operation: str, kind: str, variant: str | None = None) -> None:
    contracts().operation(operation).schema_id(kind, variant)  # names an unknown one


def documents(
    operation: str,
    kind: str,
    *,
    request: Mapping[str, Any] | None = None,
    max_faces: int = 4,
    variant: str | None = None,
    image_size: tuple[int, int] | None = None,
) -> st.SearchStrategy[Any]:
    """Valid documents of one operation and kind (``variant``: of a documented alternative
    shape, ``validate(..., variant=)`` accepts them).

    - ``request``: realistic request documents (headers and body, pictures inside the
      vendor's limits as base64 file parts, options drawn from the documented values);
      ``image_size=(width, height)`` fixes the pictures' size (ValueError outside the
      vendor's limits).
    - ``response``: success answers with up to ``max_faces`` faces. Given ``request=``
      (a request document) they answer that request: only the groups return_landmark asked
      for, the face_field items asked for, at most max_face_num faces, mode 1's single face...
    - ``error``: error answers, one documented error of the operation's catalogue each.
    """
    _check(operation, kind, variant)
    if image_size is not None and kind != "request":
        msg = f"image_size applies to request documents, not {kind}"
        raise ValueError(msg)
    if kind == "request":
        pictures = (
            _scene_for(operation, min_faces=0, max_faces=max_faces)
            if image_size is None
            else _sized_scene(operation, image_size, max_faces=max_faces)
        )
        return pictures.flatmap(
            lambda scene: st.composite(lambda draw: _request(draw, operation, scene))()
        )
    if kind == "response":
        renderer = _renderer(operation, kind, variant)

        @st.composite
        def response(draw: st.DrawFn) -> Any:
            scene = draw(
                _scene_for(operation, min_faces=_min_faces(operation), max_faces=max_faces)
            )
            return renderer(scene, request, DrawChooser(draw))

        return response()

    return errors_with_status(operation).map(lambda answer: answer[2])


def errors_with_status(operation: str) -> st.SearchStrategy[tuple[int, str, Any]]:
    """Documented error answers as ``(status, content_type, body)``."""

    vendor = vendor_of(operation)
    codes = [entry["code"] for entry in vendor.catalogue(operation)]

    @st.composite
    def build(draw: st.DrawFn) -> tuple[int, str, Any]:
        answer = vendor.error(operation, draw(st.sampled_from(codes)), DrawChooser(draw))
        return answer.status, answer.content_type, answer.body

    return build()


# --- invalid documents --------------------------------------------------------------------


def invalid_documents(
    operation: str,
    kind: str,
    *,
    variant: str | None = None,
    image_size: tuple[int, int] | None = None,
) -> st.SearchStrategy[Invalid]:
    """Invalid documents, each breaking exactly one rule, labelled with it.

    Each draw is an :class:`Invalid`: ``document``, ``label`` (the kind of fault),
    ``rule`` and ``pointer`` (the broken rule and where), ``expected`` (every
    ``(rule, pointer)`` failure ``validate`` reports for it) and, for rules that need
    context, the ``request`` or ``status`` to validate with. With ``variant`` they are
    documents of that documented alternative shape broken in one way (``case.variant``
    names it: validate with ``variant=case.variant``). ``image_size`` fixes the size of the
    pictures of request documents (the broken pictures keep the size their rule needs).
    """
    _check(operation, kind, variant)
    if image_size is not None and kind != "request":
        msg = f"image_size applies to request documents, not {kind}"
        raise ValueError(msg)
    valid_requests = (
        documents(operation, kind, image_size=image_size) if kind == "request" else None
    )
    if variant is not None:
        _renderer(operation, kind, variant)  # refuse a variant without generated documents

    @st.composite
    def build(draw: st.DrawFn) -> Invalid:
        if kind == "response":
            exchange = draw(exchanges(operation, variant=variant))
            valid, request, status = exchange.body, exchange.request, None
        elif kind == "error":
            status, _, valid = draw(errors_with_status(operation))
            request = None
        else:
            assert valid_requests is not None
            valid, request, status = draw(valid_requests), None, None
        schema, base = schema_of(operation, kind, variant)
        # The operation's own breaks know its default shape only.
        candidates = (
            special_mutations(operation, kind, valid, request, status, draw)
            if variant is None
            else []
        )
        if not candidates:
            found = sites(valid, schema, base)
            site = draw(st.sampled_from(found))
            candidates = mutations_at(valid, site, draw(st.integers(0, 5)))
            if not candidates:
                candidates = mutations_at(valid, found[0], 0)
        clean = [case for case in candidates if _only_expected_invariants(operation, kind, case)]
        assume(bool(clean))
        chosen = draw(st.sampled_from(clean))
        return chosen if variant is None else replace(chosen, variant=variant)

    return build()


def special_mutations(
    operation: str, kind: str, valid: Any, request: Any, status: int | None, draw: st.DrawFn
) -> list[Invalid]:
    """The special ways to break this operation's document (bad pictures, wrong statuses,
    the vendor's own breaks), or [] to use the generic ones. About half the draws use them
    when some exist, so both kinds appear."""
    found = mutations_of(operation, kind, valid, request, status, DrawChooser(draw))
    if not found or not draw(st.booleans()):
        return []
    return found


def _only_expected_invariants(operation: str, kind: str, case: Invalid) -> bool:
    """A schema-level mutation must not also trip an invariant it does not name (removing a
    face, say, also breaks a face count): such a case would break two rules, not one."""
    op = contracts().operation(operation)
    context = Context(op, case.request, case.status, None)
    found = run_invariants(applicable_rules(operation, kind, context), case.document, context)
    return {(failure.rule, failure.pointer) for failure in found} <= case.expected
