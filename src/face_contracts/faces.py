"""Faces found in a picture's pixels by a real detector, so the mock describes the faces that
are really there.

The detector is Google's MediaPipe (Apache-2.0), the legacy solutions of its 0.10.x wheels,
whose weights ship inside the wheel: BlazeFace full-range finds faces of every size, then
Face Mesh (468 points and irises) measures each one on a square crop around it. Nothing is
downloaded at run time; inference is CPU only and deterministic. Where the wheel cannot be
installed (see :func:`detector_status`) nothing is detected and the caller says so: the
mock then places faces by the picture's digest, as it did before a detector existed.

The model loads lazily, once per process, behind a lock; each distinct picture is detected
once (cache keyed by its SHA-256 digest, bounded in bytes). Results are plain frozen
dataclasses in image pixels. Left and right are the IMAGE's sides everywhere here
(``image_left_eye`` is the eye nearer x = 0), whatever the vendors call them.

This module knows nothing about vendors, the mock engine or Hypothesis.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import io
import logging
import math
import os
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from face_contracts._resources import data_dir

if TYPE_CHECKING:
    from collections.abc import Callable

    from PIL import Image as PILImage

__all__ = [
    "Detection",
    "DetectorStatus",
    "FoundFace",
    "Point",
    "clear_cache",
    "detect",
    "detector_status",
    "preload",
]

Point = tuple[float, float]

_log = logging.getLogger(__name__)

PACKAGE = "mediapipe"
PINNED = "0.10.21"  # the last release whose wheels still bundle the legacy face models

_DETECTION_THRESHOLD = 0.5  # BlazeFace score below which a box is not a face
_CROP_SCALE = 2.2  # mesh crop side, in detector box sides: the whole head with room to turn
_MESH_INPUT = 256  # mesh crops are resized to this square before Face Mesh sees them
_OVERLAP = 0.3  # boxes overlapping more than this (IoU) are one face
_TILE_MIN_SIDE = 640  # pictures with a longer side than this are also searched in tiles
_TILE = 768  # their side
_DETECTOR_INPUT = 384  # windows are shrunk to this side first (twice the model's input)


@dataclass(frozen=True, slots=True)
class FoundFace:
    """One face as the detector sees it, in image pixels (x right, y down).

    ``left, top, width, height`` is the detector's own box (about brows to chin); eyes are
    iris centres; sides are the image's. Angles in degrees: ``roll`` is the eye line's
    angle (positive when the image-right eye is lower), ``yaw`` positive when the face
    turns towards the image right, ``pitch`` positive when it looks up.
    """

    left: float
    top: float
    width: float
    height: float
    score: float
    image_left_eye: Point
    image_right_eye: Point
    nose_tip: Point
    image_left_mouth_corner: Point
    image_right_mouth_corner: Point
    upper_lip_top: Point
    lower_lip_bottom: Point
    chin: Point
    image_left_eye_outer_corner: Point
    image_left_eye_inner_corner: Point
    image_right_eye_inner_corner: Point
    image_right_eye_outer_corner: Point
    yaw: float
    pitch: float
    roll: float

    @property
    def eye_distance(self) -> float:
        """Inter-ocular distance in pixels (centre to centre)."""
        return math.dist(self.image_left_eye, self.image_right_eye)

    def anchors(self) -> dict[str, Point]:
        """The named points the landmark templates are fitted to."""
        return {
            "image_left_eye": self.image_left_eye,
            "image_right_eye": self.image_right_eye,
            "nose_tip": self.nose_tip,
            "image_left_mouth_corner": self.image_left_mouth_corner,
            "image_right_mouth_corner": self.image_right_mouth_corner,
            "image_left_eye_outer_corner": self.image_left_eye_outer_corner,
            "image_left_eye_inner_corner": self.image_left_eye_inner_corner,
            "image_right_eye_inner_corner": self.image_right_eye_inner_corner,
            "image_right_eye_outer_corner": self.image_right_eye_outer_corner,
            "upper_lip_top": self.upper_lip_top,
            "lower_lip_bottom": self.lower_lip_bottom,
            "chin": self.chin,
        }


@dataclass(frozen=True, slots=True)
class Detection:
    """What the detector found in one picture: faces, largest first, or the reason it could
    not look (``error``, with no faces), e.g. a decoding or inference failure."""

    faces: tuple[FoundFace, ...]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DetectorStatus:
    """Whether real detection is available in this process, and one line that says so."""

    available: bool
    line: str


# --- status ---------------------------------------------------------------------------------

_status: DetectorStatus | None = None
_load_error: str | None = None


def detector_status() -> DetectorStatus:
    """Whether faces are found from the pixels here; ``line`` is what ``serve``'s banner,
    ``/__admin/health`` and ``draw`` print. Cheap: the model is not loaded."""
    global _status
    if _load_error is not None:
        return DetectorStatus(False, f"face detector: unavailable ({_load_error}); {_FALLBACK}")
    if _status is None:
        _status = _probe()
    return _status


_FALLBACK = "faces are placed by the picture's digest instead"


def _probe() -> DetectorStatus:
    if importlib.util.find_spec(PACKAGE) is None:
        why = (
            f"{PACKAGE} {PINNED} has no wheel for Python "
            f"{sys.version_info.major}.{sys.version_info.minor} on this platform"
        )
        return DetectorStatus(False, f"face detector: unavailable ({why}); {_FALLBACK}")
    version = importlib.metadata.version(PACKAGE)
    if not version.startswith("0.10."):
        why = f"{PACKAGE} {version} bundles no face models; {PINNED} does"
        return DetectorStatus(False, f"face detector: unavailable ({why}); {_FALLBACK}")
    return DetectorStatus(
        True,
        f"face detector: MediaPipe {version} (BlazeFace full-range + Face Mesh, weights "
        "bundled in the wheel, CPU)",
    )


# --- the model ------------------------------------------------------------------------------


class _Models:
    """The two MediaPipe graphs. MediaPipe solutions are not thread-safe: callers hold
    ``_model_lock`` around every use."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # protobuf and matplotlib deprecations on import
            from mediapipe.python.solutions import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
                face_detection,
                face_mesh,
            )

        self.detector = face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=_DETECTION_THRESHOLD
        )
        self.mesh = face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=1,
            refine_landmarks=True,
            min_detection_confidence=_DETECTION_THRESHOLD,
        )


