"""Renderers: a scene and a request become each vendor's answer.

Names, groups and counts are read from the schemas; where each landmark sits on a face
comes from the vendor's template in ``mocks/<vendor>/<operation>.template.json``, fitted
to the face: to its box, or, for a face the detector found, to its measured eyes, nose tip
and mouth corners (:mod:`face_contracts.generation._fit`). The same renderers serve the
Hypothesis strategies (values from a :class:`DrawChooser`, so examples shrink) and the
mock engine (values from a seeded :class:`RandomChooser`, so answers are deterministic).
"""

from __future__ import annotations

import random
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from face_contracts._resources import data_dir, load_json
from face_contracts.generation._fit import Affine, ThinPlate, placement
from face_contracts.generation._scene import HEX, Chooser, Face, Scene
from face_contracts.generation._schema import flatten, property_schema, schema_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["RENDERERS", "flat_at", "template"]


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


_JITTER = 0.01  # a point moves by at most half of this, in box units


@cache
def _prepared(
    operation: str, group: str
) -> tuple[tuple[tuple[str, float, float], ...], tuple[tuple[str, float], ...]]:
    """A Face++ group's template in the schema's key order: points, kept far enough from
    the box edge that jitter cannot leave it, and pupil radii (in box widths)."""
    keys = flat_at(operation, "response", ("face", "landmark", group))["required"]
    layout = template(operation)[group]
    margin = 0.01 + _JITTER / 2
    points = tuple(
        (
            key,
            min(1 - margin, max(margin, layout[key][0])),
            min(1 - margin, max(margin, layout[key][1])),
        )
        for key in keys
        if not isinstance(layout[key], int | float)
    )
    radii = tuple((key, float(layout[key])) for key in keys if isinstance(layout[key], int | float))
    return points, radii


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


def _probability(face: Face, chooser: Chooser) -> float:
    """The detector's score for a detected face, else a plausible one."""
    if face.score is not None:
        return round(min(1.0, max(0.0, face.score)), 4)
    return round(chooser.number(0.8, 1.0), 4)


def _jitter(chooser: Chooser) -> random.Random:
    # One drawn seed moves every point: a thousand separate draws would make generation
    # slow and shrinking pointless.
    return random.Random(chooser.integer(0, 2**32 - 1))  # noqa: S311 - layout noise, not secrecy


def _face_token(chooser: Chooser, index: int) -> str:
    """32 lower-case hex digits, distinct for every face of one answer."""
    return chooser.token(HEX, 28) + f"{index:04x}"


def _uuid(chooser: Chooser) -> str:
    text = chooser.token(HEX, 32)
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"


# --- Face++ -----------------------------------------------------------------------------


def facepp_request_id(chooser: Chooser) -> str:
    """Face++ request ids: '<unix seconds>,<uuid>' as in every doc example."""
    return f"{chooser.integer(1_500_000_000, 1_800_000_000)},{_uuid(chooser)}"


