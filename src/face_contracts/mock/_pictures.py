"""Pictures as the mock sees them: checked once per distinct picture, faces derived from the
bytes so that the same picture gives the same faces in every run, process and vendor."""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from dataclasses import dataclass
from functools import cache

from PIL import Image

from face_contracts._resources import data_dir
from face_contracts.generation._scene import Face, Scene
from face_contracts.images import (
    ImageInfo,
    ImageProblemError,
    decode_check,
    encode_image,
    read_header,
)

__all__ = ["Picture", "analyse", "default_picture", "faces_for"]

# No vendor accepts more than 4096x4096; a picture above twice that is never decoded.
_DECODE_LIMIT = 8192 * 8192


@dataclass(frozen=True, slots=True)
class Picture:
    """What a vendor learns from a picture: its digest, header, whether it decodes, whether
    it is uniform (one colour: no face)."""

    digest: str
    size: int
    info: ImageInfo | None
    problem: str | None  # None, or the ImageProblemError reason
    uniform: bool


_cache: dict[str, Picture] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 512


def analyse(data: bytes | memoryview) -> Picture:
    """Header, decodability and uniformity of a picture, computed once per distinct bytes."""
    digest = hashlib.sha256(data).hexdigest()  # the fastest safe digest here (SHA extensions)
    found = _cache.get(digest)
    if found is not None:
        return found
    picture = _analyse(bytes(data), digest)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[digest] = picture
    return picture


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
    return Picture(digest, len(data), info, None, uniform=uniform)


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
    """The scene of a picture: the configured faces if any, none for a uniform picture,
    otherwise one face placed and sized by the picture's digest."""
    if picture.info is None:
        return Scene(0, 0, ())
    width, height = picture.info.width, picture.info.height
    if isinstance(override, tuple):
        faces = [Face(*box) for box in override]
    elif isinstance(override, int):
        faces = _row_of_faces(width, height, override)
    elif picture.uniform:
        faces = []
    else:
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
    return Scene(width, height, tuple(faces))


def _row_of_faces(width: int, height: int, count: int) -> list[Face]:
    """``count`` faces side by side, each smaller than the one before (largest first)."""
    if count <= 0:
        return []
    column = width // count
    faces = []
    for index in range(count):
        side = max(1, int(min(column, height) * (0.8 - 0.4 * index / max(count, 2))))
        box_height = min(height, side + side // 8)
        left = index * column + (column - side) // 2
        top = (height - box_height) // 2
        faces.append(Face(left, top, side, box_height))
    return faces
