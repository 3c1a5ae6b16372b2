"""One session of the live suite: targets, the call budget, building and sending each
case's request, judging the answer, recording it, and keeping the drift report.

Every message that leaves this module (a failure, a skip reason, a report line, a
recording) passes through the session's :class:`~face_contracts.redaction.Redactor`.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from face_contracts._resources import data_dir
from face_contracts.contract_suite._case import Case, Expect
from face_contracts.contract_suite.judge import Answer, Drift, judge, judge_report
from face_contracts.contract_suite.report import CaseResult, DriftReport
from face_contracts.contract_suite.targets import (
    IMAGE_BASE_ENV,
    Admin,
    AdminError,
    ServerThread,
    Target,
    resolve_targets,
)
from face_contracts.contracts import contracts
from face_contracts.images import pad_image
from face_contracts.mock import FaceMock
from face_contracts.mock._http import HttpRequest, encode_request, parse_body
from face_contracts.recordings import (
    DEFAULT_STALE_AFTER_DAYS,
    Recording,
    RecordingError,
    load_recording,
    request_summary,
    save_recording,
)
from face_contracts.redaction import Redactor
from face_contracts.server import MockApp
from face_contracts.settings import Settings as MockSettings
from face_contracts.vendors import vendor_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from face_contracts.recordings import CredentialState

__all__ = ["DEFAULT_CALL_BUDGET", "ContractRun", "Settings", "fixture_image"]

DEFAULT_CALL_BUDGET = 50
# Image URLs the mock's admin API is told to serve; .invalid never resolves anywhere else.
_MOCK_IMAGE_BASE = "https://images.face-contracts.invalid"
_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif"}
_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


@dataclass(frozen=True)
class Settings:
    """The suite's options (see the plugin for their command-line names)."""

    live: bool = False
    call_budget: int = DEFAULT_CALL_BUDGET
    strict: bool = False
    record: bool = False
    recordings_dir: Path = Path("fixtures/recordings")
    stale_after_days: float = DEFAULT_STALE_AFTER_DAYS
    drift_report: Path | None = None


@dataclass
class _Prepared:
    """A request ready to send, and what the response rules need to know of it: the body
    members other than credentials and the picture's bytes."""

    request: HttpRequest
    options: dict[str, Any] = field(default_factory=dict)


@cache
def fixture_image(name: str) -> bytes:
    """A picture of ``fixtures/images/`` (shipped inside the wheel too)."""
    path = data_dir("fixtures") / "images" / name
    if path.parent.resolve() != (data_dir("fixtures") / "images").resolve():
        msg = f"not a fixture picture: {name!r}"
        raise ValueError(msg)
    return path.read_bytes()


@cache
def _oversized(name: str, limit: int) -> bytes:
    return pad_image(fixture_image(name), limit + 1)


