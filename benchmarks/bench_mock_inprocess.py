"""Per-call cost of the faithful in-process mock against a static respx route.

Side by side, in one run, interleaved: an ``httpx.Client`` POSTs a Face++ dense-landmark
request (multipart, a 160 KB JPEG face photo as ``image_file``, ``api_key``/``api_secret``,
``return_landmark=all``) and gets the full answer (975 landmark keys), either from

(a) a static respx route returning the answer's bytes, or
(b) the faithful mock (``face_contracts.mock.transports.respx_router``): parse the multipart
    body, check credentials, options and the picture, derive the scene, render the answer,
    journal the call.

Both routes live in one respx router, the static one first, so both requests go through the
same respx machinery. Target (issue 4): (b) at most 2x (a).

    python benchmarks/bench_mock_inprocess.py [--write] [--profile]

--write records the table in benchmarks/README.md; --profile prints where the mock's time
goes (cProfile, cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

import httpx
from _report import interleaved, machine, today, write_section

from face_contracts import validate
from face_contracts.images import encode_image
from face_contracts.mock import FaceMock, HttpRequest
from face_contracts.mock.transports import respx_router

OPERATION = "facepp.thousandlandmark"
PATH = "/facepp/v1/face/thousandlandmark"
STATIC_URL = f"https://api-us.faceplusplus.com{PATH}"
MOCK_URL = f"https://api-cn.faceplusplus.com{PATH}"
PHOTO_BYTES = 160 * 1024


def photo() -> bytes:
    """A 1024x768 JPEG with one face, padded with JPEG comment segments to 160 KB (a typical
    phone photo's size; the generated picture alone compresses to about 20 KB)."""
    return encode_image(
        "JPEG", 1024, 768, seed=11, faces=((352, 160, 320, 400),), byte_size=PHOTO_BYTES
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="record the results in benchmarks/README.md"
    )
    parser.add_argument("--profile", action="store_true", help="profile the mock's calls")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--loops", type=int, default=40)
    args = parser.parse_args()

    picture = photo()
    fields = {"api_key": "bench-key", "api_secret": "bench-secret", "return_landmark": "all"}
    files = {"image_file": ("face.jpg", picture, "image/jpeg")}
    mock = FaceMock()
    with respx_router(mock), httpx.Client() as client:
        answer = client.post(MOCK_URL, data=fields, files=files)
    assert answer.status_code == 200, answer.text
    body = answer.content
    keys = sum(len(group) for group in answer.json()["face"]["landmark"].values())
    assert keys == 975, keys
    assert validate(OPERATION, "response", body).valid

    router = respx_router(mock, hosts=(), pass_loopback=False)
    with router, httpx.Client() as client:
        # The static route first, then the mock's host: neither request is helped by order.
        router.post(STATIC_URL).mock(
            return_value=httpx.Response(
                200, content=body, headers={"content-type": "application/json"}
            )
        )
        router.add_host("api-cn.faceplusplus.com")
        assert client.post(STATIC_URL, data=fields, files=files).content == body

        def static() -> None:
            client.post(STATIC_URL, data=fields, files=files)

        def faithful() -> None:
            # The journal keeps each request's picture: forget it, as each test does.
            mock.reset()
            client.post(MOCK_URL, data=fields, files=files)

        request = httpx.Request("POST", MOCK_URL, data=fields, files=files)
        parsed = HttpRequest(
            "POST", PATH, dict(request.headers.items()), request.read(), host=request.url.host
        )

        def engine() -> None:
            mock.reset()
            mock.handle(parsed)

        cases = {
            "static respx route, same bytes": static,
            "faithful mock (respx_router)": faithful,
            "of which the engine: FaceMock.handle": engine,
        }
        timings = interleaved(cases, rounds=args.rounds, loops=args.loops)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(lambda: [faithful() for _ in range(200)])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)

    floor = timings["static respx route, same bytes"]
    header = (
        f"Face++ dense landmarks, return_landmark=all: {len(body):,}-byte answer, {keys} "
        f"landmark keys, for a multipart request with a {len(picture) // 1024} KB JPEG. "
        f"{today()}, {machine()}, {args.rounds} interleaved rounds of {args.loops} calls. "
        "Command: `python benchmarks/bench_mock_inprocess.py --write`."
    )
    rows = [
        "| httpx.Client call answered by | µs per call | × static |",
        "|---|---:|---:|",
        *(
            f"| {name} | {seconds * 1e6:,.1f} | {seconds / floor:.2f} |"
            for name, seconds in timings.items()
        ),
    ]
    ratio = timings["faithful mock (respx_router)"] / floor
    footer = (
        f"Target: the faithful mock at most 2× the static route (issue 4); measured {ratio:.2f}×. "
        "Both calls pay for httpx encoding the 160 KB multipart body and respx reading it. The "
        "mock adds the engine (parse the multipart body, find the picture's cached analysis by "
        "comparing its bytes, check credentials and options, take the rendered answer from the "
        "cache, journal the call) and the translation to and from httpx; `--profile` shows the "
        "split."
    )
    text = "\n".join([header, "", *rows, "", footer])
    print(text)
    if args.write:
        write_section("mock-inprocess", text)


if __name__ == "__main__":
    main()
