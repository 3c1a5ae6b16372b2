"""Ace Data Cloud: Facial Feature Localization (90 points).

The credential is a bearer token (``authorization: Bearer <token>``); the body is JSON with
the picture's ``image_url``; errors are ``{success?, error{code, message}, trace_id}`` and
the code is ``error.code``. The vendor publishes no rate limit, so the mock's
``rate_per_second`` is the test's to set. Limits and messages are data:
``mocks/acedata/face_analyze.json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from face_contracts._net import bearer_token
from face_contracts.vendors._base import Answer, field_is_valid
from face_contracts.vendors.acedata_documents import ANALYZE, OPTIONS, AceDataCloudDocuments

if TYPE_CHECKING:
    from collections.abc import Mapping

    from face_contracts.generation._scene import Chooser
    from face_contracts.mock._engine import Call
    from face_contracts.mock._http import BodyError
    from face_contracts.mock._pictures import Picture

__all__ = ["VENDOR", "AceDataCloud"]

_OPTIONS = ("image_url", *OPTIONS)


class AceDataCloud(AceDataCloudDocuments):
    """Ace Data Cloud's behaviour (``mocks/acedata/``); its documents are
    :class:`~face_contracts.vendors.acedata_documents.AceDataCloudDocuments`."""

    name = "acedata"
    title = "Ace Data Cloud"
    credential_env = ("FACE_CONTRACTS_ACEDATA_TOKEN",)
    internal_error_code = "api_error"
    fresh_paths: ClassVar[Mapping[str, tuple[tuple[str, ...], ...]]] = {}

    # --- auth and envelope ------------------------------------------------------------------

    def credential(self, call: Call) -> str | None:
        return bearer_token(call.request.headers.get("authorization", ""))

    def credential_state(self, call: Call) -> str:
        token = self.credential(call)
        if not token:
            return "missing"
        allowed = call.settings.credentials.get(self.name)
        return "wrong" if allowed and token not in allowed else "valid"

    def error(self, operation: str, code: str, chooser: Chooser, **details: str) -> Answer:
        entry = self.catalogue_entry(operation, code)
        body = {
            "error": {"code": entry["code"], "message": details.get("message") or entry["message"]},
            "trace_id": self.fresh_value("trace_id", chooser, 0),
        }
        return Answer(entry["status"], entry["content_type"], body)

    # --- answers outside the vendor's logic ---------------------------------------------------

    def not_found(self, path: str, chooser: Chooser) -> Answer | None:
        if not path.startswith("/face/"):
            return None
        return self.error(ANALYZE, "no_api", chooser)

    def bad_body(self, operation: str, error: BodyError, chooser: Chooser) -> Answer:
        return self.error(operation, "bad_request", chooser, message=str(error))

    def too_large(self, operation: str, chooser: Chooser) -> Answer:
        return self.error(
            operation, "bad_request", chooser, message="the request body is too large"
        )

    def download_failure(self, operation: str, chooser: Chooser, *, timeout: bool) -> Answer:
        return self.error(operation, "api_error", chooser, message="fetch failed")

    def invalid_url(self, operation: str, chooser: Chooser) -> Answer:
        return self.error(operation, "bad_request", chooser, message="image_url is not a valid URL")

    # --- the call ------------------------------------------------------------------------------

    def handle(self, call: Call) -> Answer:
        operation = call.op
        if not call.request.headers.get("authorization", "").strip():
            call.refuse("no_token")
        token = self.credential(call)
        allowed = call.settings.credentials.get(self.name)
        if token is None or (allowed and token not in allowed):
            call.refuse("invalid_token")
        if not call.within_rate(token):
            call.refuse("too_many_requests")
        body = call.parsed.json
        if call.parsed.kind != "json" or not isinstance(body, dict):
            call.refuse("bad_request", message="the body must be a JSON object")
        if not isinstance(body.get("image_url"), str) or not body["image_url"]:
            call.refuse("bad_request", message="image_url is required")
        for name in _OPTIONS:
            if name in body and not field_is_valid(operation, name, body[name]):
                call.refuse(
                    "bad_request", message=f"{name}: {body[name]!r} is not a documented value"
                )
        picture = call.picture(call.fetch(body["image_url"]))
        problem = _upstream_problem(picture, self.data(operation)["image_url_target"])
        if problem is not None:
            call.refuse("api_error", message=problem)
        scene = call.scene(picture)
        if not scene.faces:
            no_face = self.data(operation)["no_face"]
            call.refuse(no_face["code"], message=no_face["message"])
        answer, _ = call.render(scene, body)
        return answer


def _upstream_problem(picture: Picture, target: Mapping[str, Any]) -> str | None:
    """Which limit of the picture behind the URL fails (the upstream's error code), or None:
    format, bytes, long side (by format), short side (D-ACE-16)."""
    errors = target["upstream_errors"]
    info = picture.info
    if info is None or picture.problem or info.format not in target["formats"]:
        return str(errors["format"]["code"])
    if picture.size > target["max_bytes"]:
        return str(errors["max_bytes"]["code"])
    long_side = target["max_long_side"].get(info.format, target["max_long_side"]["other"])
    if max(info.width, info.height) > long_side:
        return str(errors["max_long_side"]["code"])
    if min(info.width, info.height) < target["min_short_side"]:
        return str(errors["min_short_side"]["code"])
    return None


VENDOR = AceDataCloud()
