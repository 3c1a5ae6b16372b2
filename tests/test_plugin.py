"""The pytest plugin, used the way another project uses it: pytester writes test files into
an empty directory and runs them with only the installed package (the plugin loads through
its ``pytest11`` entry point; nothing comes from this repository's conftest)."""

from __future__ import annotations

import socket
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

pytest_plugins = ["pytester"]

# One run in a fresh interpreter, under pytest-xdist: both fixtures, httpx and requests, all
# five operations, success and errors (forced by marker and by fixture method), faults,
# Hypothesis.
END_TO_END = '''
import asyncio
import os

import httpx
import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

from face_contracts import validate
from face_contracts.images import encode_image

PICTURE = encode_image("JPEG", 640, 480, seed=3, faces=((200, 100, 220, 250),))
PATHS = {
    "ailab.face_key_points": "/api/portrait/analysis/face-key-points",
    "ailab.face_analyzer_advanced": "/api/portrait/analysis/face-analyzer-advanced",
    "acedata.face_analyze": "/face/analyze",
    "facepp.thousandlandmark": "/facepp/v1/face/thousandlandmark",
    "facepp.detect": "/facepp/v3/detect",
}
HOSTS = {
    "ailab": "https://www.ailabapi.com",
    "acedata": "https://api.acedata.cloud",
    "facepp": "https://api-us.faceplusplus.com",
}
# A documented error of each operation, and the HTTP status it comes with.
ERRORS = {
    "ailab.face_key_points": ("ERROR_USER_LOCKED", 403),
    "ailab.face_analyzer_advanced": ("ERROR_NOT_ENOUGH_CREDITS", 429),
    "acedata.face_analyze": ("used_up", 403),
    "facepp.thousandlandmark": ("AUTHORIZATION_ERROR", 403),
    "facepp.detect": ("INSUFFICIENT_PERMISSION", 403),
}
CLIENTS = pytest.mark.parametrize("client", [httpx, requests], ids=["httpx", "requests"])
ALL = pytest.mark.parametrize("operation", list(PATHS))


def send(client, base, operation, credential="good"):
    """The request a client of the vendor sends; ``client`` is httpx or requests."""
    url = base + PATHS[operation]
    image = {"image": ("face.jpg", PICTURE, "image/jpeg")}
    if operation.startswith("ailab."):
        return client.post(url, headers={"ailabapi-api-key": credential}, files=image)
    if operation.startswith("acedata."):
        headers = {"authorization": f"Bearer {credential}"}
        return client.post(url, headers=headers, json={"image_url": "https://cdn.example.com/a.jpg"})
    form = {"api_key": credential, "api_secret": "secret"}
    if operation == "facepp.thousandlandmark":
        form["return_landmark"] = "all"
    return client.post(url, data=form, files={"image_file": image["image"]})


def vendor_host(operation):
    return HOSTS[operation.split(".")[0]]


def assert_answer(operation, answer, kind, code=None):
    report = validate(operation, kind, answer.content, status=answer.status_code)
    assert report.valid, str(report)
    if code is not None:
        assert code in answer.text


@CLIENTS
@ALL
def test_socket_success(face_mock, client, operation):
    answer = send(client, face_mock.url, operation)
    assert answer.status_code == 200, answer.text
    assert_answer(operation, answer, "response")
    face_mock.assert_called(operation, times=1)


@ALL
def test_respx_success(face_mock_respx, operation):
    answer = send(httpx, vendor_host(operation), operation)
    assert answer.status_code == 200, answer.text
    assert_answer(operation, answer, "response")
    assert [entry.operation for entry in face_mock_respx.journal] == [operation]


@CLIENTS
@ALL
def test_socket_error_forced_by_method(face_mock, client, operation):
    code, status = ERRORS[operation]
    face_mock.force_error(code, operation=operation)
    answer = send(client, face_mock.url, operation)
    assert answer.status_code == status
    assert_answer(operation, answer, "error", code)


@ALL
def test_respx_error_forced_by_method(face_mock_respx, operation):
    code, status = ERRORS[operation]
    face_mock_respx.force_error(code, operation=operation)
    answer = send(httpx, vendor_host(operation), operation)
    assert answer.status_code == status
    assert_answer(operation, answer, "error", code)


@pytest.mark.face_mock(
    credentials={"ailab": ["good"], "acedata": ["good"], "facepp": [("good", "secret")]}
)
@CLIENTS
@ALL
def test_socket_error_from_marker_credentials(face_mock, client, operation):
    assert send(client, face_mock.url, operation).status_code == 200
    answer = send(client, face_mock.url, operation, credential="stolen")
    assert answer.status_code == 401
    assert_answer(operation, answer, "error")


@pytest.mark.face_mock(
    errors=[
        "ERROR_USER_LOCKED",
        {"code": "used_up", "operation": "acedata.face_analyze", "times": 1},
        {"code": "AUTHORIZATION_ERROR", "operation": "facepp.thousandlandmark", "nth": 2},
        {"code": "INSUFFICIENT_PERMISSION", "credential": "good"},
    ],
)
@ALL
def test_respx_errors_forced_by_marker(face_mock_respx, operation):
    code, status = ERRORS[operation]
    host = vendor_host(operation)
    if operation == "ailab.face_analyzer_advanced":  # ERROR_USER_LOCKED: every AILab call
        code, status = "ERROR_USER_LOCKED", 403
    if operation == "facepp.thousandlandmark":  # only the second call
        assert send(httpx, host, operation).status_code == 200
    answer = send(httpx, host, operation)
    assert answer.status_code == status
    assert_answer(operation, answer, "error", code)
    if operation == "acedata.face_analyze":  # only once
        assert send(httpx, host, operation).status_code == 200


def test_respx_serves_async_clients(face_mock_respx):
    async def both():
        async with httpx.AsyncClient() as client:
            return await asyncio.gather(
                send(client, HOSTS["facepp"], "facepp.detect"),
                send(client, HOSTS["acedata"], "acedata.face_analyze"),
            )

    assert [answer.status_code for answer in asyncio.run(both())] == [200, 200]


@pytest.mark.face_mock(faults=[{"operation": "facepp.detect", "drop": True}])
def test_a_dropped_connection_reaches_both_clients(face_mock, face_mock_respx):
    with pytest.raises(requests.ConnectionError):
        send(requests, face_mock.url, "facepp.detect")
    with pytest.raises(httpx.TransportError):
        send(httpx, face_mock.url, "facepp.detect")
    with pytest.raises(httpx.RemoteProtocolError):
        send(httpx, HOSTS["facepp"], "facepp.detect")
    assert send(httpx, HOSTS["facepp"], "facepp.thousandlandmark").status_code == 200


@pytest.mark.face_mock(faces=2, operation_faces={"facepp.detect": [[10, 10, 120, 140]]})
def test_faces_from_the_marker(face_mock):
    detected = send(httpx, face_mock.url, "facepp.detect").json()
    assert [face["face_rectangle"]["left"] for face in detected["faces"]] == [10]
    analysed = send(httpx, face_mock.url, "acedata.face_analyze").json()
    assert len(analysed["face_shape_set"]) == 2


@pytest.mark.face_mock(images={"https://cdn.example.com/mine.jpg": PICTURE}, strict_urls=True)
def test_images_and_strict_urls_from_the_marker(face_mock_respx):
    url = HOSTS["acedata"] + PATHS["acedata.face_analyze"]
    headers = {"authorization": "Bearer t"}
    mine = httpx.post(url, headers=headers, json={"image_url": "https://cdn.example.com/mine.jpg"})
    unknown = httpx.post(url, headers=headers, json={"image_url": "https://cdn.example.com/x.jpg"})
    assert (mine.status_code, unknown.status_code) == (200, 500)
    assert mine.json()["image_width"] == 640


@pytest.mark.face_mock(
    credentials={"facepp": ["good:secret"]},
    errors=[{"code": "AUTHORIZATION_ERROR", "operation": "facepp.detect", "nth": 2}],
)
class TestStackedMarkers:
    @pytest.mark.face_mock(
        credentials={"ailab": ["good"]}, errors=[{"code": "ERROR_USER_LOCKED", "nth": 1}]
    )
    def test_class_and_function_markers_combine(self, face_mock):
        assert send(httpx, face_mock.url, "facepp.detect", credential="stolen").status_code == 401
        assert send(httpx, face_mock.url, "facepp.detect").status_code == 403  # 2nd call
        assert send(httpx, face_mock.url, "ailab.face_key_points").status_code == 403
        assert send(httpx, face_mock.url, "ailab.face_key_points", "stolen").status_code == 401


def test_each_xdist_worker_has_its_own_server(face_mock):
    worker = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
    assert face_mock.url == f"http://127.0.0.1:{BASE_PORT + worker}"


# deadline=None: each example is a round trip to a server thread, slow on a busy machine.
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(faces=st.integers(1, 3))
def test_hypothesis_resets_the_mock_per_example(face_mock, faces):
    face_mock.reset()
    face_mock.set_faces(faces)
    answer = send(httpx, face_mock.url, "facepp.detect")
    assert len(answer.json()["faces"]) == faces
    face_mock.assert_called("facepp.detect", times=1)


@pytest.mark.face_mock(errors=[{"code": "AUTHENTICATION_ERROR", "nth": 1}])
@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.booleans())
def test_reset_returns_to_the_marker_configuration(face_mock_respx, flag):
    face_mock_respx.reset()
    face_mock_respx.force_error("INSUFFICIENT_PERMISSION")  # forgotten by the next reset
    assert send(httpx, HOSTS["facepp"], "facepp.detect").status_code == 401  # first call
    assert send(httpx, HOSTS["facepp"], "facepp.detect").status_code == 403
'''


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports."""
    while True:
        first = _free_port()
        probes = [socket.socket() for _ in range(count)]
        try:
            for offset, probe in enumerate(probes):
                probe.bind(("127.0.0.1", first + offset))
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
        return first


def test_both_fixtures_serve_both_clients_for_every_operation(pytester: pytest.Pytester) -> None:
    base = _free_ports(2)
    pytester.makepyfile(test_end_to_end=END_TO_END.replace("BASE_PORT", str(base)))
    # Under pytest-xdist, on fixed ports: each worker is its own session with its own server.
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--strict-markers",
        "--strict-config",
        "-W",
        "error",
        "-n",
        "2",
        f"--face-mock-port={base}",
    )
    result.assert_outcomes(passed=53)


# Failures explain themselves. Run in-process: it only reads the reports.
FAILURES = """
import httpx
import pytest


