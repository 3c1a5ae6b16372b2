"""Face++ (Megvii): Dense Facial Landmarks and Detect.

Credentials are the form fields ``api_key`` and ``api_secret`` (the mock's settings write a
pair as ``key:secret``); errors are ``{time_used, error_message, request_id}`` whose
message is ``CODE`` or ``CODE: detail`` (the code is what precedes the colon), except the
plain-text 413 answered before the body is read. A picture comes from ``face_token``,
``image_file``, ``image_base64`` or ``image_url``, first present wins; Detect issues the
face_tokens Dense Landmarks takes. Limits and messages are data: ``mocks/facepp/*.json``.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any, ClassVar

from face_contracts.generation._scene import HEX, Face, Scene
from face_contracts.vendors._base import Answer, field_is_valid, request_fields, within
from face_contracts.vendors.facepp_documents import DENSE, DETECT, FacePlusPlusDocuments

if TYPE_CHECKING:
    from collections.abc import Mapping

    from face_contracts.generation._scene import Chooser
    from face_contracts.mock._engine import Call
    from face_contracts.mock._http import BodyError

__all__ = ["VENDOR", "FacePlusPlus"]

_CREDENTIAL_FIELDS = ("api_key", "api_secret")
_PICTURE_FIELDS = ("image_file", "image_base64", "image_url")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


class FacePlusPlus(FacePlusPlusDocuments):
    """Face++'s behaviour (``mocks/facepp/``); its documents are
    :class:`~face_contracts.vendors.facepp_documents.FacePlusPlusDocuments`."""

    name = "facepp"
    title = "Face++"
    credential_env = ("FACE_CONTRACTS_FACEPP_API_KEY", "FACE_CONTRACTS_FACEPP_API_SECRET")
    internal_error_code = "INTERNAL_ERROR"
    fresh_paths: ClassVar[Mapping[str, tuple[tuple[str, ...], ...]]] = {
        DENSE: (("request_id",), ("time_used",)),
        DETECT: (("request_id",), ("time_used",), ("image_id",), ("faces", "*", "face_token")),
    }

    # --- auth and envelope ------------------------------------------------------------------

    def credential(self, call: Call) -> str | None:
        value = call.fields.get("api_key")
        return value if isinstance(value, str) and value else None

    def credential_state(self, call: Call) -> str:
        key, secret = call.fields.get("api_key"), call.fields.get("api_secret")
        if not key or not secret:
            return "missing"
        allowed = call.settings.credentials.get(self.name)
        return "wrong" if allowed and f"{key}:{secret}" not in allowed else "valid"

    def error(self, operation: str, code: str, chooser: Chooser, **details: str) -> Answer:
        entry = self.catalogue_entry(operation, code)
        if entry["content_type"].startswith("text/"):
            return Answer(entry["status"], entry["content_type"], entry["message"])
        fill = {
            "field": details.get("field") or chooser.choice(entry.get("fields") or ["image_file"]),
            "face_token": details.get("face_token") or chooser.token(HEX, 32),
            "reason": details.get("reason")
            or chooser.choice(entry.get("reasons") or ["Denied by Client"]),
        }
        fill["fields"] = details.get("fields") or fill["field"]
        body = {
            "time_used": chooser.integer(0, 60),
            "error_message": entry["message"].format(**fill),
            "request_id": self.fresh_value("request_id", chooser, 0),
        }
        return Answer(entry["status"], "application/json", body)

    def face_token_lifetime(self, operation: str) -> float | None:
        data = self.data(DETECT)["face_token"]
        return float(data["lifetime_hours"]) * 3600.0

    # --- answers outside the vendor's logic ---------------------------------------------------

    def not_found(self, path: str, chooser: Chooser) -> Answer | None:
        if not path.startswith("/facepp/"):
            return None
        return self.error(DENSE, "API_NOT_FOUND", chooser)

    def bad_body(self, operation: str, error: BodyError, chooser: Chooser) -> Answer:
        return self.error(operation, "BAD_ARGUMENTS", chooser, field=error.field or "image_file")

    def too_large(self, operation: str, chooser: Chooser) -> Answer:
        # Face++ refuses an oversized request before reading it ([facepp-dense-cn]: 413,
        # plain text).
        return self.error(operation, "Request Entity Too Large", chooser)

    def body_limit(self, operation: str) -> int:
        return int(self.data(operation)["request"]["max_bytes"])

    def download_failure(self, operation: str, chooser: Chooser, *, timeout: bool) -> Answer:
        return self.error(
            operation, "IMAGE_DOWNLOAD_TIMEOUT" if timeout else "INVALID_IMAGE_URL", chooser
        )

    def invalid_url(self, operation: str, chooser: Chooser) -> Answer:
        return self.error(operation, "INVALID_IMAGE_URL", chooser)

    # --- the call ------------------------------------------------------------------------------

    def handle(self, call: Call) -> Answer:
        fields = call.parsed.fields
        for name in _CREDENTIAL_FIELDS:
            if not fields.get(name):
                call.refuse("MISSING_ARGUMENTS", field=name, fields=name)
        key, secret = fields["api_key"], fields["api_secret"]
        allowed = call.settings.credentials.get(self.name)
        if allowed and f"{key}:{secret}" not in allowed:
            call.refuse("AUTHENTICATION_ERROR")
        if not call.take_slot(key):
            call.refuse("CONCURRENCY_LIMIT_EXCEEDED")
        self._check_options(call, fields)
        scene, options = self._scene(call, fields)
        answer, fresh = call.render(scene, options)
        tokens = fresh.get("face_token", [])
        if tokens:
            faces = scene.faces
            rectangle = options.get("face_rectangle")
            if rectangle:  # the answer's one face is the box asked for
                top, left, width, height = (int(part) for part in rectangle.split(","))
                faces = (Face(left, top, width, height),)
                scene = Scene(scene.width, scene.height, faces)
            call.remember_face_tokens(tokens, scene, faces)
        return answer

    def _check_options(self, call: Call, fields: Mapping[str, str]) -> None:
        operation = call.op
        for name, value in fields.items():
            if name in _CREDENTIAL_FIELDS or name in ("image_base64", "image_url", "face_token"):
                continue
            if _documented_field(operation, name) and not field_is_valid(operation, name, value):
                call.refuse("BAD_ARGUMENTS", field=name)
        if operation == DENSE and "return_landmark" not in fields:
            call.refuse("MISSING_ARGUMENTS", field="return_landmark", fields="return_landmark")

    def _scene(self, call: Call, fields: Mapping[str, str]) -> tuple[Scene, dict[str, Any]]:
        operation, files = call.op, call.parsed.files
        options: dict[str, Any] = {k: v for k, v in fields.items() if k not in _CREDENTIAL_FIELDS}
        for source in ("face_token", "image_base64", "image_url"):
            # A source sent empty is a malformed argument, not an absent one.
            if source in fields and not fields[source].strip():
                call.refuse("BAD_ARGUMENTS", field=source)
        url = fields.get("image_url")
        if url is not None and not field_is_valid(operation, "image_url", url):
            call.refuse("INVALID_IMAGE_URL")
        token = fields.get("face_token", "").strip()
        if token and not _TOKEN.fullmatch(token):
            # Not something the service could have issued; echoing it would mangle the answer.
            call.refuse("BAD_ARGUMENTS", field="face_token")
        if operation == DENSE and token:
            scene = call.face_token_scene(token)
            if scene is None:
                call.refuse("INVALID_FACE_TOKEN", face_token=token)
            return scene, options
        if "image_file" in files:
            field_name, data = "image_file", files["image_file"].data
        elif fields.get("image_base64"):
            field_name = "image_base64"
            try:
                # Line breaks and spaces are allowed (schemas: image_base64); anything else
                # outside the base64 alphabet makes the picture unreadable, not skipped.
                text = "".join(fields["image_base64"].split())
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                call.refuse("IMAGE_ERROR_UNSUPPORTED_FORMAT", field=field_name)
        elif url:
            field_name, data = "image_url", call.fetch(url)
        else:
            call.refuse("MISSING_ARGUMENTS", field="image_url", fields=", ".join(_PICTURE_FIELDS))
        limits = self.data(operation)["image"]
        picture = call.picture(data)
        if picture.size > limits["max_bytes"]:
            call.refuse("IMAGE_FILE_TOO_LARGE", field=field_name)
        if picture.info is None or picture.problem or picture.info.format not in limits["formats"]:
            call.refuse("IMAGE_ERROR_UNSUPPORTED_FORMAT", field=field_name)
        size = (picture.info.width, picture.info.height)
        if not (
            within(size, limits["min_pixels"], upper=False)
            and within(size, limits["max_pixels"], upper=True)
        ):
            call.refuse("INVALID_IMAGE_SIZE", field=field_name)
        return call.reported(call.scene(picture), limits), options


def _documented_field(operation: str, name: str) -> bool:
    return name in request_fields(operation)


VENDOR = FacePlusPlus()