_models: _Models | None = None
_model_lock = threading.Lock()


def _loaded() -> _Models:
    global _models, _load_error
    if _models is None:
        try:
            _models = _quietly(_warmed)
        except Exception as error:
            _load_error = f"{PACKAGE} failed to load: {type(error).__name__}: {error}"
            raise
    return _models


def _warmed() -> _Models:
    """The models, run once on the bundled portrait so that every graph has started."""
    models = _Models()
    portrait = data_dir("mocks") / "images" / "default-face.jpg"
    if portrait.is_file():
        _find_faces(models, _decode(portrait.read_bytes()))
    return models


# MediaPipe's native code writes these to file descriptor 2 while its graphs start
# (TensorFlow Lite and absl logging, before any Python logging exists); they are no news.
_NATIVE_NOISE = (
    "INFO: Created TensorFlow Lite",
    "WARNING: All log messages before absl::InitializeLog()",
    "W0000 ",
    "I0000 ",
)


def _quietly(action: Callable[[], _Models]) -> _Models:
    """Run ``action`` with file descriptor 2 captured, then write back every captured line
    but MediaPipe's start-up chatter (another thread's output is delayed, never lost)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            return action()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            for line in sink.read().decode("utf-8", errors="replace").splitlines():
                if not line.startswith(_NATIVE_NOISE):
                    sys.stderr.write(line + "\n")
            sys.stderr.flush()


def preload() -> DetectorStatus:
    """Load the model now (a server calls this at start, so that its first picture is not
    also the one that waits for the model); the status afterwards, which says so if the
    model failed to load."""
    if detector_status().available:
        with _model_lock:
            try:
                _loaded()
            except Exception:  # noqa: BLE001 - the failure is in the status line now
                _log.exception("the face detector failed to load")
    return detector_status()


# --- the cache ------------------------------------------------------------------------------

_CACHE_BYTES = 4 << 20  # a face costs a few hundred bytes: room for thousands of pictures
_cache: dict[str, tuple[Detection, int]] = {}
_cache_used = 0
_cache_lock = threading.Lock()
_pending: dict[str, threading.Event] = {}


def _cost(detection: Detection) -> int:
    # A measured upper bound per entry (dict slot, key, dataclasses, tuples of floats).
    return 400 + 900 * len(detection.faces) + len(detection.error or "")


def detect(data: bytes | memoryview, digest: str | None = None) -> Detection:
    """The faces in an encoded picture (JPEG, PNG, BMP, ...), largest first.

    Detection runs once per distinct picture and process: ``digest`` (the SHA-256 hex of
    ``data``, computed if not given) keys the cache, so concurrent callers of one new
    picture wait for a single detection. Any failure (undecodable pixels, an inference
    error) is logged and answered as no face, with the reason in ``error``. Raises
    :class:`RuntimeError` only when the detector is not available (check
    :func:`detector_status` first).
    """
    if not detector_status().available:
        msg = detector_status().line
        raise RuntimeError(msg)
    key = digest or hashlib.sha256(data).hexdigest()
    while True:
        with _cache_lock:
            found = _cache.get(key)
            if found is not None:
                return found[0]
            waiting = _pending.get(key)
            if waiting is None:
                _pending[key] = threading.Event()
                break
        waiting.wait()
    try:
        detection = _detect_uncached(bytes(data))
    finally:
        with _cache_lock:
            event = _pending.pop(key)
    _remember(key, detection)
    event.set()
    return detection


def _remember(key: str, detection: Detection) -> None:
    global _cache_used
    cost = _cost(detection)
    if cost > _CACHE_BYTES:
        return  # larger than the whole budget: kept by nobody rather than evicting everyone
    with _cache_lock:
        if key in _cache:
            return
        while _cache and _cache_used + cost > _CACHE_BYTES:
            oldest = next(iter(_cache))
            _cache_used -= _cache.pop(oldest)[1]
        _cache[key] = (detection, cost)
        _cache_used += cost


def clear_cache() -> None:
    """Forget every detection (the benchmark uses it to time the uncached path)."""
    global _cache_used
    with _cache_lock:
        _cache.clear()
        _cache_used = 0


def _detect_uncached(data: bytes) -> Detection:
    try:
        image = _decode(data)
    except Exception as error:  # noqa: BLE001 - any decoder failure is "no face", with why
        reason = f"the picture cannot be decoded for detection: {type(error).__name__}: {error}"
        _log.warning("face detection skipped: %s", reason)
        return Detection((), reason)
    try:
        with _model_lock:
            models = _loaded()
            faces = _find_faces(models, image)
    except Exception as error:  # noqa: BLE001 - a detector failure must never reach a client
        reason = f"detector failed: {type(error).__name__}: {error}"
        _log.exception("face detection failed")
        return Detection((), reason)
    return Detection(faces)


def _decode(data: bytes) -> PILImage.Image:
    from PIL import Image  # deferred: Pillow and numpy load with the first detection

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        image.load()
    return image.convert("RGB")


# --- detection ------------------------------------------------------------------------------


def _find_faces(models: _Models, image: PILImage.Image) -> tuple[FoundFace, ...]:
    import numpy as np  # deferred: Pillow and numpy load with the first detection

    width, height = image.size
    candidates: list[tuple[float, tuple[float, float, float, float]]] = []
    for left, top, right, bottom in _windows(width, height):
        window = image.crop((left, top, right, bottom))
        # The detector sees 192x192 whatever it is given: shrink big windows here, where it
        # is cheap, rather than copy megapixels into the graph.
        if max(window.size) > _DETECTOR_INPUT:
            window.thumbnail((_DETECTOR_INPUT, _DETECTOR_INPUT), _bilinear())
        result = models.detector.process(np.asarray(window))
        for found in result.detections or ():
            box = found.location_data.relative_bounding_box
            side_w, side_h = right - left, bottom - top
            candidates.append(
                (
                    float(found.score[0]),
                    (
                        left + box.xmin * side_w,
                        top + box.ymin * side_h,
                        box.width * side_w,
                        box.height * side_h,
                    ),
                )
            )
    faces = []
    for score, box in _suppressed(candidates):
        face = _measure(models, image, box, score)
        if face is not None:
            faces.append(face)
    faces = _distinct(faces)
    faces.sort(key=lambda face: (-face.width * face.height, face.top, face.left))
    return tuple(faces)


def _windows(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The whole picture and, for a large one, overlapping tiles of about ``_TILE`` pixels:
    the detector finds faces down to about a sixteenth of what it is shown, so tiles let it
    find the smallest faces a vendor reports (48 px) in pictures up to 4096 px."""
    windows = [(0, 0, width, height)]
    if max(width, height) <= _TILE_MIN_SIDE:
        return windows
    tile_w, tile_h = min(width, _TILE), min(height, _TILE)
    step = _TILE * 3 // 4
    columns = 1 + math.ceil((width - tile_w) / step)
    rows = 1 + math.ceil((height - tile_h) / step)
    for row in range(rows):
        for column in range(columns):
            left = 0 if columns == 1 else round(column * (width - tile_w) / (columns - 1))
            top = 0 if rows == 1 else round(row * (height - tile_h) / (rows - 1))
            windows.append((left, top, left + tile_w, top + tile_h))
    return windows


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, right - left) * max(0.0, bottom - top)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _suppressed(
    candidates: list[tuple[float, tuple[float, float, float, float]]],
) -> list[tuple[float, tuple[float, float, float, float]]]:
    """Non-maximum suppression: of overlapping boxes the best-scoring one stays."""
    kept: list[tuple[float, tuple[float, float, float, float]]] = []
    for score, box in sorted(candidates, key=lambda item: (-item[0], item[1])):
        if all(_iou(box, other) <= _OVERLAP for _, other in kept):
            kept.append((score, box))
    return kept


