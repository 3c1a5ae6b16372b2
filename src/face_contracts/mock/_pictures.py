"""Pictures as the mock sees them: checked once per distinct picture, faces found in the
pixels so that the same picture gives the same faces in every run, process and vendor.

Where the faces of a picture come from, first match wins:

1. faces set by the user (``faces=`` settings, the pytest marker, ``/__admin/faces``):
   boxes, or a count laid out in a row; their landmarks are fitted to the boxes;
2. faces the picture declares in its metadata (pictures made by
   :func:`face_contracts.images.encode_image` and the Hypothesis strategies, whose drawn
   faces no real detector would find);
3. none in a uniform picture;
4. the faces the detector finds (:mod:`face_contracts.faces`), every landmark template then
   fitted to each face's measured eyes, nose tip and mouth corners;
5. where no detector is available (no wheel for this Python), one face placed by the
   picture's digest, as before detection existed, and the scene's ``note`` says so.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache

from PIL import Image

from face_contracts import faces as detector
from face_contracts._resources import data_dir
from face_contracts.generation._fit import face_map
from face_contracts.generation._scene import Face, Scene
from face_contracts.images import (
    ImageInfo,
    ImageProblemError,
    declared_faces,
    decode_check,
    encode_image,
    read_header,
)

__all__ = [
    "Picture",
    "analyse",
    "analysed",
    "default_picture",
    "detected_face",
    "faces_for",
    "grid_scene",
]

# No vendor accepts more than 4096x4096; a picture above twice that is never decoded.
_DECODE_LIMIT = 8192 * 8192
_DETECT_LIMIT = 4096  # nor is one no vendor accepts looked at for faces


@dataclass(frozen=True, slots=True)
class Picture:
    """What a vendor learns from a picture: its digest, header, whether it decodes, whether
    it is uniform (one colour: no face)."""

    digest: str
    size: int
    info: ImageInfo | None
    problem: str | None  # None, or the ImageProblemError reason
    uniform: bool
    declared: tuple[Face, ...] | None = None  # the faces the picture declares, if it does
    found: tuple[Face, ...] | None = None  # the detector's faces; None: it did not look
    note: str | None = None  # why the detector found nothing it could use, if it failed


_cache: dict[str, Picture] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 512

# The pictures seen last, by a sample of their bytes (size, start, middle, end), kept whole
# within a byte budget: a picture sent again is found by one comparison of its bytes
# (about 4 µs for 160 KB) instead of its SHA-256 (about 100 µs), which only a new picture
# needs. The comparison is exact: a sample shared by two pictures costs a digest, never a
# wrong answer.
_recent: OrderedDict[tuple[int, bytes], tuple[bytes, Picture]] = OrderedDict()
_recent_bytes = 0
_RECENT_BUDGET = 64 << 20
_SAMPLE = 64


def _sample_key(data: bytes | memoryview) -> tuple[int, bytes]:
    size, middle = len(data), len(data) // 2
    return size, bytes(data[:_SAMPLE]) + bytes(data[middle : middle + _SAMPLE]) + bytes(
        data[-_SAMPLE:]
    )


def _seen(data: bytes | memoryview, key: tuple[int, bytes]) -> Picture | None:
    found = _recent.get(key)
    if found is not None and found[0].startswith(data):  # equal sizes: equal bytes
        return found[1]
    return None


def _remember(data: bytes, key: tuple[int, bytes], picture: Picture) -> None:
    global _recent_bytes
    if len(data) > _RECENT_BUDGET // 4:
        return
    with _cache_lock:
        previous = _recent.pop(key, None)
        if previous is not None:
            _recent_bytes -= len(previous[0])
        _recent[key] = (data, picture)
        _recent_bytes += len(data)
        while _recent_bytes > _RECENT_BUDGET:
            _, (old, _) = _recent.popitem(last=False)
            _recent_bytes -= len(old)


def _known(data: bytes | memoryview, key: tuple[int, bytes]) -> tuple[Picture | None, str]:
    """The analysis of a picture if it is known already, and its digest ("" when found by
    its bytes, which need no digest)."""
    found = _seen(data, key)
    if found is not None:
        return found, ""
    digest = hashlib.sha256(data).hexdigest()  # the fastest safe digest here (SHA extensions)
    picture = _cache.get(digest)
    if picture is not None:
        _remember(bytes(data), key, picture)
    return picture, digest


def analyse(data: bytes | memoryview) -> Picture:
    """Header, decodability and uniformity of a picture, computed once per distinct bytes."""
    key = _sample_key(data)
    picture, digest = _known(data, key)
    if picture is not None:
        return picture
    whole = bytes(data)
    picture = _analyse(whole, digest)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[digest] = picture
    _remember(whole, key, picture)
    return picture


def analysed(data: bytes | memoryview) -> Picture | None:
    """The analysis of a picture if it is known already (no decoding, no detection)."""
    return _known(data, _sample_key(data))[0]


def _analyse(data: bytes, digest: str) -> Picture:
    try:
        info = read_header(data)
    except ImageProblemError as problem:
        return Picture(digest, len(data), None, problem.reason, uniform=False)
    if info.width * info.height > _DECODE_LIMIT:
        return Picture(digest, len(data), info, None, uniform=False)
    try:
        decode_check(data)
    except ImageProblemError as problem:
        return Picture(digest, len(data), info, problem.reason, uniform=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as image:
            extrema = image.getextrema()
    bands = extrema if isinstance(extrema[0], tuple) else (extrema,)
    uniform = all(low == high for low, high in bands)
    declared = declared_faces(data)
    if declared is not None:
        faces = tuple(_inside(Face(*face), info.width, info.height) for face in declared)
        return Picture(digest, len(data), info, None, uniform, declared=faces)
    if (
        uniform
        or max(info.width, info.height) > _DETECT_LIMIT
        or not detector.detector_status().available
    ):
        return Picture(digest, len(data), info, None, uniform)
    detection = detector.detect(data, digest)
    found = tuple(detected_face(face, info.width, info.height) for face in detection.faces)
    return Picture(digest, len(data), info, None, uniform, found=found, note=detection.error)


def detected_face(found: detector.FoundFace, width: int, height: int) -> Face:
    """A detected face as the scenes hold it: the face box every vendor template shares
    (hairline to chin, head outline to head outline: where the template anchors put it),
    inside the picture, and the measured anchors every template is then fitted to."""
    measured = found.anchors()
    where = face_map(measured)
    # The box's edges where the face map puts them (the middles of its sides): a tilted
    # face keeps its own size, and the chin sits inside the box as in every template.
    (tx, ty), (bx, by) = where(0.5, 0.0), where(0.5, 1.0)
    (lx, ly), (rx, ry) = where(0.0, 0.5), where(1.0, 0.5)
    centre_x, centre_y = (tx + bx + lx + rx) / 4, (ty + by + ly + ry) / 4
    box_width, box_height = math.dist((lx, ly), (rx, ry)), math.dist((tx, ty), (bx, by))
    left = max(0, round(centre_x - box_width / 2))
    top = max(0, round(centre_y - box_height / 2))
    right = min(width, round(centre_x + box_width / 2))
    bottom = min(height, round(centre_y + box_height / 2))
    return Face(
        left,
        top,
        max(1, right - left),
        max(1, bottom - top),
        yaw=found.yaw,
        pitch=found.pitch,
        roll=found.roll,
        anchors=tuple((name, round(x, 2), round(y, 2)) for name, (x, y) in measured.items()),
        score=round(found.score, 4),
    )


def _inside(face: Face, width: int, height: int) -> Face:
    """A declared box cut to the picture (at least one pixel)."""
    left = min(max(0, face.left), max(0, width - 1))
    top = min(max(0, face.top), max(0, height - 1))
    return Face(
        left,
        top,
        max(1, min(face.width, width - left)),
        max(1, min(face.height, height - top)),
        yaw=face.yaw,
        pitch=face.pitch,
        roll=face.roll,
    )


@cache
def default_picture() -> bytes:
    """The picture answered for an image URL the mock cannot reach: a bundled face."""
    path = data_dir("mocks") / "images" / "default-face.jpg"
    if path.is_file():
        return path.read_bytes()
    return encode_image("JPEG", 640, 480, seed=7, faces=((220, 90, 200, 240),))


def faces_for(
    picture: Picture, override: int | tuple[tuple[int, int, int, int], ...] | None
) -> Scene:
    """The scene of a picture: the configured faces if any, else the faces the picture
    declares, none for a uniform picture, else the faces the detector found, else (no
    detector here) one face placed and sized by the picture's digest. Faces come largest
    first; ``note`` tells the journal how they were found when that is not detection."""
    if picture.info is None:
        return Scene(0, 0, ())
    width, height = picture.info.width, picture.info.height
    note = None
    if isinstance(override, tuple):
        faces = [Face(*box) for box in override]
    elif isinstance(override, int):
        faces = _grid_of_faces(width, height, override)
    elif picture.declared is not None:
        faces = list(picture.declared)
        note = "faces declared by the picture (face-contracts:faces=)"
    elif picture.uniform:
        faces = []
    elif picture.found is not None:
        faces = list(picture.found)
        note = picture.note
    else:
        note = detector.detector_status().line
        seed = int(picture.digest[:8], 16)
        side = max(1, int(min(width, height) * (0.42 + (seed % 17) / 100)))
        box_height = min(height, side + side // 8)
        left = (width - side) // 2 + ((seed >> 8) % 21 - 10) * (width - side) // 40
        top = (height - box_height) // 2 + ((seed >> 16) % 21 - 10) * (height - box_height) // 40
        faces = [
            Face(
                max(0, left),
                max(0, top),
                side,
                box_height,
                yaw=((seed >> 4) % 21) - 10.0,
                pitch=((seed >> 12) % 11) - 5.0,
                roll=((seed >> 20) % 9) - 4.0,
            )
        ]
    faces.sort(key=lambda face: (-face.area, face.top, face.left))
    return Scene(width, height, tuple(faces), note)


def grid_scene(width: int, height: int, count: int) -> Scene:
    """The scene ``faces = count`` gives a ``width`` x ``height`` picture."""
    return Scene(width, height, tuple(_grid_of_faces(width, height, count)))


def _grid_of_faces(width: int, height: int, count: int) -> list[Face]:
    """``count`` faces in the grid of cells that leaves each the largest square (rows and
    columns chosen for the picture's shape), each face a little smaller than the one
    before so that "largest first" is an order, not a tie."""
    if count <= 0:
        return []
    columns = max(range(1, count + 1), key=lambda c: min(width / c, height / -(-count // c)))
    rows = -(-count // columns)
    cell_w, cell_h = width // columns, height // rows
    faces = []
    for index in range(count):
        row, column = divmod(index, columns)
        # A face's box is taller than wide (brows to chin, 9:8); it fills most of its cell.
        scale = 0.9 - 0.1 * index / max(count - 1, 1)
        side = max(1, int(min(cell_w, cell_h * 8 / 9) * scale))
        box_height = min(cell_h, side + side // 8)
        left = column * cell_w + (cell_w - side) // 2
        top = row * cell_h + (cell_h - box_height) // 2
        faces.append(Face(left, top, side, box_height))
    return faces