def test_unknown_path(face_mock):
    httpx.get(face_mock.url + "/facepp/v3/detect")


@pytest.mark.face_mock(allow_unmatched=True)
def test_unknown_path_allowed(face_mock):
    assert httpx.get(face_mock.url + "/facepp/v3/detect").status_code == 404


def test_unknown_path_in_process(face_mock_respx):
    httpx.post("https://api-cn.faceplusplus.com/facepp/v3/detec")


def test_vendor_errors_are_not_failures(face_mock):
    assert httpx.post(face_mock.url + "/facepp/v3/detect", data={}).status_code == 400


def test_near_misses(face_mock):
    httpx.post(face_mock.url + "/facepp/v3/detect", data={"api_key": "k", "api_secret": "s"})
    face_mock.assert_called("facepp.thousandlandmark")


def test_failing_test_shows_the_journal(face_mock):
    httpx.post(face_mock.url + "/facepp/v3/detect", data={"api_key": "k"})
    assert False, "client gave up"


@pytest.mark.face_mock(colour="blue")
def test_unknown_marker_argument(face_mock):
    pass


@pytest.mark.face_mock(errors=["NOT_A_CODE"])
def test_undocumented_error_code(face_mock_respx):
    pass


@pytest.mark.face_mock(recordings="no-such-folder")
def test_missing_recordings(face_mock):
    pass