def _distinct(faces: list[FoundFace]) -> list[FoundFace]:
    """One face per pair of eyes: two boxes measured onto the same face keep the best."""
    kept: list[FoundFace] = []
    for face in sorted(faces, key=lambda face: -face.score):
        if all(
            math.dist(face.image_left_eye, other.image_left_eye) > 0.3 * other.eye_distance
            for other in kept
        ):
            kept.append(face)
    return kept


# Face Mesh indices (canonical face model; the subject's right is the image left).
_IRIS_IMAGE_LEFT, _IRIS_IMAGE_RIGHT = 468, 473
_NOSE_TIP = 1
_MOUTH_IMAGE_LEFT, _MOUTH_IMAGE_RIGHT = 61, 291
_UPPER_LIP_TOP, _LOWER_LIP_BOTTOM = 0, 17
_CHIN, _FOREHEAD = 152, 10
_EYE_CORNERS = (33, 133, 362, 263)  # image-left outer, inner; image-right inner, outer
_CHEEK_IMAGE_LEFT, _CHEEK_IMAGE_RIGHT = 234, 454


def _measure(
    models: _Models,
    image: PILImage.Image,
    box: tuple[float, float, float, float],
    score: float,
) -> FoundFace | None:
    """Face Mesh on a square crop around a detector box; None if the mesh finds no face
    there (the detector's box was not a face after all)."""
    import numpy as np  # deferred: Pillow and numpy load with the first detection

    left, top, width, height = box
    side = max(width, height) * _CROP_SCALE
    cx, cy = left + width / 2, top + height / 2
    crop_left, crop_top = cx - side / 2, cy - side / 2
    crop = image.crop(
        (round(crop_left), round(crop_top), round(crop_left + side), round(crop_top + side))
    )
    crop_side = crop.size[0]
    crop = crop.resize((_MESH_INPUT, _MESH_INPUT), _bilinear())
    result = models.mesh.process(np.asarray(crop))
    if not result.multi_face_landmarks:
        return None
    marks = result.multi_face_landmarks[0].landmark
    scale = crop_side / 1.0
    origin_x, origin_y = round(crop_left), round(crop_top)

    def at(index: int) -> Point:
        mark = marks[index]
        return (origin_x + mark.x * scale, origin_y + mark.y * scale)

    def depth(index: int) -> tuple[float, float, float]:
        mark = marks[index]
        return (mark.x * scale, mark.y * scale, mark.z * scale)

    left_eye, right_eye = at(_IRIS_IMAGE_LEFT), at(_IRIS_IMAGE_RIGHT)
    roll = math.degrees(math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]))
    yaw, pitch = _yaw_pitch(depth)
    return FoundFace(
        left=left,
        top=top,
        width=width,
        height=height,
        score=score,
        image_left_eye=left_eye,
        image_right_eye=right_eye,
        nose_tip=at(_NOSE_TIP),
        image_left_mouth_corner=at(_MOUTH_IMAGE_LEFT),
        image_right_mouth_corner=at(_MOUTH_IMAGE_RIGHT),
        upper_lip_top=at(_UPPER_LIP_TOP),
        lower_lip_bottom=at(_LOWER_LIP_BOTTOM),
        chin=at(_CHIN),
        image_left_eye_outer_corner=at(_EYE_CORNERS[0]),
        image_left_eye_inner_corner=at(_EYE_CORNERS[1]),
        image_right_eye_inner_corner=at(_EYE_CORNERS[2]),
        image_right_eye_outer_corner=at(_EYE_CORNERS[3]),
        yaw=round(yaw, 2),
        pitch=round(pitch, 2),
        roll=round(roll, 2),
    )


def _yaw_pitch(depth: Any) -> tuple[float, float]:
    """Yaw and pitch from the mesh's 3-D points: the face's normal, towards the camera, is
    the cross product of its forehead-to-chin and cheek-to-cheek axes (z grows away from
    the camera, so a frontal face's normal is -z)."""
    left, right = depth(_CHEEK_IMAGE_LEFT), depth(_CHEEK_IMAGE_RIGHT)
    top, bottom = depth(_FOREHEAD), depth(_CHIN)
    ax, ay, az = right[0] - left[0], right[1] - left[1], right[2] - left[2]
    bx, by, bz = bottom[0] - top[0], bottom[1] - top[1], bottom[2] - top[2]
    nx, ny, nz = by * az - bz * ay, bz * ax - bx * az, bx * ay - by * ax
    yaw = math.degrees(math.atan2(nx, -nz))
    pitch = math.degrees(math.atan2(-ny, math.hypot(nx, nz)))
    return yaw, pitch


def _bilinear() -> Any:
    from PIL import Image  # deferred: Pillow and numpy load with the first detection

    return Image.Resampling.BILINEAR