class ContractRun:
    """The state of one session of the suite. Start with :meth:`start`, end with
    :meth:`close`; :meth:`check` and :meth:`check_recording` judge one test each."""

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str] | None = None,
        redactor: Redactor | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport  # instead of the network, for tests of the suite itself
        self.environ = dict(os.environ if environ is None else environ)
        self.redactor = redactor or Redactor.from_environment(self.environ)
        self.report = DriftReport(strict=settings.strict)
        self.paid_calls = 0
        self.targets: dict[str, Target] = resolve_targets(
            self.environ, live=settings.live, local_url=None
        )
        self._client: httpx.Client | None = None
        self._server: ServerThread | None = None
        self._admins: dict[str, Admin] = {}

    # --- session ------------------------------------------------------------------------------

    def start(self) -> ContractRun:
        """Start the local mock if a vendor needs it, and find the targets' admin APIs."""
        self._client = httpx.Client(
            timeout=_TIMEOUT, follow_redirects=False, trust_env=False, transport=self.transport
        )
        local_url = None
        if any(target.where == "local mock" for target in self.targets.values()):
            # The mock writes a credential of several parts (a key and its secret) as one.
            credentials = {vendor: (":".join(t.credentials),) for vendor, t in self.targets.items()}
            mock = FaceMock(MockSettings(credentials=credentials))
            self._server = ServerThread(MockApp(mock)).start()
            local_url = self._server.url
        self.targets = resolve_targets(self.environ, live=self.settings.live, local_url=local_url)
        for target in self.targets.values():
            if target.where == "remote":
                continue  # never probe a vendor's host: every call to it is counted
            token = self.environ.get("FACE_CONTRACTS_ADMIN_TOKEN") or None
            if target.where == "local mock":
                token = None  # the local mock is started without one
            admin = self._admins.setdefault(
                target.base_url, Admin(self._client, target.base_url, token)
            )
            target.admin = target.where == "local mock" or admin.available()
        return self

    def close(self) -> None:
        """Stop the local mock and close the connections."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def describe_targets(self) -> dict[str, str]:
        """Each vendor's target, redacted, for headers and reports."""
        return {vendor: t.describe(self.redactor) for vendor, t in self.targets.items()}

    def meta(self) -> dict[str, Any]:
        """What the JSON report says about the session."""
        return {
            "targets": self.describe_targets(),
            "live": self.settings.live,
            "call_budget": self.settings.call_budget,
            "paid_calls": self.paid_calls,
            "recording": self.settings.record,
        }

    @property
    def client(self) -> httpx.Client:
        """The HTTP client (after :meth:`start`)."""
        if self._client is None:
            msg = "the contract run is not started"
            raise RuntimeError(msg)
        return self._client

    # --- one case -----------------------------------------------------------------------------

    def check(self, case: Case, node: pytest.Item) -> None:
        """Send ``case`` to its vendor's target and judge the answer; fail the test with
        every failing drift, attach warnings to the test's JUnit properties."""
        target = self.targets[case.vendor]
        result = CaseResult(
            node.nodeid, case.id, case.operation, case.description, target.describe(self.redactor)
        )
        self.report.add(result)
        if target.skip_reason:
            self._skip(result, target.skip_reason)
        url = self._image_url(target, case, result)
        self._spend(target, case.calls, result)
        try:
            if target.admin:
                self._set_scene(target, case, url)
            token = self._face_token(target, case, result) if case.source == "token" else None
            prepared = self._build(case.operation, target, case, url, token)
            result.request = self._summary(case.operation, prepared, case)
            answer = self._send(target, prepared, result)
        except AdminError as error:
            self._fail(result, f"{case.id}: the mock's admin API refused: {error}")
        result.status, result.content_type = answer.status, answer.content_type
        result.drifts = judge(
            case.operation,
            case.expect,
            answer,
            {"headers": {}, "body": prepared.options},
            self.redactor,
        )
        if self.settings.record:
            self._record(case, target, prepared, answer, result)
        self._conclude(result, node)

    def check_recording(self, path: Path, node: pytest.Item) -> None:
        """Re-validate one recording and flag it when stale."""
        result = CaseResult(node.nodeid, f"recording {path.name}", "recordings", "", str(path))
        self.report.add(result)
        try:
            recording = load_recording(path, stale_after_days=self.settings.stale_after_days)
        except RecordingError as error:
            self._fail(result, self.redactor.text(str(error)))
        result.operation = recording.operation
        result.case = f"recording {recording.operation}/{path.name}"
        result.description = f"recorded {recording.to_json()['recorded_at']} from {recording.host}"
        result.request = dict(recording.request)
        result.status, result.content_type = recording.status, recording.content_type
        parsed = recording.body if not recording.text else str(recording.body)
        result.drifts = judge_report(recording.report, parsed, self.redactor)
        if recording.stale:
            days = recording.age().days
            result.drifts.append(
                Drift(
                    "warning",
                    "recording.stale",
                    "",
                    f"recorded within {self.settings.stale_after_days:g} days",
                    f"recorded {days} days ago ({recording.to_json()['recorded_at']}): "
                    "record it again",
                )
            )
        self._conclude(result, node)

    # --- steps --------------------------------------------------------------------------------

    def _conclude(self, result: CaseResult, node: pytest.Item) -> None:
        # JUnit XML carries the drifts as properties (warnings too) and failures as messages.
        for line in result.drift_lines(self.settings.strict):
            node.user_properties.append(("drift", line))
        failing = result.failing(self.settings.strict)
        if failing:
            lines = [
                f"{result.case}: {len(failing)} drift(s) from the contract",
                f"  {result.headline()}",
            ]
            lines.extend(f"  {line}" for line in result.drift_lines(self.settings.strict))
            self._fail(result, "\n".join(lines))
        result.outcome = "passed"

    def _skip(self, result: CaseResult, reason: str) -> NoReturn:
        result.outcome, result.reason = "skipped", self.redactor.text(reason)
        pytest.skip(result.reason)

    def _fail(self, result: CaseResult, message: str) -> NoReturn:
        result.outcome, result.reason = "failed", self.redactor.text(message)
        pytest.fail(result.reason, pytrace=False)

    def _spend(self, target: Target, calls: int, result: CaseResult) -> None:
        if not target.paid:
            return
        budget = self.settings.call_budget
        if self.paid_calls + calls > budget:
            self._skip(
                result,
                f"call budget spent: {self.paid_calls} of {budget} paid call(s) made; "
                "raise --call-budget to run more",
            )
        self.paid_calls += calls

    def _image_url(self, target: Target, case: Case, result: CaseResult) -> str | None:
        if case.source != "url" or case.image is None:
            return None
        if target.admin:
            return f"{_MOCK_IMAGE_BASE}/{case.image}"
        base = self.environ.get(IMAGE_BASE_ENV, "").rstrip("/")
        if not base:
            self._skip(
                result,
                f"{case.id} sends an image URL: set {IMAGE_BASE_ENV} to a public copy of "
                "fixtures/images/",
            )
        return f"{base}/{case.image}"

    def _set_scene(self, target: Target, case: Case, url: str | None) -> None:
        admin = self._admins[target.base_url]
        admin.reset()
        admin.credentials(target.vendor.name, target.credentials)
        if case.mock_faces is not None:
            admin.faces(case.mock_faces)
        if url is not None and case.image is not None:
            admin.image(url, fixture_image(case.image))

    def _picture(self, operation: str, case: Case) -> tuple[str, bytes] | None:
        if case.image is None:
            return None
        if case.oversize:
            limit = int(contracts().mock_data[operation]["image"]["max_bytes"])
            return case.image, _oversized(case.image, limit)
        return case.image, fixture_image(case.image)

    def _credentials(self, target: Target, case: Case) -> tuple[str, ...]:
        if case.auth == "wrong":
            return vendor_of(case.operation).placeholder_credentials("wrong")
        if case.auth == "missing":
            return ()
        if case.auth == "missing_secret":
            return target.credentials[:1]
        return target.credentials

    def _build(
        self, operation: str, target: Target, case: Case, url: str | None, token: str | None
    ) -> _Prepared:
        """The case's request as its vendor takes it: the picture in the field its way of
        travelling names, credentials where the contract's ``auth`` puts them, encoded as a
        client would (multipart with a file part, else a urlencoded form where the operation
        takes one, JSON for a JSON operation)."""
        vendor = vendor_of(operation)
        options: dict[str, Any] = dict(case.fields)
        body: dict[str, Any] = {}
        for way, value in (("token", token), ("url", url)):
            field_name = vendor.picture_field(operation, way)
            if value is not None and field_name is not None:
                body[field_name] = options[field_name] = value
        body.update(case.fields)
        picture = self._picture(operation, case) if case.source in ("file", "base64") else None
        field_name = vendor.picture_field(operation, case.source)
        if picture is not None and field_name is not None:
            name, data = picture
            encoded = base64.b64encode(data).decode()
            body[field_name] = (
                {"filename": name, "content_type": _media_type(name), "base64": encoded}
                if case.source == "file"
                else encoded
            )
        document = vendor.request_document(operation, self._credentials(target, case), body)
        op = contracts().operation(operation)
        if op.request_content_types == ("application/json",):
            document["headers"]["accept"] = "application/json"  # as the vendors' samples send
        form = "application/x-www-form-urlencoded" in op.request_content_types
        multipart = (case.source == "file" and picture is not None) or not form
        return _Prepared(encode_request(operation, document, multipart=multipart), options)

    def _face_token(self, target: Target, case: Case, result: CaseResult) -> str:
        """A face_token from a call on the case's picture to the vendor's operation that
        issues them (the one whose fresh values include one: Face++ Detect)."""
        issuer, path = next(
            (op, path)
            for op, paths in vendor_of(case.operation).fresh_paths.items()
            for path in paths
            if path[-1] == "face_token"
        )
        source = Case(issuer, "face-token-source", "", Expect("success"), image=case.image)
        answer = self._send(target, self._build(issuer, target, source, None, None), result)
        try:
            token = _first_at(orjson.loads(answer.body), path)
        except orjson.JSONDecodeError:
            token = None
        if not isinstance(token, str) or not token:
            self._fail(
                result,
                f"{case.id}: {issuer} gave no face_token for {case.image} "
                f"(HTTP {answer.status}), so the face_token request cannot be made",
            )
        return str(token)

    def _send(self, target: Target, prepared: _Prepared, result: CaseResult) -> Answer:
        sent = prepared.request
        # httpx sets the target's own Host and the length.
        headers = {k: v for k, v in sent.headers.items() if k not in ("host", "content-length")}
        request = self.client.build_request(
            sent.method, f"{target.base_url}{sent.path}", headers=headers, content=sent.body
        )
        try:
            response = self.client.send(request)
        except httpx.HTTPError as error:
            # httpx messages can carry the URL; the redactor masks what it must.
            self._fail(
                result, f"{result.case}: the request failed: {type(error).__name__}: {error}"
            )
        return Answer(
            response.status_code, response.headers.get("content-type", ""), response.content
        )

    def _summary(self, operation: str, prepared: _Prepared, case: Case) -> dict[str, Any]:
        request = prepared.request
        parsed = parse_body(request.headers.get("content-type", ""), request.body)
        return request_summary(operation, request, parsed, _credential_state(case), self.redactor)

    def _record(
        self, case: Case, target: Target, prepared: _Prepared, answer: Answer, result: CaseResult
    ) -> None:
        media = answer.content_type.split(";", 1)[0].strip().lower()
        text = not media.endswith("json")
        try:
            body: Any = None if text else orjson.loads(answer.body)
        except orjson.JSONDecodeError:
            text = True
        if text:
            body = self.redactor.text(answer.body.decode("utf-8", errors="replace"))
        else:
            body = self.redactor.json(body)
        recording = Recording(
            operation=case.operation,
            recorded_at=datetime.now(UTC).replace(microsecond=0),
            host=self.redactor.text(urlsplit(target.base_url).hostname or ""),
            case=case.id,
            request=result.request or self._summary(case.operation, prepared, case),
            status=answer.status,
            content_type=self.redactor.text(answer.content_type),
            body=body,
            text=text,
        )
        save_recording(self.settings.recordings_dir, recording)


def _first_at(document: Any, path: tuple[str, ...]) -> Any:
    """The first value at a path of keys (``*``: the first item of an array), or None."""
    for key in path:
        if key == "*":
            document = document[0] if isinstance(document, list) and document else None
        else:
            document = document.get(key) if isinstance(document, dict) else None
    return document


def _credential_state(case: Case) -> CredentialState:
    if case.auth == "valid":
        return "valid"
    return "wrong" if case.auth == "wrong" else "missing"


def _media_type(name: str) -> str:
    return _MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