def test_other_hosts_are_refused(face_mock_respx):
    httpx.get("https://example.org/")
"""


def test_failures_explain_themselves(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_failures=FAILURES)
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=2, failed=5, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*_ test_unknown_path _*",
            "face-contracts: 1 request(s) reached no operation of the mock*",
            "  GET /facepp/v3/detect -> 404",
            "    near miss: POST /facepp/v3/detect (facepp.detect): same path, method POST",
            "The mock serves:",
            "  POST /api/portrait/analysis/face-key-points * ailab.face_key_points",
            "*allow_unmatched=True*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_unknown_path_in_process _*",
            "  POST /facepp/v3/detec -> 404",
            "    near miss: POST /facepp/v3/detect (facepp.detect): similar path",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*face-contracts: expected facepp.thousandlandmark called at least once;*",
            "*Calls made (same operation first):",
            "*POST /facepp/v3/detect [[]facepp.detect[]]*-> 400",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*client gave up*",
            "*face-contracts face_mock*",
            "face-contracts: the mock answered 1 request(s):",
            "  POST /facepp/v3/detect [[]facepp.detect[]] (api_key='<redacted>') -> 400",
            "    request contract: /body/api_secret: *[[]required[]]",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_unknown_marker_argument*",
            "face-contracts: @pytest.mark.face_mock: unknown argument(s) colour; known: "
            "allow_unmatched, concurrency, credentials, credits, errors, faces, faults, hosts, "
            "images, journal_bytes, journal_limit, operation_faces, rate_per_second, recordings, "
            "replay_drift, responses, seed, strict_urls",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.face_mock: errors[[]0[]].code: 'NOT_A_CODE' is not a documented error*"]
    )
    result.stdout.fnmatch_lines(["*@pytest.mark.face_mock: recordings: 'no-such-folder' is not*"])
    result.stdout.fnmatch_lines(["*AllMockedAssertionError*example.org*not mocked*"])


def test_ini_keys_and_options(pytester: pytest.Pytester) -> None:
    ini_port, option_port = _free_port(), _free_port()
    pytester.makeini(
        f"""
        [pytest]
        face_mock_host = 127.0.0.1
        face_mock_port = {ini_port}
        face_mock_strict_urls = true
        face_mock_hosts =
            faces.internal.example
            proxy.example
        """
    )
    pytester.makepyfile(
        test_ini=textwrap.dedent(
            """
            import httpx
            import pytest

            BODY = {"image_url": "https://cdn.example.com/a.jpg"}
            AUTH = {"authorization": "Bearer t"}


            def test_port(face_mock, pytestconfig):
                port = pytestconfig.getoption("face_mock_port") or INI_PORT
                assert face_mock.url == f"http://127.0.0.1:{port}"


            def test_strict_urls(face_mock):
                answer = httpx.post(face_mock.url + "/face/analyze", headers=AUTH, json=BODY)
                assert answer.status_code == 500


            @pytest.mark.face_mock(hosts=["marked.example"], strict_urls=False)
            def test_hosts(face_mock_respx):
                for host in ("faces.internal.example", "proxy.example", "marked.example"):
                    answer = httpx.post(f"https://{host}/face/analyze", headers=AUTH, json=BODY)
                    assert answer.status_code == 200
                face_mock_respx.add_host("late.example")
                assert httpx.post("https://late.example/face/analyze").status_code == 400
            """.replace("INI_PORT", str(ini_port))
        )
    )
    pytester.runpytest("-p", "no:cacheprovider", "--strict-config").assert_outcomes(passed=3)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--strict-config", f"--face-mock-port={option_port}"
    )
    result.assert_outcomes(passed=3)


def test_the_marker_and_options_are_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["@pytest.mark.face_mock(**settings, *): configure the face_mock*"])
    result = pytester.runpytest("--help", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "face-contracts vendor mocks:",
            "  --face-mock-host=HOST*",
            "  --face-mock-port=PORT*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["  face_mock_strict_urls (bool):*", "  face_mock_hosts (linelist):*"]
    )
