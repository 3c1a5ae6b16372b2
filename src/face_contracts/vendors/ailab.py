"""AILabTools: Facial Landmarks and Face Analyzer Advanced.

The credential is the ``ailabapi-api-key`` header; the body is multipart with the picture
in the ``image`` part; errors share the success envelope (``error_code``,
``error_code_str``, ``error_msg``, ``error_detail{status_code, code, code_message,
message}``) and the code is ``error_detail.code``. Every successful call costs credits.
Limits, prices and messages are data: ``mocks/ailab/*.json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from face_contracts.vendors._base import Answer, field_is_valid, request_fields, within
from face_contracts.vendors.ailab_documents import ADVANCED, KEY_POINTS, AILabToolsDocuments

if TYPE_CHECKING:
    from collections.abc import Mapping

    from face_contracts.generation._scene import Chooser
    from face_contracts.mock._engine import Call
    from face_contracts.mock._http import BodyError

__all__ = ["VENDOR", "AILabTools"]

CREDENTIAL_HEADER = "ailabapi-api-key"


class AILabTools(AILabToolsDocuments):
    """AILabTools' behaviour (``mocks/ailab/``); its documents are
    :class:`~face_contracts.vendors.ailab_documents.AILabToolsDocuments`."""

    name = "ailab"
    title = "AILabTools"
    credential_env = ("FACE_CONTRACTS_AILAB_API_KEY",)
    internal_error_code = "SERVICE_INTERNAL_ERROR"
    fresh_paths: ClassVar[Mapping[str, tuple[tuple[str, ...], ...]]] = {
        KEY_POINTS: (("request_id",), ("log_id",), ("result", "face_list", "*", "face_token")),
        ADVANCED: (("request_id",), ("log_id",)),
    }

    # --- auth and envelope ------------------------------------------------------------------

    def credential(self, call: Call) -> str | None:
        return call.request.headers.get(CREDENTIAL_HEADER) or None

    def credential_state(self, call: Call) -> str:
        key = self.credential(call)
        if not key:
            return "missing"
        allowed = call.settings.credentials.get(self.name)
        return "wrong" if allowed and key not in allowed else "valid"

    def error(self, operation: str, code: str, chooser: Chooser, **details: str) -> Answer:
        entry = self.catalogue_entry(operation, code)
        status: int = entry["status"]
        upstream = details.get("message") or entry.get("message") or entry["code_message"]
        body: dict[str, Any] = {
            "request_id": self.fresh_value("request_id", chooser, 0),
            "log_id": self.fresh_value("log_id", chooser, 0),
            "error_code": status,
        }
        if "error_code_str" in entry:
            body["error_code_str"] = entry["error_code_str"]
            body["error_msg"] = f"{entry['code_message']} - {upstream}"
        body["error_detail"] = {
            "status_code": status,
            "code": entry["code"],
            "code_message": entry["code_message"],
            "message": upstream,
        }
        return Answer(status, "application/json", body)

    # --- answers outside the vendor's logic ---------------------------------------------------

    def not_found(self, path: str, chooser: Chooser) -> Answer | None:
        if not path.startswith("/api/"):
            return None
        return self.error(
            KEY_POINTS, "ERROR_AI_NOT_EXISTS", chooser, message=f"{path} is not an API"
        )

    def bad_body(self, operation: str, error: BodyError, chooser: Chooser) -> Answer:
        return self.error(operation, "ERROR_PARAMETERS", chooser, message=str(error))

    def too_large(self, operation: str, chooser: Chooser) -> Answer:
        return self.error(
            operation, "FILE_SIZE_EXCEEDS_LIMIT", chooser, message="the request is too large"
        )

    def download_failure(self, operation: str, chooser: Chooser, *, timeout: bool) -> Answer:
        code = (
            "ERROR_FILE_DOWNLOAD_TIMEOUT"
            if timeout and self.documents(operation, "ERROR_FILE_DOWNLOAD_TIMEOUT")
            else "ERROR_FILE_DOWNLOAD_FAILED"
        )
        return self.error(operation, code, chooser)

    # --- the call ------------------------------------------------------------------------------

    def handle(self, call: Call) -> Answer:
        operation = call.op
        key = self.credential(call)
        allowed = call.settings.credentials.get(self.name)
        if not key or (allowed and key not in allowed):
            call.refuse("ERROR_APPLICATIONS_NOT_EXISTS", message="invalid api key")
        cost = int(self.data(operation).get("cost_credits", 1))
        taken, balance = call.spend_credits(key, cost)
        if not taken:
            call.refuse(
                "ERROR_NOT_ENOUGH_CREDITS", message=f"{balance} credits left, {cost} needed"
            )
        parsed = call.parsed
        if parsed.kind != "multipart" or "image" not in parsed.files:
            call.refuse("MISSING_PARAMETERS", message="image: a multipart file part is required")
        for name, value in parsed.fields.items():
            if name in request_fields(operation) and not field_is_valid(operation, name, value):
                call.refuse(
                    "ERROR_PARAMETERS", message=f"{name}: {value!r} is not a documented value"
                )
        limits = self.data(operation)["image"]
        picture = call.picture(parsed.files["image"].data)
        if picture.size > limits["max_bytes"]:
            call.refuse("FILE_SIZE_EXCEEDS_LIMIT", message=f"image: {picture.size} bytes")
        if picture.problem in ("empty", "unknown_format") or (
            picture.info and picture.info.format not in limits["formats"]
        ):
            call.refuse("UNSUPPORTED_FILE_TYPES", message="image: unsupported file type")
        if picture.info is None or picture.problem:
            call.refuse("FILE_DECODING_FAILURE", message="image: the file cannot be decoded")
        size = (picture.info.width, picture.info.height)
        if not within(size, limits["max_pixels"], upper=True):
            call.refuse("FILE_RESOLUTION_EXCEEDS_LIMITS", message="image: resolution too high")
        if not within(size, limits["min_pixels"], upper=False):
            call.refuse("ERROR_LOW_RESOLUTION", message="image: resolution too low")
        found = call.scene(picture)
        scene = call.reported(found, limits)
        if not scene.faces:
            # Face Analyzer Advanced documents an error for faces under its minimum size
            # (64 px); a picture with only such faces gets it rather than "no face".
            if found.faces and self.documents(operation, "ERROR_FACE_SIZE_NOT_MEET_REQUIREMENTS"):
                side = limits["min_face_side"]["pixels"]
                call.refuse(
                    "ERROR_FACE_SIZE_NOT_MEET_REQUIREMENTS",
                    message=f"face smaller than {side}x{side} px",
                )
            call.refuse("ERROR_NO_FACE_IN_FILE", message="pic not has face")
        answer, _ = call.render(scene, dict(parsed.fields))
        return answer


VENDOR = AILabTools()
