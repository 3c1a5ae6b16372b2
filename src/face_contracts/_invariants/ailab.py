"""AILabTools rules a schema cannot state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from face_contracts._invariants import invariant

if TYPE_CHECKING:
    from collections.abc import Iterator

    from face_contracts._invariants import Context

__all__: list[str] = []


@invariant("face_num.matches_face_list", ("ailab.face_key_points", "response"))
def face_num_matches_face_list(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """result.face_num is the number of entries in result.face_list."""
    result = document["result"]
    face_num, faces = result["face_num"], result["face_list"]
    if isinstance(face_num, int) and isinstance(faces, list) and face_num != len(faces):
        yield "/result/face_num", f"face_num is {face_num} but face_list has {len(faces)} faces"
