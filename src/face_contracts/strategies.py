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
from typing import TYPE_CHECKING, Any

from hypothesis import assume
from hypothesis import strategies as st

from face_contracts.contracts import contracts
from face_contracts.generation._errors import catalogue, error_answer
from face_contracts.generation._mutations import Invalid, mutations_at, sites
from face_contracts.generation._render import RENDERERS, flat_at
from face_contracts.generation._scene import HEX, DrawChooser, Scene, scenes
from face_contracts.generation._schema import schema_of
from face_contracts.images import encode_image, pad_image

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from face_contracts.generation._scene import Chooser

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
    return draw(
        st.text(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
            min_size=8,
            max_size=32,
        )
    )


def _comma_subset(draw: st.DrawFn, options: list[str]) -> str:
    chosen = draw(
        st.lists(st.sampled_from(options), min_size=1, max_size=len(options), unique=True)
    )
    return ",".join(chosen)


def _request(draw: st.DrawFn, operation: str, scene: Scene) -> dict[str, Any]:
    vendor = operation.split(".", 1)[0]
    if vendor == "acedata":
        name = draw(st.text(HEX, min_size=8, max_size=8))
        body: dict[str, Any] = {"image_url": f"https://images.example.com/faces/{name}.jpg"}
        for name in ("mode", "face_model_version", "need_rotate_detection"):
            if draw(st.booleans()):
                body[name] = draw(
                    st.sampled_from(flat_at(operation, "request", ("body", name))["enum"])
                )
        return {
            "headers": {
                "authorization": f"Bearer {_secret(draw)}",
                "content-type": "application/json",
            },
            "body": body,
        }
    image_format, data = _picture(draw, operation, scene)
    if vendor == "ailab":
        body = {"image": _file_part(image_format, data)}
        if operation == "ailab.face_key_points":
            from face_contracts._invariants.ailab import FACE_FIELDS

            if draw(st.booleans()):
                body["max_face_num"] = str(draw(st.integers(1, 10)))
            if draw(st.booleans()):
                body["face_field"] = _comma_subset(draw, list(FACE_FIELDS))
        return {"headers": {"ailabapi-api-key": _secret(draw)}, "body": body}
    body = {"api_key": _secret(draw), "api_secret": _secret(draw)}
    sources = [s for s in _limits(operation)["sources"] if s != "face_token"]  # type: ignore[index]
    source = draw(st.sampled_from(sources))
    if source == "image_file":
        body["image_file"] = _file_part(image_format, data)
    elif source == "image_base64":
        body["image_base64"] = base64.b64encode(data).decode()
    else:
        body["image_url"] = (
            f"https://images.example.com/{draw(st.text(HEX, min_size=8, max_size=8))}.jpg"
        )
    if operation == "facepp.thousandlandmark":
        groups = list(flat_at(operation, "response", ("face", "landmark"))["properties"])
        body["return_landmark"] = (
            draw(st.sampled_from(["all", "All", "ALL"]))
            if draw(st.booleans())
            else _comma_subset(draw, groups)
        )
    else:
        if draw(st.booleans()):
            body["return_landmark"] = draw(
                st.sampled_from(flat_at(operation, "request", ("body", "return_landmark"))["enum"])
            )
        if draw(st.booleans()):
            rules = contracts().mock_data[operation]["attributes"]
            body["return_attributes"] = (
                "none"
                if draw(st.booleans())
                else _comma_subset(draw, list(rules["request_values"]))
            )
        if draw(st.booleans()):
            body["calculate_all"] = draw(st.sampled_from(["0", "1"]))
    return {"body": body}


def _min_faces(operation: str) -> int:
    """Operations whose success answer always has a face (no face is an error there)."""
    flat = {
        "ailab.face_key_points": ("result", "face_list"),
        "acedata.face_analyze": ("face_shape_set",),
    }.get(operation)
    return int(flat_at(operation, "response", flat).get("minItems", 0)) if flat else 0


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


def _renderer(
    operation: str, kind: str, variant: str | None
) -> Callable[[Scene, Mapping[str, Any] | None, Chooser], dict[str, Any]]:
    """The renderer of an operation's success answer, or of one of its variants."""
    _check(operation, kind, variant)  # an unknown operation, kind or variant names the known
    if variant is None:
        return RENDERERS[operation]
    from face_contracts.generation._render import VARIANT_RENDERERS

    renderer = VARIANT_RENDERERS.get((operation, variant))
    if renderer is None:  # a variant documented for a kind without generated documents
        msg = f"no documents are generated for {operation} {kind} variant {variant!r}"
        raise NotImplementedError(msg)
    return renderer


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

    @st.composite
    def build(draw: st.DrawFn) -> tuple[int, str, Any]:
        code = draw(st.sampled_from([entry["code"] for entry in catalogue(operation)]))
        return error_answer(operation, code, DrawChooser(draw))

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
    from face_contracts.generation._invalid import special_mutations

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


def _only_expected_invariants(operation: str, kind: str, case: Invalid) -> bool:
    """A schema-level mutation must not also trip an invariant it does not name (removing a
    face, say, also breaks a face count): such a case would break two rules, not one."""
    from face_contracts._invariants import Context, applicable_rules, run_invariants

    op = contracts().operation(operation)
    context = Context(op, case.request, case.status, None)
    found = run_invariants(applicable_rules(operation, kind, context), case.document, context)
    return {(failure.rule, failure.pointer) for failure in found} <= case.expected