def facepp_thousandlandmark(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    from face_contracts._invariants.facepp import groups_asked

    operation = "facepp.thousandlandmark"
    landmark_schema = flat_at(operation, "response", ("face", "landmark"))
    all_groups = list(landmark_schema["properties"])
    if request is not None:
        asked = groups_asked(request["body"]["return_landmark"])
        groups = [group for group in all_groups if group in asked]
    else:
        groups = [group for group in all_groups if chooser.choice((True, False))] or all_groups
    document: dict[str, Any] = {
        "time_used": chooser.integer(40, 900),
        "request_id": facepp_request_id(chooser),
    }
    if not scene.faces:
        document["face"] = {}
        return document
    face = scene.faces[0]  # only the largest face is analysed (seed 004 §描述)
    rand = _jitter(chooser).random
    landmark: dict[str, Any] = {}
    for group in groups:
        points, radii = _prepared(operation, group)
        where = placement(face, operation, group)
        # The hot loop of generation: 975 points per answer, so plain arithmetic, and every
        # point of a group placed in one call.
        jittered = [
            (u + (rand() - 0.5) * _JITTER, v + (rand() - 0.5) * _JITTER) for _, u, v in points
        ]
        values: dict[str, Any] = {
            key: {"x": int(x), "y": int(y)}
            for (key, _, _), (x, y) in zip(points, where.many(jittered), strict=True)
        }
        width = where.box_width
        for key, radius in radii:
            values[key] = round(radius * width * (0.9 + 0.2 * rand()), 3)
        landmark[group] = values
    document["face"] = {
        "landmark": landmark,
        "face_rectangle": {
            "width": face.width,
            "top": face.top,
            "height": face.height,
            "left": face.left,
        },
    }
    return document


# --- Ace Data Cloud ---------------------------------------------------------------------


def acedata_face_analyze(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    operation = "acedata.face_analyze"
    face_schema = flat_at(operation, "response", ("face_shape_set", "[]"))
    most = flat_at(operation, "response", ("face_shape_set",)).get("maxItems", len(scene.faces))
    body = request["body"] if request is not None else {}
    version = body.get("face_model_version", "3.0")
    faces = scene.faces[: 1 if body.get("mode") == 1 else most]
    jitter = _jitter(chooser)
    points = template(operation)
    shapes = []
    for face in faces:
        shape: dict[str, Any] = {}
        for group in face_schema["properties"]:
            count = flat_at(operation, "response", ("face_shape_set", "[]", group))["minItems"]
            layout = points[group]
            where = placement(face, operation, group)
            shape[group] = []
            for index in range(count):
                x, y = place(face, layout[index], jitter, where)
                shape[group].append({"x": int(x), "y": int(y)})
        shapes.append(shape)
    return {
        "image_width": scene.width,
        "image_height": scene.height,
        "face_model_version": version,
        "face_shape_set": shapes,
    }


RENDERERS: dict[str, Callable[[Scene, Mapping[str, Any] | None, Chooser], dict[str, Any]]] = {
    "facepp.thousandlandmark": facepp_thousandlandmark,
    "acedata.face_analyze": acedata_face_analyze,
}


# --- values for leaves, from their schema ---------------------------------------------------


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


# --- AILabTools -------------------------------------------------------------------------


def _ailab_envelope(chooser: Chooser) -> dict[str, Any]:
    return {
        "request_id": chooser.token(HEX.upper(), 32),
        "log_id": chooser.token(HEX.upper(), 32),
        "error_code": 0,
        "error_code_str": "",
        "error_msg": "",
        "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
    }


def ailab_face_key_points(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    from face_contracts._invariants.ailab import FACE_FIELDS, face_fields_asked, max_faces_asked

    operation = "ailab.face_key_points"
    if request is not None:
        asked = face_fields_asked(request)
        most = max_faces_asked(request) or 1
    else:
        asked = frozenset(field for field in FACE_FIELDS if chooser.choice((True, False)))
        most = 10
    face_schema = flat_at(operation, "response", ("result", "face_list", "[]"))
    points = template(operation)
    jitter = _jitter(chooser)
    faces = []
    for index, face in enumerate(scene.faces[:most]):
        entry: dict[str, Any] = {}
        for name in face_schema["properties"]:
            if name in FACE_FIELDS and name not in asked:
                continue
            if name == "face_token":
                entry[name] = _face_token(chooser, index)
            elif name == "location":
                entry[name] = {
                    "left": float(face.left),
                    "top": float(face.top),
                    "width": float(face.width),
                    "height": float(face.height),
                    "rotation": round(face.roll),
                }
            elif name == "face_probability":
                entry[name] = _probability(face, chooser)
            elif name == "angle":
                entry[name] = {"yaw": face.yaw, "pitch": face.pitch, "roll": face.roll}
            elif name.startswith("landmark"):
                layout = points[name]
                where = placement(face, operation, name)
                if isinstance(layout, list):
                    entry[name] = [_xy(face, uv, jitter, where) for uv in layout]
                else:
                    names = flat_at(operation, "response", ("result", "face_list", "[]", name))[
                        "required"
                    ]
                    entry[name] = {key: _xy(face, layout[key], jitter, where) for key in names}
            else:
                entry[name] = produce(
                    flat_at(operation, "response", ("result", "face_list", "[]", name)), chooser
                )
        faces.append(entry)
    return {**_ailab_envelope(chooser), "result": {"face_num": len(faces), "face_list": faces}}


def _xy(
    face: Face, uv: Sequence[float], jitter: random.Random, where: Affine | ThinPlate
) -> dict[str, float]:
    x, y = place(face, uv, jitter, where)
    return {"x": round(x, 2), "y": round(y, 2)}


def ailab_face_analyzer_advanced(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    from face_contracts._invariants.ailab import PER_FACE, QUALITY_LISTS

    del request  # the operation takes only an image
    operation = "ailab.face_analyzer_advanced"
    data_schema = flat_at(operation, "response", ("data",))
    layout = template(operation)["landmarks"]
    jitter = _jitter(chooser)
    data: dict[str, Any] = {}
    for name in data_schema["properties"]:
        if name == "face_count":
            data[name] = len(scene.faces)
        elif name == "qualities":
            data[name] = {
                quality: [round(chooser.number(60, 100), 2) for _ in scene.faces]
                for quality in QUALITY_LISTS
            }
        elif name in PER_FACE:
            item = flat_at(operation, "response", ("data", name, "[]"))
            values: list[Any] = []
            for face in scene.faces:
                values.extend(_advanced_values(name, face, item, layout, jitter, chooser))
            data[name] = values
        else:
            data[name] = produce(flat_at(operation, "response", ("data", name)), chooser)
    return {**_ailab_envelope(chooser), "data": data}


def _advanced_values(
    name: str,
    face: Face,
    item: Mapping[str, Any],
    layout: Sequence[Sequence[float]],
    jitter: random.Random,
    chooser: Chooser,
) -> list[Any]:
    if name == "face_rectangles":
        return [face.left, face.top, face.width, face.height]
    if name == "pose_list":
        return [face.yaw, face.pitch, face.roll]
    if name == "face_probability_list":
        return [_probability(face, chooser)]
    if name == "landmarks":
        where = placement(face, "ailab.face_analyzer_advanced", "landmarks")
        return [round(c, 2) for uv in layout for c in place(face, uv, jitter, where)]
    if name == "pupils":
        pupils = template("ailab.face_analyzer_advanced")["pupils"]
        where = placement(face, "ailab.face_analyzer_advanced", "pupils")
        values: list[Any] = []
        for side in ("left", "right"):  # the image-left pupil first (template convention)
            x, y = place(face, pupils[side], jitter, where)
            radius = pupils[f"{side}_radius"] * where.box_width
            values += [round(x, 2), round(y, 2), round(radius, 2)]
        return values
    return [produce(item, chooser)]


# --- Face++ Detect ---------------------------------------------------------------------


def _detect_options(request: Mapping[str, Any] | None, chooser: Chooser) -> dict[str, Any]:
    """return_landmark, the asked attributes (request values), calculate_all, face_rectangle."""
    from face_contracts.contracts import contracts

    rules = contracts().mock_data["facepp.detect"]["attributes"]
    if request is not None:
        body = request["body"]
        asked = body.get("return_attributes", "none")
        return {
            "return_landmark": body.get("return_landmark", "0"),
            "attributes": [] if asked.strip() == "none" else [a.strip() for a in asked.split(",")],
            "calculate_all": body.get("calculate_all") == "1",
            "face_rectangle": body.get("face_rectangle"),
        }
    return {
        "return_landmark": chooser.choice(("0", "1", "2")),
        "attributes": [a for a in rules["request_values"] if chooser.choice((True, False, False))],
        "calculate_all": chooser.choice((True, False)),
        "face_rectangle": None,
    }


def _attribute(name: str, chooser: Chooser) -> Any:
    from face_contracts.contracts import contracts

    rules = contracts().mock_data["facepp.detect"]["attributes"]
    value = produce(
        flat_at("facepp.detect", "response", ("faces", "[]", "attributes", name)), chooser
    )
    for path in rules["sums_to_100"]:
        head, _, tail = path.partition("/")
        if head != name:
            continue
        target = value[tail] if tail else value
        _share_100(target)
    return value


def _share_100(shares: dict[str, Any]) -> None:
    """Rescale confidences to thousandths that sum to exactly 100 (largest remainders)."""
    total = sum(shares.values())
    keys = list(shares)
    if total <= 0:
        exact = [100_000 / len(keys)] * len(keys)
    else:
        exact = [shares[key] * 100_000 / total for key in keys]
    whole = [int(part) for part in exact]
    order = sorted(range(len(keys)), key=lambda i: exact[i] - whole[i], reverse=True)
    for i in order[: 100_000 - sum(whole)]:
        whole[i] += 1
    for key, thousandths in zip(keys, whole, strict=True):
        shares[key] = thousandths / 1000


def facepp_detect(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    from face_contracts.contracts import contracts

    operation = "facepp.detect"
    data = contracts().mock_data[operation]
    options = _detect_options(request, chooser)
    faces = list(scene.faces)
    if options["face_rectangle"]:
        top, left, width, height = (int(part) for part in options["face_rectangle"].split(","))
        faces = [Face(left, top, width, height)]
    wants_analysis = options["return_landmark"] != "0" or bool(options["attributes"])
    analysed = len(faces) if options["calculate_all"] else data["analysis"]["max_analysed_faces"]
    keys = data["attributes"]["response_keys"]
    jitter = _jitter(chooser)
    entries = []
    for index, face in enumerate(faces):
        entry: dict[str, Any] = {
            "face_token": _face_token(chooser, index),
            "face_rectangle": {
                "top": face.top,
                "left": face.left,
                "width": face.width,
                "height": face.height,
            },
        }
        if wants_analysis and index < analysed:
            if options["return_landmark"] != "0":
                layout = template(operation)[options["return_landmark"]]
                where = placement(face, operation, options["return_landmark"])
                entry["landmark"] = {}
                for name in data["landmarks"][options["return_landmark"]]:
                    x, y = place(face, layout[name], jitter, where)
                    entry["landmark"][name] = {"x": int(x), "y": int(y)}
            if options["attributes"]:
                entry["attributes"] = {
                    keys.get(asked, asked): _attribute(keys.get(asked, asked), chooser)
                    for asked in options["attributes"]
                }
        entries.append(entry)
    return {
        "request_id": facepp_request_id(chooser),
        "time_used": chooser.integer(40, 900),
        "image_id": chooser.token(HEX, 22),
        "face_num": len(entries),
        "faces": entries,
    }


RENDERERS["facepp.detect"] = facepp_detect
RENDERERS["ailab.face_key_points"] = ailab_face_key_points
RENDERERS["ailab.face_analyzer_advanced"] = ailab_face_analyzer_advanced


# --- documented alternative shapes (variants) --------------------------------------------


def ailab_face_analyzer_advanced_face_detail_infos(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    """The ``face_detail_infos`` variant of Face Analyzer Advanced's answer: the shape its
    OpenAPI example shows (D-AIL-02), one entry per face with its box and every attribute."""
    from face_contracts.generation._schema import flatten, property_schema

    del request  # the operation takes only an image
    node, base = schema_of("ailab.face_analyzer_advanced", "response", "face_detail_infos")
    info = flatten(flatten(node, base)["properties"]["face_detail_infos"]["schema"], base)
    entry = flatten(info["items"], base)
    attributes = flatten(*property_schema(entry, "face_detail_attributes_info"))
    return {
        **_ailab_envelope(chooser),
        "image_width": scene.width,
        "image_height": scene.height,
        "face_detail_infos": [
            {
                "face_rect": {
                    "x": int(face.left),
                    "y": int(face.top),
                    "width": int(face.width),
                    "height": int(face.height),
                },
                "face_detail_attributes_info": produce(attributes, chooser),
            }
            for face in scene.faces
        ],
    }


VARIANT_RENDERERS: dict[
    tuple[str, str], Callable[[Scene, Mapping[str, Any] | None, Chooser], dict[str, Any]]
] = {
    ("ailab.face_analyzer_advanced", "face_detail_infos"): (
        ailab_face_analyzer_advanced_face_detail_infos
    ),
}
"""Renderers of the documented alternative response shapes, by (operation, variant)."""
